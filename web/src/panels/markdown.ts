// Markdown to safe DOM: marked renders, DOMPurify sanitizes (no scripts, no styles, no
// forms or embedded frames), then links are made to open in a new tab without an opener
// or referrer, and images are not fetched unless they are inline data (a relative image
// would otherwise be asked of this server, a remote one would be refused by the CSP).
// Loaded on demand by the preview.

import createDOMPurify from "dompurify";
import { Marked } from "marked";
import { highlight, knowsLanguage } from "./highlight";

const marked = new Marked({ gfm: true, breaks: false, async: false });

// Raw HTML in the Markdown loses its styles before the browser ever parses it: parsing a
// style attribute or a <style> element, even into a detached document, is reported as a
// violation of the page's CSP. DOMPurify below still removes whatever this misses.
marked.use({
  renderer: {
    html({ text }) {
      return text
        .replace(/<style\b[\s\S]*?(<\/style\s*>|$)/gi, "")
        .replace(/\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)/gi, "");
    },
  },
});

/** A private DOMPurify so that its hooks touch nothing else in the app. */
const purify = createDOMPurify(window);

purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    const href = node.getAttribute("href") ?? "";
    if (href.startsWith("#")) return;
    if (!/^(https?:|mailto:)/i.test(href)) {
      // A relative link points into the document's own folder, which this page cannot
      // follow: keep the text, drop the address.
      node.removeAttribute("href");
      node.setAttribute("title", href);
      return;
    }
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const FORBID_TAGS = [
  "style", "link", "meta", "base", "form", "button", "textarea", "select", "option", "iframe", "frame", "frameset",
  "object", "embed", "video", "audio", "source", "track", "picture", "dialog", "template", "slot", "portal",
];
const FORBID_ATTR = ["style", "srcset", "action", "formaction", "ping", "background", "poster", "autofocus"];

/** Renders Markdown into a sanitized fragment ready to append. */
export function renderMarkdown(source: string): DocumentFragment {
  const html = marked.parse(source, { async: false }) as string;
  const frag = purify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  }) as DocumentFragment;

  for (const img of Array.from(frag.querySelectorAll("img"))) {
    const src = img.getAttribute("src") ?? "";
    if (/^data:image\/(png|jpe?g|gif|webp|avif);/i.test(src)) {
      img.setAttribute("loading", "lazy");
      continue;
    }
    const alt = img.getAttribute("alt") ?? "";
    const note = document.createElement("span");
    note.className = "cp-md-img-blocked";
    note.textContent = alt ? `Image: ${alt}` : "Image";
    note.title = src ? `Not loaded: ${src}` : "Not loaded";
    img.replaceWith(note);
  }
  for (const input of Array.from(frag.querySelectorAll("input"))) {
    // Only GFM task list boxes, and they are not editable here.
    if (input.getAttribute("type") !== "checkbox") {
      input.remove();
      continue;
    }
    input.setAttribute("disabled", "");
    input.setAttribute("aria-label", input.hasAttribute("checked") ? "Done" : "Not done");
  }
  for (const code of Array.from(frag.querySelectorAll("pre > code"))) {
    const lang = Array.from(code.classList)
      .find((c) => c.startsWith("language-"))
      ?.slice("language-".length)
      .toLowerCase();
    if (lang && knowsLanguage(lang)) {
      const out = highlight(code.textContent ?? "", lang);
      if (out != null) {
        code.innerHTML = out; // highlight.js output: escaped text in class-only spans
        code.classList.add("hljs");
      }
    }
  }
  for (const table of Array.from(frag.querySelectorAll("table"))) {
    const wrap = document.createElement("div");
    wrap.className = "cp-md-table";
    table.replaceWith(wrap);
    wrap.appendChild(table);
  }
  return frag;
}
