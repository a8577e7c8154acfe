// The C phone beside the Node phone (issue 11): one fleet of phone
// processes on loopback (host/phone/fleet.ts), no WAN shaping, run all Node
// (`pfs phone`) and then all C (build/native/pfs-phone, `make native`), the
// order alternating over a few rounds because this machine is shared; the
// medians per kind and their ratios. Per run:
//   upgrade   from the first phone's spawn to the last phone's "verified in
//             flash and active" line, as this process reads it (console
//             clocks start at each process's own start and would leave Node's
//             start-up out)
//   transfer  from the first root's first fetch from the server to the same
//             last line: the upgrade without election and start-up, whose
//             timers are the protocol's and the same for both
//   relay     bytes delivered to all phones (phones x the load) / upgrade,
//             and / transfer
//   peak RSS  each phone process's VmHWM, sampled from /proc
//             (tests/support/proc-watch.ts); the median and the largest of
//             the fleet
//   server    the server's reads of the load's components: one per
//             component when the relay did its work
// Every image is read back and checked against the server's files
// (tests/support/images.ts) before a run counts: a fast wrong phone does
// not win. Lockstep TFTP for both (the C phone has no windowsize), so the
// root's fetch from the server, in this process, is the same for both.
//
//   node build/js/bench/native-phone.js [--rounds N] [--phones N]

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getPreset, presetLoadBytes } from "../host/load/presets.js";
import { makeTftpRoot } from "../host/load/tftp-root.js";
import { fleetPhones, NATIVE_PHONE_BIN, PhoneRun, runFleetProcesses } from "../host/phone/fleet.js";
import { assertBootsServerLoad } from "../tests/support/images.js";
import { ProcWatch } from "../tests/support/proc-watch.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The real-sized 7961 load (8,126,582 bytes). */
export const NATIVE_LOAD = "cp7961-9.4.2";
/** A fleet that takes seconds on 2 cores, deep enough (depth 3) to relay. */
export const NATIVE_PHONES = 8;
/** Rounds of both kinds; the order alternates (Node first in even rounds). */
export const NATIVE_ROUNDS = 3;
/** Below the ports the tests draw (20000 + pid % 12000) and the kernel's
 *  ephemeral ones, apart from the other benches' (26051, 27051). */
const PORT = 19451;
/** Long enough for the last joiners; the exit is not timed. */
const LINGER_SEC = 1;
const MODEL = "CP-7961G";

export type PhoneKind = "node" | "C";

export interface NativeRun {
  kind: PhoneKind;
  upgradeMs: number;
  /** The fleet's own wall time: the TFTP server up to the last exit (lingering included). */
  wallMs: number;
  relayMBps: number;
  /** From the first fetch from the server to the last phone's load active. */
  transferMs: number;
  transferMBps: number;
  /** Peak RSS per phone process, KiB, one per phone. */
  peakRssKb: number[];
  /** Reads of the load's components at the server. */
  componentReads: number;
}

export interface NativeSummary {
  kind: PhoneKind;
  runs: NativeRun[];
  upgradeMs: number;
  relayMBps: number;
  transferMs: number;
  transferMBps: number;
  /** Median over runs of the fleet's median phone, and the largest phone seen. */
  rssMedianKb: number;
  rssMaxKb: number;
}

/** Why the C phone cannot run here (the bench then skips it), or null. */
export function nativePhoneWhyNot(): string | null {
  const tools = spawnSync("bash", [join(root, "native/toolchain.sh"), "phone", "--check"], { encoding: "utf8" });
  if (tools.status !== 0) return tools.stdout.trim().split("\n")[0] || "native/toolchain.sh phone --check failed";
  if (!existsSync(NATIVE_PHONE_BIN)) return `${NATIVE_PHONE_BIN} is not built (make native)`;
  return null;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One fleet of `phones` phones of one kind, upgrading from the TFTP root `tftpRoot`. */
async function fleetOnce(kind: PhoneKind, phones: number, tftpRoot: string, work: string): Promise<NativeRun> {
  const workDir = mkdtempSync(join(work, `${kind}-`));
  try {
    const seen = new Map<number, PhoneRun>();
    const watches = Array.from({ length: phones }, (_, i) => new ProcWatch(() => seen.get(i)?.pid));
    const activeAt = new Map<number, number>();
    let startedAt: number | undefined;
    let firstFetchAt: number | undefined;
    const run = await runFleetProcesses({
      phones, models: 1, load: NATIVE_LOAD, root: tftpRoot, port: PORT, lingerSec: LINGER_SEC, pfs: true, tftpWindow: 1,
      verbose: false, out: () => {}, workDir,
      native: kind === "C" ? { bin: NATIVE_PHONE_BIN, phones: () => true } : undefined,
      // Asked for each phone just before it is spawned, after the server is
      // up and the images formatted: the first call is the upgrade's start.
      startAfterMs: () => {
        startedAt ??= performance.now();
        return 0;
      },
      onLine: (p, line) => {
        seen.set(p.index, p);
        if (firstFetchAt === undefined && /: fetching from the server at byte /.test(line)) firstFetchAt = performance.now();
        if (!activeAt.has(p.index) && /verified in flash and active/.test(line)) activeAt.set(p.index, performance.now());
      },
    });
    for (const w of watches) w.sample();
    const figures = watches.map((w) => w.stop());
    const bad = run.phones.filter((p) => p.exit !== 0 || !activeAt.has(p.index));
    if (bad.length > 0) throw new Error(`${kind} fleet: ${bad.map((p) => `${p.bind} exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`).join("; ")}`);
    for (const p of run.phones) assertBootsServerLoad(p.flash, p.mac, tftpRoot, `${kind} phone ${p.bind}`);
    const unsampled = figures.findIndex((f) => f.samples === 0 || f.peakRssKb === 0);
    if (unsampled >= 0) throw new Error(`${kind} fleet: phone ${unsampled} was never sampled`);
    // Phones of the 7961 (family 41) fetch the components under their stems.
    const components = new Set(getPreset(NATIVE_LOAD).components.map((c) => c.stem));
    const componentReads = run.reads.filter((r) => components.has(r.file)).length;
    if (firstFetchAt === undefined) throw new Error(`${kind} fleet: no phone fetched from the server`);
    const lastActive = Math.max(...activeAt.values());
    const upgradeMs = lastActive - startedAt!;
    const transferMs = lastActive - firstFetchAt;
    const bytes = phones * presetLoadBytes(getPreset(NATIVE_LOAD));
    const MBps = (ms: number) => bytes / 1e6 / (ms / 1000);
    return { kind, upgradeMs, wallMs: run.wallMs, relayMBps: MBps(upgradeMs), transferMs, transferMBps: MBps(transferMs), peakRssKb: figures.map((f) => f.peakRssKb), componentReads };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Both kinds, `rounds` times each, alternating which goes first. */
export async function nativePhoneBench(phones = NATIVE_PHONES, rounds = NATIVE_ROUNDS, progress: (r: NativeRun) => void = () => {}): Promise<NativeSummary[]> {
  const work = mkdtempSync(join(tmpdir(), "pfs-bench-native-"));
  try {
    // One TFTP root for every run: the same files, made once.
    const tftpRoot = join(work, "tftp");
    makeTftpRoot({ outDir: tftpRoot, model: MODEL, preset: NATIVE_LOAD, macs: fleetPhones(phones, 1).map((p) => p.mac), pfs: { enterprise: true } });
    const runs: NativeRun[] = [];
    for (let round = 0; round < rounds; round++) {
      const order: PhoneKind[] = round % 2 === 0 ? ["node", "C"] : ["C", "node"];
      for (const kind of order) {
        const r = await fleetOnce(kind, phones, tftpRoot, work);
        runs.push(r);
        progress(r);
      }
    }
    return (["node", "C"] as PhoneKind[]).map((kind) => {
      const these = runs.filter((r) => r.kind === kind);
      return {
        kind, runs: these, upgradeMs: median(these.map((r) => r.upgradeMs)), relayMBps: median(these.map((r) => r.relayMBps)),
        transferMs: median(these.map((r) => r.transferMs)), transferMBps: median(these.map((r) => r.transferMBps)),
        rssMedianKb: median(these.map((r) => median(r.peakRssKb))), rssMaxKb: Math.max(...these.flatMap((r) => r.peakRssKb)),
      };
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

export const NATIVE_HEADER =
  "| phone | phones | runs | upgrade (s) | each run (s) | relay (MB/s) | transfer (s) | relay in transfer (MB/s) | peak RSS / phone (MiB) | largest (MiB) | server reads / component |\n" +
  "|:---|---:|---:|---:|:---|---:|---:|---:|---:|---:|---:|";

export function nativeRows(s: NativeSummary[], phones = NATIVE_PHONES): string[] {
  const components = getPreset(NATIVE_LOAD).components.length;
  const rows = s.map((k) =>
    `| ${k.kind === "C" ? "C (pfs-phone)" : "Node (pfs phone)"} | ${phones} | ${k.runs.length} | ${(k.upgradeMs / 1000).toFixed(2)} | ` +
    `${k.runs.map((r) => (r.upgradeMs / 1000).toFixed(2)).join(", ")} | ${k.relayMBps.toFixed(1)} | ` +
    `${(k.transferMs / 1000).toFixed(2)} | ${k.transferMBps.toFixed(1)} | ${mb(k.rssMedianKb)} | ${mb(k.rssMaxKb)} | ` +
    `${k.runs.map((r) => (r.componentReads / components).toFixed(0)).join(", ")} |`);
  const node = s.find((k) => k.kind === "node")!;
  const c = s.find((k) => k.kind === "C")!;
  rows.push(`| C / Node | | | ${(c.upgradeMs / node.upgradeMs).toFixed(2)} | | ${(c.relayMBps / node.relayMBps).toFixed(2)} | ` +
    `${(c.transferMs / node.transferMs).toFixed(2)} | ${(c.transferMBps / node.transferMBps).toFixed(2)} | ` +
    `${(c.rssMedianKb / node.rssMedianKb).toFixed(3)} | ${(c.rssMaxKb / node.rssMaxKb).toFixed(3)} | |`);
  return rows;
}

export const nativeNotes = (phones = NATIVE_PHONES) =>
  `${phones} phones of one model on loopback upgrading to ${NATIVE_LOAD} (${presetLoadBytes(getPreset(NATIVE_LOAD))} bytes) from our TFTP server in this process, ` +
  `no WAN shaping, lockstep TFTP; upgrade = first spawn to the last "verified in flash and active" line; transfer = the first fetch from the server to that line; ` +
  `relay = ${phones} x the load / upgrade, relay in transfer = the same / transfer (MB = 10^6 bytes); medians over the runs; ` +
  `peak RSS = each process's VmHWM from /proc, the median phone (median over runs) and the largest; every image checked against the server's files. Rounds alternate which kind runs first.`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? dflt : Number(process.argv[i + 1]);
  };
  const why = nativePhoneWhyNot();
  if (why !== null) {
    process.stdout.write(`C phone skipped: ${why}\n`);
  } else {
    const phones = arg("--phones", NATIVE_PHONES);
    const s = await nativePhoneBench(phones, arg("--rounds", NATIVE_ROUNDS), (r) =>
      process.stdout.write(`${r.kind}: ${(r.upgradeMs / 1000).toFixed(2)} s (transfer ${(r.transferMs / 1000).toFixed(2)} s), ${r.relayMBps.toFixed(1)} MB/s, peak RSS ${r.peakRssKb.map(mb).join(" ")} MiB\n`));
    process.stdout.write(`${NATIVE_HEADER}\n${nativeRows(s, phones).join("\n")}\n\n${nativeNotes(phones)}\n`);
  }
}
