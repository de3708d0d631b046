// The folder tree of the navigation: folders expand on demand; each is a link and a
// drop target.

import { useEffect, useId } from "preact/hooks";
import { apiFetch } from "../api";
import { normalizePath } from "../format";
import type { ListResponse, NodeInfo } from "../types";
import { useFolderDrop } from "./dnd";
import { IconChevronDown, IconChevronRight, IconFolder } from "./icons";
import { filesChanged } from "./live";
import { filesUrl, isPlainClick, navigate } from "./router";
import { createStore, useStore } from "./store";

/** Children (folders only) of each folder the tree has loaded. */
const children = createStore<Map<string, NodeInfo[] | "loading" | "error">>(new Map());
const expanded = createStore<Set<string>>(new Set(["/"]));

async function listFolders(path: string): Promise<NodeInfo[]> {
  const out: NodeInfo[] = [];
  let after: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ path, limit: "5000" });
    if (after !== undefined) q.set("after", after);
    const resp = (await (await apiFetch("/api/v1/fs/list?" + q)).json()) as ListResponse;
    for (const e of resp.entries) if (e.kind === "folder") out.push(e);
    if (resp.next_after === undefined) return out;
    after = resp.next_after;
  }
}

async function load(path: string, quiet = false) {
  if (!quiet) children.set((m) => new Map(m).set(path, "loading"));
  try {
    const list = await listFolders(path);
    children.set((m) => new Map(m).set(path, list));
  } catch {
    if (!quiet) children.set((m) => new Map(m).set(path, "error"));
  }
}

function toggle(path: string) {
  const open = new Set(expanded.get());
  if (open.has(path)) open.delete(path);
  else {
    open.add(path);
    if (!children.get().has(path) || children.get().get(path) === "error") void load(path);
  }
  expanded.set(open);
}

/** Opens the tree down to `path`. */
export function revealInTree(path: string) {
  const parts = normalizePath(path).split("/").filter(Boolean);
  const open = new Set(expanded.get());
  let p = "/";
  const toLoad: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (!open.has(p)) open.add(p);
    if (!children.get().has(p)) toLoad.push(p);
    p = p === "/" ? "/" + parts[i] : p + "/" + parts[i];
  }
  expanded.set(open);
  toLoad.forEach((x) => void load(x));
}

let refreshTimer: number | undefined;
filesChanged.on(() => {
  clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => {
    for (const p of expanded.get()) if (children.get().has(p)) void load(p, true);
  }, 400);
});

export function resetTree() {
  children.set(new Map());
  expanded.set(new Set(["/"]));
}

function TreeNode(props: { node: NodeInfo; path: string; current: string; depth: number; onNavigate: () => void }) {
  const { path, current } = props;
  const open = useStore(expanded).has(path);
  const [over, drop] = useFolderDrop(path);
  const isCurrent = current === path;
  const nameId = useId();
  return (
    <li>
      <div class={"tree-row" + (isCurrent ? " current" : "") + (over ? " drop-over" : "")} style={{ paddingLeft: 8 + props.depth * 16 + "px" }} {...drop}>
        <button
          type="button"
          class="tree-toggle"
          aria-expanded={open}
          aria-label="Show subfolders"
          aria-describedby={nameId}
          tabIndex={-1}
          onClick={() => toggle(path)}
        >
          {open ? <IconChevronDown size={14} /> : <IconChevronRight size={14} />}
        </button>
        <a
          href={filesUrl(path)}
          class="tree-link"
          aria-current={isCurrent ? "page" : undefined}
          aria-expanded={open}
          onKeyDown={(e) => {
            if ((e.key === "ArrowRight" && !open) || (e.key === "ArrowLeft" && open)) {
              e.preventDefault();
              toggle(path);
            }
          }}
          onClick={(e) => {
            if (!isPlainClick(e)) return;
            e.preventDefault();
            navigate(filesUrl(path));
            props.onNavigate();
          }}
        >
          <IconFolder size={16} />
          <span class="tree-name" id={nameId}>
            {props.node.name}
          </span>
        </a>
      </div>
      {open && <TreeChildren path={path} current={current} depth={props.depth + 1} onNavigate={props.onNavigate} />}
    </li>
  );
}

function TreeChildren(props: { path: string; current: string; depth: number; onNavigate: () => void }) {
  const kids = useStore(children).get(props.path);
  if (kids === undefined || kids === "loading")
    return (
      <p class="tree-note" style={{ paddingLeft: 8 + props.depth * 16 + 22 + "px" }}>
        Loading…
      </p>
    );
  if (kids === "error")
    return (
      <p class="tree-note" style={{ paddingLeft: 8 + props.depth * 16 + 22 + "px" }}>
        Could not load
      </p>
    );
  if (kids.length === 0) return null;
  return (
    <ul class="tree-group">
      {kids.map((n) => {
        const p = props.path === "/" ? "/" + n.name : props.path + "/" + n.name;
        return <TreeNode key={n.id} node={n} path={p} current={props.current} depth={props.depth} onNavigate={props.onNavigate} />;
      })}
    </ul>
  );
}

/** The tree below "Files". */
export function FolderTree(props: { current: string | null; onNavigate: () => void }) {
  useEffect(() => {
    if (!children.get().has("/")) void load("/");
  }, []);
  useEffect(() => {
    if (props.current && props.current !== "/") revealInTree(props.current);
  }, [props.current]);
  return (
    <div class="tree">
      <TreeChildren path="/" current={props.current ?? ""} depth={1} onNavigate={props.onNavigate} />
    </div>
  );
}
