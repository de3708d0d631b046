// The upload queue: files wait, a few go at a time, each can be cancelled or retried,
// and the panel shows progress and what deduplication saved.

import { apiJson } from "../../api";
import { joinPath, normalizePath, parentPath } from "../../format";
import { uploadFile } from "../../upload/uploader";
import { errorMessage } from "../errors";
import { filesChanged } from "../live";
import { refreshUser } from "../session";
import { createStore } from "../store";

const PARALLEL = 3;

export type UploadStatus = "queued" | "running" | "done" | "failed" | "cancelled";

export interface UploadItem {
  id: number;
  file: File;
  /** Where it goes on the server. */
  path: string;
  size: number;
  status: UploadStatus;
  phase: string;
  hashed: number;
  sent: number;
  /** Bytes the server lacked (known once it said so). */
  toSend: number;
  /** Bytes actually sent, when done. */
  bytesSent: number;
  /** The server already held the same bytes. */
  unchanged: boolean;
  error?: string;
}

export interface UploadState {
  items: UploadItem[];
  /** The panel is shown. */
  open: boolean;
}

export const uploads = createStore<UploadState>({ items: [], open: false });

let nextId = 1;
const controllers = new Map<number, AbortController>();
/** Folders made (or being made) during this visit, so each is asked for once. */
const madeDirs = new Map<string, Promise<void>>();

/** Pending progress changes, applied together once per animation frame. */
const pending = new Map<number, Partial<UploadItem>>();
let frame = 0;

function flush() {
  frame = 0;
  if (pending.size === 0) return;
  const changes = new Map(pending);
  pending.clear();
  uploads.set((s) => ({ ...s, items: s.items.map((it) => (changes.has(it.id) ? { ...it, ...changes.get(it.id)! } : it)) }));
}

function patch(id: number, p: Partial<UploadItem>, now = false) {
  pending.set(id, { ...pending.get(id), ...p });
  if (now) {
    cancelAnimationFrame(frame);
    flush();
  } else if (!frame) {
    frame = requestAnimationFrame(flush);
  }
}

/** Makes a folder (and its parents) once. */
export function ensureFolder(path: string): Promise<void> {
  const p = normalizePath(path);
  if (p === "/") return Promise.resolve();
  let made = madeDirs.get(p);
  if (!made) {
    made = apiJson("/api/v1/fs/mkdir", { path: p, parents: true }).then(
      () => undefined,
      (e) => {
        madeDirs.delete(p);
        throw e;
      },
    );
    madeDirs.set(p, made);
  }
  return made;
}

export interface Incoming {
  file: File;
  /** Path below the target folder, with "/" between folders ("a/b/c.txt"). */
  relative: string;
}

/** Queues files for upload below `folder`; `folders` are (relative) folders to create even if empty. */
export async function enqueue(folder: string, files: Incoming[], folders: string[] = []): Promise<void> {
  // Folders that hold files are made on the way to their files; only empty ones here.
  const holding = new Set<string>();
  for (const { relative } of files) {
    const parts = relative.split("/");
    for (let i = 1; i < parts.length; i++) holding.add(parts.slice(0, i).join("/"));
  }
  for (const f of folders.filter((f) => !holding.has(f))) {
    try {
      await ensureFolder(joinPath(folder, f));
    } catch {
      // the files inside will report the problem
    }
  }
  if (files.length === 0) {
    if (folders.length) filesChanged.emit();
    return;
  }
  const items: UploadItem[] = files.map(({ file, relative }) => ({
    id: nextId++,
    file,
    path: joinPath(folder, relative),
    size: file.size,
    status: "queued",
    phase: "Waiting",
    hashed: 0,
    sent: 0,
    toSend: 0,
    bytesSent: 0,
    unchanged: false,
  }));
  uploads.set((s) => ({ items: [...s.items, ...items], open: true }));
  pump();
}

function running(): number {
  return uploads.get().items.filter((i) => i.status === "running").length;
}

function pump() {
  let free = PARALLEL - running();
  if (free <= 0) return;
  for (const it of uploads.get().items) {
    if (free <= 0) break;
    if (it.status !== "queued") continue;
    free--;
    void run(it);
  }
}

const PHASES: Record<string, string> = {
  hashing: "Preparing",
  checking: "Checking",
  sending: "Sending",
  committing: "Saving",
  done: "Done",
};

let landedTimer: number | undefined;
function landed() {
  clearTimeout(landedTimer);
  landedTimer = window.setTimeout(() => {
    filesChanged.emit();
    void refreshUser();
  }, 300);
}

async function run(item: UploadItem) {
  const ctl = new AbortController();
  controllers.set(item.id, ctl);
  patch(item.id, { status: "running", phase: "Preparing", hashed: 0, sent: 0, toSend: 0, error: undefined }, true);
  try {
    const dir = parentPath(item.path);
    if (dir !== "/") await ensureFolder(dir);
    const result = await uploadFile(item.file, item.path, {
      signal: ctl.signal,
      onProgress: (p) =>
        patch(item.id, {
          hashed: p.hashed,
          sent: p.sent,
          toSend: (p as { toSend?: number }).toSend ?? 0,
          phase: PHASES[p.phase] ?? p.phase,
        }),
    });
    patch(
      item.id,
      {
        status: "done",
        phase: "Done",
        hashed: item.size,
        bytesSent: result.stats.bytesSent,
        unchanged: result.status === "unchanged",
      },
      true,
    );
    landed();
  } catch (e) {
    if (ctl.signal.aborted) {
      patch(item.id, { status: "cancelled", phase: "Cancelled" }, true);
    } else {
      patch(item.id, { status: "failed", phase: "Failed", error: errorMessage(e) }, true);
    }
  } finally {
    controllers.delete(item.id);
    pump();
  }
}

export function cancelUpload(id: number) {
  const ctl = controllers.get(id);
  if (ctl) ctl.abort(new DOMException("cancelled", "AbortError"));
  else patch(id, { status: "cancelled", phase: "Cancelled" }, true);
  pump();
}

export function retryUpload(id: number) {
  patch(id, { status: "queued", phase: "Waiting", error: undefined }, true);
  pump();
}

export function cancelAll() {
  for (const it of uploads.get().items) {
    if (it.status === "queued" || it.status === "running") cancelUpload(it.id);
  }
}

export function retryFailed() {
  for (const it of uploads.get().items) {
    if (it.status === "failed" || it.status === "cancelled") patch(it.id, { status: "queued", phase: "Waiting", error: undefined });
  }
  flush();
  pump();
}

/** Forgets finished uploads; closes the panel when nothing is left. */
export function clearFinished() {
  uploads.set((s) => {
    const items = s.items.filter((i) => i.status === "queued" || i.status === "running" || i.status === "failed");
    return { items, open: items.length > 0 && s.open };
  });
}

export function closePanel() {
  const active = uploads.get().items.some((i) => i.status === "queued" || i.status === "running");
  if (active) return;
  uploads.set({ items: [], open: false });
}

/** How far one file is, from 0 to 1. */
export function fractionOf(it: UploadItem): number {
  if (it.status === "done") return 1;
  if (it.status === "queued" || it.size === 0) return 0;
  const hashed = it.size ? it.hashed / it.size : 0;
  if (it.phase === "Preparing") return 0.4 * hashed;
  const send = it.toSend > 0 ? Math.min(1, it.sent / it.toSend) : it.phase === "Saving" ? 1 : 0;
  return 0.4 + 0.55 * send + (it.phase === "Saving" ? 0.05 : 0);
}

export interface UploadSummary {
  total: number;
  done: number;
  failed: number;
  cancelled: number;
  active: number;
  bytesTotal: number;
  bytesSent: number;
  deduplicated: number;
  /** 0..1 over the files not cancelled. */
  fraction: number;
}

export function summarize(items: UploadItem[]): UploadSummary {
  const s: UploadSummary = {
    total: items.length,
    done: 0,
    failed: 0,
    cancelled: 0,
    active: 0,
    bytesTotal: 0,
    bytesSent: 0,
    deduplicated: 0,
    fraction: 0,
  };
  let weight = 0;
  let progress = 0;
  for (const it of items) {
    if (it.status === "done") {
      s.done++;
      s.bytesSent += it.bytesSent;
      s.deduplicated += Math.max(0, it.size - it.bytesSent);
    } else if (it.status === "failed") s.failed++;
    else if (it.status === "cancelled") s.cancelled++;
    else s.active++;
    if (it.status === "running") s.bytesSent += it.sent;
    if (it.status !== "cancelled") {
      s.bytesTotal += it.size;
      const w = Math.max(it.size, 1);
      weight += w;
      progress += w * fractionOf(it);
    }
  }
  s.fraction = weight ? progress / weight : 0;
  return s;
}

/** Files and folders picked with an <input type=file> (with `webkitdirectory`, paths keep their folders). */
export function fromInput(list: FileList): Incoming[] {
  return Array.from(list).map((file) => ({
    file,
    relative: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
  }));
}

/**
 * Files and folders dropped on the page. Must be called during the drop event (the
 * entries are taken synchronously); the folders are walked afterwards.
 */
export function fromDrop(dt: DataTransfer): Promise<{ files: Incoming[]; folders: string[] }> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  if (dt.items && dt.items.length) {
    for (const item of Array.from(dt.items)) {
      if (item.kind !== "file") continue;
      const entry = item.webkitGetAsEntry?.();
      if (entry) entries.push(entry);
      else {
        const f = item.getAsFile();
        if (f) loose.push(f);
      }
    }
  } else {
    loose.push(...Array.from(dt.files));
  }
  return walk(entries, loose);
}

async function walk(entries: FileSystemEntry[], loose: File[]) {
  const files: Incoming[] = loose.map((file) => ({ file, relative: file.name }));
  const folders: string[] = [];
  const visit = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const rel = prefix ? prefix + "/" + entry.name : entry.name;
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      files.push({ file, relative: rel });
    } else if (entry.isDirectory) {
      folders.push(rel);
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await visit(child, rel);
      }
    }
  };
  for (const e of entries) await visit(e, "");
  return { files, folders };
}
