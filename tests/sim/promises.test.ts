// Every counter that guards a promise of the relay is shown to fire: each
// test breaks the promise on purpose (a sabotaged host in world.ts, or a
// mutated core built from a copy of assembly/, tests/sim/mutant.ts) and the
// run's checks must catch it, while the same seed without the break passes.
// A counter that never fires would guard nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Fleet, FleetOptions, FleetResult, runFleet } from "../../host/sim/fleet.js";
import type { Sabotage } from "../../host/sim/world.js";
import { mutantCore } from "./mutant.js";

/** A small relay that finishes in well under a second of wall time. */
const CASE: Partial<FleetOptions> = { phones: 8, load: "tiny", wanKbps: 64, seed: 3 };

function sabotaged(opts: Partial<FleetOptions>, sabotage: Partial<Sabotage>): FleetResult {
  const fleet = new Fleet(opts);
  Object.assign(fleet.world.sabotage, sabotage);
  while (!fleet.step()) {
    /* advance */
  }
  return fleet.result();
}

function caught(r: FleetResult, pattern: RegExp): void {
  assert.equal(r.ok, false, "the broken run must fail");
  assert.ok(r.errors.some((e) => pattern.test(e)), `no error matches ${pattern}: ${r.errors.join("; ")}`);
}

test("the honest case passes (every test below breaks one promise of it)", () => {
  const r = runFleet(CASE);
  assert.deepEqual(r.errors, []);
  assert.equal(r.relay!.refetchedBytes, 0);
});

test("refetchedBytes: a host that delivers a DATA frame twice is caught", () => {
  const r = sabotaged(CASE, { dataTwice: 1 });
  assert.ok(r.relay!.refetchedBytes > 0, "the child's core counted the bytes offered again");
  caught(r, /bytes were offered again to phones that held them/);
});

test("corruptHeld: a flash that flips a byte on the way in is caught", () => {
  const r = sabotaged(CASE, { flashWriteFlip: 1 });
  assert.ok(r.relay!.corruptHeld > 0);
  caught(r, /bytes that differ from the real files reached flash/);
});

test("nonRootFetches: a host that fetches from the server for a phone that is not root is caught", () => {
  const r = sabotaged(CASE, { fetchWhenJoined: 1 });
  caught(r, /server fetches by phones that were not roots/);
});

/** Seeds tried for a run in which the rogue is somebody's parent. */
const ROGUE_SEEDS = 8;

test("corruptBlocks: a rogue's bad blocks are counted and kept out of flash; a core that skips the check is caught", () => {
  // Whether the rogue ends up with children depends on the tree the seed
  // grows: take the first of a few seeds where it does.
  const base: Partial<FleetOptions> = { phones: 16, load: "tiny", wanKbps: 64, rogues: 1, faultMs: 8000 };
  let rogue: Partial<FleetOptions> | undefined;
  for (let seed = 2; seed < 2 + ROGUE_SEEDS && rogue === undefined; seed++) {
    const honest = runFleet({ ...base, seed });
    assert.deepEqual(honest.errors, [], `seed ${seed}`);
    assert.equal(honest.relay!.corruptHeld, 0, `seed ${seed}`);
    if (honest.relay!.corruptBlocks > 0) rogue = { ...base, seed };
  }
  assert.ok(rogue !== undefined, `in none of ${ROGUE_SEEDS} seeds did the rogue get to send bad blocks that were caught`);
  // The promise broken: blocks go to flash and to children unchecked.
  const unchecked = mutantCore({
    file: "relay.ts",
    from: "memory.compare(digest, t.list + <usize>(k * HASH_BYTES), <usize>HASH_BYTES) != 0",
    to: "memory.compare(digest, t.list + <usize>(k * HASH_BYTES), <usize>HASH_BYTES) != 0 && false",
  });
  const r = runFleet({ ...rogue, coreModule: unchecked });
  assert.equal(r.relay!.corruptBlocks, 0, "the mutant checks nothing");
  caught(r, /bytes that differ from the real files reached flash/);
});

test("timer coalescing: a core that wakes once per link is caught", () => {
  const opts: Partial<FleetOptions> = { phones: 64, files: 3, seed: 3, probeWakes: true };
  const honest = runFleet(opts);
  assert.deepEqual(honest.errors, []);
  assert.ok(honest.wakesPerHeartbeat !== null && honest.wakesPerHeartbeat <= 2.5, `honest core: ${honest.wakesPerHeartbeat} wakes per heartbeat`);
  // The early window at 0: each link's heartbeat wakes the core on its own.
  const uncoalesced = mutantCore({ file: "limits.ts", from: "HEARTBEAT_EARLY_DIVISOR: f64 = 4;", to: "HEARTBEAT_EARLY_DIVISOR: f64 = 1e12;" });
  const r = runFleet({ ...opts, coreModule: uncoalesced });
  assert.ok(r.wakesPerHeartbeat !== null && r.wakesPerHeartbeat > 4, `mutant: ${r.wakesPerHeartbeat}`);
  caught(r, /woke .* times per heartbeat when quiet/);
});

test("a core that traps fails the run with its seed, it does not throw", () => {
  const trapping = mutantCore({ file: "core.ts", from: "export function onTimer(nowMs: f64): void {", to: "export function onTimer(nowMs: f64): void {\n  assert(nowMs < 4000, \"mutant: no timer after 4 s\");" });
  const r = runFleet({ ...CASE, coreModule: trapping });
  assert.equal(r.ok, false);
  assert.match(r.errors[0], /^core trap in phone \d+ at 4\d{3}\.\d{3} ms: /);
  assert.equal(r.seed, CASE.seed);
});

test("the debug build runs the same fleet to the same result", () => {
  const opts: Partial<FleetOptions> = { ...CASE, loss: 0.1, rootCrashes: 1, seed: 9 };
  const strip = (r: FleetResult) => JSON.stringify({ ...r, wallMs: 0 });
  assert.equal(strip(runFleet({ ...opts, core: "debug" })), strip(runFleet({ ...opts, core: "release" })));
});
