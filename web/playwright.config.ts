import { defineConfig } from "@playwright/test";

// End-to-end tests of the web app in real headless Chromium (Debian's, not a downloaded
// build) against a real Coffer server on an ephemeral port (see e2e/harness.ts), and the
// browser chunker's checks in Node. `scripts/web-e2e.sh` runs them with COFFER_BIN set.
export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  // Two cores: one browser at a time keeps the timings of the machine out of the tests.
  workers: 1,
  fullyParallel: false,
  // A test that fails once is run again (its serial group with a new server) and reported
  // as flaky: a browser's first navigation has been seen to fail on a new machine.
  retries: 1,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    // Screenshots of every test, kept in test-results/ as artifacts.
    screenshot: "on",
    trace: "retain-on-failure",
    acceptDownloads: true,
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
