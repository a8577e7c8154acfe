// Forged roots on real sockets (issue 10, 5b): while a fleet of phone
// processes upgrades, an attacker process broadcasts ROOT_ADs claiming the
// strongest root there is (strength ffffffff) for the load's real XIDs every
// 2 s, from an address nobody listens on and from a new address each time.
// A strength is only a claim (assembly/merge.ts): a root keeps its server
// fetch until a stronger root has taken it and delivered checked bytes, so
// the forgeries cost nothing but a try each. Judged by what the test reads
// itself: every flash image against the server's files, and the server's
// own list of read requests (a root that gave up its fetch to a forgery
// would fetch again, and again).

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { ipToU32 } from "../../host/phone/addr.js";
import { FleetRunResult, runFleetProcesses } from "../../host/phone/fleet.js";
import type { AttackPlan, AttackReport } from "../support/attacker.js";
import { xidOf } from "../support/fuzz-wire.js";
import { assertBootsServerLoad } from "../support/images.js";

const ATTACKER = join(dirname(fileURLToPath(import.meta.url)), "../support/attacker.js");
/** One PFS port per test process, below the ephemeral ports (fleet-flood.test.ts). */
const PORT = 20000 + (process.pid % 12000);
const PHONES = 6;
const MODEL = "CP-7961G";
const LOAD = "tiny";
/** Slow enough that the roots fetch for several forging rounds (the tiny
 *  load is about 85 kB with its block lists: some 4 s at this rate). */
const WAN_KBPS = 160;
/** The fixed forger: an address no phone has and nobody listens on. */
const FORGER = "127.0.0.250";
/** Server reads a file may see beyond the first: roots elected at once
 *  before they hear each other each start a fetch (the simulator's
 *  WAN_ELECTION_SLACK). A root that yields to forgeries fetches again each
 *  time it re-elects itself: dozens. */
const EXTRA_READS_MAX = 2;
const TEST_TIMEOUT_MS = 240_000;

const work = mkdtempSync(join(tmpdir(), "pfs-forged-"));
after(() => rmSync(work, { recursive: true, force: true }));

async function fleet(name: string): Promise<{ run: FleetRunResult; tftpRoot: string }> {
  const workDir = join(work, name);
  const run = await runFleetProcesses({
    phones: PHONES, models: 1, load: LOAD, port: PORT, lingerSec: 3, pfs: true, tftpWindow: 1, wanKbps: WAN_KBPS, wanRttMs: 20,
    verbose: false, out: () => {}, workDir,
  });
  return { run, tftpRoot: join(workDir, "tftp") };
}

function allBootServerLoad(r: { run: FleetRunResult; tftpRoot: string }): void {
  const bad = r.run.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind} exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);
  assert.deepEqual(bad, []);
  for (const p of r.run.phones) assertBootsServerLoad(p.flash, p.mac, r.tftpRoot, p.bind);
}

/** The most read requests the server saw for one firmware file. */
const mostReads = (run: FleetRunResult, files: string[]) => Math.max(...files.map((f) => run.requests.get(f) ?? 0));

test(`forged ROOT_ADs (strength ffffffff, fixed and rotating sources, every 2 s) during a ${PHONES}-phone upgrade: the roots keep their fetches and everybody finishes`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const files = presetFiles(getPreset(LOAD)).map((f) => f.name);
  const quiet = await fleet("quiet");
  allBootServerLoad(quiet);

  const plan: AttackPlan = {
    target: "127.255.255.255", port: PORT, from: FORGER, seed: 4051,
    targets: { xids: files.map((f) => xidOf(MODEL, f)), addrs: quiet.run.phones.map((p) => ipToU32(p.bind)) },
    forge: { broadcast: "127.255.255.255", rotateUnder: "127.9" },
  };
  // Forging from before the first phone boots until the last one is done.
  const child = spawn(process.execPath, [ATTACKER, JSON.stringify(plan)], { stdio: ["ignore", "pipe", "inherit"] });
  const out: string[] = [];
  child.stdout!.on("data", (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let forged: { run: FleetRunResult; tftpRoot: string };
  try {
    forged = await fleet("forged");
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  const report = JSON.parse(out.join("") || "{}") as AttackReport;
  const tried = forged.run.phones.flatMap((p) => p.lines.filter((l) => /Second root: trying to merge under 127\.(0\.0\.250|9\.)/.test(l)));
  t.diagnostic(`forger: ${report.forgedAds} ROOT_ADs from ${report.forgedSources} addresses; ${tried.length} merge tries logged by the roots`);
  t.diagnostic(`upgrade ${(quiet.run.wallMs / 1000).toFixed(1)} s quiet, ${(forged.run.wallMs / 1000).toFixed(1)} s forged (${(forged.run.wallMs / quiet.run.wallMs).toFixed(2)}x; not judged: a shared machine)`);
  t.diagnostic(`most server reads of one file: ${mostReads(quiet.run, files)} quiet, ${mostReads(forged.run, files)} forged`);

  allBootServerLoad(forged);
  assert.ok((report.forgedSources ?? 0) >= 3, `the forger sent from ${report.forgedSources} addresses`);
  assert.ok(tried.length >= 1, "no root heard a forged ROOT_AD: the test tests nothing");
  for (const f of files) {
    const n = forged.run.requests.get(f) ?? 0;
    assert.ok(n >= 1 && n <= 1 + EXTRA_READS_MAX, `${f}: the server saw ${n} read requests (roots gave their fetches up to forgeries?)`);
  }
});
