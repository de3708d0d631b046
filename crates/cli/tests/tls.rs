//! TLS end to end with the real binary: the CLI refuses a certificate it cannot verify
//! and plain HTTP to another machine, trusts a CA given with `--ca-file`, and uploads,
//! downloads and syncs over HTTPS; the server sends HSTS and takes a renewed
//! certificate without a restart.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Client, PASSWORD, Server};

fn login(c: &Client, url: &str, extra: &[&str]) -> common::Output {
    let mut args = vec!["login", url, "--user", "alice"];
    args.extend_from_slice(extra);
    c.run_stdin(&args, &format!("{PASSWORD}\n"))
}

/// A self-signed certificate and key for 127.0.0.1, made with openssl.
fn make_cert(dir: &Path, name: &str) -> (String, String) {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", &format!("/CN={name}"), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert.to_str().expect("path").to_owned(), key.to_str().expect("path").to_owned())
}

#[test]
fn the_cli_and_a_sync_client_work_over_https_and_refuse_what_they_cannot_trust() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start_with(&data, None, &["--tls-self-signed"]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    server.add_user("alice", &[]);
    let pem = data.join("tls-self-signed.pem");
    let pem = pem.to_str().expect("path");

    // Not trusted: refused, and no password is sent.
    let stranger = Client { config: tempfile::tempdir().expect("tempdir") };
    let refused = login(&stranger, &server.url, &[]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.to_lowercase().contains("certificate"), "{}", refused.stderr);

    // Plain HTTP to another machine is refused before anything is sent.
    let plain = login(&stranger, "http://192.0.2.1:8080", &[]);
    assert_eq!(plain.code, 2, "{}", plain.stderr);
    assert!(plain.stderr.contains("plain HTTP"), "{}", plain.stderr);
    let allowed = login(&stranger, "http://192.0.2.1:1", &["--allow-http"]);
    assert!(!allowed.stderr.contains("plain HTTP"), "{}", allowed.stderr);

    // Trusted with --ca-file (kept in the profile for later commands).
    let alice = Client { config: tempfile::tempdir().expect("tempdir") };
    let ok = login(&alice, &server.url, &["--ca-file", pem]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src");
    let big = common::random_bytes(6 << 20, 3);
    std::fs::write(src.join("big.bin"), &big).expect("write");
    std::fs::write(src.join("small.txt"), b"over TLS").expect("write");
    alice.ok(&["put", src.to_str().expect("path"), "/"]);
    let back = dir.path().join("back");
    alice.ok(&["get", "/src", back.to_str().expect("path")]);
    assert_eq!(std::fs::read(back.join("big.bin")).expect("read"), big);

    // A sync client over HTTPS.
    let synced = dir.path().join("synced");
    std::fs::create_dir_all(&synced).expect("synced");
    std::fs::write(synced.join("from-sync.txt"), b"synced over TLS").expect("write");
    common::settle(&synced);
    alice.ok(&["sync", synced.to_str().expect("path"), "--once"]);
    assert_eq!(std::fs::read(synced.join("src").join("small.txt")).expect("downloaded"), b"over TLS");
    let stat = alice.ok(&["stat", "/from-sync.txt"]).stdout;
    assert!(stat.contains("from-sync.txt"), "{stat}");

    // HSTS on every answer.
    let head = Command::new("curl")
        .args(["-sS", "-D", "-", "-o", "/dev/null", "--cacert", pem])
        .arg(format!("{}/healthz", server.url))
        .output()
        .expect("curl");
    let headers = String::from_utf8_lossy(&head.stdout).to_lowercase();
    assert!(headers.contains("strict-transport-security: max-age=31536000"), "{headers}");
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = make_cert(dir.path(), "first");
    let (second_cert, second_key) = make_cert(dir.path(), "second");
    let live_cert = dir.path().join("live.pem");
    let live_key = dir.path().join("live.key");
    std::fs::copy(&cert, &live_cert).expect("copy");
    std::fs::copy(&key, &live_key).expect("copy");
    let data = dir.path().join("data");
    let server = Server::start_with(
        &data,
        None,
        &["--tls-cert", live_cert.to_str().expect("path"), "--tls-key", live_key.to_str().expect("path")],
    );
    server.add_user("alice", &[]);
    // The client trusts whatever `trusted.pem` holds.
    let trusted = dir.path().join("trusted.pem");
    std::fs::copy(&cert, &trusted).expect("copy");
    let alice = Client { config: tempfile::tempdir().expect("tempdir") };
    let ok = login(&alice, &server.url, &["--ca-file", trusted.to_str().expect("path")]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    alice.ok(&["whoami"]);

    // Renewal: the files change (the key first, as a renewal may write them); the
    // server serves the new certificate within seconds, no restart.
    std::fs::copy(&second_key, &live_key).expect("copy");
    std::fs::copy(&second_cert, &live_cert).expect("copy");
    std::fs::copy(&second_cert, &trusted).expect("copy");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if alice.run(&["whoami"]).code == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the renewed certificate was not served");
        std::thread::sleep(Duration::from_millis(300));
    }
    // The old certificate is no longer what the server shows.
    std::fs::copy(&cert, &trusted).expect("copy");
    assert_ne!(alice.run(&["whoami"]).code, 0, "the old certificate is gone");
}
