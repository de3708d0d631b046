// Folders as drop targets: items dragged inside the app move there; files and folders
// dragged from the computer upload there.

import { useEffect, useRef, useState } from "preact/hooks";
import { draggedPaths, isFileDrag, isInternalDrag, moveItems, moveProblem } from "./moves";
import { enqueue, fromDrop } from "./uploads/queue";
import { showError } from "./toast";

/** The paths being dragged right now (drag data cannot be read until the drop). */
export let currentDrag: string[] | null = null;
export function setCurrentDrag(paths: string[] | null) {
  currentDrag = paths;
}

export interface DropProps {
  onDragEnter: (e: DragEvent) => void;
  onDragOver: (e: DragEvent) => void;
  onDragLeave: (e: DragEvent) => void;
  onDrop: (e: DragEvent) => void;
}

/**
 * Drop handling for a folder at `dest` (null: not a target). The highlight lasts while
 * `dragover` keeps coming (browsers repeat it while the pointer rests), which stays right
 * however the pointer moves between nested targets.
 */
export function useFolderDrop(dest: string | null): [boolean, DropProps] {
  const [over, setOver] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  const accepts = (e: DragEvent) => {
    if (dest === null) return false;
    if (isInternalDrag(e.dataTransfer)) return !currentDrag || moveProblem(currentDrag, dest) === null;
    return isFileDrag(e.dataTransfer);
  };
  const hold = () => {
    setOver(true);
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setOver(false), 150);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  return [
    over,
    {
      onDragEnter: (e) => {
        if (!accepts(e)) return;
        e.preventDefault();
        e.stopPropagation();
        hold();
      },
      onDragOver: (e) => {
        if (!accepts(e)) return;
        e.preventDefault();
        e.stopPropagation();
        if (e.dataTransfer) e.dataTransfer.dropEffect = isInternalDrag(e.dataTransfer) ? "move" : "copy";
        hold();
      },
      onDragLeave: () => {},
      onDrop: (e) => {
        clearTimeout(timer.current);
        setOver(false);
        if (dest === null || !accepts(e)) return;
        e.preventDefault();
        e.stopPropagation();
        handleDrop(e.dataTransfer!, dest);
      },
    },
  ];
}

export function handleDrop(dt: DataTransfer, dest: string) {
  const paths = draggedPaths(dt);
  setCurrentDrag(null);
  if (paths) {
    void moveItems(paths, dest);
    return;
  }
  fromDrop(dt).then(
    ({ files, folders }) => enqueue(dest, files, folders),
    (e) => showError(e, "Could not read the dropped files"),
  );
}

/** Files dropped where nothing takes them must not make the browser leave the app to show them. */
export function guardWindowDrops() {
  window.addEventListener("dragover", (e) => {
    if (e.defaultPrevented) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "none";
  });
  window.addEventListener("drop", (e) => e.preventDefault());
}
