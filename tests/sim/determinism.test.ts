// One seed, one run: the same seed reproduces the same run event for event;
// another seed gives another run.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runFleet } from "../../host/sim/fleet.js";

function trace(seed: number): { events: string[]; result: string } {
  const events: string[] = [];
  const r = runFleet({
    phones: 24, models: 2, files: 2, loss: 0.2, dup: 0.1, jitterMs: 3, crash: 0.2, partitions: 1, seed,
    observer: (t, p, x, c, n, a, b) => events.push(`${t.toFixed(6)} ${p} ${x} ${c} ${n} ${a} ${b}`),
  });
  const { wallMs: _wall, ...rest } = r;
  return { events, result: JSON.stringify(rest) };
}

test("the same seed reproduces every event and the result", () => {
  const a = trace(42);
  const b = trace(42);
  assert.ok(a.events.length > 100);
  assert.equal(a.events.length, b.events.length);
  assert.deepEqual(a.events, b.events);
  assert.equal(a.result, b.result);
});

test("another seed gives another run", () => {
  assert.notDeepEqual(trace(42).events, trace(43).events);
});
