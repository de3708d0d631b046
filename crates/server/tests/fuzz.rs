//! A randomized request generator over every operation of the served OpenAPI document
//! (so it grows with the door list): random methods' worth of paths, path parameters,
//! queries, headers and bodies, with and without credentials, against a real server on
//! loopback. Every request must get an answer, and no answer may be a 5xx; another
//! user's file must come out of it intact.
//!
//! `COFFER_FUZZ_REQUESTS` (default 3000) and `COFFER_FUZZ_SEED` (default: from the
//! clock, printed) choose how much and which; a failure prints the seed to replay.

use coffer_core::ChunkHash;
use coffer_core::testing::{Rng, pseudo_random};
use coffer_core::wire::chunk_frames;
use coffer_service::{Service, ServiceConfig, StorageConfig};
use reqwest::{Client, Method};
use serde_json::{Value, json};

async fn start() -> (String, Service, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}", dir.path().join("meta.db").display()),
        chunk_dir: dir.path().join("chunks"),
    };
    let service = Service::open(&storage, ServiceConfig::default()).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let day = std::time::Duration::from_secs(86_400);
    let http = coffer_server::HttpConfig::default();
    tokio::spawn(coffer_server::serve(service.clone(), listener, http, day, std::future::pending()));
    (base, service, dir)
}

async fn login(http: &Client, base: &str, service: &Service, name: &str) -> String {
    service.admin_service().create_user(name, "a long password", false, None).await.expect("user");
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"user": name, "password": "a long password", "device": "fuzz"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// Values that tend to find edges: valid-looking and hostile strings alike.
fn a_string(rng: &mut Rng, known: &[String]) -> String {
    let hex64 = hex(&ChunkHash::of(&rng.next_u64().to_le_bytes()).0);
    let pool: Vec<String> = vec![
        "/".into(),
        "".into(),
        "/a".into(),
        "/a/b/c.txt".into(),
        "/../etc/passwd".into(),
        "/a/./b".into(),
        "//double".into(),
        "/é/ü".into(),
        "/CON".into(),
        " ".into(),
        "/x\u{0}y".into(),
        "/with\nnewline".into(),
        format!("/{}", "n".repeat(300)),
        format!("/{}", vec!["d"; 3000].join("/")),
        "a".repeat(5000),
        hex64,
        "zz".repeat(32),
        "-1".into(),
        "0".into(),
        "9223372036854775807".into(),
        "99999999999999999999999".into(),
        "%ff".into(),
        "null".into(),
        "🙂".into(),
        "bob".into(),
        "alice".into(),
        "editor".into(),
        "viewer".into(),
        "owner".into(),
    ];
    if !known.is_empty() && rng.below(3) == 0 {
        return rng.pick(known).unwrap_or_default();
    }
    rng.pick(&pool).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn a_value(rng: &mut Rng, known: &[String], depth: u32) -> Value {
    match rng.below(if depth > 2 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next_u64() as i64 % 1000),
        3 => json!(-(rng.below(5) as i64)),
        4 | 5 => json!(a_string(rng, known)),
        6 => Value::Array((0..rng.below(4)).map(|_| a_value(rng, known, depth + 1)).collect()),
        7 => a_chunk_list(rng),
        _ => an_object(rng, known, depth + 1),
    }
}

fn a_chunk_list(rng: &mut Rng) -> Value {
    let n = rng.below(4);
    Value::Array(
        (0..n)
            .map(|_| {
                let size = rng.pick(&[0u64, 1, 10, 65_536, 4 << 20, (4 << 20) + 1, u32::MAX as u64]).unwrap_or(1);
                json!({"hash": hex(&ChunkHash::of(&rng.next_u64().to_le_bytes()).0), "size": size})
            })
            .collect(),
    )
}

/// Field names of every request type of the API, and some that are not.
const FIELDS: &[&str] = &[
    "path",
    "from",
    "to",
    "id",
    "rev",
    "parents",
    "name",
    "user",
    "password",
    "device",
    "token",
    "chunks",
    "files",
    "upload_id",
    "close_upload",
    "parent_rev",
    "mtime",
    "all",
    "cursor",
    "limit",
    "role",
    "with_me",
    "expires_at",
    "max_downloads",
    "allow_download",
    "body",
    "at",
    "dry_run",
    "code",
    "current",
    "new",
    "read_only",
    "bogus",
];

fn an_object(rng: &mut Rng, known: &[String], depth: u32) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.below(6) {
        let field = rng.pick(FIELDS).unwrap_or("path");
        let value = match field {
            "files" if depth < 3 => Value::Array(
                (0..rng.below(3))
                    .map(|_| {
                        json!({"path": a_string(rng, known), "chunks": a_chunk_list(rng),
                               "parent_rev": a_value(rng, known, 3)})
                    })
                    .collect(),
            ),
            "chunks" => a_chunk_list(rng),
            _ => a_value(rng, known, depth + 1),
        };
        map.insert(field.into(), value);
    }
    Value::Object(map)
}

fn a_query(rng: &mut Rng, known: &[String]) -> String {
    let names = [
        "path",
        "after",
        "limit",
        "rev",
        "cursor",
        "timeout_secs",
        "with_me",
        "key",
        "since",
        "kind",
        "user",
        "before",
        "x",
    ];
    let mut parts = Vec::new();
    for _ in 0..rng.below(4) {
        let name = rng.pick(&names).unwrap_or("path");
        let value = match name {
            // Long polls answer at their timeout: keep them short.
            "timeout_secs" => rng.pick(&["0", "1", "-1", "x"]).unwrap_or("0").to_owned(),
            _ => a_string(rng, known),
        };
        let encoded = if rng.below(6) == 0 {
            value // raw, maybe with stray % and spaces
        } else {
            value.bytes().map(|b| format!("%{b:02X}")).collect()
        };
        parts.push(format!("{name}={encoded}"));
    }
    parts.join("&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_requests_over_every_documented_operation_never_get_a_5xx() {
    let requests: usize = std::env::var("COFFER_FUZZ_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let seed: u64 = std::env::var("COFFER_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    eprintln!("fuzz seed {seed} ({requests} requests); replay with COFFER_FUZZ_SEED={seed}");
    let mut rng = Rng::new(seed);
    let (base, service, _dir) = start().await;
    // A fresh connection for each request: a server may close a connection after an
    // answer (a refused body left unread), and a pooled one could be reused in that gap.
    coffer_server::tls::install_default_provider();
    let http = Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let mut alice = login(&http, &base, &service, "alice").await;
    let bob = login(&http, &base, &service, "bob").await;

    // Bob's file, which nothing alice or a stranger sends may touch.
    let bobs = pseudo_random(100_000, seed);
    let hash = ChunkHash::of(&bobs);
    let up: Value = http
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&bob)
        .json(&json!({"chunks": [{"hash": hash, "size": bobs.len()}]}))
        .send()
        .await
        .expect("begin")
        .json()
        .await
        .expect("json");
    let upload_id = up["upload_id"].as_str().expect("upload id").to_owned();
    let mut frames = Vec::new();
    chunk_frames::push(&mut frames, &hash, &bobs);
    let sent = http
        .post(format!("{base}/api/v1/uploads/{upload_id}/chunks"))
        .bearer_auth(&bob)
        .body(frames)
        .send()
        .await
        .expect("chunks");
    assert!(sent.status().is_success());
    let committed: Value = http
        .post(format!("{base}/api/v1/commit"))
        .bearer_auth(&bob)
        .json(&json!({"upload_id": upload_id, "close_upload": true,
                      "files": [{"path": "/bob.bin", "chunks": [{"hash": hash, "size": bobs.len()}]}]}))
        .send()
        .await
        .expect("commit")
        .json()
        .await
        .expect("json");
    let bob_node = committed["results"][0]["node"].clone();

    let doc: Value =
        http.get(format!("{base}/api/v1/openapi.json")).send().await.expect("doc").json().await.expect("json");
    let mut operations = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for method in ops.as_object().expect("ops").keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    assert!(operations.len() >= 30, "the document lists the operations");
    // Ids and names alice can see, learned as the run goes; some of bob's too.
    let mut known: Vec<String> =
        vec![bob_node["id"].to_string(), bob_node["rev"].to_string(), hex(&hash.0), "/bob.bin".into()];
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..requests {
        let (mut method, mut template) = rng.pick(&operations).expect("an operation");
        // A long poll takes a second at least: pick it less often.
        if template.ends_with("/longpoll") && rng.below(5) != 0 {
            (method, template) = rng.pick(&operations).expect("an operation");
        }
        let method = if rng.below(20) == 0 {
            rng.pick(&["GET", "POST", "PUT", "DELETE", "PATCH", "FROB"]).unwrap_or("GET").to_owned()
        } else {
            method
        };
        let mut path = template.clone();
        for param in ["{id}", "{rev}", "{hash}", "{token}"] {
            if path.contains(param) {
                path = path.replace(param, &a_string(&mut rng, &known).replace(['/', '?', '#'], "_"));
            }
        }
        if rng.below(2) == 0 {
            path = format!("{path}?{}", a_query(&mut rng, &known));
        }
        // A long poll with no timeout waits its default half-minute: keep the run short.
        if template.ends_with("/longpoll") && !path.contains("timeout_secs") {
            path = format!("{path}{}timeout_secs=0", if path.contains('?') { "&" } else { "?" });
        }
        let Ok(m) = Method::from_bytes(method.as_bytes()) else { continue };
        let mut req = http.request(m, format!("{base}{path}"));
        req = match rng.below(6) {
            0 => req,
            1 => req.header("authorization", "Bearer not-a-token"),
            2 => req.header("authorization", format!("bearer {alice}")),
            _ => req.bearer_auth(&alice),
        };
        req = match rng.below(5) {
            0 => req,
            1 => req.header("content-type", "application/json").body(pseudo_random(rng.below(2000), rng.next_u64())),
            2 => {
                let mut frames = Vec::new();
                let data = pseudo_random(rng.below(70_000) + 1, rng.next_u64());
                let h = if rng.below(2) == 0 { ChunkHash::of(&data) } else { hash };
                chunk_frames::push(&mut frames, &h, &data);
                if rng.below(3) == 0 {
                    frames.truncate(rng.below(frames.len()));
                }
                req.header("content-type", "application/octet-stream").body(frames)
            }
            _ => req.json(&an_object(&mut rng, &known, 0)),
        };
        let resp = match req.send().await {
            Ok(resp) => resp,
            // A server may answer before reading a body it refuses, and close the
            // connection (RFC 9112, 9.6): the client then fails writing the rest. That is
            // an answer, as long as the server is still there.
            Err(e) if format!("{e:?}").contains("BodyWrite") => {
                let health = http.get(format!("{base}/healthz")).send().await;
                assert!(health.is_ok_and(|h| h.status().is_success()), "seed {seed}, request {i}: server gone");
                *seen.entry("early answer".into()).or_default() += 1;
                continue;
            }
            Err(e) => panic!("seed {seed}, request {i}: {method} {path}: no answer: {e:?}"),
        };
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            !status.is_server_error(),
            "seed {seed}, request {i}: {method} {path} answered {status}: {}",
            text.chars().take(500).collect::<String>()
        );
        *seen.entry(format!("{}", status.as_u16())).or_default() += 1;
        // Alice signed herself out (or revoked this device): sign in again, so the run
        // keeps reaching past authentication.
        if status.as_u16() == 204 && (path.starts_with("/api/v1/auth/logout") || path.starts_with("/api/v1/devices/")) {
            alice = service.login("alice", "a long password", "fuzz", None).await.expect("sign in again").token;
        }
        // Learn ids and paths from answers, so later requests reach real items.
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            for key in ["id", "rev", "upload_id", "path", "cursor"] {
                if let Some(x) = v.get(key) {
                    let s = x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string());
                    if known.len() < 200 {
                        known.push(s);
                    }
                }
            }
        }
    }
    eprintln!("statuses: {seen:?}");
    // Bob's file is untouched by all of it.
    let got = http
        .get(format!("{base}/api/v1/fs/content?path=/bob.bin"))
        .bearer_auth(&bob)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.as_ref(), bobs.as_slice(), "seed {seed}: bob's file changed");
}
