// The simulated flash fails as real flash does (world.ts FlashFaults): a
// read for a child that fails (the child is dropped and re-joins), a read
// that brings a bit flipped (the child's block check catches it), a write
// that fails (reported with a negative length, docs/ABI.md §7.3: the core
// asks again after a backoff), and a flash that is full (the core gives each
// file up, never reports it done). Everybody else still finishes, and no
// wrong byte reaches any flash.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Ev } from "../../host/core/abi.js";
import { FleetOptions, runFleet } from "../../host/sim/fleet.js";

/** Late joiners are served from flash: they boot once the first phone holds
 *  the load, within this fault phase, so their reads meet the faults. */
const CASE: Partial<FleetOptions> = { phones: 24, load: "tiny", wanKbps: 64, late: 6, faultMs: 40_000, seed: 11, core: "debug" };

test("reads that fail drop the child, which re-joins and finishes", () => {
  const lost: number[] = [];
  const r = runFleet({ ...CASE, flashReadFail: 0.2, observer: (_t, phone, _x, code) => code === Ev.ChildLost && lost.push(phone) });
  assert.deepEqual(r.errors, []);
  assert.ok(r.stats.flashReadFails > 0, "no read failed");
  assert.ok(lost.length > 0, "no child was dropped");
  assert.equal(r.relay!.verified, r.live);
});

test("a bit flipped on a read is caught by the child's block check, never held", () => {
  const r = runFleet({ ...CASE, flashReadFlip: 0.2 });
  assert.deepEqual(r.errors, []);
  assert.ok(r.stats.flashReadFlips > 0, "no bit flipped");
  assert.ok(r.relay!.corruptBlocks > 0, "no flipped block caught");
  assert.equal(r.relay!.corruptHeld, 0);
  assert.equal(r.relay!.verified, r.live);
});

test("writes that fail are asked for again; everybody finishes", () => {
  const failed: number[] = [];
  const r = runFleet({ ...CASE, flashWriteFail: 0.15, observer: (_t, phone, _x, code, _n, _a, b) => code === Ev.FlashFailed && b === 0 && failed.push(phone) });
  assert.deepEqual(r.errors, []);
  assert.ok(r.stats.flashWriteFails > 0 && failed.length > 0, "no write failed");
  assert.equal(r.relay!.verified, r.live);
  assert.equal(r.relay!.corruptHeld, 0);
});

test("a phone whose flash is full gives every file up and reports none done; the others finish", () => {
  const gaveUp = new Map<number, number>();
  const r = runFleet({ ...CASE, flashFull: 2, observer: (_t, phone, _x, code, _n, _a, b) => code === Ev.FlashFailed && b === 1 && gaveUp.set(phone, (gaveUp.get(phone) ?? 0) + 1) });
  assert.deepEqual(r.errors, []);
  assert.equal(gaveUp.size, 2, "two phones gave up");
  for (const files of gaveUp.values()) assert.equal(files, 3, "each gave up all three files");
  assert.equal(r.relay!.verified, r.live - 2);
  assert.notEqual(r.relay!.doneMs, null, "the others all finished");
});
