// The details side panel of a file or folder: its versions, who it is shared with, its
// public links and its comments, each on a tab.

import { useEffect, useId, useRef, useState } from "preact/hooks";
import { formatDate, formatSize, nodeKind } from "../format";
import type { NodeInfo } from "../types";
import { IconClose, IconComment, IconHistory, IconLink, IconShare, NodeIcon } from "../app/icons";
import { CommentsTab } from "./CommentsTab";
import { LinksTab } from "./LinksTab";
import { SharingTab } from "./SharingTab";
import { VersionsTab } from "./VersionsTab";
import "./panels.css";

export type DetailsTab = "versions" | "sharing" | "links" | "comments";

export interface DetailsProps {
  node: NodeInfo;
  path: string;
  onClose: () => void;
  onChanged: () => void;
  initialTab?: DetailsTab;
}

const TAB_LABEL: Record<DetailsTab, string> = {
  versions: "Versions",
  sharing: "Sharing",
  links: "Links",
  comments: "Comments",
};

const TAB_ICON = {
  versions: IconHistory,
  sharing: IconShare,
  links: IconLink,
  comments: IconComment,
};

export function Details(props: DetailsProps) {
  const { node, path } = props;
  const isFile = node.kind === "file";
  const tabs: DetailsTab[] = isFile ? ["versions", "sharing", "links", "comments"] : ["sharing", "links"];
  const pick = (t?: DetailsTab) => (t && tabs.includes(t) ? t : tabs[0]);
  const [tab, setTab] = useState<DetailsTab>(pick(props.initialTab));
  const id = useId();
  const tabRefs = useRef<Partial<Record<DetailsTab, HTMLButtonElement | null>>>({});

  // Another item, or another requested tab: follow it.
  useEffect(() => setTab(pick(props.initialTab)), [path, node.kind, props.initialTab]);

  const onTabKey = (e: KeyboardEvent) => {
    const i = tabs.indexOf(tab);
    let next: DetailsTab | null = null;
    if (e.key === "ArrowRight" || e.key === "ArrowDown") next = tabs[(i + 1) % tabs.length];
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") next = tabs[(i - 1 + tabs.length) % tabs.length];
    else if (e.key === "Home") next = tabs[0];
    else if (e.key === "End") next = tabs[tabs.length - 1];
    if (next) {
      e.preventDefault();
      setTab(next);
      tabRefs.current[next]?.focus();
    }
  };

  return (
    <aside class="cp-details" aria-labelledby={`${id}-h`}>
      <header class="cp-details-head">
        <h2 id={`${id}-h`} class="cp-details-title">
          Details
        </h2>
        <button type="button" class="cp-icon-btn" onClick={props.onClose} aria-label="Close details">
          <IconClose size={20} />
        </button>
      </header>
      <div class="cp-details-item">
        <NodeIcon kind={nodeKind(node)} size={36} />
        <div class="cp-details-names">
          <p class="cp-details-name" title={node.name}>
            {node.name || "/"}
          </p>
          <p class="cp-muted cp-small">
            {isFile ? formatSize(node.size) + " · " : "Folder · "}
            {node.mode === "symlink" ? "Symbolic link (its content is the target) · " : ""}
            {node.mode === "executable" ? "Executable · " : ""}
            Modified {formatDate(node.mtime ?? node.modified_at, true)}
          </p>
          <p class="cp-muted cp-small cp-details-path" title={path}>
            {path}
          </p>
        </div>
      </div>
      <div class="cp-tabs" role="tablist" aria-label="Details sections" onKeyDown={onTabKey}>
        {tabs.map((t) => {
          const Icon = TAB_ICON[t];
          return (
            <button
              key={t}
              type="button"
              role="tab"
              id={`${id}-tab-${t}`}
              aria-selected={tab === t}
              aria-controls={`${id}-panel`}
              tabIndex={tab === t ? 0 : -1}
              class="cp-tab"
              onClick={() => setTab(t)}
              ref={(el) => {
                tabRefs.current[t] = el;
              }}
            >
              <Icon size={16} />
              {TAB_LABEL[t]}
            </button>
          );
        })}
      </div>
      <div class="cp-tabpanel" role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${tab}`} tabIndex={0}>
        {tab === "versions" && <VersionsTab key={path} node={node} path={path} onChanged={props.onChanged} />}
        {tab === "sharing" && (
          <SharingTab key={path} node={node} path={path} onChanged={props.onChanged} onClose={props.onClose} />
        )}
        {tab === "links" && <LinksTab key={path} node={node} path={path} />}
        {tab === "comments" && <CommentsTab key={path} node={node} path={path} />}
      </div>
    </aside>
  );
}
