// A sweep worker thread: runs the seeds the pool hands it, one at a time,
// and posts each run's verdict back (sweep-pool.ts). Each thread compiles
// the core once and keeps it for all its runs.

import { parentPort } from "node:worker_threads";
import { runSweepSeed } from "./sweep.js";
import type { CoreBuild } from "./core-build.js";

export interface SweepJob {
  seed: number;
  core: CoreBuild;
}

if (parentPort === null) throw new Error("sweep-worker.js runs as a worker thread (sweep-pool.ts)");
const port = parentPort;
port.on("message", (job: SweepJob | null) => {
  if (job === null) {
    port.close();
    return;
  }
  port.postMessage(runSweepSeed(job.seed, job.core));
});
