// A fleet of 4 phone processes upgrading while attacker processes
// (./attacker.ts) go at one of them, the target 127.0.0.2, from the moment
// it needs its files: for the flood tests of the Node phone and the C phone.

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { ipToU32 } from "../../host/phone/addr.js";
import { FleetRunOptions, FleetRunResult, PhoneRun, runFleetProcesses } from "../../host/phone/fleet.js";
import type { AttackPlan, AttackReport } from "./attacker.js";
import { xidOf } from "./fuzz-wire.js";
import { ProcFigures, ProcWatch } from "./proc-watch.js";

const ATTACKER = join(dirname(fileURLToPath(import.meta.url)), "attacker.js");
export const TARGET = "127.0.0.2";
const MODEL = "CP-7961G";
const PHONES = 4;

/** What an attacker process is told beyond where to go. */
export type Attack = Omit<AttackPlan, "target" | "port" | "from" | "seed" | "targets">;

export interface AttackedRun {
  run: FleetRunResult;
  target: PhoneRun;
  /** The target's process, sampled from /proc. */
  figures: ProcFigures;
  report: AttackReport;
  /** From the fleet's start to the last phone's new load active. */
  upgradeMs: number;
}

export interface AttackedFleetOptions {
  workDir: string;
  port: number;
  load: string;
  wanKbps: number;
  attacks: Attack[];
  /** The attackers' seeds count up from here. */
  seed: number;
  native?: FleetRunOptions["native"];
}

/** When a phone's console said its new load was active, ms after its start. */
export function activeAtMs(p: PhoneRun): number {
  const line = p.lines.find((l) => /verified in flash and active/.test(l));
  const m = /^\w+ +(\d\d):(\d\d):(\d\d)\.(\d\d\d) /.exec(line ?? "");
  if (m === null) return Infinity;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

/** Each attack runs in an attacker process of its own (a UDP flood would
 *  otherwise starve the same process's TCP work, and its counts with it). */
export async function attackedFleet(o: AttackedFleetOptions): Promise<AttackedRun> {
  const running: Array<{ child: ReturnType<typeof spawn>; done: Promise<void>; out: string[] }> = [];
  let target: PhoneRun | undefined;
  const watch = new ProcWatch(() => target?.pid);
  const files = presetFiles(getPreset(o.load)).map((f) => f.name);
  const phones = Array.from({ length: PHONES }, (_, i) => ipToU32(`127.0.0.${i + 2}`));
  const run = await runFleetProcesses({
    phones: PHONES, models: 1, load: o.load, port: o.port, lingerSec: 3, pfs: true, tftpWindow: 1, wanKbps: o.wanKbps, wanRttMs: 20,
    verbose: false, out: () => {}, workDir: o.workDir, native: o.native,
    onLine: (p, line) => {
      if (p.bind !== TARGET) return;
      target = p;
      // The upgrade has started: the phone needs its files.
      if (running.length > 0 || !/ need .* through PFS$/.test(line)) return;
      o.attacks.forEach((attack, i) => {
        const plan: AttackPlan = { ...attack, target: TARGET, port: o.port, from: "127.0.0.1", seed: o.seed + i, targets: { xids: files.map((f) => xidOf(MODEL, f)), addrs: phones } };
        const child = spawn(process.execPath, [ATTACKER, JSON.stringify(plan)], { stdio: ["ignore", "pipe", "inherit"] });
        const out: string[] = [];
        child.stdout!.on("data", (d: Buffer) => out.push(d.toString()));
        running.push({ child, out, done: new Promise<void>((resolve) => child.once("close", () => resolve())) });
      });
    },
  });
  const figures = watch.stop();
  const report: AttackReport = {};
  for (const a of running) {
    // A churn runs until told; a flood or a hold ends by itself.
    if (a.child.exitCode === null) a.child.kill("SIGTERM");
    await a.done;
    Object.assign(report, JSON.parse(a.out.join("") || "{}"));
  }
  const upgradeMs = Math.max(...run.phones.map(activeAtMs));
  return { run, target: run.phones.find((p) => p.bind === TARGET)!, figures, report, upgradeMs };
}
