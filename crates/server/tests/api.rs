//! The REST API over real HTTP on loopback, in-process: bad input of every kind gets a
//! 4xx with a stable code (never a 500 or a panic), and one user never reaches another's
//! data.

use coffer_core::ChunkRef;
use coffer_core::wire::{CommitFileRequest, CommitRequest, CommitResponse, UploadResponse, chunk_frames};
use coffer_core::{ChunkHash, ContentHash};
use coffer_service::{Service, ServiceConfig, StorageConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

struct Api {
    base: String,
    http: Client,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn start(database: Option<String>) -> (Api, Service) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = StorageConfig {
            database_url: database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("meta.db").display())),
            chunk_dir: dir.path().join("chunks"),
        };
        let service = Service::open(&storage, ServiceConfig::default()).await.expect("open");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let http = coffer_server::HttpConfig::default();
        let day = std::time::Duration::from_secs(86_400);
        tokio::spawn(coffer_server::serve(service.clone(), listener, http, day, std::future::pending()));
        coffer_server::tls::install_default_provider();
        (Api { base, http: Client::new(), _dir: dir }, service)
    }

    async fn user(&self, service: &Service, name: &str) -> String {
        service.admin_service().create_user(name, "a long password", false, None).await.expect("user");
        let resp = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"user": name, "password": "a long password", "device": "t"})),
            )
            .await;
        assert_eq!(resp.0, StatusCode::OK, "{}", resp.1);
        resp.1["token"].as_str().expect("token").to_owned()
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("send");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Uploads `data` as one file at `path` (one chunk per 1 MiB piece).
    async fn put_file(&self, token: &str, path: &str, data: &[u8], parent_rev: Option<i64>) -> (StatusCode, Value) {
        let chunks: Vec<ChunkRef> =
            data.chunks(1 << 20).map(|c| ChunkRef { hash: ChunkHash::of(c), size: c.len() as u32 }).collect();
        let (s, up) = self.call(Method::POST, "/api/v1/uploads", Some(token), Some(json!({"chunks": chunks}))).await;
        assert_eq!(s, StatusCode::OK, "{up}");
        let up: UploadResponse = serde_json::from_value(up).expect("upload response");
        let mut frames = Vec::new();
        for c in data.chunks(1 << 20) {
            if up.missing.contains(&ChunkHash::of(c)) {
                chunk_frames::push(&mut frames, &ChunkHash::of(c), c);
            }
        }
        if !frames.is_empty() {
            let (s, b) = self
                .raw(
                    Method::POST,
                    &format!("/api/v1/uploads/{}/chunks", up.upload_id),
                    token,
                    frames,
                    "application/octet-stream",
                )
                .await;
            assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
        }
        let req = CommitRequest {
            upload_id: Some(up.upload_id),
            files: vec![CommitFileRequest {
                node_id: None,
                path: path.into(),
                parent_rev,
                mtime: None,
                mode: Default::default(),
                chunks,
            }],
            close_upload: true,
        };
        let (s, body) = self
            .call(Method::POST, "/api/v1/commit", Some(token), Some(serde_json::to_value(req).expect("json")))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let resp: CommitResponse = serde_json::from_value(body.clone()).expect("commit response");
        match &resp.results[0].error {
            None => (StatusCode::OK, serde_json::to_value(&resp.results[0].node).expect("node")),
            Some(e) => (StatusCode::CONFLICT, serde_json::to_value(e).expect("error")),
        }
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().or_else(|| v["code"].as_str()).unwrap_or("<no code>")
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_on_every_database() {
    let mut dbs = vec![None];
    if let Some(pg) = coffer_metastore::testing::fresh_postgres().await {
        dbs.push(Some(pg));
    }
    for db in dbs {
        bad_input(db).await;
    }
}

async fn bad_input(db: Option<String>) {
    let (api, service) = Api::start(db).await;
    let alice = api.user(&service, "alice").await;
    let t = Some(alice.as_str());

    // Traversal and invalid names, plain and percent-encoded.
    for path in ["../etc/passwd", "/a/../../b", "%2e%2e/x", "a/%2E%2E/b", "a//b", "a/./b", "bad%00name", "x%0Ay"] {
        let (s, v) = api.call(Method::GET, &format!("/api/v1/fs/stat?path={path}"), t, None).await;
        assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_name"), "{path}: {v}");
    }
    let long = "x".repeat(300);
    let (s, v) = api.call(Method::POST, "/api/v1/fs/mkdir", t, Some(json!({"path": long}))).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_name"));
    let (s, v) = api.call(Method::POST, "/api/v1/fs/delete", t, Some(json!({"path": "/"}))).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "root_immutable"));

    // Malformed JSON, wrong types, missing fields, bad query and path parameters.
    let (s, v) = api.raw(Method::POST, "/api/v1/fs/mkdir", &alice, b"{not json".to_vec(), "application/json").await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, v) = api.call(Method::POST, "/api/v1/fs/mkdir", t, Some(json!({"path": 5}))).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, v) = api.call(Method::POST, "/api/v1/fs/move", t, Some(json!({"from": "/a"}))).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, v) = api.call(Method::GET, "/api/v1/nodes/notanumber", t, None).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, v) = api.call(Method::GET, "/api/v1/fs/list?path=/&limit=abc", t, None).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, v) = api.call(Method::GET, "/api/v1/chunks/zz", t, None).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_hash"));
    let (s, v) = api.call(Method::GET, "/api/v1/journal/delta?cursor=garbage", t, None).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_cursor"));
    let (s, v) = api.call(Method::GET, "/api/v1/no/such/route", t, None).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));

    // Authentication: missing, malformed, unknown tokens.
    for token in [None, Some("nonsense"), Some("")] {
        let (s, v) = api.call(Method::GET, "/api/v1/auth/whoami", token, None).await;
        assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"), "{token:?}");
    }
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"user": "alice", "password": "wrong password", "device": "x"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"user": "nobody", "password": "wrong password", "device": "x"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));

    // Chunks: a hash mismatch, an oversized chunk, a broken frame body, a bad upload id.
    let data = b"some file content".to_vec();
    let hash = ChunkHash::of(&data);
    let (_, up) = api
        .call(Method::POST, "/api/v1/uploads", t, Some(json!({"chunks": [{"hash": hash, "size": data.len()}]})))
        .await;
    let upload_id = up["upload_id"].as_str().expect("id").to_owned();
    assert_eq!(up["missing"].as_array().expect("missing").len(), 1);
    let wrong = ChunkHash::of(b"something else");
    let (s, v) = api
        .raw(
            Method::PUT,
            &format!("/api/v1/uploads/{upload_id}/chunks/{wrong}"),
            &alice,
            data.clone(),
            "application/octet-stream",
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "chunk_hash_mismatch"));
    let huge = vec![0u8; 4 * 1024 * 1024 + 1];
    let (s, v) = api
        .raw(
            Method::PUT,
            &format!("/api/v1/uploads/{upload_id}/chunks/{}", ChunkHash::of(&huge)),
            &alice,
            huge,
            "application/octet-stream",
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"), "{v}");
    let (s, v) = api
        .raw(
            Method::POST,
            &format!("/api/v1/uploads/{upload_id}/chunks"),
            &alice,
            vec![1, 2, 3],
            "application/octet-stream",
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"));
    let (s, v) = api
        .raw(
            Method::PUT,
            &format!("/api/v1/uploads/../../x/chunks/{hash}"),
            &alice,
            data.clone(),
            "application/octet-stream",
        )
        .await;
    assert!(s.is_client_error(), "{s} {v}");
    let (s, v) = api
        .raw(
            Method::PUT,
            &format!("/api/v1/uploads/{}/chunks/{hash}", "0".repeat(32)),
            &alice,
            data.clone(),
            "application/octet-stream",
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "upload_not_found"));
    let (s, v) = api
        .call(Method::POST, "/api/v1/uploads", t, Some(json!({"chunks": [{"hash": hash, "size": 5_000_000}]})))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));

    // A commit naming a chunk that was never sent.
    let commit =
        json!({"upload_id": upload_id, "files": [{"path": "/f.txt", "chunks": [{"hash": hash, "size": data.len()}]}]});
    let (s, v) = api.call(Method::POST, "/api/v1/commit", t, Some(commit.clone())).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["results"][0]["error"]["code"], "missing_chunks", "{v}");
    assert_eq!(v["results"][0]["error"]["missing"][0], json!(hash));
    let (s, _) = api
        .raw(
            Method::PUT,
            &format!("/api/v1/uploads/{upload_id}/chunks/{hash}"),
            &alice,
            data.clone(),
            "application/octet-stream",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = api.call(Method::POST, "/api/v1/commit", t, Some(commit)).await;
    let rev1 = v["results"][0]["node"]["rev"].as_i64().expect("committed");

    // A chunk size that lies about the stored chunk.
    let lie = json!({"files": [{"path": "/lie.txt", "chunks": [{"hash": hash, "size": 3}]}]});
    let (_, v) = api.call(Method::POST, "/api/v1/commit", t, Some(lie)).await;
    assert_eq!(v["results"][0]["error"]["code"], "bad_request", "{v}");

    // A stale parent revision is a conflict carrying the current revision.
    let (s, v) = api.put_file(&alice, "/f.txt", b"second version", Some(rev1)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rev2 = v["rev"].as_i64().expect("rev2");
    let (s, v) = api.put_file(&alice, "/f.txt", b"edit from an old base", Some(rev1)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert_eq!(v["current"]["rev"].as_i64(), Some(rev2));
    let (s, v) = api.put_file(&alice, "/f.txt", b"a create over an existing file", None).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");

    // Downloads: Range, ETag, an unsatisfiable range.
    let resp = api
        .http
        .get(format!("{}/api/v1/fs/content?path=/f.txt", api.base))
        .bearer_auth(&alice)
        .header("range", "bytes=7-")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    let etag = resp.headers()["etag"].to_str().expect("etag").to_owned();
    assert_eq!(resp.bytes().await.expect("body").as_ref(), b"version");
    let resp = api
        .http
        .get(format!("{}/api/v1/fs/content?path=/f.txt", api.base))
        .bearer_auth(&alice)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let resp = api
        .http
        .get(format!("{}/api/v1/fs/content?path=/f.txt", api.base))
        .bearer_auth(&alice)
        .header("range", "bytes=100-")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let expected: ContentHash = etag.trim_matches('"').parse().expect("etag is a content hash");
    let (_, st) = api.call(Method::GET, "/api/v1/fs/stat?path=/f.txt", t, None).await;
    assert_eq!(st["content_hash"], json!(expected));

    // Another user's ids and paths: 404, and nothing of Alice's leaks.
    let bob = api.user(&service, "bob").await;
    let b = Some(bob.as_str());
    let node_id = st["id"].as_i64().expect("id");
    for path in [
        format!("/api/v1/nodes/{node_id}"),
        format!("/api/v1/revisions/{rev1}/manifest"),
        format!("/api/v1/revisions/{rev1}/content"),
        format!("/api/v1/chunks/{hash}"),
        "/api/v1/fs/stat?path=/f.txt".to_owned(),
    ] {
        let (s, v) = api.call(Method::GET, &path, b, None).await;
        assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"), "{path}: {v}");
        assert!(!v.to_string().contains("f.txt") || path.contains("f.txt"), "leak in {v}");
    }
    // A delete decided on an old revision does not trash a newer edit.
    let (s, v) = api.call(Method::POST, "/api/v1/fs/delete", t, Some(json!({"path": "/f.txt", "if_rev": rev1}))).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "conflict"), "{v}");
    let (s, _) = api.call(Method::POST, "/api/v1/fs/delete", t, Some(json!({"path": "/f.txt", "if_rev": rev2}))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = api.call(Method::POST, "/api/v1/trash/restore", b, Some(json!({"id": node_id}))).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (s, v) = api.call(Method::POST, "/api/v1/trash/purge", b, Some(json!({"id": node_id}))).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    // Dedup privacy: Bob is asked for bytes Alice already stored.
    let (_, up) = api
        .call(Method::POST, "/api/v1/uploads", b, Some(json!({"chunks": [{"hash": hash, "size": data.len()}]})))
        .await;
    assert_eq!(up["missing"], json!([hash]), "the server must not reveal that it holds this chunk");
    // And Bob cannot commit it without sending it.
    let (_, v) = api
        .call(
            Method::POST,
            "/api/v1/commit",
            b,
            Some(json!({"files": [{"path": "/x", "chunks": [{"hash": hash, "size": data.len()}]}]})),
        )
        .await;
    assert_eq!(v["results"][0]["error"]["code"], "missing_chunks");

    // A revoked device's token is refused.
    let (_, devices) = api.call(Method::GET, "/api/v1/devices", b, None).await;
    let dev = devices[0]["id"].as_i64().expect("device");
    let (s, v) = api.call(Method::DELETE, &format!("/api/v1/devices/{dev}"), t, None).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"), "Alice cannot revoke Bob's device");
    let (s, _) = api.call(Method::DELETE, &format!("/api/v1/devices/{dev}"), b, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api.call(Method::GET, "/api/v1/auth/whoami", b, None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}", dir.path().join("m.db").display()),
        chunk_dir: dir.path().join("c"),
    };
    let config =
        ServiceConfig { token_idle_expiry: Some(std::time::Duration::from_millis(1)), ..ServiceConfig::default() };
    let service = Service::open(&storage, config).await.expect("open");
    service.admin_service().create_user("carol", "a long password", false, None).await.expect("user");
    let login = service.login("carol", "a long password", "d", None).await.expect("login");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let err = service.authenticate(&login.token).await.expect_err("expired");
    assert_eq!(err.code, coffer_core::ErrorCode::Unauthorized);
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (api, _service) = Api::start(None).await;
    let (s, doc) = api.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, health) = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((s, health["status"].as_str()), (StatusCode::OK, Some("ok")));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25);
    for (path, ops) in paths {
        for method in ops.as_object().expect("ops").keys() {
            let concrete = path.replace("{id}", "1").replace("{rev}", "1").replace("{hash}", &"a".repeat(64));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let (s, v) = api.call(m, &concrete, None, None).await;
            let unrouted = s == StatusCode::METHOD_NOT_ALLOWED || v.to_string().contains("no such endpoint");
            assert!(!unrouted, "{method} {path} is documented but not routed");
            assert!(s != StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}: 500");
        }
    }
    let (s, metrics) = api.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let text = metrics.as_str().expect("text");
    assert!(text.contains("coffer_http_requests_total"), "{text}");
}

#[tokio::test]
async fn setup_token_creates_the_first_admin_once() {
    let (api, service) = Api::start(None).await;
    let token = service.prepare_setup_token().await.expect("prepare").expect("no users yet");
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v1/setup",
            None,
            Some(json!({"token": "wrong", "name": "root", "password": "a long password"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "setup_unavailable"));
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v1/setup",
            None,
            Some(json!({"token": token, "name": "root", "password": "a long password"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["is_admin"], json!(true));
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v1/setup",
            None,
            Some(json!({"token": token, "name": "again", "password": "a long password"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "setup_unavailable"));
    assert!(service.prepare_setup_token().await.expect("prepare").is_none());
}

#[tokio::test]
async fn protocol_edges_are_json_errors() {
    let (api, service) = Api::start(None).await;
    let token = api.user(&service, "edge").await;
    // A known endpoint with a method it does not take.
    let (s, v) = api.call(Method::PUT, "/api/v1/fs/stat", Some(&token), None).await;
    assert_eq!((s, code(&v)), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"), "{v}");
    // The notify WebSocket asked for without an upgrade.
    let (s, v) = api.call(Method::GET, "/api/v1/notify", Some(&token), None).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"), "{v}");
    // A percent-escape that is not UTF-8 is refused, not turned into U+FFFD.
    let (s, v) = api.call(Method::GET, "/api/v1/fs/stat?path=/%ff", Some(&token), None).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "bad_request"), "{v}");
    let (s, v) = api.call(Method::GET, "/api/v1/fs/stat?path=%2F", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The authorization scheme is case-insensitive.
    let resp = api
        .http
        .get(format!("{}/api/v1/auth/whoami", api.base))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_rate_limited_with_retry_after() {
    let (api, service) = Api::start(None).await;
    service.admin_service().create_user("victim", "a long password", false, None).await.expect("user");
    let mut limited = None;
    for _ in 0..20 {
        let resp = api
            .http
            .post(format!("{}/api/v1/auth/login", api.base))
            .json(&json!({"user": "victim", "password": "wrong password", "device": "d"}))
            .send()
            .await
            .expect("send");
        match resp.status() {
            StatusCode::UNAUTHORIZED => continue,
            StatusCode::TOO_MANY_REQUESTS => {
                let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body: Value = resp.json().await.expect("json");
                limited = Some((retry, body));
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let (retry, body) = limited.expect("wrong passwords were never limited");
    assert_eq!(code(&body), "rate_limited", "{body}");
    let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!(secs >= 1, "{secs}");
    assert_eq!(body["error"]["retry_after_secs"].as_u64(), Some(secs));
    // While the account waits, even the right password is refused without a check.
    let (s, v) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"user": "victim", "password": "a long password", "device": "d"})),
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{v}");
}

#[tokio::test]
async fn a_wrong_setup_token_is_refused_before_any_hashing_and_counts_as_a_failure() {
    let (api, service) = Api::start(None).await;
    service.prepare_setup_token().await.expect("prepare").expect("no users yet");
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let (s, _) = api
            .call(
                Method::POST,
                "/api/v1/setup",
                None,
                Some(json!({"token": "guess", "name": "admin", "password": "a long password"})),
            )
            .await;
        statuses.push(s);
    }
    assert_eq!(statuses[0], StatusCode::FORBIDDEN);
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}
