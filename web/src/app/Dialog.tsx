// Modal dialogs (role=dialog, aria-modal, labelled; focus moves in, is trapped, and
// returns), and the common ones: confirm and name prompt.

import type { ComponentChildren } from "preact";
import { createPortal } from "preact";
import { useEffect, useId, useLayoutEffect, useRef, useState } from "preact/hooks";
import { errorMessage } from "./errors";
import { IconClose } from "./icons";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Makes everything outside `keep` inert and hidden from assistive technology while a
 * modal layer is open; returns the undo.
 */
export function isolate(keep: HTMLElement): () => void {
  const changed: HTMLElement[] = [];
  for (const el of Array.from(document.body.children) as HTMLElement[]) {
    if (el === keep || el.tagName === "SCRIPT" || el.inert) continue;
    el.inert = true;
    el.setAttribute("aria-hidden", "true");
    changed.push(el);
  }
  return () => {
    for (const el of changed) {
      el.inert = false;
      el.removeAttribute("aria-hidden");
    }
  };
}

/** A container appended to <body> for the component's lifetime. */
export function useLayer(className: string): HTMLElement {
  const [el] = useState(() => {
    const d = document.createElement("div");
    d.className = className;
    return d;
  });
  useLayoutEffect(() => {
    document.body.appendChild(el);
    return () => el.remove();
  }, [el]);
  return el;
}

export function trapTab(e: KeyboardEvent, root: HTMLElement) {
  if (e.key !== "Tab") return;
  const items = Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => el.offsetParent !== null || el === document.activeElement,
  );
  if (items.length === 0) {
    e.preventDefault();
    return;
  }
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && (document.activeElement === first || !root.contains(document.activeElement))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** Buttons along the bottom. */
  footer?: ComponentChildren;
  /** Wrap body and footer in a form with this submit handler. */
  onSubmit?: () => void;
  wide?: boolean;
  description?: string;
  /** Escape and the close button do nothing (while something is in progress). */
  busy?: boolean;
}

export function Dialog(props: DialogProps) {
  const layer = useLayer("layer layer-modal");
  const box = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const descId = useId();
  const closeRef = useRef(props.onClose);
  closeRef.current = props.onClose;
  const busyRef = useRef(props.busy);
  busyRef.current = props.busy;

  useLayoutEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const undo = isolate(layer);
    const root = box.current!;
    const auto = root.querySelector<HTMLElement>("[data-autofocus]") ?? root.querySelector<HTMLElement>("input, select, textarea");
    (auto ?? root).focus();
    return () => {
      undo();
      if (before && document.contains(before)) before.focus();
    };
  }, [layer]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      e.preventDefault();
      if (!busyRef.current) closeRef.current();
      return;
    }
    trapTab(e, box.current!);
  };

  const body = (
    <>
      <div class="dialog-body">
        {props.description && (
          <p id={descId} class="dialog-desc">
            {props.description}
          </p>
        )}
        {props.children}
      </div>
      {props.footer && <div class="dialog-footer">{props.footer}</div>}
    </>
  );

  return createPortal(
    <div class="backdrop" onMouseDown={(e) => e.target === e.currentTarget && !props.busy && props.onClose()}>
      <div
        ref={box}
        class={"dialog" + (props.wide ? " dialog-wide" : "")}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={props.description ? descId : undefined}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <div class="dialog-header">
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" class="icon-btn" aria-label="Close" onClick={() => !props.busy && props.onClose()}>
            <IconClose />
          </button>
        </div>
        {props.onSubmit ? (
          <form
            class="dialog-form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              props.onSubmit!();
            }}
          >
            {body}
          </form>
        ) : (
          body
        )}
      </div>
    </div>,
    layer,
  );
}

/**
 * What a dialog's form does when submitted: `busy` while `action` runs, then the dialog
 * closes; a failure's message goes to `error` and the dialog stays open. `run` resolves
 * true when the action succeeded.
 */
export function useDialogAction(onClose: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<void> | void): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onClose();
      return true;
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
      return false;
    }
  };
  return { busy, error, setError, run };
}

/** A dialog form's Cancel and submit buttons, both off while it is busy. */
export function DialogButtons(props: {
  label: string;
  busy: boolean;
  onCancel: () => void;
  /** The submit button's look: `btn-primary` unless told. */
  class?: string;
  disabled?: boolean;
  /** The submit button takes the focus when the dialog opens. */
  autofocus?: boolean;
}) {
  return (
    <>
      <button type="button" class="btn" onClick={props.onCancel} disabled={props.busy}>
        Cancel
      </button>
      <button
        type="submit"
        class={"btn " + (props.class ?? "btn-primary")}
        disabled={props.busy || props.disabled}
        data-autofocus={props.autofocus || undefined}
      >
        {props.label}
      </button>
    </>
  );
}

export function ConfirmDialog(props: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}) {
  const { busy, error, run } = useDialogAction(props.onClose);
  return (
    <Dialog
      title={props.title}
      onClose={props.onClose}
      busy={busy}
      onSubmit={() => void run(props.onConfirm)}
      footer={
        <DialogButtons
          label={props.confirmLabel}
          class={props.danger ? "btn-danger" : "btn-primary"}
          busy={busy}
          onCancel={props.onClose}
          autofocus
        />
      }
    >
      <div class="dialog-message">{props.message}</div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}

/** Why a name cannot be used, or null if it can. */
export function validateName(name: string): string | null {
  if (name.trim() === "") return "Enter a name.";
  if (name.includes("/")) return "A name cannot contain “/”.";
  if (name === "." || name === "..") return "“.” and “..” are not names.";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "A name cannot contain control characters.";
  if (new TextEncoder().encode(name).length > 255) return "A name can be at most 255 bytes long.";
  return null;
}

/** Asks for a name (new folder, rename); `onSubmit` throws to show the server's error. */
export function NameDialog(props: {
  title: string;
  label: string;
  initial: string;
  confirmLabel: string;
  /** Select only the stem of "report.txt" on open. */
  selectStem?: boolean;
  onSubmit: (name: string) => Promise<void>;
  onClose: () => void;
}) {
  const [value, setValue] = useState(props.initial);
  const { busy, error, setError, run } = useDialogAction(props.onClose);
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const errId = useId();

  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.focus();
    const dot = props.initial.lastIndexOf(".");
    if (props.selectStem && dot > 0) el.setSelectionRange(0, dot);
    else el.select();
  }, []);

  const submit = async () => {
    const problem = validateName(value);
    if (problem) {
      setError(problem);
      input.current?.focus();
      return;
    }
    if (!(await run(() => props.onSubmit(value.trim() === value ? value : value.trim())))) input.current?.focus();
  };

  return (
    <Dialog
      title={props.title}
      onClose={props.onClose}
      busy={busy}
      onSubmit={submit}
      footer={<DialogButtons label={props.confirmLabel} busy={busy} onCancel={props.onClose} />}
    >
      <div class="field">
        <label for={inputId}>{props.label}</label>
        <input
          id={inputId}
          ref={input}
          type="text"
          value={value}
          autoComplete="off"
          spellcheck={false}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? errId : undefined}
          onInput={(e) => {
            setValue(e.currentTarget.value);
            if (error) setError(null);
          }}
        />
        {error && (
          <p id={errId} class="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </Dialog>
  );
}
