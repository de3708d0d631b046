// Uploads one file from the browser the way `coffer put` does: compute the file's
// manifest (chunks cut exactly where the Rust chunker cuts, BLAKE3 of each), ask the
// server which chunks it lacks, send only those, and commit the file at its path.
//
// The protocol (crates/core/src/wire.rs, crates/server/src/routes/upload.rs):
//   POST   /api/v1/uploads                     {chunks}  -> {upload_id, missing, expires_at}
//   PUT    /api/v1/uploads/{id}/chunks/{hash}  one chunk's bytes
//   POST   /api/v1/uploads/{id}/chunks         framed chunks: ([32-byte hash][u32 LE length][bytes])*
//   POST   /api/v1/commit                      {upload_id, files: [{path, parent_rev, mtime, chunks}], close_upload}
//   DELETE /api/v1/uploads/{id}                ends a session early
//
// Memory stays bounded whatever the file's size: the hashing worker returns only the
// manifest, and request bodies are Blobs built from slices of the File, which the
// browser streams from disk.
//
// Overwriting: as `coffer put`, an existing file at the path gets a new version. Its
// current revision is sent as `parent_rev`, so an edit made on the server meanwhile is
// reported as a `conflict` instead of being lost; a file that already holds these bytes
// is left alone (`unchanged`).
//
// Resuming: the server's answer to "begin" leaves out every chunk the user already
// holds, in a committed file or in any of their upload sessions still open (sessions live
// 24 hours). That is what resumes an interrupted upload: running `uploadFile` again for
// the same bytes opens a new session, is told only the chunks still missing, and sends
// just those; bytes that already reached the server never travel twice, and a second
// upload of the same bytes sends none. A session is not resumed by its id (the server
// opens a new one for every begin), so the ids are remembered in localStorage for
// another purpose: the sessions an interrupted upload left open hold quota and count
// against the user's limit of open sessions until they expire, so the upload that
// finally commits the file (or the user cancelling it) closes them. For the same reason
// the commit does not close its session itself (`close_upload`): a commit refused (a
// conflict, say) would release the chunks with it, and running the upload again would
// send them all once more. The session is closed once the file is committed.

import { ApiError, apiFetch } from "../api";
import type { ErrorDetail, NodeInfo } from "../types";
import type { ChunkEntry, FileManifest, HashReply, HashRequest } from "./hash-worker";

export type { NodeInfo };

export type UploadPhase = "hashing" | "checking" | "sending" | "committing" | "done";

export interface UploadProgress {
  /** Bytes of the file read and hashed. */
  hashed: number;
  /** Chunk bytes the server accepted in this run. */
  sent: number;
  /** The file's size. */
  total: number;
  phase: UploadPhase;
  /** Chunk bytes the server lacks, once it said so (0 before). */
  toSend: number;
}

export interface UploadOptions {
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
  /** The file's modification time (Unix ms); a File's `lastModified` by default. */
  mtime?: number;
}

export interface UploadStats {
  /** Chunk bytes sent (less than the size when the server already had some). */
  bytesSent: number;
  chunksSent: number;
  chunksTotal: number;
}

export interface UploadResult {
  node: NodeInfo;
  /** `unchanged`: the path already held these bytes and nothing was committed. */
  status: "created" | "modified" | "unchanged";
  stats: UploadStats;
}

// Wire types of the upload calls.
interface ChunkRef {
  hash: string;
  size: number;
}
interface UploadResponse {
  upload_id: string;
  missing: string[];
  expires_at: number;
}
interface CommitResponse {
  results: { node?: NodeInfo; error?: ErrorDetail }[];
}

/** Most bytes in one chunk request (the server takes up to 32 MiB). */
const BATCH_BYTES = 8 * 1024 * 1024;
/** Chunk requests in flight at once. */
const IN_FLIGHT = 3;
/** Tries of one request before its failure stops the upload. */
const MAX_ATTEMPTS = 6;
/** Longest wait between two tries, whatever `Retry-After` asks for. */
const MAX_BACKOFF_MS = 30_000;
/** Bytes of a frame's header: the chunk's hash and its length. */
const FRAME_HEADER = 36;

/**
 * Uploads `file` to `remotePath` (such as `/Photos/cat.jpg`), overwriting a file there
 * as its new version. Resolves with the committed node; rejects with an `ApiError`
 * (`conflict` when the file changed on the server meanwhile, `quota_exceeded`, ...), a
 * network `TypeError` after retries, a read error of the file, or the signal's reason
 * when it is aborted (the server's upload session is then closed).
 */
export async function uploadFile(
  file: File | Blob,
  remotePath: string,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  opts.signal?.throwIfAborted();
  const path = remotePath.startsWith("/") ? remotePath : "/" + remotePath;
  if (path.replace(/\/+$/, "") === "") throw new ApiError(400, "root_immutable", "the root is a folder");
  const mtime = opts.mtime ?? (isFile(file) ? file.lastModified : undefined);

  // One signal for all the work: the caller's, or a failure anywhere (which stops the
  // hashing worker and the requests still in flight).
  const inner = new AbortController();
  const forward = () => inner.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", forward, { once: true });
  const signal = inner.signal;

  const progress: UploadProgress = { hashed: 0, sent: 0, total: file.size, phase: "hashing", toSend: 0 };
  const report = (patch: Partial<UploadProgress>) => {
    Object.assign(progress, patch);
    opts.onProgress?.({ ...progress });
  };
  const sessions = new Sessions(path, file);
  // Sessions earlier runs left open, and those this run opens.
  const stale = sessions.list();
  const mine: string[] = [];
  try {
    report({});
    const manifest = await computeManifest(file, signal, (hashed) => report({ hashed }));
    // Looked up after hashing (which can take a while), so the revision this upload
    // replaces is as recent as it can be.
    report({ phase: "checking" });
    const existing = await statFile(path, signal);
    const chunks: ChunkRef[] = manifest.chunks.map((c) => ({ hash: c.hash, size: c.size }));
    const stats: UploadStats = { bytesSent: 0, chunksSent: 0, chunksTotal: chunks.length };
    const target = existing?.kind === "file" ? existing : null;
    if (target && target.content_hash === manifest.contentHash) {
      await sessions.closeAndForget(stale);
      report({ phase: "done" });
      return { node: target, status: "unchanged", stats };
    }
    const parentRev = target?.rev ?? null;

    // A second round runs when the server lost track of chunks between sending and
    // committing (collected meanwhile, or the session expired), as the CLI does.
    for (let round = 0; ; round++) {
      let current: string | null = null;
      if (chunks.length > 0) {
        report({ phase: "checking" });
        const up = await withRetry(signal, () => postJson<UploadResponse>("/api/v1/uploads", { chunks }, signal));
        current = up.upload_id;
        mine.push(current);
        sessions.add(up.upload_id, up.expires_at);
        const wanted = missingEntries(manifest.chunks, up.missing);
        const toSend = wanted.reduce((n, c) => n + c.size, 0);
        report({ phase: "sending", toSend: progress.sent + toSend });
        const expired = await sendChunks(file, up.upload_id, wanted, signal, (bytes, count) => {
          stats.bytesSent += bytes;
          stats.chunksSent += count;
          report({ sent: progress.sent + bytes });
        });
        if (expired) {
          if (round === 0) continue;
          throw new ApiError(404, "upload_not_found", "the upload session expired twice while sending");
        }
      }
      report({ phase: "committing" });
      const outcome = await commit(path, parentRev, mtime, chunks, current, manifest.contentHash, signal);
      if (outcome.kind === "done") {
        // The file holds its chunks now: every session opened for it can go.
        await sessions.closeAndForget([...stale, ...mine]);
        report({ phase: "done" });
        return { node: outcome.node, status: parentRev === null ? "created" : "modified", stats };
      }
      if (round > 0) {
        throw new ApiError(409, "missing_chunks", "the server lost chunks of this upload twice; try again");
      }
    }
  } catch (e) {
    inner.abort(e);
    if (opts.signal?.aborted) {
      // Cancelled: nothing of this upload is wanted any more.
      await sessions.closeAndForget([...stale, ...mine]);
      throw opts.signal.reason;
    }
    // Anything else (a network that stayed down, a refused commit): the sessions stay
    // open, and their chunks count as sent when the upload is run again.
    throw e;
  } finally {
    opts.signal?.removeEventListener("abort", forward);
    inner.abort();
  }
}

function isFile(b: Blob): b is File {
  return typeof File !== "undefined" && b instanceof File;
}

// ---------------------------------------------------------------------------------
// Hashing

/**
 * The file's manifest, computed in a worker (so the page stays responsive), or in the
 * page itself where no worker can be started.
 */
function computeManifest(file: Blob, signal: AbortSignal, onHashed: (bytes: number) => void): Promise<FileManifest> {
  if (typeof Worker === "undefined") return hashHere(file, signal, onHashed);
  return new Promise<FileManifest>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./hash-worker.ts", import.meta.url), { type: "module" });
    } catch {
      hashHere(file, signal, onHashed).then(resolve, reject);
      return;
    }
    const chunks: ChunkEntry[] = [];
    let heard = false;
    const stop = () => {
      worker.terminate();
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      stop();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (ev: MessageEvent<HashReply>) => {
      heard = true;
      const m = ev.data;
      if (m.type === "chunks") {
        for (const c of m.chunks) chunks.push(c);
        onHashed(m.hashed);
      } else if (m.type === "done") {
        stop();
        resolve({ size: m.size, chunks, contentHash: m.contentHash });
      } else {
        stop();
        const err = new Error(m.message);
        err.name = m.name;
        reject(err);
      }
    };
    worker.onerror = (ev) => {
      stop();
      if (!heard) {
        // The worker did not start (a blocked script, say): hash in the page instead.
        ev.preventDefault();
        hashHere(file, signal, onHashed).then(resolve, reject);
      } else {
        reject(new Error(ev.message || "the hashing worker failed"));
      }
    };
    worker.postMessage({ type: "hash", file } satisfies HashRequest);
  });
}

async function hashHere(file: Blob, signal: AbortSignal, onHashed: (bytes: number) => void): Promise<FileManifest> {
  const { hashBlob } = await import("./hash-worker");
  return hashBlob(file, { signal, onChunk: (_, hashed) => onHashed(hashed) });
}

// ---------------------------------------------------------------------------------
// Requests

async function getJson<T>(path: string, signal: AbortSignal): Promise<T> {
  const resp = await apiFetch(path, { signal });
  return (await resp.json()) as T;
}

async function postJson<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
  const resp = await apiFetch(path, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    signal,
  });
  return (await resp.json()) as T;
}

/** The node at `path` if there is one; `null` for nothing there (or a file on the way). */
async function statFile(path: string, signal: AbortSignal): Promise<NodeInfo | null> {
  try {
    return await withRetry(signal, () =>
      getJson<NodeInfo>(`/api/v1/fs/stat?path=${encodeURIComponent(path)}`, signal),
    );
  } catch (e) {
    // Nothing there yet (the commit creates it and its folders), or a file where a
    // folder should be (the commit reports that).
    if (e instanceof ApiError && (e.code === "not_found" || e.code === "not_a_folder")) return null;
    throw e;
  }
}

/**
 * Runs `request` until it succeeds, retrying what may succeed later: a network failure
 * (fetch's `TypeError`), `429`/`503` after their `Retry-After`, and other `5xx` but
 * `501`, `505` and `507`, with exponential backoff. While the browser is offline it waits to be online again.
 * A `Retry-After` longer than the longest backoff is reported at once, as the CLI does
 * (a full set of open upload sessions, say).
 */
async function withRetry<T>(signal: AbortSignal, request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (e) {
      signal.throwIfAborted();
      const wait = retryDelay(e, attempt);
      if (wait === null || attempt >= MAX_ATTEMPTS) throw e;
      await untilOnline(signal);
      await sleep(wait, signal);
    }
  }
}

function retryDelay(e: unknown, attempt: number): number | null {
  const backoff = Math.min(250 * 2 ** (attempt - 1), MAX_BACKOFF_MS) + Math.random() * 100;
  if (e instanceof ApiError) {
    if (e.status === 429 || e.status === 503) {
      if (e.retryAfter === null || !Number.isFinite(e.retryAfter)) return backoff;
      const ms = e.retryAfter * 1000;
      return ms > MAX_BACKOFF_MS ? null : ms;
    }
    // Other 5xx may pass; not those that say the request can never succeed
    // (`507 quota_exceeded`, say).
    return e.status >= 500 && e.status !== 501 && e.status !== 505 && e.status !== 507 ? backoff : null;
  }
  return e instanceof TypeError ? backoff : null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

/** Resolves when the browser says it is online (at once if it is, or cannot tell). */
function untilOnline(signal: AbortSignal): Promise<void> {
  if (typeof window === "undefined" || typeof navigator === "undefined" || navigator.onLine !== false) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const online = () => {
      signal.removeEventListener("abort", stop);
      resolve();
    };
    const stop = () => {
      window.removeEventListener("online", online);
      reject(signal.reason);
    };
    window.addEventListener("online", online, { once: true });
    signal.addEventListener("abort", stop, { once: true });
  });
}

// ---------------------------------------------------------------------------------
// Sending chunks

/** The manifest entry of each missing chunk (its first occurrence), in the server's order. */
function missingEntries(chunks: readonly ChunkEntry[], missing: readonly string[]): ChunkEntry[] {
  const first = new Map<string, ChunkEntry>();
  for (const c of chunks) if (!first.has(c.hash)) first.set(c.hash, c);
  const seen = new Set<string>();
  const out: ChunkEntry[] = [];
  for (const h of missing) {
    const c = first.get(h);
    if (!c) throw new ApiError(500, "internal", `the server asked for chunk ${h}, which is not in the file`);
    if (!seen.has(h)) {
      seen.add(h);
      out.push(c);
    }
  }
  return out;
}

/** Groups chunks, in order, into request bodies of at most `BATCH_BYTES`. */
function batches(chunks: readonly ChunkEntry[]): ChunkEntry[][] {
  const out: ChunkEntry[][] = [];
  let batch: ChunkEntry[] = [];
  let bytes = 0;
  for (const c of chunks) {
    const frame = FRAME_HEADER + c.size;
    if (batch.length > 0 && bytes + frame > BATCH_BYTES) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(c);
    bytes += frame;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/**
 * Sends the chunks, `IN_FLIGHT` requests at a time. Resolves `true` if the session
 * turned out to be gone (it expired: the caller begins again), else `false`; a request
 * that keeps failing rejects, after stopping the others.
 */
async function sendChunks(
  file: Blob,
  uploadId: string,
  chunks: readonly ChunkEntry[],
  outer: AbortSignal,
  onSent: (bytes: number, count: number) => void,
): Promise<boolean> {
  const queue = batches(chunks);
  // Stopped by the caller's signal, or by the first request that fails for good.
  const pool = new AbortController();
  const forward = () => pool.abort(outer.reason);
  outer.addEventListener("abort", forward, { once: true });
  const signal = pool.signal;
  let next = 0;
  const failure: { error?: unknown; happened: boolean } = { happened: false };
  const lane = async () => {
    while (next < queue.length && !signal.aborted) {
      const batch = queue[next++];
      try {
        await withRetry(signal, () => sendBatch(file, uploadId, batch, signal));
      } catch (e) {
        // The first failure is the cause; the others are the aborts it made.
        if (!failure.happened) Object.assign(failure, { happened: true, error: e });
        pool.abort(e);
        return;
      }
      onSent(
        batch.reduce((n, c) => n + c.size, 0),
        batch.length,
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, queue.length) }, lane));
  } finally {
    outer.removeEventListener("abort", forward);
  }
  outer.throwIfAborted();
  if (!failure.happened) return false;
  const { error } = failure;
  if (error instanceof ApiError && error.code === "upload_not_found") return true;
  throw error;
}

/**
 * One request: a lone chunk as `PUT .../chunks/{hash}`, several as framed `POST`. The
 * body is a Blob of slices of the file, read by the browser as it sends. The server
 * hashes what it receives, so a file changed since it was hashed is refused
 * (`chunk_hash_mismatch`), never stored under a wrong name.
 */
async function sendBatch(file: Blob, uploadId: string, batch: readonly ChunkEntry[], signal: AbortSignal): Promise<void> {
  const headers = { "content-type": "application/octet-stream" };
  const id = encodeURIComponent(uploadId);
  if (batch.length === 1) {
    const c = batch[0];
    await apiFetch(`/api/v1/uploads/${id}/chunks/${c.hash}`, {
      method: "PUT",
      body: file.slice(c.offset, c.offset + c.size),
      headers,
      signal,
    });
    return;
  }
  const parts: BlobPart[] = [];
  for (const c of batch) {
    const header = new Uint8Array(FRAME_HEADER);
    header.set(hexToBytes(c.hash));
    new DataView(header.buffer).setUint32(32, c.size, true);
    parts.push(header, file.slice(c.offset, c.offset + c.size));
  }
  await apiFetch(`/api/v1/uploads/${id}/chunks`, { method: "POST", body: new Blob(parts), headers, signal });
}

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// ---------------------------------------------------------------------------------
// Committing

type CommitOutcome = { kind: "done"; node: NodeInfo } | { kind: "again" };

/**
 * Commits the file (its session stays open; see the top of this file). A commit whose
 * answer was lost (the network failed after the server committed) is retried; the retry
 * then finds the file at a newer revision (a `conflict`), and the file holding exactly
 * these bytes tells that the first try went through.
 */
async function commit(
  path: string,
  parentRev: number | null,
  mtime: number | undefined,
  chunks: ChunkRef[],
  uploadId: string | null,
  contentHash: string,
  signal: AbortSignal,
): Promise<CommitOutcome> {
  const request = {
    ...(uploadId ? { upload_id: uploadId, close_upload: false } : {}),
    files: [
      {
        path,
        parent_rev: parentRev,
        ...(mtime !== undefined && Number.isFinite(mtime) ? { mtime: Math.trunc(mtime) } : {}),
        chunks,
      },
    ],
  };
  let resp: CommitResponse;
  try {
    resp = await withRetry(signal, () => postJson<CommitResponse>("/api/v1/commit", request, signal));
  } catch (e) {
    if (e instanceof ApiError && e.code === "upload_not_found") {
      const node = await committedAlready(path, contentHash, signal);
      return node ? { kind: "done", node } : { kind: "again" };
    }
    throw e;
  }
  const result = resp.results?.[0];
  if (result?.node) return { kind: "done", node: result.node };
  const err = result?.error;
  if (!err) throw new ApiError(500, "internal", "the commit returned neither a node nor an error");
  if (err.code === "missing_chunks") return { kind: "again" };
  if (err.code === "conflict") {
    const node = err.current?.content_hash === contentHash ? err.current : null;
    if (node) return { kind: "done", node };
  }
  throw new ApiError(statusOf(err.code), err.code, err.message);
}

/** The file at `path` if it holds exactly these bytes. */
async function committedAlready(path: string, contentHash: string, signal: AbortSignal): Promise<NodeInfo | null> {
  const node = await statFile(path, signal);
  return node?.kind === "file" && node.content_hash === contentHash ? node : null;
}

/** The HTTP status the server gives an error code (crates/server/src/error.rs). */
function statusOf(code: string): number {
  switch (code) {
    case "conflict":
    case "already_exists":
    case "not_a_folder":
    case "not_a_file":
    case "root_immutable":
    case "shared_folder":
    case "missing_chunks":
      return 409;
    case "not_found":
    case "upload_not_found":
      return 404;
    case "forbidden":
    case "read_only":
      return 403;
    case "too_large":
      return 413;
    case "quota_exceeded":
      return 507;
    case "internal":
      return 500;
    default:
      return 400;
  }
}

// ---------------------------------------------------------------------------------
// Sessions left open by interrupted uploads

const STORE_PREFIX = "coffer.upload-sessions.";
/** Sessions remembered per file at most (the newest). */
const MAX_REMEMBERED = 16;

interface Remembered {
  id: string;
  expires: number;
}

/**
 * The upload sessions opened for one file (by destination, size, modification time and
 * name) that are not closed yet, kept in localStorage so that a later run, even after
 * the tab was closed, can close them. Where localStorage is unavailable this remembers
 * nothing, and leftover sessions simply expire.
 */
class Sessions {
  private readonly key: string;

  constructor(path: string, file: Blob) {
    const f = isFile(file) ? file : null;
    this.key = STORE_PREFIX + JSON.stringify([path, file.size, f?.lastModified ?? 0, f?.name ?? ""]);
    pruneExpired();
  }

  /** The sessions remembered for this file that have not expired. */
  list(): string[] {
    return this.read().map((s) => s.id);
  }

  add(id: string, expires: number): void {
    const all = this.read().filter((s) => s.id !== id);
    all.push({ id, expires });
    this.write(all.slice(-MAX_REMEMBERED));
  }

  /** Forgets sessions (closed, or about to be). */
  private forget(ids: readonly string[]): void {
    const gone = new Set(ids);
    this.write(this.read().filter((s) => !gone.has(s.id)));
  }

  /** Closes the given sessions on the server (best effort) and forgets them. */
  async closeAndForget(ids: readonly string[]): Promise<void> {
    this.forget(ids);
    await Promise.all(ids.map(closeSession));
  }

  private read(): Remembered[] {
    const now = Date.now();
    try {
      const raw = localStorage.getItem(this.key);
      const parsed: unknown = raw ? JSON.parse(raw) : [];
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(
        (s): s is Remembered =>
          typeof s?.id === "string" && /^[0-9a-f]{32}$/.test(s.id) && typeof s.expires === "number" && s.expires > now,
      );
    } catch {
      return [];
    }
  }

  private write(all: Remembered[]): void {
    try {
      if (all.length === 0) localStorage.removeItem(this.key);
      else localStorage.setItem(this.key, JSON.stringify(all));
    } catch {
      // No storage (private browsing, a full quota): the sessions will expire instead.
    }
  }
}

/** Drops the entries of files whose remembered sessions all expired. */
function pruneExpired(): void {
  try {
    const now = Date.now();
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key?.startsWith(STORE_PREFIX)) continue;
      let live = false;
      try {
        const parsed: unknown = JSON.parse(localStorage.getItem(key) ?? "[]");
        live = Array.isArray(parsed) && parsed.some((s) => typeof s?.expires === "number" && s.expires > now);
      } catch {
        // unreadable: dropped
      }
      if (!live) localStorage.removeItem(key);
    }
  } catch {
    // no storage
  }
}

/** `DELETE /api/v1/uploads/{id}`; a session already gone (committed, expired) is fine. */
async function closeSession(id: string): Promise<void> {
  const signal = AbortSignal.timeout(15_000);
  try {
    await withRetry(signal, () => apiFetch(`/api/v1/uploads/${encodeURIComponent(id)}`, { method: "DELETE", signal }));
  } catch {
    // Best effort: an unclosed session expires on its own.
  }
}
