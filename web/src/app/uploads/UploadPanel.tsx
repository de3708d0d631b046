// The upload panel: every file with its progress, the total, cancel and retry.

import { useState } from "preact/hooks";
import { formatSize, parentPath, plural } from "../../format";
import { IconAlert, IconCheck, IconChevronDown, IconChevronRight, IconClose, IconRefresh } from "../icons";
import { ProgressBar } from "../ProgressBar";
import { useStore } from "../store";
import {
  cancelAll,
  cancelUpload,
  clearFinished,
  closePanel,
  fractionOf,
  retryFailed,
  retryUpload,
  summarize,
  uploads,
  type UploadItem,
} from "./queue";

const SHOWN = 200;
const ORDER: Record<string, number> = { running: 0, failed: 1, queued: 2, cancelled: 3, done: 4 };

function Row({ it }: { it: UploadItem }) {
  const pct = Math.round(fractionOf(it) * 100);
  const name = it.path.split("/").pop() || it.path;
  let status: string;
  if (it.status === "done") {
    status = it.unchanged
      ? "Already up to date"
      : it.bytesSent < it.size
        ? `Done · ${formatSize(it.size - it.bytesSent)} deduplicated`
        : "Done";
  } else if (it.status === "failed") status = it.error ?? "Failed";
  else if (it.status === "running") status = `${it.phase} · ${pct}%`;
  else status = it.phase;
  return (
    <li class={"up-item up-" + it.status}>
      <div class="up-line">
        <span class="up-icon">
          {it.status === "done" ? <IconCheck size={16} /> : it.status === "failed" ? <IconAlert size={16} /> : null}
        </span>
        <span class="up-name" title={it.path}>
          {name}
        </span>
        <span class="up-size">{formatSize(it.size)}</span>
        {(it.status === "queued" || it.status === "running") && (
          <button type="button" class="icon-btn icon-btn-sm" aria-label={`Cancel ${name}`} onClick={() => cancelUpload(it.id)}>
            <IconClose size={16} />
          </button>
        )}
        {(it.status === "failed" || it.status === "cancelled") && (
          <button type="button" class="icon-btn icon-btn-sm" aria-label={`Retry ${name}`} onClick={() => retryUpload(it.id)}>
            <IconRefresh size={16} />
          </button>
        )}
      </div>
      <div class="up-sub">
        <span class="up-status">{status}</span>
        <span class="up-dir">{parentPath(it.path)}</span>
      </div>
      {it.status === "running" && (
        <ProgressBar label={`${name} progress`} pct={pct} small />
      )}
    </li>
  );
}

export function UploadPanel() {
  const { items, open } = useStore(uploads);
  const [collapsed, setCollapsed] = useState(false);
  if (!open || items.length === 0) return null;
  const s = summarize(items);
  const pct = Math.round(s.fraction * 100);
  const title =
    s.active > 0
      ? `Uploading ${plural(s.active, "file")}`
      : s.failed > 0
        ? `${plural(s.failed, "upload")} failed`
        : "Uploads complete";
  const sorted = items.length > 1 ? [...items].sort((a, b) => ORDER[a.status] - ORDER[b.status]) : items;
  return (
    <section class="upload-panel" aria-label="Transfers">
      <header class="up-header">
        <button
          type="button"
          class="icon-btn icon-btn-sm"
          aria-expanded={!collapsed}
          aria-label={collapsed ? "Expand transfers" : "Collapse transfers"}
          onClick={() => setCollapsed(!collapsed)}
        >
          {collapsed ? <IconChevronRight size={16} /> : <IconChevronDown size={16} />}
        </button>
        <h2 class="up-title">{title}</h2>
        {s.active === 0 && (
          <button type="button" class="icon-btn icon-btn-sm" aria-label="Close transfers" onClick={closePanel}>
            <IconClose size={16} />
          </button>
        )}
      </header>
      <ProgressBar label="Total progress" pct={pct} warn={!!s.failed && !s.active} />
      <p class="up-summary" aria-live="polite">
        {plural(s.done, "file")} of {s.total - s.cancelled} done · {formatSize(s.bytesSent)} sent ·{" "}
        {formatSize(s.deduplicated)} deduplicated
      </p>
      {!collapsed && (
        <>
          <ul class="up-list">
            {sorted.slice(0, SHOWN).map((it) => (
              <Row key={it.id} it={it} />
            ))}
            {sorted.length > SHOWN && <li class="up-more">and {plural(sorted.length - SHOWN, "more file")}</li>}
          </ul>
          <div class="up-actions">
            {s.active > 0 && (
              <button type="button" class="btn btn-sm" onClick={cancelAll}>
                Cancel all
              </button>
            )}
            {(s.failed > 0 || s.cancelled > 0) && (
              <button type="button" class="btn btn-sm" onClick={retryFailed}>
                Retry failed
              </button>
            )}
            {s.done + s.cancelled > 0 && (
              <button type="button" class="btn btn-sm" onClick={clearFinished}>
                Clear finished
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
