// App passwords: made here for WebDAV clients and scripts (all files, or read-only),
// shown once; listed and revoked with the devices.

import { useState } from "preact/hooks";
import { apiJson } from "../api";
import type { AppPasswordCreated } from "../types";
import { ErrorNote, copyText } from "../panels/util";
import { Field } from "../app/auth";

export function AppPasswordCreate(props: { onCreated: (made: AppPasswordCreated) => void }) {
  const [name, setName] = useState("");
  const [readOnly, setReadOnly] = useState(false);
  const [made, setMade] = useState<AppPasswordCreated | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setStatus("");
    try {
      const r = await apiJson<AppPasswordCreated>("/api/v1/app-passwords", { name, read_only: readOnly });
      setMade(r);
      setName("");
      setReadOnly(false);
      props.onCreated(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!made) return;
    const ok = await copyText(made.password);
    setStatus(ok ? "Copied to the clipboard." : "Select the password and copy it.");
  };

  return (
    <section class="cp-card" aria-labelledby="cp-apppw-h">
      <h2 id="cp-apppw-h" class="cp-section-title">
        App passwords
      </h2>
      <p class="cp-muted">
        For WebDAV clients and scripts: give the app your user name and an app password instead of your password. It
        never asks for a two-factor code, so make one per app and revoke it when the app is gone.
      </p>
      <ErrorNote error={error} />
      {made && (
        <div role="region" aria-label="New app password">
          <p>
            App password “{made.name}” for user <strong>{made.user}</strong>
            {made.read_only ? " (read-only)" : ""}. It is shown only now:
          </p>
          <p>
            <code class="cp-key" data-testid="app-password">
              {made.password}
            </code>{" "}
            <button type="button" class="cp-btn cp-btn-small" onClick={copy}>
              Copy
            </button>
          </p>
          <p class="cp-status" role="status">
            {status}
          </p>
        </div>
      )}
      <form class="auth-form" onSubmit={submit} noValidate>
        <Field label="App password name" value={name} onInput={setName} hint="What it is for, like “phone” or “backup script”." />
        <label class="cp-check">
          <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} />
          Read-only (may list and download, never change anything)
        </label>
        <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>
          Create app password
        </button>
      </form>
    </section>
  );
}
