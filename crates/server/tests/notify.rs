//! The notify WebSocket over real loopback HTTP: a device hears that its namespace
//! advanced, never about another user's, and a revoked device is refused.

use std::time::Duration;

use coffer_core::wire::NotifyMessage;
use coffer_service::{Service, ServiceConfig, StorageConfig};
use futures::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

async fn start() -> (String, Service, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}", dir.path().join("meta.db").display()),
        chunk_dir: dir.path().join("chunks"),
    };
    let service = Service::open(&storage, ServiceConfig::default()).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = coffer_server::app(service.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("ws://{addr}/api/v1/notify"), service, dir)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, token: &str) -> Result<Socket, WsError> {
    let mut req = url.into_client_request()?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

async fn next_message(socket: &mut Socket, wait: Duration) -> Option<NotifyMessage> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).expect("a notify message")),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

#[tokio::test]
async fn devices_hear_their_namespaces_advance_and_nothing_else() {
    let (url, service, _dir) = start().await;
    service.admin_service().create_user("alice", "a long password", false, None).await.expect("alice");
    service.admin_service().create_user("bob", "a long password", false, None).await.expect("bob");
    let alice_token = service.login("alice", "a long password", "laptop", None).await.expect("login").token;
    let alice = service.authenticate(&alice_token).await.expect("auth");
    let bob_token = service.login("bob", "a long password", "phone", None).await.expect("login").token;
    let bob = service.authenticate(&bob_token).await.expect("auth");
    let alice_home = service.stat(&alice, "/").await.expect("root").namespace_id;

    let mut socket = connect(&url, &alice_token).await.expect("connect");
    let hello = next_message(&mut socket, Duration::from_secs(5)).await.expect("hello");
    let NotifyMessage::Hello { namespaces } = hello else { panic!("first message is hello: {hello:?}") };
    assert_eq!(namespaces.iter().map(|p| p.namespace_id).collect::<Vec<_>>(), vec![alice_home]);
    let start = namespaces[0].seq;

    // Bob's change is not Alice's business.
    service.mkdir(&bob, "/bobs", false).await.expect("mkdir");
    assert_eq!(next_message(&mut socket, Duration::from_millis(300)).await, None);

    service.mkdir(&alice, "/a", false).await.expect("mkdir");
    let msg = next_message(&mut socket, Duration::from_secs(5)).await.expect("changed");
    assert_eq!(msg, NotifyMessage::Changed { namespace_id: alice_home, seq: start + 1 });

    // Missing or revoked credentials never get a socket.
    assert!(connect(&url, "not a token").await.is_err());
    service.revoke_device(&bob, bob.device_id().expect("a device")).await.expect("revoke");
    assert!(connect(&url, &bob_token).await.is_err());
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_sockets() {
    let (url, service, _dir) = start().await;
    service.admin_service().create_user("carol", "a long password", false, None).await.expect("carol");
    let token = service.login("carol", "a long password", "laptop", None).await.expect("login").token;
    let per_user = coffer_server::HttpConfig::default().notify_sockets_per_user;
    let mut held = Vec::new();
    for _ in 0..per_user {
        held.push(connect(&url, &token).await.expect("within the cap"));
    }
    match connect(&url, &token).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 429),
        Err(e) => panic!("expected 429, got {e}"),
        Ok(_) => panic!("a socket past the cap was accepted"),
    }
    // Closing one frees its place.
    let mut first = held.remove(0);
    first.close(None).await.expect("close");
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(s) = connect(&url, &token).await {
            again = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a closed socket's place came back");
}

/// Waits for the server to close the socket; `None` if it stays open for `limit`.
async fn closed_within(socket: &mut Socket, limit: Duration) -> Option<Duration> {
    let start = std::time::Instant::now();
    loop {
        match tokio::time::timeout_at(tokio::time::Instant::from_std(start + limit), socket.next()).await {
            Err(_) => return None,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Some(start.elapsed()),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

#[tokio::test]
async fn revoking_a_credential_closes_its_open_socket_at_once() {
    let (url, service, _dir) = start().await;
    service.admin_service().create_user("dora", "a long password", false, None).await.expect("dora");
    let laptop_token = service.login("dora", "a long password", "laptop", None).await.expect("login").token;
    let laptop = service.authenticate(&laptop_token).await.expect("auth");
    let phone_token = service.login("dora", "a long password", "phone", None).await.expect("login").token;
    let app = service.create_app_password(&laptop, "webdav", true).await.expect("app password");

    // A socket per credential; an app password may also connect with HTTP Basic.
    let mut phone = connect(&url, &phone_token).await.expect("phone");
    let mut req = url.as_str().into_client_request().expect("request");
    let basic = base64_basic("dora", &app.password);
    req.headers_mut().insert("authorization", format!("Basic {basic}").parse().expect("header"));
    let mut by_app = tokio_tungstenite::connect_async(req).await.expect("basic").0;
    let mut kept = connect(&url, &laptop_token).await.expect("laptop");
    for s in [&mut phone, &mut by_app, &mut kept] {
        next_message(s, Duration::from_secs(5)).await.expect("hello");
    }

    // The keep-alive check comes every 30 s; a revocation must not wait for it. (The
    // limit here is generous; docs/BENCHMARKS.md has the real delay.)
    let phone_id =
        service.list_devices(&laptop).await.expect("list").iter().find(|d| d.name == "phone").expect("phone").id;
    service.revoke_device(&laptop, coffer_core::DeviceId(phone_id)).await.expect("revoke");
    let delay = closed_within(&mut phone, Duration::from_secs(10)).await.expect("the revoked phone's socket closed");
    eprintln!("a revoked credential's notify socket closed {} µs after the revocation", delay.as_micros());
    service.revoke_app_password(&laptop, coffer_core::DeviceId(app.id)).await.expect("revoke");
    assert!(closed_within(&mut by_app, Duration::from_secs(10)).await.is_some(), "the app password's socket closed");

    // The credential that stays keeps its socket and hears changes.
    assert_eq!(closed_within(&mut kept, Duration::from_millis(300)).await, None);
    service.mkdir(&laptop, "/still", false).await.expect("mkdir");
    assert!(matches!(next_message(&mut kept, Duration::from_secs(5)).await, Some(NotifyMessage::Changed { .. })));
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
