// Small helpers shared by the preview, details panel and pages: error text, the signed-in
// user, copying to the clipboard.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, apiJson } from "../api";
import { errorMessage } from "../app/errors";
import type { UserInfo } from "../types";

const FRIENDLY: Record<string, string> = {
  forbidden: "You don't have permission to do that.",
  read_only: "You can look at this but not change it.",
  not_found: "It could not be found. It may have been moved or deleted.",
  shared_folder: "Shared folders can't take part in this.",
  unauthorized: "Your session has ended. Please sign in again.",
  csrf_failed: "The request was refused for your safety. Reload the page and try again.",
  rate_limited: "Too many attempts. Please wait a moment and try again.",
  busy: "The server is busy. Please try again in a moment.",
  quota_exceeded: "There is not enough storage space left.",
  internal: "Something went wrong on the server.",
};

/** A sentence for an error: the server's own message (with its code), or a network failure. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const msg = e.message && e.message !== e.code ? e.message : FRIENDLY[e.code] ?? "The request failed.";
    return capitalize(msg) + (/[.!?]$/.test(msg) ? "" : ".");
  }
  if (e instanceof TypeError) return "Could not reach the server. Check your connection and try again.";
  if (e instanceof DOMException && e.name === "AbortError") return "";
  return errorMessage(e);
}

export function errorCode(e: unknown): string | null {
  return e instanceof ApiError ? e.code : null;
}

function capitalize(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** An error shown in place: announced to screen readers, with the server's code. */
export function ErrorNote(props: { error: unknown; children?: ComponentChildren; class?: string }) {
  if (props.error == null) return null;
  const code = errorCode(props.error);
  return (
    <div class={"cp-error " + (props.class ?? "")} role="alert">
      <span>{errorText(props.error)}</span>
      {code && <code class="cp-error-code">{code}</code>}
      {props.children}
    </div>
  );
}

let me: Promise<UserInfo> | null = null;

/** The signed-in user (asked once per page load; asked again after a failure). */
export function currentUser(): Promise<UserInfo> {
  if (!me) {
    me = apiJson<UserInfo>("/api/v1/auth/whoami");
    me.catch(() => {
      me = null;
    });
  }
  return me;
}

/** The signed-in user's name, once known (null until then, or if it cannot be had). */
export function useMe(): string | null {
  const [me, setMe] = useState<string | null>(null);
  useEffect(() => {
    currentUser().then(
      (u) => setMe(u.name),
      () => {},
    );
  }, []);
  return me;
}

/** Copies `text`; falls back to selecting the text of `el` (so the user can press Ctrl+C)
 * when the clipboard API is not available (plain-HTTP origins). Resolves true when copied. */
export async function copyText(text: string, el?: HTMLElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection
  }
  if (el) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    try {
      // Deprecated but still the only way without the clipboard API.
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
  return false;
}

/** "viewer" -> "Viewer". */
export function roleLabel(role: string): string {
  return capitalize(role);
}

/** Whether an element takes keys itself (typing, media seeking): leave those keys alone. */
export function isTypingTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable) return true;
  return ["INPUT", "TEXTAREA", "SELECT", "VIDEO", "AUDIO", "IFRAME"].includes(t.tagName);
}
