// Modal behaviour for overlays: focus moves in and is trapped, Escape closes the topmost,
// the page behind stops scrolling, and focus returns where it was on close.

import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";

const FOCUSABLE =
  'a[href], area[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
  'textarea:not([disabled]), iframe, audio[controls], video[controls], [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';

/** Open modals, the topmost last: only it answers keys. */
const stack: object[] = [];

export function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.hasAttribute("inert") && el.getClientRects().length > 0,
  );
}

/**
 * Makes `ref` a modal. `onKey` sees every key pressed while it is the topmost modal
 * (after Tab and Escape are handled); `initialFocus` gets focus first (else the first
 * focusable element, else the container).
 */
export function useModal(
  ref: RefObject<HTMLElement | null>,
  onClose: () => void,
  opts: { initialFocus?: RefObject<HTMLElement | null>; onKey?: (e: KeyboardEvent) => void } = {},
): void {
  const latest = useRef({ onClose, onKey: opts.onKey });
  latest.current = { onClose, onKey: opts.onKey };

  useEffect(() => {
    const token = {};
    stack.push(token);
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    document.documentElement.classList.add("cp-modal-open");
    const root = ref.current;
    const first = opts.initialFocus?.current ?? (root ? focusables(root)[0] : null) ?? root;
    first?.focus({ preventScroll: true });

    const onKeyDown = (e: KeyboardEvent) => {
      if (stack[stack.length - 1] !== token || !ref.current) return;
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        latest.current.onClose();
        return;
      }
      if (e.key === "Tab") {
        const items = focusables(ref.current);
        if (items.length === 0) {
          e.preventDefault();
          ref.current.focus();
          return;
        }
        const active = document.activeElement;
        const i = items.indexOf(active as HTMLElement);
        if (e.shiftKey && (i <= 0 || !ref.current.contains(active))) {
          e.preventDefault();
          items[items.length - 1].focus();
        } else if (!e.shiftKey && (i === items.length - 1 || !ref.current.contains(active))) {
          e.preventDefault();
          items[0].focus();
        }
        return;
      }
      latest.current.onKey?.(e);
    };
    // Focus that escapes (a click on the page behind) is brought back.
    const onFocusIn = (e: FocusEvent) => {
      if (stack[stack.length - 1] !== token || !ref.current) return;
      if (e.target instanceof Node && !ref.current.contains(e.target)) ref.current.focus();
    };
    document.addEventListener("keydown", onKeyDown, true);
    document.addEventListener("focusin", onFocusIn);
    return () => {
      document.removeEventListener("keydown", onKeyDown, true);
      document.removeEventListener("focusin", onFocusIn);
      const at = stack.indexOf(token);
      if (at >= 0) stack.splice(at, 1);
      if (stack.length === 0) document.documentElement.classList.remove("cp-modal-open");
      if (before && before.isConnected) before.focus({ preventScroll: true });
    };
    // Runs once per opening; handlers are read through `latest`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
}
