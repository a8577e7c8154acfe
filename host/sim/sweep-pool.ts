// Runs a sweep on J worker threads (node:worker_threads): each worker asks
// for the next seed when it is done with one, so long and short runs share
// the threads evenly. Every run depends on its seed alone, so the verdicts
// are the same for any J; they are sorted by seed at the end.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CoreBuild } from "./core-build.js";
import { runSweepSeed, summarize, SweepRun, SweepSummary } from "./sweep.js";
import type { SweepJob } from "./sweep-worker.js";

export interface SweepOptions {
  runs: number;
  seed: number;
  /** Worker threads; 1 runs in this thread. Default: the CPU count. */
  jobs?: number;
  core: CoreBuild;
  /** Called as each run ends (progress, failures as they come). */
  onRun?: (run: SweepRun, done: number) => void;
}

/** Seeds are u32, as `pfs sim --seed` takes them. */
export const MAX_SWEEP_SEED = 0xffffffff;
export const MAX_SWEEP_RUNS = 1_000_000;

export function defaultJobs(): number {
  return availableParallelism();
}

export async function runSweep(o: SweepOptions): Promise<SweepSummary> {
  const started = performance.now();
  const jobs = Math.max(1, Math.min(o.jobs ?? defaultJobs(), o.runs));
  const runs: SweepRun[] = [];
  const record = (run: SweepRun) => {
    runs.push(run);
    o.onRun?.(run, runs.length);
  };
  if (jobs === 1) {
    for (let k = 0; k < o.runs; k++) record(runSweepSeed(o.seed + k, o.core));
  } else {
    await onWorkers(o, jobs, record);
  }
  runs.sort((a, b) => a.seed - b.seed);
  return summarize(runs, o.seed, o.core, jobs, performance.now() - started);
}

function onWorkers(o: SweepOptions, jobs: number, record: (run: SweepRun) => void): Promise<void> {
  let next = 0;
  const take = (): SweepJob | null => (next < o.runs ? { seed: o.seed + next++, core: o.core } : null);
  return new Promise((resolve, reject) => {
    let live = jobs;
    for (let j = 0; j < jobs; j++) {
      const w = new Worker(new URL("./sweep-worker.js", import.meta.url));
      w.on("message", (run: SweepRun) => {
        record(run);
        w.postMessage(take());
      });
      // A worker that dies takes its run with it: the sweep fails loudly.
      w.on("error", reject);
      w.on("exit", (code) => {
        if (code !== 0) reject(new Error(`a sweep worker exited with code ${code}`));
        else if (--live === 0) resolve();
      });
      w.postMessage(take());
    }
  });
}
