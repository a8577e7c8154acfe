// Traces for tests: a simulator run recorded in process into a folder of the
// test's own, removed when the test process ends.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FleetOptions, runFleet } from "../../host/sim/fleet.js";
import { TraceRecorder, TraceSummary } from "../../host/trace/recorder.js";

/** A temporary folder that goes when the process does. */
export function traceDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Records every core of a simulator run into `dir/name`; the run must pass. */
export function recordRun(dir: string, name: string, opts: Partial<FleetOptions>): { file: string; sum: TraceSummary } {
  const tracer = new TraceRecorder();
  const r = runFleet({ ...opts, tracer });
  assert.deepEqual(r.errors, [], `seed ${r.seed}: ${r.errors.join("; ")}`);
  const file = join(dir, name);
  return { file, sum: tracer.write(file) };
}
