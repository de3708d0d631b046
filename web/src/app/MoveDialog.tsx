// "Move to…": a folder picker that browses folders.

import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { apiFetch } from "../api";
import { baseName, joinPath, normalizePath, parentPath, plural } from "../format";
import type { ListResponse, NodeInfo } from "../types";
import { Dialog, DialogButtons, useDialogAction } from "./Dialog";
import { errorMessage } from "./errors";
import { IconArrowUp, IconChevronRight, IconFolderFilled } from "./icons";
import { moveProblem } from "./moves";

async function subfolders(path: string, signal: AbortSignal): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  let after: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ path, limit: "5000" });
    if (after !== undefined) q.set("after", after);
    const resp = (await (await apiFetch("/api/v1/fs/list?" + q, { signal })).json()) as ListResponse;
    for (const e of resp.entries) if (e.kind === "folder") out.push(e);
    if (resp.next_after === undefined) return out;
    after = resp.next_after;
  }
}

export function MoveDialog(props: { paths: string[]; start: string; onMove: (dest: string) => Promise<void>; onClose: () => void }) {
  const [at, setAt] = useState(normalizePath(props.start));
  const [folders, setFolders] = useState<NodeInfo[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const { busy, error: moveError, setError: setMoveError, run } = useDialogAction(props.onClose);
  const error = moveError ?? listError;

  useEffect(() => {
    const ctl = new AbortController();
    setFolders(null);
    setListError(null);
    setMoveError(null);
    subfolders(at, ctl.signal).then(setFolders, (e) => {
      if (!ctl.signal.aborted) setListError(errorMessage(e));
    });
    return () => ctl.abort();
  }, [at]);

  const problem = moveProblem(props.paths, at);
  const moving = new Set(props.paths.map(normalizePath));
  const what = props.paths.length === 1 ? `“${baseName(props.paths[0])}”` : plural(props.paths.length, "item");
  const crumbs = normalizePath(at).split("/").filter(Boolean);

  const submit = () => {
    if (!problem) void run(() => props.onMove(at));
  };

  return (
    <Dialog
      title={`Move ${what}`}
      onClose={props.onClose}
      busy={busy}
      wide
      onSubmit={submit}
      footer={
        <>
          <span class="dialog-footer-note">{problem ?? `To ${at === "/" ? "Files" : baseName(at)}`}</span>
          <DialogButtons label="Move" busy={busy} onCancel={props.onClose} disabled={!!problem} />
        </>
      }
    >
      <nav class="picker-crumbs" aria-label="Folder location">
        <button type="button" class="icon-btn icon-btn-sm" aria-label="Up one folder" disabled={at === "/"} onClick={() => setAt(parentPath(at))}>
          <IconArrowUp size={16} />
        </button>
        <button type="button" class="crumb-btn" onClick={() => setAt("/")} aria-current={at === "/" ? "location" : undefined}>
          Files
        </button>
        {crumbs.map((name, i) => {
          const p = "/" + crumbs.slice(0, i + 1).join("/");
          return (
            <Fragment key={p}>
              <IconChevronRight size={14} class="crumb-sep" />
              <button type="button" class="crumb-btn" onClick={() => setAt(p)} aria-current={p === at ? "location" : undefined}>
                {name}
              </button>
            </Fragment>
          );
        })}
      </nav>
      <div class="picker-list" aria-busy={folders === null}>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        {!error && folders === null && <p class="picker-note">Loading…</p>}
        {folders?.length === 0 && <p class="picker-note">No folders here.</p>}
        {folders && folders.length > 0 && (
          <div role="list" aria-label="Folders">
            {folders.map((f) => {
              const p = joinPath(at, f.name);
              const self = moving.has(p);
              return (
                <div role="listitem" key={f.id}>
                  <button type="button" class="picker-item" disabled={self} onClick={() => setAt(p)} title={self ? "This folder is being moved" : undefined}>
                    <IconFolderFilled size={18} class="ic-folder" />
                    <span>{f.name}</span>
                    <IconChevronRight size={16} class="picker-chev" />
                  </button>
                </div>
              );
            })}
          </div>
        )}
      </div>
    </Dialog>
  );
}

export function ShortcutsDialog(props: { onClose: () => void }) {
  const rows: [string, string][] = [
    ["↑ ↓ ← →", "Move between items"],
    ["Shift + ↑ ↓", "Extend the selection"],
    ["Home / End", "First / last item"],
    ["Enter", "Open the folder or preview the file"],
    ["Space", "Select or unselect the item"],
    ["Ctrl/⌘ + A", "Select all"],
    ["Escape", "Clear the selection"],
    ["Backspace or Alt + ↑", "Go to the parent folder"],
    ["Delete", "Move the selection to the trash"],
    ["F2", "Rename"],
    ["Shift + F10 or Menu key", "Actions of the item"],
    ["→ / ← on a folder of the navigation", "Show or hide its subfolders"],
    ["?", "Show these shortcuts"],
  ];
  return (
    <Dialog title="Keyboard shortcuts" onClose={props.onClose} footer={<button type="button" class="btn btn-primary" onClick={props.onClose} data-autofocus>Done</button>}>
      <table class="shortcuts">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">
                <kbd>{k}</kbd>
              </th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
