// The app: restores the session, then routes by the URL. A public link works signed
// out; everything else needs a sign-in (or the first admin's setup).

import { EnrollPage } from "../pages/Enroll";
import { useEffect } from "preact/hooks";
import { DevicesPage } from "../pages/Devices";
import { PublicLinkPage } from "../pages/PublicLink";
import { SharedWithMePage } from "../pages/SharedWithMe";
import { SetupPage, SignInPage } from "./auth";
import { FileBrowser } from "./browser/FileBrowser";
import { resetTree } from "./FolderTree";
import { IconAlert } from "./icons";
import { startLive, stopLive } from "./live";
import { filesUrl, navigate, parseRoute, usePathname } from "./router";
import { restoreSession, sessionStore } from "./session";
import { Shell } from "./Shell";
import { useStore } from "./store";
import { ToastHost } from "./toast";
import { TrashPage } from "./TrashPage";

function Loading() {
  return (
    <div class="boot" role="status">
      <span class="spinner" aria-hidden="true" />
      <span class="visually-hidden">Loading Coffer…</span>
    </div>
  );
}

function Titled(props: { title: string; children: preact.ComponentChildren }) {
  useEffect(() => {
    document.title = props.title + " – Coffer";
  }, [props.title]);
  return <>{props.children}</>;
}

function NotFound() {
  return (
    <div class="state-box">
      <IconAlert size={40} class="state-icon" />
      <h1>Page not found</h1>
      <p class="muted">There is nothing at this address.</p>
      <a
        class="btn btn-primary"
        href="/files"
        onClick={(e) => {
          e.preventDefault();
          navigate("/files");
        }}
      >
        Go to Files
      </a>
    </div>
  );
}

export function App() {
  const pathname = usePathname();
  const route = parseRoute(pathname);
  const session = useStore(sessionStore);
  const isPublic = route.name === "public";

  useEffect(() => {
    if (!isPublic) void restoreSession();
    // Only once at load; a public link page never needs the session.
  }, [isPublic]);

  useEffect(() => {
    if (session.status === "signedin") startLive();
    else {
      stopLive();
      resetTree();
    }
  }, [session.status]);

  // Setup done or signed in: leave /setup.
  useEffect(() => {
    if (route.name === "setup" && session.status === "signedin") navigate("/files", { replace: true });
  }, [route.name, session.status]);

  let page;
  if (isPublic) {
    page = <PublicLinkPage token={route.token} />;
  } else if (session.status === "loading") {
    page = <Loading />;
  } else if (session.status === "offline") {
    page = (
      <div class="auth-page">
        <main class="auth-card">
          <div class="state-box" role="alert">
            <IconAlert size={40} class="state-icon state-icon-error" />
            <h1>Coffer is unreachable</h1>
            <p class="muted">{session.message}</p>
            <button type="button" class="btn btn-primary" onClick={() => void restoreSession()}>
              Try again
            </button>
          </div>
        </main>
      </div>
    );
  } else if (session.status === "setup") {
    page = (
      <Titled title="Set up">
        <SetupPage />
      </Titled>
    );
  } else if (session.status === "signedout") {
    page = (
      <Titled title="Sign in">
        <SignInPage message={session.message} />
      </Titled>
    );
  } else {
    let content;
    // The administrator requires two-factor sign-in: nothing else until it is on.
    const enrolling = session.user.must_set_up_two_factor === true;
    if (enrolling) {
      content = (
        <Titled title="Two-factor sign-in">
          <EnrollPage />
        </Titled>
      );
    } else switch (route.name) {
      case "files":
        content = <FileBrowser key={route.path} path={route.path} />;
        break;
      case "trash":
        content = <TrashPage />;
        break;
      case "shared":
        content = (
          <Titled title="Shared with me">
            <SharedWithMePage onOpen={(p) => navigate(filesUrl(p))} />
          </Titled>
        );
        break;
      case "devices":
        content = (
          <Titled title="Devices">
            <DevicesPage />
          </Titled>
        );
        break;
      case "setup":
        content = <Loading />;
        break;
      default:
        content = <NotFound />;
    }
    page = (
      <Shell route={route} user={session.user}>
        {content}
      </Shell>
    );
  }

  return (
    <>
      {page}
      <ToastHost />
    </>
  );
}
