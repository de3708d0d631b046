//! The OpenAPI 3.1 description of `/api/v1`, built from one table of operations.
//! A test requests every operation listed here and fails if the router does not know
//! it, so the document cannot drift from the routes.

use serde_json::{Value, json};

/// (method, path, summary, request body type, response type, needs auth).
type Operation = (&'static str, &'static str, &'static str, Option<&'static str>, &'static str, bool);

pub(crate) const OPERATIONS: &[Operation] = &[
    ("post", "/api/v1/setup", "Create the first admin with the setup token", Some("SetupRequest"), "UserInfo", false),
    ("get", "/api/v1/setup", "Whether the first admin is still to be created", None, "SetupStatus", false),
    (
        "post",
        "/api/v1/session",
        "Sign a browser in: sets the HttpOnly session cookie, returns the CSRF token",
        Some("SessionRequest"),
        "BrowserSession",
        false,
    ),
    ("get", "/api/v1/session", "The browser's session (cookie) and its CSRF token", None, "BrowserSession", true),
    ("delete", "/api/v1/session", "Sign the browser out (needs X-Coffer-CSRF)", None, "", true),
    (
        "post",
        "/api/v1/auth/login",
        "Sign in a device; returns its bearer token",
        Some("LoginRequest"),
        "LoginResponse",
        false,
    ),
    ("post", "/api/v1/auth/logout", "Revoke this device's token", None, "", true),
    ("get", "/api/v1/auth/whoami", "The signed-in user", None, "UserInfo", true),
    ("get", "/api/v1/devices", "The user's devices", None, "DeviceInfo[]", true),
    ("delete", "/api/v1/devices/{id}", "Revoke a device, browser sign-in or app password", None, "", true),
    ("get", "/api/v1/app-passwords", "The account's app passwords", None, "DeviceInfo[]", true),
    (
        "get",
        "/api/v1/audit",
        "The audit log, newest first: the caller's own events, an admin's everyone's \
         (?since=&until=&kind=a,b&user=&before=&limit=)",
        None,
        "AuditPage",
        true,
    ),
    (
        "post",
        "/api/v1/app-passwords",
        "Make an app password (all files, or read-only) for a WebDAV client or script; shown once",
        Some("AppPasswordRequest"),
        "AppPasswordCreated",
        true,
    ),
    ("delete", "/api/v1/app-passwords/{id}", "Revoke an app password", None, "", true),
    (
        "post",
        "/api/v1/devices/revoke-others",
        "Sign out every other device and browser of the account",
        None,
        "RevokedResponse",
        true,
    ),
    (
        "post",
        "/api/v1/account/password",
        "Change the password (the current one is needed); every other device and browser is signed out",
        Some("PasswordChangeRequest"),
        "RevokedResponse",
        true,
    ),
    ("get", "/api/v1/account/2fa", "Whether the account signs in with a second factor", None, "TwoFactorStatus", true),
    (
        "post",
        "/api/v1/account/2fa/enable",
        "Start setting up two-factor sign-in: a secret as otpauth URI, text and SVG QR code (pending until confirmed)",
        None,
        "TwoFactorSetup",
        true,
    ),
    (
        "post",
        "/api/v1/account/2fa/confirm",
        "Turn two-factor sign-in on with a first code; returns ten recovery codes, shown once",
        Some("TwoFactorCodeRequest"),
        "RecoveryCodes",
        true,
    ),
    (
        "post",
        "/api/v1/account/2fa/disable",
        "Turn two-factor sign-in off (password and a code)",
        Some("TwoFactorDisableRequest"),
        "",
        true,
    ),
    ("get", "/api/v1/fs/stat", "A file or folder by path (?path=)", None, "NodeInfo", true),
    ("get", "/api/v1/nodes/{id}", "A file or folder by id", None, "NodeInfo", true),
    ("get", "/api/v1/fs/list", "One page of a folder (?path=&after=&limit=)", None, "ListResponse", true),
    ("post", "/api/v1/fs/mkdir", "Create a folder", Some("MkdirRequest"), "NodeInfo", true),
    ("post", "/api/v1/fs/move", "Move or rename; never overwrites", Some("MoveRequest"), "NodeInfo", true),
    ("post", "/api/v1/fs/delete", "Delete to the trash", Some("PathRequest"), "NodeInfo", true),
    (
        "post",
        "/api/v1/fs/restore",
        "Put a folder, a file or / back as it was at a moment (each change a new revision, move or trash entry; dry_run only lists them)",
        Some("RestoreAtRequest"),
        "RestoreAtResponse",
        true,
    ),
    ("get", "/api/v1/fs/content", "Download (?path=&rev=&inline=); Range and ETag", None, "binary", true),
    (
        "get",
        "/api/v1/fs/thumbnail",
        "A JPEG or PNG thumbnail of an image (?path=&size=64|128|256|512&rev=)",
        None,
        "binary",
        true,
    ),
    ("get", "/api/v1/fs/zip", "Files and folders as one streamed zip (?path=&path=...)", None, "binary", true),
    ("get", "/api/v1/revisions/{rev}/content", "Download a revision; Range and ETag", None, "binary", true),
    ("get", "/api/v1/revisions/{rev}/manifest", "A revision's chunk list", None, "ManifestResponse", true),
    ("get", "/api/v1/chunks/{hash}", "One chunk the user holds", None, "binary", true),
    ("get", "/api/v1/trash", "Items in the trash", None, "TrashListResponse", true),
    ("post", "/api/v1/trash/restore", "Restore from the trash", Some("TrashRestoreRequest"), "NodeInfo", true),
    (
        "post",
        "/api/v1/trash/purge",
        "Delete for good (one item or all)",
        Some("TrashPurgeRequest"),
        "PurgeResponse",
        true,
    ),
    ("get", "/api/v1/versions", "A file's versions (?path=)", None, "VersionsResponse", true),
    (
        "post",
        "/api/v1/versions/restore",
        "Make an old version current",
        Some("VersionRestoreRequest"),
        "NodeInfo",
        true,
    ),
    (
        "post",
        "/api/v1/shares",
        "Share a folder with a user as viewer, commenter or editor (or change their role)",
        Some("ShareRequest"),
        "SharedFolderInfo",
        true,
    ),
    ("get", "/api/v1/shares", "Shared folders the user is in (?path=&with_me=)", None, "SharesResponse", true),
    (
        "post",
        "/api/v1/shares/remove",
        "Remove a member from a shared folder (owner)",
        Some("UnshareRequest"),
        "SharedFolderInfo",
        true,
    ),
    ("post", "/api/v1/shares/leave", "Leave a shared folder", Some("PathRequest"), "", true),
    (
        "post",
        "/api/v1/file-shares",
        "Share one file with a user as viewer or editor (or change their role); it is reached by id",
        Some("FileShareRequest"),
        "SharedFileInfo",
        true,
    ),
    (
        "get",
        "/api/v1/file-shares",
        "Files the user shared, or (?with_me=true) files shared with the user",
        None,
        "FileSharesResponse",
        true,
    ),
    (
        "post",
        "/api/v1/file-shares/remove",
        "End a file's share with a user (its owner: anyone's; a user: their own)",
        Some("FileUnshareRequest"),
        "",
        true,
    ),
    ("post", "/api/v1/comments", "Comment on a file (commenter and up)", Some("CommentRequest"), "CommentInfo", true),
    ("get", "/api/v1/comments", "A file's comments (?path=&after=&limit=)", None, "CommentsResponse", true),
    ("put", "/api/v1/comments/{id}", "Edit one's own comment", Some("CommentEditRequest"), "CommentInfo", true),
    ("delete", "/api/v1/comments/{id}", "Delete one's own comment (the file's owner: any)", None, "", true),
    (
        "post",
        "/api/v1/links",
        "Make a public link to a file or folder (its owner): expiry, password, download limit, view-only",
        Some("LinkRequest"),
        "LinkInfo",
        true,
    ),
    ("get", "/api/v1/links", "The user's public links (?path=)", None, "LinksResponse", true),
    ("delete", "/api/v1/links/{id}", "Revoke a public link", None, "LinkInfo", true),
    (
        "get",
        "/api/v1/public/{token}",
        "A public link's item; a password-protected link needs its key (X-Coffer-Link-Key or ?key=)",
        None,
        "PublicLinkResponse",
        false,
    ),
    (
        "post",
        "/api/v1/public/{token}/unlock",
        "Give a link's password; returns a key that opens it for 12 hours",
        Some("UnlockRequest"),
        "UnlockResponse",
        false,
    ),
    ("get", "/api/v1/public/{token}/stat", "An item below a linked folder (?path=)", None, "PublicItem", false),
    (
        "get",
        "/api/v1/public/{token}/list",
        "One page of a linked folder (?path=&after=&limit=)",
        None,
        "PublicListResponse",
        false,
    ),
    (
        "get",
        "/api/v1/public/{token}/content",
        "Download a linked file (?path=); Range and ETag; counts a download when it starts at byte 0",
        None,
        "binary",
        false,
    ),
    (
        "get",
        "/api/v1/public/{token}/zip",
        "Download a linked folder (?path=) as a streamed zip (Zip64); counts a download",
        None,
        "binary",
        false,
    ),
    ("get", "/s/{token}", "The link itself: its file, or its folder as a zip", None, "binary", false),
    (
        "post",
        "/api/v1/uploads",
        "Open an upload; learn which chunks to send",
        Some("UploadRequest"),
        "UploadResponse",
        true,
    ),
    ("put", "/api/v1/uploads/{id}/chunks/{hash}", "Send one chunk (raw bytes)", Some("binary"), "", true),
    (
        "post",
        "/api/v1/uploads/{id}/chunks",
        "Send framed chunks: ([32B hash][u32 LE len][bytes])*",
        Some("binary"),
        "",
        true,
    ),
    ("delete", "/api/v1/uploads/{id}", "Abandon an upload", None, "", true),
    ("post", "/api/v1/commit", "Commit files (per-file results)", Some("CommitRequest"), "CommitResponse", true),
    ("get", "/api/v1/journal/delta", "Changes since a cursor (?cursor=&limit=)", None, "DeltaResponse", true),
    ("get", "/api/v1/journal/latest", "The cursor of now", None, "CursorResponse", true),
    ("get", "/api/v1/journal/longpoll", "Wait for a change (?cursor=&timeout_secs=)", None, "LongPollResponse", true),
    ("get", "/api/v1/notify", "WebSocket: which namespaces advanced (NotifyMessage JSON)", None, "NotifyMessage", true),
    ("get", "/api/v1/openapi.json", "This document", None, "object", false),
    ("get", "/healthz", "Health", None, "HealthResponse", false),
    ("get", "/metrics", "Prometheus metrics", None, "text", false),
];

fn body_schema(ty: &str) -> Value {
    match ty {
        "binary" => {
            json!({"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
        }
        "text" => json!({"content": {"text/plain": {"schema": {"type": "string"}}}}),
        "object" => json!({"content": {"application/json": {"schema": {"type": "object"}}}}),
        t if t.ends_with("[]") => json!({"content": {"application/json": {"schema": {
            "type": "array", "items": {"$ref": format!("#/components/schemas/{}", &t[..t.len() - 2])}}}}}),
        t => json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{t}")}}}}),
    }
}

pub(crate) fn document() -> String {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for (method, path, summary, req, resp, auth) in OPERATIONS {
        let mut op = json!({
            "summary": summary,
            "operationId": format!("{method}{}", path.replace(['/', '{', '}', '.'], "_")),
            "responses": {
                "default": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
            }
        });
        let ok = if resp.is_empty() {
            json!({"description": "Done"})
        } else {
            let mut r = body_schema(resp);
            r["description"] = json!("OK");
            r
        };
        op["responses"][if resp.is_empty() { "204" } else { "200" }] = ok;
        if let Some(req) = req {
            op["requestBody"] = body_schema(req);
            op["requestBody"]["required"] = json!(true);
        }
        if *auth {
            // A client's bearer token (a device token or an app password), HTTP Basic with
            // an app password, or a browser's session cookie (with X-Coffer-CSRF on
            // anything but GET and HEAD).
            op["security"] = json!([{"bearer": []}, {"basic": []}, {"session": []}]);
        }
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = json!(params);
        }
        for ty in [req.unwrap_or(""), resp] {
            let ty = ty.trim_end_matches("[]");
            if !ty.is_empty() && !matches!(ty, "binary" | "text" | "object") {
                schemas.insert(
                    ty.to_owned(),
                    json!({"type": "object", "description": format!("coffer_core::wire::{ty}")}),
                );
            }
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    schemas.insert(
        "ErrorBody".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
            "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}),
    );
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Coffer API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic", "description": "user name and an app password"},
                "session": {"type": "apiKey", "in": "cookie", "name": "coffer_session"}
            }
        }
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
}
