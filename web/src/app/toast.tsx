// Short messages at the bottom of the screen, some with an action ("Undo").

import { useLayer } from "./Dialog";
import { friendlyError } from "./errors";
import { IconAlert, IconCheck, IconClose } from "./icons";
import { createPortal } from "preact";
import { createStore, useStore } from "./store";

export interface Toast {
  id: number;
  message: string;
  kind: "info" | "error" | "success";
  action?: { label: string; run: () => void };
}

const toasts = createStore<Toast[]>([]);
let nextId = 1;
const timers = new Map<number, number>();

export function dismissToast(id: number) {
  clearTimeout(timers.get(id));
  timers.delete(id);
  toasts.set((list) => list.filter((t) => t.id !== id));
}

export function showToast(message: string, opts: Partial<Omit<Toast, "id" | "message">> & { timeout?: number } = {}): number {
  const id = nextId++;
  const t: Toast = { id, message, kind: opts.kind ?? "info", action: opts.action };
  toasts.set((list) => [...list.slice(-3), t]);
  const timeout = opts.timeout ?? (t.action ? 10000 : t.kind === "error" ? 8000 : 5000);
  timers.set(id, window.setTimeout(() => dismissToast(id), timeout));
  return id;
}

export function showError(e: unknown, prefix?: string): void {
  const msg = friendlyError(e);
  showToast(prefix ? `${prefix}: ${msg}` : msg, { kind: "error" });
}

export function ToastHost() {
  const list = useStore(toasts);
  const layer = useLayer("layer layer-toasts");
  return createPortal(
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={"toast toast-" + t.kind}>
          {t.kind === "error" ? <IconAlert size={18} /> : t.kind === "success" ? <IconCheck size={18} /> : null}
          <span class="toast-msg">{t.message}</span>
          {t.action && (
            <button
              type="button"
              class="toast-action"
              onClick={() => {
                dismissToast(t.id);
                t.action!.run();
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" class="icon-btn icon-btn-sm" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <IconClose size={16} />
          </button>
        </div>
      ))}
    </div>,
    layer,
  );
}
