// The one preview renderer, for signed-in previews and public links alike: it gets a
// `ContentSource` (a name, a size and a content address builder) and shows images, PDF,
// text and source code (highlighted), Markdown (sanitized), audio and video, or a card
// with a Download button for anything else.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDate, formatSize, type FileKind } from "../format";
import { IconDownload, IconOpen, NodeIcon } from "../app/icons";
import { defaultFetch, previewKind, type ContentSource } from "./source";
import { errorText } from "./util";
import "./panels.css";

/** Text previews read at most this much (the first MiB). */
export const TEXT_LIMIT = 1024 * 1024;
/** Past this, code is shown without highlighting (it would take too long). */
const HIGHLIGHT_LIMIT = 512 * 1024;

export interface FileViewProps {
  source: ContentSource;
  /** `overlay`: fills a dark full-screen viewer; `inline`: sits in a page. */
  variant?: "overlay" | "inline";
}

export function FileView({ source, variant = "overlay" }: FileViewProps) {
  const kind = previewKind(source.name);
  const [confirmed, setConfirmed] = useState(!source.confirmPreview);
  const [failed, setFailed] = useState<string | null>(null);
  const cls = `cp-fv cp-fv-${variant} cp-fv-kind-${kind}`;
  // In a page the name, size and Download button are already shown above the preview.
  const bare = variant === "inline";

  if (source.unavailableReason || source.downloadable === false) {
    return (
      <div class={cls}>
        <InfoCard source={source} kind={kind} note={source.unavailableReason} bare={bare} />
      </div>
    );
  }
  if (kind === "other" || failed) {
    return (
      <div class={cls}>
        <InfoCard
          source={source}
          kind={kind}
          note={failed ?? "There is no preview for this kind of file."}
          bare={bare}
        />
      </div>
    );
  }
  if (!confirmed) {
    return (
      <div class={cls}>
        <InfoCard source={source} kind={kind} note={source.confirmPreview} bare={bare}>
          <button type="button" class="cp-btn" onClick={() => setConfirmed(true)}>
            Show preview
          </button>
        </InfoCard>
      </div>
    );
  }
  const fail = (why: string) => setFailed(why);
  return (
    <div class={cls}>
      {kind === "image" && <ImageView source={source} onFail={fail} />}
      {kind === "pdf" && <PdfView source={source} />}
      {(kind === "audio" || kind === "video") && <MediaView source={source} kind={kind} onFail={fail} />}
      {(kind === "text" || kind === "code" || kind === "markdown") && (
        <TextView source={source} kind={kind} variant={variant} />
      )}
    </div>
  );
}

/** Name, size, date and a Download button: for files with no preview. */
export function InfoCard(props: {
  source: ContentSource;
  kind: FileKind;
  note?: string;
  /** Only the note and the actions (the page shows the file's name and Download). */
  bare?: boolean;
  children?: ComponentChildren;
}) {
  const { source, bare } = props;
  const canDownload = source.downloadable !== false && !source.unavailableReason && !bare;
  return (
    <div class={"cp-card cp-fv-card" + (bare ? " is-bare" : "")}>
      <NodeIcon kind={props.kind} size={bare ? 40 : 56} class="cp-fv-card-icon" plain />
      {!bare && <p class="cp-fv-card-name">{source.name}</p>}
      {!bare && (
        <p class="cp-fv-card-meta">
          {formatSize(source.size)}
          {source.modifiedAt ? <> · Modified {formatDate(source.modifiedAt, true)}</> : null}
        </p>
      )}
      {props.note && <p class="cp-fv-card-note">{props.note}</p>}
      <div class="cp-fv-card-actions">
        {props.children}
        {canDownload && (
          <a class="cp-btn cp-btn-primary" href={source.url({ inline: false })} download={source.name}>
            <IconDownload size={18} />
            Download
          </a>
        )}
      </div>
    </div>
  );
}

function ImageView({ source, onFail }: { source: ContentSource; onFail: (why: string) => void }) {
  const [loaded, setLoaded] = useState(false);
  const [zoomed, setZoomed] = useState(false);
  const src = source.url({ inline: true });
  return (
    <div class={"cp-fv-image cp-backdrop" + (zoomed ? " is-zoomed" : "")}>
      {!loaded && <Spinner label="Loading image" />}
      <button
        type="button"
        class="cp-fv-image-btn"
        aria-label={zoomed ? "Fit image to the screen" : "Show image at full size"}
        aria-pressed={zoomed}
        onClick={() => setZoomed(!zoomed)}
        hidden={!loaded}
      >
        <img
          src={src}
          alt={source.name}
          decoding="async"
          onLoad={() => {
            setLoaded(true);
            source.onFetched?.();
          }}
          onError={() => onFail("This image can't be shown in the browser.")}
        />
      </button>
    </div>
  );
}

function PdfView({ source }: { source: ContentSource }) {
  const src = source.url({ inline: true });
  useEffect(() => source.onFetched?.(), [src]);
  return (
    <div class="cp-fv-pdf">
      <iframe src={src} title={`${source.name} (PDF)`} class="cp-fv-frame" />
      <p class="cp-fv-pdf-alt">
        <a href={src} target="_blank" rel="noopener noreferrer" class="cp-link">
          <IconOpen size={16} /> Open the PDF in a new tab
        </a>
      </p>
    </div>
  );
}

function MediaView(props: { source: ContentSource; kind: "audio" | "video"; onFail: (why: string) => void }) {
  const { source, kind } = props;
  const src = source.url({ inline: true });
  const fail = () => props.onFail(`This ${kind} format can't be played in your browser.`);
  if (kind === "audio") {
    return (
      <div class="cp-fv-audio cp-card">
        <NodeIcon kind="audio" size={56} class="cp-fv-card-icon" plain />
        <p class="cp-fv-card-name">{source.name}</p>
        <audio controls preload="metadata" src={src} onError={fail} onLoadedMetadata={() => source.onFetched?.()}>
          Your browser cannot play this audio.
        </audio>
      </div>
    );
  }
  return (
    <div class="cp-fv-video cp-backdrop">
      <video
        controls
        playsInline
        preload="metadata"
        src={src}
        onError={fail}
        onLoadedMetadata={() => source.onFetched?.()}
        aria-label={source.name}
      >
        Your browser cannot play this video.
      </video>
    </div>
  );
}

interface TextResult {
  text: string;
  truncated: boolean;
  binary: boolean;
}

/** Fetches at most the first TEXT_LIMIT bytes and decodes them as UTF-8. */
async function loadText(source: ContentSource, signal: AbortSignal): Promise<TextResult> {
  if (source.size === 0) return { text: "", truncated: false, binary: false };
  const fetcher = source.fetch ?? defaultFetch;
  const resp = await fetcher(source.url({ inline: true }), {
    headers: { Range: `bytes=0-${TEXT_LIMIT - 1}` },
    signal,
  });
  // The whole size: from Content-Range on a 206, else what the listing said.
  const range = resp.headers.get("content-range");
  const total = range && /\/(\d+)$/.test(range) ? Number(/\/(\d+)$/.exec(range)![1]) : source.size;
  const bytes = new Uint8Array(TEXT_LIMIT);
  let n = 0;
  let more = false;
  const reader = resp.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = TEXT_LIMIT - n;
      bytes.set(value.subarray(0, room), n);
      n += Math.min(room, value.length);
      if (value.length > room || n >= TEXT_LIMIT) {
        more = value.length > room;
        await reader.cancel().catch(() => {});
        break;
      }
    }
  } else {
    const all = new Uint8Array(await resp.arrayBuffer());
    n = Math.min(all.length, TEXT_LIMIT);
    bytes.set(all.subarray(0, n));
    more = all.length > TEXT_LIMIT;
  }
  source.onFetched?.();
  const data = bytes.subarray(0, n);
  const head = data.subarray(0, 8000);
  const binary = head.includes(0);
  const truncated = more || total > n;
  // `stream: true` keeps a character cut in half at the end out of the text.
  const text = new TextDecoder("utf-8").decode(data, { stream: truncated });
  return { text: text.replace(/^\uFEFF/, ""), truncated, binary };
}

type Highlighter = typeof import("./highlight");
type MarkdownRenderer = typeof import("./markdown");

function TextView(props: { source: ContentSource; kind: "text" | "code" | "markdown"; variant: "overlay" | "inline" }) {
  const { source, kind, variant } = props;
  const [result, setResult] = useState<TextResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [mode, setMode] = useState<"rendered" | "source">("rendered");
  const url = source.url({ inline: true });

  useEffect(() => {
    const ctl = new AbortController();
    setResult(null);
    setError(null);
    loadText(source, ctl.signal).then(
      (r) => !ctl.signal.aborted && setResult(r),
      (e) => !ctl.signal.aborted && setError(e),
    );
    return () => ctl.abort();
  }, [url]);

  if (error) {
    return (
      <div class="cp-card cp-fv-card">
        <NodeIcon kind={kind} size={56} class="cp-fv-card-icon" plain />
        <p class="cp-fv-card-name">{source.name}</p>
        <p class="cp-error" role="alert">
          The preview could not be loaded. {errorText(error)}
        </p>
      </div>
    );
  }
  if (!result) return <Spinner label="Loading preview" />;
  if (result.binary) {
    return <InfoCard source={source} kind={kind} note="This file does not look like text." bare={variant === "inline"} />;
  }
  const showMarkdown = kind === "markdown" && mode === "rendered";
  return (
    <div class="cp-fv-text cp-card">
      <div class="cp-fv-text-bar">
        <span class="cp-fv-text-info">
          {result.truncated
            ? `Showing the first ${formatSize(TEXT_LIMIT)} of ${formatSize(source.size)}`
            : lineCount(result.text) + (lineCount(result.text) === 1 ? " line" : " lines")}
        </span>
        {kind === "markdown" && (
          <div class="cp-seg" role="group" aria-label="Show as">
            <button type="button" aria-pressed={mode === "rendered"} onClick={() => setMode("rendered")}>
              Formatted
            </button>
            <button type="button" aria-pressed={mode === "source"} onClick={() => setMode("source")}>
              Source
            </button>
          </div>
        )}
      </div>
      {result.truncated && (
        <p class="cp-fv-truncated" role="note">
          This file is too large to preview in full: only its first {formatSize(TEXT_LIMIT)} is shown.
          {source.downloadable !== false && (
            <>
              {" "}
              <a href={source.url({ inline: false })} download={source.name} class="cp-link">
                Download the whole file
              </a>
            </>
          )}
        </p>
      )}
      {result.text === "" ? (
        <p class="cp-fv-empty">This file is empty.</p>
      ) : showMarkdown ? (
        <MarkdownBody text={result.text} />
      ) : kind === "text" ? (
        <pre class="cp-fv-plain" tabIndex={0} aria-label={`Contents of ${source.name}`}>
          {result.text}
        </pre>
      ) : (
        <CodeBody text={result.text} name={source.name} />
      )}
    </div>
  );
}

function lineCount(text: string): number {
  if (!text) return 0;
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return text.endsWith("\n") ? n - 1 : n;
}

let highlighter: Promise<Highlighter> | null = null;
let markdown: Promise<MarkdownRenderer> | null = null;

function CodeBody({ text, name }: { text: string; name: string }) {
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setHtml(null);
    if (text.length > HIGHLIGHT_LIMIT) return;
    highlighter ??= import("./highlight");
    highlighter.then(
      (h) => live && setHtml(h.highlight(text, h.languageFor(name))),
      () => {
        highlighter = null;
      },
    );
    return () => {
      live = false;
    };
  }, [text, name]);
  const lines = Math.max(1, lineCount(text));
  const gutter = Array.from({ length: lines }, (_, i) => i + 1).join("\n");
  return (
    <div class="cp-fv-code" tabIndex={0} role="region" aria-label={`Contents of ${name}`}>
      <pre class="cp-fv-gutter" aria-hidden="true">
        {gutter}
      </pre>
      {html != null ? (
        // highlight.js escapes the text; its markup is class-only spans.
        <pre class="cp-fv-src hljs">
          <code dangerouslySetInnerHTML={{ __html: html }} />
        </pre>
      ) : (
        <pre class="cp-fv-src">
          <code>{text}</code>
        </pre>
      )}
    </div>
  );
}

function MarkdownBody({ text }: { text: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    markdown ??= import("./markdown");
    markdown.then(
      (m) => {
        if (!live || !ref.current) return;
        ref.current.replaceChildren(m.renderMarkdown(text));
      },
      (e) => {
        markdown = null;
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [text]);
  if (error) return <pre class="cp-fv-plain">{text}</pre>;
  return <div class="cp-fv-markdown cp-md" ref={ref} tabIndex={0} role="document" aria-label="Formatted document" />;
}

export function Spinner({ label }: { label: string }) {
  return (
    <div class="cp-spinner-wrap" role="status">
      <span class="spinner cp-spinner" aria-hidden="true" />
      <span class="visually-hidden">{label}</span>
    </div>
  );
}
