// Small formatting and path helpers shared by the whole web app.

const SIZE_UNITS = ["KB", "MB", "GB", "TB", "PB"];

/** "0 B", "512 B", "1.5 KB", "23 MB" (powers of 1024, as file managers show them). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < SIZE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = v < 10 ? 1 : 0;
  return `${v.toFixed(digits)} ${SIZE_UNITS[i]}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const longFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * A short date for lists: the time for today, "Mar 4" this year, "Mar 4, 2023" before.
 * Pass `long` for the full date and time (tooltips, details).
 */
export function formatDate(ms: number | null | undefined, long = false): string {
  if (ms == null || !Number.isFinite(ms) || ms <= 0) return "";
  const d = new Date(ms);
  if (long) return longFmt.format(d);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return timeFmt.format(d);
  if (d.getFullYear() === now.getFullYear()) return dayFmt.format(d);
  return fullFmt.format(d);
}

/** Normalizes a path to "/a/b" (the root is "/"). */
export function normalizePath(p: string): string {
  const parts = p.split("/").filter((s) => s.length > 0);
  return "/" + parts.join("/");
}

/** "/a" + "b" = "/a/b"; the root "/" + "b" = "/b". */
export function joinPath(dir: string, name: string): string {
  const d = normalizePath(dir);
  const n = name.replace(/^\/+|\/+$/g, "");
  if (!n) return d;
  return d === "/" ? "/" + n : d + "/" + n;
}

/** The folder that holds `p`: "/a/b" -> "/a", "/a" -> "/", "/" -> "/". */
export function parentPath(p: string): string {
  const parts = normalizePath(p).split("/").filter(Boolean);
  parts.pop();
  return "/" + parts.join("/");
}

/** The last component: "/a/b.txt" -> "b.txt"; "" for the root. */
export function baseName(p: string): string {
  const parts = normalizePath(p).split("/").filter(Boolean);
  return parts.length ? parts[parts.length - 1] : "";
}

/** The lowercase extension without its dot ("" when none; ".bashrc" has none). */
export function extension(name: string): string {
  const i = name.lastIndexOf(".");
  return i > 0 ? name.slice(i + 1).toLowerCase() : "";
}

export type FileKind = "image" | "pdf" | "text" | "code" | "markdown" | "audio" | "video" | "other";

const IMAGE = new Set(["png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico", "svg"]);
const AUDIO = new Set(["mp3", "wav", "ogg", "oga", "flac", "m4a", "aac", "opus", "weba"]);
const VIDEO = new Set(["mp4", "webm", "ogv", "mov", "m4v", "mkv"]);
const MARKDOWN = new Set(["md", "markdown", "mdown", "mkd"]);
const TEXT = new Set(["txt", "text", "log", "csv", "tsv", "ini", "cfg", "conf", "env", "rst", "tex", "srt", "vtt"]);
const CODE = new Set([
  "js", "mjs", "cjs", "ts", "tsx", "jsx", "json", "jsonc", "json5", "rs", "go", "py", "rb", "php", "java", "kt",
  "kts", "scala", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "cs", "swift", "m", "mm", "sh", "bash", "zsh",
  "fish", "ps1", "bat", "cmd", "sql", "html", "htm", "xml", "xsl", "css", "scss", "sass", "less", "yaml", "yml",
  "toml", "lua", "pl", "pm", "r", "dart", "ex", "exs", "erl", "hs", "ml", "mli", "clj", "cljs", "elm", "vue",
  "svelte", "graphql", "gql", "proto", "dockerfile", "makefile", "cmake", "gradle", "diff", "patch", "vim", "zig",
  "nim", "tf", "hcl", "nix",
]);
const CODE_NAMES = new Set(["dockerfile", "makefile", "cmakelists.txt", "justfile", "rakefile", "gemfile", "procfile"]);
const TEXT_NAMES = new Set(["readme", "license", "licence", "copying", "authors", "changelog", "notice", "todo"]);

/** What sort of content a file name suggests, for icons and previews. */
export function fileKind(name: string): FileKind {
  const lower = name.toLowerCase();
  const ext = extension(lower);
  if (ext === "pdf") return "pdf";
  if (IMAGE.has(ext)) return "image";
  if (MARKDOWN.has(ext)) return "markdown";
  if (AUDIO.has(ext)) return "audio";
  if (VIDEO.has(ext)) return "video";
  if (CODE_NAMES.has(lower)) return "code";
  if (CODE.has(ext)) return "code";
  if (TEXT.has(ext)) return "text";
  if (!ext && TEXT_NAMES.has(lower)) return "text";
  if (lower.startsWith(".") && !ext) return "text"; // dotfiles such as .gitignore
  return "other";
}

/** What an entry is, for its icon: a folder, or a file of the kind its name suggests. */
export function nodeKind(entry: { kind: string; name: string }): FileKind | "folder" {
  return entry.kind === "folder" ? "folder" : fileKind(entry.name);
}

/** The download (or, with `inline`, the preview) address of a file, optionally of one revision. */
export function contentUrl(path: string, opts: { inline?: boolean; rev?: number } = {}): string {
  const q = new URLSearchParams({ path: normalizePath(path) });
  if (opts.rev != null) q.set("rev", String(opts.rev));
  if (opts.inline) q.set("inline", "true");
  return "/api/v1/fs/content?" + q.toString();
}

/** A streamed zip of one folder or of a selection. */
export function zipUrl(paths: string[]): string {
  const q = new URLSearchParams();
  for (const p of paths) q.append("path", normalizePath(p));
  return "/api/v1/fs/zip?" + q.toString();
}

/** A thumbnail of an image (`size` is the longest edge in pixels). */
export function thumbnailUrl(path: string, size = 256, rev?: number): string {
  const q = new URLSearchParams({ path: normalizePath(path), size: String(size) });
  if (rev != null) q.set("rev", String(rev));
  return "/api/v1/fs/thumbnail?" + q.toString();
}

/** "1 file", "3 files". */
export function plural(n: number, one: string, many = one + "s"): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
