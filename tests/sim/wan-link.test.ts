// The simulator's shared WAN link (host/sim/wan-link.ts): rounds go on the
// wire in the order they are ready, one at a time; a round paced into the
// future holds back no round ready before it; every byte is metered once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WanLink } from "../../host/sim/wan-link.js";

/** 1000 bytes take 10 ms at this rate. */
const RATE = 800_000;

test("a round ready later, sized first, does not hold the wire for a round ready earlier", () => {
  const link = new WanLink();
  assert.deepEqual(link.send(100, 1000, RATE, 0), { startMs: 100, endMs: 110 }); // paced ahead
  assert.deepEqual(link.send(50, 1000, RATE, 0), { startMs: 50, endMs: 60 }); // fits before it
  assert.deepEqual(link.send(105, 1000, RATE, 0), { startMs: 110, endMs: 120 }); // overlaps: after it
  // A gap too short for the round: it goes after the spans in its way.
  assert.deepEqual(link.send(95, 1000, RATE, 0), { startMs: 120, endMs: 130 });
  assert.deepEqual(link.send(60, 3000, RATE, 0), { startMs: 60, endMs: 90 }); // the gap 60..100 holds 30 ms
  assert.equal(link.meter.totalBytes, 7000);
});

test("back to back when every round is ready at once: first sized, first sent", () => {
  const link = new WanLink();
  const starts = [0, 1, 2, 3].map(() => link.send(0, 1000, RATE, 0).startMs);
  assert.deepEqual(starts, [0, 10, 20, 30]);
  // The meter sees the wire full: 4000 bytes over 40 ms.
  assert.equal(Math.round(link.meter.maxBitsPerSec(40)), RATE);
});

test("spans that ended before the horizon go; later rounds still queue behind the rest", () => {
  const link = new WanLink();
  for (let i = 0; i < 1000; i++) link.send(i * 20, 1000, RATE, i * 20);
  // Only what is still ahead of the horizon is kept: the next round after 19990 + 10.
  assert.deepEqual(link.send(19_985, 1000, RATE, 19_985), { startMs: 19_990, endMs: 20_000 });
});
