//! Account security with the real binary and server: two-factor sign-in set up, used and
//! turned off from the CLI, signing out everywhere else and changing the password, app
//! passwords made, used over HTTP Basic and removed, as the README and `--help` describe
//! them.

mod common;

use common::{Client, PASSWORD, Server};

/// The authenticator app: the code for the step holding `at_secs`.
fn app_code(secret: &str, at_secs: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_account_name("alice")
        .build()
        .expect("totp");
    totp.generate(at_secs).to_string()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs()
}

#[test]
fn two_factor_sign_in_from_the_cli() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let alice = Client::login(&server, "alice");

    assert!(alice.ok(&["2fa", "status"]).stdout.contains("off"));
    let setup = alice.ok(&["2fa", "enable", "--json"]).json();
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    assert!(setup["otpauth_uri"].as_str().is_some_and(|u| u.starts_with("otpauth://totp/")));
    let text = alice.ok(&["2fa", "enable"]).stdout;
    assert!(text.contains("coffer 2fa confirm"), "{text}");
    // Enabling again started over with a new secret: only that one counts.
    let secret = {
        let again = alice.ok(&["2fa", "status", "--json"]).json();
        assert_eq!(again["pending"], true);
        let fresh = alice.ok(&["2fa", "enable", "--json"]).json();
        assert_ne!(fresh["secret"].as_str(), Some(secret.as_str()));
        fresh["secret"].as_str().expect("secret").to_owned()
    };
    let wrong = alice.run(&["2fa", "confirm", "000000"]);
    assert_ne!(wrong.code, 0, "a wrong first code does not turn it on");
    let codes = alice.ok(&["2fa", "confirm", &app_code(&secret, now_secs()), "--json"]).json();
    let codes: Vec<String> =
        codes["codes"].as_array().expect("codes").iter().map(|c| c.as_str().expect("code").to_owned()).collect();
    assert_eq!(codes.len(), 10);
    assert!(alice.ok(&["2fa", "status"]).stdout.contains("on (10 recovery code(s) left)"));

    // Signing in now needs a code: refused without one (nothing to ask on a pipe), taken
    // with --code, or typed after the password when asked.
    let laptop = Client { config: tempfile::tempdir().expect("tempdir") };
    let login = |c: &Client, extra: &[&str], stdin: &str| {
        let mut args = vec!["login", server.url.as_str(), "--user", "alice"];
        args.extend_from_slice(extra);
        c.run_stdin(&args, stdin)
    };
    let refused = login(&laptop, &[], &format!("{PASSWORD}\n"));
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    let next = app_code(&secret, now_secs() + 30);
    assert_eq!(login(&laptop, &["--code", &next], &format!("{PASSWORD}\n")).code, 0);
    assert!(laptop.ok(&["whoami"]).stdout.contains("alice"));
    let reused = login(&laptop, &["--code", &next], &format!("{PASSWORD}\n"));
    assert_ne!(reused.code, 0, "a code works once");
    let asked = login(&laptop, &[], &format!("{PASSWORD}\n{}\n", codes[0]));
    assert_eq!(asked.code, 0, "the recovery code typed when asked: {}", asked.stderr);
    assert!(alice.ok(&["2fa", "status"]).stdout.contains("9 recovery code(s) left"));

    // Off again with the password and a code; then a password is enough.
    let off = alice.run_stdin(&["2fa", "disable", "--code", &codes[1]], &format!("{PASSWORD}\n"));
    assert_eq!(off.code, 0, "{}", off.stderr);
    assert_eq!(login(&laptop, &[], &format!("{PASSWORD}\n")).code, 0);
}

#[test]
fn signing_out_elsewhere_and_changing_the_password() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let (laptop, phone, tablet) =
        (Client::login(&server, "alice"), Client::login(&server, "alice"), Client::login(&server, "alice"));
    let listed = laptop.ok(&["sessions", "ls", "--json"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed:#}");

    let out = laptop.ok(&["devices", "revoke", "--others", "--json"]).json();
    assert_eq!(out["revoked"], 2);
    assert_ne!(phone.run(&["whoami"]).code, 0, "the phone is signed out");
    assert_ne!(tablet.run(&["whoami"]).code, 0, "the tablet too");
    laptop.ok(&["whoami"]);

    let again = Client::login(&server, "alice");
    let wrong = laptop.run_stdin(&["password", "change"], "not it\na new long password\n");
    assert_ne!(wrong.code, 0);
    let changed = laptop.run_stdin(&["password", "change", "--json"], &format!("{PASSWORD}\na new long password\n"));
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert_eq!(changed.json()["revoked"], 1);
    assert_ne!(again.run(&["whoami"]).code, 0, "signed out by the new password");
    laptop.ok(&["whoami"]);
    let fresh = Client { config: tempfile::tempdir().expect("tempdir") };
    let login = fresh.run_stdin(&["login", &server.url, "--user", "alice"], "a new long password\n");
    assert_eq!(login.code, 0, "{}", login.stderr);
}

/// `GET url` with the given `Authorization` header: (status, body).
fn get_with(url: &str, authorization: &str) -> (u16, String) {
    coffer_server::tls::install_default_provider();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let resp = reqwest::Client::new().get(url).header("authorization", authorization).send().await.expect("send");
        (resp.status().as_u16(), resp.text().await.unwrap_or_default())
    })
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

#[test]
fn app_passwords_from_the_cli() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let alice = Client::login(&server, "alice");
    alice.ok(&["mkdir", "/Docs"]);

    let text = alice.ok(&["app-password", "create", "phone"]).stdout;
    assert!(text.contains("shown only now"), "{text}");
    let made = alice.ok(&["app-password", "create", "backup", "--read-only", "--json"]).json();
    let password = made["password"].as_str().expect("password").to_owned();
    assert_eq!((made["user"].as_str(), made["read_only"].as_bool()), (Some("alice"), Some(true)));
    let listed = alice.ok(&["app-password", "ls"]).stdout;
    assert!(listed.contains("phone (app password)") && listed.contains("backup (app password, read-only)"), "{listed}");
    assert!(alice.ok(&["sessions", "ls"]).stdout.contains("backup (app password, read-only)"));

    // What a script or WebDAV client sends: HTTP Basic with the app password, or Bearer.
    let stat = format!("{}/api/v1/fs/stat?path=/Docs", server.url);
    assert_eq!(get_with(&stat, &basic("alice", &password)).0, 200);
    assert_eq!(get_with(&stat, &format!("Bearer {password}")).0, 200);
    let (status, body) = get_with(&stat, &basic("alice", PASSWORD));
    assert_eq!(status, 401, "the account's password is not taken over Basic: {body}");
    assert!(body.contains("unauthorized"), "{body}");
    for garbage in ["Basic !!!", "Basic", "Digest x", "Basic Og=="] {
        let (status, body) = get_with(&stat, garbage);
        assert_eq!(status, 401, "{garbage}: {body}");
    }

    // Removed: refused from then on.
    let id = made["id"].as_i64().expect("id").to_string();
    assert!(alice.ok(&["app-password", "rm", &id]).stdout.contains("revoked"));
    assert_eq!(get_with(&stat, &basic("alice", &password)).0, 401);
    let gone = alice.run(&["app-password", "rm", &id]);
    assert_ne!(gone.code, 0, "removing it twice is an error");
    assert!(!alice.ok(&["app-password", "ls"]).stdout.contains("backup"));
}

#[test]
fn the_audit_log_from_the_cli() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    server.add_user("bob", &[]);
    let alice = Client::login(&server, "alice");
    let bob = Client::login(&server, "bob");
    alice.ok(&["mkdir", "/Team"]);
    alice.ok(&["share", "/Team", "--with", "bob", "--role", "editor"]);
    alice.ok(&["link", "create", "/Team"]);
    let stranger = Client { config: tempfile::tempdir().expect("tempdir") };
    let refused = stranger.run_stdin(&["login", server.url.as_str(), "--user", "alice"], "not the password\n");
    assert_ne!(refused.code, 0);

    let text = alice.ok(&["audit", "ls"]).stdout;
    for kind in ["sign_in ", "share_created", "link_created", "sign_in_failed"] {
        assert!(text.contains(kind), "{kind} in:\n{text}");
    }
    assert!(text.contains("/Team: bob as editor"), "{text}");
    let failed = alice.ok(&["audit", "ls", "--kind", "sign_in_failed", "--since", "1 hour ago", "--json"]).json();
    let failed = failed.as_array().expect("events");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["detail"], "wrong user name or password");
    assert_eq!(failed[0]["address"], "127.0.0.1");
    let two = alice.ok(&["audit", "ls", "--limit", "2", "--json"]).json();
    assert_eq!(two.as_array().map(Vec::len), Some(2));
    assert!(alice.ok(&["audit", "ls", "--since", "2099-01-01"]).stdout.contains("no events"));

    // Bob sees his own events only, and not Alice's on asking.
    let his = bob.ok(&["audit", "ls", "--json"]).json();
    assert!(his.as_array().expect("events").iter().all(|e| e["actor"] == "bob"), "{his}");
    let refused = bob.run(&["audit", "ls", "--user", "alice"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("administrator"), "{}", refused.stderr);
    let bad = alice.run(&["audit", "ls", "--kind", "nope"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("unknown kind"), "{}", bad.stderr);
}

#[test]
fn an_administrator_can_require_two_factor_sign_in() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let admin = |args: &[&str]| {
        let out = std::process::Command::new(common::bin())
            .args(["admin", "2fa"])
            .args(args)
            .arg("--data")
            .arg(data.path())
            .output()
            .expect("admin 2fa");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(admin(&["status"]).contains("each user's choice"));
    assert!(admin(&["require"]).contains("required for every account"));

    // Signed in, but held at the door until two-factor sign-in is on.
    let alice = Client::login(&server, "alice");
    let held = alice.run(&["ls", "/"]);
    assert_ne!(held.code, 0);
    assert!(held.stderr.contains("requires two-factor sign-in"), "{}", held.stderr);
    assert!(alice.ok(&["whoami"]).stdout.contains("alice"));
    let setup = alice.ok(&["2fa", "enable", "--json"]).json();
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    alice.ok(&["2fa", "confirm", &app_code(&secret, now_secs())]);
    alice.ok(&["ls", "/"]);

    // Optional again: nothing else changes for those who have it.
    assert!(admin(&["optional"]).contains("each user's choice"));
}
