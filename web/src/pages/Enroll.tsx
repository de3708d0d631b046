// Shown instead of everything else while the administrator requires two-factor sign-in
// and the account has none yet: set it up, then carry on.

import { TwoFactorSection } from "./TwoFactor";

export function EnrollPage() {
  return (
    <div class="cp-page">
      <header class="cp-page-head">
        <h1 class="cp-page-title">Set up two-factor sign-in</h1>
        <p class="cp-muted">
          Your administrator requires two-factor sign-in for every account. Turn it on with an authenticator app to
          reach your files.
        </p>
      </header>
      <TwoFactorSection />
      <button type="button" class="btn btn-primary" onClick={() => location.assign("/")}>
        Continue to my files
      </button>
    </div>
  );
}
