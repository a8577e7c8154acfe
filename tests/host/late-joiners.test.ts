// Late joiners on real sockets (issue 12, section 5): 8 `pfs phone`
// processes upgrade through PFS from our TFTP server and linger; 4 more boot
// LATE_MS after the last of the 8 logged its load verified. They are served
// from the LAN: the server's own list of read requests holds each component
// once (the first round's root) and no read by a late phone. The same fleet
// with no linger shows that the lingering is what serves them: the late
// phones, finding nobody, read every component from the server themselves.
// Every image is checked against the server's files.

import { test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FleetRunResult, PhoneRun, runFleetProcesses } from "../../host/phone/fleet.js";
import { assertBootsServerLoad } from "../support/images.js";
import { freeUdpPort } from "../support/ports.js";

const FIRST = 8;
const LATE = 4;
/** The late phones boot this long after the first round finished (the 10 s). */
const LATE_MS = 10_000;
/** Seconds every phone serves after its upgrade when lingering: the late
 *  phones boot LATE_MS after the first round and take a few seconds to
 *  finish (the tiny load over loopback; a loaded machine takes several
 *  times that), so the first round is surely still there. */
const LINGER_S = 30;
const TEST_TIMEOUT_MS = 240_000;
/** How often the gate looks for a first phone that ended early. */
const GATE_POLL_MS = 500;
const VERIFIED = / DLoad: load \S+ verified in flash and active /;
/** A Node phone's failure line on stderr (docs/CONSOLE.md, Failures). */
const FAILED = /^pfs phone: /;

const failures = (phones: PhoneRun[]) => phones.filter((p) => p.exit !== 0).map((p) => `${p.bind} exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);

/** 12 phones, one model: the first FIRST boot at once, the others LATE_MS
 *  after every one of them logged its load verified (or one failed). */
async function lateFleet(t: TestContext, lingerSec: number): Promise<{ run: FleetRunResult; root: string; late: Set<string>; order: Order }> {
  const workDir = mkdtempSync(join(tmpdir(), "pfs-late-"));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  let verified = 0;
  const order: Order = { lastVerified: -1, firstLate: -1 };
  let seen = 0;
  let release: () => void = () => {};
  const firstDone = new Promise<void>((resolve) => (release = resolve));
  const gate = firstDone.then(() => new Promise<void>((r) => setTimeout(r, LATE_MS)));
  // A first phone that ends before it verified (a crash prints no failure
  // line) opens the gate too: the assertions then say what went wrong.
  const first = new Set<PhoneRun>();
  const watch = setInterval(() => {
    if ([...first].some((p) => p.exit !== null)) release();
  }, GATE_POLL_MS);
  const run = await runFleetProcesses({
    workDir, phones: FIRST + LATE, models: 1, load: "tiny", port: await freeUdpPort(), lingerSec, pfs: true, tftpWindow: 1,
    wanKbps: 400, wanRttMs: 20, verbose: false, out: () => {},
    startWhen: (i) => (i < FIRST ? undefined : gate),
    onLine: (p, line) => {
      seen++;
      if (p.index < FIRST) first.add(p);
      if (p.index >= FIRST) {
        if (order.firstLate < 0) order.firstLate = seen;
        return;
      }
      if (FAILED.test(line)) release(); // the assertions below say which
      else if (VERIFIED.test(line)) {
        order.lastVerified = seen;
        if (++verified === FIRST) release();
      }
    },
  }).finally(() => clearInterval(watch));
  const late = new Set(run.phones.filter((p) => p.index >= FIRST).map((p) => p.bind));
  return { run, root: join(workDir, "tftp"), late, order };
}

/** Where in the fleet's output (all phones' lines, as they came) the last
 *  first-round verified line and the first late phone's line are. */
interface Order {
  lastVerified: number;
  firstLate: number;
}

/** Reads of the load's components (files and block lists) from the server. */
function componentReads(run: FleetRunResult, root: string): Array<{ file: string; client: string }> {
  const sbn = readdirSync(root).filter((f) => f.endsWith(".sbn"));
  assert.ok(sbn.length > 0, `no component in ${root}`);
  return run.reads.filter((r) => sbn.includes(r.file) || sbn.some((f) => r.file === `${f}.blk`));
}

/** The late phones really booted after the first round had finished: the
 *  first late line comes after every first phone's verified line (read from
 *  the processes' own output, in the order the fleet saw it). */
function assertLateAfterFirst(run: FleetRunResult, order: Order): void {
  for (const p of run.phones.slice(0, FIRST)) assert.ok(p.lines.some((l) => VERIFIED.test(l)), `${p.bind} never logged its load verified`);
  for (const p of run.phones.slice(FIRST)) assert.ok(p.starts === 1 && p.lines.length > 0, `${p.bind} never ran`);
  assert.ok(order.lastVerified > 0 && order.firstLate > order.lastVerified, `a late phone spoke (line ${order.firstLate}) before the first round finished (line ${order.lastVerified})`);
}

test(`${LATE} phones booting ${LATE_MS / 1000} s after ${FIRST} finished are served by the lingering ones: no server read after the first round`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { run, root, late, order } = await lateFleet(t, LINGER_S);
  assert.deepEqual(failures(run.phones), []);
  assertLateAfterFirst(run, order);
  for (const p of run.phones) assertBootsServerLoad(p.flash, p.mac, root, p.bind);
  const reads = componentReads(run, root);
  const byLate = reads.filter((r) => late.has(r.client));
  assert.deepEqual(byLate, [], "late phones read from the server");
  // Each component and block list once, by the first round's root.
  const perFile = new Map<string, number>();
  for (const r of reads) perFile.set(r.file, (perFile.get(r.file) ?? 0) + 1);
  for (const [file, n] of perFile) assert.equal(n, 1, `${file}: ${n} reads`);
  for (const p of run.phones.slice(FIRST)) {
    for (const [name, c] of p.components) assert.equal(c.via, "PFS", `${p.bind} ${name}`);
  }
  t.diagnostic(`${reads.length} component reads, all by ${[...new Set(reads.map((r) => r.client))].join(", ")}; ${(run.wallMs / 1000).toFixed(1)} s`);
});

test("the same fleet with no linger: the late phones find nobody and read every component from the server", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { run, root, late, order } = await lateFleet(t, 0);
  assert.deepEqual(failures(run.phones), []);
  assertLateAfterFirst(run, order);
  for (const p of run.phones) assertBootsServerLoad(p.flash, p.mac, root, p.bind);
  const reads = componentReads(run, root);
  const files = new Set(reads.map((r) => r.file));
  for (const file of files) {
    const who = reads.filter((r) => r.file === file);
    assert.ok(who.some((r) => !late.has(r.client)), `${file}: the first round never read it`);
    assert.ok(who.some((r) => late.has(r.client)), `${file}: no late phone read it from the server`);
  }
});
