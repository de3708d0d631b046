// The page a visitor of a public link sees at /s/{token}, signed in or not: the shared
// file (preview and Download) or folder (browse, preview, download files, download as
// zip), a password form for protected links, and a clear message for links that ended.

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, responseError } from "../api";
import { fileKind, formatDate, formatSize, nodeKind, normalizePath, plural } from "../format";
import type { PublicItem, PublicLinkResponse, PublicListResponse, UnlockResponse } from "../types";
import { IconDownload, IconLock, IconZip, NodeIcon } from "../app/icons";
import { FileView, Spinner } from "../panels/FileView";
import { useLoad } from "../panels/hooks";
import { PreviewDialog } from "../panels/Preview";
import type { ContentSource } from "../panels/source";
import { ErrorNote, errorText } from "../panels/util";
import "../panels/panels.css";

/** The header that carries a password-protected link's key. */
const KEY_HEADER = "X-Coffer-Link-Key";
const PAGE = 200;
const NO_DOWNLOADS = "The owner has turned off downloads";

/**
 * Fetches a public endpoint. Unlike `apiFetch` it does not tell the signed-in app that
 * its session ended on a 401 (`password_required` is about the link, not the visitor).
 */
async function publicFetch(url: string, key: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key) headers.set(KEY_HEADER, key);
  const resp = await fetch(url, { ...init, headers, credentials: "same-origin" });
  if (resp.ok) return resp;
  throw await responseError(resp);
}

interface StoredKey {
  key: string;
  expires_at: number;
}

function storageName(token: string) {
  return "coffer.link-key." + token;
}

function loadKey(token: string): string | null {
  try {
    const raw = sessionStorage.getItem(storageName(token));
    if (!raw) return null;
    const k = JSON.parse(raw) as StoredKey;
    return k.expires_at > Date.now() ? k.key : null;
  } catch {
    return null;
  }
}

function saveKey(token: string, k: StoredKey | null) {
  try {
    if (k) sessionStorage.setItem(storageName(token), JSON.stringify(k));
    else sessionStorage.removeItem(storageName(token));
  } catch {
    // storage may be off; the key then lasts as long as the page
  }
}

/** Where in a linked folder the visitor is: kept in the address's fragment (#/a/b). */
function pathFromHash(): string {
  const h = location.hash.replace(/^#/, "");
  if (!h.startsWith("/")) return "/";
  try {
    return normalizePath(h.split("/").map(decodeURIComponent).join("/"));
  } catch {
    return "/";
  }
}

function hashOf(path: string): string {
  return path === "/" ? "" : "#" + path.split("/").map(encodeURIComponent).join("/");
}

type Phase =
  | { kind: "loading" }
  | { kind: "password"; expired?: boolean }
  | { kind: "gone"; code: string }
  | { kind: "missing" }
  | { kind: "error"; error: unknown }
  | { kind: "ready"; link: PublicLinkResponse };

export function PublicLinkPage({ token }: { token: string }) {
  const [key, setKey] = useState<string | null>(() => loadKey(token));
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const base = `/api/v1/public/${encodeURIComponent(token)}`;

  const loadSummary = useCallback(
    async (quiet: boolean) => {
      if (!quiet) setPhase({ kind: "loading" });
      try {
        const link = (await (await publicFetch(base, key)).json()) as PublicLinkResponse;
        // A link to a shared folder's root can come without a name.
        if (!link.item.name) {
          link.item = { ...link.item, name: link.item.kind === "folder" ? "Folder" : "File" };
        }
        setPhase({ kind: "ready", link });
      } catch (e) {
        const code = e instanceof ApiError ? e.code : "";
        if (quiet) {
          // A refresh after a download: keep the page, only note that nothing is left.
          if (code === "link_exhausted")
            setPhase((p) => (p.kind === "ready" ? { kind: "ready", link: { ...p.link, downloads_left: 0 } } : p));
          return;
        }
        if (code === "password_required") {
          if (key) saveKey(token, null);
          setPhase({ kind: "password", expired: !!key });
        } else if (code === "link_expired" || code === "link_revoked" || code === "link_exhausted") {
          setPhase({ kind: "gone", code });
        } else if (code === "not_found") {
          setPhase({ kind: "missing" });
        } else {
          setPhase({ kind: "error", error: e });
        }
      }
    },
    [base, key, token],
  );

  useEffect(() => {
    loadSummary(false);
  }, [loadSummary]);

  const ready = phase.kind === "ready" ? phase.link : null;
  useEffect(() => {
    const prev = document.title;
    document.title = ready ? `${ready.item.name} · Coffer` : "Shared with Coffer";
    return () => {
      document.title = prev;
    };
  }, [ready?.item.name]);

  // Downloads and previews count against a limit: refresh what is left after one.
  const refreshTimer = useRef<number | undefined>(undefined);
  const counted = useCallback(() => {
    window.clearTimeout(refreshTimer.current);
    refreshTimer.current = window.setTimeout(() => loadSummary(true), 1200);
  }, [loadSummary]);
  useEffect(() => () => window.clearTimeout(refreshTimer.current), []);

  const unlocked = (k: UnlockResponse) => {
    saveKey(token, k);
    setKey(k.key);
  };

  return (
    <div class="cp-public">
      <header class="cp-public-head">
        <a class="cp-brand" href="/" aria-label="Coffer home">
          <Logo />
          <span>Coffer</span>
        </a>
      </header>
      <main class="cp-public-main" id="main">
        {phase.kind === "loading" && <Spinner label="Opening the link" />}
        {phase.kind === "password" && <PasswordForm base={base} expired={phase.expired} onUnlocked={unlocked} />}
        {phase.kind === "gone" && <Gone code={phase.code} />}
        {phase.kind === "missing" && (
          <Message title="This link does not exist">
            Check that the address is complete, or ask the person who shared it for a new link.
          </Message>
        )}
        {phase.kind === "error" && (
          <Message title="The link could not be opened">
            {errorText(phase.error)}
            <div class="cp-actions-row">
              <button type="button" class="cp-btn" onClick={() => loadSummary(false)}>
                Try again
              </button>
            </div>
          </Message>
        )}
        {ready && <Shared base={base} link={ready} linkKey={key} onCounted={counted} />}
      </main>
      <footer class="cp-public-foot">
        <span>
          Shared with <strong>Coffer</strong>, a private file storage.
        </span>
      </footer>
    </div>
  );
}

function Logo() {
  return (
    <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false" class="cp-logo">
      <rect x="3" y="7" width="26" height="20" rx="4" fill="currentColor" opacity="0.18" />
      <path d="M3 12h26" stroke="currentColor" stroke-width="2" />
      <rect x="3" y="7" width="26" height="20" rx="4" fill="none" stroke="currentColor" stroke-width="2" />
      <rect x="13" y="15" width="6" height="6" rx="1.5" fill="currentColor" />
    </svg>
  );
}

function Message(props: { title: string; children?: ComponentChildren; icon?: ComponentChildren }) {
  return (
    <section class="cp-card cp-public-message" aria-labelledby="cp-msg-h">
      {props.icon}
      <h1 id="cp-msg-h" class="cp-public-title">
        {props.title}
      </h1>
      <div class="cp-muted">{props.children}</div>
    </section>
  );
}

function Gone({ code }: { code: string }) {
  const text: Record<string, [string, string]> = {
    link_expired: ["This link has expired", "It was only valid until a set date."],
    link_revoked: ["This link was turned off", "Its owner revoked it."],
    link_exhausted: ["This link's downloads are used up", "It allowed a limited number of downloads."],
  };
  const [title, why] = text[code] ?? ["This link no longer works", ""];
  return (
    <Message title={title}>
      {why} Ask the person who shared it with you for a new link.
    </Message>
  );
}

function PasswordForm(props: { base: string; expired?: boolean; onUnlocked: (k: UnlockResponse) => void }) {
  const id = useId();
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!password) return;
    setBusy(true);
    setError(null);
    try {
      const resp = await publicFetch(props.base + "/unlock", null, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ password }),
      });
      props.onUnlocked((await resp.json()) as UnlockResponse);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      if (code === "password_required" || code === "unauthorized") setError("That password is not right. Try again.");
      else if (code === "rate_limited" && err instanceof ApiError && err.retryAfter)
        setError(`Too many attempts. Try again in ${plural(Math.ceil(err.retryAfter), "second")}.`);
      else setError(errorText(err));
      input.current?.select();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="cp-card cp-public-message cp-public-lock" aria-labelledby={`${id}-h`}>
      <span class="cp-lock-badge" aria-hidden="true">
        <IconLock size={28} />
      </span>
      <h1 id={`${id}-h`} class="cp-public-title">
        This link is protected
      </h1>
      <p class="cp-muted">
        {props.expired ? "Your access has ended. " : ""}Enter the password the owner gave you to open it.
      </p>
      <form class="cp-form cp-unlock" onSubmit={submit}>
        <label for={`${id}-pw`}>Password</label>
        <div class="cp-copy">
          <input
            ref={input}
            id={`${id}-pw`}
            class="cp-input"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-err` : undefined}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <button type="submit" class="cp-btn cp-btn-primary" disabled={busy || !password}>
            {busy ? "Unlocking…" : "Unlock"}
          </button>
        </div>
        {error && (
          <p id={`${id}-err`} class="cp-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

interface SharedProps {
  base: string;
  link: PublicLinkResponse;
  linkKey: string | null;
  onCounted: () => void;
}

/** Addresses below the link, with the key for password-protected links (elements
 * such as <img> cannot send the header). */
function urls(base: string, key: string | null) {
  const q = (params: Record<string, string>) => {
    const u = new URLSearchParams(params);
    if (key) u.set("key", key);
    return u.toString();
  };
  return {
    content: (path: string, inline: boolean) => `${base}/content?${q(inline ? { path, inline: "true" } : { path })}`,
    zip: (path: string) => `${base}/zip?${q({ path })}`,
    list: (path: string, after?: string) =>
      `${base}/list?${new URLSearchParams({ path, limit: String(PAGE), ...(after ? { after } : {}) })}`,
  };
}

function Shared(props: SharedProps) {
  const { link } = props;
  const item = link.item;
  const notes: string[] = [];
  if (link.expires_at) notes.push(`Link expires ${formatDate(link.expires_at, true)}`);
  if (link.downloads_left != null)
    notes.push(link.downloads_left === 0 ? "No downloads left" : `${plural(link.downloads_left, "download")} left`);

  return (
    <>
      {!link.allow_download && (
        <p class="cp-banner" role="note">
          {NO_DOWNLOADS}: you can see what is shared, but not open or download it.
        </p>
      )}
      {item.kind === "file" ? <SharedFile {...props} notes={notes} /> : <SharedFolder {...props} notes={notes} />}
    </>
  );
}

function sourceFor(item: PublicItem, props: SharedProps): ContentSource {
  const u = urls(props.base, props.linkKey);
  const left = props.link.downloads_left;
  return {
    name: item.name,
    size: item.size,
    modifiedAt: item.mtime ?? item.modified_at,
    url: ({ inline }) => u.content(item.path, inline),
    fetch: (url, init) => publicFetch(url, props.linkKey, init),
    downloadable: props.link.allow_download && left !== 0,
    unavailableReason: !props.link.allow_download
      ? `${NO_DOWNLOADS}.`
      : left === 0
        ? "This link's downloads are used up."
        : undefined,
    confirmPreview:
      left != null ? `This link allows ${plural(left, "more download")}; showing a preview uses one.` : undefined,
    onFetched: props.onCounted,
  };
}

function SharedFile(props: SharedProps & { notes: string[] }) {
  const { link } = props;
  const item = link.item;
  const u = urls(props.base, props.linkKey);
  // Made once per file: a preview already shown stays when the counters change after it.
  const source = useMemo(() => sourceFor(item, props), [item.path, props.linkKey]);
  const canDownload = link.allow_download && link.downloads_left !== 0;
  return (
    <>
      <section class="cp-card cp-public-item" aria-labelledby="cp-item-h">
        <NodeIcon kind={fileKind(item.name)} size={40} />
        <div class="cp-public-names">
          <h1 id="cp-item-h" class="cp-public-title" title={item.name}>
            {item.name}
          </h1>
          <p class="cp-muted cp-small">
            {formatSize(item.size)} · Modified {formatDate(item.mtime ?? item.modified_at, true)}
            {props.notes.length > 0 && " · " + props.notes.join(" · ")}
          </p>
        </div>
        {canDownload && (
          <a class="cp-btn cp-btn-primary" href={u.content("/", false)} download={item.name} onClick={props.onCounted}>
            <IconDownload size={18} />
            Download
          </a>
        )}
      </section>
      {link.allow_download && (
        <div class="cp-public-preview">
          <FileView source={source} variant="inline" />
        </div>
      )}
    </>
  );
}

function SharedFolder(props: SharedProps & { notes: string[] }) {
  const { link } = props;
  const root = link.item;
  const [path, setPath] = useState(pathFromHash);
  const [previewing, setPreviewing] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const u = urls(props.base, props.linkKey);
  const canDownload = link.allow_download && link.downloads_left !== 0;
  const listRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const onHash = () => {
      const p = pathFromHash();
      setPath((cur) => {
        if (cur !== p) setPreviewing(null);
        return p;
      });
    };
    window.addEventListener("hashchange", onHash);
    window.addEventListener("popstate", onHash);
    return () => {
      window.removeEventListener("hashchange", onHash);
      window.removeEventListener("popstate", onHash);
    };
  }, []);

  const page = useLoad<PublicListResponse>(
    async (signal) => (await (await publicFetch(u.list(path), props.linkKey, { signal })).json()) as PublicListResponse,
    [path, props.linkKey],
  );

  const go = (p: string) => {
    const target = normalizePath(p);
    if (target === path) return;
    history.pushState(null, "", location.pathname + location.search + hashOf(target));
    setPath(target);
    setPreviewing(null);
    listRef.current?.focus();
  };

  const more = async () => {
    const data = page.data;
    if (!data?.next_after) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const next = (await (await publicFetch(u.list(path, data.next_after), props.linkKey)).json()) as PublicListResponse;
      page.setData({ entries: [...data.entries, ...next.entries], next_after: next.next_after });
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  const entries = page.data?.entries ?? [];
  const files = entries.filter((e) => e.kind === "file");
  const at = files.findIndex((f) => f.path === previewing);
  const current = at >= 0 ? files[at] : null;
  const currentSource = useMemo(() => (current ? sourceFor(current, props) : null), [current?.path, props.linkKey]);
  const crumbs = path === "/" ? [] : path.split("/").filter(Boolean);
  const here = crumbs.length ? crumbs[crumbs.length - 1] : "Contents";
  const folders = entries.filter((e) => e.kind === "folder").length;

  return (
    <>
      <section class="cp-card cp-public-item" aria-labelledby="cp-item-h">
        <NodeIcon kind="folder" size={40} />
        <div class="cp-public-names">
          <h1 id="cp-item-h" class="cp-public-title" title={root.name}>
            {root.name}
          </h1>
          <p class="cp-muted cp-small">
            Shared folder
            {props.notes.length > 0 && " · " + props.notes.join(" · ")}
          </p>
        </div>
        {canDownload && (
          <a class="cp-btn cp-btn-primary" href={u.zip("/")} download onClick={props.onCounted}>
            <IconZip size={18} />
            Download all as zip
          </a>
        )}
      </section>

      {crumbs.length > 0 && (
        <nav class="cp-crumbs" aria-label="Folder path">
          <ol>
            <li>
              <a href={location.pathname + location.search} onClick={(e) => (e.preventDefault(), go("/"))}>
                {root.name}
              </a>
            </li>
            {crumbs.map((name, i) => {
              const p = "/" + crumbs.slice(0, i + 1).join("/");
              return (
                <li key={p}>
                  {i === crumbs.length - 1 ? (
                    <span aria-current="page">{name}</span>
                  ) : (
                    <a href={hashOf(p)} onClick={(e) => (e.preventDefault(), go(p))}>
                      {name}
                    </a>
                  )}
                </li>
              );
            })}
          </ol>
        </nav>
      )}

      <section class="cp-card cp-public-list" aria-labelledby="cp-list-h">
        <div class="cp-public-list-head">
          <h2 id="cp-list-h" class="cp-section-title" tabIndex={-1} ref={listRef}>
            {here}
          </h2>
          {page.data && (
            <span class="cp-muted cp-small">
              {folders > 0 && plural(folders, "folder") + (files.length ? ", " : "")}
              {files.length > 0 && plural(files.length, "file")}
              {page.data.next_after ? " shown" : ""}
            </span>
          )}
          {path !== "/" && canDownload && (
            <a class="cp-btn cp-btn-small" href={u.zip(path)} download onClick={props.onCounted}>
              <IconZip size={16} />
              Download folder as zip
            </a>
          )}
        </div>
        <ErrorNote error={page.error} />
        {page.loading && !page.data && <Spinner label="Loading the folder" />}
        {page.data && entries.length === 0 && <p class="cp-empty">This folder is empty.</p>}
        {entries.length > 0 && (
          <ul class="cp-list cp-entries">
            {entries.map((e) => (
              <li key={e.path} class="cp-row cp-entry">
                <NodeIcon kind={nodeKind(e)} size={24} />
                <div class="cp-row-main">
                  {e.kind === "folder" ? (
                    <a
                      class="cp-row-link"
                      href={hashOf(e.path)}
                      onClick={(ev) => (ev.preventDefault(), go(e.path))}
                    >
                      {e.name}
                    </a>
                  ) : link.allow_download ? (
                    <button type="button" class="cp-row-link" onClick={() => setPreviewing(e.path)}>
                      {e.name}
                    </button>
                  ) : (
                    <span class="cp-row-title">{e.name}</span>
                  )}
                  <p class="cp-muted cp-small cp-entry-meta">
                    {e.kind === "folder" ? "Folder" : formatSize(e.size)} · {formatDate(e.mtime ?? e.modified_at)}
                  </p>
                </div>
                {canDownload && (
                  <a
                    class="cp-icon-btn"
                    href={e.kind === "folder" ? u.zip(e.path) : u.content(e.path, false)}
                    download={e.kind === "folder" ? `${e.name}.zip` : e.name}
                    aria-label={e.kind === "folder" ? `Download ${e.name} as zip` : `Download ${e.name}`}
                    title={e.kind === "folder" ? "Download as zip" : "Download"}
                    onClick={props.onCounted}
                  >
                    {e.kind === "folder" ? <IconZip size={18} /> : <IconDownload size={18} />}
                  </a>
                )}
              </li>
            ))}
          </ul>
        )}
        <ErrorNote error={moreError} />
        {page.data?.next_after && (
          <div class="cp-actions-row">
            <button type="button" class="cp-btn" onClick={more} disabled={loadingMore}>
              {loadingMore ? "Loading…" : "Show more"}
            </button>
          </div>
        )}
      </section>

      {currentSource && (
        <PreviewDialog
          source={currentSource}
          onClose={() => setPreviewing(null)}
          onPrev={at > 0 ? () => setPreviewing(files[at - 1].path) : undefined}
          onNext={at < files.length - 1 ? () => setPreviewing(files[at + 1].path) : undefined}
        />
      )}
    </>
  );
}
