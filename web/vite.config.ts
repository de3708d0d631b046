import { defineConfig } from "vite";

// The server embeds what this writes (crates/server/build.rs passes --outDir). No inline
// scripts or styles anywhere: the server's Content-Security-Policy forbids them.
export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1500,
  },
  worker: { format: "es" },
  server: {
    proxy: {
      "/api": { target: process.env.COFFER_DEV_SERVER ?? "http://127.0.0.1:8080", ws: true },
      // A browser opening a link gets the app being developed; curl gets the bytes.
      "/s/": {
        target: process.env.COFFER_DEV_SERVER ?? "http://127.0.0.1:8080",
        bypass: (req) => (req.headers.accept?.includes("text/html") ? "/index.html" : undefined),
      },
    },
  },
});
