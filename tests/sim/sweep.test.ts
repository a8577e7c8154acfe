// The fault sweep: 200 seeds, each deriving its own mix of datagram loss (up
// to 30 %), duplication, reordering jitter, partitions that heal, random
// crashes, and crashes aimed at roots and at interior phones, some of which
// come back as late joiners. Every run must end healed: one root per
// hierarchy, everyone attached, the depth bound. A failure names its seed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetOptions, runFleet } from "../../host/sim/fleet.js";
import { Rng } from "../../host/sim/random.js";

export const SWEEP_SEEDS = 200;

export function sweepOptions(seed: number): Partial<FleetOptions> {
  const r = new Rng(seed * 7919 + 1);
  const phones = r.pick([2, 3, 5, 8, 13, 24, 40, 64]);
  return {
    seed,
    phones,
    models: r.int(1, 2),
    files: r.int(1, 3),
    loss: r.next() * 0.3,
    dup: r.next() * 0.2,
    jitterMs: r.next() * 10,
    crash: r.next() * 0.2,
    rootCrashes: r.int(0, Math.min(2, phones - 1)),
    interiorCrashes: r.int(0, Math.min(3, phones - 1)),
    partitions: r.int(0, 2),
    late: r.int(0, 3),
    core: "debug", // the core's assertions on
  };
}

test(`fault sweep over ${SWEEP_SEEDS} seeds heals every time`, () => {
  const failures: string[] = [];
  let crashes = 0;
  let partitions = 0;
  let merges = 0;
  for (let seed = 1; seed <= SWEEP_SEEDS; seed++) {
    const opts = sweepOptions(seed);
    const r = runFleet(opts);
    crashes += r.stats.crashes;
    partitions += r.stats.partitions;
    merges += r.stats.merges;
    if (!r.ok) failures.push(`seed ${seed} ${JSON.stringify(opts)}: ${r.errors.slice(0, 3).join("; ")}`);
  }
  // The sweep must really have exercised the faults it claims to.
  assert.ok(crashes > 100, `only ${crashes} crashes`);
  assert.ok(partitions > 50, `only ${partitions} partitions`);
  assert.ok(merges > 0, "no two roots ever merged");
  assert.deepEqual(failures, [], `reproduce with: pfs sim --seed N and the options shown\n${failures.join("\n")}`);
});
