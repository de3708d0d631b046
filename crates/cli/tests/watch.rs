//! The client's change watcher against the real server: it wakes on the account's
//! changes, sleeps through other accounts', and reconnects after the server is killed
//! and restarted, learning of what changed meanwhile.

mod common;

use std::time::{Duration, Instant};

use coffer_client::Client;
use coffer_core::Cursor;
use common::{PASSWORD, Server};

async fn signed_in(server: &Server, user: &str) -> Client {
    let login =
        Client::new(&server.url, None).expect("client").login(user, PASSWORD, "watcher", None).await.expect("login");
    Client::new(&server.url, Some(login.token)).expect("client")
}

async fn cursor_of(client: &Client) -> Cursor {
    Cursor::parse(&client.latest_cursor().await.expect("cursor")).expect("valid cursor")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watcher_wakes_on_changes_and_survives_a_server_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    server.add_user("bob", &[]);
    let alice = signed_in(&server, "alice").await;
    let bob = signed_in(&server, "bob").await;

    let mut watcher = alice.watcher();
    let cursor = cursor_of(&alice).await;
    assert!(!watcher.wait(&cursor, Duration::from_millis(300)).await.expect("quiet"));
    assert!(watcher.is_connected());
    bob.mkdir("/not-alices", false).await.expect("bob's change");
    assert!(!watcher.wait(&cursor, Duration::from_millis(300)).await.expect("still quiet"));

    let started = Instant::now();
    let writer = alice.clone();
    let change = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer.mkdir("/a", false).await.expect("alice's change");
    });
    assert!(watcher.wait(&cursor, Duration::from_secs(10)).await.expect("woke"));
    assert!(started.elapsed() < Duration::from_secs(5), "woken by the push, not by the timeout");
    change.await.expect("join");

    // Killed and restarted: the watcher reconnects and sees the change made since.
    let cursor = cursor_of(&alice).await;
    tokio::task::block_in_place(|| server.restart());
    alice.mkdir("/after-restart", false).await.expect("change after restart");
    assert!(watcher.wait(&cursor, Duration::from_secs(20)).await.expect("caught up"));
}
