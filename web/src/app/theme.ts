// Light and dark themes: the system's preference unless the user chose one (saved).

import { createStore } from "./store";

export type Theme = "light" | "dark";
const KEY = "coffer.theme";

function systemTheme(): Theme {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function saved(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : null;
  } catch {
    return null;
  }
}

export const themeStore = createStore<Theme>(saved() ?? systemTheme());

function apply(t: Theme) {
  document.documentElement.dataset.theme = t;
  document.documentElement.style.colorScheme = t;
}

export function initTheme(): void {
  apply(themeStore.get());
  themeStore.subscribe(apply);
  window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!saved()) themeStore.set(systemTheme());
  });
}

export function toggleTheme(): void {
  const next: Theme = themeStore.get() === "dark" ? "light" : "dark";
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // storage unavailable: the choice lasts this visit
  }
  themeStore.set(next);
}

/** A saved UI preference (view mode, sort). */
export function loadPref<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  try {
    const v = localStorage.getItem("coffer." + key);
    return (allowed as readonly string[]).includes(v ?? "") ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

export function savePref(key: string, value: string): void {
  try {
    localStorage.setItem("coffer." + key, value);
  } catch {
    // ignore
  }
}
