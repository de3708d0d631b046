//! The `coffer` command: argument parsing and output only. The server side is wired
//! from `coffer_server` and `coffer_service`; everything that talks to a server goes
//! through `coffer_client`.

mod account_cmd;
mod commands;
mod history_cmd;
mod keys;
mod output;
mod profile;
mod serve;
mod share_cmd;
mod sync_cmd;

use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

/// Exit codes: 0 success, 1 error, 2 usage error, 3 conflict (the remote changed, or
/// the target exists), 4 not allowed (a read-only shared folder, an owner's action).
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_CONFLICT: u8 = 3;
pub const EXIT_DENIED: u8 = 4;
/// A public link that no longer works: expired, revoked or used up.
pub const EXIT_GONE: u8 = 5;

#[derive(Parser)]
#[command(
    name = "coffer",
    version,
    about = "Coffer: your own file storage and sync server, and its command-line client",
    after_help = "Examples:\n  coffer serve                                  # start a server on 127.0.0.1:8080, data in ./coffer-data\n  coffer login http://127.0.0.1:8080 --user alice\n  coffer put ~/Documents /                      # upload a folder into the root\n  coffer ls /Documents\n  coffer get /Documents/report.pdf .\n\nExit codes: 0 ok, 1 error, 2 usage, 3 conflict, 4 not allowed."
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (REST API) on the embedded store or PostgreSQL.
    Serve(serve::ServeArgs),
    /// Administer users directly on the server's database (works while it runs).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Create the first admin with the setup token the server printed.
    Setup {
        /// Server URL, e.g. http://127.0.0.1:8080
        url: String,
        /// The token the server printed (it may start with '-').
        #[arg(long, allow_hyphen_values = true)]
        token: String,
        #[arg(long)]
        user: String,
        #[command(flatten)]
        transport: TransportArgs,
    },
    /// Sign this device in; the password is read from stdin when it is not a terminal.
    #[command(
        after_help = "Examples:\n  coffer login https://files.example.org --user alice\n  coffer login https://files.example.org --user alice --code 123456\n\nThe password is asked for (or read from standard input when it is not a terminal).\nAn account with two-factor sign-in also needs a code from its authenticator app, or one\nof its recovery codes: given with --code, or asked for after the password."
    )]
    Login {
        url: String,
        #[arg(long)]
        user: String,
        /// A name for this device (default: the host name).
        #[arg(long)]
        device: Option<String>,
        /// The authenticator app's current code, or a recovery code (two-factor sign-in).
        #[arg(long)]
        code: Option<String>,
        #[command(flatten)]
        transport: TransportArgs,
    },
    /// Two-factor sign-in with an authenticator app: status, enable, confirm, disable.
    #[command(
        name = "2fa",
        subcommand,
        after_help = "Examples:\n  coffer 2fa enable          # prints the otpauth URI and a QR code for the app\n  coffer 2fa confirm 123456  # the app's first code turns it on; prints 10 recovery codes\n  coffer 2fa status\n  coffer 2fa disable         # asks for the password and a code\n\nOnce on, every password sign-in (coffer login, the web app) also needs the app's\ncurrent code, or one of the recovery codes (each works once). Keep the recovery codes\nsomewhere safe: they are shown only once."
    )]
    TwoFactor(TwoFactorCommand),
    /// Sign this device out and forget its token.
    Logout,
    /// Show who this device is signed in as.
    Whoami,
    /// Upload files or folders: `put LOCAL... REMOTE` (cp -r semantics), or standard
    /// input as one file: `put - REMOTE`.
    #[command(
        after_help = "Examples:\n  coffer put ~/Documents /                      # the folder becomes /Documents\n  coffer put report.pdf notes.txt /Archive      # into an existing folder\n  coffer put report.pdf /Archive/2026.pdf       # as that file (replaced if it exists)\n  pg_dump mydb | coffer put - /Backups/mydb.sql # standard input as one file\n\nWith '-' as the only source, standard input is uploaded as the file REMOTE, which must\nname a file (not an existing folder, not ending in '/'); a local file called '-' is ./-.\nThe data is first copied to a private temporary file, so it needs that much free space\nin the system's temporary folder (TMPDIR)."
    )]
    Put {
        /// Local files or folders; `-` (alone) reads standard input.
        #[arg(required = true, num_args = 1..)]
        local: Vec<String>,
        /// Where on the server. The sources go into it, under their own names, when it is
        /// an existing folder, ends in `/`, or several sources are given; otherwise the
        /// one source is uploaded as REMOTE. With `-`, REMOTE names the file to write.
        remote: String,
        /// Parallel chunk transfers.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
    },
    /// Download a file or folder: `get REMOTE LOCAL`, or a file to standard output:
    /// `get REMOTE -`. REMOTE may also be a public link's URL (no account needed).
    #[command(
        after_help = "Examples:\n  coffer get /Documents/report.pdf .           # into the current folder, as report.pdf\n  coffer get /Documents/report.pdf copy.pdf    # as copy.pdf\n  coffer get /Documents ~/Backup               # a folder, recursively: ~/Backup/Documents\n  coffer get /Documents/notes.txt - | less     # a file's bytes on standard output\n  coffer get https://files.example.org/s/Xy3… .   # what a public link points to\n\nWith LOCAL '-', standard output carries only the file's bytes (progress and errors go to\nstandard error), so --json is refused there; a folder cannot go to standard output.\n\nA public link needs no sign-in. If it has a password, it is asked for on the terminal,\nor read from the first line of standard input when that is not a terminal. A linked\nfolder arrives as the server's zip archive (kept in a temporary file beside LOCAL while\nit downloads) and is unpacked, every file checked; it counts as one download of the\nlink. Exit code 5: the link expired, was revoked or has no downloads left."
    )]
    Get {
        /// The file or folder on the server, e.g. /Documents/report.pdf, or a public
        /// link's URL (https://server/s/TOKEN).
        remote: String,
        /// Where it goes: into LOCAL under its own name when LOCAL is an existing folder,
        /// else as LOCAL (a file is replaced whole, never half-written); `-` writes the
        /// file to standard output.
        local: String,
    },
    /// List a folder.
    Ls {
        #[arg(default_value = "/")]
        remote: String,
    },
    /// Show a file or folder.
    Stat { remote: String },
    /// Create a folder.
    Mkdir {
        remote: String,
        /// Create parents; no error if it exists.
        #[arg(short, long)]
        parents: bool,
    },
    /// Move or rename: `mv FROM TO` (into TO if it is a folder). Never overwrites.
    #[command(
        after_help = "Examples:\n  coffer mv /Documents/report.pdf /Documents/2026.pdf   # rename\n  coffer mkdir /Archive\n  coffer mv /Documents/report.pdf /Archive/             # into a folder, keeping the name"
    )]
    Mv {
        /// The file or folder to move.
        from: String,
        /// Its new path, or an existing folder to move it into. A path ending in `/`
        /// always means into that folder, which must exist.
        to: String,
    },
    /// Delete to the trash.
    Rm {
        #[arg(required = true)]
        remotes: Vec<String>,
    },
    /// Put a folder, a file or everything (`/`) back as it was at a moment.
    #[command(
        after_help = "Examples:\n  coffer restore / --at \"2 hours ago\" --dry-run       # list what would change\n  coffer restore / --at \"2 hours ago\"                 # everything, as it was then\n  coffer restore /Documents --at 2026-12-07T09:00       # a folder (UTC)\n  coffer restore /Documents/plan.txt --at 2026-12-07T10:00:00+01:00\n\nTIME is a moment in the past: \"N minutes|hours|days|weeks ago\" (or 90m ago, 2h ago,\n3d ago), a UTC date or time (2026-12-07, 2026-12-07T09:00[:00][Z]), or RFC 3339 with an\noffset. Files get back the content they had then, moved and renamed items go back to\ntheir places, deleted ones come back from the trash, and what was made since goes to\nthe trash. Each change is a new version, a move or a trash entry, so no history is\nrewritten and a restore is undone by restoring to the moment before it. Synced devices\nfollow like after any other change.\n\nWhat cannot come back (emptied from the trash, old versions removed for good, files\nnow in another shared folder) is listed as skipped, and the exit code is then 1."
    )]
    Restore {
        /// The folder or file (`/` for everything).
        path: String,
        /// The moment to go back to.
        #[arg(long, value_name = "TIME")]
        at: String,
        /// Only list the changes; make none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Conflicted copies across the account: list them, resolve them.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer conflicts ls\n  coffer conflicts resolve '/Docs/report (laptop'\''s conflicted copy 2026-11-25).txt' --keep mine\n  coffer conflicts resolve '/Docs/*' --keep theirs      # every copy in /Docs\n  coffer conflicts resolve --all --keep both\n\nWhen two devices change a file before they sync and the changes cannot be merged, both\nare kept: the server's at the file's path, the device's beside it as\n\"report (laptop's conflicted copy 2026-11-25).txt\". --keep mine makes the copy's\ncontent the file's new version, --keep theirs keeps the file and moves the copy to the\ntrash, --keep both gives the copy a plain name (\"report (laptop).txt\"). Each resolution\nis an ordinary change: every device syncs it, and the file's history keeps every\nversion. Patterns match whole paths; * and ? do not cross a '/'."
    )]
    Conflicts(ConflictsCommand),
    /// The trash: list, restore, purge.
    #[command(subcommand)]
    Trash(TrashCommand),
    /// Version history: list, download, restore.
    #[command(subcommand)]
    Versions(VersionsCommand),
    /// This account's devices, browser sign-ins and app passwords (also `coffer
    /// sessions`): list, revoke one, or sign out everywhere else.
    #[command(
        subcommand,
        visible_alias = "sessions",
        after_help = "Examples:\n  coffer sessions ls\n  coffer sessions revoke 12          # that device must sign in again\n  coffer sessions revoke --others    # sign out everywhere but here\n\nA revoked credential stops working at once, and its open connections close."
    )]
    Devices(DevicesCommand),
    /// The audit log: sign-ins, security changes, credentials, shares, links, permanent
    /// deletes and admin actions.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer audit ls                                  # your latest events\n  coffer audit ls --since \"7 days ago\" --kind sign_in_failed\n  coffer audit ls --kind share_created,link_created --json\n  coffer audit ls --user bob                        # an administrator: bob's events\n\nA user sees their own events, an administrator everyone's. Each event has its time,\nkind, who did it, the credential (an id from `coffer sessions ls`), the address and the\ntarget. Kinds: sign_in, sign_in_failed, sign_out, two_factor_enabled,\ntwo_factor_disabled, password_changed, app_password_created, credential_revoked,\nshare_created, share_removed, share_left, file_share_created, file_share_removed,\nlink_created, link_revoked, link_downloaded, link_unlock_failed, purged, user_created,\nquota_changed. --since and --until take \"N minutes|hours|days ago\" or a UTC date or\ntime. Events are kept for 365 days (`audit_retention_days` in the config file)."
    )]
    Audit(AuditCommand),
    /// App passwords for WebDAV clients and scripts: create, list, remove.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer app-password create \"phone\"                # prints it, once\n  coffer app-password create \"backup\" --read-only\n  coffer app-password ls\n  coffer app-password rm 14\n\nAn app password stands for the account without its password and without a two-factor\ncode: give it to a WebDAV client (as the password of your user name) or use it as\n'Authorization: Bearer <app password>'. A read-only one may list and download\neverything the account may, and change nothing. It cannot change the password,\ntwo-factor sign-in, app passwords or other sign-ins. Revoke one when the app or device\nis gone; a password change revokes them all."
    )]
    AppPassword(AppPasswordCommand),
    /// This account's password.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer password change\n\nAsks for the current password and the new one (twice on a terminal; from standard input\nthey are the first two lines). Every other device and browser is signed out with it."
    )]
    Password(PasswordCommand),
    /// Share a folder with other users, list shared folders, remove members, leave.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  coffer share /Team --with bob --role editor   # bob sees /Team in his own tree\n  coffer share /report.pdf --with bob           # one file, as viewer (or --role editor)\n  coffer share get 42 .                         # bob downloads file #42 shared with him\n  coffer share put report.pdf 42                # an editor uploads a new version of it\n  coffer share leave --file 42                  # bob drops it from his list\n  coffer share /Team --with carol --role viewer # carol may read, not change\n  coffer share ls                               # every shared folder you are in\n  coffer share ls --with-me                     # the ones others shared with you\n  coffer share ls /Team                         # its members and their roles\n  coffer share rm /Team --with carol            # the owner removes a member\n  coffer share leave /Team                      # a member leaves\n\nSharing a folder again with a member changes their role. A shared folder appears in\neach member's tree under its name (with \" (shared)\" when the name is taken); members\nmay rename or move it within their own tree. Shared folders do not nest.\n\nA shared file is not placed in anyone's tree and is not synced: it is listed by\n`share ls --with-me` with its id, and reached by that id."
    )]
    Share(ShareArgs),
    /// Public links to files and folders: create, list, remove.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer link create /Photos/2026                        # prints the URL\n  coffer link create /report.pdf --expires 7d --max-downloads 3\n  coffer link create /Drafts --password --no-download    # look, but not download\n  coffer link ls\n  coffer link rm 12                                      # or the link's URL\n  coffer get https://files.example.org/s/Xy3… .          # anyone with the URL\n\n--expires takes a duration (30m, 12h, 7d, 2w) or a date in UTC (2027-01-31 or\n2027-01-31T18:00). Whoever has the URL may use the link: anyone may list and download\nthrough it (or only look, with --no-download) until it expires, runs out of downloads\nor is removed. A link to an item in the trash stops working until the item is\nrestored. Only the owner of an item can link to it."
    )]
    Link(LinkCommand),
    /// Comments on files: add, list, edit, delete.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer comment add /Team/plan.txt \"Looks good; ship it\"\n  coffer comment ls /Team/plan.txt\n  coffer comment edit 12 \"Looks good\"\n  coffer comment rm 12\n\nCommenters, editors and owners comment; whoever may read the file reads its comments.\nAn author edits and deletes their own; a file's owner may delete any."
    )]
    Comment(CommentCommand),
    /// Keep a local folder and the account's root in sync, both ways.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  coffer sync ~/Coffer                  # keep syncing until Ctrl-C\n  coffer sync ~/Coffer --once           # sync until nothing is pending, then exit\n  coffer sync ~/Coffer --exclude /Videos\n  coffer sync exclude add /Photos       # stop syncing a folder on this device\n  coffer sync exclude ls\n  coffer status\n  coffer sync confirm-deletes ~/Coffer   # let held deletions through\n  coffer sync undo-deletes ~/Coffer      # or bring the files back\n  coffer sync ~/Coffer --limit-up 5M --limit-down 20M   # bytes per second\n  coffer pause ~/Coffer                  # a running sync waits...\n  coffer resume ~/Coffer                 # ...until this\n\nThe mass-delete brake: when one pass would delete more than --max-deletes files (50) and\nmore than --max-delete-percent of the folder's files (25), on the server or on this\ndevice, those deletions are held while everything else syncs; `coffer status` lists\nthem and `--once` exits with 1 until someone confirms or undoes them. Moves never count."
    )]
    Sync(SyncArgs),
    /// Pause syncing a folder (a running `coffer sync` stops transferring within a
    /// second and waits).
    Pause {
        /// The synced folder (default: the one this profile last synced).
        dir: Option<std::path::PathBuf>,
    },
    /// Resume syncing a paused folder.
    Resume {
        /// The synced folder (default: the one this profile last synced).
        dir: Option<std::path::PathBuf>,
    },
    /// Where a synced folder stands: pending changes, conflicted copies, excluded
    /// folders, the last error.
    Status {
        /// The synced folder (default: the one this profile last synced).
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Args)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub action: Option<SyncAction>,
    /// The local folder (created if missing).
    pub dir: Option<std::path::PathBuf>,
    /// Sync until nothing is pending, then exit.
    #[arg(long)]
    pub once: bool,
    /// The name conflicted copies carry (default: this profile's device name).
    #[arg(long)]
    pub device: Option<String>,
    /// Leave this server folder out of this device's sync (repeatable; remembered).
    #[arg(long, value_name = "PATH")]
    pub exclude: Vec<String>,
    /// Sync this folder as it is now even though it is not the folder synced before
    /// (moved, replaced, restored from a backup, on a disk mounted elsewhere): nothing
    /// missing from it is deleted; what is new in it is uploaded.
    #[arg(long)]
    pub relink: bool,
    /// Send at most this many bytes per second (5M, 500K; binary units).
    #[arg(long, value_name = "RATE")]
    pub limit_up: Option<String>,
    /// Receive at most this many bytes per second.
    #[arg(long, value_name = "RATE")]
    pub limit_down: Option<String>,
    /// Hold a pass's deletions when they remove more than N files...
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_deletes: usize,
    /// ...and more than this share of the folder's files.
    #[arg(long, value_name = "PERCENT", default_value_t = 25, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_delete_percent: u32,
}

#[derive(Subcommand)]
pub enum SyncAction {
    /// Selective sync: server folders this device does not sync. Their synced copies
    /// are removed from this device (never from the server) and not downloaded.
    #[command(subcommand)]
    Exclude(ExcludeCommand),
    /// Let the deletions the mass-delete brake holds through on the next sync.
    ConfirmDeletes {
        /// The synced folder (default: the one this profile last synced).
        dir: Option<std::path::PathBuf>,
    },
    /// Bring back the files whose deletion the mass-delete brake holds (the next sync
    /// gives them back to the side that deleted them).
    UndoDeletes {
        /// The synced folder (default: the one this profile last synced).
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ExcludeCommand {
    /// Stop syncing a server folder on this device.
    Add {
        path: String,
        /// The synced folder (default: the one this profile last synced).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Sync an excluded folder again.
    Rm {
        path: String,
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// List the excluded folders.
    Ls {
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// User accounts.
    #[command(subcommand)]
    User(AdminUserCommand),
    /// The master key of encryption at rest: make one, rotate it, see where sealing is.
    #[command(
        subcommand,
        after_help = "Examples:\n  coffer admin key status --data coffer-data\n  coffer admin key init --data coffer-data     # an existing plaintext deployment\n  coffer admin key rotate --data coffer-data\n\nThe key file is kept outside the data directory: by default beside it\n(coffer-data.key for coffer-data), or where --key-file or COFFER_KEY_FILE says. A new\nserver makes it at first start. `init` makes one for a server that ran without\nencryption: after a restart new files are sealed and the old ones are sealed in the\nbackground. `rotate` puts a new key first in the file and keeps the older ones for\nreading; a running server takes it within seconds and seals every chunk again in the\nbackground, resumably (a restart carries on where it stopped). Keep a copy of the key\nfile somewhere safe: without it the files cannot be read."
    )]
    Key(AdminKeyCommand),
    /// Whether every account must sign in with two-factor sign-in.
    #[command(
        name = "2fa",
        subcommand,
        after_help = "Examples:\n  coffer admin 2fa require --data coffer-data\n  coffer admin 2fa status\n  coffer admin 2fa optional\n\nWhen required, an account without two-factor sign-in may only set it up (`coffer 2fa\nenable`, or the web app's Devices page) after signing in; everything else answers\n`two_factor_setup_required` until it is on. App passwords are not affected. Every\nserver node follows a change within a second."
    )]
    TwoFactor(AdminTwoFactorCommand),
}

#[derive(Subcommand)]
pub enum AdminTwoFactorCommand {
    /// Every account must use two-factor sign-in.
    Require {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Two-factor sign-in is each user's choice.
    Optional {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Whether two-factor sign-in is required.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
pub enum AdminKeyCommand {
    /// Make the master key of a deployment that runs without encryption.
    Init {
        #[arg(long, env = "COFFER_DATA", default_value = "coffer-data")]
        data: std::path::PathBuf,
        /// The key file (default: beside the data directory, DATA.key).
        #[arg(long, env = "COFFER_KEY_FILE")]
        key_file: Option<std::path::PathBuf>,
    },
    /// Make a new current key; older keys stay in the file until nothing needs them.
    Rotate {
        #[arg(long, env = "COFFER_DATA", default_value = "coffer-data")]
        data: std::path::PathBuf,
        #[arg(long, env = "COFFER_KEY_FILE")]
        key_file: Option<std::path::PathBuf>,
    },
    /// Whether the store is encrypted, under which key, and what still waits for sealing.
    Status {
        #[arg(long, env = "COFFER_DATA", default_value = "coffer-data")]
        data: std::path::PathBuf,
        #[arg(long, env = "COFFER_KEY_FILE")]
        key_file: Option<std::path::PathBuf>,
    },
}

/// How to reach a server over the network.
#[derive(Args, Clone, Debug, Default)]
pub struct TransportArgs {
    /// Trust this CA certificate (PEM) for the server's HTTPS certificate, besides the
    /// system's (a server's own CA, or `coffer serve --tls-self-signed`'s certificate).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Allow plain http:// to a server that is not on this machine (passwords, tokens
    /// and files then cross the network unencrypted).
    #[arg(long)]
    pub allow_http: bool,
}

#[derive(Args, Clone)]
pub struct DbArgs {
    /// The server's data directory (its database is DIR/meta.db).
    #[arg(long, env = "COFFER_DATA", default_value = "coffer-data")]
    pub data: std::path::PathBuf,
    /// A database URL instead (sqlite://PATH or postgres://...).
    #[arg(long, env = "COFFER_DATABASE")]
    pub database: Option<String>,
}

#[derive(Subcommand)]
pub enum AdminUserCommand {
    /// Add a user; the password is read from stdin when it is not a terminal.
    Add {
        name: String,
        #[arg(long)]
        admin: bool,
        /// Storage quota, e.g. 10G, 500M (default: unlimited).
        #[arg(long)]
        quota: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set or clear (`none`) a user's quota.
    SetQuota {
        name: String,
        quota: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
pub enum ConflictsCommand {
    /// List the conflicted copies, with the file each conflicts with.
    Ls,
    /// Resolve conflicted copies: given by path or pattern, or all of them.
    Resolve {
        /// Conflicted copies (paths, or patterns with * and ?).
        paths: Vec<String>,
        /// Which version to keep.
        #[arg(long, value_enum)]
        keep: KeepArg,
        /// Every conflicted copy in the account.
        #[arg(long, conflicts_with = "paths")]
        all: bool,
    },
}

/// Which version a resolution keeps.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeepArg {
    /// The conflicted copy's content becomes the file's new version.
    Mine,
    /// The file as it is; the copy goes to the trash.
    Theirs,
    /// Both, the copy under a plain name.
    Both,
}

#[derive(Subcommand)]
pub enum TrashCommand {
    /// List deleted items.
    Ls,
    /// Restore a deleted item by its original path (or `#ID`).
    Restore { path: String },
    /// Delete for good: one item (path or `#ID`), or everything with --all.
    Purge {
        path: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand)]
pub enum TwoFactorCommand {
    /// Whether two-factor sign-in is on, and how many recovery codes are left.
    Status,
    /// Start setting it up: a new secret for the authenticator app (as a QR code and an
    /// otpauth URI). Nothing changes until `coffer 2fa confirm`.
    Enable,
    /// Turn it on with the app's first code; prints ten single-use recovery codes.
    Confirm { code: String },
    /// Turn it off: asks for the password; the code is asked for unless given.
    Disable {
        #[arg(long)]
        code: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum VersionsCommand {
    /// List a file's versions.
    Ls { path: String },
    /// Download one version.
    Get { path: String, rev: i64, local: String },
    /// Make an old version current again (as a new version).
    Restore { path: String, rev: i64 },
}

#[derive(Args)]
pub struct ShareArgs {
    #[command(subcommand)]
    pub action: Option<ShareAction>,
    /// The folder (or single file) to share.
    pub path: Option<String>,
    /// The user to share it with.
    #[arg(long = "with", value_name = "USER")]
    pub with: Option<String>,
    /// What they may do.
    #[arg(long, value_enum, default_value_t = RoleArg::Viewer)]
    pub role: RoleArg,
}

#[derive(Subcommand)]
pub enum ShareAction {
    /// List the shared folders you are in, or one folder's members.
    Ls {
        /// A shared folder (or anything in it): show its members.
        path: Option<String>,
        /// Only the folders others shared with you.
        #[arg(long)]
        with_me: bool,
    },
    /// Remove a member from a shared folder you own.
    Rm {
        path: String,
        #[arg(long = "with", value_name = "USER")]
        with: String,
    },
    /// Leave a shared folder (it leaves your tree; nothing in it is deleted), or with
    /// --file a file shared with you.
    Leave {
        #[arg(required_unless_present = "file")]
        path: Option<String>,
        /// The id of a file shared with you (see `share ls --with-me`).
        #[arg(long, value_name = "ID", conflicts_with = "path")]
        file: Option<i64>,
    },
    /// Download a file shared with you, by id: `share get ID LOCAL` (or `-`).
    Get { id: i64, local: String },
    /// Upload a new version of a file shared with you as editor: `share put LOCAL ID`.
    Put { local: String, id: i64 },
}

/// A member's role.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Read and download.
    Viewer,
    /// Read, and comment.
    Commenter,
    /// Read, change, add and delete.
    Editor,
}

impl From<RoleArg> for coffer_core::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Viewer => coffer_core::Role::Viewer,
            RoleArg::Commenter => coffer_core::Role::Commenter,
            RoleArg::Editor => coffer_core::Role::Editor,
        }
    }
}

#[derive(Subcommand)]
pub enum LinkCommand {
    /// Make a public link to a file or folder and print its URL.
    Create {
        path: String,
        /// When it stops working: a duration (7d, 12h, 30m, 2w) or a UTC date.
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Ask for a password visitors must give (terminal, or the first line of stdin).
        #[arg(long)]
        password: bool,
        /// How many downloads it allows.
        #[arg(long, value_name = "N")]
        max_downloads: Option<u64>,
        /// Visitors may look (names, sizes, listings) but not download.
        #[arg(long)]
        no_download: bool,
    },
    /// List your links, or those to PATH.
    Ls { path: Option<String> },
    /// Remove (revoke) a link: by its id, or its URL.
    Rm { link: String },
}

#[derive(Subcommand)]
pub enum CommentCommand {
    /// Comment on a file.
    Add { path: String, text: String },
    /// List a file's comments, oldest first.
    Ls { path: String },
    /// Change the text of one of your comments.
    Edit { id: i64, text: String },
    /// Delete a comment (yours, or any on a file you own).
    Rm { id: i64 },
}

#[derive(Subcommand)]
pub enum DevicesCommand {
    /// List devices, browsers and app passwords of this account.
    Ls,
    /// Revoke a device's or browser's sign-in or an app password (it stops working at once).
    Revoke {
        #[arg(required_unless_present = "others")]
        id: Option<i64>,
        /// Every other device and browser of the account (this one stays signed in).
        #[arg(long, conflicts_with = "id")]
        others: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// List events, newest first.
    Ls {
        /// Only events at or after this moment ("7 days ago", 2026-12-01).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this moment.
        #[arg(long)]
        until: Option<String>,
        /// Only these kinds (comma-separated, or the option repeated).
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// Only this user's events (an administrator; others see only their own).
        #[arg(long)]
        user: Option<String>,
        /// At most this many events (newest first).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Subcommand)]
pub enum AppPasswordCommand {
    /// Make an app password; it is printed once.
    Create {
        /// What it is for ("phone", "backup script").
        name: String,
        /// It may only read: list and download, never change anything.
        #[arg(long)]
        read_only: bool,
    },
    /// List this account's app passwords.
    Ls,
    /// Revoke an app password (it stops working at once).
    Rm { id: i64 },
}

#[derive(Subcommand)]
pub enum PasswordCommand {
    /// Change the password; every other device and browser is signed out.
    Change,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.json && matches!(&cli.command, Command::Get { local, .. } if local == "-") {
        // Standard output carries the file's bytes: a JSON summary would corrupt them.
        let kind = clap::error::ErrorKind::ArgumentConflict;
        let message = "--json cannot be used with `get REMOTE -`: standard output carries the file's bytes";
        let mut cli = Cli::command();
        // Built, so the message shows the usage of `coffer get` rather than of `coffer`.
        cli.build();
        let error = match cli.find_subcommand_mut("get") {
            Some(get) => get.error(kind, message),
            None => cli.error(kind, message),
        };
        error.exit();
    }
    output::init_logging(matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("coffer: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let json = cli.json;
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is::<commands::UsageError>() => {
            if json {
                println!("{}", serde_json::json!({"error": {"code": "usage", "message": format!("{e:#}")}}));
            } else {
                eprintln!("coffer: {e:#}");
            }
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => output::report_error(&e, json),
    }
}
