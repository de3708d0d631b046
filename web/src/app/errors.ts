// Error messages for people: the server's stable codes turned into plain sentences.

import { ApiError } from "../api";

/** An error's own message (anything thrown, as text). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function friendlyError(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case "already_exists":
        return "An item with that name already exists here.";
      case "not_found":
        return "This item no longer exists.";
      case "read_only":
        return "You can look at this folder but not change it.";
      case "forbidden":
        return "You do not have access to this.";
      case "quota_exceeded":
        return "There is not enough storage space left.";
      default:
        return e.message;
    }
  }
  if (e instanceof TypeError) return "The server cannot be reached. Check your connection.";
  return errorMessage(e);
}
