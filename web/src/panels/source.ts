// What a preview shows and where it gets the bytes: one `ContentSource` for a file of
// the signed-in user, an old revision, a file shared by id, or a file seen through a
// public link. The renderer (FileView) only ever calls `url()` and `fetch()`.

import { apiFetch } from "../api";
import { contentUrl, extension, fileKind, type FileKind } from "../format";
import type { NodeInfo } from "../types";

export interface ContentSource {
  /** The file name (decides how it is shown). */
  name: string;
  size: number;
  modifiedAt?: number | null;
  /** The content address; `inline` asks the server to let the browser show it. */
  url(opts: { inline: boolean }): string;
  /** Fetches a content address for a text preview (default: the signed-in `apiFetch`). */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** False when the content may not be fetched at all (a view-only public link). */
  downloadable?: boolean;
  /** Why the content is not available, shown on the file card instead of a preview. */
  unavailableReason?: string;
  /** When set, the preview waits for a click (a public link with a download limit:
   * each preview counts as a download); the text explains why. */
  confirmPreview?: string;
  /** Called after the bytes were fetched (the public page refreshes its counters). */
  onFetched?: () => void;
}

/** How a file is previewed. HTML and SVG are shown as their source, never rendered. */
export function previewKind(name: string): FileKind {
  const ext = extension(name);
  if (ext === "svg" || ext === "svgz" || ext === "html" || ext === "htm" || ext === "xhtml") return "code";
  return fileKind(name);
}

/** A file of the signed-in user, by path. */
export function nodeSource(node: NodeInfo, path: string): ContentSource {
  return {
    name: node.name,
    size: node.size,
    modifiedAt: node.mtime ?? node.modified_at,
    url: ({ inline }) => contentUrl(path, { inline }),
  };
}

/** One revision of a file (an old version, or a file shared with the user by id). */
export function revisionSource(name: string, size: number, rev: number, modifiedAt?: number): ContentSource {
  return {
    name,
    size,
    modifiedAt,
    url: ({ inline }) => `/api/v1/revisions/${encodeURIComponent(String(rev))}/content${inline ? "?inline=true" : ""}`,
  };
}

export const defaultFetch = (url: string, init?: RequestInit) => apiFetch(url, init);
