// A slice of the thousand-run fault sweep (pfs sweep, make sweep) for every
// `make test`: SUBSET_RUNS seeded runs on the debug core, each drawing its
// own fleet and faults (host/sim/sweep.ts), on worker threads. Every run
// must pass; a failure names its seed and the command that reproduces it.
// The same seeds give the same verdicts on one worker or several.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runSweep } from "../../host/sim/sweep-pool.js";
import { FAULT_KINDS, runSweepSeed, SweepRun, sweepRunOptions } from "../../host/sim/sweep.js";
import { reproduceCommand, simCommandFor } from "../../host/cli/sweep.js";
import { parseSimArgs } from "../../host/cli/sim.js";

/** About 25 s on two cores: a fraction of make test, every fault kind seen. */
export const SUBSET_RUNS = 40;

test(`fault sweep: ${SUBSET_RUNS} seeded runs on the debug core, every one healed and checked`, async () => {
  const s = await runSweep({ runs: SUBSET_RUNS, seed: 1, core: "debug" });
  assert.equal(s.runs, SUBSET_RUNS);
  // The sweep must really have injected what it claims.
  for (const kind of FAULT_KINDS) assert.ok(s.faults[kind] > 0, `no ${kind} in ${SUBSET_RUNS} runs`);
  const failures = s.failed.map((f) => `seed ${f.seed}: ${f.error}\n  reproduce: ${reproduceCommand(f.seed, "debug")}`);
  assert.deepEqual(failures, []);
});

test("a sweep run depends on its seed alone: the same verdict and figures in this thread as on a worker", async () => {
  const seed = 7;
  const strip = ({ wallMs: _w, ...rest }: SweepRun) => rest;
  const here = runSweepSeed(seed, "release");
  const onWorkers: SweepRun[] = [];
  await runSweep({ runs: 2, seed, jobs: 2, core: "release", onRun: (run) => onWorkers.push(run) });
  assert.deepEqual(onWorkers.map((r) => r.seed).sort(), [seed, seed + 1]);
  assert.deepEqual(strip(onWorkers.find((r) => r.seed === seed)!), strip(here));
});

test("the pfs sim command printed for a failing seed runs that very fleet", () => {
  for (const seed of [1, 2, 3, 174]) {
    const o = sweepRunOptions(seed, "debug");
    const argv = simCommandFor(o).split(" ").slice(3); // after "npx pfs sim"
    const back = parseSimArgs(argv);
    for (const [k, v] of Object.entries(o)) {
      if (k === "probeWakes") continue; // pfs sim does not probe wake-ups
      assert.equal(back[k as keyof typeof back], v, `seed ${seed}: ${k}`);
    }
  }
});

test("seeds that once failed stay fixed (907: a handle reused while the OUT_CLOSE of the stream it evicted was still in the outbox)", () => {
  for (const seed of [907]) {
    const r = runSweepSeed(seed, "debug");
    assert.equal(r.error, undefined, `seed ${seed}: ${r.error}`);
  }
});
