// The web app in headless Chromium against a real server: what a user does in a browser,
// from the first admin's setup to sharing, public links and live updates.

import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Page, expect, test } from "@playwright/test";
import { pdf, png, writeTree, zipEntries } from "./files";
import { PASSWORD, Server, row, signIn } from "./harness";

test.describe.configure({ mode: "serial" });

let server: Server;

test.beforeAll(async () => {
  server = new Server();
  await server.start();
});

test.afterAll(async () => {
  await server.stop();
});

/** Drops the folder `dir` from the file system onto an empty spot of `target` (near its
 * bottom left, below any row), as a user's drag from a file manager: Chromium's own drag
 * events, with real file entries. */
async function dropFolder(page: Page, dir: string, target: string): Promise<void> {
  const box = await page.locator(target).boundingBox();
  if (!box) throw new Error(`no ${target} to drop on`);
  const cdp = await page.context().newCDPSession(page);
  const at = { x: box.x + 60, y: box.y + box.height - 30 };
  const data = { items: [], files: [dir], dragOperationsMask: 1 };
  for (const type of ["dragEnter", "dragOver", "drop"] as const) {
    await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
  }
  await cdp.detach();
}

/** Counts requests that carry chunk bytes while `f` runs. */
async function chunkRequestsDuring(page: Page, f: () => Promise<void>): Promise<number> {
  let n = 0;
  const seen = (r: { url(): string; method(): string }) => {
    if (/\/api\/v1\/uploads\/[^/]+\/chunks/.test(r.url()) && r.method() !== "GET") n++;
  };
  page.on("request", seen);
  await f();
  page.off("request", seen);
  return n;
}

test("the first visitor creates the admin with the setup token, signs out and in", async ({ page }) => {
  await page.goto(server.url + "/");
  await page.getByLabel("Setup token").fill(server.setupToken);
  await page.getByLabel("Admin name").fill("alice");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Repeat password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create admin" }).click();
  await expect(page.getByRole("grid", { name: "Files" })).toBeVisible();
  await expect(page.getByText("This folder is empty")).toBeVisible();

  await page.getByRole("button", { name: /alice/ }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  // Signed out for real: the API refuses the old cookie.
  expect((await page.request.get(server.url + "/api/v1/auth/whoami")).status()).toBe(401);

  await page.getByLabel("User name").fill("alice");
  await page.getByLabel("Password", { exact: true }).fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText(/user name or password/i);
  await signIn(page, server, "alice");
});

test("a dropped folder uploads with its structure, and the same bytes again send no chunk", async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), "coffer-drop-"));
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 13;
  writeTree(join(dir, "Holiday"), {
    "notes.md": "# Trip\n\nWe went **north**.\n\n<script>window.pwned = 1</script>\n",
    "photos/beach.png": png(640, 480),
    "docs/plan.pdf": pdf("Coffer plan"),
    "docs/big.bin": big,
  });
  await signIn(page, server, "alice");
  const first = await chunkRequestsDuring(page, async () => {
    await dropFolder(page, join(dir, "Holiday"), "section.browser");
    await expect(page.getByText(/4 files of 4 done/)).toBeVisible({ timeout: 60_000 });
  });
  expect(first).toBeGreaterThan(0);
  await row(page, "Holiday").dblclick();
  await expect(row(page, "photos")).toBeVisible();
  await expect(row(page, "docs")).toBeVisible();
  await expect(row(page, "notes.md")).toBeVisible();

  // The same folder again, under another name: every chunk is on the server already.
  writeTree(join(dir, "Again"), {
    "notes.md": readFileSync(join(dir, "Holiday/notes.md")),
    "photos/beach.png": readFileSync(join(dir, "Holiday/photos/beach.png")),
    "docs/plan.pdf": readFileSync(join(dir, "Holiday/docs/plan.pdf")),
    "docs/big.bin": big,
  });
  await page.goto(server.url + "/files/");
  const second = await chunkRequestsDuring(page, async () => {
    await dropFolder(page, join(dir, "Again"), "section.browser");
    await expect(row(page, "Again")).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText(/4 files of 4 done/)).toBeVisible({ timeout: 60_000 });
  });
  expect(second).toBe(0);
  // What the browser uploaded is what the CLI downloads, byte for byte.
  const back = join(dir, "big.back");
  server.cli("alice").run(["get", "/Holiday/docs/big.bin", back]);
  expect(readFileSync(back).equals(big)).toBe(true);
});

test("images, PDFs and Markdown preview in the page, and nothing in a file runs", async ({ page }) => {
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/Holiday/photos");
  await row(page, "beach.png").dblclick();
  const dialog = page.getByRole("dialog", { name: /beach\.png/ });
  const img = dialog.locator("img");
  await expect(img).toBeVisible();
  expect(await img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  await page.goto(server.url + "/files/Holiday/docs");
  await row(page, "plan.pdf").dblclick();
  const frame = page.getByRole("dialog", { name: /plan\.pdf/ }).locator("iframe, embed, object");
  await expect(frame).toBeVisible();
  await page.keyboard.press("Escape");

  await page.goto(server.url + "/files/Holiday");
  await row(page, "notes.md").dblclick();
  const md = page.getByRole("dialog", { name: /notes\.md/ });
  await expect(md.getByRole("heading", { name: "Trip" })).toBeVisible();
  await expect(md.locator("strong")).toHaveText("north");
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  await expect(md.locator("script")).toHaveCount(0);
});

test("rename, move, delete and restore from the trash", async ({ page }) => {
  const cli = server.cli("alice");
  cli.run(["mkdir", "/Drafts"]);
  cli.run(["put", "-", "/Drafts/draft.txt"], "first draft\n");
  cli.run(["mkdir", "/Archive"]);
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/Drafts");

  await row(page, "draft.txt").click({ button: "right" });
  await page.getByRole("menuitem", { name: "Rename" }).click();
  const name = page.getByRole("textbox", { name: /name/i });
  await name.fill("final.txt");
  await name.press("Enter");
  await expect(row(page, "final.txt")).toBeVisible();

  await row(page, "final.txt").click({ button: "right" });
  await page.getByRole("menuitem", { name: /Move/ }).click();
  const picker = page.getByRole("dialog");
  await picker.getByText("Files", { exact: true }).click();
  await picker.getByText("Archive", { exact: true }).click();
  await picker.getByRole("button", { name: "Move" }).click();
  await expect(row(page, "final.txt")).toBeHidden();
  expect(cli.run(["get", "/Archive/final.txt", "-"])).toBe("first draft\n");

  await page.goto(server.url + "/files/Archive");
  await row(page, "final.txt").click();
  await page.keyboard.press("Delete");
  await expect(row(page, "final.txt")).toBeHidden();
  await page.getByRole("link", { name: "Trash" }).click();
  const trashed = page.getByRole("row", { name: /final\.txt/ });
  await expect(trashed).toBeVisible();
  await trashed.getByRole("button", { name: "Restore" }).click();
  await expect(trashed).toBeHidden();
  expect(cli.run(["get", "/Archive/final.txt", "-"])).toBe("first draft\n");
});

test("an old version is restored from the file's history", async ({ page }) => {
  const cli = server.cli("alice");
  cli.run(["put", "-", "/Drafts/story.txt"], "version one\n");
  cli.run(["put", "-", "/Drafts/story.txt"], "version two\n");
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/Drafts");
  await row(page, "story.txt").click({ button: "right" });
  await page.getByRole("menuitem", { name: "Versions" }).click();
  await page.getByRole("tab", { name: "Versions" }).click();
  const panel = page.getByRole("complementary", { name: "Details" });
  const restore = panel.getByRole("button", { name: "Restore" });
  await expect(restore).toHaveCount(1);
  await restore.click();
  await expect.poll(() => cli.run(["get", "/Drafts/story.txt", "-"])).toBe("version one\n");
});

test("a folder downloads as a zip that streams, with everything in it", async ({ page }) => {
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/");
  await row(page, "Holiday").click({ button: "right" });
  const waiting = page.waitForEvent("download");
  await page.getByRole("menuitem", { name: "Download" }).click();
  const download = await waiting;
  expect(download.suggestedFilename()).toBe("Holiday.zip");
  const file = join(mkdtempSync(join(tmpdir(), "coffer-zip-")), "Holiday.zip");
  await download.saveAs(file);
  const entries = zipEntries(file);
  expect(entries["Holiday/notes.md"]).toBeGreaterThan(0);
  expect(entries["Holiday/photos/beach.png"]).toBe(png(640, 480).length);
  expect(entries["Holiday/docs/big.bin"]).toBe(3 * 1024 * 1024 + 17);
});

test("a file added with the CLI appears without a reload", async ({ page }) => {
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/Drafts");
  await expect(row(page, "story.txt")).toBeVisible();
  server.cli("alice").run(["put", "-", "/Drafts/from-the-cli.txt"], "hello from a terminal\n");
  await expect(row(page, "from-the-cli.txt")).toBeVisible({ timeout: 10_000 });
});

test("a shared folder shows up in the other user's browser, and other files never do", async ({ page, browser }) => {
  server.addUser("bob");
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/");
  await row(page, "Drafts").click({ button: "right" });
  await page.getByRole("menuitem", { name: /Share/ }).click();
  const panel = page.getByRole("complementary", { name: "Details" });
  await panel.getByLabel("User name").fill("bob");
  await panel.getByLabel("Role").selectOption("editor");
  await panel.getByRole("button", { name: "Share" }).click();
  await expect(panel.getByText("bob", { exact: true })).toBeVisible();

  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  await signIn(bob, server, "bob");
  await expect(row(bob, "Drafts")).toBeVisible();
  await row(bob, "Drafts").dblclick();
  await expect(row(bob, "story.txt")).toBeVisible();
  await bob.getByRole("link", { name: "Shared with me" }).click();
  await expect(bob.getByText("Drafts").first()).toBeVisible();

  // Alice's other files: not in Bob's list, not at their address, not through the API.
  await bob.goto(server.url + "/files/");
  await expect(row(bob, "Holiday")).toBeHidden();
  await bob.goto(server.url + "/files/Holiday");
  await expect(bob.getByText(/not found|does not exist/i).first()).toBeVisible();
  const api = await bob.request.get(server.url + "/api/v1/fs/list?path=/Holiday");
  expect(api.status()).toBe(404);
  await bob.screenshot({ path: test.info().outputPath("bob-not-found.png") });
  await bobContext.close();
});

test("a public link opens in a fresh browser with no account", async ({ page, browser }) => {
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/Holiday/photos");
  await row(page, "beach.png").click({ button: "right" });
  await page.getByRole("menuitem", { name: /link/i }).click();
  const panel = page.getByRole("complementary", { name: "Details" });
  await panel.getByRole("button", { name: "Create link" }).click();
  const link = await panel.getByRole("link", { name: /\/s\// }).first().getAttribute("href");
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[A-Za-z0-9_-]{40,}$/);

  const visitor = await browser.newContext();
  const v = await visitor.newPage();
  await v.goto(link!);
  await expect(v.getByText("beach.png").first()).toBeVisible();
  await expect(v.locator("img").first()).toBeVisible();
  const waiting = v.waitForEvent("download");
  await v.getByRole("button", { name: "Download" }).or(v.getByRole("link", { name: "Download" })).first().click();
  const download = await waiting;
  expect(download.suggestedFilename()).toBe("beach.png");
  // The visitor is not signed in to anything.
  expect((await v.request.get(server.url + "/api/v1/auth/whoami")).status()).toBe(401);
  await visitor.close();
});

/** The authenticator app: RFC 6238 (SHA-1, 6 digits, 30 s) for the step holding `atSecs`. */
function appCode(secret: string, atSecs: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atSecs / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  return ((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

test("an account with two-factor sign-in asks for the app's code in the browser", async ({ page }) => {
  server.addUser("carol");
  const cli = server.cli("carol");
  const setup = JSON.parse(cli.run(["2fa", "enable", "--json"])) as { secret: string };
  const now = Math.floor(Date.now() / 1000);
  const recovery = JSON.parse(cli.run(["2fa", "confirm", appCode(setup.secret, now), "--json"])) as { codes: string[] };

  await page.goto(server.url + "/");
  await page.getByLabel("User name").fill("carol");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  const code = page.getByLabel("Code");
  await expect(code).toBeVisible();
  await expect(page.getByRole("grid", { name: "Files" })).toBeHidden();
  await code.fill("000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await code.fill(appCode(setup.secret, now + 30));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("grid", { name: "Files" })).toBeVisible();

  // On the devices page: turned off with the password and a code, then on again with a
  // new app (QR code and key), which shows ten recovery codes once.
  await page.goto(server.url + "/devices");
  const card = page.locator("section", { has: page.getByRole("heading", { name: "Two-factor sign-in" }) });
  await expect(card.getByText("On.")).toBeVisible();
  await card.getByRole("button", { name: "Turn off…" }).click();
  await card.getByLabel("Password").fill(PASSWORD);
  await card.getByLabel("Code from the app, or a recovery code").fill("000000");
  await card.getByRole("button", { name: "Turn off", exact: true }).click();
  await expect(card.getByText(/wrong or already used code/i)).toBeVisible();
  await expect(page.getByRole("grid", { name: "Files" })).toBeHidden(); // still here, still signed in
  // (The app's next code was used to sign in; a recovery code stands in.)
  await card.getByLabel("Code from the app, or a recovery code").fill(recovery.codes[0]);
  await card.getByRole("button", { name: "Turn off", exact: true }).click();
  await expect(card.getByText(/^Off\./)).toBeVisible();
  await card.getByRole("button", { name: "Turn on…" }).click();
  await expect(card.getByRole("img", { name: "QR code for the authenticator app" })).toBeVisible();
  const key = (await card.locator("code.cp-key").textContent()) ?? "";
  await card.getByLabel("Code from the app").fill(appCode(key, Math.floor(Date.now() / 1000)));
  await card.getByRole("button", { name: "Turn on", exact: true }).click();
  await expect(card.getByRole("listitem")).toHaveCount(10);
  await expect(card.getByText("10 recovery code(s) left.")).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("two-factor-on.png") });
});

test("signing out everywhere else, and a new password", async ({ page, browser }) => {
  server.addUser("dave");
  const cli = server.cli("dave");
  cli.run(["whoami"]); // the CLI signs in: a second sign-in of the account
  await signIn(page, server, "dave");
  await page.goto(server.url + "/devices");
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Sign out everywhere else" }).click();
  await expect(page.getByText("Signed out 1 other device(s), browser(s) and app password(s).")).toBeVisible();
  expect(() => cli.run(["whoami"])).toThrow(); // its token was revoked

  const card = page.locator("section", { has: page.getByRole("heading", { name: "Password" }) });
  await card.getByLabel("Current password").fill(PASSWORD);
  await card.getByLabel("New password", { exact: true }).fill("a brand new password");
  await card.getByLabel("New password again").fill("a brand new password");
  await card.getByRole("button", { name: "Change password" }).click();
  await expect(card.getByText(/Password changed\./)).toBeVisible();
  await expect(page.getByRole("heading", { name: "Devices", exact: true })).toBeVisible(); // still signed in

  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto(server.url + "/");
  await p2.getByLabel("User name").fill("dave");
  await p2.getByLabel("Password", { exact: true }).fill("a brand new password");
  await p2.getByRole("button", { name: "Sign in" }).click();
  await expect(p2.getByRole("grid", { name: "Files" })).toBeVisible();
  await other.close();
});

test("an app password is shown once, works over HTTP Basic, and is revoked from the devices page", async ({
  page,
  request,
}) => {
  server.addUser("erin");
  await signIn(page, server, "erin");
  await page.goto(server.url + "/devices");
  const card = page.locator("section", { has: page.getByRole("heading", { name: "App passwords", exact: true }) }).first();
  await card.getByLabel("App password name").fill("phone");
  await card.getByLabel(/Read-only/).check();
  await card.getByRole("button", { name: "Create app password" }).click();
  const shown = card.getByTestId("app-password");
  await expect(shown).toBeVisible();
  const password = ((await shown.textContent()) ?? "").trim();
  expect(password).toMatch(/^[a-z0-9]{6}(-[a-z0-9]{6}){4}$/);

  const basic = "Basic " + Buffer.from(`erin:${password}`).toString("base64");
  const stat = server.url + "/api/v1/fs/stat?path=/";
  expect((await request.get(stat, { headers: { authorization: basic } })).status()).toBe(200);
  const mkdir = await request.post(server.url + "/api/v1/fs/mkdir", {
    headers: { authorization: basic },
    data: { path: "/nope" },
  });
  expect(mkdir.status()).toBe(403); // read-only

  const list = page.locator("section", { has: page.getByRole("heading", { name: /^App passwords \d/ }) });
  await expect(list.getByText("Read-only")).toBeVisible();
  page.once("dialog", (d) => void d.accept());
  await list.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("Revoked “phone”.")).toBeVisible();
  expect((await request.get(stat, { headers: { authorization: basic } })).status()).toBe(401);

  // The security log lists what happened, newest first, and filters by kind.
  await page.reload();
  const log = page.locator("section", { has: page.getByRole("heading", { name: "Security log" }) });
  await expect(log.getByRole("cell", { name: "App password made" })).toBeVisible();
  await expect(log.getByRole("cell", { name: "Sign-in revoked" })).toBeVisible();
  await log.getByLabel("Show").selectOption("sign_in");
  await expect(log.getByRole("cell", { name: "App password made" })).toBeHidden();
  await expect(log.getByRole("cell", { name: "Signed in" }).first()).toBeVisible();
});

test("when the administrator requires two-factor sign-in, an account without it sets it up first", async ({
  page,
}) => {
  server.addUser("fred");
  server.admin(["2fa", "require"]);
  try {
    // Every server node follows a change within a second.
    await page.waitForTimeout(1_200);
    await signInUntilHeld(page);
    await expect(page.getByRole("heading", { name: "Set up two-factor sign-in" })).toBeVisible();
    await expect(page.getByRole("grid", { name: "Files" })).toBeHidden();
    const card = page.locator("section", { has: page.getByRole("heading", { name: "Two-factor sign-in" }) });
    await card.getByRole("button", { name: "Turn on…" }).click();
    const key = (await card.locator("code.cp-key").textContent()) ?? "";
    await card.getByLabel("Code from the app").fill(appCode(key, Math.floor(Date.now() / 1000)));
    await card.getByRole("button", { name: "Turn on", exact: true }).click();
    await expect(card.getByRole("listitem")).toHaveCount(10);
    await page.getByRole("button", { name: "Continue to my files" }).click();
    await expect(page.getByRole("grid", { name: "Files" })).toBeVisible();
  } finally {
    server.admin(["2fa", "optional"]);
    await page.waitForTimeout(1_200);
  }

  async function signInUntilHeld(p: typeof page) {
    await p.goto(server.url + "/");
    await p.getByLabel("User name").fill("fred");
    await p.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await p.getByRole("button", { name: "Sign in" }).click();
  }
});

test("the main pages have no serious or critical accessibility violations", async ({ browser }) => {
  // axe-core is put into the page by the test: the app's policy forbids that, rightly.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const axe = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  const check = async (what: string) => {
    await page.addScriptTag({ content: axe });
    const found = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: () => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe.run();
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(bad, `${what}: ${JSON.stringify(bad)}`).toEqual([]);
  };
  await page.goto(server.url + "/");
  await check("sign-in page");
  await signIn(page, server, "alice");
  await page.goto(server.url + "/files/Holiday");
  await expect(row(page, "notes.md")).toBeVisible();
  await check("file list");
  await page.getByRole("link", { name: "Trash" }).click();
  await check("trash");
  for (const theme of ["dark", "light"]) {
    await page.emulateMedia({ colorScheme: theme as "dark" | "light" });
    await page.goto(server.url + "/files/Holiday");
    await expect(row(page, "notes.md")).toBeVisible();
    await check(`file list, ${theme}`);
  }
  await context.close();
});
