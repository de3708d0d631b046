// Whole-program benchmarks of the web app in headless Chromium against a real server
// (scripts/web-bench.sh runs them; figures go to docs/BENCHMARKS.md):
// - time to first render of a folder of 100,000 entries, and until its last row is
//   reachable by scrolling;
// - upload of a 1 GiB file through the browser (chunk, hash, send), beside `coffer put`
//   of the same bytes to a fresh account, with the tab's peak memory.
// Each figure is printed as a line starting with "BENCH".

import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { Server, row, signIn } from "../e2e/harness";
import { hashBlob } from "../src/upload/hash-worker";
import { randomFillSync } from "node:crypto";

const ENTRIES = Number(process.env.COFFER_BENCH_ENTRIES ?? 100_000);
const UPLOAD_MIB = Number(process.env.COFFER_BENCH_UPLOAD_MIB ?? 1024);

let server: Server;
test.beforeAll(async () => {
  server = new Server();
  await server.start();
  server.addUser("bench");
  server.addUser("cli");
});
test.afterAll(async () => server.stop());

function report(name: string, value: number, unit: string): void {
  console.log(`BENCH ${name}: ${value.toFixed(unit === "ms" ? 0 : 1)} ${unit}`);
}

/** Resident memory of Chromium's renderer processes together, in MiB. */
function rendererRssMiB(): number {
  const out = execFileSync("ps", ["-eo", "rss=,args="], { encoding: "utf8" });
  return (
    out
      .split("\n")
      .filter((l) => l.includes("--type=renderer"))
      .reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0] || 0), 0) / 1024
  );
}

test(`a folder of ${ENTRIES} entries renders at once and scrolls to its end`, async ({ page }) => {
  test.setTimeout(30 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), "coffer-bench-"));
  const big = join(dir, "Big");
  mkdirSync(big);
  for (let i = 0; i < ENTRIES; i++) closeSync(openSync(join(big, `f${String(i).padStart(6, "0")}.txt`), "w"));
  const t0 = Date.now();
  server.cli("bench").run(["put", big, "/"]);
  report(`coffer put of ${ENTRIES} empty files`, (Date.now() - t0) / 1000, "s");

  await signIn(page, server, "bench");
  const samples: number[] = [];
  for (let run = 0; run < 3; run++) {
    const start = Date.now();
    await page.goto(server.url + "/files/Big");
    await expect(row(page, "f000000.txt")).toBeVisible({ timeout: 60_000 });
    samples.push(Date.now() - start);
  }
  samples.sort((a, b) => a - b);
  report(`first render of a folder of ${ENTRIES} entries (median of 3, navigation to first row)`, samples[1], "ms");
  // The rest of the folder arrives in pages behind the first screen.
  let start = Date.now();
  await expect(page.locator(".loading-note")).toHaveCount(0, { timeout: 120_000 });
  report(`until all ${ENTRIES} entries are loaded (after the first row)`, Date.now() - start, "ms");
  start = Date.now();
  const grid = page.getByRole("grid", { name: "Files" });
  const last = `f${String(ENTRIES - 1).padStart(6, "0")}.txt`;
  await grid.focus();
  await page.keyboard.press("End");
  await expect(row(page, last)).toBeVisible({ timeout: 120_000 });
  report(`until the last of ${ENTRIES} rows is shown (End key)`, Date.now() - start, "ms");
  const inDom = await page.locator('[role="row"]').count();
  report("rows in the DOM at once", inDom, "rows");
  report("renderer RSS with the folder open", rendererRssMiB(), "MiB");
});

test(`a ${UPLOAD_MIB} MiB file uploads through the browser`, async ({ page }) => {
  test.setTimeout(30 * 60_000);
  const dir = mkdtempSync(join(tmpdir(), "coffer-bench-up-"));
  const file = join(dir, "random.bin");
  const fd = openSync(file, "w");
  const piece = Buffer.alloc(8 << 20);
  let x = 0x2545f491;
  for (let i = 0; i < UPLOAD_MIB / 8; i++) {
    for (let j = 0; j < piece.length; j += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      piece.writeInt32LE(x | 0, j);
    }
    writeSync(fd, piece);
  }
  closeSync(fd);

  let t0 = Date.now();
  server.cli("cli").run(["put", file, "/random.bin"]);
  const cliSecs = (Date.now() - t0) / 1000;
  report(`coffer put of ${UPLOAD_MIB} MiB (fresh account)`, UPLOAD_MIB / cliSecs, "MiB/s");

  await signIn(page, server, "bench");
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  let peakHeap = 0;
  let peakRss = 0;
  const sampler = setInterval(async () => {
    try {
      const m = await cdp.send("Performance.getMetrics");
      const heap = m.metrics.find((x) => x.name === "JSHeapUsedSize")?.value ?? 0;
      peakHeap = Math.max(peakHeap, heap / (1 << 20));
      peakRss = Math.max(peakRss, rendererRssMiB());
    } catch {
      // the page may be between states
    }
  }, 250);
  t0 = Date.now();
  await page.locator('input[type="file"]:not([webkitdirectory])').first().setInputFiles(file);
  await expect(page.getByText(/1 file of 1 done/)).toBeVisible({ timeout: 30 * 60_000 });
  const webSecs = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  report(`browser upload of ${UPLOAD_MIB} MiB (chunk, hash, send; the bytes are new to this account)`, UPLOAD_MIB / webSecs, "MiB/s");
  report("tab peak JS heap during the upload", peakHeap, "MiB");
  report("renderer peak RSS during the upload", peakRss, "MiB");
});

test("chunking and BLAKE3 hashing in Node, 256 MiB in 64 KiB pieces", async () => {
  const size = 256 << 20;
  const data = randomFillSync(new Uint8Array(size));
  const stream = (): ReadableStream<Uint8Array> => {
    let at = 0;
    return new ReadableStream({
      pull(ctl) {
        if (at >= size) return ctl.close();
        ctl.enqueue(data.subarray(at, at + 65536));
        at += 65536;
      },
    });
  };
  const blob = { size, stream } as unknown as Blob;
  await hashBlob(blob);
  const t = performance.now();
  await hashBlob(blob);
  report("chunking + BLAKE3 in Node (the code the browser's worker runs)", size / (1 << 20) / ((performance.now() - t) / 1000), "MiB/s");
});
