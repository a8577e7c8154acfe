// A mixed fleet (issue 11): C phones (build/native/pfs-phone) and Node
// phones (`pfs phone`) of two models, on real loopback sockets, with the
// same flags, flash images and servers.
//   - From our TFTP server, whose own list of read requests says who read
//     what: one model's first phone to boot is a C phone, the other's a Node
//     phone; each becomes its model's root, the only phone to read the
//     model's files from the server, so every phone of the other kind of
//     that model got its bytes through it; and tree links join C and Node
//     phones both ways (the "Joined parent=" lines).
//   - A C phone killed with kill -9 in the middle of its transfer: everybody
//     else finishes (it is not restarted).
//   - From tftpd-hpa: everybody finishes.
// Every image is checked against the server's files (tests/support/images.ts).
// The first fleet runs again on C phones built with
// -fsanitize=address,undefined (build/native/asan/pfs-phone): any report
// ends a phone with an error exit. PFS_NATIVE_ASAN=1 (`make
// test-native-asan`) runs every fleet here on that build.

import { after, test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { fleetPhones, FleetRunOptions, FleetRunResult, NATIVE_PHONE_BIN, PhoneRun, runFleetProcesses } from "../../host/phone/fleet.js";
import { ROOT } from "../support/native.js";
import { assertBootsServerLoad } from "../support/images.js";
import { ensurePhoneTool } from "../support/native.js";
import { IN_TFTPD, startTftpd, tftpdHpaArgs } from "../support/tftpd.js";

/** One PFS port per test process, below the ephemeral ports (fleet-flood.test.ts). */
const PORT = 20000 + (process.pid % 12000);
const PHONES = 12;
const MODELS = 2;
/** The C phones: 1, 2, 5, 6, 9, 10. A phone's model is its index mod 2
 *  (fleet.ts fleetPhones), so each model has 3 C phones and 3 Node phones. */
const isNative = (i: number) => i % 4 === 1 || i % 4 === 2;
/** Phones 0 (Node, model 0) and 1 (C, model 1) boot first; the others this
 *  much later, once the two are confirmed roots and fetching. */
const LATE_MS = 4000;
/** Seconds every phone serves after it finished, in the roots test: the
 *  late phones take about 5 s to finish here (up to 3 times that on a
 *  loaded machine). */
const ROOT_LINGER_S = 15;
const TEST_TIMEOUT_MS = 300_000;

const work = mkdtempSync(join(tmpdir(), "pfs-mixed-"));
after(() => rmSync(work, { recursive: true, force: true }));

const ASAN_ALL = process.env.PFS_NATIVE_ASAN === "1";
const PLAIN = { target: "build/native/pfs-phone", bin: NATIVE_PHONE_BIN };
const CHECKED = { target: "build/native/asan/pfs-phone", bin: join(ROOT, "build/native/asan/pfs-phone") };
type Build = typeof PLAIN;
const DEFAULT_BUILD: Build = ASAN_ALL ? CHECKED : PLAIN;
// The C phones inherit these: every sanitizer report is fatal, leaks too.
process.env.ASAN_OPTIONS = "exitcode=99:detect_leaks=1";
process.env.UBSAN_OPTIONS = "halt_on_error=1:exitcode=98:print_stacktrace=1";

const whyNot = (build: Build = DEFAULT_BUILD): string | null => ensurePhoneTool(build.target);

async function mixedFleet(name: string, extra: Partial<FleetRunOptions> = {}, build: Build = DEFAULT_BUILD): Promise<{ run: FleetRunResult; root: string }> {
  const workDir = join(work, name);
  const run = await runFleetProcesses({
    phones: PHONES, models: MODELS, load: "tiny", port: PORT, lingerSec: 3, pfs: true, tftpWindow: 1, wanKbps: 400, wanRttMs: 20,
    verbose: false, out: () => {}, workDir, native: { bin: build.bin, phones: isNative }, ...extra,
  });
  return { run, root: extra.root ?? join(workDir, "tftp") };
}

const failures = (phones: PhoneRun[]) => phones.filter((p) => p.exit !== 0).map((p) => `${p.bind} (${p.native ? "C" : "node"}) exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);

/** Tree links seen: child -> parent addresses, from "Joined parent=" lines. */
function links(phones: PhoneRun[]): Array<{ child: PhoneRun; parent: PhoneRun }> {
  const byAddr = new Map(phones.map((p) => [p.bind, p]));
  const out: Array<{ child: PhoneRun; parent: PhoneRun }> = [];
  for (const child of phones) {
    for (const l of child.lines) {
      const m = /Joined parent=(\S+)/.exec(l);
      const parent = m === null ? undefined : byAddr.get(m[1]);
      if (parent !== undefined) out.push({ child, parent });
    }
  }
  return out;
}

async function rootsBothWays(t: TestContext, name: string, build: Build): Promise<void> {
  const reason = whyNot(build);
  if (reason !== null) return t.skip(reason);
  // The first two linger until the late ones surely hold everything: a
  // root that left before would make a late phone root, and it would read
  // the files again (rightly).
  const { run, root } = await mixedFleet(name, { startAfterMs: (i) => (i <= 1 ? 0 : LATE_MS), lingerSec: ROOT_LINGER_S }, build);
  assert.deepEqual(failures(run.phones), []);
  for (const p of run.phones) assertBootsServerLoad(p.flash, p.mac, root, `${p.bind} (${p.native ? "C" : "node"})`);
  // Who read each model's firmware from the server: its first phone only.
  const files = readdirSync(root).filter((f) => f.endsWith(".sbn"));
  for (const first of [run.phones[0], run.phones[1]]) {
    const mine = run.reads.filter((r) => files.includes(r.file) || files.some((f) => r.file === `${f}.blk`));
    const readers = new Set(mine.filter((r) => run.phones.find((p) => p.bind === r.client)?.model === first.model).map((r) => r.client));
    assert.deepEqual([...readers], [first.bind], `${first.model}: read from the server by ${[...readers].join(", ")}, not only by its first phone ${first.bind} (${first.native ? "C" : "node"})`);
  }
  const seen = links(run.phones);
  const cToNode = seen.filter((l) => l.parent.native && !l.child.native).length;
  const nodeToC = seen.filter((l) => !l.parent.native && l.child.native).length;
  t.diagnostic(`${seen.length} joins: ${cToNode} Node phones under a C parent, ${nodeToC} C phones under a Node parent; ${(run.wallMs / 1000).toFixed(1)} s`);
  assert.ok(cToNode >= 1 && nodeToC >= 1, "tree links between C and Node phones both ways");
}

test(`${PHONES} phones of ${MODELS} models, half of them C phones: a C root feeds Node phones, a Node root feeds C phones, all images checked`, { timeout: TEST_TIMEOUT_MS }, (t) =>
  rootsBothWays(t, "roots", DEFAULT_BUILD));

test("the same fleet with the C phones built with -fsanitize=address,undefined: no report, all images checked", { timeout: TEST_TIMEOUT_MS }, (t) =>
  rootsBothWays(t, "roots-asan", CHECKED));

test("a C phone killed with kill -9 in the middle of its transfer: everybody else finishes", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = whyNot();
  if (reason !== null) return t.skip(reason);
  const victim = 5; // a C phone, model 1, booting with the others
  let killedAt: string | null = null;
  const { run, root } = await mixedFleet("kill", {
    onLine: (p, line) => {
      // Mid-transfer: a component on its way, not yet all of them.
      if (p.index !== victim || killedAt !== null || !/ DLoad: \S+ +[1-9][0-9]?% /.test(line)) return;
      if (p.kill()) killedAt = line;
    },
  });
  assert.ok(killedAt !== null, `phone ${victim} was never seen mid-transfer (its lines: ${run.phones[victim].lines.slice(-3).join(" | ")})`);
  t.diagnostic(`killed ${run.phones[victim].bind} (C) at: ${killedAt}`);
  const others = run.phones.filter((p) => p.index !== victim);
  assert.deepEqual(failures(others), []);
  for (const p of others) assertBootsServerLoad(p.flash, p.mac, root, `${p.bind} (${p.native ? "C" : "node"})`);
});

test(`${PHONES} mixed phones upgrade from tftpd-hpa, every image checked`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = whyNot() ?? (existsSync(IN_TFTPD) ? null : "tftpd-hpa is not unpacked (tests/support/debian-deps.sh does it as root)");
  if (reason !== null) return t.skip(reason);
  const root = join(work, "hpa-root");
  const phones = fleetPhones(PHONES, MODELS);
  for (const model of ["CP-7961G", "CP-7941G"]) {
    makeTftpRoot({ outDir: root, model, preset: "tiny", macs: phones.filter((p) => p.model === model).map((p) => p.mac), pfs: { enterprise: true } });
  }
  chmodSync(root, 0o755);
  for (const f of readdirSync(root)) chmodSync(join(root, f), 0o644); // tftpd-hpa serves world-readable files only
  const tftpd = await startTftpd(IN_TFTPD, tftpdHpaArgs(root), "XMLDefault.cnf.xml");
  try {
    const { run } = await mixedFleet("hpa", { tftp: { host: "127.0.0.1", port: tftpd.port }, root });
    assert.deepEqual(failures(run.phones), []);
    for (const p of run.phones) assertBootsServerLoad(p.flash, p.mac, root, `${p.bind} (${p.native ? "C" : "node"})`);
  } finally {
    await tftpd.stop();
  }
});
