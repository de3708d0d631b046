// Moving, deleting and restoring several items, with toasts and undo.

import { apiJson } from "../api";
import { baseName, joinPath, normalizePath, parentPath, plural } from "../format";
import type { NodeInfo } from "../types";
import { filesChanged } from "./live";
import { refreshUser } from "./session";
import { showError, showToast } from "./toast";

/** The drag data type of items dragged inside the app. */
export const DRAG_TYPE = "application/x-coffer-paths";

/** Why `paths` cannot move into `dest`, or null. */
export function moveProblem(paths: string[], dest: string): string | null {
  const d = normalizePath(dest);
  for (const p of paths) {
    const n = normalizePath(p);
    if (d === n || d.startsWith(n + "/")) return "A folder cannot be moved into itself.";
  }
  if (paths.every((p) => parentPath(p) === d)) return "Already in this folder.";
  return null;
}

export async function moveItems(paths: string[], dest: string): Promise<void> {
  const problem = moveProblem(paths, dest);
  if (problem) {
    showToast(problem, { kind: "info" });
    return;
  }
  const moved: { from: string; to: string }[] = [];
  const failed: string[] = [];
  let lastError: unknown = null;
  for (const from of paths) {
    if (parentPath(from) === normalizePath(dest)) continue;
    const to = joinPath(dest, baseName(from));
    try {
      await apiJson<NodeInfo>("/api/v1/fs/move", { from, to });
      moved.push({ from, to });
    } catch (e) {
      failed.push(baseName(from));
      lastError = e;
    }
  }
  filesChanged.emit();
  const where = normalizePath(dest) === "/" ? "Files" : baseName(dest);
  if (moved.length) {
    showToast(`Moved ${moved.length === 1 ? "“" + baseName(moved[0].from) + "”" : plural(moved.length, "item")} to ${where}`, {
      kind: "success",
      action: {
        label: "Undo",
        run: async () => {
          for (const m of moved) {
            try {
              await apiJson("/api/v1/fs/move", { from: m.to, to: m.from });
            } catch (e) {
              showError(e, `Could not move “${baseName(m.to)}” back`);
            }
          }
          filesChanged.emit();
        },
      },
    });
  }
  if (failed.length) showError(lastError, `Could not move ${failed.length === 1 ? "“" + failed[0] + "”" : plural(failed.length, "item")}`);
}

export async function deleteItems(paths: string[]): Promise<void> {
  const trashed: NodeInfo[] = [];
  const failed: string[] = [];
  let lastError: unknown = null;
  for (const path of paths) {
    try {
      trashed.push(await apiJson<NodeInfo>("/api/v1/fs/delete", { path }));
    } catch (e) {
      failed.push(baseName(path));
      lastError = e;
    }
  }
  filesChanged.emit();
  void refreshUser();
  if (trashed.length) {
    showToast(`Moved ${trashed.length === 1 ? "“" + trashed[0].name + "”" : plural(trashed.length, "item")} to trash`, {
      action: { label: "Undo", run: () => void restoreItems(trashed.map((n) => n.id)) },
    });
  }
  if (failed.length) showError(lastError, `Could not delete ${failed.length === 1 ? "“" + failed[0] + "”" : plural(failed.length, "item")}`);
}

export async function restoreItems(ids: number[]): Promise<number> {
  let ok = 0;
  for (const id of ids) {
    try {
      await apiJson("/api/v1/trash/restore", { id });
      ok++;
    } catch (e) {
      showError(e, "Could not restore");
    }
  }
  filesChanged.emit();
  void refreshUser();
  if (ok) showToast(`Restored ${plural(ok, "item")}`, { kind: "success" });
  return ok;
}

/** Starts a download by following a link (no fetch: the browser streams it to disk). */
export function startDownload(url: string): void {
  const a = document.createElement("a");
  a.href = url;
  a.download = "";
  a.rel = "noopener";
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/** Reads the paths of items dragged inside the app, if that is what is dragged. */
export function draggedPaths(dt: DataTransfer | null): string[] | null {
  if (!dt) return null;
  const raw = dt.getData(DRAG_TYPE);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : null;
  } catch {
    return null;
  }
}

export function isInternalDrag(dt: DataTransfer | null): boolean {
  return !!dt && Array.from(dt.types).includes(DRAG_TYPE);
}

export function isFileDrag(dt: DataTransfer | null): boolean {
  return !!dt && Array.from(dt.types).includes("Files") && !isInternalDrag(dt);
}
