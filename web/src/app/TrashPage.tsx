// The trash: what was deleted, from where and when; restore, delete forever, empty.

import { useEffect, useState } from "preact/hooks";
import { apiJson } from "../api";
import { formatDate, formatSize, nodeKind, parentPath, plural } from "../format";
import type { PurgeResponse, TrashEntry, TrashListResponse } from "../types";
import { friendlyError } from "./errors";
import { ConfirmDialog } from "./Dialog";
import { IconAlert, IconRefresh, IconRestore, IconTrash, NodeIcon } from "./icons";
import { filesChanged } from "./live";
import { restoreItems } from "./moves";
import { refreshUser } from "./session";
import { showToast } from "./toast";

type Confirm = { kind: "one"; entry: TrashEntry } | { kind: "all" } | null;

export function TrashPage() {
  const [entries, setEntries] = useState<TrashEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [busy, setBusy] = useState<Set<number>>(new Set());

  const load = async () => {
    try {
      const r = await apiJson<TrashListResponse>("/api/v1/trash");
      setEntries([...r.entries].sort((a, b) => b.trashed_at - a.trashed_at));
      setError(null);
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    document.title = "Trash – Coffer";
    void load();
    let t: number | undefined;
    const off = filesChanged.on(() => {
      clearTimeout(t);
      t = window.setTimeout(load, 150);
    });
    return () => {
      off();
      clearTimeout(t);
    };
  }, []);

  const restore = async (e: TrashEntry) => {
    setBusy((b) => new Set(b).add(e.node.id));
    await restoreItems([e.node.id]);
    setBusy((b) => {
      const n = new Set(b);
      n.delete(e.node.id);
      return n;
    });
    void load();
  };

  const purge = async (id?: number) => {
    const r = await apiJson<PurgeResponse>("/api/v1/trash/purge", id === undefined ? {} : { id });
    showToast(id === undefined ? "The trash is empty" : `Deleted forever`, { kind: "success" });
    if (r.purged === 0 && id !== undefined) showToast("Nothing was deleted");
    void refreshUser();
    filesChanged.emit();
    await load();
  };

  let content;
  if (error && !entries) {
    content = (
      <div class="state-box" role="alert">
        <IconAlert size={40} class="state-icon state-icon-error" />
        <h2>The trash could not be loaded</h2>
        <p class="muted">{friendlyError(error)}</p>
        <button type="button" class="btn btn-primary" onClick={load}>
          <IconRefresh size={18} />
          <span class="btn-label">Retry</span>
        </button>
      </div>
    );
  } else if (!entries) {
    content = (
      <div class="state-box" role="status">
        <span class="spinner" aria-hidden="true" />
        <p>Loading…</p>
      </div>
    );
  } else if (entries.length === 0) {
    content = (
      <div class="state-box">
        <IconTrash size={48} class="state-icon" />
        <h2>The trash is empty</h2>
        <p class="muted">Deleted files and folders stay here until you delete them forever.</p>
      </div>
    );
  } else {
    content = (
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="col-origin">
                Original location
              </th>
              <th scope="col" class="col-date">
                Deleted
              </th>
              <th scope="col" class="col-size">
                Size
              </th>
              <th scope="col" class="col-actions">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => {
              const folder = e.node.kind === "folder";
              return (
                <tr key={e.node.id} aria-label={e.node.name}>
                  <td class="cell-name">
                    <NodeIcon kind={nodeKind(e.node)} size={20} />
                    <span class="name-text" title={e.node.name}>
                      {e.node.name}
                    </span>
                  </td>
                  <td class="col-origin muted" title={e.original_path}>
                    {parentPath(e.original_path) === "/" ? "Files" : parentPath(e.original_path)}
                  </td>
                  <td class="col-date" title={formatDate(e.trashed_at, true)}>
                    {formatDate(e.trashed_at)}
                  </td>
                  <td class="col-size">{folder ? <span class="muted">—</span> : formatSize(e.node.size)}</td>
                  <td class="col-actions">
                    <button type="button" class="btn btn-sm" disabled={busy.has(e.node.id)} onClick={() => restore(e)} aria-label={`Restore: ${e.node.name}`}>
                      <IconRestore size={16} />
                      <span class="btn-label">Restore</span>
                    </button>
                    <button type="button" class="btn btn-sm btn-danger-quiet" disabled={busy.has(e.node.id)} onClick={() => setConfirm({ kind: "one", entry: e })} aria-label={`Delete forever: ${e.node.name}`}>
                      <IconTrash size={16} />
                      <span class="btn-label">Delete forever</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <section class="page" aria-labelledby="trash-title">
      <div class="page-head">
        <h1 id="trash-title">Trash</h1>
        {entries && entries.length > 0 && <span class="muted">{plural(entries.length, "item")}</span>}
        <div class="toolbar-spacer" />
        {entries && entries.length > 0 && (
          <button type="button" class="btn btn-danger-quiet" onClick={() => setConfirm({ kind: "all" })}>
            <IconTrash size={18} />
            <span class="btn-label">Empty trash</span>
          </button>
        )}
      </div>
      {content}
      {confirm?.kind === "one" && (
        <ConfirmDialog
          title="Delete forever?"
          message={
            <p>
              “{confirm.entry.node.name}” will be deleted forever{confirm.entry.node.kind === "folder" ? ", with everything in it" : ""}. This cannot be undone.
            </p>
          }
          confirmLabel="Delete forever"
          danger
          onConfirm={async () => {
            try {
              await purge(confirm.entry.node.id);
            } catch (e) {
              throw new Error(friendlyError(e));
            }
          }}
          onClose={() => setConfirm(null)}
        />
      )}
      {confirm?.kind === "all" && (
        <ConfirmDialog
          title="Empty the trash?"
          message={<p>All {plural(entries?.length ?? 0, "item")} in the trash will be deleted forever. This cannot be undone.</p>}
          confirmLabel="Empty trash"
          danger
          onConfirm={async () => {
            try {
              await purge();
            } catch (e) {
              throw new Error(friendlyError(e));
            }
          }}
          onClose={() => setConfirm(null)}
        />
      )}
    </section>
  );
}

