// Two-factor sign-in: turn it on with an authenticator app (QR code, then a first code,
// then the recovery codes, shown once) and off again (password and a code).

import { useEffect, useState } from "preact/hooks";
import { apiJson } from "../api";
import type { RecoveryCodes, TwoFactorSetup, TwoFactorStatus } from "../types";
import { Spinner } from "../panels/FileView";
import { useLoad } from "../panels/hooks";
import { ErrorNote } from "../panels/util";
import { Field } from "../app/auth";

/** An image of a server-made SVG, without putting its markup in the page. */
function SvgImage(props: { svg: string; alt: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([props.svg], { type: "image/svg+xml" }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [props.svg]);
  return url ? <img class="cp-qr" src={url} alt={props.alt} width={200} height={200} /> : null;
}

export function TwoFactorSection() {
  const status = useLoad(async () => apiJson<TwoFactorStatus>("/api/v1/account/2fa"), []);
  const [setup, setSetup] = useState<TwoFactorSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [turningOff, setTurningOff] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const reload = async () => status.setData(await apiJson<TwoFactorStatus>("/api/v1/account/2fa"));

  const begin = () => run(async () => setSetup(await apiJson<TwoFactorSetup>("/api/v1/account/2fa/enable", {})));
  const confirm = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const r = await apiJson<RecoveryCodes>("/api/v1/account/2fa/confirm", { code: code.trim() });
      setCodes(r.codes);
      setSetup(null);
      setCode("");
      await reload();
    });
  };
  const disable = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      await apiJson("/api/v1/account/2fa/disable", { password, code: code.trim() });
      setTurningOff(false);
      setPassword("");
      setCode("");
      setCodes(null);
      await reload();
    });
  };

  const st = status.data;
  return (
    <section class="cp-card" aria-labelledby="cp-2fa-h">
      <h2 id="cp-2fa-h" class="cp-section-title">
        Two-factor sign-in
      </h2>
      <ErrorNote error={status.error ?? error} />
      {!st && !status.error && <Spinner label="Loading two-factor sign-in" />}
      {codes && (
        <div class="cp-notice" role="status">
          <p>
            Two-factor sign-in is on. These recovery codes each work once instead of a code from the app. Keep them
            somewhere safe: they are not shown again.
          </p>
          <ul class="cp-codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {st && !st.enabled && !setup && (
        <>
          <p class="cp-muted">
            Off. With it on, signing in also needs a code from an authenticator app on your phone.
          </p>
          <button type="button" class="btn btn-primary" disabled={busy} onClick={begin}>
            Turn on…
          </button>
        </>
      )}
      {setup && (
        <form class="auth-form" onSubmit={confirm} noValidate>
          <p>Scan this code with an authenticator app, or enter the key by hand:</p>
          <SvgImage svg={setup.qr_svg} alt="QR code for the authenticator app" />
          <p>
            <code class="cp-key">{setup.secret}</code>
          </p>
          <Field label="Code from the app" value={code} onInput={setCode} autoComplete="one-time-code" />
          <button type="submit" class="btn btn-primary" disabled={busy || !code.trim()}>
            Turn on
          </button>
        </form>
      )}
      {st?.enabled && !turningOff && (
        <>
          <p>
            On. <span class="cp-muted">{st.recovery_codes_left} recovery code(s) left.</span>
          </p>
          <button type="button" class="btn" disabled={busy} onClick={() => setTurningOff(true)}>
            Turn off…
          </button>
        </>
      )}
      {st?.enabled && turningOff && (
        <form class="auth-form" onSubmit={disable} noValidate>
          <Field label="Password" type="password" value={password} onInput={setPassword} autoComplete="current-password" />
          <Field
            label="Code from the app, or a recovery code"
            value={code}
            onInput={setCode}
            autoComplete="one-time-code"
          />
          <button type="submit" class="btn btn-primary" disabled={busy || !password || !code.trim()}>
            Turn off
          </button>
          <button type="button" class="btn" onClick={() => setTurningOff(false)}>
            Cancel
          </button>
        </form>
      )}
    </section>
  );
}
