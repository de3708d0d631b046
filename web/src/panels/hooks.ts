// A small data-loading hook: runs `load` when `deps` change, keeps the latest answer,
// drops answers of superseded runs, and can be rerun.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (v: T) => void;
}

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const latest = useRef(load);
  latest.current = load;

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    latest.current(ctl.signal).then(
      (v) => {
        if (ctl.signal.aborted) return;
        setData(v);
        setLoading(false);
      },
      (e) => {
        if (ctl.signal.aborted) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

/** Actions of a panel, one at a time: `busy` while one runs, its failure in `error` (for
 * an ErrorNote). `run` resolves true when the action succeeded. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  run: (what: () => Promise<void>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (what: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await what();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** A status line announced politely, cleared after a while. */
export function useStatus(ms = 4000): [string, (s: string) => void] {
  const [msg, setMsg] = useState("");
  const timer = useRef<number | undefined>(undefined);
  const set = useCallback(
    (s: string) => {
      setMsg(s);
      window.clearTimeout(timer.current);
      if (s) timer.current = window.setTimeout(() => setMsg(""), ms);
    },
    [ms],
  );
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return [msg, set];
}
