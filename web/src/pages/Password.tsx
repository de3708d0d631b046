// The account's password: changed with the current one; every other device and browser
// is signed out with it.

import { useState } from "preact/hooks";
import { apiJson } from "../api";
import type { RevokedResponse } from "../types";
import { ErrorNote } from "../panels/util";
import { Field } from "../app/auth";

export function PasswordSection(props: { onSignedOutOthers: () => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setStatus("");
    if (next !== repeat) {
      setError(new Error("The new passwords do not match."));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await apiJson<RevokedResponse>("/api/v1/account/password", { current, new: next });
      setCurrent("");
      setNext("");
      setRepeat("");
      setStatus(`Password changed. ${r.revoked} other device(s) and browser(s) were signed out.`);
      props.onSignedOutOthers();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="cp-card" aria-labelledby="cp-password-h">
      <h2 id="cp-password-h" class="cp-section-title">
        Password
      </h2>
      <ErrorNote error={error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      <form class="auth-form" onSubmit={submit} noValidate>
        <Field type="password" label="Current password" value={current} onInput={setCurrent} autoComplete="current-password" />
        <Field type="password" label="New password" value={next} onInput={setNext} autoComplete="new-password" />
        <Field type="password" label="New password again" value={repeat} onInput={setRepeat} autoComplete="new-password" />
        <button type="submit" class="btn btn-primary" disabled={busy || !current || !next || !repeat}>
          Change password
        </button>
      </form>
    </section>
  );
}
