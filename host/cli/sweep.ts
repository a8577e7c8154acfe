// `pfs sweep`: N seeded simulator runs, each drawing its own fleet and
// faults from its seed (host/sim/sweep.ts), on worker threads. A failing
// seed is printed with the command that reproduces it; with --json the last
// line is the sweep's figures as one JSON object.

import { CORE_BUILDS, CoreBuild } from "../sim/core-build.js";
import { defaultJobs, MAX_SWEEP_RUNS, MAX_SWEEP_SEED, runSweep } from "../sim/sweep-pool.js";
import { sweepRunOptions, SweepRun } from "../sim/sweep.js";
import { num, parse, UsageError } from "./args.js";
import type { FleetOptions } from "../sim/fleet.js";

export const SWEEP_USAGE = `usage: pfs sweep [--runs N] [--seed S] [--jobs J] [--core debug|release] [--json] [--verbose]
  --runs N     simulator runs, with seeds S .. S+N-1 (default 100)
  --seed S     the first seed (default 1)
  --jobs J     worker threads (default: the CPU count, ${defaultJobs()} here)
  --core B     the core build every phone runs: debug (default: every
               assertion of the core on) or release (faster)
  --json       the last line is one JSON object: runs, failed (seed, error),
               wallMs, faults injected by kind, ...
  --verbose    one line per run
Each run draws from its seed alone: 16-256 phones, 1-3 models, the tiny or
mcu-1.0 load (some of its files), a board, loss up to 30 %, duplication,
jitter, partitions that heal, crashes of roots and interior phones, restarts,
late joiners, one or two rogue phones, flash reads that fail or flip a bit,
writes that fail, a phone whose flash is full. It ends healed and
must pass every check (pfs sim's, timer coalescing, a WAN bound).`;

const SWEEP_OPTIONS = {
  runs: { type: "string" }, seed: { type: "string" }, jobs: { type: "string" }, core: { type: "string" },
  json: { type: "boolean" }, verbose: { type: "boolean" }, help: { type: "boolean" },
} as const;

const DEFAULT_RUNS = 100;

/** The command that runs one seed again (the core named when not the default). */
export function reproduceCommand(seed: number, core: CoreBuild): string {
  return `npx pfs sweep --runs 1 --seed ${seed}${core === "debug" ? "" : ` --core ${core}`}`;
}

/** pfs sim's flag for each fleet option a sweep run sets (probeWakes has
 *  none: pfs sim does not probe timer wake-ups). */
const SIM_FLAGS: Record<string, string> = {
  seed: "seed", phones: "phones", models: "models", load: "load", loadFiles: "load-files", board: "board", mode: "mode",
  wanKbps: "wan-kbps", wanRttMs: "wan-rtt-ms", tftpWindow: "tftp-window", loss: "loss", dup: "dup", jitterMs: "jitter-ms",
  partitions: "partitions", crash: "crash", restart: "restart", rootCrashes: "root-crashes", interiorCrashes: "interior-crashes",
  late: "late", rogues: "rogues", flashReadFail: "flash-read-fail", flashReadFlip: "flash-read-flip", flashWriteFail: "flash-write-fail", flashFull: "flash-full", faultMs: "fault-ms", core: "core",
};

/** The same run as a pfs sim command: it stays valid when the sweep's way
 *  of drawing runs changes. */
export function simCommandFor(o: Partial<FleetOptions>): string {
  const args = Object.entries(o).filter(([k, v]) => v !== undefined && SIM_FLAGS[k] !== undefined).map(([k, v]) => `--${SIM_FLAGS[k]} ${v}`);
  return `npx pfs sim ${args.join(" ")}`;
}

export async function sweepCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, SWEEP_OPTIONS, SWEEP_USAGE);
  if (values.help) {
    out(SWEEP_USAGE);
    return 0;
  }
  const runs = num(values.runs, "runs", DEFAULT_RUNS, SWEEP_USAGE);
  const seed = num(values.seed, "seed", 1, SWEEP_USAGE);
  const jobs = num(values.jobs, "jobs", defaultJobs(), SWEEP_USAGE);
  const core = (values.core ?? "debug") as CoreBuild;
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_SWEEP_RUNS) throw new UsageError(`--runs must be a whole number from 1 to ${MAX_SWEEP_RUNS}\n\n${SWEEP_USAGE}`);
  if (!Number.isInteger(seed) || seed < 0 || seed + runs - 1 > MAX_SWEEP_SEED) throw new UsageError(`--seed must be a whole number, with seed + runs - 1 at most ${MAX_SWEEP_SEED}\n\n${SWEEP_USAGE}`);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new UsageError(`--jobs must be a whole number from 1 to 256\n\n${SWEEP_USAGE}`);
  if (!CORE_BUILDS.includes(core)) throw new UsageError(`--core must be one of ${CORE_BUILDS.join(", ")}\n\n${SWEEP_USAGE}`);
  if (runs === 1 && !values.json) out(`seed ${seed}, as pfs sim (without the wake-up probe): ${simCommandFor(sweepRunOptions(seed, core))}`);
  const step = Math.max(1, Math.round(runs / 10));
  const onRun = (run: SweepRun, done: number) => {
    if (!run.ok) {
      out(`seed ${run.seed} FAILED (${run.errors} errors): ${run.error}\n  reproduce: ${reproduceCommand(run.seed, core)}`);
      out(`  or: ${simCommandFor(sweepRunOptions(run.seed, core))}`);
    }
    else if (values.verbose) out(`seed ${run.seed} ok: ${run.phones} phones, ${run.virtualMs} ms virtual, ${run.wallMs} ms wall`);
    if (!values.json && !values.verbose && done % step === 0 && done < runs) out(`${done} of ${runs} runs`);
  };
  const s = await runSweep({ runs, seed, jobs, core, onRun });
  if (!values.json) {
    out(`${s.runs} runs from seed ${s.seed} (${s.core} core, ${s.jobs} jobs): ${s.failed.length} failed, ${(s.wallMs / 1000).toFixed(1)} s wall`);
    out(`  faults: ${Object.entries(s.faults).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    out(`  ${s.phones} phones simulated, ${(s.virtualMs / 1000).toFixed(0)} s virtual; WAN at most ${s.maxWanRatio} of its bound; wake-ups per heartbeat at most ${s.maxWakesPerHeartbeat ?? "-"}`);
    for (const f of s.failed) out(`  FAILED seed ${f.seed}: ${reproduceCommand(f.seed, core)}`);
  } else {
    out(JSON.stringify(s));
  }
  return s.failed.length === 0 ? 0 : 1;
}
