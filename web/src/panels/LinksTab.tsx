// Public links to a file or folder: make one (expiry, password, download limit, view
// only), copy its address, see how it is used, revoke it.

import { useId, useRef, useState } from "preact/hooks";
import { apiFetch, apiJson } from "../api";
import { formatDate, normalizePath } from "../format";
import type { LinkInfo, LinkRequest, LinkState, LinksResponse, NodeInfo } from "../types";
import { IconCopy, IconLock } from "../app/icons";
import { Spinner } from "./FileView";
import { useAction, useLoad, useStatus } from "./hooks";
import { ErrorNote, copyText } from "./util";

const STATE_LABEL: Record<LinkState, string> = {
  active: "Active",
  expired: "Expired",
  revoked: "Revoked",
  exhausted: "Downloads used up",
  unavailable: "Unavailable",
};

/** The full address of a link on this server. */
export function linkAddress(l: LinkInfo): string {
  return location.origin + l.url_path;
}

export function LinksTab(props: { node: NodeInfo; path: string }) {
  const path = normalizePath(props.path);
  const links = useLoad(
    async (signal) => {
      const resp = await apiFetch("/api/v1/links?" + new URLSearchParams({ path }), { signal });
      const body = (await resp.json()) as LinksResponse;
      return [...body.links].sort((a, b) => b.created_at - a.created_at);
    },
    [path],
  );
  const { busy, error, run } = useAction();
  const [fresh, setFresh] = useState<number | null>(null);
  const [status, setStatus] = useStatus();

  const create = (req: Omit<LinkRequest, "path">): Promise<boolean> =>
    run(async () => {
      const link = await apiJson<LinkInfo>("/api/v1/links", { path, ...req });
      links.setData([link, ...(links.data ?? [])]);
      setFresh(link.id);
      setStatus("Link created.");
      void copyText(linkAddress(link)).then((ok) => ok && setStatus("Link created and copied to the clipboard."));
    });

  const revoke = async (l: LinkInfo) => {
    if (!confirm("Revoke this link? Anyone who has it can no longer open it. This cannot be undone.")) return;
    await run(async () => {
      const updated = await apiJson<LinkInfo>(`/api/v1/links/${l.id}`, undefined, "DELETE");
      links.setData((links.data ?? []).map((x) => (x.id === l.id ? (updated ?? { ...x, state: "revoked" }) : x)));
      setStatus("Link revoked.");
    });
  };

  const all = links.data ?? [];
  const live = all.filter((l) => l.state === "active" || l.state === "unavailable");
  const ended = all.filter((l) => !(l.state === "active" || l.state === "unavailable"));

  return (
    <div class="cp-section">
      <p class="cp-muted cp-small">
        Anyone with a link can open this {props.node.kind} without an account. Add a password, an expiry date or
        a download limit to keep it in check.
      </p>
      <LinkForm busy={busy} onCreate={create} />
      <ErrorNote error={links.error ?? error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      {links.loading && !links.data && <Spinner label="Loading links" />}
      {links.data && live.length === 0 && <p class="cp-empty">No active links.</p>}
      {live.length > 0 && (
        <ul class="cp-list cp-links" aria-label="Active links">
          {live.map((l) => (
            <LinkRow key={l.id} link={l} fresh={l.id === fresh} busy={busy} onRevoke={revoke} onStatus={setStatus} />
          ))}
        </ul>
      )}
      {ended.length > 0 && (
        <details class="cp-disclosure">
          <summary>Ended links ({ended.length})</summary>
          <ul class="cp-list cp-links">
            {ended.map((l) => (
              <LinkRow key={l.id} link={l} fresh={false} busy={busy} onRevoke={revoke} onStatus={setStatus} />
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function LinkForm(props: { busy: boolean; onCreate: (r: Omit<LinkRequest, "path">) => Promise<boolean> }) {
  const id = useId();
  const [expires, setExpires] = useState("");
  const [password, setPassword] = useState("");
  const [limit, setLimit] = useState("");
  const [allow, setAllow] = useState(true);
  const [invalid, setInvalid] = useState<string | null>(null);
  const today = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  const minDate = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setInvalid(null);
    const req: Omit<LinkRequest, "path"> = { allow_download: allow };
    if (expires) {
      // The link works to the end of the chosen day, in this browser's time zone.
      const end = new Date(`${expires}T23:59:59.999`).getTime();
      if (!Number.isFinite(end) || end <= Date.now()) {
        setInvalid("Pick an expiry date from today on.");
        return;
      }
      req.expires_at = end;
    }
    if (password) req.password = password;
    if (limit.trim()) {
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1) {
        setInvalid("A download limit is a whole number, 1 or more.");
        return;
      }
      req.max_downloads = n;
    }
    if (await props.onCreate(req)) {
      setPassword("");
      setLimit("");
      setExpires("");
      setAllow(true);
    }
  };

  return (
    <form class="cp-form cp-link-form" onSubmit={submit}>
      <fieldset class="cp-fieldset">
        <legend>New link</legend>
        <div class="cp-link-options">
          <div class="cp-field">
            <label for={`${id}-exp`}>Expires</label>
            <input
              id={`${id}-exp`}
              class="cp-input"
              type="date"
              min={minDate}
              value={expires}
              onInput={(e) => setExpires(e.currentTarget.value)}
              aria-describedby={`${id}-exp-help`}
            />
            <span id={`${id}-exp-help`} class="cp-muted cp-small">
              Empty: never. Works to the end of that day.
            </span>
          </div>
          <div class="cp-field">
            <label for={`${id}-pw`}>Password</label>
            <input
              id={`${id}-pw`}
              class="cp-input"
              type="password"
              autocomplete="new-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              aria-describedby={`${id}-pw-help`}
            />
            <span id={`${id}-pw-help`} class="cp-muted cp-small">
              Optional. Visitors must type it first.
            </span>
          </div>
          <div class="cp-field">
            <label for={`${id}-max`}>Download limit</label>
            <input
              id={`${id}-max`}
              class="cp-input"
              type="number"
              inputMode="numeric"
              min={1}
              step={1}
              value={limit}
              onInput={(e) => setLimit(e.currentTarget.value)}
              aria-describedby={`${id}-max-help`}
            />
            <span id={`${id}-max-help`} class="cp-muted cp-small">
              Empty: unlimited. Each preview or download counts.
            </span>
          </div>
          <label class="cp-check">
            <input type="checkbox" checked={allow} onChange={(e) => setAllow(e.currentTarget.checked)} />
            Allow download
          </label>
          {!allow && (
            <p class="cp-muted cp-small">
              Visitors see names, sizes and folder contents, but can neither open nor download files.
            </p>
          )}
        </div>
      </fieldset>
      {invalid && (
        <p class="cp-error" role="alert">
          {invalid}
        </p>
      )}
      <button type="submit" class="cp-btn cp-btn-primary" disabled={props.busy}>
        Create link
      </button>
    </form>
  );
}

function LinkRow(props: {
  link: LinkInfo;
  fresh: boolean;
  busy: boolean;
  onRevoke: (l: LinkInfo) => void;
  onStatus: (s: string) => void;
}) {
  const l = props.link;
  const address = useRef<HTMLAnchorElement>(null);
  const url = linkAddress(l);
  const ended = l.state !== "active" && l.state !== "unavailable";
  const copy = async () => {
    const ok = await copyText(url, address.current);
    props.onStatus(ok ? "Link copied to the clipboard." : "Press Ctrl+C (or ⌘C) to copy the selected link.");
  };
  const facts: string[] = [`Created ${formatDate(l.created_at)}`];
  facts.push(
    l.expires_at
      ? `${l.state === "expired" ? "Expired" : "Expires"} ${formatDate(l.expires_at, true)}`
      : "Never expires",
  );
  facts.push(
    l.max_downloads != null
      ? `${l.downloads} of ${l.max_downloads} downloads`
      : `${l.downloads} download${l.downloads === 1 ? "" : "s"}`,
  );
  if (!l.allow_download) facts.push("View only");
  return (
    <li class={"cp-link-row" + (props.fresh ? " is-fresh" : "") + (ended ? " is-ended" : "")}>
      <div class="cp-link-top">
        <span class={`cp-badge cp-state-${l.state}`}>{STATE_LABEL[l.state]}</span>
        {l.has_password && (
          <span class="cp-badge" title="Password protected">
            <IconLock size={14} /> Password
          </span>
        )}
      </div>
      {!ended && (
        <div class="cp-copy">
          <a ref={address} class="cp-link-url" href={url} target="_blank" rel="noopener noreferrer">
            {url}
          </a>
          <button type="button" class="cp-btn" onClick={copy}>
            <IconCopy size={16} />
            Copy
          </button>
        </div>
      )}
      <p class="cp-muted cp-small">{facts.join(" · ")}</p>
      {l.state === "unavailable" && (
        <p class="cp-muted cp-small">The item is in the trash or can no longer be shared; the link is paused.</p>
      )}
      {l.state !== "revoked" && (
        <div class="cp-row-actions">
          <button
            type="button"
            class="cp-btn cp-btn-small cp-btn-danger"
            disabled={props.busy}
            onClick={() => props.onRevoke(l)}
          >
            Revoke
          </button>
        </div>
      )}
    </li>
  );
}
