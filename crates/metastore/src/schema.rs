//! Schema migrations. Each migration has one script per engine; they create the same
//! tables, columns and indexes, differing only in the spelling of ids and byte columns.

/// (version, SQLite script, PostgreSQL script). Append only; never edit a shipped one.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[(1, V1_SQLITE, V1_POSTGRES), (2, V2, V2), (3, V3, V3)];

/// Limits on everything a user makes the server keep: old versions count towards the
/// quota, uncommitted upload bytes are counted per session, files and folders are
/// counted per user, and purges and restores under way are recorded so they can be
/// resumed.
const V2: &str = r#"
ALTER TABLE users ADD COLUMN node_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN purging BIGINT NOT NULL DEFAULT 0;
UPDATE users SET node_count = (SELECT COUNT(*) FROM nodes n WHERE n.namespace_id = users.home_namespace_id);
UPDATE users SET used_bytes = COALESCE((SELECT SUM(r.size) FROM revisions r JOIN nodes n ON n.id = r.node_id
    WHERE n.namespace_id = users.home_namespace_id), 0);
CREATE INDEX uploads_user ON uploads(user_id, expires_at);
CREATE TABLE restore_jobs (
    root_id BIGINT PRIMARY KEY,
    namespace_id BIGINT NOT NULL,
    done_depth BIGINT NOT NULL,
    done_id BIGINT NOT NULL
);
"#;

/// Shared folders: a shared folder is a namespace of its own (kind `shared`), and each
/// member sees it through a mount, a folder node of their home whose
/// `mount_namespace_id` names it. The owner's mount is the folder they shared (its id
/// kept); a member's mount is made when they are invited. Members and their roles are
/// rows of `namespace_members`.
const V3: &str = r#"
ALTER TABLE nodes ADD COLUMN mount_namespace_id BIGINT;
CREATE INDEX nodes_mount ON nodes(mount_namespace_id) WHERE mount_namespace_id IS NOT NULL;
CREATE INDEX namespace_members_namespace ON namespace_members(namespace_id, role);
"#;

const V1_SQLITE: &str = r#"
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    quota_bytes BIGINT,
    used_bytes BIGINT NOT NULL DEFAULT 0,
    home_namespace_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX devices_user ON devices(user_id);
CREATE TABLE namespaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    root_node_id BIGINT,
    seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE namespace_members (
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (namespace_id, user_id)
);
CREATE INDEX namespace_members_user ON namespace_members(user_id);
CREATE TABLE nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    parent_id BIGINT REFERENCES nodes(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    is_folder BIGINT NOT NULL,
    current_rev BIGINT,
    size BIGINT NOT NULL DEFAULT 0,
    content_hash BLOB,
    mtime BIGINT,
    modified_at BIGINT NOT NULL,
    trashed_at BIGINT,
    original_path TEXT
);
CREATE UNIQUE INDEX nodes_live_name ON nodes(namespace_id, parent_id, name_key) WHERE trashed_at IS NULL;
CREATE INDEX nodes_parent ON nodes(parent_id, name);
CREATE INDEX nodes_trash ON nodes(namespace_id, trashed_at) WHERE trashed_at IS NOT NULL;
CREATE TABLE revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    size BIGINT NOT NULL,
    content_hash BLOB NOT NULL,
    manifest BLOB NOT NULL,
    device_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX revisions_node ON revisions(node_id, id);
CREATE TABLE chunks (
    hash BLOB PRIMARY KEY,
    size BIGINT NOT NULL,
    stored_size BIGINT NOT NULL,
    refcount BIGINT NOT NULL DEFAULT 0,
    deleting BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    unreferenced_since BIGINT
);
CREATE INDEX chunks_unreferenced ON chunks(unreferenced_since) WHERE refcount = 0;
CREATE TABLE user_chunks (
    user_id BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (user_id, hash)
);
CREATE INDEX user_chunks_hash ON user_chunks(hash);
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(expires_at);
CREATE TABLE upload_chunks (
    upload_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (upload_id, hash)
);
CREATE INDEX upload_chunks_hash ON upload_chunks(hash);
CREATE TABLE journal (
    namespace_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    node_id BIGINT NOT NULL,
    parent_id BIGINT,
    name TEXT NOT NULL,
    is_folder BIGINT NOT NULL,
    rev BIGINT,
    size BIGINT NOT NULL,
    content_hash BLOB,
    mtime BIGINT,
    trashed BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, seq)
);
"#;

const V1_POSTGRES: &str = r#"
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    quota_bytes BIGINT,
    used_bytes BIGINT NOT NULL DEFAULT 0,
    home_namespace_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE devices (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX devices_user ON devices(user_id);
CREATE TABLE namespaces (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    root_node_id BIGINT,
    seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE namespace_members (
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (namespace_id, user_id)
);
CREATE INDEX namespace_members_user ON namespace_members(user_id);
CREATE TABLE nodes (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    parent_id BIGINT REFERENCES nodes(id),
    name TEXT COLLATE "C" NOT NULL,
    name_key TEXT NOT NULL,
    is_folder BIGINT NOT NULL,
    current_rev BIGINT,
    size BIGINT NOT NULL DEFAULT 0,
    content_hash BYTEA,
    mtime BIGINT,
    modified_at BIGINT NOT NULL,
    trashed_at BIGINT,
    original_path TEXT
);
CREATE UNIQUE INDEX nodes_live_name ON nodes(namespace_id, parent_id, name_key) WHERE trashed_at IS NULL;
CREATE INDEX nodes_parent ON nodes(parent_id, name);
CREATE INDEX nodes_trash ON nodes(namespace_id, trashed_at) WHERE trashed_at IS NOT NULL;
CREATE TABLE revisions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    node_id BIGINT NOT NULL REFERENCES nodes(id),
    size BIGINT NOT NULL,
    content_hash BYTEA NOT NULL,
    manifest BYTEA NOT NULL,
    device_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX revisions_node ON revisions(node_id, id);
CREATE TABLE chunks (
    hash BYTEA PRIMARY KEY,
    size BIGINT NOT NULL,
    stored_size BIGINT NOT NULL,
    refcount BIGINT NOT NULL DEFAULT 0,
    deleting BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    unreferenced_since BIGINT
);
CREATE INDEX chunks_unreferenced ON chunks(unreferenced_since) WHERE refcount = 0;
CREATE TABLE user_chunks (
    user_id BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (user_id, hash)
);
CREATE INDEX user_chunks_hash ON user_chunks(hash);
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(expires_at);
CREATE TABLE upload_chunks (
    upload_id TEXT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (upload_id, hash)
);
CREATE INDEX upload_chunks_hash ON upload_chunks(hash);
CREATE TABLE journal (
    namespace_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    node_id BIGINT NOT NULL,
    parent_id BIGINT,
    name TEXT NOT NULL,
    is_folder BIGINT NOT NULL,
    rev BIGINT,
    size BIGINT NOT NULL,
    content_hash BYTEA,
    mtime BIGINT,
    trashed BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, seq)
);
"#;
