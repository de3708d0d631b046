// Who a folder or file is shared with. A folder becomes a shared folder whose members
// are viewers, commenters or editors; a single file is shared with users as viewer or
// editor (they reach it under "Shared with me").

import { useId, useState } from "preact/hooks";
import { apiFetch, apiJson, ApiError } from "../api";
import { normalizePath } from "../format";
import type {
  FileSharesResponse,
  MemberInfo,
  NodeInfo,
  Role,
  SharedFileInfo,
  SharedFolderInfo,
  SharesResponse,
} from "../types";
import { IconTrash } from "../app/icons";
import { Spinner } from "./FileView";
import { useAction, useLoad, useStatus } from "./hooks";
import { ErrorNote, roleLabel, useMe } from "./util";

const FOLDER_ROLES: Role[] = ["viewer", "commenter", "editor"];
const FILE_ROLES: Role[] = ["viewer", "editor"];

const ROLE_HELP: Record<string, string> = {
  viewer: "can see and download",
  commenter: "can see and comment",
  editor: "can change, add and delete",
};

export function SharingTab(props: { node: NodeInfo; path: string; onChanged: () => void; onClose: () => void }) {
  return props.node.kind === "folder" ? <FolderSharing {...props} /> : <FileSharing {...props} />;
}

function FolderSharing(props: { node: NodeInfo; path: string; onChanged: () => void; onClose: () => void }) {
  const path = normalizePath(props.path);
  const me = useMe();
  const share = useLoad<SharedFolderInfo | null>(
    async (signal) => {
      try {
        const resp = await apiFetch("/api/v1/shares?" + new URLSearchParams({ path }), { signal });
        const body = (await resp.json()) as SharesResponse;
        return body.shares[0] ?? null;
      } catch (e) {
        // A folder of the user's own that is not shared.
        if (e instanceof ApiError && e.code === "not_found") return null;
        throw e;
      }
    },
    [path],
  );
  const { busy, error, run } = useAction();
  const [status, setStatus] = useStatus();

  const info = share.data;
  const inside = info && normalizePath(info.path) !== path;
  const isOwner = !info || info.role === "owner";

  const add = (user: string, role: Role) =>
    run(async () => {
      const next = await apiJson<SharedFolderInfo>("/api/v1/shares", { path, user, role });
      const wasShared = !!info;
      share.setData(next);
      setStatus(`Added as ${role}.`);
      if (!wasShared) props.onChanged();
    });
  const changeRole = (user: string, role: Role) =>
    run(async () => {
      share.setData(await apiJson<SharedFolderInfo>("/api/v1/shares", { path: info!.path, user, role }));
      setStatus(`Role changed to ${role}.`);
    });
  const remove = (user: string) =>
    run(async () => {
      if (!confirm(`Remove ${user} from this shared folder? It disappears from their files at once.`)) return;
      share.setData(await apiJson<SharedFolderInfo>("/api/v1/shares/remove", { path: info!.path, user }));
      setStatus("Removed from the shared folder.");
    });
  const leave = () =>
    run(async () => {
      if (!confirm(`Leave "${info!.path}"? It disappears from your files; the owner can share it with you again.`))
        return;
      await apiJson("/api/v1/shares/leave", { path: info!.path });
      props.onChanged();
      props.onClose();
    });

  if (share.loading && info === undefined) return <Spinner label="Loading sharing" />;
  if (share.error) return <ErrorNote error={share.error} />;

  return (
    <div class="cp-section">
      {!info && (
        <p class="cp-muted cp-small">
          This folder is not shared. Add people to make it a shared folder: it then appears in their files too.
        </p>
      )}
      {info && inside && (
        <p class="cp-note">
          This folder is inside the shared folder <strong>{info.path}</strong>, owned by {info.owner}. Everyone in
          it can reach this folder.
        </p>
      )}
      {info && !inside && (
        <p class="cp-muted cp-small">
          {info.role === "owner"
            ? "You own this shared folder: its members see it in their files."
            : `Shared folder owned by ${info.owner}. You are ${info.role === "editor" ? "an" : "a"} ${info.role}.`}
        </p>
      )}
      <ErrorNote error={error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      {isOwner && !inside && <ShareForm roles={FOLDER_ROLES} busy={busy} onShare={add} />}
      {info && (
        <MemberList
          members={info.members}
          me={me}
          roles={FOLDER_ROLES}
          editable={info.role === "owner" && !inside}
          busy={busy}
          onRole={changeRole}
          onRemove={remove}
        />
      )}
      {info && !inside && info.role !== "owner" && (
        <div class="cp-actions-row">
          <button type="button" class="cp-btn cp-btn-danger" disabled={busy} onClick={leave}>
            Leave this shared folder
          </button>
        </div>
      )}
    </div>
  );
}

function FileSharing(props: { node: NodeInfo; path: string }) {
  const { node } = props;
  const path = normalizePath(props.path);
  const me = useMe();
  const shared = useLoad<SharedFileInfo | null>(
    async (signal) => {
      const resp = await apiFetch("/api/v1/file-shares", { signal });
      const body = (await resp.json()) as FileSharesResponse;
      return body.files.find((f) => f.id === node.id) ?? null;
    },
    [node.id],
  );
  const { busy, error, run } = useAction();
  const [status, setStatus] = useStatus();

  const add = (user: string, role: Role) =>
    run(async () => {
      shared.setData(await apiJson<SharedFileInfo>("/api/v1/file-shares", { path, user, role }));
      setStatus(`Added as ${role}.`);
    });
  const changeRole = (user: string, role: Role) =>
    run(async () => {
      shared.setData(await apiJson<SharedFileInfo>("/api/v1/file-shares", { path, user, role }));
      setStatus(`Role changed to ${role}.`);
    });
  const remove = (user: string) =>
    run(async () => {
      if (!confirm(`Stop sharing this file with ${user}?`)) return;
      await apiJson("/api/v1/file-shares/remove", { id: node.id, user });
      setStatus("The file is no longer shared with them.");
      shared.reload();
    });

  if (shared.loading && shared.data === undefined) return <Spinner label="Loading sharing" />;
  const info = shared.data;
  const members = info?.members.filter((m) => m.role !== "owner") ?? [];
  return (
    <div class="cp-section">
      <p class="cp-muted cp-small">
        Share this one file with people: they find it under “Shared with me”. To share many files, share their
        folder.
      </p>
      <ErrorNote error={shared.error ?? error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      <ShareForm roles={FILE_ROLES} busy={busy} onShare={add} />
      {members.length > 0 ? (
        <MemberList
          members={members}
          me={me}
          roles={FILE_ROLES}
          editable
          busy={busy}
          onRole={changeRole}
          onRemove={remove}
        />
      ) : (
        !shared.error && <p class="cp-empty">Not shared with anyone yet.</p>
      )}
    </div>
  );
}

function ShareForm(props: { roles: Role[]; busy: boolean; onShare: (user: string, role: Role) => Promise<boolean> }) {
  const id = useId();
  const [user, setUser] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  return (
    <form
      class="cp-form cp-share-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const name = user.trim();
        if (!name) return;
        if (await props.onShare(name, role)) setUser("");
      }}
    >
      <div class="cp-field cp-grow">
        <label for={`${id}-user`}>User name</label>
        <input
          id={`${id}-user`}
          class="cp-input"
          type="text"
          autocomplete="off"
          autocapitalize="none"
          spellcheck={false}
          required
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
        />
      </div>
      <div class="cp-field">
        <label for={`${id}-role`}>Role</label>
        <select
          id={`${id}-role`}
          class="cp-input"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as Role)}
          aria-describedby={`${id}-help`}
        >
          {props.roles.map((r) => (
            <option key={r} value={r}>
              {roleLabel(r)}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="cp-btn cp-btn-primary" disabled={props.busy || !user.trim()}>
        Share
      </button>
      <p id={`${id}-help`} class="cp-muted cp-small cp-form-help">
        {roleLabel(role)}: {ROLE_HELP[role]}.
      </p>
    </form>
  );
}

function MemberList(props: {
  members: MemberInfo[];
  me: string | null;
  roles: Role[];
  editable: boolean;
  busy: boolean;
  onRole: (user: string, role: Role) => void;
  onRemove: (user: string) => void;
}) {
  return (
    <ul class="cp-list cp-members" aria-label="People with access">
      {props.members.map((m) => (
        <li key={m.user} class="cp-row cp-member">
          <span class="cp-avatar" aria-hidden="true">
            {m.user.slice(0, 1).toUpperCase()}
          </span>
          <div class="cp-row-main">
            <p class="cp-row-title">
              {m.user}
              {m.user === props.me && <span class="cp-muted"> (you)</span>}
            </p>
          </div>
          {m.role === "owner" || !props.editable ? (
            <span class="cp-badge">{roleLabel(m.role)}</span>
          ) : (
            <>
              <select
                class="cp-input cp-input-small"
                aria-label={`Access for ${m.user}`}
                value={m.role}
                disabled={props.busy}
                onChange={(e) => props.onRole(m.user, e.currentTarget.value as Role)}
              >
                {props.roles.map((r) => (
                  <option key={r} value={r}>
                    {roleLabel(r)}
                  </option>
                ))}
              </select>
              <button
                type="button"
                class="cp-icon-btn cp-danger-hover"
                aria-label={`Remove ${m.user}`}
                title={`Remove ${m.user}`}
                disabled={props.busy}
                onClick={() => props.onRemove(m.user)}
              >
                <IconTrash size={18} />
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
