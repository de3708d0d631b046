// Devices, browser sign-ins and app passwords of the user, with Revoke; how much storage
// is used; the account's sign-in settings.

import { useState } from "preact/hooks";
import { apiFetch, apiJson } from "../api";
import { formatDate, formatSize } from "../format";
import type { AppPasswordCreated, DeviceInfo, RevokedResponse, UserInfo } from "../types";
import { IconBrowser, IconDevice, IconLock } from "../app/icons";
import { Spinner } from "../panels/FileView";
import { useLoad, useStatus } from "../panels/hooks";
import { ErrorNote } from "../panels/util";
import "../panels/panels.css";
import { PasswordSection } from "./Password";
import { TwoFactorSection } from "./TwoFactor";
import { AppPasswordCreate } from "./AppPasswords";
import { AuditSection } from "./Audit";

export function DevicesPage() {
  const user = useLoad(
    async (signal) => (await (await apiFetch("/api/v1/auth/whoami", { signal })).json()) as UserInfo,
    [],
  );
  const devices = useLoad(async (signal) => {
    const list = (await (await apiFetch("/api/v1/devices", { signal })).json()) as DeviceInfo[];
    // This browser first, then the most recently seen.
    return [...list].sort((a, b) => Number(b.current) - Number(a.current) || b.last_seen_at - a.last_seen_at);
  }, []);
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useStatus();

  const revoke = async (d: DeviceInfo) => {
    const what = d.kind === "browser" ? "browser sign-in" : d.kind === "app_password" ? "app password" : "device";
    const question = d.current
      ? "Sign out this browser? You will need to sign in again."
      : `Revoke the ${what} “${d.name}”? It stops working at once` +
        (d.kind === "device" ? " and must sign in again to sync." : ".");
    if (!confirm(question)) return;
    setBusy(d.id);
    setError(null);
    try {
      await apiJson(`/api/v1/devices/${d.id}`, undefined, "DELETE");
      if (d.current) {
        location.reload();
        return;
      }
      devices.setData((devices.data ?? []).filter((x) => x.id !== d.id));
      setStatus(`Revoked “${d.name}”.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const signOutOthers = async () => {
    if (!confirm("Sign out every other device and browser, and revoke every app password? They will need to sign in again."))
      return;
    setError(null);
    try {
      const r = await apiJson<RevokedResponse>("/api/v1/devices/revoke-others", {});
      devices.setData((devices.data ?? []).filter((x) => x.current));
      setStatus(`Signed out ${r.revoked} other device(s), browser(s) and app password(s).`);
    } catch (e) {
      setError(e);
    }
  };
  const keepOnlyThis = () => devices.setData((devices.data ?? []).filter((x) => x.current));

  const list = devices.data;
  const clients = list?.filter((d) => d.kind === "device") ?? [];
  const browsers = list?.filter((d) => d.kind === "browser") ?? [];
  const apps = list?.filter((d) => d.kind === "app_password") ?? [];
  const created = (made: AppPasswordCreated) => {
    const now = Date.now();
    const row: DeviceInfo = {
      id: made.id,
      name: made.name,
      kind: "app_password",
      read_only: made.read_only,
      created_at: now,
      last_seen_at: now,
      current: false,
    };
    devices.setData([...(devices.data ?? []), row]);
  };

  return (
    <div class="cp-page">
      <header class="cp-page-head">
        <h1 class="cp-page-title">Devices</h1>
        <p class="cp-muted">
          Computers, browsers and apps signed in to your account, and how you sign in. Revoke any you don't recognize.
        </p>
      </header>

      <section class="cp-card cp-quota" aria-labelledby="cp-quota-h">
        <h2 id="cp-quota-h" class="cp-section-title">
          Storage
        </h2>
        {user.error ? (
          <ErrorNote error={user.error} />
        ) : user.data ? (
          <Quota user={user.data} />
        ) : (
          <Spinner label="Loading storage" />
        )}
      </section>

      <TwoFactorSection />
      <PasswordSection onSignedOutOthers={keepOnlyThis} />
      <AppPasswordCreate onCreated={created} />

      <ErrorNote error={devices.error ?? error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      {list && list.length > 1 && (
        <button type="button" class="btn" onClick={signOutOthers}>
          Sign out everywhere else
        </button>
      )}
      {devices.loading && !list && <Spinner label="Loading devices" />}
      {list && (
        <>
          <DeviceSection
            title="Devices"
            empty="No devices yet. Sign in with the Coffer client to sync a computer."
            items={clients}
            busy={busy}
            onRevoke={revoke}
          />
          <DeviceSection
            title="Browsers"
            empty="No browser sign-ins."
            items={browsers}
            busy={busy}
            onRevoke={revoke}
          />
          <DeviceSection
            title="App passwords"
            empty="No app passwords."
            items={apps}
            busy={busy}
            onRevoke={revoke}
          />
        </>
      )}
      <AuditSection admin={user.data?.is_admin ?? false} />
    </div>
  );
}

function Quota({ user }: { user: UserInfo }) {
  const used = user.used_bytes;
  const quota = user.quota_bytes;
  if (quota == null) {
    return (
      <p class="cp-quota-text">
        <strong>{formatSize(used)}</strong> used <span class="cp-muted">· no storage limit</span>
      </p>
    );
  }
  const pct = quota > 0 ? Math.min(100, (used / quota) * 100) : 100;
  const level = pct >= 95 ? "is-full" : pct >= 80 ? "is-high" : "";
  return (
    <>
      <p class="cp-quota-text" id="cp-quota-label">
        <strong>{formatSize(used)}</strong> of {formatSize(quota)} used
        <span class="cp-muted"> · {formatSize(Math.max(0, quota - used))} free</span>
      </p>
      <div
        class={"cp-meter " + level}
        role="meter"
        aria-labelledby="cp-quota-label"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-valuetext={`${Math.round(pct)}% used`}
      >
        <div class="cp-meter-bar" style={{ width: `${pct}%` }} />
      </div>
      {pct >= 95 && <p class="cp-warn">Your storage is almost full. Delete files or empty the trash to free space.</p>}
    </>
  );
}

function DeviceSection(props: {
  title: string;
  empty: string;
  items: DeviceInfo[];
  busy: number | null;
  onRevoke: (d: DeviceInfo) => void;
}) {
  const hid = `cp-dev-${props.title.toLowerCase().replace(/ /g, "-")}`;
  return (
    <section class="cp-dev-section" aria-labelledby={hid}>
      <h2 id={hid} class="cp-section-title">
        {props.title} <span class="cp-count">{props.items.length}</span>
      </h2>
      {props.items.length === 0 ? (
        <p class="cp-empty">{props.empty}</p>
      ) : (
        <ul class="cp-list cp-card cp-devices">
          {props.items.map((d) => {
            const Icon = d.kind === "browser" ? IconBrowser : d.kind === "app_password" ? IconLock : IconDevice;
            const label = `cp-dev-${d.id}`;
            return (
              <li key={d.id} class={"cp-row cp-device" + (d.current ? " is-current" : "")}>
                <Icon size={24} class="cp-device-icon" />
                <div class="cp-row-main">
                  <p class="cp-row-title" id={label}>
                    {d.name || (d.kind === "browser" ? "Browser" : "Device")}
                    {d.kind === "app_password" && (
                      <span class="cp-badge">{d.read_only ? "Read-only" : "All files"}</span>
                    )}
                    {d.current && (
                      <span class="cp-badge cp-badge-accent">{d.kind === "browser" ? "This browser" : "This device"}</span>
                    )}
                  </p>
                  <p class="cp-muted cp-small">
                    <span class="cp-nowrap">
                      {d.kind === "app_password" ? "Made" : "Signed in"} {formatDate(d.created_at, true)}
                    </span>{" "}
                    <span class="cp-nowrap">· Last seen {d.current ? "now" : formatDate(d.last_seen_at, true)}</span>
                    {d.last_address && <span class="cp-nowrap"> · from {d.last_address}</span>}
                  </p>
                </div>
                <button
                  type="button"
                  class="cp-btn cp-btn-small cp-btn-danger"
                  aria-describedby={label}
                  disabled={props.busy != null}
                  onClick={() => props.onRevoke(d)}
                >
                  Revoke
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
