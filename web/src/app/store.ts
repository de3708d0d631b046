// A tiny observable value with a hook, for state shared across components.

import { useEffect, useState } from "preact/hooks";

export interface Store<T> {
  get(): T;
  set(value: T | ((prev: T) => T)): void;
  subscribe(fn: (value: T) => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => value,
    set(next) {
      const v = typeof next === "function" ? (next as (prev: T) => T)(value) : next;
      if (Object.is(v, value)) return;
      value = v;
      listeners.forEach((f) => f(v));
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/** The store's current value; re-renders the component when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [, force] = useState(0);
  useEffect(() => store.subscribe(() => force((n) => n + 1)), [store]);
  return store.get();
}

/** A simple event channel. */
export function createSignal<T = void>() {
  const listeners = new Set<(v: T) => void>();
  return {
    emit(v: T) {
      listeners.forEach((f) => f(v));
    },
    on(fn: (v: T) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
