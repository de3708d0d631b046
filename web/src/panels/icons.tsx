// Line icons (24x24, stroked with currentColor). Decorative: each is hidden from
// assistive technology; the control around it carries the name.

import type { ComponentChildren } from "preact";
import type { FileKind } from "../format";

function Svg(props: { children: ComponentChildren; size?: number; class?: string }) {
  const s = props.size ?? 20;
  return (
    <svg
      class={"cp-icon " + (props.class ?? "")}
      width={s}
      height={s}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {props.children}
    </svg>
  );
}

type P = { size?: number; class?: string };

export const IconClose = (p: P) => (
  <Svg {...p}>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);
export const IconDownload = (p: P) => (
  <Svg {...p}>
    <path d="M12 4v11m0 0l-4.5-4.5M12 15l4.5-4.5M5 19h14" />
  </Svg>
);
export const IconChevronLeft = (p: P) => (
  <Svg {...p}>
    <path d="M15 5l-7 7 7 7" />
  </Svg>
);
export const IconChevronRight = (p: P) => (
  <Svg {...p}>
    <path d="M9 5l7 7-7 7" />
  </Svg>
);
export const IconInfo = (p: P) => (
  <Svg {...p}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 11v5M12 8h.01" />
  </Svg>
);
export const IconExternal = (p: P) => (
  <Svg {...p}>
    <path d="M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5" />
  </Svg>
);
export const IconCopy = (p: P) => (
  <Svg {...p}>
    <rect x="8" y="8" width="12" height="12" rx="2" />
    <path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" />
  </Svg>
);
export const IconLock = (p: P) => (
  <Svg {...p}>
    <rect x="5" y="11" width="14" height="9" rx="2" />
    <path d="M8 11V8a4 4 0 0 1 8 0v3" />
  </Svg>
);
export const IconLink = (p: P) => (
  <Svg {...p}>
    <path d="M10 14a4 4 0 0 0 5.66 0l3-3a4 4 0 0 0-5.66-5.66l-1 1" />
    <path d="M14 10a4 4 0 0 0-5.66 0l-3 3a4 4 0 0 0 5.66 5.66l1-1" />
  </Svg>
);
export const IconUsers = (p: P) => (
  <Svg {...p}>
    <circle cx="9" cy="8" r="3.5" />
    <path d="M2.5 20a6.5 6.5 0 0 1 13 0M16 4.5a3.5 3.5 0 0 1 0 7M18 14.5a6.5 6.5 0 0 1 3.5 5.5" />
  </Svg>
);
export const IconHistory = (p: P) => (
  <Svg {...p}>
    <path d="M3 12a9 9 0 1 0 3-6.7L3 8" />
    <path d="M3 3v5h5M12 7v5l3 2" />
  </Svg>
);
export const IconComment = (p: P) => (
  <Svg {...p}>
    <path d="M4 5h16v11H9l-5 4z" />
  </Svg>
);
export const IconTrash = (p: P) => (
  <Svg {...p}>
    <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />
  </Svg>
);
export const IconEye = (p: P) => (
  <Svg {...p}>
    <path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z" />
    <circle cx="12" cy="12" r="3" />
  </Svg>
);
export const IconRestore = (p: P) => (
  <Svg {...p}>
    <path d="M4 10a8 8 0 1 1 2 7" />
    <path d="M4 4v6h6" />
  </Svg>
);
export const IconDevice = (p: P) => (
  <Svg {...p}>
    <rect x="3" y="4" width="18" height="12" rx="2" />
    <path d="M8 20h8M12 16v4" />
  </Svg>
);
export const IconBrowser = (p: P) => (
  <Svg {...p}>
    <rect x="3" y="4" width="18" height="16" rx="2" />
    <path d="M3 9h18M7 6.5h.01M10 6.5h.01" />
  </Svg>
);
export const IconFolder = (p: P) => (
  <Svg {...p}>
    <path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" />
  </Svg>
);
export const IconFolderShared = (p: P) => (
  <Svg {...p}>
    <path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" />
    <circle cx="12" cy="12" r="1.8" />
    <path d="M9 16.5a3 3 0 0 1 6 0" />
  </Svg>
);
export const IconZip = (p: P) => (
  <Svg {...p}>
    <path d="M6 3h8l4 4v14H6z" />
    <path d="M11 3v2h2v2h-2v2h2v2h-2v2" />
    <rect x="10" y="14" width="4" height="4" rx="1" />
  </Svg>
);

const FILE_PATH = "M6 3h8l4 4v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1zM14 3v4h4";

/** A file icon with a mark for its kind. */
export function FileIcon(props: P & { kind: FileKind | "folder" }) {
  if (props.kind === "folder") return <IconFolder {...props} class={"cp-folder-icon " + (props.class ?? "")} />;
  const mark: Record<FileKind, ComponentChildren> = {
    image: <path d="M8 17l3-4 2 2.5 1.5-2L17 17zM9.5 10.5h.01" />,
    pdf: <path d="M8.5 12h7M8.5 15h7M8.5 18h4" />,
    text: <path d="M8.5 12h7M8.5 15h7M8.5 18h5" />,
    code: <path d="M10 12l-2 2.5 2 2.5M14 12l2 2.5-2 2.5" />,
    markdown: <path d="M8 17v-5l2 2.5 2-2.5v5M15 12v5m-1.5-1.5L15 17l1.5-1.5" />,
    audio: <path d="M10 17.5a1.5 1.5 0 1 1 0-.01V11l5-1v6" />,
    video: <path d="M10 11.5v5l4.5-2.5z" />,
    other: null,
  };
  return (
    <Svg {...props} class={"cp-file-icon cp-kind-" + props.kind + " " + (props.class ?? "")}>
      <path d={FILE_PATH} />
      {mark[props.kind]}
    </Svg>
  );
}
