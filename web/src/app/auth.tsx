// Sign-in and first-admin setup pages.

import { useId, useState } from "preact/hooks";
import { ApiError } from "../api";
import { errorMessage } from "./errors";
import { IconLogo, IconMoon, IconSun } from "./icons";
import { createAdmin, signIn } from "./session";
import { useStore } from "./store";
import { themeStore, toggleTheme } from "./theme";

function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === "unauthorized") return "The user name or password is wrong.";
    if (e.code === "rate_limited") return `Too many attempts. Try again in ${e.retryAfter ?? 60} seconds.`;
    if (e.code === "setup_unavailable") return "The setup token is wrong, or setup was already done.";
    return e.message;
  }
  if (e instanceof TypeError) return "Coffer's server cannot be reached.";
  return errorMessage(e);
}

/** A labelled text or password input of the sign-in and account forms. */
export function Field(props: {
  label: string;
  type?: "text" | "password";
  value: string;
  onInput: (v: string) => void;
  autoComplete?: string;
  autoFocus?: boolean;
  hint?: string;
  invalid?: boolean;
}) {
  const id = useId();
  const hintId = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        {...({ type: props.type ?? "text" } as { type: "text" })}
        value={props.value}
        autoComplete={props.autoComplete}
        autoFocus={props.autoFocus}
        required
        spellcheck={false}
        autoCapitalize="off"
        aria-invalid={props.invalid ? "true" : undefined}
        aria-describedby={props.hint ? hintId : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.hint && (
        <p id={hintId} class="field-hint">
          {props.hint}
        </p>
      )}
    </div>
  );
}

function AuthFrame(props: { title: string; children: preact.ComponentChildren; subtitle?: string }) {
  const theme = useStore(themeStore);
  return (
    <div class="auth-page">
      <button
        type="button"
        class="icon-btn auth-theme"
        aria-label={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
        onClick={toggleTheme}
      >
        {theme === "dark" ? <IconSun /> : <IconMoon />}
      </button>
      <main class="auth-card">
        <div class="auth-brand">
          <IconLogo size={32} />
          <span>Coffer</span>
        </div>
        <h1>{props.title}</h1>
        {props.subtitle && <p class="auth-sub">{props.subtitle}</p>}
        {props.children}
      </main>
    </div>
  );
}

export function SignInPage(props: { message?: string }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  // The account signs in with a second factor: the code field is shown.
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!user.trim() || !password) {
      setError("Enter your user name and password.");
      return;
    }
    if (needCode && !code.trim()) {
      setError("Enter the code from your authenticator app, or a recovery code.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(user.trim(), password, needCode ? code.trim() : undefined);
    } catch (err) {
      if (err instanceof ApiError && err.code === "two_factor_required") {
        setNeedCode(true);
      } else {
        setError(errorText(err));
      }
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Sign in" subtitle="Sign in to your Coffer account.">
      <form class="auth-form" onSubmit={submit} noValidate>
        {props.message && !error && <p class="notice">{props.message}</p>}
        <Field label="User name" value={user} onInput={setUser} autoComplete="username" autoFocus invalid={!!error} />
        <Field label="Password" type="password" value={password} onInput={setPassword} autoComplete="current-password" invalid={!!error} />
        {needCode && (
          <Field
            label="Code"
            value={code}
            onInput={setCode}
            autoComplete="one-time-code"
            autoFocus
            hint="The 6-digit code from your authenticator app, or one of your recovery codes."
            invalid={!!error}
          />
        )}
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </AuthFrame>
  );
}

export function SetupPage() {
  const [token, setToken] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!token.trim()) return setError("Enter the setup token the server printed when it started.");
    if (!name.trim()) return setError("Enter a name for the admin.");
    if (!password) return setError("Choose a password.");
    if (password !== repeat) return setError("The passwords do not match.");
    setBusy(true);
    setError(null);
    try {
      await createAdmin(token.trim(), name.trim(), password);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <AuthFrame
      title="Set up Coffer"
      subtitle="Create the first admin account. The setup token is printed by the server when it starts for the first time."
    >
      <form class="auth-form" onSubmit={submit} noValidate>
        <Field label="Setup token" value={token} onInput={setToken} autoComplete="off" autoFocus />
        <Field label="Admin name" value={name} onInput={setName} autoComplete="username" />
        <Field label="Password" type="password" value={password} onInput={setPassword} autoComplete="new-password" />
        <Field label="Repeat password" type="password" value={repeat} onInput={setRepeat} autoComplete="new-password" />
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Creating…" : "Create admin"}
        </button>
      </form>
    </AuthFrame>
  );
}
