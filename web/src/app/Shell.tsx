// The frame around every signed-in page: header (logo, theme, user menu), navigation
// (folders, shared, trash, devices) collapsing behind a button on small screens.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatSize } from "../format";
import type { UserInfo } from "../types";
import { useFolderDrop } from "./dnd";
import { FolderTree } from "./FolderTree";
import {
  IconClose,
  IconDevices,
  IconFolder,
  IconLogo,
  IconMenu,
  IconMoon,
  IconShare,
  IconSignOut,
  IconSun,
  IconTrash,
} from "./icons";
import { ProgressBar } from "./ProgressBar";
import { isPlainClick, navigate, type Route } from "./router";
import { signOut } from "./session";
import { useStore } from "./store";
import { themeStore, toggleTheme } from "./theme";
import { UploadPanel } from "./uploads/UploadPanel";

function NavLink(props: { href: string; current: boolean; icon: ComponentChildren; label: string; onNavigate: () => void }) {
  return (
    <a
      href={props.href}
      class={"nav-link" + (props.current ? " current" : "")}
      aria-current={props.current ? "page" : undefined}
      onClick={(e) => {
        if (!isPlainClick(e)) return;
        e.preventDefault();
        navigate(props.href);
        props.onNavigate();
      }}
    >
      {props.icon}
      <span>{props.label}</span>
    </a>
  );
}

function FilesNavLink(props: { current: boolean; onNavigate: () => void }) {
  const [over, drop] = useFolderDrop("/");
  return (
    <div class={"nav-drop" + (over ? " drop-over" : "")} {...drop}>
      <NavLink href="/files" current={props.current} icon={<IconFolder />} label="Files" onNavigate={props.onNavigate} />
    </div>
  );
}

export function QuotaBar({ user }: { user: UserInfo }) {
  const quota = user.quota_bytes;
  if (quota == null || quota <= 0) {
    return <p class="quota-text">{formatSize(user.used_bytes)} used</p>;
  }
  const pct = Math.min(100, Math.round((user.used_bytes / quota) * 100));
  return (
    <div class="quota">
      <ProgressBar
        label="Storage used"
        pct={pct}
        valueText={`${formatSize(user.used_bytes)} of ${formatSize(quota)} used`}
        warn={pct >= 90}
      />
      <p class="quota-text">
        {formatSize(user.used_bytes)} of {formatSize(quota)} used
      </p>
    </div>
  );
}

function UserMenu({ user }: { user: UserInfo }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const outside = (e: Event) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    const key = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener("mousedown", outside);
    document.addEventListener("keydown", key);
    return () => {
      document.removeEventListener("mousedown", outside);
      document.removeEventListener("keydown", key);
    };
  }, [open]);
  return (
    <div class="user-menu" ref={box}>
      <button
        ref={button}
        type="button"
        class="user-btn"
        aria-expanded={open}
        aria-controls="user-popover"
        aria-label={`Account: ${user.name}`}
        onClick={() => setOpen(!open)}
      >
        <span class="avatar" aria-hidden="true" data-initial={user.name.slice(0, 1).toUpperCase()} />
        <span class="user-name">{user.name}</span>
      </button>
      {open && (
        <div class="popover" id="user-popover">
          <div class="popover-head">
            <span class="avatar avatar-lg" aria-hidden="true" data-initial={user.name.slice(0, 1).toUpperCase()} />
            <div>
              <p class="popover-name">{user.name}</p>
              <p class="popover-role">{user.is_admin ? "Administrator" : "User"}</p>
            </div>
          </div>
          <QuotaBar user={user} />
          <div class="popover-actions">
            <a
              href="/devices"
              class="popover-item"
              onClick={(e) => {
                if (!isPlainClick(e)) return;
                e.preventDefault();
                setOpen(false);
                navigate("/devices");
              }}
            >
              <IconDevices size={18} />
              Manage devices
            </a>
            <button type="button" class="popover-item" onClick={() => void signOut()}>
              <IconSignOut size={18} />
              Sign out
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

export function Shell(props: { route: Route; user: UserInfo; children: ComponentChildren }) {
  const [navOpen, setNavOpen] = useState(false);
  const theme = useStore(themeStore);
  const route = props.route;
  const closeNav = () => setNavOpen(false);
  useEffect(() => {
    if (!navOpen) return;
    const key = (e: KeyboardEvent) => e.key === "Escape" && setNavOpen(false);
    document.addEventListener("keydown", key);
    return () => document.removeEventListener("keydown", key);
  }, [navOpen]);
  return (
    <div class={"app" + (navOpen ? " nav-open" : "")}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="icon-btn nav-toggle"
          aria-label={navOpen ? "Close navigation" : "Open navigation"}
          aria-expanded={navOpen}
          aria-controls="sidebar"
          onClick={() => setNavOpen(!navOpen)}
        >
          {navOpen ? <IconClose /> : <IconMenu />}
        </button>
        <a
          href="/files"
          class="brand"
          onClick={(e) => {
            if (!isPlainClick(e)) return;
            e.preventDefault();
            navigate("/files");
          }}
        >
          <IconLogo size={26} />
          <span>Coffer</span>
        </a>
        <div class="topbar-spacer" />
        <button
          type="button"
          class="icon-btn"
          aria-label={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
          title={theme === "dark" ? "Light theme" : "Dark theme"}
          onClick={toggleTheme}
        >
          {theme === "dark" ? <IconSun /> : <IconMoon />}
        </button>
        <UserMenu user={props.user} />
      </header>
      <div class="frame">
        <div class="nav-backdrop" onClick={closeNav} />
        <nav id="sidebar" class="sidebar" aria-label="Main">
          <FilesNavLink current={route.name === "files"} onNavigate={closeNav} />
          <FolderTree current={route.name === "files" ? route.path : null} onNavigate={closeNav} />
          <NavLink href="/shared" current={route.name === "shared"} icon={<IconShare />} label="Shared with me" onNavigate={closeNav} />
          <NavLink href="/trash" current={route.name === "trash"} icon={<IconTrash />} label="Trash" onNavigate={closeNav} />
          <NavLink href="/devices" current={route.name === "devices"} icon={<IconDevices />} label="Devices" onNavigate={closeNav} />
          <div class="sidebar-foot">
            <QuotaBar user={props.user} />
          </div>
        </nav>
        <main id="main" class="content" tabIndex={-1}>
          {props.children}
        </main>
      </div>
      <UploadPanel />
    </div>
  );
}
