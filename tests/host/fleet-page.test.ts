// The live fleet page in a real browser: Debian's Chromium, headless, driven
// by playwright-core. Judged by the page's own DOM (data-xid, data-root,
// data-node, data-parent, data-mac, data-progress: docs/WEB.md) and its
// console, not by the server's word.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { runFleetProcesses } from "../../host/phone/fleet.js";
import { FleetView } from "../../host/view/fleet-view.js";
import type { ComponentState, PhoneReport } from "../../host/view/report.js";
import { watchFleet } from "../../host/web/fleet-watch.js";
import { serveFleetPage, WEB_DIR } from "../../host/web/server.js";
import { freeUdpPort } from "../support/ports.js";

/** Where the screenshot goes (the README shows it). */
const SCREENSHOT = join(WEB_DIR, "../fleet-page.png");

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

function whyNot(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (Debian's chromium package; tests/support/debian-deps.sh installs it)`;
  if (!existsSync(join(WEB_DIR, "app.js"))) return `the page is not built (${WEB_DIR}): run make build`;
  return null;
}

/** A fresh browser profile in a temp dir, and the page's console errors. */
async function openBrowser(t: TestContext): Promise<{ ctx: BrowserContext; page: Page; errors: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), "pfs-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
  t.after(async () => {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return { ctx, page, errors };
}

const XID = "XID0A1B2C3D";
const MACS = ["001BD4000001", "001BD4000002", "001BD4000003"];

function report(i: number, atMs: number, c: Partial<ComponentState>, extra: Partial<PhoneReport> = {}): PhoneReport {
  return {
    atMs, mac: MACS[i], ip: `10.0.0.${i + 1}`, load: "SCCP41.9-4-2",
    component: { xid: XID, model: "CP-7961G", file: "apps41.sbn", role: "attached", held: 0, size: 65536, parent: "", depth: 1, wan: 0, done: false, ...c },
    ...extra,
  };
}

test("the page draws a hierarchy from synthetic reports and redraws it as a phone re-parents", async (t) => {
  const reason = whyNot();
  if (reason !== null) return t.skip(reason);
  const view = new FleetView();
  const web = await serveFleetPage({ host: "127.0.0.1", port: 0 }, view);
  t.after(() => web.close());
  const { page, errors } = await openBrowser(t);
  // Before any report: the page loads with nothing in it.
  await page.goto(web.url);
  await page.waitForSelector('#link[data-state="live"]');
  view.apply(report(0, 0, { role: "root", depth: 0, wan: 65536 }, { event: "root" }));
  view.apply(report(1, 100, { parent: "10.0.0.1", held: 16384 }));
  view.apply(report(2, 200, { parent: "10.0.0.2", depth: 2, held: 0 }));
  const node = (mac: string, parent: string) => `[data-xid="${XID}"] [data-node="${mac}"][data-parent="${parent}"]`;
  await page.waitForSelector(`[data-xid="${XID}"][data-root="${MACS[0]}"]`, { state: "attached" });
  await page.waitForSelector(node(MACS[2], MACS[1]), { state: "attached" });
  assert.equal(await page.getAttribute(`[data-mac="${MACS[1]}"]`, "data-progress"), "25");
  // Phone 2 loses its parent and re-joins under the root.
  view.apply(report(2, 300, { parent: "", role: "joining", depth: 0 }, { event: "parentLost" }));
  await page.waitForSelector(node(MACS[2], ""), { state: "attached" });
  view.apply(report(2, 400, { parent: "10.0.0.1", depth: 1, held: 65536, done: true }, { event: "loadDone" }));
  await page.waitForSelector(node(MACS[2], MACS[0]), { state: "attached" });
  await page.waitForSelector(`[data-mac="${MACS[2]}"][data-progress="100"]`, { state: "attached" });
  const events = await page.$$eval("#events li", (li) => li.map((e) => (e as HTMLElement).dataset.event));
  assert.deepEqual(events, ["loadDone", "parentLost", "root"], "newest first");
  assert.equal(await page.$$eval("[data-mac][data-progress]", (e) => e.length), 3);
  // A second page opened now gets the same picture from its first snapshot.
  const second = await page.context().newPage();
  await second.goto(web.url);
  await second.waitForSelector(node(MACS[2], MACS[0]), { state: "attached" });
  await second.close();
  assert.deepEqual(errors, []);
});

test("the page server: 404 and 405 with one line, the snapshot as JSON, the bundle with no outside URL", async (t) => {
  const reason = whyNot();
  if (reason !== null) return t.skip(reason);
  const view = new FleetView();
  view.apply(report(0, 0, { role: "root", depth: 0 }));
  const web = await serveFleetPage({ host: "127.0.0.1", port: 0 }, view);
  t.after(() => web.close());
  const missing = await fetch(new URL("/no/such/page", web.url));
  assert.equal(missing.status, 404);
  const body = await missing.text();
  assert.match(body, /^not found: \/no\/such\/page\n$/);
  const post = await fetch(web.url, { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.equal((await post.text()).split("\n").filter((l) => l !== "").length, 1);
  const snap = (await (await fetch(new URL("/snapshot.json", web.url))).json()) as { phones: Array<{ mac: string }>; hierarchies: Array<{ root: string }> };
  assert.deepEqual(snap.phones.map((p) => p.mac), [MACS[0]]);
  assert.equal(snap.hierarchies[0].root, MACS[0]);
  for (const path of ["/", "/app.js", "/app.css"]) {
    const r = await fetch(new URL(path, web.url));
    assert.equal(r.status, 200, path);
    // Nothing fetched from elsewhere: no absolute URL a browser would load.
    assert.doesNotMatch(await r.text(), /(src|href)=["']?(https?:)?\/\//, path);
  }
});

/** Roots linger this long after their own upgrade: long enough that the
 *  trees still stand when the last phone of the tiny load reaches 100 and the
 *  page is read (on loopback they all finish within a second or two). */
const FLEET_LINGER_SEC = 10;
/** How long the page may take, once every phone shows 100, to show each
 *  tree's top: the election's 1.25 s and a yield's walk, well within the
 *  roots' linger. */
const TREE_TOP_WAIT_MS = 5000;

test("a 12-phone loopback fleet logging to our receiver: the page shows 12 phones, one root per hierarchy, all reaching 100", async (t) => {
  const reason = whyNot();
  if (reason !== null) return t.skip(reason);
  const malformed: string[] = [];
  const watch = await watchFleet({ web: { host: "127.0.0.1", port: 0 }, listen: { host: "127.0.0.1", port: 0 }, onMalformed: (_raw, why) => malformed.push(why) });
  t.after(() => watch.close());
  const { page, errors } = await openBrowser(t);
  await page.goto(watch.url);
  await page.waitForSelector('#link[data-state="live"]');
  const phones = 12;
  const models = 2;
  const running = runFleetProcesses({
    phones, models, load: "tiny", port: await freeUdpPort(), lingerSec: FLEET_LINGER_SEC, pfs: true, tftpWindow: 1, verbose: false, out: () => {},
    logServer: watch.logServer,
  });
  // Read the page once every phone shows 100, while the roots still linger;
  // if the fleet ends first, once the page has drawn the view's last version
  // (and then what it shows is judged as it is).
  const allAt100 = page.waitForFunction(
    (n) => [...document.querySelectorAll("[data-mac][data-progress]")].filter((e) => (e as HTMLElement).dataset.progress === "100").length === n,
    phones, { timeout: 0, polling: 200 },
  );
  allAt100.catch(() => {});
  if (!(await Promise.race([allAt100.then(() => true), running.then(() => false)]))) {
    await page.waitForFunction((v) => Number(document.body.dataset.version) >= v, watch.view.currentVersion, { timeout: 0, polling: 100 });
  } else {
    // The tiny load can be everywhere before its election ends (a tentative
    // root carries it from its Ad 1, and a claimant that yields moves its
    // tree under the winner): give every tree its top, within the roots'
    // linger, before the page is read.
    await page.waitForFunction(() => [...document.querySelectorAll("[data-xid][data-root]")].every((e) => (e as HTMLElement).dataset.root !== ""),
      undefined, { timeout: TREE_TOP_WAIT_MS, polling: 200 }).catch(() => {});
  }
  const shown = await page.$$eval("[data-mac][data-progress]", (e) => e.map((x) => {
    const d = (x as HTMLElement).dataset;
    return { mac: d.mac!, progress: d.progress!, role: d.role! };
  }));
  const trees = await page.$$eval("[data-xid][data-root]", (e) => e.map((x) => ({ xid: (x as HTMLElement).dataset.xid!, root: (x as HTMLElement).dataset.root! })));
  const rootClasses = await Promise.all(trees.map((h) => (h.root === "" ? null : page.getAttribute(`[data-xid="${h.xid}"] [data-node="${h.root}"]`, "class"))));
  // The screenshot the README shows: every phone done, the trees still up.
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  const fleet = await running;
  assert.deepEqual(fleet.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind}: ${p.lines.slice(-2).join(" | ")}`), []);
  assert.equal(shown.length, phones);
  assert.deepEqual(shown.map((s) => s.mac).sort(), fleet.phones.map((p) => p.mac).sort());
  assert.deepEqual(shown.filter((s) => s.progress !== "100"), [], "every phone at 100");
  // Three files per model in the tiny load, a hierarchy each.
  assert.equal(trees.length, 3 * models);
  trees.forEach((h, i) => {
    assert.match(h.xid, /^XID[0-9A-F]{8}$/);
    assert.notEqual(h.root, "", `${h.xid} has a root: ${JSON.stringify(watch.view.snapshot().hierarchies.find((x) => x.xid === h.xid)?.members.map((m) => [m.mac.slice(-4), m.role, m.parent.slice(-4)]))}`);
    // That MAC's node in this tree is drawn as root, and its phone's card
    // says root: confirmed, or still claiming with children (a tentative
    // root may carry the tiny load before it confirms, PROTOCOL.md §6.3).
    assert.match(rootClasses[i] ?? "", /role-(root|claiming)/, `${h.xid}: ${h.root} drawn as root`);
    assert.match(shown.find((s) => s.mac === h.root)?.role ?? "", /^(root|claiming)$/, `${h.root}'s card says root`);
  });
  // Once the page has drawn every report, its WAN figure is what our server
  // itself counts as sent of the components (block lists and files; the
  // index and the configs are not the component fetches phones count).
  await page.waitForFunction((v) => Number(document.body.dataset.version) >= v, watch.view.currentVersion, { timeout: 0, polling: 100 });
  const served = fleet.reads.filter((r) => !r.file.endsWith(".loads") && !r.file.endsWith(".cnf.xml")).reduce((sum, r) => sum + r.bytes, 0);
  assert.ok(served > 0, "the server sent the components");
  assert.equal(Number(await page.getAttribute("#wan", "data-wan-bytes")), served, "the page's WAN bytes are the server's");
  assert.deepEqual(malformed, [], "every phone's datagrams parsed");
  assert.deepEqual(errors, []);
});
