// `pfs sweep`: N seeded simulator runs, each drawing its own fleet and
// faults from its seed (host/sim/sweep.ts), on worker threads. A failing
// seed is printed with the command that reproduces it; with --json the last
// line is the sweep's figures as one JSON object.

import { CORE_BUILDS, CoreBuild } from "../sim/core-build.js";
import { defaultJobs, MAX_SWEEP_RUNS, MAX_SWEEP_SEED, runSweep } from "../sim/sweep-pool.js";
import { sweepRunOptions, SweepRun } from "../sim/sweep.js";
import { Command } from "commander";
import { choiceOption, flagOption, intOption, onRun, Out, pfsCommand, runAlone, UsageError } from "./args.js";
import type { FleetOptions } from "../sim/fleet.js";

/** Every run shares these words in help: what a run draws from its seed. */
const SWEEP_ABOUT = `Each run draws from its seed alone: 16-256 phones, 1-3 models, the tiny or
mcu-1.0 load (some of its files), a board, loss up to 30 %, duplication,
jitter, partitions that heal, crashes of roots and interior phones, restarts,
late joiners, one or two rogue phones, flash reads that fail or flip a bit,
writes that fail, a phone whose flash is full. It ends healed and
must pass every check (pfs sim's, timer coalescing, a WAN bound).`;

/** Worker threads beyond this only queue on a machine of this size. */
const MAX_JOBS = 256;

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

export function sweepCli(out: Out): Command {
  const cmd = pfsCommand("sweep", "many seeded simulator runs with faults, on worker threads", out)
    .description("N seeded simulator runs, each drawing its own fleet and faults from its seed, on worker threads; a failing seed is printed with the command that reproduces it.")
    .addOption(intOption("--runs <n>", "simulator runs, with seeds S .. S+N-1", { min: 1, max: MAX_SWEEP_RUNS }, DEFAULT_RUNS))
    .addOption(intOption("--seed <s>", "the first seed (seed + runs - 1 at most " + MAX_SWEEP_SEED + ")", { min: 0, max: MAX_SWEEP_SEED }, 1))
    .addOption(intOption("--jobs <j>", "worker threads", { min: 1, max: MAX_JOBS }, { shown: `the CPU count, ${defaultJobs()} here` }))
    .addOption(choiceOption("--core <build>", "the core build every phone runs: debug (every assertion of the core on) or release (faster)", CORE_BUILDS, "debug"))
    .addOption(flagOption("--json", "the last line is one JSON object: runs, failed (seed, error), wallMs, faults injected by kind, ..."))
    .addOption(flagOption("--verbose", "one line per run"))
    .addHelpText("after", "\n" + SWEEP_ABOUT);
  return onRun<{ runs: number; seed: number; jobs?: number; core: CoreBuild; json?: boolean; verbose?: boolean }>(cmd, (o) => sweepRun(o, out));
}

/** `pfs sweep ARGV` in this process. */
export function sweepCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(sweepCli(out), argv, out);
}

async function sweepRun(values: { runs: number; seed: number; jobs?: number; core: CoreBuild; json?: boolean; verbose?: boolean }, out: Out): Promise<number> {
  const { runs, seed, core } = values;
  const jobs = values.jobs ?? defaultJobs();
  if (seed + runs - 1 > MAX_SWEEP_SEED) throw new UsageError(`--seed must be a whole number, with seed + runs - 1 at most ${MAX_SWEEP_SEED}`);
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
