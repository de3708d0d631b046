// The full-screen preview of a file: a modal viewer with the file's name, Download,
// Details and Close, and previous/next when the caller has a list to walk.

import { createPortal, type ComponentChildren } from "preact";
import { useId, useRef } from "preact/hooks";
import { formatDate, formatSize } from "../format";
import type { NodeInfo } from "../types";
import { IconChevronLeft, IconChevronRight, IconClose, IconDownload, IconInfo, NodeIcon } from "../app/icons";
import { useModal } from "./dialog";
import { FileView } from "./FileView";
import { nodeSource, previewKind, type ContentSource } from "./source";
import { isTypingTarget } from "./util";
import "./panels.css";

export interface PreviewProps {
  node: NodeInfo;
  path: string;
  onClose: () => void;
  onPrev?: () => void;
  onNext?: () => void;
  /** Shows a Details button that calls this. */
  onDetails?: () => void;
}

/** Previews a file of the signed-in user (by path) without downloading it. */
export function Preview(props: PreviewProps) {
  const source = nodeSource(props.node, props.path);
  if (props.node.kind === "folder") {
    source.unavailableReason = "This is a folder.";
    source.downloadable = false;
  }
  return (
    <PreviewDialog
      source={source}
      onClose={props.onClose}
      onPrev={props.onPrev}
      onNext={props.onNext}
      onDetails={props.onDetails}
    />
  );
}

export interface PreviewDialogProps {
  source: ContentSource;
  /** Shown under the name (for example which version this is). */
  subtitle?: ComponentChildren;
  onClose: () => void;
  onPrev?: () => void;
  onNext?: () => void;
  onDetails?: () => void;
}

/** The modal viewer around `FileView`, for any content source. */
export function PreviewDialog(props: PreviewDialogProps) {
  const { source } = props;
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const kind = previewKind(source.name);
  const canDownload = source.downloadable !== false && !source.unavailableReason;

  useModal(ref, props.onClose, {
    initialFocus: closeRef,
    onKey: (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || isTypingTarget(e.target)) return;
      if (e.key === "ArrowLeft" && props.onPrev) {
        e.preventDefault();
        props.onPrev();
      } else if (e.key === "ArrowRight" && props.onNext) {
        e.preventDefault();
        props.onNext();
      }
    },
  });

  const meta = [formatSize(source.size), source.modifiedAt ? formatDate(source.modifiedAt, true) : ""]
    .filter(Boolean)
    .join(" · ");

  return createPortal(
    <div class="cp-overlay" role="dialog" aria-modal="true" aria-labelledby={titleId} ref={ref} tabIndex={-1}>
      <div class="cp-ov-bar">
        <div class="cp-ov-title">
          <NodeIcon kind={kind} size={22} class="cp-ov-icon" plain />
          <div class="cp-ov-names">
            <h2 id={titleId} class="cp-ov-name" title={source.name}>
              {source.name}
            </h2>
            <p class="cp-ov-meta">{props.subtitle ?? meta}</p>
          </div>
        </div>
        <div class="cp-ov-actions">
          {canDownload && (
            <a class="cp-ov-btn" href={source.url({ inline: false })} download={source.name}>
              <IconDownload size={20} />
              <span class="cp-ov-btn-label">Download</span>
            </a>
          )}
          {props.onDetails && (
            <button type="button" class="cp-ov-btn" onClick={props.onDetails}>
              <IconInfo size={20} />
              <span class="cp-ov-btn-label">Details</span>
            </button>
          )}
          <button type="button" class="cp-ov-btn cp-ov-close" onClick={props.onClose} ref={closeRef}>
            <IconClose size={20} />
            <span class="cp-ov-btn-label">Close</span>
          </button>
        </div>
      </div>
      <div
        class="cp-ov-body"
        onClick={(e) => {
          // A click on the dark backdrop around an image or a video closes the viewer.
          const t = e.target as Element;
          if (t === e.currentTarget || t.classList?.contains("cp-backdrop")) props.onClose();
        }}
      >
        {props.onPrev && (
          <button type="button" class="cp-ov-nav cp-ov-prev" onClick={props.onPrev} aria-label="Previous file">
            <IconChevronLeft size={28} />
          </button>
        )}
        <FileView key={source.url({ inline: true })} source={source} variant="overlay" />
        {props.onNext && (
          <button type="button" class="cp-ov-nav cp-ov-next" onClick={props.onNext} aria-label="Next file">
            <IconChevronRight size={28} />
          </button>
        )}
      </div>
    </div>,
    document.body,
  );
}
