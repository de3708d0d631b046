//! Public links through the `coffer` binary as a user types it: `link create` prints a
//! URL, a visitor with no account runs `coffer get URL` for a folder (unpacked from the
//! server's zip) and for a password-protected file, the download limit and `link rm`
//! end a link with exit code 5; on SQLite and (when the test script provides one)
//! PostgreSQL.

mod common;

use common::{Client, Server};

#[tokio::test(flavor = "multi_thread")]
async fn link_story_on_every_database() {
    common::on_every_database(story).await;
}

fn story(db: Option<String>) {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), db);
    server.add_user("olive", &[]);
    let olive = Client::login(&server, "olive");
    // A visitor: the same binary with no profile at all.
    let visitor = Client { config: tempfile::tempdir().expect("tempdir") };
    assert_eq!(visitor.run(&["ls", "/"]).code, 1, "the visitor is signed in nowhere");

    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("Photos");
    std::fs::create_dir_all(src.join("2026/empty")).expect("mkdir");
    std::fs::write(src.join("2026/beach.jpg"), common::random_bytes(3_000_000, 7)).expect("write");
    std::fs::write(src.join("notes ü.txt"), "sand and sun\n").expect("write");
    olive.ok(&["put", src.to_str().expect("utf8"), "/"]);

    // A folder link: the URL on standard output; the visitor gets the whole folder.
    let url = olive.ok(&["link", "create", "/Photos", "--expires", "7d"]).stdout.trim().to_owned();
    assert!(url.starts_with(&format!("{}/s/", server.url)), "{url}");
    let out = work.path().join("from-link");
    std::fs::create_dir_all(&out).expect("mkdir");
    let got = visitor.run(&["get", &url, out.to_str().expect("utf8")]);
    assert_eq!(got.code, 0, "{}\n{}", got.stdout, got.stderr);
    assert_eq!(std::fs::read(out.join("Photos/2026/beach.jpg")).expect("beach"), common::random_bytes(3_000_000, 7));
    assert_eq!(std::fs::read_to_string(out.join("Photos/notes ü.txt")).expect("notes"), "sand and sun\n");
    assert!(out.join("Photos/2026/empty").is_dir(), "empty folders come too");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "Photos")
        .collect();
    assert!(leftovers.is_empty(), "no temporary archive is left behind: {leftovers:?}");

    // A file link with a password and one download; --json gives the URL too.
    let made = olive.run_stdin(
        &["--json", "link", "create", "/Photos/notes ü.txt", "--password", "--max-downloads", "1"],
        "open sesame\n",
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let made = made.json();
    let file_url = made["url"].as_str().expect("url").to_owned();
    assert_eq!((made["has_password"].as_bool(), made["max_downloads"].as_u64()), (Some(true), Some(1)));
    let wrong = visitor.run_stdin(&["get", &file_url, "-"], "open says me\n");
    assert_eq!(wrong.code, 4, "a wrong password is refused: {}", wrong.stderr);
    let right = visitor.run_stdin(&["get", &file_url, "-"], "open sesame\n");
    assert_eq!((right.code, right.stdout.as_str()), (0, "sand and sun\n"), "{}", right.stderr);
    let spent = visitor.run_stdin(&["--json", "get", &file_url, "-"], "open sesame\n");
    assert_eq!(spent.code, 2, "--json and `-` do not go together");
    let spent = visitor.run_stdin(&["--json", "get", &file_url, out.to_str().expect("utf8")], "open sesame\n");
    assert_eq!(spent.code, 5, "the one download is used: {}", spent.stdout);
    assert_eq!(spent.json()["error"]["code"], "link_exhausted");

    // The owner's list shows both; removing by URL ends the folder link.
    let listed = olive.ok(&["link", "ls", "--json"]).json();
    let states: Vec<&str> = listed.as_array().expect("array").iter().filter_map(|l| l["state"].as_str()).collect();
    assert_eq!(states, ["active", "exhausted"]);
    assert!(olive.ok(&["link", "ls"]).stdout.contains(&url));
    olive.ok(&["link", "rm", &url]);
    let gone = visitor.run(&["get", &url, out.to_str().expect("utf8")]);
    assert_eq!(gone.code, 5, "{}", gone.stderr);
    assert!(gone.stderr.contains("revoked"), "{}", gone.stderr);

    // Usage errors and refusals.
    assert_eq!(olive.run(&["link", "create", "/Photos", "--expires", "soon"]).code, 2);
    assert_eq!(olive.run(&["link", "rm", "https://elsewhere.example/s/nope"]).code, 1);
    assert_eq!(visitor.run(&["get", "http://127.0.0.1:1/nothing-here", "x"]).code, 1);
    server.add_user("nora", &[]);
    let nora = Client::login(&server, "nora");
    assert_eq!(nora.run(&["link", "rm", &made["id"].to_string()]).code, 1, "another user's link is not found");
}
