// The file browser's smaller parts: a folder's listing as a hook, the breadcrumbs (each
// a drop target), and the toolbar's buttons.

import { Fragment, type ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { normalizePath } from "../../format";
import { useFolderDrop } from "../dnd";
import { IconChevronRight, IconHome } from "../icons";
import { filesUrl, isPlainClick, navigate } from "../router";
import { Listing, type ListingState } from "./listing";

export function useListing(path: string): [Listing, ListingState] {
  const listing = useMemo(() => new Listing(path), [path]);
  const [state, setState] = useState(listing.state);
  useEffect(() => {
    setState(listing.state);
    const off = listing.subscribe(() => setState(listing.state));
    return () => {
      off();
      listing.dispose();
    };
  }, [listing]);
  return [listing, state];
}

function Crumb(props: { path: string; label: string; current: boolean; home?: boolean }) {
  const [over, drop] = useFolderDrop(props.current ? null : props.path);
  const href = filesUrl(props.path);
  return (
    <li class={"crumb" + (over ? " drop-over" : "")} {...drop}>
      <a
        href={href}
        aria-current={props.current ? "page" : undefined}
        onClick={(e) => {
          if (!isPlainClick(e)) return;
          e.preventDefault();
          navigate(href);
        }}
      >
        {props.home && <IconHome size={18} />}
        {props.label}
      </a>
    </li>
  );
}

export function Breadcrumbs({ path }: { path: string }) {
  const parts = normalizePath(path).split("/").filter(Boolean);
  const ref = useRef<HTMLOListElement>(null);
  useEffect(() => {
    // Long paths: show the end.
    if (ref.current) ref.current.scrollLeft = ref.current.scrollWidth;
  }, [path]);
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumb">
      <ol ref={ref}>
        <Crumb path="/" label="Home" home current={parts.length === 0} />
        {parts.map((name, i) => (
          <Fragment key={i}>
            <li class="crumb-sep" aria-hidden="true">
              <IconChevronRight size={14} />
            </li>
            <Crumb path={"/" + parts.slice(0, i + 1).join("/")} label={name} current={i === parts.length - 1} />
          </Fragment>
        ))}
      </ol>
    </nav>
  );
}

export function ToolButton(props: { label: string; icon: ComponentChildren; onClick: (e: MouseEvent) => void; small?: boolean; primary?: boolean; danger?: boolean; iconOnly?: boolean; pressed?: boolean; haspopup?: boolean; title?: string }) {
  return (
    <button
      type="button"
      class={"btn" + (props.small ? " btn-sm" : "") + (props.primary ? " btn-primary" : "") + (props.danger ? " btn-danger-quiet" : "") + (props.iconOnly ? " btn-icon" : "")}
      onClick={props.onClick}
      aria-label={props.iconOnly ? props.label : undefined}
      aria-pressed={props.pressed}
      aria-haspopup={props.haspopup ? "menu" : undefined}
      title={props.title ?? (props.iconOnly ? props.label : undefined)}
    >
      {props.icon}
      {!props.iconOnly && <span class="btn-label">{props.label}</span>}
    </button>
  );
}
