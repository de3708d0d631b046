// The one way the web app talks to the server: same-origin fetch with the session cookie,
// the CSRF header on every request that changes something, and errors turned into
// `ApiError` with the server's stable code.

/** The header that proves a cookie-authenticated request came from the web app itself. */
export const CSRF_HEADER = "X-Coffer-CSRF";

let csrfToken: string | null = null;

/** Set after sign-in (or when the session is found on load); cleared on sign-out. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function getCsrfToken(): string | null {
  return csrfToken;
}

/** An error answer of the API: `code` is the stable machine code (`not_found`, ...). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** Listeners told when the server says the session is gone (401). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(f: () => void): () => void {
  unauthorizedListeners.add(f);
  return () => unauthorizedListeners.delete(f);
}

/**
 * The `ApiError` of an answer that is not 2xx: the server's code and message from its
 * JSON body, else the status line. Tells nobody about a 401 (`apiFetch` does).
 */
export async function responseError(resp: Response): Promise<ApiError> {
  let code = "http_" + resp.status;
  let message = resp.statusText || "request failed";
  try {
    const body = await resp.json();
    if (body?.error?.code) {
      code = body.error.code;
      message = body.error.message ?? message;
    }
  } catch {
    // not JSON: keep the status line
  }
  const ra = resp.headers.get("retry-after");
  return new ApiError(resp.status, code, message, ra ? Number(ra) : null);
}

/**
 * Fetches `path` (an absolute path such as `/api/v1/fs/list?...`). Throws `ApiError` for
 * any answer that is not 2xx; a network failure throws a `TypeError` as `fetch` does.
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const method = (init.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers.set(CSRF_HEADER, csrfToken);
  const resp = await fetch(path, { ...init, headers, credentials: "same-origin" });
  if (resp.ok) return resp;
  const error = await responseError(resp);
  if (resp.status === 401) unauthorizedListeners.forEach((f) => f());
  throw error;
}

/** GET or POST JSON and parse the JSON answer. */
export async function apiJson<T>(path: string, body?: unknown, method?: string): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? { method: method ?? "GET" }
      : { method: method ?? "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
  const resp = await apiFetch(path, init);
  if (resp.status === 204) return undefined as T;
  return (await resp.json()) as T;
}
