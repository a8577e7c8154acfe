// A phone process attacked on its real sockets while it upgrades (issue 10,
// 5 and 5b), by an attacker process on 127.0.0.1 (tests/support/attacker.ts):
//   - 200,000 datagrams into its UDP 4051 as fast as loopback takes them
//     (half random, half well-formed-looking for its real XIDs) while 500 TCP
//     connections are held idle on its port, then garbage and absurd frame
//     lengths on every one still open: its peak RSS and its descriptors stay
//     under stated bounds, its console gets a drop summary per interval, not
//     a line per drop, and every phone finishes its upgrade;
//   - 500 connections re-opened as fast as they close, for the whole upgrade:
//     the upgrade takes about as long as without them.
// Success is what the test reads itself: the flash images and /proc.
// PFS_FLOOD_LONG=1 (make fuzz) churns for 60 s, an upgrade of the real-sized
// load long.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DROP_SUMMARY_INTERVAL_MS } from "../../host/log/throttle.js";
import { Attack, AttackedRun, attackedFleet as attackedFleetIn, TARGET } from "../support/attacked-fleet.js";
import { flashBoots } from "../support/phone-proc.js";

const LONG = process.env.PFS_FLOOD_LONG === "1";
/** The fleet's PFS port, one per test process: two runs of this test at once
 *  (two people's `make test` on one machine) would otherwise hear each other.
 *  Below the kernel's ephemeral ports (32768 up). */
const PORT = 20000 + (process.pid % 12000);
/** A fleet that hangs fails the test instead of holding up the suite. */
const TEST_TIMEOUT_MS = LONG ? 600_000 : 180_000;
/** Measured peaks of the phone's process: 61 MB upgrading undisturbed, 84 MB
 *  under the flood, up to 110 MB under churn (V8 keeps the garbage of a few
 *  thousand sockets a second for a while; over 60 s of churn it levels off
 *  at 96-110 MB, it does not grow). */
const RSS_BOUND_KB = 150 * 1024;
/** Its own sockets (2 UDP, the listener, TFTP), Node's (about 20), and at
 *  most maxStreams (40) streams with some lingering after a close. */
const FD_BOUND = 80;
/** An upgrade under churn may take this much longer than without. */
const CHURN_SLOWDOWN_MAX = 1.5;

const work = mkdtempSync(join(tmpdir(), "pfs-flood-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The flood and churn fleets, each in a folder of its own. */
const attackedFleet = (name: string, load: string, wanKbps: number, attacks: Attack[]): Promise<AttackedRun> =>
  attackedFleetIn({ workDir: join(work, name), port: PORT, load, wanKbps, attacks, seed: 4051 });

/** Every phone exited 0 and its image, read here, boots the new load. */
function allUpgraded(r: AttackedRun, loadName: string): void {
  const bad = r.run.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind} exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);
  assert.deepEqual(bad, []);
  for (const p of r.run.phones) assert.deepEqual(flashBoots(p.flash), { loadName, verified: true }, p.bind);
}

test("a UDP flood and 500 idle connections, then garbage on them, during an upgrade: bounded memory and descriptors, and it finishes", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const alsoFrom = Array.from({ length: 16 }, (_, i) => `127.0.1.${i + 1}`);
  const r = await attackedFleet("flood", "tiny", 200, [
    { flood: { datagrams: 200_000 } },
    { idle: { connections: 500, holdMs: 3000 }, alsoFrom },
    { garbage: { connections: 200 }, alsoFrom },
  ]);
  t.diagnostic(`attacker: ${JSON.stringify(r.report)}`);
  t.diagnostic(`target ${TARGET}: peak RSS ${(r.figures.peakRssKb / 1024).toFixed(1)} MB, at most ${r.figures.maxFds} fds (${r.figures.samples} samples); ` +
    `upgrade done in ${(r.upgradeMs / 1000).toFixed(1)} s`);
  allUpgraded(r, "SCCP41.TINY");
  assert.equal(r.report.datagramsSent, 200_000);
  assert.equal(r.report.idleConnected, 500, "the kernel completed every connection (the phone then closed most at once)");
  assert.ok((r.report.garbageWrites ?? 0) >= 100, "garbage and absurd lengths reached the phone");
  assert.equal(r.report.garbageClosedByPhone, 200, "the phone closed every connection that sent garbage");
  assert.ok(r.figures.samples > 10);
  assert.ok(r.figures.peakRssKb < RSS_BOUND_KB, `peak RSS ${r.figures.peakRssKb} KiB`);
  assert.ok(r.figures.maxFds < FD_BOUND, `${r.figures.maxFds} fds`);
  // One drop summary per interval, not one line per drop.
  const dropLines = r.target.lines.filter((l) => /Dropped malformed/.test(l));
  const spanS = r.target.ms / 1000;
  t.diagnostic(`target's drop lines: ${dropLines.length} in ${spanS.toFixed(0)} s; last: ${dropLines.at(-1)}`);
  assert.ok(dropLines.length >= 1 && dropLines.length <= Math.ceil((spanS * 1000) / DROP_SUMMARY_INTERVAL_MS) + 2, `${dropLines.length} drop lines`);
  assert.ok(r.target.lines.length < 2000, `${r.target.lines.length} console lines`);
  assert.doesNotMatch(r.target.lines.join("\n"), /: \d+$|\(unnamed\)/m, "every drop reason has a name");
});

test("500 connections re-opened as fast as they close: the upgrade takes about as long as without them", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Long: the real load (8.1 MB) over 1200 kbit/s, about 60 s, all of it
  // under churn. Short: the tiny load over 200 kbit/s, about 6 s.
  const load = LONG ? "cp7961-9.4.2" : "tiny";
  const wanKbps = LONG ? 1200 : 200;
  const quiet = await attackedFleet("quiet", load, wanKbps, []);
  const churned = await attackedFleet("churn", load, wanKbps, [{ churn: { connections: 500, durationMs: LONG ? 60_000 : 30_000 } }]);
  const rate = (churned.report.churnConnects ?? 0) / Math.max(1, (churned.report.churnMs ?? 1) / 1000);
  t.diagnostic(`upgrade ${(quiet.upgradeMs / 1000).toFixed(1)} s quiet, ${(churned.upgradeMs / 1000).toFixed(1)} s under churn ` +
    `(${churned.report.churnConnects} connects in ${((churned.report.churnMs ?? 0) / 1000).toFixed(1)} s, ${rate.toFixed(0)}/s); ` +
    `target under churn: peak RSS ${(churned.figures.peakRssKb / 1024).toFixed(1)} MB, at most ${churned.figures.maxFds} fds; ` +
    `quiet: ${(quiet.figures.peakRssKb / 1024).toFixed(1)} MB, ${quiet.figures.maxFds} fds`);
  const loadName = LONG ? "SCCP41.9-4-2SR2-2S" : "SCCP41.TINY";
  allUpgraded(quiet, loadName);
  allUpgraded(churned, loadName);
  assert.ok((churned.report.churnConnects ?? 0) > 1000, "the churn ran");
  const children = churned.target.lines.filter((l) => /\|child=/.test(l)).length;
  t.diagnostic(`target under churn: ${children} children joined it`);
  assert.ok(children >= 1, "real joins reached the phone under churn");
  assert.ok(churned.upgradeMs <= quiet.upgradeMs * CHURN_SLOWDOWN_MAX + 1000, `${churned.upgradeMs} ms vs ${quiet.upgradeMs} ms`);
  assert.ok(churned.figures.maxFds < FD_BOUND, `${churned.figures.maxFds} fds`);
  assert.ok(churned.figures.peakRssKb < RSS_BOUND_KB, `peak RSS ${churned.figures.peakRssKb} KiB`);
});
