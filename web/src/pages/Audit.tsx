// The security log: the user's own audit events (an administrator's: everyone's),
// newest first, filtered by kind, a page at a time.

import { useState } from "preact/hooks";
import { apiFetch } from "../api";
import { formatDate } from "../format";
import type { AuditEntry, AuditPage } from "../types";
import { Spinner } from "../panels/FileView";
import { useLoad } from "../panels/hooks";
import { ErrorNote } from "../panels/util";

const PAGE = 50;

/** Each kind the server records, in words. */
const KINDS: [string, string][] = [
  ["sign_in", "Signed in"],
  ["sign_in_failed", "Sign-in refused"],
  ["sign_out", "Signed out"],
  ["two_factor_enabled", "Two-factor sign-in on"],
  ["two_factor_disabled", "Two-factor sign-in off"],
  ["password_changed", "Password changed"],
  ["app_password_created", "App password made"],
  ["credential_revoked", "Sign-in revoked"],
  ["share_created", "Folder shared"],
  ["share_removed", "Member removed"],
  ["share_left", "Shared folder left"],
  ["file_share_created", "File shared"],
  ["file_share_removed", "File share ended"],
  ["link_created", "Link made"],
  ["link_revoked", "Link removed"],
  ["link_downloaded", "Downloaded through a link"],
  ["link_unlock_failed", "Wrong link password"],
  ["purged", "Deleted for good"],
  ["user_created", "User added"],
  ["quota_changed", "Quota changed"],
];
const WORDS = new Map(KINDS);

async function fetchPage(kind: string, before: number | undefined, signal?: AbortSignal): Promise<AuditPage> {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (kind) q.set("kind", kind);
  if (before != null) q.set("before", String(before));
  return (await (await apiFetch(`/api/v1/audit?${q}`, { signal })).json()) as AuditPage;
}

export function AuditSection(props: { admin: boolean }) {
  const [kind, setKind] = useState("");
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const first = useLoad(
    async (signal) => {
      const page = await fetchPage(kind, undefined, signal);
      setMore([]);
      setNext(page.next_before);
      return page.entries;
    },
    [kind],
  );
  const loadMore = async () => {
    setError(null);
    try {
      const page = await fetchPage(kind, next);
      setMore([...more, ...page.entries]);
      setNext(page.next_before);
    } catch (e) {
      setError(e);
    }
  };
  const entries = [...(first.data ?? []), ...more];

  return (
    <section class="cp-card" aria-labelledby="cp-audit-h">
      <h2 id="cp-audit-h" class="cp-section-title">
        Security log
      </h2>
      <p class="cp-muted">
        {props.admin
          ? "Sign-ins, security changes, shares, links and permanent deletes of every user, newest first."
          : "Sign-ins, security changes, shares, links and permanent deletes of your account, newest first."}
      </p>
      <label class="cp-field-inline">
        Show{" "}
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="">every event</option>
          {KINDS.map(([k, words]) => (
            <option key={k} value={k}>
              {words}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={first.error ?? error} />
      {first.loading && !first.data && <Spinner label="Loading the security log" />}
      {first.data && entries.length === 0 && <p class="cp-empty">No events.</p>}
      {entries.length > 0 && (
        <table class="cp-table cp-audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Who</th>
              <th scope="col">From</th>
              <th scope="col">About</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td class="cp-nowrap">{formatDate(e.at, true)}</td>
                <td>{WORDS.get(e.kind) ?? e.kind}</td>
                <td>
                  {e.actor ?? "a visitor"}
                  {e.credential_id != null && <span class="cp-muted"> · sign-in {e.credential_id}</span>}
                </td>
                <td>{e.address ?? ""}</td>
                <td>
                  {e.target ?? ""}
                  {e.detail && <span class="cp-muted">{e.target ? " · " : ""}{e.detail}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next != null && (
        <button type="button" class="btn" onClick={loadMore}>
          Show older events
        </button>
      )}
    </section>
  );
}
