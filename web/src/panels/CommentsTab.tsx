// Comments on a file: read them (oldest first, paged), add one, edit or delete one's own.

import { useId, useState } from "preact/hooks";
import { apiFetch, apiJson } from "../api";
import { formatDate, normalizePath } from "../format";
import type { CommentInfo, CommentsResponse, NodeInfo } from "../types";
import { Spinner } from "./FileView";
import { useAction, useLoad, useStatus } from "./hooks";
import { ErrorNote, useMe } from "./util";

const PAGE = 100;
const MAX_CHARS = 10_000;

interface Page {
  comments: CommentInfo[];
  next_after?: number;
}

export function CommentsTab(props: { node: NodeInfo; path: string }) {
  const path = normalizePath(props.path);
  const id = useId();
  const me = useMe();

  const fetchPage = async (after: number | undefined, signal?: AbortSignal): Promise<Page> => {
    const q = new URLSearchParams({ path, limit: String(PAGE) });
    if (after != null) q.set("after", String(after));
    const resp = await apiFetch("/api/v1/comments?" + q, { signal });
    return (await resp.json()) as CommentsResponse;
  };
  const page = useLoad((signal) => fetchPage(undefined, signal), [path]);
  const [text, setText] = useState("");
  const { busy, error, run } = useAction();
  const [status, setStatus] = useStatus();

  const data = page.data;

  const more = () =>
    run(async () => {
      if (!data?.next_after) return;
      const next = await fetchPage(data.next_after);
      page.setData({ comments: [...data.comments, ...next.comments], next_after: next.next_after });
    });

  const add = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    const ok = await run(async () => {
      const c = await apiJson<CommentInfo>("/api/v1/comments", { path, body });
      // Comments are oldest first: the new one goes last, once the last page is here.
      if (data && data.next_after == null) page.setData({ comments: [...data.comments, c] });
      else page.reload();
      setStatus("Comment added.");
    });
    if (ok) setText("");
  };

  const save = (c: CommentInfo, body: string) =>
    run(async () => {
      const updated = await apiJson<CommentInfo>(`/api/v1/comments/${c.id}`, { body }, "PUT");
      if (data) page.setData({ ...data, comments: data.comments.map((x) => (x.id === c.id ? updated : x)) });
      setStatus("Comment saved.");
    });

  const remove = (c: CommentInfo) =>
    run(async () => {
      if (!confirm("Delete this comment?")) return;
      await apiJson(`/api/v1/comments/${c.id}`, undefined, "DELETE");
      if (data) page.setData({ ...data, comments: data.comments.filter((x) => x.id !== c.id) });
      setStatus("Comment deleted.");
    });

  return (
    <div class="cp-section">
      <ErrorNote error={page.error} />
      {page.loading && !data && <Spinner label="Loading comments" />}
      {data && data.comments.length === 0 && <p class="cp-empty">No comments yet. Start the conversation.</p>}
      {data && data.comments.length > 0 && (
        <ol class="cp-list cp-comments" aria-label="Comments, oldest first">
          {data.comments.map((c) => (
            <CommentItem
              key={c.id}
              comment={c}
              mine={c.author === me}
              current={props.node.rev ?? null}
              busy={busy}
              onSave={save}
              onDelete={remove}
            />
          ))}
        </ol>
      )}
      {data?.next_after != null && (
        <button type="button" class="cp-btn cp-btn-small" onClick={more} disabled={busy}>
          Show more comments
        </button>
      )}
      <ErrorNote error={error} />
      <p class="cp-status" role="status">
        {status}
      </p>
      <form class="cp-form cp-comment-form" onSubmit={add}>
        <label for={`${id}-new`}>Add a comment</label>
        <textarea
          id={`${id}-new`}
          class="cp-input"
          rows={3}
          maxLength={MAX_CHARS}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) add(e);
          }}
          aria-describedby={`${id}-hint`}
        />
        <div class="cp-form-foot">
          <span id={`${id}-hint`} class="cp-muted cp-small">
            Ctrl+Enter to send
          </span>
          <button type="submit" class="cp-btn cp-btn-primary" disabled={busy || !text.trim()}>
            Comment
          </button>
        </div>
      </form>
    </div>
  );
}

function CommentItem(props: {
  comment: CommentInfo;
  mine: boolean;
  current: number | null;
  busy: boolean;
  onSave: (c: CommentInfo, body: string) => Promise<boolean>;
  onDelete: (c: CommentInfo) => void;
}) {
  const c = props.comment;
  const id = useId();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(c.body);
  const older = c.rev != null && props.current != null && c.rev !== props.current;
  return (
    <li class="cp-comment" aria-labelledby={`${id}-by`}>
      <div class="cp-comment-head">
        <span class="cp-avatar" aria-hidden="true">
          {c.author.slice(0, 1).toUpperCase()}
        </span>
        <p id={`${id}-by`} class="cp-row-title">
          {c.author}
          {props.mine && <span class="cp-muted"> (you)</span>}
        </p>
        <time
          class="cp-muted cp-small"
          dateTime={new Date(c.created_at).toISOString()}
          title={formatDate(c.created_at, true)}
        >
          {formatDate(c.created_at)}
        </time>
      </div>
      {editing ? (
        <form
          class="cp-form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (draft.trim() && (await props.onSave(c, draft.trim()))) setEditing(false);
          }}
        >
          <label for={`${id}-edit`} class="visually-hidden">
            Edit comment
          </label>
          <textarea
            id={`${id}-edit`}
            class="cp-input"
            rows={3}
            maxLength={MAX_CHARS}
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.stopPropagation();
                setEditing(false);
              }
            }}
          />
          <div class="cp-row-actions">
            <button type="submit" class="cp-btn cp-btn-small cp-btn-primary" disabled={props.busy || !draft.trim()}>
              Save
            </button>
            <button type="button" class="cp-btn cp-btn-small" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <p class="cp-comment-body">{c.body}</p>
      )}
      <div class="cp-comment-foot">
        <span class="cp-muted cp-small">
          {c.edited_at ? `Edited ${formatDate(c.edited_at)}` : ""}
          {c.edited_at && older ? " · " : ""}
          {older ? "On an earlier version" : ""}
        </span>
        {props.mine && !editing && (
          <span class="cp-row-actions">
            <button
              type="button"
              class="cp-btn-text"
              aria-describedby={`${id}-by`}
              onClick={() => {
                setDraft(c.body);
                setEditing(true);
              }}
            >
              Edit
            </button>
            <button
              type="button"
              class="cp-btn-text cp-danger-text"
              aria-describedby={`${id}-by`}
              disabled={props.busy}
              onClick={() => props.onDelete(c)}
            >
              Delete
            </button>
          </span>
        )}
      </div>
    </li>
  );
}
