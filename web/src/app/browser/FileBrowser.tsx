// The file browser: breadcrumbs, toolbar, the virtual list or grid, selection,
// keyboard, context menus, dialogs, preview and details, drag and drop, uploads.

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, apiJson } from "../../api";
import { baseName, contentUrl, joinPath, normalizePath, parentPath, plural, zipUrl } from "../../format";
import { Details } from "../../panels/Details";
import { Preview } from "../../panels/Preview";
import type { NodeInfo } from "../../types";
import { NameDialog } from "../Dialog";
import { friendlyError } from "../errors";
import { setCurrentDrag, useFolderDrop } from "../dnd";
import {
  IconAlert,
  IconCloud,
  IconDownload,
  IconEye,
  IconFolderPlus,
  IconFolderUpload,
  IconGrid,
  IconHistory,
  IconInfo,
  IconKeyboard,
  IconLink,
  IconList,
  IconMore,
  IconMove,
  IconOpen,
  IconPencil,
  IconRefresh,
  IconShare,
  IconTrash,
  IconUpload,
  IconClose,
  IconArrowUp,
  IconArrowDown,
} from "../icons";
import { filesChanged } from "../live";
import { Menu, menuPointFor, type MenuItem } from "../Menu";
import { MoveDialog, ShortcutsDialog } from "../MoveDialog";
import { DRAG_TYPE, deleteItems, moveItems, startDownload } from "../moves";
import { filesUrl, isPlainClick, navigate } from "../router";
import { loadPref, savePref } from "../theme";
import { enqueue, fromInput } from "../uploads/queue";
import { FileList, geometry, scrollIntoView, type Geometry, type ViewMode } from "./FileList";
import { Breadcrumbs, ToolButton, useListing } from "./parts";
import { arrange, type SortDir, type SortKey } from "./listing";

type DetailsTab = "versions" | "sharing" | "links" | "comments";

type DialogState =
  | { kind: "newfolder" }
  | { kind: "rename"; node: NodeInfo }
  | { kind: "move"; paths: string[] }
  | { kind: "help" }
  | null;

interface MenuState {
  x: number;
  y: number;
  items: MenuItem[];
  label: string;
}

/** Where the cursor goes in the next folder (the folder we came up from), and whether the list takes focus. */
let handoff: { cursor?: string; focus: boolean; preview?: boolean } = { focus: false };

export function FileBrowser({ path }: { path: string }) {
  const folder = normalizePath(path);
  const [listing, state] = useListing(folder);
  const [view, setViewState] = useState<ViewMode>(() => loadPref("view", ["list", "grid"] as const, "list"));
  const [sort, setSortState] = useState<{ key: SortKey; dir: SortDir }>(() => ({
    key: loadPref("sort", ["name", "size", "modified"] as const, "name"),
    dir: loadPref("sortdir", ["asc", "desc"] as const, "asc"),
  }));
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [cursor, setCursor] = useState<string | null>(() => handoff.cursor ?? null);
  const anchor = useRef<string | null>(handoff.cursor ?? null);
  const [preview, setPreview] = useState<string | null>(() => (handoff.preview && handoff.cursor) || null);
  const [details, setDetails] = useState<{ name: string; tab?: DetailsTab } | null>(null);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [menu, setMenu] = useState<MenuState | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const scrollerRef = useRef<HTMLDivElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastPointer = useRef<string>("mouse");
  const geoRef = useRef<Geometry | null>(null);

  const display = useMemo(() => arrange(state.entries, sort.key, sort.dir), [state.entries, sort.key, sort.dir]);
  const indexOf = useMemo(() => {
    const m = new Map<string, number>();
    display.forEach((n, i) => m.set(n.name, i));
    return m;
  }, [display]);
  const selectedNodes = useMemo(() => (selected.size ? display.filter((n) => selected.has(n.name)) : []), [display, selected]);
  const pathOf = useCallback((name: string) => joinPath(folder, name), [folder]);

  const focusGrid = () => gridRef.current?.focus({ preventScroll: true });

  // Coming from another folder by keyboard: the list takes focus once it is shown.
  const wantFocus = useRef(handoff.focus);
  useEffect(() => {
    handoff = { focus: false };
  }, []);
  useEffect(() => {
    if (wantFocus.current && gridRef.current) {
      wantFocus.current = false;
      focusGrid();
    }
  }, [state.loading, state.error]);

  // An address that names a file: show it in its folder.
  useEffect(() => {
    const e = state.error;
    if (e instanceof ApiError && e.code === "not_a_folder" && folder !== "/") {
      handoff = { cursor: baseName(folder), focus: false, preview: true };
      navigate(filesUrl(parentPath(folder)), { replace: true });
    }
  }, [state.error]);

  useEffect(() => {
    document.title = (folder === "/" ? "Files" : baseName(folder)) + " – Coffer";
  }, [folder]);

  // The folder we came up from: scroll to it once it has arrived.
  const pendingReveal = useRef<string | null>(cursor);
  useEffect(() => {
    const name = pendingReveal.current;
    const el = scrollerRef.current;
    if (!name || !el) return;
    const i = indexOf.get(name);
    if (i !== undefined) {
      pendingReveal.current = null;
      setSelected(new Set([name]));
      setCursor(name);
      anchor.current = name;
      scrollIntoView(el, geometry(view, el.clientWidth), i);
    } else if (state.complete) pendingReveal.current = null;
  }, [indexOf, state.complete]);

  // Live updates: re-read the folder (debounced).
  useEffect(() => {
    let t: number | undefined;
    const off = filesChanged.on(() => {
      clearTimeout(t);
      t = window.setTimeout(() => void listing.refresh(), 150);
    });
    return () => {
      off();
      clearTimeout(t);
    };
  }, [listing]);

  const refresh = () => {
    void listing.refresh();
  };

  const setView = (v: ViewMode) => {
    setViewState(v);
    savePref("view", v);
  };
  const setSort = (key: SortKey) => {
    setSortState((s) => {
      const next = { key, dir: s.key === key ? (s.dir === "asc" ? "desc" : "asc") : ("asc" as SortDir) };
      savePref("sort", next.key);
      savePref("sortdir", next.dir);
      return next;
    });
  };
  const setSortDir = (dir: SortDir) => {
    setSortState((s) => {
      savePref("sortdir", dir);
      return { ...s, dir };
    });
  };

  // ---- actions

  const open = (node: NodeInfo) => {
    if (node.kind === "folder") {
      handoff = { focus: gridRef.current?.contains(document.activeElement) ?? false };
      navigate(filesUrl(pathOf(node.name)));
    } else {
      setPreview(node.name);
    }
  };

  const goParent = () => {
    if (folder === "/") return;
    handoff = { cursor: baseName(folder), focus: true };
    navigate(filesUrl(parentPath(folder)));
  };

  const download = (nodes: NodeInfo[]) => {
    if (nodes.length === 0) return;
    if (nodes.length === 1 && nodes[0].kind === "file") startDownload(contentUrl(pathOf(nodes[0].name)));
    else startDownload(zipUrl(nodes.map((n) => pathOf(n.name))));
  };

  const remove = (nodes: NodeInfo[]) => {
    if (nodes.length === 0) return;
    const gone = new Set(nodes.map((n) => n.name));
    // Move the cursor past what goes away.
    const idx = nodes.map((n) => indexOf.get(n.name) ?? 0);
    const after = display.slice(Math.max(...idx) + 1).find((n) => !gone.has(n.name)) ?? [...display.slice(0, Math.min(...idx))].reverse().find((n) => !gone.has(n.name));
    setSelected(new Set());
    setCursor(after ? after.name : null);
    anchor.current = after ? after.name : null;
    listing.patch((entries) => entries.filter((e) => !gone.has(e.name)));
    void deleteItems(nodes.map((n) => pathOf(n.name)));
    focusGrid();
  };

  const rename = (node: NodeInfo) => setDialog({ kind: "rename", node });
  const move = (nodes: NodeInfo[]) => nodes.length && setDialog({ kind: "move", paths: nodes.map((n) => pathOf(n.name)) });
  const showDetails = (node: NodeInfo, tab?: DetailsTab) => setDetails({ name: node.name, tab });

  const pick = (dir: boolean) => {
    const input = fileInput.current;
    if (!input) return;
    input.webkitdirectory = dir;
    input.value = "";
    input.click();
  };

  // ---- selection

  const selectOnly = (name: string) => {
    setSelected(new Set([name]));
    setCursor(name);
    anchor.current = name;
  };

  const selectRange = (to: number, add: boolean) => {
    const from = anchor.current !== null ? (indexOf.get(anchor.current) ?? to) : to;
    const [a, b] = from <= to ? [from, to] : [to, from];
    const next = add ? new Set(selected) : new Set<string>();
    for (let i = a; i <= b; i++) next.add(display[i].name);
    setSelected(next);
    setCursor(display[to].name);
  };

  const toggle = (name: string) => {
    const next = new Set(selected);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelected(next);
    setCursor(name);
    anchor.current = name;
  };

  const selectAll = (all: boolean) => {
    setSelected(all ? new Set(display.map((n) => n.name)) : new Set());
  };

  // ---- menus

  const itemMenu = (nodes: NodeInfo[]): MenuItem[] => {
    if (nodes.length !== 1) {
      return [
        { label: "Download", icon: <IconDownload size={18} />, onSelect: () => download(nodes) },
        { label: "Move to…", icon: <IconMove size={18} />, onSelect: () => move(nodes) },
        { label: "Delete", icon: <IconTrash size={18} />, onSelect: () => remove(nodes), danger: true, separator: true, shortcut: "Del" },
      ];
    }
    const node = nodes[0];
    const isFile = node.kind === "file";
    const items: MenuItem[] = [
      isFile
        ? { label: "Preview", icon: <IconEye size={18} />, onSelect: () => open(node), shortcut: "Enter" }
        : { label: "Open", icon: <IconOpen size={18} />, onSelect: () => open(node), shortcut: "Enter" },
      { label: "Download", icon: <IconDownload size={18} />, onSelect: () => download(nodes) },
      { label: "Rename", icon: <IconPencil size={18} />, onSelect: () => rename(node), separator: true, shortcut: "F2" },
      { label: "Move to…", icon: <IconMove size={18} />, onSelect: () => move(nodes) },
      { label: "Delete", icon: <IconTrash size={18} />, onSelect: () => remove(nodes), danger: true, shortcut: "Del" },
      { label: "Details", icon: <IconInfo size={18} />, onSelect: () => showDetails(node), separator: true },
    ];
    if (isFile) items.push({ label: "Versions", icon: <IconHistory size={18} />, onSelect: () => showDetails(node, "versions") });
    items.push(
      { label: "Share…", icon: <IconShare size={18} />, onSelect: () => showDetails(node, "sharing") },
      { label: "Copy link…", icon: <IconLink size={18} />, onSelect: () => showDetails(node, "links") },
    );
    return items;
  };

  const folderMenu = (): MenuItem[] => [
    { label: "New folder", icon: <IconFolderPlus size={18} />, onSelect: () => setDialog({ kind: "newfolder" }) },
    { label: "Upload files…", icon: <IconUpload size={18} />, onSelect: () => pick(false) },
    { label: "Upload folder…", icon: <IconFolderUpload size={18} />, onSelect: () => pick(true) },
    {
      label: "Download folder",
      icon: <IconDownload size={18} />,
      onSelect: () => startDownload(zipUrl([folder])),
      separator: true,
      disabled: display.length === 0,
    },
    { label: "Refresh", icon: <IconRefresh size={18} />, onSelect: refresh },
    { label: "Keyboard shortcuts", icon: <IconKeyboard size={18} />, onSelect: () => setDialog({ kind: "help" }), shortcut: "?" },
  ];

  const openItemMenu = (x: number, y: number, index: number) => {
    const node = display[index];
    let nodes: NodeInfo[];
    if (selected.has(node.name)) nodes = selectedNodes;
    else {
      selectOnly(node.name);
      nodes = [node];
    }
    setCursor(node.name);
    setMenu({ x, y, items: itemMenu(nodes), label: nodes.length === 1 ? `Actions for ${node.name}` : `Actions for ${plural(nodes.length, "item")}` });
  };

  // ---- row events

  const handlers = {
    onRowPointerDown: (e: PointerEvent) => {
      lastPointer.current = e.pointerType;
    },
    onRowClick: (e: MouseEvent, index: number) => {
      e.stopPropagation();
      const node = display[index];
      focusGrid();
      if (e.shiftKey) selectRange(index, e.ctrlKey || e.metaKey);
      else if (e.ctrlKey || e.metaKey) toggle(node.name);
      else if (lastPointer.current === "touch") {
        // A tap opens (touch has no double click); a long press selects (context menu).
        selectOnly(node.name);
        open(node);
      } else selectOnly(node.name);
    },
    onRowDoubleClick: (index: number) => {
      if (lastPointer.current === "touch") return;
      open(display[index]);
    },
    onRowContextMenu: (e: MouseEvent, index: number) => {
      e.preventDefault();
      e.stopPropagation();
      openItemMenu(e.clientX, e.clientY, index);
    },
    onCheck: (e: MouseEvent, index: number) => {
      e.stopPropagation();
      const name = display[index].name;
      if (e.shiftKey) selectRange(index, true);
      else toggle(name);
    },
    onMore: (e: MouseEvent, index: number) => {
      e.stopPropagation();
      const p = menuPointFor(e.currentTarget as HTMLElement);
      openItemMenu(p.x - 160, p.y, index);
    },
    onDragStart: (e: DragEvent, index: number) => {
      const node = display[index];
      let names: string[];
      if (selected.has(node.name)) names = selectedNodes.map((n) => n.name);
      else {
        selectOnly(node.name);
        names = [node.name];
      }
      const paths = names.map(pathOf);
      const dt = e.dataTransfer!;
      dt.effectAllowed = "move";
      dt.setData(DRAG_TYPE, JSON.stringify(paths));
      dt.setData("text/plain", names.join("\n"));
      setCurrentDrag(paths);
    },
    onDragEnd: () => setCurrentDrag(null),
  };

  const moveCursor = (to: number, e: KeyboardEvent, geo: Geometry) => {
    const n = display.length;
    if (n === 0) return;
    const i = Math.max(0, Math.min(n - 1, to));
    const name = display[i].name;
    if (e.shiftKey) selectRange(i, e.ctrlKey || e.metaKey);
    else if (e.ctrlKey || e.metaKey) setCursor(name);
    else selectOnly(name);
    if (scrollerRef.current) scrollIntoView(scrollerRef.current, geo, i);
  };

  const onGridKeyDown = (e: KeyboardEvent, geo: Geometry, pageLines: number) => {
    geoRef.current = geo;
    const n = display.length;
    const cur = cursor !== null ? (indexOf.get(cursor) ?? -1) : -1;
    const mod = e.ctrlKey || e.metaKey;
    const step = geo.cols;
    // The first arrow press on a list with nothing selected selects the item at the cursor.
    if (cur >= 0 && selected.size === 0 && !mod && !e.shiftKey && !e.altKey && e.key.startsWith("Arrow")) {
      e.preventDefault();
      selectOnly(display[cur].name);
      return;
    }
    let handled = true;
    switch (e.key) {
      case "ArrowDown":
        moveCursor(cur < 0 ? 0 : cur + step, e, geo);
        break;
      case "ArrowUp":
        if (e.altKey) goParent();
        else moveCursor(cur < 0 ? 0 : cur - step, e, geo);
        break;
      case "ArrowRight":
        if (geo.view === "grid") moveCursor(cur + 1, e, geo);
        else handled = false;
        break;
      case "ArrowLeft":
        if (geo.view === "grid") moveCursor(Math.max(0, cur - 1), e, geo);
        else handled = false;
        break;
      case "Home":
        moveCursor(0, e, geo);
        break;
      case "End":
        moveCursor(n - 1, e, geo);
        break;
      case "PageDown":
        moveCursor(cur < 0 ? 0 : cur + pageLines * step, e, geo);
        break;
      case "PageUp":
        moveCursor(cur < 0 ? 0 : cur - pageLines * step, e, geo);
        break;
      case "Enter":
        if (cur >= 0) open(display[cur]);
        break;
      case " ":
        if (cur >= 0) toggle(display[cur].name);
        break;
      case "Backspace":
        goParent();
        break;
      case "Delete":
        if (selectedNodes.length) remove(selectedNodes);
        else if (cur >= 0) remove([display[cur]]);
        break;
      case "F2": {
        const target = selectedNodes.length === 1 ? selectedNodes[0] : cur >= 0 && selectedNodes.length === 0 ? display[cur] : null;
        if (target) rename(target);
        break;
      }
      case "Escape":
        if (selected.size) setSelected(new Set());
        else handled = false;
        break;
      case "ContextMenu":
        showKeyboardMenu(cur);
        break;
      case "F10":
        if (e.shiftKey) showKeyboardMenu(cur);
        else handled = false;
        break;
      default:
        if (mod && (e.key === "a" || e.key === "A")) selectAll(true);
        else handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  const showKeyboardMenu = (cur: number) => {
    const row = cur >= 0 ? document.getElementById("fr-" + display[cur].id) : null;
    if (row) {
      const r = row.getBoundingClientRect();
      openItemMenu(r.left + 48, r.top + r.height / 2, cur);
    } else {
      const r = gridRef.current!.getBoundingClientRect();
      setMenu({ x: r.left + 48, y: r.top + 48, items: folderMenu(), label: "Folder actions" });
    }
  };

  // "?" anywhere on the page (not while typing or in a dialog) shows the shortcuts.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      if (document.querySelector(".layer-modal") || document.documentElement.classList.contains("cp-modal-open")) return;
      e.preventDefault();
      setDialog({ kind: "help" });
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  // ---- drop of files from the computer onto the folder

  const [dropOver, dropProps] = useFolderDrop(folder);

  // ---- render

  const previewNode = preview !== null ? display[indexOf.get(preview) ?? -1] : undefined;
  const files = useMemo(() => (preview !== null ? display.filter((n) => n.kind === "file") : []), [display, preview !== null]);
  const previewAt = previewNode ? files.indexOf(previewNode) : -1;
  const detailsNode = details !== null ? display[indexOf.get(details.name) ?? -1] : undefined;

  useEffect(() => {
    if (preview !== null && !previewNode && state.complete) setPreview(null);
  }, [previewNode, state.complete]);

  const folderName = folder === "/" ? "Files" : baseName(folder);
  const total = state.entries.length;

  let body: ComponentChildren;
  if (state.loading) {
    body = (
      <div class="state-box" role="status">
        <span class="spinner" aria-hidden="true" />
        <p>Loading…</p>
      </div>
    );
  } else if (state.error && total === 0) {
    const e = state.error;
    const notFound = e instanceof ApiError && (e.code === "not_found" || e.code === "not_a_folder");
    body = (
      <div class="state-box" role="alert">
        <IconAlert size={40} class="state-icon state-icon-error" />
        <h2>{notFound ? "This folder does not exist" : "This folder could not be opened"}</h2>
        <p class="muted">{notFound ? "There is no folder at this address. It may have been moved or deleted." : friendlyError(e)}</p>
        <div class="state-actions">
          {!notFound && (
            <button type="button" class="btn btn-primary" onClick={refresh}>
              <IconRefresh size={18} />
              <span class="btn-label">Retry</span>
            </button>
          )}
          {folder !== "/" && (
            <a
              class="btn"
              href={filesUrl(parentPath(folder))}
              onClick={(ev) => {
                if (!isPlainClick(ev)) return;
                ev.preventDefault();
                navigate(filesUrl(notFound ? "/" : parentPath(folder)));
              }}
            >
              {notFound ? "Go to Files" : "Go up"}
            </a>
          )}
        </div>
      </div>
    );
  } else {
    body = (
      <FileList
        entries={display}
        indexOf={indexOf}
        orderKey={sort.key + sort.dir}
        folder={folder}
        view={view}
        selected={selected}
        cursor={cursor}
        sort={sort}
        onSort={setSort}
        onSelectAll={selectAll}
        gridRef={gridRef}
        scrollerRef={scrollerRef}
        onGridKeyDown={onGridKeyDown}
        onGridFocus={() => {
          if (cursor === null && display.length) setCursor(display[0].name);
        }}
        onBackgroundClick={(e) => {
          if (e.target === e.currentTarget || (e.target as HTMLElement).classList.contains("list-body") || (e.target as HTMLElement).classList.contains("empty-state")) {
            setSelected(new Set());
          }
        }}
        onBackgroundContextMenu={(e) => {
          e.preventDefault();
          setMenu({ x: e.clientX, y: e.clientY, items: folderMenu(), label: "Folder actions" });
        }}
        joinName={pathOf}
        {...handlers}
        after={
          total === 0 && state.complete ? (
            <div class="empty-state">
              <IconCloud size={48} class="state-icon" />
              <h2>This folder is empty</h2>
              <p class="muted">Drop files or folders here, or use Upload.</p>
            </div>
          ) : null
        }
      />
    );
  }

  // The geometry, for scroll requests that do not come from the keyboard.
  useEffect(() => {
    const el = scrollerRef.current;
    if (el) geoRef.current = geometry(view, el.clientWidth);
  });

  const many = selectedNodes.length;

  return (
    <section class={"browser" + (dropOver ? " drop-target" : "") + (detailsNode ? " with-details" : "")} aria-labelledby="folder-title" {...dropProps}>
      <div class="browser-main">
        <div class="toolbar">
          <div class="toolbar-top">
            <h1 id="folder-title" class="visually-hidden">
              {folderName}
            </h1>
            <Breadcrumbs path={folder} />
          </div>
          <div class="toolbar-actions" hidden={!!state.error && total === 0}>
            <ToolButton label="Upload" primary icon={<IconUpload size={18} />} onClick={() => pick(false)} title="Upload files" />
            <ToolButton label="New folder" icon={<IconFolderPlus size={18} />} onClick={() => setDialog({ kind: "newfolder" })} />
            <div class="toolbar-spacer" />
            <div class="segmented" role="group" aria-label="View">
              <ToolButton label="List view" iconOnly pressed={view === "list"} icon={<IconList size={18} />} onClick={() => setView("list")} />
              <ToolButton label="Grid view" iconOnly pressed={view === "grid"} icon={<IconGrid size={18} />} onClick={() => setView("grid")} />
            </div>
            <ToolButton
              label="Folder actions"
              iconOnly
              haspopup
              icon={<IconMore size={18} />}
              onClick={(e) => {
                const p = menuPointFor(e.currentTarget as HTMLElement);
                setMenu({ x: p.x - 180, y: p.y, items: folderMenu(), label: "Folder actions" });
              }}
            />
          </div>
          {!state.loading && !(state.error && total === 0) && (
            <div class={"selection-bar" + (many > 0 ? " active" : "")} role="region" aria-label="Selection">
              {many > 0 ? (
                <>
                  <button type="button" class="icon-btn icon-btn-sm" aria-label="Clear selection" onClick={() => setSelected(new Set())}>
                    <IconClose size={16} />
                  </button>
                  <span class="selection-count">{plural(many, "item")} selected</span>
                </>
              ) : (
                <span class="selection-total">{plural(total, "item")}</span>
              )}
              {!state.complete && !state.error && (
                <span class="loading-note" role="status">
                  <span class="spinner spinner-sm" aria-hidden="true" />
                  Loading {total.toLocaleString()}…
                </span>
              )}
              <div class="toolbar-spacer" />
              {view === "grid" && many === 0 && (
                <div class="sort-control">
                  <label class="visually-hidden" for="grid-sort">
                    Sort by
                  </label>
                  <select
                    id="grid-sort"
                    value={sort.key}
                    onChange={(e) => {
                      const key = e.currentTarget.value as SortKey;
                      setSortState((s) => ({ ...s, key }));
                      savePref("sort", key);
                    }}
                  >
                    <option value="name">Name</option>
                    <option value="size">Size</option>
                    <option value="modified">Modified</option>
                  </select>
                  <button
                    type="button"
                    class="btn btn-icon"
                    aria-label={sort.dir === "asc" ? "Sort ascending" : "Sort descending"}
                    title={sort.dir === "asc" ? "Ascending" : "Descending"}
                    onClick={() => setSortDir(sort.dir === "asc" ? "desc" : "asc")}
                  >
                    {sort.dir === "asc" ? <IconArrowUp size={18} /> : <IconArrowDown size={18} />}
                  </button>
                </div>
              )}
              {many > 0 && (
                <>
                  <ToolButton label="Download" small icon={<IconDownload size={16} />} onClick={() => download(selectedNodes)} />
                  <ToolButton label="Move" small icon={<IconMove size={16} />} onClick={() => move(selectedNodes)} />
                  {many === 1 && <ToolButton label="Rename" small icon={<IconPencil size={16} />} onClick={() => rename(selectedNodes[0])} />}
                  {many === 1 && <ToolButton label="Details" small iconOnly icon={<IconInfo size={16} />} onClick={() => showDetails(selectedNodes[0])} />}
                  <ToolButton label="Delete" small danger icon={<IconTrash size={16} />} onClick={() => remove(selectedNodes)} />
                </>
              )}
            </div>
          )}
        </div>
        {body}
        {dropOver && (
          <div class="drop-overlay" aria-hidden="true">
            <IconUpload size={32} />
            <p>Drop to upload to {folderName}</p>
          </div>
        )}
      </div>

      {detailsNode && (
        <div class="details-host">
          <Details
            key={detailsNode.id + ":" + (details?.tab ?? "")}
            node={detailsNode}
            path={pathOf(detailsNode.name)}
            initialTab={details?.tab}
            onClose={() => {
              setDetails(null);
              focusGrid();
            }}
            onChanged={refresh}
          />
        </div>
      )}

      <input
        ref={fileInput}
        type="file"
        multiple
        hidden
        tabIndex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const list = e.currentTarget.files;
          if (list && list.length) void enqueue(folder, fromInput(list));
        }}
      />

      {previewNode && (
        <Preview
          node={previewNode}
          path={pathOf(previewNode.name)}
          onClose={() => {
            setPreview(null);
            focusGrid();
          }}
          onPrev={previewAt > 0 ? () => selectAndPreview(files[previewAt - 1]) : undefined}
          onNext={previewAt >= 0 && previewAt < files.length - 1 ? () => selectAndPreview(files[previewAt + 1]) : undefined}
          onDetails={() => {
            const n = previewNode;
            setPreview(null);
            showDetails(n);
          }}
        />
      )}

      {menu && <Menu x={menu.x} y={menu.y} items={menu.items} label={menu.label} onClose={() => setMenu(null)} />}

      {dialog?.kind === "newfolder" && (
        <NameDialog
          title="New folder"
          label="Folder name"
          initial="New folder"
          confirmLabel="Create"
          onClose={() => {
            setDialog(null);
            focusGrid();
          }}
          onSubmit={async (name) => {
            try {
              await apiJson<NodeInfo>("/api/v1/fs/mkdir", { path: pathOf(name) });
            } catch (e) {
              throw new Error(friendlyError(e));
            }
            pendingReveal.current = name;
            filesChanged.emit();
            void listing.refresh();
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <NameDialog
          title={`Rename “${dialog.node.name}”`}
          label="New name"
          initial={dialog.node.name}
          confirmLabel="Rename"
          selectStem={dialog.node.kind === "file"}
          onClose={() => {
            setDialog(null);
            focusGrid();
          }}
          onSubmit={async (name) => {
            const node = dialog.node;
            if (name === node.name) return;
            try {
              await apiJson<NodeInfo>("/api/v1/fs/move", { from: pathOf(node.name), to: pathOf(name) });
            } catch (e) {
              throw new Error(friendlyError(e));
            }
            listing.patch((entries) => entries.map((x) => (x.id === node.id ? { ...x, name } : x)));
            setSelected(new Set([name]));
            setCursor(name);
            anchor.current = name;
            if (details?.name === node.name) setDetails({ ...details, name });
            filesChanged.emit();
          }}
        />
      )}
      {dialog?.kind === "move" && (
        <MoveDialog
          paths={dialog.paths}
          start={folder}
          onClose={() => {
            setDialog(null);
            focusGrid();
          }}
          onMove={async (dest) => {
            setSelected(new Set());
            await moveItems(dialog.paths, dest);
          }}
        />
      )}
      {dialog?.kind === "help" && <ShortcutsDialog onClose={() => setDialog(null)} />}
    </section>
  );

  function selectAndPreview(node: NodeInfo) {
    setPreview(node.name);
    selectOnly(node.name);
    const i = indexOf.get(node.name);
    if (i !== undefined && scrollerRef.current && geoRef.current) scrollIntoView(scrollerRef.current, geoRef.current, i);
  }
}
