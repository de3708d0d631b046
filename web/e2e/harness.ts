// A real Coffer server for the browser tests: the `coffer` binary (COFFER_BIN) started on
// an ephemeral loopback port with a fresh data directory, its setup token read from what
// it prints, plus the CLI run as a user would (`coffer login`, `coffer put`, ...).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Page, expect } from "@playwright/test";

export const PASSWORD = "correct horse battery staple";

function bin(): string {
  const b = process.env.COFFER_BIN;
  if (!b) throw new Error("COFFER_BIN must name the coffer binary (scripts/web-e2e.sh sets it)");
  return b;
}

export class Server {
  url = "";
  setupToken = "";
  readonly data: string;
  private proc: ChildProcess | null = null;
  private log = "";

  constructor() {
    this.data = mkdtempSync(join(tmpdir(), "coffer-e2e-"));
  }

  /** Starts the server and waits until it listens. */
  async start(): Promise<void> {
    const proc = spawn(bin(), ["serve", "--data", join(this.data, "server"), "--listen", "127.0.0.1:0"], {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start:\n${this.log}`)), 30_000);
      proc.stderr!.on("data", (d: Buffer) => {
        this.log += d.toString();
        const token = /--token=(\S+)/.exec(this.log);
        if (token) this.setupToken = token[1];
        const addr = /listening on (http:\/\/\S+)/.exec(this.log);
        if (addr && !this.url) {
          this.url = addr[1];
          clearTimeout(timer);
          resolve();
        }
      });
      proc.on("exit", (code) => reject(new Error(`the server exited (${code}):\n${this.log}`)));
    });
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc!.once("exit", r));
      this.proc.kill("SIGTERM");
      await exited;
    }
    rmSync(this.data, { recursive: true, force: true });
  }

  /** Adds a user with the operator's command (works while the server runs). */
  addUser(name: string, admin = false): void {
    const args = ["admin", "user", "add", name, "--data", join(this.data, "server")];
    if (admin) args.push("--admin");
    run(args, { input: PASSWORD + "\n" });
  }

  /** An operator's `coffer admin ...` command on this server's data. */
  admin(args: string[]): string {
    return run(["admin", ...args, "--data", join(this.data, "server")]);
  }

  /** The CLI signed in as `user`, with a configuration directory of its own. */
  cli(user: string): Cli {
    return new Cli(this, user);
  }
}

export class Cli {
  readonly config: string;
  private signedIn = false;

  constructor(
    private server: Server,
    private user: string,
  ) {
    this.config = mkdtempSync(join(server.data, `cli-${user}-`));
  }

  run(args: string[], input?: string): string {
    if (!this.signedIn) {
      run(["login", this.server.url, "--user", this.user, "--device", "e2e"], {
        input: PASSWORD + "\n",
        env: { COFFER_CONFIG_DIR: this.config },
      });
      this.signedIn = true;
    }
    return run(args, { input, env: { COFFER_CONFIG_DIR: this.config } });
  }
}

function run(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): string {
  const r = spawnSync(bin(), args, {
    input: opts.input ?? "",
    env: { ...process.env, ...opts.env },
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    throw new Error(`coffer ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Signs `user` in through the sign-in page and waits for the file list. */
export async function signIn(page: Page, server: Server, user: string): Promise<void> {
  await page.goto(server.url + "/");
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("grid", { name: "Files" })).toBeVisible();
}

/** The file list's row of `name`. */
export function row(page: Page, name: string) {
  return page.getByRole("grid", { name: "Files" }).getByRole("row", { name, exact: true });
}
