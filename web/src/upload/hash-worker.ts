// Computes a file's manifest off the main thread: reads the file as a stream, cuts it
// into chunks exactly where Coffer's Rust chunker would (fastcdc.ts) and hashes each
// chunk with BLAKE3. Only the manifest comes back (offset, size and hash of each
// chunk), never the bytes: the uploader later slices the File for the chunks the server
// lacks, so memory stays at about one chunk whatever the file's size.
//
// Started by the uploader as a module worker:
//   new Worker(new URL("./hash-worker.ts", import.meta.url), { type: "module" })
// The same functions also run in the page (the uploader imports this module when a
// worker cannot be started) and in Node for the tests; the message handler is only
// installed inside a worker.

import { createBLAKE3, type IHasher } from "hash-wasm";
import { COFFER_CHUNKING, StreamChunker } from "./fastcdc";

/** One chunk of a file's manifest. */
export interface ChunkEntry {
  /** Where the chunk starts in the file. */
  offset: number;
  size: number;
  /** BLAKE3 of the chunk's bytes, 64 lowercase hex digits. */
  hash: string;
}

/** A file's manifest and its content identity. */
export interface FileManifest {
  size: number;
  chunks: ChunkEntry[];
  /** The server's `content_hash` of a file with these chunks (see `contentHashOf`). */
  contentHash: string;
}

/** Page to worker: hash this file. */
export interface HashRequest {
  type: "hash";
  file: Blob;
}

/** Worker to page. Chunks arrive in order, a few at a time, before `done`. */
export type HashReply =
  | { type: "chunks"; chunks: ChunkEntry[]; hashed: number }
  | { type: "done"; size: number; contentHash: string }
  | { type: "error"; name: string; message: string };

export interface HashOptions {
  signal?: AbortSignal;
  /** Called with each chunk, in order, as soon as it is hashed. */
  onChunk?: (chunk: ChunkEntry, hashed: number) => void;
}

let hasherPromise: Promise<IHasher> | null = null;

/** One BLAKE3 instance per thread, reused (each `init` starts a fresh hash). */
function blake3(): Promise<IHasher> {
  hasherPromise ??= createBLAKE3();
  return hasherPromise;
}

/**
 * Chunks and hashes a file (or any Blob) as a stream. Throws the signal's reason when
 * it is aborted, and whatever reading the file throws (a file changed or removed since
 * it was picked fails with `NotReadableError`).
 */
export async function hashBlob(file: Blob, opts: HashOptions = {}): Promise<FileManifest> {
  const hasher = await blake3();
  const chunker = new StreamChunker(COFFER_CHUNKING);
  const chunks: ChunkEntry[] = [];
  let hashed = 0;
  const take = (list: { offset: number; length: number; data: Uint8Array }[]): void => {
    for (const c of list) {
      const entry = { offset: c.offset, size: c.length, hash: hasher.init().update(c.data).digest("hex") };
      chunks.push(entry);
      hashed += c.length;
      opts.onChunk?.(entry, hashed);
    }
  };
  const reader = file.stream().getReader();
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      take(chunker.push(value));
    }
    take(chunker.finish());
  } finally {
    // Stops reading the file early after an abort or an error.
    reader.cancel().catch(() => {});
  }
  opts.signal?.throwIfAborted();
  if (hashed !== file.size) throw new Error(`read ${hashed} bytes of a ${file.size}-byte file`);
  return { size: hashed, chunks, contentHash: await contentHashOf(chunks) };
}

const MANIFEST_TAG = new TextEncoder().encode("coffer-manifest-v1\0");

/**
 * The content identity the server gives a file with these chunks (`Manifest::
 * content_hash` in crates/core/src/manifest.rs): BLAKE3 over a domain tag and the stored
 * manifest encoding, `[1] ([32-byte hash][u32 LE size])*`. Equal to a node's
 * `content_hash` exactly when the file already holds these bytes.
 */
export async function contentHashOf(chunks: readonly { hash: string; size: number }[]): Promise<string> {
  const encoded = new Uint8Array(1 + chunks.length * 36);
  encoded[0] = 1;
  const view = new DataView(encoded.buffer);
  chunks.forEach((c, i) => {
    const at = 1 + i * 36;
    encoded.set(hexToBytes(c.hash), at);
    view.setUint32(at + 32, c.size, true);
  });
  const hasher = await blake3();
  return hasher.init().update(MANIFEST_TAG).update(encoded).digest("hex");
}

/** 64 hex digits to 32 bytes. */
export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a chunk hash: ${hex}`);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Chunk entries are sent back in groups of this many (or sooner, see below). */
const REPLY_BATCH = 16;
/** ...or after this long, so progress keeps moving on a slow disk. */
const REPLY_INTERVAL_MS = 100;

/** Serves one `HashRequest` per message, replying with `HashReply`s. */
function serve(scope: DedicatedWorkerGlobalScope): void {
  scope.onmessage = async (ev: MessageEvent<HashRequest>) => {
    if (ev.data?.type !== "hash") return;
    let pending: ChunkEntry[] = [];
    let lastPost = 0;
    let hashedSoFar = 0;
    const flush = (): void => {
      if (pending.length === 0) return;
      scope.postMessage({ type: "chunks", chunks: pending, hashed: hashedSoFar } satisfies HashReply);
      pending = [];
      lastPost = performance.now();
    };
    try {
      const m = await hashBlob(ev.data.file, {
        onChunk: (chunk, hashed) => {
          pending.push(chunk);
          hashedSoFar = hashed;
          if (pending.length >= REPLY_BATCH || performance.now() - lastPost >= REPLY_INTERVAL_MS) flush();
        },
      });
      flush();
      scope.postMessage({ type: "done", size: m.size, contentHash: m.contentHash } satisfies HashReply);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      scope.postMessage({ type: "error", name: err.name, message: err.message } satisfies HashReply);
    }
  };
}

// Installed only when this module is a worker's entry (not when the page or a test
// imports it). The page stops the work by terminating the worker.
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  serve(self as unknown as DedicatedWorkerGlobalScope);
}
