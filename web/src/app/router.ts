// Routing by the URL's path (history API): `/` and `/files/<path>` browse files,
// `/trash`, `/shared`, `/devices`, `/setup`, and `/s/<token>` for a public link.

import { useEffect, useState } from "preact/hooks";
import { normalizePath } from "../format";

export type Route =
  | { name: "files"; path: string }
  | { name: "trash" }
  | { name: "shared" }
  | { name: "devices" }
  | { name: "setup" }
  | { name: "public"; token: string }
  | { name: "notfound" };

function decodeSegments(rest: string): string {
  const parts = rest.split("/").filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return "/" + parts.join("/");
}

export function parseRoute(pathname: string): Route {
  const p = pathname.replace(/\/+$/, "") || "/";
  if (p === "/" || p === "/files") return { name: "files", path: "/" };
  if (p.startsWith("/files/")) return { name: "files", path: decodeSegments(p.slice("/files/".length)) };
  if (p === "/trash") return { name: "trash" };
  if (p === "/shared") return { name: "shared" };
  if (p === "/devices") return { name: "devices" };
  if (p === "/setup") return { name: "setup" };
  if (p.startsWith("/s/")) {
    const token = p.slice(3).split("/")[0];
    if (token) return { name: "public", token: decodeURIComponent(token) };
  }
  return { name: "notfound" };
}

/** The address of a folder in the file browser. */
export function filesUrl(path: string): string {
  const parts = normalizePath(path).split("/").filter(Boolean);
  if (parts.length === 0) return "/files";
  return "/files/" + parts.map(encodeURIComponent).join("/");
}

const NAV_EVENT = "coffer:navigate";

export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event(NAV_EVENT));
}

/** The current path name, updated on navigation. */
export function usePathname(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener("popstate", update);
    window.addEventListener(NAV_EVENT, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAV_EVENT, update);
    };
  }, []);
  return path;
}

/** A click on an in-app link that the app should handle itself (not a new tab, ...). */
export function isPlainClick(e: MouseEvent): boolean {
  return e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey && !e.defaultPrevented;
}
