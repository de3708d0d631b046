// TypeScript shapes of the JSON that `/api/v1` speaks (see crates/core/src/wire.rs).
// Times are Unix milliseconds, sizes are bytes, ids are integers.

export type NodeKind = "file" | "folder";
export type Role = "viewer" | "commenter" | "editor" | "owner";
export type DeviceKind = "device" | "browser" | "app_password";
export type LinkState = "active" | "expired" | "revoked" | "exhausted" | "unavailable";
export type ChangeKind = "created" | "modified" | "moved" | "trashed" | "restored" | "deleted";

export interface ErrorDetail {
  code: string;
  message: string;
  current?: NodeInfo;
  missing?: string[];
  retry_after_secs?: number;
}

export interface ErrorBody {
  error: ErrorDetail;
}

export interface UserInfo {
  id: number;
  name: string;
  is_admin: boolean;
  /** `null` means unlimited. */
  quota_bytes: number | null;
  used_bytes: number;
  /** The administrator requires two-factor sign-in and this account has none yet. */
  must_set_up_two_factor?: boolean;
}

export interface DeviceInfo {
  id: number;
  name: string;
  kind: DeviceKind;
  /** An app password that may only read. */
  read_only?: boolean;
  created_at: number;
  last_seen_at: number;
  /** The address it was last used from, when known. */
  last_address?: string;
  /** True for the device (or browser sign-in) that made the request. */
  current: boolean;
}

export interface BrowserSession {
  csrf: string;
  user: UserInfo;
  device_id: number;
}

export interface SetupStatus {
  needed: boolean;
}

export interface SetupRequest {
  token: string;
  name: string;
  password: string;
}

export interface SessionRequest {
  /** The authenticator app's code or a recovery code, for two-factor sign-in. */
  code?: string;
  user: string;
  password: string;
}

export interface NodeInfo {
  /** Stable: renames and moves never change it. */
  id: number;
  namespace_id: number;
  /** `null` only for a namespace root. */
  parent_id: number | null;
  name: string;
  kind: NodeKind;
  /** The full path below the caller's root, when the server computed it. */
  path?: string;
  size: number;
  /** The current revision (files only). */
  rev?: number;
  content_hash?: string;
  /** When the node last changed on the server. */
  modified_at: number;
  /** The file's own modification time, as the uploading client reported it. */
  mtime?: number;
  /** Executable, or a symbolic link whose target is the file's content; absent for an ordinary file. */
  mode?: FileMode;
  trashed: boolean;
}

/** What a file is beyond its bytes. */
export type FileMode = "executable" | "symlink";

export interface ListResponse {
  entries: NodeInfo[];
  /** Pass as `after` for the next page; absent on the last page. */
  next_after?: string;
}

export interface MkdirRequest {
  path: string;
  parents?: boolean;
}

export interface MoveRequest {
  from: string;
  to: string;
}

export interface PathRequest {
  path: string;
  if_rev?: number;
}

export interface TrashEntry {
  node: NodeInfo;
  /** Where it was when it was deleted. */
  original_path: string;
  trashed_at: number;
}

export interface TrashListResponse {
  entries: TrashEntry[];
}

export interface PurgeResponse {
  purged: number;
}

export interface RevisionInfo {
  rev: number;
  size: number;
  content_hash: string;
  created_at: number;
  device?: string;
  current: boolean;
}

export interface VersionsResponse {
  versions: RevisionInfo[];
}

export interface VersionRestoreRequest {
  path: string;
  rev: number;
}

export interface NamespacePosition {
  namespace_id: number;
  seq: number;
}

/** A message of the `/api/v1/notify` WebSocket. */
export type NotifyMessage =
  | { type: "hello"; namespaces: NamespacePosition[] }
  | { type: "changed"; namespace_id: number; seq: number }
  | { type: "comment"; namespace_id: number; node_id: number; comment_id: number };

export interface MemberInfo {
  user: string;
  role: Role;
}

export interface SharedFolderInfo {
  /** Where it is in the caller's tree (their mount). */
  path: string;
  namespace_id: number;
  /** The caller's role in it. */
  role: Role;
  owner: string;
  /** Everyone in it, owner first. */
  members: MemberInfo[];
}

export interface SharesResponse {
  shares: SharedFolderInfo[];
}

export interface ShareRequest {
  path: string;
  user: string;
  role: Role;
}

export interface UnshareRequest {
  path: string;
  user: string;
}

export interface CommentInfo {
  id: number;
  node_id: number;
  author: string;
  rev: number | null;
  body: string;
  created_at: number;
  edited_at?: number;
}

export interface CommentsResponse {
  comments: CommentInfo[];
  next_after?: number;
}

export interface CommentRequest {
  path: string;
  body: string;
}

export interface CommentEditRequest {
  body: string;
}

export interface LinkRequest {
  path: string;
  expires_at?: number;
  password?: string;
  max_downloads?: number;
  allow_download?: boolean;
}

export interface LinkInfo {
  id: number;
  /** The secret part of the link. */
  token: string;
  /** `/s/<token>`: put the server's address before it. */
  url_path: string;
  /** Where the item is in the owner's tree; absent while it is in the trash. */
  path?: string;
  node_id: number;
  kind: NodeKind;
  created_at: number;
  expires_at?: number;
  has_password: boolean;
  max_downloads?: number;
  downloads: number;
  allow_download: boolean;
  state: LinkState;
}

export interface LinksResponse {
  links: LinkInfo[];
}

/** A file or folder seen through a public link; `path` is relative to the link's item. */
export interface PublicItem {
  name: string;
  path: string;
  kind: NodeKind;
  size: number;
  mtime?: number;
  modified_at: number;
  content_hash?: string;
}

export interface PublicLinkResponse {
  item: PublicItem;
  allow_download: boolean;
  expires_at?: number;
  /** Downloads left, when the link has a limit. */
  downloads_left?: number;
}

export interface PublicListResponse {
  entries: PublicItem[];
  next_after?: string;
}

export interface UnlockRequest {
  password: string;
}

export interface UnlockResponse {
  key: string;
  expires_at: number;
}

export interface FileShareRequest {
  path: string;
  user: string;
  role: Role;
}

export interface FileUnshareRequest {
  /** The file's id. */
  id: number;
  user: string;
}

export interface SharedFileInfo {
  id: number;
  name: string;
  /** Where it is in the caller's tree; absent for a file shared with the caller. */
  path?: string;
  size: number;
  rev?: number;
  modified_at: number;
  owner: string;
  role: Role;
  members: MemberInfo[];
}

export interface FileSharesResponse {
  files: SharedFileInfo[];
}

/** Two-factor sign-in of the signed-in account. */
export interface TwoFactorStatus {
  enabled: boolean;
  pending: boolean;
  recovery_codes_left: number;
}

/** A started two-factor setup: the secret as an otpauth URI, as text and as an SVG QR code. */
export interface TwoFactorSetup {
  otpauth_uri: string;
  secret: string;
  qr_svg: string;
}

/** Single-use recovery codes, shown once. */
export interface RecoveryCodes {
  codes: string[];
}

/** How many sign-ins a "sign out everywhere else" or a password change revoked. */
export interface RevokedResponse {
  revoked: number;
}

/** A new app password, shown once: `POST /api/v1/app-passwords`. */
export interface AppPasswordCreated {
  id: number;
  name: string;
  read_only: boolean;
  user: string;
  password: string;
}

/** One audit log event: `GET /api/v1/audit`. */
export interface AuditEntry {
  id: number;
  at: number;
  kind: string;
  actor?: string;
  credential_id?: number;
  address?: string;
  target?: string;
  detail?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_before?: number;
}
