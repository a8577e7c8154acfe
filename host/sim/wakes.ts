// Timer coalescing, measured: the core sends every heartbeat falling due
// within heartbeatMs/4 of a wake-up at that wake-up (docs/ABI.md §11), so a
// phone wakes about as often with fifteen links as with one. The probe runs
// a finished fleet on, with no faults, and counts onTimer calls per phone per
// heartbeat period once the trees have been quiet a while (right after a
// healed partition, subtree updates still ripple through them).
//
// Measured (release core, fleets of 16-200 phones, 1-5 files): phones with
// five links or more wake 2.0 times per heartbeat (the heartbeats, and the
// subtree update 20 ms after them); a core that does not coalesce (a mutant
// with the early window at 0, tests/sim/promises.test.ts) about once per
// link and more: 5-12 on the same runs.

import { Role } from "../core/abi.js";
import type { SimPhone, World } from "./world.js";

/** Phones with fewer links do not show coalescing (a leaf of one tree has
 *  one link either way); fewer such phones are too few to judge. */
export const COALESCE_MIN_LINKS = 5;
const COALESCE_MIN_PHONES = 4;
export const MAX_WAKES_PER_HEARTBEAT = 3;
/** The probe: this long quiet first, then this long counted. */
export const WAKE_QUIET_MS = 5000;
export const WAKE_COUNT_MS = 5000;

/** Tree links of a live phone over all its hierarchies. */
export function linksOf(p: SimPhone): number {
  let n = 0;
  const x = p.core!.x;
  for (const slot of p.slots.values()) {
    if (x.hierRole(slot) === Role.Idle) continue;
    if (x.hierParent(slot) !== 0) n++;
    if (x.hierChild(slot, 0) !== 0) n++;
    if (x.hierChild(slot, 1) !== 0) n++;
  }
  return n;
}

/** Runs `world` on (it must be fault-free by now) and returns the mean
 *  onTimer calls per heartbeat period of the phones with COALESCE_MIN_LINKS
 *  links or more, or null when there are too few of them. */
export function probeWakes(world: World): number | null {
  world.runUntil(world.nowMs + WAKE_QUIET_MS);
  const from = world.nowMs;
  const calls = world.phones.map((p) => p.timerCalls);
  const gens = world.phones.map((p) => p.gen);
  world.runUntil(from + WAKE_COUNT_MS);
  let phones = 0;
  let beats = 0;
  for (const p of world.phones) {
    if (!p.alive || p.core === null || p.gen !== gens[p.index] || linksOf(p) < COALESCE_MIN_LINKS) continue;
    const heartbeatMs = world.opts.coreOf?.(p.model).heartbeatMs ?? world.opts.core.heartbeatMs ?? 1000;
    phones++;
    beats += (p.timerCalls - calls[p.index]) / (WAKE_COUNT_MS / heartbeatMs);
  }
  return phones < COALESCE_MIN_PHONES ? null : beats / phones;
}
