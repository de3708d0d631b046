import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The web app's benchmarks (bench/*.bench.ts): same browser and server as the tests.
export default defineConfig({
  ...base,
  testDir: "bench",
  testMatch: /.*\.bench\.ts/,
  outputDir: "bench-results",
  // A figure is measured once; a failure is reported, not retried.
  retries: 0,
  use: { ...base.use, screenshot: "off", trace: "off" },
});
