// A popup menu (role=menu) at a point or below a button: arrow keys move, Enter
// chooses, Escape or a click outside closes, and focus returns where it was.

import type { ComponentChildren } from "preact";
import { Fragment, createPortal } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { useLayer } from "./Dialog";

export interface MenuItem {
  label: string;
  icon?: ComponentChildren;
  onSelect: () => void;
  danger?: boolean;
  disabled?: boolean;
  /** Draw a separator above this item. */
  separator?: boolean;
  shortcut?: string;
}

export function Menu(props: { x: number; y: number; items: MenuItem[]; onClose: () => void; label: string }) {
  const layer = useLayer("layer layer-menu");
  const box = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState({ left: props.x, top: props.y });
  const closeRef = useRef(props.onClose);
  closeRef.current = props.onClose;

  useLayoutEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = box.current!;
    const r = el.getBoundingClientRect();
    const left = Math.max(8, Math.min(props.x, window.innerWidth - r.width - 8));
    const top = props.y + r.height > window.innerHeight - 8 ? Math.max(8, props.y - r.height) : props.y;
    setPos({ left, top });
    el.querySelector<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])')?.focus();
    const outside = (e: Event) => {
      if (!el.contains(e.target as Node)) closeRef.current();
    };
    const onBlur = () => closeRef.current();
    document.addEventListener("mousedown", outside, true);
    document.addEventListener("touchstart", outside, true);
    window.addEventListener("resize", onBlur);
    window.addEventListener("blur", onBlur);
    return () => {
      document.removeEventListener("mousedown", outside, true);
      document.removeEventListener("touchstart", outside, true);
      window.removeEventListener("resize", onBlur);
      window.removeEventListener("blur", onBlur);
      if (before && document.contains(before) && !document.querySelector(".layer-modal")) before.focus();
    };
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    const items = Array.from(box.current!.querySelectorAll<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])'));
    const i = items.indexOf(document.activeElement as HTMLElement);
    let next = -1;
    if (e.key === "ArrowDown") next = (i + 1) % items.length;
    else if (e.key === "ArrowUp") next = (i - 1 + items.length) % items.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = items.length - 1;
    else if (e.key === "Escape" || e.key === "Tab") {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
      return;
    } else if (e.key.length === 1 && /\S/.test(e.key)) {
      const k = e.key.toLowerCase();
      const order = [...items.slice(i + 1), ...items.slice(0, i + 1)];
      const hit = order.find((el) => el.textContent?.trim().toLowerCase().startsWith(k));
      if (hit) next = items.indexOf(hit);
    }
    if (next >= 0) {
      e.preventDefault();
      e.stopPropagation();
      items[next]?.focus();
    }
  };

  return createPortal(
    <div
      ref={box}
      class="menu"
      role="menu"
      aria-label={props.label}
      style={{ left: pos.left + "px", top: pos.top + "px" }}
      onKeyDown={onKeyDown}
      onContextMenu={(e) => e.preventDefault()}
    >
      {props.items.map((it) => (
        <Fragment key={it.label}>
          {it.separator && <div class="menu-sep" role="separator" />}
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            class={"menu-item" + (it.danger ? " danger" : "")}
            aria-disabled={it.disabled ? "true" : undefined}
            onClick={() => {
              if (it.disabled) return;
              props.onClose();
              it.onSelect();
            }}
          >
            <span class="menu-icon">{it.icon}</span>
            <span class="menu-label">{it.label}</span>
            {it.shortcut && <kbd class="menu-kbd">{it.shortcut}</kbd>}
          </button>
        </Fragment>
      ))}
    </div>,
    layer,
  );
}

/** Where to open a menu for a button: below its left edge. */
export function menuPointFor(el: HTMLElement): { x: number; y: number } {
  const r = el.getBoundingClientRect();
  return { x: r.left, y: r.bottom + 4 };
}
