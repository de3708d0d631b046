// A file's versions: when, how large, from which device; preview, download or restore one.

import { useState } from "preact/hooks";
import { apiFetch, apiJson } from "../api";
import { formatDate, formatSize } from "../format";
import type { NodeInfo, RevisionInfo, VersionsResponse } from "../types";
import { IconDownload, IconEye, IconRestore } from "../app/icons";
import { Spinner } from "./FileView";
import { useLoad, useStatus } from "./hooks";
import { PreviewDialog } from "./Preview";
import { revisionSource } from "./source";
import { ErrorNote } from "./util";

export function VersionsTab(props: { node: NodeInfo; path: string; onChanged: () => void }) {
  const { node, path } = props;
  const versions = useLoad(
    async (signal) => {
      const resp = await apiFetch("/api/v1/versions?" + new URLSearchParams({ path }), { signal });
      const body = (await resp.json()) as VersionsResponse;
      return [...body.versions].sort((a, b) => b.created_at - a.created_at || b.rev - a.rev);
    },
    [path, node.rev],
  );
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useStatus();
  const [previewing, setPreviewing] = useState<RevisionInfo | null>(null);

  const restore = async (v: RevisionInfo) => {
    setBusy(v.rev);
    setError(null);
    try {
      await apiJson("/api/v1/versions/restore", { path, rev: v.rev });
      setStatus(`Restored the version of ${formatDate(v.created_at, true)}.`);
      versions.reload();
      props.onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const list = versions.data;
  return (
    <div class="cp-section">
      <p class="cp-muted cp-small">
        Every change keeps the previous version. Restoring one makes a copy of it the current version.
      </p>
      <ErrorNote error={versions.error ?? error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      {versions.loading && !list && <Spinner label="Loading versions" />}
      {list && list.length === 0 && <p class="cp-empty">No versions yet.</p>}
      {list && list.length > 0 && (
        <ol class="cp-list cp-versions" aria-label="Versions, newest first">
          {list.map((v, i) => {
            const labelId = `cp-ver-${v.rev}`;
            return (
              <li key={v.rev} class={"cp-row cp-version" + (v.current ? " is-current" : "")}>
                <div class="cp-row-main" id={labelId}>
                  <p class="cp-row-title">
                    <time dateTime={new Date(v.created_at).toISOString()}>{formatDate(v.created_at, true)}</time>
                    {v.current && <span class="cp-badge cp-badge-accent">Current</span>}
                  </p>
                  <p class="cp-muted cp-small">
                    {formatSize(v.size)} · {v.device ?? "Unknown device"}
                    {i === list.length - 1 && list.length > 1 ? " · First version" : ""}
                  </p>
                </div>
                <div class="cp-row-actions">
                  <button
                    type="button"
                    class="cp-btn cp-btn-small"
                    aria-describedby={labelId}
                    onClick={() => setPreviewing(v)}
                  >
                    <IconEye size={16} />
                    Preview
                  </button>
                  <a
                    class="cp-btn cp-btn-small"
                    href={`/api/v1/revisions/${v.rev}/content`}
                    download={node.name}
                    aria-describedby={labelId}
                  >
                    <IconDownload size={16} />
                    Download
                  </a>
                  {!v.current && (
                    <button
                      type="button"
                      class="cp-btn cp-btn-small"
                      aria-describedby={labelId}
                      disabled={busy != null}
                      onClick={() => restore(v)}
                    >
                      <IconRestore size={16} />
                      {busy === v.rev ? "Restoring…" : "Restore"}
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
      {previewing && (
        <PreviewDialog
          source={revisionSource(node.name, previewing.size, previewing.rev, previewing.created_at)}
          subtitle={
            <>
              Version of {formatDate(previewing.created_at, true)} · {formatSize(previewing.size)}
              {previewing.current ? " · Current" : ""}
            </>
          }
          onClose={() => setPreviewing(null)}
        />
      )}
    </div>
  );
}
