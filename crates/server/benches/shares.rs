//! A user who is a member of 1,000 shared folders, over real HTTP on loopback: the
//! latency of a `delta` call with nothing new and with one folder changed, of the
//! notify WebSocket's first message (`hello`, the position of every namespace), and of
//! a path resolved through a mount (`stat` of a file in a shared folder), as p50 / p99 /
//! max, on the embedded store and, when `COFFER_TEST_POSTGRES_URL` names a server, on
//! PostgreSQL.
//!
//! `cargo bench -p coffer-server --bench shares`
//! `scripts/with-postgres.sh cargo bench -p coffer-server --bench shares`

use std::time::{Duration, Instant};

use coffer_core::Role;
use coffer_service::{Service, ServiceConfig, StorageConfig};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const FOLDERS: usize = 1000;

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})", ms(at(0.5)), ms(at(0.99)), ms(at(1.0)), samples.len())
}

async fn run(label: &str, database_url: String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig { database_url, chunk_dir: dir.path().join("chunks") };
    let service = Service::open(&storage, ServiceConfig::default()).await.expect("open");
    let admin = service.admin_service();
    admin.create_user("olive", "a long password", false, None).await.expect("owner");
    admin.create_user("bench", "a long password", false, None).await.expect("member");
    let owner = service.login("olive", "a long password", "setup", None).await.expect("login").token;
    let owner = service.authenticate(&owner).await.expect("auth");

    let setup = Instant::now();
    for i in 0..FOLDERS {
        let folder = format!("/S-{i:04}");
        service.mkdir(&owner, &format!("{folder}/inner"), true).await.expect("mkdir");
        service.share_folder(&owner, &folder, "bench", Role::Editor).await.expect("share");
    }
    eprintln!("{label}: {FOLDERS} folders shared in {:.1} s", setup.elapsed().as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let day = Duration::from_secs(86_400);
    tokio::spawn(coffer_server::serve(service.clone(), listener, Default::default(), day, std::future::pending()));
    coffer_server::tls::install_default_provider();
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"user": "bench", "password": "a long password", "device": "bench"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    let get = |path: String, query: Vec<(&'static str, String)>| {
        let (http, token, base) = (http.clone(), token.clone(), base.clone());
        async move {
            let t = Instant::now();
            let r = http.get(format!("{base}{path}")).query(&query).bearer_auth(&token).send().await.expect("send");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let v: Value = r.json().await.expect("json");
            (t.elapsed(), v)
        }
    };
    let (_, latest) = get("/api/v1/journal/latest".into(), vec![]).await;
    let cursor = latest["cursor"].as_str().expect("cursor").to_owned();

    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(get("/api/v1/journal/delta".into(), vec![("cursor", cursor.clone())]).await.0);
    }
    let mut changed = Vec::new();
    let mut at = cursor.clone();
    for i in 0..200 {
        service.mkdir(&owner, &format!("/S-{:04}/new-{i}", (i * 7) % FOLDERS), false).await.expect("change");
        let (t, v) = get("/api/v1/journal/delta".into(), vec![("cursor", at.clone())]).await;
        assert_eq!(v["changes"].as_array().expect("changes").len(), 1);
        at = v["cursor"].as_str().expect("cursor").to_owned();
        changed.push(t);
    }
    let mut resolve = Vec::new();
    for i in 0..500 {
        let path = format!("/S-{:04}/inner", (i * 13) % FOLDERS);
        resolve.push(get("/api/v1/fs/stat".into(), vec![("path", path)]).await.0);
    }
    let mut hello = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let mut req = format!("ws://{addr}/api/v1/notify").into_client_request().expect("request");
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
        let (mut socket, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
        let first = socket.next().await.expect("a message").expect("ok");
        hello.push(t.elapsed());
        let text = first.into_text().expect("text");
        assert!(text.contains("hello"), "{text}");
    }
    println!("{label}: member of {FOLDERS} shared folders");
    println!("{label}:   delta, nothing new:         {}", percentiles(idle));
    println!("{label}:   delta, one folder changed:  {}", percentiles(changed));
    println!("{label}:   stat through a mount:       {}", percentiles(resolve));
    println!("{label}:   notify hello (connect+1st): {}", percentiles(hello));
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    run("sqlite", format!("sqlite://{}", dir.path().join("meta.db").display())).await;
    if let Some(url) = coffer_metastore::testing::fresh_postgres().await {
        run("postgres", url).await;
    }
}
