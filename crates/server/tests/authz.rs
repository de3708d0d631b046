//! The authorization matrix: every documented REST operation against a shared folder,
//! called by each kind of principal (owner, editor, commenter, viewer, a user who is
//! not a member, a removed member, an anonymous caller, a revoked device, visitors
//! of public links that work, need a password, expired, were used up or revoked, editors
//! calling with a full and a read-only app password and with a web app session, and a
//! revoked web app session), with
//! the status each must get, all written in one table. An operation in the OpenAPI document
//! without its row fails the test. Foreign ids (another user's upload session, a
//! shared folder's items for a non-member) are "not found", never someone else's data.

use std::collections::{BTreeSet, HashMap};

use coffer_core::wire::chunk_frames;
use coffer_core::{ChunkHash, Role};
use coffer_service::{Service, ServiceConfig, StorageConfig};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// Who calls, in the order of each row's statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Owner,
    Editor,
    Commenter,
    Viewer,
    NonMember,
    Removed,
    Anonymous,
    Revoked,
    /// Visitors of public links (to the shared folder), each sending its link's token as
    /// a bearer token too: a link that works, with no password and with its password's
    /// key; one whose password was guessed wrong; one expired, one used up, one revoked.
    LinkOpen,
    LinkKeyed,
    LinkWrongPassword,
    LinkExpired,
    LinkExhausted,
    LinkRevoked,
    /// Editors of the shared folder calling with an app password (all files; read-only)
    /// and with a web app session (cookie and CSRF header); a revoked web app session.
    AppFull,
    AppReadOnly,
    Session,
    RevokedSession,
}

const WHO: [Who; 18] = [
    Who::Owner,
    Who::Editor,
    Who::Commenter,
    Who::Viewer,
    Who::NonMember,
    Who::Removed,
    Who::Anonymous,
    Who::Revoked,
    Who::LinkOpen,
    Who::LinkKeyed,
    Who::LinkWrongPassword,
    Who::LinkExpired,
    Who::LinkExhausted,
    Who::LinkRevoked,
    Who::AppFull,
    Who::AppReadOnly,
    Who::Session,
    Who::RevokedSession,
];

const LINKS: [Who; 6] =
    [Who::LinkOpen, Who::LinkKeyed, Who::LinkWrongPassword, Who::LinkExpired, Who::LinkExhausted, Who::LinkRevoked];

/// Skip: this principal is not asked (the call would only repeat another's).
const ____: u16 = 0;

/// (method, documented path, expected status for each of [`WHO`]), in the order run.
/// Writes use each principal's own targets, so one cell never spoils another.
#[rustfmt::skip]
const TABLE: &[(&str, &str, [u16; 18])] = &[
    ("get", "/healthz", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("get", "/metrics", [200, ____, ____, ____, ____, ____, 200, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____]),
    ("get", "/api/v1/openapi.json", [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("post", "/api/v1/setup", [____, ____, ____, ____, ____, ____, 403, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____]),
    ("post", "/api/v1/auth/login", [____, ____, ____, ____, ____, ____, 401, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____]),
    ("get", "/api/v1/auth/whoami", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/devices", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/fs/stat", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/nodes/{id}", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/fs/list", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/fs/content", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    // Not an image: every reader learns so, nobody else learns the file is there.
    ("get", "/api/v1/fs/thumbnail", [415, 415, 415, 415, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 415, 415, 415, 401]),
    ("get", "/api/v1/fs/zip", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/setup", [200, ____, ____, ____, ____, ____, 200, ____, 200, ____, ____, ____, ____, ____, ____, ____, ____, ____]),
    ("post", "/api/v1/session", [____, ____, ____, ____, ____, ____, 401, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____, ____]),
    // A browser session is a cookie: bearer tokens (and link tokens) never open it.
    ("get", "/api/v1/session", [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 200, 401]),
    ("delete", "/api/v1/session", [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, ____, 401]),
    ("get", "/api/v1/revisions/{rev}/content", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/revisions/{rev}/manifest", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    // A removed member held the file once: its chunks stay theirs to fetch.
    ("get", "/api/v1/chunks/{hash}", [200, 200, 200, 200, 404, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/versions", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("post", "/api/v1/fs/mkdir", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("post", "/api/v1/fs/move", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("post", "/api/v1/fs/delete", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("post", "/api/v1/fs/restore", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("post", "/api/v1/versions/restore", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("get", "/api/v1/trash", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("post", "/api/v1/trash/restore", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("post", "/api/v1/trash/purge", [200, 200, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    // Another user's upload session is "not found" to everyone but its user.
    ("post", "/api/v1/uploads", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("put", "/api/v1/uploads/{id}/chunks/{hash}", [204, 404, 404, 404, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 404, 403, 404, 401]),
    ("post", "/api/v1/uploads/{id}/chunks", [204, 404, 404, 404, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 404, 403, 404, 401]),
    ("delete", "/api/v1/uploads/{id}", [204, 404, 404, 404, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 404, 404, 404, 401]),
    ("get", "/api/v1/journal/delta", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/journal/latest", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/journal/longpoll", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    // Without a WebSocket upgrade: a clear 400 once signed in.
    ("get", "/api/v1/notify", [400, 400, 400, 400, 400, 400, 401, 401, 401, 401, 401, 401, 401, 401, 400, 400, 400, 401]),
    ("get", "/api/v1/shares", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("post", "/api/v1/shares", [200, 403, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    ("post", "/api/v1/shares/remove", [200, 403, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    // Commenters and up comment; readers read; an author edits their own (the owner's
    // comment here); the owner deletes any, others only their own (eddie's comment here).
    ("post", "/api/v1/comments", [200, 200, 200, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    ("get", "/api/v1/comments", [200, 200, 200, 200, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("put", "/api/v1/comments/{id}", [200, 403, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    ("delete", "/api/v1/comments/{id}", [204, 204, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    // Files shared with single users: the owner shares /Team/solo.txt with zed; only
    // the owner (or zed) ends that share.
    ("post", "/api/v1/file-shares", [200, 403, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    ("get", "/api/v1/file-shares", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("post", "/api/v1/file-shares/remove", [204, 403, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    // Public links: their owner makes and revokes them (another user's link is not
    // found); anyone with a working link sees and downloads through it; the anonymous
    // caller here guesses a token.
    ("post", "/api/v1/links", [200, 403, 403, 403, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    ("get", "/api/v1/links", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("get", "/api/v1/public/{token}", [____, ____, ____, ____, ____, ____, 404, ____, 200, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("post", "/api/v1/public/{token}/unlock", [____, ____, ____, ____, ____, ____, 404, ____, 400, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("get", "/api/v1/public/{token}/stat", [____, ____, ____, ____, ____, ____, 404, ____, 200, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("get", "/api/v1/public/{token}/list", [____, ____, ____, ____, ____, ____, 404, ____, 200, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("get", "/api/v1/public/{token}/content", [____, ____, ____, ____, ____, ____, 404, ____, 200, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("get", "/api/v1/public/{token}/zip", [____, ____, ____, ____, ____, ____, 404, ____, 200, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("get", "/s/{token}", [____, ____, ____, ____, ____, ____, 404, ____, 200, 200, 401, 410, 410, 410, ____, ____, ____, ____]),
    ("delete", "/api/v1/links/{id}", [200, 404, 404, 404, 404, 404, 401, 401, 401, 401, 401, 401, 401, 401, 404, 404, 404, 401]),
    ("delete", "/api/v1/devices/{id}", [204, 204, 204, 204, 204, 204, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 204, 401]),
    // App passwords: each signed-in user lists theirs and makes one; an app password
    // manages none (another app password of its user is theirs to revoke, not its).
    // The owner's own events; only an administrator reads another user's.
    ("get", "/api/v1/audit", [200, 403, 403, 403, 403, 403, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    ("get", "/api/v1/app-passwords", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("post", "/api/v1/app-passwords", [201, 201, 201, 201, 201, 201, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 201, 401]),
    ("delete", "/api/v1/app-passwords/{id}", [204, 204, 204, 204, 204, 204, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 204, 401]),
    // Each user's own account: a setup started, a wrong code and a wrong password refused.
    ("get", "/api/v1/account/2fa", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 200, 200, 401]),
    ("post", "/api/v1/account/2fa/enable", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 200, 401]),
    ("post", "/api/v1/account/2fa/confirm", [400, 400, 400, 400, 400, 400, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 400, 401]),
    ("post", "/api/v1/account/2fa/disable", [403, 403, 403, 403, 403, 403, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    // Per file: a viewer's file into the shared folder is refused; a non-member's path
    // is in their own tree (a folder of their own is made there, so from here on their
    // /Team is their own).
    ("post", "/api/v1/commit", [200, 200, 403, 403, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 200, 403, 200, 401]),
    // Members leave (the owner cannot, nor can anyone leave a folder that is not shared);
    // then everyone signs out.
    ("post", "/api/v1/shares/leave", [400, 204, 204, 204, 400, 400, 401, 401, 401, 401, 401, 401, 401, 401, 204, 403, 204, 401]),
    // A wrong current password changes nothing; each user signs out their other devices
    // (the one asking stays signed in); then everyone signs out.
    ("post", "/api/v1/account/password", [403, 403, 403, 403, 403, 403, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 403, 401]),
    ("post", "/api/v1/devices/revoke-others", [200, 200, 200, 200, 200, 200, 401, 401, 401, 401, 401, 401, 401, 401, 403, 403, 200, 401]),
    ("post", "/api/v1/auth/logout", [204, 204, 204, 204, 204, 204, 401, 401, 401, 401, 401, 401, 401, 401, 204, 204, 204, 401]),
];

struct Fixture {
    base: String,
    http: Client,
    /// Each principal's token (none for the anonymous caller).
    tokens: HashMap<Who, Option<String>>,
    /// A spare device and a spare app password of each principal, which rows revoke.
    spare: HashMap<Who, i64>,
    spare_app: HashMap<Who, i64>,
    file_id: i64,
    file_rev: i64,
    file_hash: ChunkHash,
    /// Per principal: trashed item ids (to restore, to purge) and an old revision.
    trashed: HashMap<Who, (i64, i64)>,
    old_rev: HashMap<Who, i64>,
    owner_upload: String,
    cursor: HashMap<Who, String>,
    /// The owner's comment (to edit), and per principal a comment of the editor's (to delete).
    owner_comment: i64,
    editor_comments: HashMap<Who, i64>,
    /// Each link visitor's token and key; a link for the owner to revoke.
    links: HashMap<Who, (String, String)>,
    spare_link: i64,
    /// A file of the shared folder for file shares.
    solo_id: i64,
}

fn name(who: Who) -> &'static str {
    match who {
        Who::Owner => "olive",
        Who::Editor => "eddie",
        Who::Commenter => "connie",
        Who::Viewer => "vic",
        Who::NonMember => "nora",
        Who::Removed => "rex",
        Who::Anonymous => "anonymous",
        Who::Revoked | Who::RevokedSession => "eddie",
        Who::AppFull => "ada",
        Who::AppReadOnly => "reed",
        Who::Session => "sam",
        Who::LinkOpen
        | Who::LinkKeyed
        | Who::LinkWrongPassword
        | Who::LinkExpired
        | Who::LinkExhausted
        | Who::LinkRevoked => "visitor",
    }
}

async fn put(s: &Service, c: &coffer_service::Caller, path: &str, data: &[u8]) -> coffer_core::wire::NodeInfo {
    put_on(s, c, path, data, None).await
}

async fn put_on(
    s: &Service,
    c: &coffer_service::Caller,
    path: &str,
    data: &[u8],
    parent_rev: Option<i64>,
) -> coffer_core::wire::NodeInfo {
    let hash = ChunkHash::of(data);
    let chunks = vec![coffer_core::ChunkRef { hash, size: data.len() as u32 }];
    let up = s.begin_upload(c, &chunks).await.expect("begin");
    let id = coffer_core::UploadId(up.upload_id);
    if !up.missing.is_empty() {
        s.put_chunks(c, &id, vec![(hash, bytes::Bytes::copy_from_slice(data))]).await.expect("put");
    }
    let parent_rev = parent_rev.map(coffer_core::RevisionId);
    let file = coffer_service::CommitFile {
        node_id: None,
        path: path.into(),
        parent_rev,
        mtime: None,
        mode: Default::default(),
        chunks,
    };
    s.commit(c, Some(&id), vec![file], true).await.expect("commit").remove(0).expect("committed")
}

async fn setup() -> (Fixture, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}", dir.path().join("meta.db").display()),
        chunk_dir: dir.path().join("chunks"),
    };
    let s = Service::open(&storage, ServiceConfig::default()).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let day = std::time::Duration::from_secs(86_400);
    tokio::spawn(coffer_server::serve(s.clone(), listener, Default::default(), day, std::future::pending()));

    let admin = s.admin_service();
    const USERS: [Who; 9] = [
        Who::Owner,
        Who::Editor,
        Who::Commenter,
        Who::Viewer,
        Who::NonMember,
        Who::Removed,
        Who::AppFull,
        Who::AppReadOnly,
        Who::Session,
    ];
    for who in USERS {
        admin.create_user(name(who), "a long password", false, None).await.expect("user");
    }
    let sign_in = |who: Who, device: &'static str| {
        let s = s.clone();
        async move { s.login(name(who), "a long password", device, None).await.expect("login") }
    };
    let mut tokens = HashMap::new();
    let mut spare = HashMap::new();
    let mut spare_app = HashMap::new();
    let mut callers = HashMap::new();
    for who in USERS {
        let login = sign_in(who, "main").await;
        let device = s.authenticate(&login.token).await.expect("auth");
        let token = match who {
            Who::AppFull | Who::AppReadOnly => {
                s.create_app_password(&device, "main", who == Who::AppReadOnly).await.expect("app password").password
            }
            Who::Session => {
                let sign_in = coffer_service::SignIn { name: name(who), password: "a long password", code: None };
                s.start_session(&sign_in, "Firefox", None).await.expect("session").0
            }
            _ => login.token,
        };
        callers.insert(who, s.authenticate(&token).await.expect("auth"));
        tokens.insert(who, Some(token));
        let other = sign_in(who, "spare").await;
        spare.insert(who, other.device_id);
        spare_app.insert(who, s.create_app_password(&device, "spare", false).await.expect("spare").id);
    }
    tokens.insert(Who::Anonymous, None);
    let revoked = sign_in(Who::Revoked, "stolen").await;
    let editor = &callers[&Who::Editor];
    s.revoke_device(editor, coffer_core::DeviceId(revoked.device_id)).await.expect("revoke");
    tokens.insert(Who::Revoked, Some(revoked.token));
    let sign_in = coffer_service::SignIn { name: name(Who::Editor), password: "a long password", code: None };
    let (revoked_session, info) = s.start_session(&sign_in, "Firefox", None).await.expect("session");
    s.revoke_device(editor, coffer_core::DeviceId(info.device_id)).await.expect("revoke");
    tokens.insert(Who::RevokedSession, Some(revoked_session));

    let owner = &callers[&Who::Owner];
    let file = put(&s, owner, "/Team/f.txt", b"the shared file").await;
    let solo_id = put(&s, owner, "/Team/solo.txt", b"shared alone").await.id;
    let mut trashed = HashMap::new();
    let mut old_rev = HashMap::new();
    for who in WHO {
        let n = name(who).to_owned() + &format!("{who:?}");
        for suffix in ["mv", "del"] {
            put(&s, owner, &format!("/Team/{n}-{suffix}.txt"), format!("{n} {suffix}").as_bytes()).await;
        }
        let first = put(&s, owner, &format!("/Team/{n}-ver.txt"), b"first").await;
        put_on(&s, owner, &format!("/Team/{n}-ver.txt"), b"second", first.rev).await;
        old_rev.insert(who, first.rev.expect("rev"));
        let restore = put(&s, owner, &format!("/Team/{n}-restore.txt"), b"r").await;
        let purge = put(&s, owner, &format!("/Team/{n}-purge.txt"), b"p").await;
        s.delete(owner, &format!("/Team/{n}-restore.txt")).await.expect("trash");
        s.delete(owner, &format!("/Team/{n}-purge.txt")).await.expect("trash");
        trashed.insert(who, (restore.id, purge.id));
    }
    for (who, role) in [
        (Who::Editor, Role::Editor),
        (Who::Commenter, Role::Commenter),
        (Who::Viewer, Role::Viewer),
        (Who::AppFull, Role::Editor),
        (Who::AppReadOnly, Role::Editor),
        (Who::Session, Role::Editor),
    ] {
        s.share_folder(owner, "/Team", name(who), role).await.expect("share");
    }
    s.share_folder(owner, "/Team", name(Who::Removed), Role::Editor).await.expect("share");
    s.unshare(owner, "/Team", name(Who::Removed)).await.expect("remove");
    admin.create_user("zed", "a long password", false, None).await.expect("zed");
    let up = s
        .begin_upload(owner, &[coffer_core::ChunkRef { hash: ChunkHash::of(b"pending"), size: 7 }])
        .await
        .expect("begin");
    let owner_comment = s.add_comment(owner, "/Team/f.txt", "the owner's word").await.expect("comment").id;
    let mut editor_comments = HashMap::new();
    for who in WHO {
        let c = s.add_comment(&callers[&Who::Editor], "/Team/f.txt", &format!("for {who:?}")).await.expect("comment");
        editor_comments.insert(who, c.id);
    }
    let mut links = HashMap::new();
    let link =
        |password: Option<&str>, expires_at: Option<i64>, max_downloads: Option<u64>| coffer_core::wire::LinkRequest {
            path: "/Team".into(),
            expires_at,
            password: password.map(str::to_owned),
            max_downloads,
            allow_download: true,
        };
    let now = coffer_metastore::now_ms();
    for who in LINKS {
        let req = match who {
            Who::LinkKeyed | Who::LinkWrongPassword => link(Some("open sesame"), None, None),
            Who::LinkExpired => link(None, Some(now + 1000), None),
            Who::LinkExhausted => link(None, None, Some(1)),
            _ => link(None, None, None),
        };
        let made = s.create_link(owner, &req).await.expect("link");
        let key = match who {
            Who::LinkKeyed => s.unlock_link(&made.token, "open sesame", None).await.expect("unlock").key,
            _ => "not a key".to_owned(),
        };
        match who {
            Who::LinkExhausted => {
                let visitor = s.open_link(&made.token, None).await.expect("open");
                s.link_take_download(&visitor).await.expect("the one download");
            }
            Who::LinkRevoked => {
                s.revoke_link(owner, coffer_core::LinkId(made.id)).await.expect("revoke");
            }
            _ => {}
        }
        links.insert(who, (made.token, key));
    }
    let spare_link = s.create_link(owner, &link(None, None, None)).await.expect("spare link").id;
    // The expired link's second passes.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut cursor = HashMap::new();
    for (who, c) in &callers {
        cursor.insert(*who, s.latest_cursor(c).await.expect("cursor"));
    }
    coffer_server::tls::install_default_provider();
    let mut fixture = Fixture {
        base,
        http: Client::builder().pool_max_idle_per_host(0).build().expect("client"),
        tokens,
        spare,
        spare_app,
        file_id: file.id,
        file_rev: file.rev.expect("rev"),
        file_hash: ChunkHash::of(b"the shared file"),
        trashed,
        old_rev,
        owner_upload: up.upload_id,
        cursor,
        owner_comment,
        editor_comments,
        links,
        spare_link,
        solo_id,
    };
    for who in LINKS {
        let token = fixture.links[&who].0.clone();
        fixture.tokens.insert(who, Some(token));
    }
    (fixture, dir)
}

/// The request a principal sends for one row: (concrete path with query, JSON or raw body).
fn request(f: &Fixture, who: Who, method: &str, template: &str) -> (String, Option<Value>, Option<Vec<u8>>) {
    let n = name(who).to_owned() + &format!("{who:?}");
    let frames = || {
        let mut v = Vec::new();
        chunk_frames::push(&mut v, &ChunkHash::of(b"pending"), b"pending");
        v
    };
    let cursor = f.cursor.get(&who).cloned().unwrap_or_default();
    match (method, template) {
        ("post", "/api/v1/setup") => {
            (template.into(), Some(json!({"token": "wrong", "name": "mallory", "password": "a long password"})), None)
        }
        ("post", "/api/v1/auth/login") => {
            (template.into(), Some(json!({"user": "olive", "password": "not it", "device": "x"})), None)
        }
        ("post", "/api/v1/session") => (template.into(), Some(json!({"user": "olive", "password": "not it"})), None),
        ("post", "/api/v1/account/2fa/confirm") => (template.into(), Some(json!({"code": "000000"})), None),
        ("post", "/api/v1/account/password") => {
            (template.into(), Some(json!({"current": "not it", "new": "another long password"})), None)
        }
        ("post", "/api/v1/account/2fa/disable") => {
            (template.into(), Some(json!({"password": "not it", "code": "000000"})), None)
        }
        ("get", "/api/v1/audit") => (format!("{template}?user=olive"), None, None),
        ("get", "/api/v1/fs/zip") => (format!("{template}?path=/Team"), None, None),
        ("get", "/api/v1/fs/stat")
        | ("get", "/api/v1/fs/content")
        | ("get", "/api/v1/versions")
        | ("get", "/api/v1/fs/thumbnail") => (format!("{template}?path=/Team/f.txt"), None, None),
        ("get", "/api/v1/fs/list") => (format!("{template}?path=/Team"), None, None),
        ("get", "/api/v1/nodes/{id}") => (format!("/api/v1/nodes/{}", f.file_id), None, None),
        ("get", "/api/v1/revisions/{rev}/content") => (format!("/api/v1/revisions/{}/content", f.file_rev), None, None),
        ("get", "/api/v1/revisions/{rev}/manifest") => {
            (format!("/api/v1/revisions/{}/manifest", f.file_rev), None, None)
        }
        ("get", "/api/v1/chunks/{hash}") => (format!("/api/v1/chunks/{}", f.file_hash), None, None),
        ("post", "/api/v1/fs/mkdir") => (template.into(), Some(json!({"path": format!("/Team/{n}-new")})), None),
        ("post", "/api/v1/fs/move") => (
            template.into(),
            Some(json!({"from": format!("/Team/{n}-mv.txt"), "to": format!("/Team/{n}-moved.txt")})),
            None,
        ),
        ("post", "/api/v1/fs/delete") => (template.into(), Some(json!({"path": format!("/Team/{n}-del.txt")})), None),
        ("post", "/api/v1/fs/restore") => (
            template.into(),
            Some(json!({"path": "/Team", "at": coffer_metastore::now_ms() - 1, "dry_run": true})),
            None,
        ),
        ("post", "/api/v1/versions/restore") => (
            template.into(),
            Some(json!({"path": format!("/Team/{n}-ver.txt"), "rev": f.old_rev.get(&who).copied().unwrap_or(1)})),
            None,
        ),
        ("post", "/api/v1/trash/restore") => {
            (template.into(), Some(json!({"id": f.trashed.get(&who).map(|t| t.0).unwrap_or(1)})), None)
        }
        ("post", "/api/v1/trash/purge") => {
            (template.into(), Some(json!({"id": f.trashed.get(&who).map(|t| t.1).unwrap_or(1)})), None)
        }
        ("post", "/api/v1/uploads") => (template.into(), Some(json!({"chunks": []})), None),
        ("put", "/api/v1/uploads/{id}/chunks/{hash}") => (
            format!("/api/v1/uploads/{}/chunks/{}", f.owner_upload, ChunkHash::of(b"pending")),
            None,
            Some(b"pending".to_vec()),
        ),
        ("post", "/api/v1/uploads/{id}/chunks") => {
            (format!("/api/v1/uploads/{}/chunks", f.owner_upload), None, Some(frames()))
        }
        ("delete", "/api/v1/uploads/{id}") => (format!("/api/v1/uploads/{}", f.owner_upload), None, None),
        ("post", "/api/v1/commit") => {
            (template.into(), Some(json!({"files": [{"path": format!("/Team/{n}-commit.txt"), "chunks": []}]})), None)
        }
        ("get", "/api/v1/journal/delta") => (format!("{template}?cursor={cursor}"), None, None),
        ("get", "/api/v1/journal/longpoll") => (format!("{template}?cursor={cursor}&timeout_secs=1"), None, None),
        ("post", "/api/v1/shares") => {
            (template.into(), Some(json!({"path": "/Team", "user": "zed", "role": "viewer"})), None)
        }
        ("post", "/api/v1/shares/remove") => (template.into(), Some(json!({"path": "/Team", "user": "zed"})), None),
        ("post", "/api/v1/shares/leave") => (template.into(), Some(json!({"path": "/Team"})), None),
        ("post", "/api/v1/comments") => {
            (template.into(), Some(json!({"path": "/Team/f.txt", "body": format!("from {n}")})), None)
        }
        ("get", "/api/v1/comments") => (format!("{template}?path=/Team/f.txt"), None, None),
        ("put", "/api/v1/comments/{id}") => {
            (format!("/api/v1/comments/{}", f.owner_comment), Some(json!({"body": format!("edited by {n}")})), None)
        }
        ("delete", "/api/v1/comments/{id}") => {
            (format!("/api/v1/comments/{}", f.editor_comments.get(&who).copied().unwrap_or(1)), None, None)
        }
        ("delete", "/api/v1/devices/{id}") => {
            (format!("/api/v1/devices/{}", f.spare.get(&who).copied().unwrap_or(1)), None, None)
        }
        ("post", "/api/v1/links") => (template.into(), Some(json!({"path": "/Team/f.txt"})), None),
        ("post", "/api/v1/file-shares") => {
            (template.into(), Some(json!({"path": "/Team/solo.txt", "user": "zed", "role": "viewer"})), None)
        }
        ("post", "/api/v1/file-shares/remove") => {
            (template.into(), Some(json!({"id": f.solo_id, "user": "zed"})), None)
        }
        ("post", "/api/v1/app-passwords") => (template.into(), Some(json!({"name": format!("for {n}")})), None),
        ("delete", "/api/v1/app-passwords/{id}") => {
            (format!("/api/v1/app-passwords/{}", f.spare_app.get(&who).copied().unwrap_or(1)), None, None)
        }
        ("delete", "/api/v1/links/{id}") => (format!("/api/v1/links/{}", f.spare_link), None, None),
        ("post", "/api/v1/public/{token}/unlock") => {
            let password = if who == Who::LinkKeyed { "open sesame" } else { "a guess" };
            (template.replace("{token}", &link_token(f, who)), Some(json!({"password": password})), None)
        }
        ("get", "/api/v1/public/{token}/stat") | ("get", "/api/v1/public/{token}/content") => {
            (format!("{}?path=/f.txt", template.replace("{token}", &link_token(f, who))), None, None)
        }
        (_, t) if t.contains("{token}") => (template.replace("{token}", &link_token(f, who)), None, None),
        _ => (template.into(), None, None),
    }
}

/// The link a visitor uses; the anonymous caller guesses one.
fn link_token(f: &Fixture, who: Who) -> String {
    f.links.get(&who).map(|l| l.0.clone()).unwrap_or_else(|| "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into())
}

/// What a call amounted to: its status, or for a commit the status of its one file.
async fn outcome(f: &Fixture, who: Who, method: &str, template: &str) -> (u16, String) {
    let (path, body, raw) = request(f, who, method, template);
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = f.http.request(m, format!("{}{path}", f.base));
    match (who, f.tokens.get(&who).cloned().flatten()) {
        (Who::Session | Who::RevokedSession, Some(t)) => {
            let csrf = coffer_service::session_csrf(&t);
            req = req.header("cookie", format!("coffer_session={t}")).header("x-coffer-csrf", csrf);
        }
        (_, Some(t)) => req = req.bearer_auth(t),
        (_, None) => {}
    }
    if let Some((_, key)) = f.links.get(&who) {
        req = req.header("x-coffer-link-key", key);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(b) = raw {
        req = req.body(b);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if template == "/api/v1/commit" && status == 200 {
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        let code = v["results"][0]["error"]["code"].as_str().unwrap_or_default().to_owned();
        return match code.as_str() {
            "" => (200, text),
            "read_only" | "forbidden" => (403, text),
            "not_found" => (404, text),
            _ => (0, text),
        };
    }
    (status, text)
}

#[tokio::test]
async fn every_operation_answers_every_principal_as_the_table_says() {
    let (f, _dir) = setup().await;
    // The table covers the document exactly.
    let doc: Value =
        f.http.get(format!("{}/api/v1/openapi.json", f.base)).send().await.expect("doc").json().await.expect("json");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| ops.as_object().expect("ops").keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    let tabled: BTreeSet<(String, String)> = TABLE.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    assert!(missing.is_empty(), "operations without a row in the authorization table: {missing:?}");
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(stale.is_empty(), "rows for operations that are not documented: {stale:?}");

    let mut wrong = Vec::new();
    for (method, template, want) in TABLE {
        for (who, want) in WHO.iter().zip(want) {
            if *want == ____ {
                continue;
            }
            let (got, body) = outcome(&f, *who, method, template).await;
            if got != *want {
                wrong.push(format!(
                    "{method} {template} as {who:?}: {got}, want {want}: {}",
                    &body[..body.len().min(200)]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} cells differ:\n{}", wrong.len(), wrong.join("\n"));
}
