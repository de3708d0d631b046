// The signed-in user: restored at load from the session cookie, set by sign-in, cleared
// by sign-out or by any 401 answer.

import { ApiError, apiJson, onUnauthorized, setCsrfToken } from "../api";
import type { BrowserSession, SetupStatus, UserInfo } from "../types";
import { createStore } from "./store";

export type SessionState =
  | { status: "loading" }
  | { status: "setup" }
  | { status: "signedout"; message?: string }
  | { status: "signedin"; user: UserInfo; deviceId: number }
  | { status: "offline"; message: string };

export const sessionStore = createStore<SessionState>({ status: "loading" });

function signedIn(s: BrowserSession) {
  setCsrfToken(s.csrf);
  sessionStore.set({ status: "signedin", user: s.user, deviceId: s.device_id });
}

/** At load: is there a first admin yet, and is this browser signed in? */
export async function restoreSession(): Promise<void> {
  try {
    const setup = await apiJson<SetupStatus>("/api/v1/setup");
    if (setup.needed) {
      sessionStore.set({ status: "setup" });
      return;
    }
  } catch (e) {
    if (!(e instanceof ApiError)) {
      sessionStore.set({ status: "offline", message: "Coffer's server cannot be reached." });
      return;
    }
    // an older server without the setup endpoint: carry on
  }
  try {
    signedIn(await apiJson<BrowserSession>("/api/v1/session"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) sessionStore.set({ status: "signedout" });
    else if (e instanceof ApiError) sessionStore.set({ status: "signedout", message: e.message });
    else sessionStore.set({ status: "offline", message: "Coffer's server cannot be reached." });
  }
}

/** Signs in; `code` is the authenticator app's code (or a recovery code) for an account
 * with two-factor sign-in (without it such an account answers `two_factor_required`). */
export async function signIn(user: string, password: string, code?: string): Promise<void> {
  signedIn(await apiJson<BrowserSession>("/api/v1/session", code ? { user, password, code } : { user, password }));
}

export async function signOut(): Promise<void> {
  try {
    await apiJson("/api/v1/session", undefined, "DELETE");
  } catch {
    // the session may already be gone
  }
  setCsrfToken(null);
  sessionStore.set({ status: "signedout" });
}

export async function createAdmin(token: string, name: string, password: string): Promise<void> {
  await apiJson<UserInfo>("/api/v1/setup", { token, name, password });
  await signIn(name, password);
}

/** Fetches the user again (quota and usage change as files come and go). */
export async function refreshUser(): Promise<void> {
  const s = sessionStore.get();
  if (s.status !== "signedin") return;
  try {
    const user = await apiJson<UserInfo>("/api/v1/auth/whoami");
    const now = sessionStore.get();
    if (now.status === "signedin") sessionStore.set({ ...now, user });
  } catch {
    // a 401 is handled by the listener below; anything else can wait for the next try
  }
}

onUnauthorized(() => {
  const s = sessionStore.get();
  if (s.status === "signedin") {
    setCsrfToken(null);
    sessionStore.set({ status: "signedout", message: "Your session has ended. Please sign in again." });
  }
});
