// Content-defined chunking exactly as Coffer's Rust side does it: the `fastcdc` crate
// 5.0.0, v2020 algorithm, `StreamCDC::new(reader, 256 KiB, 1 MiB, 4 MiB)` with the
// crate's default normalization (level 1). See crates/core/src/chunking.rs.
//
// The cut points decide what deduplicates: a chunk the browser cuts one byte off from
// where the CLI would cut it is a different chunk, and the bytes travel again. So this is
// a line-by-line port of the crate's `cut_gear`, including its quirks:
//
// - Nothing before `min_size` is hashed; the gear hash starts at zero at `min_size`.
// - Bytes are consumed in pairs ("rolling two bytes each time"): the first byte of a pair
//   goes through the left-shifted table and is tested against the left-shifted mask, the
//   second through the plain table and mask. A hit on the first byte cuts *before* that
//   byte (the chunk ends at its offset); a hit on the second cuts before the second.
// - A pair is tested only when both of its bytes are in the window, so an odd last byte
//   of the stream is never a cut candidate.
// - Pairs below `avg_size` use the stricter mask, the rest the looser one; a window
//   with no hit is cut at its end: `max_size`, or the end of the stream.
//
// StreamCDC keeps a buffer of `max_size` bytes, refills it to the brim (or to the end of
// the stream) before every cut, and cuts within it. The window it cuts in is therefore
// always min(bytes left in the stream, max_size): exactly the window the whole-input
// `FastCDC` uses, so both give the same cut points. This chunker decides the same cut
// incrementally, pair by pair as bytes arrive, which needs no buffer of its own: every
// decision depends only on bytes already seen, except that a pair must be complete and
// the end of the stream must be known to close the last window.
//
// The 64-bit gear hash is kept as two 32-bit halves (hi, lo) with an explicit carry,
// which is exact and several times faster than BigInt.

/** FastCDC's size parameters, in bytes. */
export interface ChunkerConfig {
  readonly minSize: number;
  readonly avgSize: number;
  readonly maxSize: number;
  /** Normalization level, 0 to 3 (the crate's `Normalization`); Coffer uses 1. */
  readonly normalization: number;
}

/** The largest chunk the server accepts. */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;

/** Coffer's parameters: 256 KiB / 1 MiB / 4 MiB, normalization level 1. */
export const COFFER_CHUNKING: ChunkerConfig = Object.freeze({
  minSize: 256 * 1024,
  avgSize: 1024 * 1024,
  maxSize: MAX_CHUNK_SIZE,
  normalization: 1,
});

/** One chunk of a stream. */
export interface Chunk {
  /** Where the chunk starts in the stream. */
  readonly offset: number;
  readonly length: number;
  /**
   * The chunk's bytes: a view into a piece given to `push` when the chunk lies inside
   * one piece, else a fresh copy.
   */
  readonly data: Uint8Array;
}

// The crate's MASKS table, indexed by log2 of the target size (entries 0-4 are padding).
const MASKS_HEX = [
  "0000000000000000", "0000000000000000", "0000000000000000", "0000000000000000",
  "0000000000000000", "0000000001804110", "0000000001803110", "0000000018035100",
  "0000001800035300", "0000019000353000", "0000590003530000", "0000d90003530000",
  "0000d90103530000", "0000d90303530000", "0000d90313530000", "0000d90f03530000",
  "0000d90303537000", "0000d90703537000", "0000d90707537000", "0000d91707537000",
  "0000d91747537000", "0000d91767537000", "0000d93767537000", "0000d93777537000",
  "0000d93777577000", "0000db3777577000",
];

// The crate's GEAR table (the high 8 bytes of MD5(0..=255)). Its GEAR_LS table is the
// same values shifted left by one bit, computed below.
const GEAR_HEX = [
  "3b5d3c7d207e37dc", "784d68ba91123086", "cd52880f882e7298", "eacf8e4e19fdcca7",
  "c31f385dfbd1632b", "1d5f27001e25abe6", "83130bde3c9ad991", "c4b225676e9b7649",
  "aa329b29e08eb499", "b67fcbd21e577d58", "0027baaada2acf6b", "e3ef2d5ac73c2226",
  "0890f24d6ed312b7", "a809e036851d7c7e", "f0a6fe5e0013d81b", "1d026304452cec14",
  "03864632648e248f", "cdaacf3dcd92b9b4", "f5e012e63c187856", "8862f9d3821c00b6",
  "a82f7338750f6f8a", "1e583dc6c1cb0b6f", "7a3145b69743a7f1", "abb20fee404807eb",
  "b14b3cfe07b83a5d", "b9dc27898adb9a0f", "3703f5e91baa62be", "cf0bb866815f7d98",
  "3d9867c41ea9dcd3", "1be1fa65442bf22c", "14300da4c55631d9", "e698e9cbc6545c99",
  "4763107ec64e92a5", "c65821fc65696a24", "76196c064822f0b7", "485be841f3525e01",
  "f652bc9c85974ff5", "cad8352face9e3e9", "2a6ed1dceb35e98e", "c6f483badc11680f",
  "3cfd8c17e9cf12f1", "89b83c5e2ea56471", "ae665cfd24e392a9", "ec33c4e504cb8915",
  "3fb9b15fc9fe7451", "d7fd1fd1945f2195", "31ade0853443efd8", "255efc9863e1e2d2",
  "10eab6008d5642cf", "46f04863257ac804", "a52dc42a789a27d3", "daaadf9ce77af565",
  "6b479cd53d87febb", "6309e2d3f93db72f", "c5738ffbaa1ff9d6", "6bd57f3f25af7968",
  "67605486d90d0a4a", "e14d0b9663bfbdae", "b7bbd8d816eb0414", "def8a4f16b35a116",
  "e7932d85aaaffed6", "08161cbae90cfd48", "855507beb294f08b", "91234ea6ffd399b2",
  "ad70cf4b2435f302", "d289a97565bc2d27", "8e558437ffca99de", "96d2704b7115c040",
  "0889bbcdfc660e41", "5e0d4e67dc92128d", "72a9f8917063ed97", "438b69d409e016e3",
  "df4fed8a5d8a4397", "00f41dcf41d403f7", "4814eb038e52603f", "9dafbacc58e2d651",
  "fe2f458e4be170af", "4457ec414df6a940", "06e62f1451123314", "bd1014d173ba92cc",
  "def318e25ed57760", "9fea0de9dfca8525", "459de1e76c20624b", "aeec189617e2d666",
  "126a2c06ab5a83cb", "b1321532360f6132", "65421503dbb40123", "2d67c287ea089ab3",
  "6c93bff5a56bd6b6", "4ffb2036cab6d98d", "ce7b785b1be7ad4f", "edb42ef6189fd163",
  "dc905288703988f6", "365f9c1d2c691884", "c640583680d99bfe", "3cd4624c07593ec6",
  "7f1ea8d85d7c5805", "014842d480b57149", "0b649bcb5a828688", "bcd5708ed79b18f0",
  "e987c862fbd2f2f0", "982731671f0cd82c", "baf13e8b16d8c063", "8ea3109cbd951bba",
  "d141045bfb385cad", "2acbc1a0af1f7d30", "e6444d89df03bfdf", "a18cc771b8188ff9",
  "9834429db01c39bb", "214add07fe086a1f", "8f07c19b1f6b3ff9", "56a297b1bf4ffe55",
  "94d558e493c54fc7", "40bfc24c764552cb", "931a706f8a8520cb", "32229d322935bd52",
  "2560d0f5dc4fefaf", "9dbcc48355969bb6", "0fd81c3985c0b56a", "e03817e1560f2bda",
  "c1bb4f81d892b2d5", "b0c4864f4e28d2d7", "3ecc49f9d9d6c263", "51307e99b52ba65e",
  "8af2b688da84a752", "f5d72523b91b20b6", "6d95ff1ff4634806", "562f21555458339a",
  "c0ce47f889336346", "487823e5089b40d8", "e4727c7ebc6d9592", "5a8f7277e94970ba",
  "fca2f406b1c8bb50", "5b1f8a95f1791070", "d304af9fc9028605", "5440ab7fc930e748",
  "312d25fbca2ab5a1", "10f4a4b234a4d575", "90301d55047e7473", "3b6372886c61591e",
  "293402b77c444e06", "451f34a4d3e97dd7", "3158d814d81bc57b", "034942425b9bda69",
  "e2032ff9e532d9bb", "62ae066b8b2179e5", "9545e10c2f8d71d8", "7ff7483eb2d23fc0",
  "00945fcebdc98d86", "8764bbbe99b26ca2", "1b1ec62284c0bfc3", "58e0fcc4f0aa362b",
  "5f4abefa878d458d", "fd74ac2f9607c519", "a4e3fb37df8cbfa9", "bf697e43cac574e5",
  "86f14a3f68f4cd53", "24a23d076f1ce522", "e725cd8048868cc8", "bf3c729eb2464362",
  "d8f6cd57b3cc1ed8", "6329e52425541577", "62aa688ad5ae1ac0", "0a242566269bf845",
  "168b1a4753aca74b", "f789afefff2e7e3c", "6c3362093b6fccdb", "4ce8f50bd28c09b2",
  "006a2db95ae8aa93", "975b0d623c3d1a8c", "18605d3935338c5b", "5bb6f6136cad3c71",
  "0f53a20701f8d8a6", "ab8c5ad2e7e93c67", "40b5ac5127acaa29", "8c7bf63c2075895f",
  "78bd9f7e014a805c", "b2c9e9f4f9c8c032", "efd6049827eb91f3", "2be459f482c16fbd",
  "d92ce0c5745aaa8c", "0aaa8fb298d965b9", "2b37f92c6c803b15", "8c54a5e94e0f0e78",
  "95f9b6e90c0a3032", "e7939faa436c7874", "d16bfe8f6a8a40c9", "44982b86263fd2fa",
  "e285fb39f984e583", "779a8df72d7619d3", "f2d79a8de8d5dd1e", "d1037354d66684e2",
  "004c82a4e668a8e5", "31d40a7668b044e6", "d70578538bd02c11", "db45431078c5f482",
  "977121bb7f6a51ad", "73d5ccbd34eff8dd", "e437a07d356e17cd", "47b2782043c95627",
  "9fb251413e41d49a", "ccd70b60652513d3", "1c95b31e8a1b49b2", "cae73dfd1bcb4c1b",
  "34d98331b1f5b70f", "784e39f22338d92f", "18613d4a064df420", "f1d8dae25f0bcebe",
  "33f77c15ae855efc", "3c88b3b912eb109c", "956a2ec96bafeea5", "1aa005b5e0ad0e87",
  "5500d70527c4bb8e", "e36c57196421cc44", "13c4d286cc36ee39", "5654a23d818b2a81",
  "77b1dc13d161abdc", "734f44de5f8d5eb5", "60717e174a6c89a2", "d47d9649266a211e",
  "5b13a4322bb69e90", "f7669609f8b5fc3c", "21e6ac55bedcdac9", "9b56b62b61166dea",
  "f48f66b939797e9c", "35f332f9c0e6ae9a", "cc733f6a9a878db0", "3da161e41cc108c2",
  "b7d74ae535914d51", "4d493b0b11d36469", "ce264d1dfba9741a", "a9d1f2dc7436dc06",
  "70738016604c2a27", "231d36e96e93f3d5", "7666881197838d19", "4a2a83090aaad40c",
  "f1e761591668b35d", "7363236497f730a7", "301080e37379dd4d", "502dea2971827042",
  "c2c5eb858f32625f", "786afb9edfafbdff", "daee0d868490b2a4", "617366b3268609f6",
  "ae0e35a0fe46173e", "d1a07de93e824f11", "079b8b115ea4cca8", "93a99274558faebb",
  "fb1e6e22e08a03b3", "ea635fdba3698dd0", "cf53659328503a5c", "cde3b31e6fd5d780",
  "8e3e4221d3614413", "ef14d0d86bf1a22c", "e1d830d3f16c5ddb", "aabd2b2a451504e1",
];

/** Splits 16 hex digits into [hi, lo] 32-bit halves (as signed int32). */
function halves(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) | 0, parseInt(hex.slice(8), 16) | 0];
}

// Both gear tables interleaved, four int32 per byte value: GEAR_LS lo, GEAR_LS hi,
// GEAR lo, GEAR hi. One array keeps the lookups of a pair close together.
const TABLE = new Int32Array(256 * 4);
for (let b = 0; b < 256; b++) {
  const [hi, lo] = halves(GEAR_HEX[b]);
  TABLE[b * 4] = lo << 1; // GEAR_LS = GEAR << 1 (64-bit)
  TABLE[b * 4 + 1] = (hi << 1) | (lo >>> 31);
  TABLE[b * 4 + 2] = lo;
  TABLE[b * 4 + 3] = hi;
}

/** The mutable state of one window's scan, shared with `scanRun`. */
interface ScanState {
  hi: number;
  lo: number;
  /** Where `scanRun` stopped, as an index into the array it scanned. */
  at: number;
}

/**
 * Rolls the gear hash over the pairs `src[i], src[i + 1]` for every pair that lies
 * wholly before `end`, starting at `i`, and tests each byte against its mask (given as
 * hi/lo halves: `m*` for the plain mask, `l*` for the left-shifted one). Returns the
 * index the chunk ends at (the crate's cut semantics, see above), or -1 with `st.at`
 * set to the first byte not consumed.
 *
 * The hot loop of the whole upload: only int32 arithmetic, no allocation. The carry of
 * the low half is the carry-out of a 32-bit addition, `(a & b) | ((a | b) & ~sum)` at
 * bit 31.
 */
function scanRun(
  src: Uint8Array,
  i: number,
  end: number,
  st: ScanState,
  mHi: number,
  mLo: number,
  lHi: number,
  lLo: number,
): number {
  const t = TABLE;
  let hi = st.hi;
  let lo = st.lo;
  const last = end - 1;
  while (i < last) {
    // hash = (hash << 2) + GEAR_LS[src[i]]
    let k = src[i] << 2;
    let a = lo << 2;
    let g = t[k];
    let s = (a + g) | 0;
    hi = (((hi << 2) | (lo >>> 30)) + t[k + 1] + (((a & g) | ((a | g) & ~s)) >>> 31)) | 0;
    lo = s;
    if (((hi & lHi) | (lo & lLo)) === 0) {
      st.hi = hi;
      st.lo = lo;
      return i;
    }
    // hash = hash + GEAR[src[i + 1]]
    k = src[i + 1] << 2;
    g = t[k + 2];
    s = (lo + g) | 0;
    hi = (hi + t[k + 3] + (((lo & g) | ((lo | g) & ~s)) >>> 31)) | 0;
    lo = s;
    if (((hi & mHi) | (lo & mLo)) === 0) {
      st.hi = hi;
      st.lo = lo;
      return i + 1;
    }
    i += 2;
  }
  st.hi = hi;
  st.lo = lo;
  st.at = i;
  return -1;
}

/** Pieces smaller than this are gathered into one before they are scanned. */
const SMALL_PIECE = 16 * 1024;
/** The size of the buffer small pieces are gathered in. */
const GATHER_SIZE = 64 * 1024;

/** Checks a configuration as the crate's constructor does. */
function checkConfig(c: ChunkerConfig): void {
  const ok =
    Number.isInteger(c.minSize) &&
    Number.isInteger(c.avgSize) &&
    Number.isInteger(c.maxSize) &&
    c.minSize >= 64 &&
    c.minSize <= 1_048_576 &&
    c.avgSize >= 256 &&
    c.avgSize <= 4_194_304 &&
    c.maxSize >= 1024 &&
    c.maxSize <= 16_777_216 &&
    c.minSize % 2 === 0 &&
    c.avgSize % 2 === 0 &&
    c.maxSize % 2 === 0 &&
    Number.isInteger(c.normalization) &&
    c.normalization >= 0 &&
    c.normalization <= 3;
  if (!ok) throw new RangeError("chunker sizes out of FastCDC's ranges, or odd");
}

/**
 * A streaming FastCDC chunker. Give it the stream's bytes in pieces of any size with
 * `push`, then call `finish`; each returns the chunks completed so far, in order.
 *
 * Memory: it keeps only the pieces that hold the chunk being cut (at most `maxSize`
 * bytes) plus the piece just pushed. Chunks refer to the pieces' bytes where they can,
 * so a piece must not be changed after it was pushed.
 */
export class StreamChunker {
  private readonly min: number;
  private readonly avg: number;
  private readonly max: number;
  // Masks as [hi, lo] halves: small (below avg), large (from avg on), each plain and
  // shifted left by one.
  private readonly sHi: number;
  private readonly sLo: number;
  private readonly sLsHi: number;
  private readonly sLsLo: number;
  private readonly lHi: number;
  private readonly lLo: number;
  private readonly lLsHi: number;
  private readonly lLsLo: number;

  /** Live pieces; `pieces[head]` starts at `starts[head]` in the stream. */
  private pieces: Uint8Array[] = [];
  private starts: number[] = [];
  private head = 0;
  /** The piece the scan is in (an index into `pieces`, at least `head`). */
  private cursor = 0;
  /** Bytes pushed so far (the stream position after the last live piece). */
  private received = 0;
  /** Small pieces gathered but not yet scanned. */
  private gather: Uint8Array | null = null;
  private gathered = 0;

  /** Where the chunk being cut starts. */
  private chunkStart = 0;
  /** The stream position of the next pair's first byte. */
  private scanPos: number;
  private readonly st: ScanState = { hi: 0, lo: 0, at: 0 };
  /** Scratch for a pair whose bytes are in two pieces. */
  private readonly pair = new Uint8Array(2);
  private done = false;

  constructor(config: ChunkerConfig = COFFER_CHUNKING) {
    checkConfig(config);
    this.min = config.minSize;
    this.avg = config.avgSize;
    this.max = config.maxSize;
    // select_masks: the rounded log2 of the average picks the pair of masks.
    const bits = Math.round(Math.log2(config.avgSize));
    [this.sHi, this.sLo] = halves(MASKS_HEX[bits + config.normalization]);
    [this.lHi, this.lLo] = halves(MASKS_HEX[bits - config.normalization]);
    this.sLsHi = (this.sHi << 1) | (this.sLo >>> 31);
    this.sLsLo = this.sLo << 1;
    this.lLsHi = (this.lHi << 1) | (this.lLo >>> 31);
    this.lLsLo = this.lLo << 1;
    this.scanPos = this.min;
  }

  /** Bytes pushed so far. */
  get position(): number {
    return this.received + this.gathered;
  }

  /** Adds the stream's next bytes; returns the chunks they completed. */
  push(piece: Uint8Array): Chunk[] {
    if (this.done) throw new Error("push after finish");
    if (piece.length === 0) return [];
    if (piece.length < SMALL_PIECE) {
      // Tiny pieces (a byte at a time, in the worst case) are copied together so the
      // list of live pieces stays short.
      let from = 0;
      while (from < piece.length) {
        if (this.gather === null) this.gather = new Uint8Array(GATHER_SIZE);
        const n = Math.min(piece.length - from, GATHER_SIZE - this.gathered);
        this.gather.set(piece.subarray(from, from + n), this.gathered);
        this.gathered += n;
        from += n;
        if (this.gathered === GATHER_SIZE) this.flushGather();
      }
      return this.cut(false);
    }
    this.flushGather();
    this.addPiece(piece);
    return this.cut(false);
  }

  /** Ends the stream; returns the last chunks. */
  finish(): Chunk[] {
    if (this.done) return [];
    this.flushGather();
    this.done = true;
    const out = this.cut(true);
    this.pieces = [];
    this.starts = [];
    this.head = this.cursor = 0;
    return out;
  }

  private flushGather(): void {
    if (this.gathered === 0 || this.gather === null) return;
    // The gathered bytes become a piece of their own; chunks may refer to them, so the
    // buffer is never reused.
    this.addPiece(this.gather.subarray(0, this.gathered));
    this.gather = null;
    this.gathered = 0;
  }

  private addPiece(piece: Uint8Array): void {
    this.pieces.push(piece);
    this.starts.push(this.received);
    this.received += piece.length;
  }

  /** Cuts every chunk the bytes received so far decide. */
  private cut(eof: boolean): Chunk[] {
    const out: Chunk[] = [];
    for (;;) {
      const windowEnd = this.chunkStart + this.max;
      const limit = Math.min(this.received, windowEnd);
      const at = this.scan(limit);
      if (at >= 0) {
        out.push(this.take(at));
      } else if (limit === windowEnd) {
        // Every pair of a full window was tested: cut at max_size.
        out.push(this.take(windowEnd));
      } else if (eof && this.received > this.chunkStart) {
        // The stream ended inside the window: the rest is the last chunk.
        out.push(this.take(this.received));
      } else {
        return out;
      }
    }
  }

  /**
   * Tests every complete pair from `scanPos` that lies before `limit`. Returns the
   * stream position of a cut, or -1 once no complete pair is left.
   */
  private scan(limit: number): number {
    const st = this.st;
    const avgEnd = this.chunkStart + this.avg;
    let p = this.scanPos;
    while (p + 1 < limit) {
      while (this.starts[this.cursor] + this.pieces[this.cursor].length <= p) this.cursor++;
      const src = this.pieces[this.cursor];
      const base = this.starts[this.cursor];
      const small = p < avgEnd;
      // A run ends at the piece's end, at `limit`, or where the masks change. Positions
      // relative to the chunk are even here and so are avg and max, so no pair
      // straddles the mask change or the window's end.
      const runEnd = Math.min(base + src.length, limit, small ? avgEnd : limit);
      let hit: number;
      if (small) {
        hit = scanRun(src, p - base, runEnd - base, st, this.sHi, this.sLo, this.sLsHi, this.sLsLo);
      } else {
        hit = scanRun(src, p - base, runEnd - base, st, this.lHi, this.lLo, this.lLsHi, this.lLsLo);
      }
      if (hit >= 0) return base + hit;
      p = base + st.at;
      if (p + 1 === base + src.length && p + 1 < limit) {
        // The pair straddles two pieces: its second byte opens the next one.
        const hit2 = this.straddle(src[p - base], this.pieces[this.cursor + 1][0], p < avgEnd);
        if (hit2 >= 0) return p + hit2;
        p += 2;
      }
    }
    this.scanPos = p;
    return -1;
  }

  /** One pair whose bytes are in different pieces; returns 0 or 1 for a cut, else -1. */
  private straddle(first: number, second: number, small: boolean): number {
    const pair = this.pair;
    pair[0] = first;
    pair[1] = second;
    const st = this.st;
    return small
      ? scanRun(pair, 0, 2, st, this.sHi, this.sLo, this.sLsHi, this.sLsLo)
      : scanRun(pair, 0, 2, st, this.lHi, this.lLo, this.lLsHi, this.lLsLo);
  }

  /** Emits the chunk from `chunkStart` to `end` and starts the next window there. */
  private take(end: number): Chunk {
    const offset = this.chunkStart;
    const length = end - offset;
    let data: Uint8Array;
    let i = this.head;
    const first = this.pieces[i];
    const firstStart = this.starts[i];
    if (firstStart + first.length >= end) {
      data = first.subarray(offset - firstStart, end - firstStart);
    } else {
      data = new Uint8Array(length);
      let at = 0;
      while (at < length) {
        const piece = this.pieces[i];
        const from = offset + at - this.starts[i];
        const n = Math.min(piece.length - from, length - at);
        data.set(piece.subarray(from, from + n), at);
        at += n;
        i++;
      }
    }
    // Drop the pieces wholly before the new window.
    while (this.head < this.pieces.length && this.starts[this.head] + this.pieces[this.head].length <= end) {
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    this.cursor = this.head;
    this.chunkStart = end;
    this.scanPos = end + this.min;
    this.st.hi = 0;
    this.st.lo = 0;
    return { offset, length, data };
  }
}

/** Chunks a whole buffer (the crate's `FastCDC` over a slice). */
export function chunkBuffer(data: Uint8Array, config: ChunkerConfig = COFFER_CHUNKING): Chunk[] {
  const c = new StreamChunker(config);
  return [...c.push(data), ...c.finish()];
}

/**
 * Chunks a byte stream (such as `Blob.stream()`) lazily: at most about one maximum
 * chunk plus one piece of the stream is held at a time.
 */
export async function* chunkStream(
  stream: ReadableStream<Uint8Array>,
  config: ChunkerConfig = COFFER_CHUNKING,
): AsyncGenerator<Chunk, void, undefined> {
  const chunker = new StreamChunker(config);
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* chunker.push(value);
    }
    yield* chunker.finish();
  } finally {
    reader.releaseLock();
  }
}
