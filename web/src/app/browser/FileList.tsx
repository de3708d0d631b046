// The virtual file list: a list (sortable columns) or a grid of tiles, with only the
// visible rows (plus some overscan) in the DOM, so folders of any size scroll smoothly.

import type { ComponentChildren, JSX, RefObject } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { formatDate, formatSize, nodeKind, thumbnailUrl } from "../../format";
import type { NodeInfo } from "../../types";
import { useFolderDrop } from "../dnd";
import { IconArrowDown, IconArrowUp, IconMore, NodeIcon } from "../icons";
import { modifiedOf, type SortDir, type SortKey } from "./listing";

export const ROW_H = 44;
export const HEADER_H = 40;
/** Lines rendered beyond the visible ones, each side. */
const OVERSCAN_ROWS = 10;
const OVERSCAN_TILE_LINES = 3;
const GRID_PAD = 16;
const GRID_GAP = 12;
const TILE_MIN = 148;
const TILE_H = 176;

export type ViewMode = "list" | "grid";

export interface Geometry {
  view: ViewMode;
  cols: number;
  tileW: number;
  /** Height of one line of rows (a row, or a line of tiles with its gap). */
  lineH: number;
  /** Space above the first line (the list's header, the grid's padding). */
  offset: number;
}

export function geometry(view: ViewMode, width: number): Geometry {
  if (view === "list") return { view, cols: 1, tileW: width, lineH: ROW_H, offset: HEADER_H };
  const inner = Math.max(0, width - 2 * GRID_PAD);
  const cols = Math.max(1, Math.floor((inner + GRID_GAP) / (TILE_MIN + GRID_GAP)));
  const tileW = Math.floor((inner - (cols - 1) * GRID_GAP) / cols);
  return { view, cols, tileW, lineH: TILE_H + GRID_GAP, offset: GRID_PAD };
}

export interface RowHandlers {
  onRowClick: (e: MouseEvent, index: number) => void;
  onRowDoubleClick: (index: number) => void;
  onRowPointerDown: (e: PointerEvent) => void;
  onRowContextMenu: (e: MouseEvent, index: number) => void;
  onCheck: (e: MouseEvent, index: number) => void;
  onMore: (e: MouseEvent, index: number) => void;
  onDragStart: (e: DragEvent, index: number) => void;
  onDragEnd: () => void;
}

interface ItemProps extends RowHandlers {
  node: NodeInfo;
  index: number;
  folderPath: string;
  selected: boolean;
  cursor: boolean;
  top: number;
  left?: number;
  width?: number;
  rowIndexBase: number;
}

export function rowId(node: NodeInfo): string {
  return "fr-" + node.id;
}

/** What a row of the list and a tile of the grid share: the element that carries the
 * item's name, state and handlers, and takes drops when it is a folder. */
function Item(
  p: ItemProps & { look: "row" | "tile"; style: { transform: string; width?: string }; children: ComponentChildren },
) {
  const { node } = p;
  const [over, drop] = useFolderDrop(node.kind === "folder" ? p.folderPath : null);
  return (
    <div
      id={rowId(node)}
      role="row"
      aria-label={node.name}
      aria-selected={p.selected}
      aria-rowindex={p.index + p.rowIndexBase}
      class={p.look + (p.selected ? " selected" : "") + (p.cursor ? " cursor" : "") + (over ? " drop-over" : "")}
      style={p.style}
      draggable
      onClick={(e) => p.onRowClick(e, p.index)}
      onDblClick={() => p.onRowDoubleClick(p.index)}
      onPointerDown={p.onRowPointerDown}
      onContextMenu={(e) => p.onRowContextMenu(e, p.index)}
      onDragStart={(e) => p.onDragStart(e, p.index)}
      onDragEnd={p.onDragEnd}
      {...drop}
    >
      {p.children}
    </div>
  );
}

function SelectBox({ p, class: cls }: { p: ItemProps; class?: string }) {
  return (
    <input
      type="checkbox"
      class={cls}
      tabIndex={-1}
      checked={p.selected}
      aria-label={`Select ${p.node.name}`}
      onClick={(e) => p.onCheck(e, p.index)}
    />
  );
}

function MoreButton({ p, class: cls }: { p: ItemProps; class: string }) {
  return (
    <button
      type="button"
      class={"icon-btn icon-btn-sm " + cls}
      tabIndex={-1}
      aria-label="More actions"
      aria-haspopup="menu"
      onClick={(e) => p.onMore(e, p.index)}
    >
      <IconMore size={18} />
    </button>
  );
}

function Row(p: ItemProps) {
  const { node } = p;
  const modified = modifiedOf(node);
  return (
    <Item {...p} look="row" style={{ transform: `translateY(${p.top}px)` }}>
      <div role="gridcell" class="cell cell-check">
        <SelectBox p={p} />
      </div>
      <div role="gridcell" class="cell cell-name">
        <NodeIcon kind={nodeKind(node)} size={20} />
        <span class="name-text" title={node.name}>
          {node.name}
        </span>
      </div>
      <div role="gridcell" class="cell cell-size">
        {node.kind === "folder" ? <span class="muted">—</span> : formatSize(node.size)}
      </div>
      <div role="gridcell" class="cell cell-modified" title={formatDate(modified, true)}>
        {formatDate(modified)}
      </div>
      <div role="gridcell" class="cell cell-more">
        <MoreButton p={p} class="row-more" />
      </div>
    </Item>
  );
}

function Thumb({ node, path }: { node: NodeInfo; path: string }) {
  const [failed, setFailed] = useState(false);
  const kind = nodeKind(node);
  if (kind === "image" && !failed && node.size > 0) {
    return (
      <img
        class="thumb-img"
        src={thumbnailUrl(path, 256, node.rev)}
        loading="lazy"
        decoding="async"
        alt=""
        draggable={false}
        onError={() => setFailed(true)}
      />
    );
  }
  return <NodeIcon kind={kind} size={48} />;
}

function Tile(p: ItemProps) {
  const { node } = p;
  return (
    <Item {...p} look="tile" style={{ transform: `translate(${p.left}px, ${p.top}px)`, width: p.width + "px" }}>
      <div role="gridcell" class="tile-cell">
        <div class="tile-thumb">
          <Thumb node={node} path={p.folderPath} />
        </div>
        <div class="tile-label">
          <span class="name-text" title={node.name}>
            {node.name}
          </span>
          <span class="tile-meta">{node.kind === "folder" ? "Folder" : formatSize(node.size)}</span>
        </div>
        <SelectBox p={p} class="tile-check" />
        <MoreButton p={p} class="tile-more" />
      </div>
    </Item>
  );
}

function SortHeader(props: { label: string; k: SortKey; sort: { key: SortKey; dir: SortDir }; onSort: (k: SortKey) => void; class: string }) {
  const active = props.sort.key === props.k;
  return (
    <div
      role="columnheader"
      class={"cell " + props.class}
      aria-sort={active ? (props.sort.dir === "asc" ? "ascending" : "descending") : "none"}
    >
      <button type="button" class={"sort-btn" + (active ? " active" : "")} onClick={() => props.onSort(props.k)}>
        {props.label}
        {active && (props.sort.dir === "asc" ? <IconArrowUp size={14} /> : <IconArrowDown size={14} />)}
      </button>
    </div>
  );
}

export interface FileListProps extends RowHandlers {
  entries: NodeInfo[];
  /** Where each name is in `entries`. */
  indexOf: Map<string, number>;
  /** Changes when the order changes (sort, view): the list starts from the top. */
  orderKey: string;
  folder: string;
  view: ViewMode;
  selected: Set<string>;
  cursor: string | null;
  sort: { key: SortKey; dir: SortDir };
  onSort: (k: SortKey) => void;
  onSelectAll: (all: boolean) => void;
  gridRef: RefObject<HTMLDivElement | null>;
  scrollerRef: RefObject<HTMLDivElement | null>;
  onGridKeyDown: (e: KeyboardEvent, geo: Geometry, pageLines: number) => void;
  onGridFocus: () => void;
  onBackgroundClick: (e: MouseEvent) => void;
  onBackgroundContextMenu: (e: MouseEvent) => void;
  /** Shown below the (empty) list: the empty state. */
  after?: ComponentChildren;
  joinName: (name: string) => string;
}

export function FileList(props: FileListProps) {
  const scroller = props.scrollerRef;
  const [vp, setVp] = useState({ top: 0, height: 600, width: 800 });
  const lineRef = useRef(0);
  const geo = geometry(props.view, vp.width);

  useLayoutEffect(() => {
    const el = scroller.current!;
    const measure = () => setVp((v) => ({ ...v, height: el.clientHeight, width: el.clientWidth, top: el.scrollTop }));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Re-render only when the first visible line changes.
  const onScroll = () => {
    const el = scroller.current!;
    recordAnchor();
    const line = Math.floor(Math.max(0, el.scrollTop - geo.offset) / geo.lineH);
    if (line !== lineRef.current) {
      lineRef.current = line;
      setVp((v) => ({ ...v, top: el.scrollTop }));
    }
  };

  useEffect(() => {
    const el = scroller.current!;
    lineRef.current = Math.floor(Math.max(0, el.scrollTop - geo.offset) / geo.lineH);
    setVp((v) => ({ ...v, top: el.scrollTop }));
  }, [props.view]);

  // Another order: start from the top.
  const firstOrder = useRef(true);
  useLayoutEffect(() => {
    if (firstOrder.current) {
      firstOrder.current = false;
      return;
    }
    anchorRef.current = null;
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [props.orderKey]);

  // Entries arriving or changing above the visible ones (a page of folders, a live
  // update) would push what the user looks at down: keep the first visible item in place.
  const anchorRef = useRef<{ name: string; offset: number } | null>(null);
  const recordAnchor = () => {
    const el = scroller.current;
    if (!el) return;
    const line = Math.floor(Math.max(0, el.scrollTop - geo.offset) / geo.lineH);
    const node = props.entries[line * geo.cols];
    anchorRef.current = node && el.scrollTop > 0 ? { name: node.name, offset: geo.offset + line * geo.lineH - el.scrollTop } : null;
  };
  useLayoutEffect(() => {
    const el = scroller.current;
    const a = anchorRef.current;
    if (el && a) {
      const i = props.indexOf.get(a.name);
      if (i !== undefined) {
        const want = geo.offset + Math.floor(i / geo.cols) * geo.lineH - a.offset;
        if (Math.abs(want - el.scrollTop) >= 1) el.scrollTop = want;
      }
    }
    recordAnchor();
  }, [props.entries]);

  const n = props.entries.length;
  const lines = Math.ceil(n / geo.cols);
  const overscan = props.view === "list" ? OVERSCAN_ROWS : OVERSCAN_TILE_LINES;
  const first = Math.max(0, Math.floor((vp.top - geo.offset) / geo.lineH) - overscan);
  const last = Math.min(lines, Math.ceil((vp.top + vp.height - geo.offset) / geo.lineH) + overscan);
  const bodyH = lines * geo.lineH;
  const pageLines = Math.max(1, Math.floor((vp.height - (props.view === "list" ? HEADER_H : 0)) / geo.lineH) - 1);

  const allSelected = n > 0 && props.selected.size >= n && props.entries.every((e) => props.selected.has(e.name));
  const someSelected = props.selected.size > 0 && !allSelected;
  const selectAll = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAll.current) selectAll.current.indeterminate = someSelected;
  }, [someSelected, props.view]);

  const cursorNode = props.cursor !== null ? props.entries.find((e, i) => i >= first * geo.cols && i < last * geo.cols && e.name === props.cursor) : undefined;

  const items: JSX.Element[] = [];
  for (let line = first; line < last; line++) {
    for (let c = 0; c < geo.cols; c++) {
      const i = line * geo.cols + c;
      if (i >= n) break;
      const node = props.entries[i];
      const common: ItemProps = {
        ...props,
        node,
        index: i,
        folderPath: props.joinName(node.name),
        selected: props.selected.has(node.name),
        cursor: props.cursor === node.name,
        top: line * geo.lineH,
        rowIndexBase: props.view === "list" ? 2 : 1,
      };
      items.push(
        props.view === "list" ? (
          <Row key={node.id} {...common} />
        ) : (
          <Tile key={node.id} {...common} left={GRID_PAD + c * (geo.tileW + GRID_GAP)} width={geo.tileW} />
        ),
      );
    }
  }

  return (
    <div
      ref={scroller}
      class={"list-scroll view-" + props.view}
      onScroll={onScroll}
      onClick={props.onBackgroundClick}
      onContextMenu={props.onBackgroundContextMenu}
    >
      <div
        ref={props.gridRef}
        role="grid"
        aria-label="Files"
        aria-multiselectable="true"
        aria-rowcount={n + (props.view === "list" ? 1 : 0)}
        aria-colcount={props.view === "list" ? 5 : 1}
        aria-activedescendant={cursorNode ? rowId(cursorNode) : undefined}
        tabIndex={0}
        class={"file-grid grid-" + props.view}
        onKeyDown={(e) => props.onGridKeyDown(e, geo, pageLines)}
        onFocus={props.onGridFocus}
      >
        {props.view === "list" && (
          <div role="rowgroup" class="list-head">
            <div role="row" aria-rowindex={1} class="row head-row">
              <div role="columnheader" class="cell cell-check">
                <input
                  ref={selectAll}
                  type="checkbox"
                  tabIndex={-1}
                  aria-label="Select all"
                  checked={allSelected}
                  disabled={n === 0}
                  onClick={(e) => {
                    e.stopPropagation();
                    props.onSelectAll(!allSelected);
                  }}
                />
              </div>
              <SortHeader label="Name" k="name" sort={props.sort} onSort={props.onSort} class="cell-name" />
              <SortHeader label="Size" k="size" sort={props.sort} onSort={props.onSort} class="cell-size" />
              <SortHeader label="Modified" k="modified" sort={props.sort} onSort={props.onSort} class="cell-modified" />
              <div role="columnheader" class="cell cell-more">
                <span class="visually-hidden">Actions</span>
              </div>
            </div>
          </div>
        )}
        <div role="rowgroup" class="list-body" style={{ height: bodyH + (props.view === "grid" ? GRID_PAD : 0) + "px" }}>
          {items}
        </div>
      </div>
      {props.after}
    </div>
  );
}

/** Scrolls so that item `index` is visible. */
export function scrollIntoView(el: HTMLElement, geo: Geometry, index: number) {
  const line = Math.floor(index / geo.cols);
  const top = geo.offset + line * geo.lineH;
  const bottom = top + (geo.view === "list" ? ROW_H : TILE_H);
  const sticky = geo.view === "list" ? HEADER_H : 0;
  const pad = geo.view === "list" ? 0 : GRID_PAD;
  if (top < el.scrollTop + sticky) el.scrollTop = top - sticky - pad;
  else if (bottom > el.scrollTop + el.clientHeight) el.scrollTop = bottom - el.clientHeight + pad;
}
