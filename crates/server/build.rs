//! Builds the web app (`web/` at the workspace root) with npm and Vite into `OUT_DIR`,
//! and writes the table of assets the server embeds (`web_assets.rs`).
//!
//! Cargo reruns this whenever a file of the web app changes, so the embedded app is never
//! stale. `npm ci` runs only when `web/node_modules` is missing or older than
//! `package-lock.json`. Without npm on the machine the server still builds, with a page
//! that says how to get the web app; `COFFER_WEB_DIST=DIR` embeds an already built app.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const WATCHED: &[&str] =
    &["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for w in WATCHED {
        println!("cargo:rerun-if-changed={}", web.join(w).display());
    }
    println!("cargo:rerun-if-env-changed=COFFER_WEB_DIST");

    let dist = match env::var_os("COFFER_WEB_DIST") {
        Some(d) => PathBuf::from(d),
        None => build_web(&web, &out),
    };
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
    } else {
        let page = out.join("web-placeholder");
        fs::create_dir_all(&page).expect("create placeholder dir");
        fs::write(page.join("index.html"), PLACEHOLDER).expect("write placeholder");
        collect(&page, &page, &mut files);
    }
    files.sort();

    let mut table = String::from("pub(crate) static ASSETS: &[Asset] = &[\n");
    for (route, file) in &files {
        let bytes = fs::read(file).expect("read asset");
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        table.push_str(&format!(
            "    Asset {{ path: {route:?}, body: include_bytes!({file:?}), content_type: {ct:?}, etag: \"\\\"{etag:016x}\\\"\" }},\n",
            file = file.display().to_string(),
            ct = content_type(route),
            etag = h.finish(),
        ));
    }
    table.push_str("];\n");
    fs::write(out.join("web_assets.rs"), table).expect("write web_assets.rs");
}

/// Runs npm and Vite; returns the directory of the built app (empty when npm is missing).
fn build_web(web: &Path, out: &Path) -> PathBuf {
    let dist = out.join("web-dist");
    if Command::new("npm").arg("--version").output().is_err() {
        println!(
            "cargo:warning=npm not found: the server embeds a placeholder instead of the web app (install Node.js 20+)"
        );
        return dist;
    }
    // Two builds at once (say, `cargo clippy` and `cargo build` with different target
    // dirs) share web/node_modules: one installs while the other waits.
    let lock = fs::File::create(web.join(".build.lock")).expect("create web/.build.lock");
    lock.lock().expect("lock web/.build.lock");
    let installed = web.join("node_modules/.package-lock.json");
    let stale = match (fs::metadata(&installed), fs::metadata(web.join("package-lock.json"))) {
        (Ok(i), Ok(l)) => i.modified().ok() < l.modified().ok(),
        _ => true,
    };
    if stale {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(web), "npm ci");
    }
    run(
        Command::new(web.join("node_modules/.bin/vite"))
            .args(["build", "--logLevel", "warn", "--emptyOutDir", "--outDir"])
            .arg(&dist)
            .current_dir(web),
        "vite build",
    );
    dist
}

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    assert!(status.success(), "{what} failed ({status}); see its output above");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).expect("read asset dir") {
        let path = entry.expect("asset dir entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).expect("below root").to_string_lossy().replace('\\', "/");
            files.push((format!("/{rel}"), path.canonicalize().expect("canonical asset path")));
        }
    }
}

fn content_type(route: &str) -> &'static str {
    match route.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Coffer</title></head>\
<body><h1>Coffer</h1><p>This server was built without its web app, because npm was not found when it was \
compiled. Install Node.js 20 or newer and build again (<code>cargo build --release</code>); the REST API, \
the CLI and sync work meanwhile.</p></body></html>\n";
