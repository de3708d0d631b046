// Syntax highlighting with highlight.js core and a set of common languages registered
// one by one (the full build is several times larger). Loaded on demand by the preview.
// highlight.js escapes the source: its output holds only <span class="hljs-...">.

import type { LanguageFn } from "highlight.js";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import dockerfile from "highlight.js/lib/languages/dockerfile";
import go from "highlight.js/lib/languages/go";
import graphql from "highlight.js/lib/languages/graphql";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import less from "highlight.js/lib/languages/less";
import lua from "highlight.js/lib/languages/lua";
import makefile from "highlight.js/lib/languages/makefile";
import markdown from "highlight.js/lib/languages/markdown";
import nix from "highlight.js/lib/languages/nix";
import perl from "highlight.js/lib/languages/perl";
import php from "highlight.js/lib/languages/php";
import plaintext from "highlight.js/lib/languages/plaintext";
import powershell from "highlight.js/lib/languages/powershell";
import protobuf from "highlight.js/lib/languages/protobuf";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import scala from "highlight.js/lib/languages/scala";
import scss from "highlight.js/lib/languages/scss";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { extension } from "../format";

const LANGUAGES: Record<string, LanguageFn> = {
  bash, c, cpp, csharp, css, diff, dockerfile, go, graphql, ini, java, javascript, json, kotlin, less, lua,
  makefile, markdown, nix, perl, php, plaintext, powershell, protobuf, python, r, ruby, rust, scala, scss, shell,
  sql, swift, typescript, xml, yaml,
};
for (const [name, lang] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, lang);

const BY_EXTENSION: Record<string, string> = {
  js: "javascript", mjs: "javascript", cjs: "javascript", jsx: "javascript", vue: "xml", svelte: "xml",
  ts: "typescript", tsx: "typescript", mts: "typescript", cts: "typescript",
  json: "json", jsonc: "json", json5: "json", webmanifest: "json",
  rs: "rust", go: "go", py: "python", pyw: "python", rb: "ruby", php: "php", java: "java",
  kt: "kotlin", kts: "kotlin", scala: "scala", sc: "scala", gradle: "kotlin",
  c: "c", h: "c", cc: "cpp", cpp: "cpp", cxx: "cpp", hpp: "cpp", hh: "cpp", hxx: "cpp", ino: "cpp",
  cs: "csharp", swift: "swift", m: "c", mm: "cpp",
  sh: "bash", bash: "bash", zsh: "bash", ksh: "bash", fish: "bash", command: "bash",
  ps1: "powershell", psm1: "powershell", bat: "shell", cmd: "shell",
  sql: "sql", html: "xml", htm: "xml", xhtml: "xml", xml: "xml", xsl: "xml", xsd: "xml", svg: "xml",
  plist: "xml", csproj: "xml", rss: "xml", atom: "xml",
  css: "css", scss: "scss", sass: "scss", less: "less",
  yaml: "yaml", yml: "yaml", toml: "ini", ini: "ini", cfg: "ini", conf: "ini", properties: "ini", env: "bash",
  lua: "lua", pl: "perl", pm: "perl", r: "r", graphql: "graphql", gql: "graphql", proto: "protobuf",
  diff: "diff", patch: "diff", nix: "nix", md: "markdown", markdown: "markdown", mk: "makefile",
  dockerfile: "dockerfile", makefile: "makefile", tf: "ini", hcl: "ini",
};

const BY_NAME: Record<string, string> = {
  dockerfile: "dockerfile", containerfile: "dockerfile", makefile: "makefile", gnumakefile: "makefile",
  justfile: "makefile", rakefile: "ruby", gemfile: "ruby", procfile: "yaml", "cmakelists.txt": "plaintext",
  ".bashrc": "bash", ".zshrc": "bash", ".profile": "bash", ".gitconfig": "ini", ".editorconfig": "ini",
};

/** The language a file name suggests, or null for plain text. */
export function languageFor(name: string): string | null {
  const lower = name.toLowerCase();
  return BY_NAME[lower] ?? BY_EXTENSION[extension(lower)] ?? null;
}

/** Highlighted HTML of `code` (escaped by highlight.js), or null for an unknown language. */
export function highlight(code: string, language: string | null): string | null {
  if (!language || !hljs.getLanguage(language)) return null;
  try {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  } catch {
    return null;
  }
}

/** Whether highlight.js knows a language name (a fenced block's tag such as `rust`). */
export function knowsLanguage(name: string): boolean {
  return !!hljs.getLanguage(name);
}
