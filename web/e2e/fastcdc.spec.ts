// The browser's chunker and uploader, checked in Node (no browser needed).
//
// The chunker must cut and hash exactly as Coffer's Rust chunker does: the expected
// sizes, chunk hashes and content hashes come from src/upload/cut-vectors.json, which
// crates/core/src/chunking.rs checks against the Rust side. The uploader runs against an
// in-memory server that follows the upload protocol of crates/service/src/upload.rs.

import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { createBLAKE3 } from "hash-wasm";
import { type Chunk, COFFER_CHUNKING, StreamChunker, chunkBuffer } from "../src/upload/fastcdc";
import { contentHashOf, hashBlob } from "../src/upload/hash-worker";
import { type NodeInfo, type UploadProgress, uploadFile } from "../src/upload/uploader";

type Part = { pseudo_random: { len: number; seed: number } } | { repeat: { text: string; len: number } };
interface Vector {
  name: string;
  input: Part[];
  sizes: number[];
  hashes: string[];
  content_hash: string;
}
const doc = JSON.parse(readFileSync(new URL("../src/upload/cut-vectors.json", import.meta.url), "utf8")) as {
  chunker: { min_size: number; avg_size: number; max_size: number };
  vectors: Vector[];
};

/**
 * `pseudo_random(len, seed)` of crates/core/src/testing.rs: xorshift64 (13, 7, 17), each
 * state written out little-endian, truncated to `len`. 64-bit state as two uint32 halves.
 */
function pseudoRandom(len: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(len + 8);
  let hi = Math.floor(seed / 2 ** 32) >>> 0;
  let lo = seed >>> 0;
  for (let i = 0; i < len; i += 8) {
    // x ^= x << 13
    let nhi = (hi << 13) | (lo >>> 19);
    let nlo = lo << 13;
    hi ^= nhi;
    lo ^= nlo;
    // x ^= x >> 7
    nlo = (lo >>> 7) | (hi << 25);
    nhi = hi >>> 7;
    hi ^= nhi;
    lo ^= nlo;
    // x ^= x << 17
    nhi = (hi << 17) | (lo >>> 15);
    nlo = lo << 17;
    hi ^= nhi;
    lo ^= nlo;
    out[i] = lo;
    out[i + 1] = lo >>> 8;
    out[i + 2] = lo >>> 16;
    out[i + 3] = lo >>> 24;
    out[i + 4] = hi;
    out[i + 5] = hi >>> 8;
    out[i + 6] = hi >>> 16;
    out[i + 7] = hi >>> 24;
  }
  return out.subarray(0, len);
}

function build(parts: Part[]): Uint8Array<ArrayBuffer> {
  const pieces = parts.map((p) => {
    if ("pseudo_random" in p) return pseudoRandom(p.pseudo_random.len, p.pseudo_random.seed);
    const text = new TextEncoder().encode(p.repeat.text);
    const out = new Uint8Array(p.repeat.len);
    for (let i = 0; i < out.length; i++) out[i] = text[i % text.length];
    return out;
  });
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A deterministic generator of piece sizes. */
function sizes(seed: number, pick: (r: number) => number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return pick(s);
  };
}

/**
 * Feeds `data` to a fresh chunker in pieces of `next()` bytes, checking on the way that
 * it never holds more than about one maximum chunk plus one piece.
 */
function chunkInPieces(data: Uint8Array, next: () => number): Chunk[] {
  const c = new StreamChunker();
  const out: Chunk[] = [];
  let emitted = 0;
  let held = 0;
  for (let at = 0; at < data.length; ) {
    const n = Math.max(1, Math.min(next(), data.length - at));
    for (const chunk of c.push(data.subarray(at, at + n))) {
      out.push(chunk);
      emitted += chunk.length;
    }
    at += n;
    held = Math.max(held, at - emitted);
  }
  // Unscanned small pieces are gathered up to 64 KiB; a pair may wait for its byte.
  expect(held).toBeLessThanOrEqual(COFFER_CHUNKING.maxSize + 64 * 1024);
  out.push(...c.finish());
  return out;
}

function checkCover(data: Uint8Array, chunks: Chunk[]): void {
  let at = 0;
  for (const c of chunks) {
    expect(c.offset).toBe(at);
    expect(c.data.length).toBe(c.length);
    at += c.length;
  }
  expect(at).toBe(data.length);
  // The bytes themselves, for a sample of chunks (all of them is slow for large inputs).
  for (const c of chunks.filter((_, i) => i % 7 === 0 || i === chunks.length - 1)) {
    expect(Buffer.compare(c.data, data.subarray(c.offset, c.offset + c.length))).toBe(0);
  }
}

test.describe("fastcdc.ts against the Rust chunker", () => {
  test.describe.configure({ timeout: 180_000 });

  test("the vectors use Coffer's parameters", () => {
    expect(doc.chunker).toEqual({
      min_size: COFFER_CHUNKING.minSize,
      avg_size: COFFER_CHUNKING.avgSize,
      max_size: COFFER_CHUNKING.maxSize,
    });
    expect(doc.vectors.length).toBeGreaterThanOrEqual(10);
    const pinned = doc.vectors.find((v) => v.input.length === 1 && JSON.stringify(v.input[0]).includes("12648430"));
    expect(pinned?.sizes).toEqual([2365010, 2146156, 2360435, 1643891, 2150528, 1916892]);
  });

  for (const v of doc.vectors) {
    test(`cut points and hashes: ${v.name}`, async () => {
      const data = build(v.input);
      const chunks = chunkBuffer(data);
      expect(chunks.map((c) => c.length)).toEqual(v.sizes);
      checkCover(data, chunks);
      const blake3 = await createBLAKE3();
      expect(chunks.map((c) => blake3.init().update(c.data).digest("hex"))).toEqual(v.hashes);
      expect(await contentHashOf(v.sizes.map((size, i) => ({ size, hash: v.hashes[i] })))).toBe(v.content_hash);
    });
  }

  test("any piece sizes give the same cut points", () => {
    const pieceSizes: [string, () => number][] = [
      ["64 KiB", () => 64 * 1024],
      ["5 MiB", () => 5 * 1024 * 1024],
      ["odd sizes", sizes(7, (r) => (r % 200_000) | 1)],
      ["tiny and huge mixed", sizes(11, (r) => [1, 2, 3, 17, 16383, 16384, 65537, 1 << 20, 5 << 20][r % 9])],
      ["uneven around 16 KiB", sizes(13, (r) => 16_000 + (r % 800))],
    ];
    for (const v of doc.vectors) {
      const data = build(v.input);
      for (const [label, next] of pieceSizes) {
        const chunks = chunkInPieces(data, next);
        expect(chunks.map((c) => c.length), `${v.name}, pieces of ${label}`).toEqual(v.sizes);
        checkCover(data, chunks);
      }
    }
  });

  test("one byte at a time gives the same cut points", () => {
    // Inputs small enough to push byte by byte, with cuts inside them.
    const inputs = [
      build([{ pseudo_random: { len: 262_146, seed: 2 } }]),
      build([{ pseudo_random: { len: 3 * 1024 * 1024 + 1, seed: 42 } }]),
      build([{ repeat: { text: "abc", len: 4 * 1024 * 1024 + 3 } }]),
    ];
    for (const data of inputs) {
      const whole = chunkBuffer(data).map((c) => c.length);
      expect(whole.length).toBeGreaterThanOrEqual(1);
      const chunks = chunkInPieces(data, () => 1);
      expect(chunks.map((c) => c.length)).toEqual(whole);
      checkCover(data, chunks);
    }
    expect(chunkBuffer(build([{ pseudo_random: { len: 3 * 1024 * 1024 + 1, seed: 42 } }])).length).toBeGreaterThan(1);
  });

  test("hashBlob gives the vectors' manifests from a Blob stream", async () => {
    for (const v of doc.vectors.filter((v) => v.sizes.length <= 8)) {
      const m = await hashBlob(new Blob([build(v.input)]));
      expect(m.chunks.map((c) => c.size)).toEqual(v.sizes);
      expect(m.chunks.map((c) => c.hash)).toEqual(v.hashes);
      expect(m.contentHash).toBe(v.content_hash);
    }
  });
});

// ---------------------------------------------------------------------------------
// The uploader against an in-memory server

interface Ref {
  hash: string;
  size: number;
}
interface Session {
  expires: number;
  chunks: Set<string>;
}
interface StoredFile {
  node: NodeInfo;
  chunks: Ref[];
}
type Fault = "network" | "busy" | "quota" | "lose-answer";

/**
 * The upload protocol as crates/service/src/upload.rs implements it, for one user:
 * begin leaves out chunks held in committed files or live sessions, chunks are hashed on
 * arrival, a commit needs every chunk and the current revision as `parent_rev`.
 */
class FakeServer {
  blobs = new Map<string, number>();
  held = new Set<string>();
  sessions = new Map<string, Session>();
  files = new Map<string, StoredFile>();
  log: { method: string; path: string; bytes: number }[] = [];
  /** Chunk bytes the server accepted, counted once per request. */
  received = 0;
  private nextId = 1;
  private faults: { when: (method: string, path: string, n: number) => boolean; fault: Fault }[] = [];
  private blake3 = createBLAKE3();
  /** Called when a request arrives, before it is answered. */
  onRequest: (method: string, path: string) => void = () => {};

  inject(fault: Fault, when: (method: string, path: string, n: number) => boolean): void {
    this.faults.push({ fault, when });
  }

  install(): () => void {
    const saved = globalThis.fetch;
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => this.fetch(String(input), init)) as typeof fetch;
    return () => {
      globalThis.fetch = saved;
    };
  }

  /** Requests made with `method` to a path starting with `prefix` (or matching it). */
  requests(method: string, path: string | RegExp): number {
    const match = (p: string) => (typeof path === "string" ? p.startsWith(path) : path.test(p));
    return this.log.filter((r) => r.method === method && match(r.path)).length;
  }

  private async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const method = (init.method ?? "GET").toUpperCase();
    const u = new URL(url, "http://coffer.test");
    const body = init.body ? new Uint8Array(await new Response(init.body).arrayBuffer()) : new Uint8Array();
    this.log.push({ method, path: u.pathname, bytes: body.length });
    this.onRequest(method, u.pathname);
    await new Promise((r) => setTimeout(r, 2));
    signal?.throwIfAborted();
    const n = this.log.length;
    const fault = this.faults.find((f) => f.when(method, u.pathname, n))?.fault;
    if (fault === "network") throw new TypeError("Failed to fetch");
    if (fault === "busy") return this.error(503, "busy", "busy", 0);
    if (fault === "quota") return this.error(507, "quota_exceeded", "no room");
    const resp = await this.route(method, u, body);
    if (fault === "lose-answer") throw new TypeError("Failed to fetch");
    return resp;
  }

  private json(value: unknown): Response {
    return new Response(JSON.stringify(value), { status: 200, headers: { "content-type": "application/json" } });
  }

  private error(status: number, code: string, message: string, retryAfter?: number): Response {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
    return new Response(JSON.stringify({ error: { code, message } }), { status, headers });
  }

  private live(id: string): Session | undefined {
    const s = this.sessions.get(id);
    return s && s.expires > Date.now() ? s : undefined;
  }

  private inLiveSession(hash: string): boolean {
    for (const s of this.sessions.values()) if (s.expires > Date.now() && s.chunks.has(hash)) return true;
    return false;
  }

  private async store(id: string, chunks: [string, Uint8Array][]): Promise<Response> {
    const session = this.live(id);
    if (!session) return this.error(404, "upload_not_found", "no such upload session");
    const h = await this.blake3;
    for (const [hash, data] of chunks) {
      if (data.length === 0 || data.length > 4 * 1024 * 1024) return this.error(400, "bad_request", "chunk size");
      if (h.init().update(data).digest("hex") !== hash) return this.error(422, "chunk_hash_mismatch", hash);
    }
    for (const [hash, data] of chunks) {
      this.blobs.set(hash, data.length);
      session.chunks.add(hash);
      this.received += data.length;
    }
    return new Response(null, { status: 204 });
  }

  private async route(method: string, u: URL, body: Uint8Array): Promise<Response> {
    const p = u.pathname;
    let m: RegExpMatchArray | null;
    if (method === "GET" && p === "/api/v1/fs/stat") {
      const f = this.files.get((u.searchParams.get("path") ?? "").toLowerCase());
      return f ? this.json(f.node) : this.error(404, "not_found", "no such file");
    }
    if (method === "POST" && p === "/api/v1/uploads") {
      const req = JSON.parse(new TextDecoder().decode(body)) as { chunks: Ref[] };
      const id = (this.nextId++).toString(16).padStart(32, "0");
      this.sessions.set(id, { expires: Date.now() + 86_400_000, chunks: new Set() });
      const missing: string[] = [];
      for (const c of req.chunks) {
        const known = (this.held.has(c.hash) || this.inLiveSession(c.hash)) && this.blobs.has(c.hash);
        if (!known && !missing.includes(c.hash)) missing.push(c.hash);
      }
      return this.json({ upload_id: id, missing, expires_at: Date.now() + 86_400_000 });
    }
    if (method === "PUT" && (m = p.match(/^\/api\/v1\/uploads\/([0-9a-f]{32})\/chunks\/([0-9a-f]{64})$/))) {
      return this.store(m[1], [[m[2], body]]);
    }
    if (method === "POST" && (m = p.match(/^\/api\/v1\/uploads\/([0-9a-f]{32})\/chunks$/))) {
      const frames: [string, Uint8Array][] = [];
      for (let at = 0; at < body.length; ) {
        if (at + 36 > body.length) return this.error(400, "bad_request", "truncated frame");
        const hash = Buffer.from(body.subarray(at, at + 32)).toString("hex");
        const len = new DataView(body.buffer, body.byteOffset + at + 32, 4).getUint32(0, true);
        if (at + 36 + len > body.length) return this.error(400, "bad_request", "truncated frame");
        frames.push([hash, body.subarray(at + 36, at + 36 + len)]);
        at += 36 + len;
      }
      if (frames.length === 0) return this.error(400, "bad_request", "no frames");
      return this.store(m[1], frames);
    }
    if (method === "DELETE" && (m = p.match(/^\/api\/v1\/uploads\/([0-9a-f]{32})$/))) {
      if (!this.live(m[1])) return this.error(404, "upload_not_found", "no such upload session");
      this.sessions.delete(m[1]);
      return new Response(null, { status: 204 });
    }
    if (method === "POST" && p === "/api/v1/commit") {
      return this.commit(
        JSON.parse(new TextDecoder().decode(body)) as {
          upload_id?: string;
          close_upload?: boolean;
          files: { path: string; parent_rev: number | null; mtime?: number; chunks: Ref[] }[];
        },
      );
    }
    return this.error(404, "not_found", "no such endpoint");
  }

  private async commit(req: {
    upload_id?: string;
    close_upload?: boolean;
    files: { path: string; parent_rev: number | null; mtime?: number; chunks: Ref[] }[];
  }): Promise<Response> {
    if (req.upload_id !== undefined && !this.live(req.upload_id)) {
      return this.error(404, "upload_not_found", "no such upload session");
    }
    const results = [];
    for (const f of req.files) {
      const missing = f.chunks
        .map((c) => c.hash)
        .filter((h) => !this.blobs.has(h) || !(this.held.has(h) || this.inLiveSession(h)));
      if (missing.length > 0) {
        results.push({ error: { code: "missing_chunks", message: "missing", missing } });
        continue;
      }
      const key = f.path.toLowerCase();
      const existing = this.files.get(key);
      const contentHash = await contentHashOf(f.chunks);
      if ((existing?.node.rev ?? null) !== f.parent_rev) {
        results.push({ error: { code: "conflict", message: "changed", current: existing?.node } });
        continue;
      }
      if (existing && existing.node.content_hash === contentHash) {
        results.push({ node: existing.node });
        continue;
      }
      const node: NodeInfo = {
        id: existing?.node.id ?? this.nextId++,
        namespace_id: 1,
        parent_id: 1,
        name: f.path.split("/").pop() ?? "",
        kind: "file",
        path: f.path,
        size: f.chunks.reduce((n, c) => n + c.size, 0),
        rev: (existing?.node.rev ?? 0) + 1,
        content_hash: contentHash,
        modified_at: Date.now(),
        ...(f.mtime !== undefined ? { mtime: f.mtime } : {}),
        trashed: false,
      };
      this.files.set(key, { node, chunks: f.chunks });
      for (const c of f.chunks) this.held.add(c.hash);
      results.push({ node });
    }
    if (req.upload_id !== undefined && req.close_upload) this.sessions.delete(req.upload_id);
    return this.json({ results });
  }
}

/** localStorage for Node, as the uploader uses it. */
class MemoryStorage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  key(i: number): string | null {
    return [...this.items.keys()][i] ?? null;
  }
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, String(v));
  }
  removeItem(k: string): void {
    this.items.delete(k);
  }
}

test.describe("uploader against an in-memory server", () => {
  test.describe.configure({ timeout: 120_000 });
  let server: FakeServer;
  let restore: () => void;

  test.beforeEach(() => {
    server = new FakeServer();
    restore = server.install();
    (globalThis as { localStorage?: unknown }).localStorage = new MemoryStorage();
  });
  test.afterEach(() => {
    restore();
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });

  const fileOf = (data: Uint8Array<ArrayBuffer>, name = "data.bin") =>
    new File([data], name, { lastModified: 1_700_000_000_000 });

  test("sends only what the server lacks, and nothing the second time", async () => {
    const data = pseudoRandom(12 * 1024 * 1024, 0x00c0ffee);
    const phases = new Set<string>();
    let last: UploadProgress | null = null;
    const first = await uploadFile(fileOf(data), "/Docs/big.bin", {
      onProgress: (p) => {
        phases.add(p.phase);
        last = p;
      },
    });
    expect(first.status).toBe("created");
    expect(first.stats).toEqual({ bytesSent: data.length, chunksSent: 6, chunksTotal: 6 });
    expect(first.node.size).toBe(data.length);
    expect(first.node.mtime).toBe(1_700_000_000_000);
    expect(server.received).toBe(data.length);
    expect([...phases]).toEqual(["hashing", "checking", "sending", "committing", "done"]);
    expect(last).toMatchObject({ hashed: data.length, sent: data.length, total: data.length, toSend: data.length });
    // Framed batches of at most 8 MiB (headers included).
    for (const r of server.log.filter((r) => r.path.includes("/chunks"))) {
      expect(r.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    }
    expect(server.requests("POST", /^\/api\/v1\/uploads\/\w+\/chunks$/)).toBe(2);
    // The same bytes at the same path: unchanged, without a session.
    const begins = server.requests("POST", /^\/api\/v1\/uploads$/);
    const again = await uploadFile(fileOf(data), "/Docs/big.bin");
    expect(again.status).toBe("unchanged");
    expect(again.stats.bytesSent).toBe(0);
    expect(server.requests("POST", /^\/api\/v1\/uploads$/)).toBe(begins);
    // The same bytes elsewhere: a new file, no chunk bytes sent.
    const copy = await uploadFile(fileOf(data), "/Docs/copy.bin");
    expect(copy.status).toBe("created");
    expect(copy.stats).toEqual({ bytesSent: 0, chunksSent: 0, chunksTotal: 6 });
    expect(server.received).toBe(data.length);
    expect(server.sessions.size).toBe(0);
  });

  test("a single chunk goes as one PUT, an empty file without a session", async () => {
    const small = pseudoRandom(1000, 1);
    const r = await uploadFile(new Blob([small]), "notes/small.bin", { mtime: 5 });
    expect(r.status).toBe("created");
    expect(server.requests("PUT", "/api/v1/uploads/")).toBe(1);
    expect(server.files.get("/notes/small.bin")?.node.mtime).toBe(5);
    const empty = await uploadFile(fileOf(new Uint8Array(0)), "/empty.txt");
    expect(empty.node.size).toBe(0);
    expect(empty.stats.chunksTotal).toBe(0);
    expect(server.files.get("/empty.txt")?.chunks).toEqual([]);
  });

  test("new bytes at an existing path become its next version", async () => {
    await uploadFile(fileOf(pseudoRandom(3 * 1024 * 1024, 5)), "/a.bin");
    const r = await uploadFile(fileOf(pseudoRandom(3 * 1024 * 1024, 6)), "/a.bin");
    expect(r.status).toBe("modified");
    expect(r.node.rev).toBe(2);
  });

  test("an interrupted upload resumes from the chunks already sent", async () => {
    const data = pseudoRandom(40 * 1024 * 1024 + 7, 42);
    const file = fileOf(data);
    // The third chunk request fails for good (here: the user's quota), the others land.
    let chunkRequests = 0;
    server.inject("quota", (_, path) => path.includes("/chunks") && ++chunkRequests === 3);
    await expect(uploadFile(file, "/big.bin")).rejects.toMatchObject({ code: "quota_exceeded" });
    const sentBefore = server.received;
    expect(sentBefore).toBeGreaterThan(0);
    expect(sentBefore).toBeLessThan(data.length);
    expect(server.sessions.size).toBe(1); // kept open: its chunks count as sent
    expect(server.files.size).toBe(0);

    const r = await uploadFile(file, "/big.bin");
    expect(r.status).toBe("created");
    expect(r.stats.bytesSent).toBe(data.length - sentBefore);
    expect(server.received).toBe(data.length);
    // The session the first run left open was closed once the file was committed.
    expect(server.sessions.size).toBe(0);
    expect(localStorage.length).toBe(0);
  });

  test("a refused commit keeps the chunks sent for the next run", async () => {
    await uploadFile(fileOf(pseudoRandom(3 * 1024 * 1024, 20)), "/shared.bin");
    // Another device changes the file while this upload is under way.
    let edited = false;
    server.onRequest = (method, path) => {
      const f = server.files.get("/shared.bin");
      if (!edited && f && method === "POST" && path === "/api/v1/commit") {
        edited = true;
        f.node = { ...f.node, rev: (f.node.rev ?? 0) + 1, content_hash: "0".repeat(64) };
      }
    };
    const data = pseudoRandom(9 * 1024 * 1024, 21);
    const err = await uploadFile(fileOf(data), "/shared.bin").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "conflict", status: 409 });
    const sent = server.received;
    // Run again (after looking at the other version, say): nothing travels twice.
    const r = await uploadFile(fileOf(data), "/shared.bin");
    expect(r.status).toBe("modified");
    expect(r.node.rev).toBe(3);
    expect(r.stats.bytesSent).toBe(0);
    expect(server.received).toBe(sent);
    expect(server.sessions.size).toBe(0);
  });

  test("transient failures are retried", async () => {
    const data = pseudoRandom(6 * 1024 * 1024, 8);
    let begins = 0;
    let chunkRequests = 0;
    // Begin is refused twice (503, Retry-After: 0), the first chunk request never arrives.
    server.inject("busy", (method, path) => method === "POST" && path === "/api/v1/uploads" && ++begins <= 2);
    server.inject("network", (_, path) => path.includes("/chunks") && ++chunkRequests === 1);
    const r = await uploadFile(fileOf(data), "/retry.bin");
    expect(r.status).toBe("created");
    expect(server.received).toBe(data.length);
    expect(begins).toBe(3);
    expect(chunkRequests).toBeGreaterThan(1);
  });

  test("a commit whose answer was lost is recognised as done", async () => {
    let commits = 0;
    server.inject("lose-answer", (method, path) => method === "POST" && path === "/api/v1/commit" && ++commits === 1);
    const r = await uploadFile(fileOf(pseudoRandom(2 * 1024 * 1024, 9)), "/lost.bin");
    expect(r.status).toBe("created");
    expect(server.requests("POST", "/api/v1/commit")).toBe(2);
    expect(server.files.get("/lost.bin")?.node.rev).toBe(1);
  });

  test("cancelling stops the upload and closes its session", async () => {
    const ctl = new AbortController();
    server.onRequest = (_, path) => {
      if (path.includes("/chunks")) ctl.abort();
    };
    const data = pseudoRandom(20 * 1024 * 1024, 10);
    const err = await uploadFile(fileOf(data), "/cancel.bin", { signal: ctl.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
    expect(server.files.size).toBe(0);
    expect(server.sessions.size).toBe(0);
    expect(server.requests("DELETE", "/api/v1/uploads/")).toBe(1);
    expect(localStorage.length).toBe(0);
    // Cancelled before it starts.
    const early = await uploadFile(fileOf(data), "/cancel.bin", { signal: ctl.signal }).catch((e: unknown) => e);
    expect((early as Error).name).toBe("AbortError");
  });
});
