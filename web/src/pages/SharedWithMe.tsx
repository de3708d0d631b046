// What other people shared with the user: shared folders (they sit in the user's tree;
// opening one browses it) and single files (reached by id: previewed and downloaded
// through their current revision).

import { useState } from "preact/hooks";
import { apiFetch, apiJson } from "../api";
import { baseName, fileKind, formatDate, formatSize, plural } from "../format";
import type { FileSharesResponse, SharedFileInfo, SharedFolderInfo, SharesResponse } from "../types";
import { IconDownload, IconFolderShared, NodeIcon } from "../app/icons";
import { Spinner } from "../panels/FileView";
import { useLoad, useStatus } from "../panels/hooks";
import { PreviewDialog } from "../panels/Preview";
import { revisionSource } from "../panels/source";
import { ErrorNote, roleLabel, useMe } from "../panels/util";
import "../panels/panels.css";

export function SharedWithMePage(props: { onOpen: (path: string) => void }) {
  const folders = useLoad(async (signal) => {
    const resp = await apiFetch("/api/v1/shares?with_me=true", { signal });
    return ((await resp.json()) as SharesResponse).shares;
  }, []);
  const files = useLoad(async (signal) => {
    const resp = await apiFetch("/api/v1/file-shares?with_me=true", { signal });
    const list = ((await resp.json()) as FileSharesResponse).files;
    return [...list].sort((a, b) => a.name.localeCompare(b.name));
  }, []);
  const me = useMe();
  const [previewing, setPreviewing] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useStatus();

  const fileList = files.data ?? [];
  const previewable = fileList.filter((f) => f.rev != null);
  const at = previewable.findIndex((f) => f.id === previewing);
  const current = at >= 0 ? previewable[at] : null;

  const leaveFile = async (f: SharedFileInfo) => {
    if (!me) return;
    if (!confirm(`Remove “${f.name}” from your shared files? ${f.owner} can share it with you again.`)) return;
    setError(null);
    try {
      await apiJson("/api/v1/file-shares/remove", { id: f.id, user: me });
      files.setData(fileList.filter((x) => x.id !== f.id));
      setStatus(`Removed “${f.name}”.`);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div class="cp-page">
      <header class="cp-page-head">
        <h1 class="cp-page-title">Shared with me</h1>
        <p class="cp-muted">Folders and files other people shared with you.</p>
      </header>
      <ErrorNote error={error} />
      <p class="cp-status" role="status">
        {status}
      </p>

      <section aria-labelledby="cp-swm-folders">
        <h2 id="cp-swm-folders" class="cp-section-title">
          Folders {folders.data && <span class="cp-count">{folders.data.length}</span>}
        </h2>
        <ErrorNote error={folders.error} />
        {folders.loading && !folders.data && <Spinner label="Loading shared folders" />}
        {folders.data && folders.data.length === 0 && (
          <p class="cp-empty">No shared folders yet. When someone shares a folder with you, it appears here and in your files.</p>
        )}
        {folders.data && folders.data.length > 0 && (
          <ul class="cp-list cp-card cp-shared">
            {folders.data.map((s) => (
              <FolderRow key={s.namespace_id} share={s} onOpen={props.onOpen} />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="cp-swm-files">
        <h2 id="cp-swm-files" class="cp-section-title">
          Files {files.data && <span class="cp-count">{files.data.length}</span>}
        </h2>
        <ErrorNote error={files.error} />
        {files.loading && !files.data && <Spinner label="Loading shared files" />}
        {files.data && files.data.length === 0 && <p class="cp-empty">No files shared with you.</p>}
        {fileList.length > 0 && (
          <ul class="cp-list cp-card cp-shared">
            {fileList.map((f) => (
              <li key={f.id} class="cp-row cp-shared-row">
                <NodeIcon kind={fileKind(f.name)} size={28} />
                <div class="cp-row-main">
                  {f.rev != null ? (
                    <button type="button" class="cp-row-link" onClick={() => setPreviewing(f.id)} id={`cp-sf-${f.id}`}>
                      {f.name}
                    </button>
                  ) : (
                    <p class="cp-row-title" id={`cp-sf-${f.id}`}>
                      {f.name}
                    </p>
                  )}
                  <p class="cp-muted cp-small">
                    From {f.owner} · {roleLabel(f.role)} · {formatSize(f.size)} · {formatDate(f.modified_at)}
                  </p>
                </div>
                <div class="cp-row-actions">
                  {f.rev != null && (
                    <a
                      class="cp-icon-btn"
                      href={`/api/v1/revisions/${f.rev}/content`}
                      download={f.name}
                      aria-label={`Download ${f.name}`}
                      title="Download"
                    >
                      <IconDownload size={18} />
                    </a>
                  )}
                  <button
                    type="button"
                    class="cp-btn cp-btn-small"
                    aria-describedby={`cp-sf-${f.id}`}
                    disabled={!me}
                    onClick={() => leaveFile(f)}
                  >
                    Remove
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      {current && (
        <PreviewDialog
          source={revisionSource(current.name, current.size, current.rev!, current.modified_at)}
          subtitle={`Shared by ${current.owner} · ${formatSize(current.size)} · ${formatDate(current.modified_at, true)}`}
          onClose={() => setPreviewing(null)}
          onPrev={at > 0 ? () => setPreviewing(previewable[at - 1].id) : undefined}
          onNext={at < previewable.length - 1 ? () => setPreviewing(previewable[at + 1].id) : undefined}
        />
      )}
    </div>
  );
}

function FolderRow({ share, onOpen }: { share: SharedFolderInfo; onOpen: (path: string) => void }) {
  const name = baseName(share.path) || share.path;
  const others = share.members.length;
  return (
    <li class="cp-row cp-shared-row">
      <IconFolderShared size={28} class="ic-folder" />
      <div class="cp-row-main">
        <button type="button" class="cp-row-link" onClick={() => onOpen(share.path)}>
          {name}
        </button>
        <p class="cp-muted cp-small">
          Owner {share.owner} · You: {roleLabel(share.role)} · {plural(others, "member")}
          {share.path !== "/" + name && <> · in {share.path}</>}
        </p>
      </div>
    </li>
  );
}
