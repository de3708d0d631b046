// Loads a folder's entries page by page in the background: the first page shows at
// once, the rest arrive while the user looks. A refresh reads the folder again into a
// staging copy and swaps it in whole, so what is shown never shrinks mid-way (the
// scroll position and the selection survive).

import { ApiError, apiFetch } from "../../api";
import { normalizePath } from "../../format";
import type { ListResponse, NodeInfo } from "../../types";

const FIRST_PAGE = 1000;
/** The server's largest page (MAX_PAGE in crates/service/src/tree.rs). */
const NEXT_PAGE = 5000;
/** How often listeners hear of pages arriving during a first load. */
const NOTIFY_EVERY_MS = 200;

export interface ListingState {
  path: string;
  /** Entries in the server's order (by name). */
  entries: NodeInfo[];
  /** Everything has arrived. */
  complete: boolean;
  /** The first page is still on its way. */
  loading: boolean;
  error: unknown;
  /** Bumped on every change, for memoization. */
  version: number;
}

export class Listing {
  state: ListingState;
  private listeners = new Set<() => void>();
  private abort = new AbortController();
  private refreshing = false;
  private refreshAgain = false;
  private disposed = false;

  constructor(readonly path: string) {
    this.state = { path, entries: [], complete: false, loading: true, error: null, version: 0 };
    void this.loadInitial();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  dispose() {
    this.disposed = true;
    this.abort.abort();
    this.listeners.clear();
  }

  private update(patch: Partial<ListingState>) {
    if (this.disposed) return;
    this.state = { ...this.state, ...patch, version: this.state.version + 1 };
    this.listeners.forEach((f) => f());
  }

  private async page(after: string | undefined, limit: number, signal: AbortSignal): Promise<ListResponse> {
    const q = new URLSearchParams({ path: this.path, limit: String(limit) });
    if (after !== undefined) q.set("after", after);
    const resp = await apiFetch("/api/v1/fs/list?" + q.toString(), { signal });
    return (await resp.json()) as ListResponse;
  }

  private async loadInitial() {
    const signal = this.abort.signal;
    try {
      let resp = await this.page(undefined, FIRST_PAGE, signal);
      let entries = resp.entries;
      const only = entries.length === 1 ? entries[0] : null;
      if (only && only.kind === "file" && only.path !== undefined && normalizePath(only.path) === normalizePath(this.path)) {
        // The server lists a file as itself: this address is a file, not a folder.
        this.update({ loading: false, complete: false, entries: [], error: new ApiError(400, "not_a_folder", "This is a file, not a folder.") });
        return;
      }
      this.update({ entries, loading: false, complete: !resp.next_after, error: null });
      let last = performance.now();
      while (resp.next_after !== undefined && !signal.aborted) {
        resp = await this.page(resp.next_after, NEXT_PAGE, signal);
        entries = entries.concat(resp.entries);
        const done = !resp.next_after;
        const now = performance.now();
        if (done || now - last >= NOTIFY_EVERY_MS) {
          last = now;
          this.update({ entries, complete: done });
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      this.update({ loading: false, error: e, complete: false });
      return;
    }
    if (this.refreshAgain) {
      this.refreshAgain = false;
      void this.refresh();
    }
  }

  /** Reads the folder again; the current entries stay until the new ones are complete. */
  async refresh(): Promise<void> {
    if (this.disposed) return;
    if (this.state.error) {
      // A failed first load starts over.
      this.abort.abort();
      this.abort = new AbortController();
      this.update({ loading: true, error: null, entries: [], complete: false });
      return this.loadInitial();
    }
    if (this.refreshing || !this.state.complete) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    const signal = this.abort.signal;
    try {
      let resp = await this.page(undefined, NEXT_PAGE, signal);
      let entries = resp.entries;
      while (resp.next_after !== undefined && !signal.aborted) {
        resp = await this.page(resp.next_after, NEXT_PAGE, signal);
        entries = entries.concat(resp.entries);
      }
      if (!signal.aborted) this.update({ entries, complete: true, error: null });
    } catch (e) {
      if (!signal.aborted) {
        // Keep showing what we have; a folder that is gone reports its error.
        const code = (e as { code?: string }).code;
        if (code === "not_found" || code === "not_a_folder" || code === "forbidden") {
          this.update({ error: e, entries: [], complete: false });
        }
      }
    } finally {
      this.refreshing = false;
    }
    if (this.refreshAgain && !this.disposed) {
      this.refreshAgain = false;
      void this.refresh();
    }
  }

  /** Applies a local change at once (before the refresh confirms it). */
  patch(fn: (entries: NodeInfo[]) => NodeInfo[]) {
    this.update({ entries: fn(this.state.entries) });
  }
}

export type SortKey = "name" | "size" | "modified";
export type SortDir = "asc" | "desc";

export function modifiedOf(n: NodeInfo): number {
  return n.mtime ?? n.modified_at;
}

/** Folders first, then files, each sorted as asked (ties keep the name order). */
export function arrange(entries: NodeInfo[], key: SortKey, dir: SortDir): NodeInfo[] {
  const folders: NodeInfo[] = [];
  const files: NodeInfo[] = [];
  for (const e of entries) (e.kind === "folder" ? folders : files).push(e);
  if (key === "name") {
    if (dir === "desc") {
      folders.reverse();
      files.reverse();
    }
  } else {
    const sign = dir === "asc" ? 1 : -1;
    const cmp =
      key === "size"
        ? (a: NodeInfo, b: NodeInfo) => sign * (a.size - b.size)
        : (a: NodeInfo, b: NodeInfo) => sign * (modifiedOf(a) - modifiedOf(b));
    folders.sort(cmp);
    files.sort(cmp);
  }
  return folders.length === 0 ? files : files.length === 0 ? folders : folders.concat(files);
}
