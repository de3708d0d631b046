// The live-update WebSocket: the server says which namespaces advanced, and the open
// views re-read what they show. Reconnects with backoff while signed in.

import type { NotifyMessage } from "../types";
import { createSignal, createStore } from "./store";

/** Something changed on the server (or here): views showing files should reload. */
export const filesChanged = createSignal<void>();
/** A comment was added, edited or deleted. */
export const commentsChanged = createSignal<{ namespaceId: number; nodeId: number }>();
export const liveStatus = createStore<"off" | "connecting" | "open">("off");

let socket: WebSocket | null = null;
let wanted = false;
let retry = 0;
let timer: number | undefined;

function connect() {
  if (!wanted) return;
  liveStatus.set("connecting");
  const url = (location.protocol === "https:" ? "wss" : "ws") + "://" + location.host + "/api/v1/notify";
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch {
    schedule();
    return;
  }
  socket = ws;
  let greeted = false;
  ws.onmessage = (ev) => {
    let msg: NotifyMessage;
    try {
      msg = JSON.parse(typeof ev.data === "string" ? ev.data : "");
    } catch {
      return;
    }
    if (msg.type === "hello") {
      liveStatus.set("open");
      retry = 0;
      // After a reconnect, changes may have been missed while away.
      if (greeted || reconnected) filesChanged.emit();
      greeted = true;
    } else if (msg.type === "changed") {
      filesChanged.emit();
    } else if (msg.type === "comment") {
      commentsChanged.emit({ namespaceId: msg.namespace_id, nodeId: msg.node_id });
    }
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    liveStatus.set(wanted ? "connecting" : "off");
    reconnected = true;
    schedule();
  };
  ws.onerror = () => {
    // onclose follows
  };
}

let reconnected = false;

function schedule() {
  if (!wanted) return;
  clearTimeout(timer);
  const delay = Math.min(30000, 1000 * 2 ** retry) * (0.75 + Math.random() * 0.5);
  retry = Math.min(retry + 1, 6);
  timer = window.setTimeout(connect, delay);
}

export function startLive(): void {
  if (wanted) return;
  wanted = true;
  retry = 0;
  reconnected = false;
  connect();
}

export function stopLive(): void {
  wanted = false;
  clearTimeout(timer);
  const s = socket;
  socket = null;
  s?.close();
  liveStatus.set("off");
}

// Reconnect at once when the page comes back online or into view.
window.addEventListener("online", () => {
  if (wanted && !socket) {
    retry = 0;
    clearTimeout(timer);
    connect();
  }
});
