// The fleet simulator's invariants on fault-free runs of every size the
// issue names: one confirmed root per hierarchy, nobody left out, at most two
// children, and the depth bound (asserted here in its strict form too).

import { test } from "node:test";
import assert from "node:assert/strict";
import { runFleet } from "../../host/sim/fleet.js";
import { Ev } from "../../host/core/abi.js";

function assertInvariants(r: ReturnType<typeof runFleet>, files: number, models: number): void {
  assert.deepEqual(r.errors, [], `seed ${r.seed}: ${r.errors.join("; ")}`);
  assert.equal(r.ok, true);
  assert.equal(r.orphans, 0);
  assert.ok(r.maxChildren <= 2);
  assert.equal(r.hierarchies.length, files * models);
  for (const h of r.hierarchies) {
    assert.equal(h.roots, 1, `${h.xid}: roots`);
    assert.equal(h.attached, h.members, `${h.xid}: attached`);
    // Strict form: ceil(log2(n+1)) levels below the root, one better than the bound.
    assert.ok(h.maxDepth <= Math.ceil(Math.log2(h.members + 1)), `${h.xid}: depth ${h.maxDepth} for ${h.members}`);
  }
  assert.notEqual(r.convergedMs, null);
}

for (const n of [1, 2, 3, 7, 64]) {
  test(`${n} phones, 2 files: one root per file, all attached, shallow`, () => {
    const fetches: number[] = [];
    const r = runFleet({ phones: n, files: 2, seed: 100 + n, observer: (_t, phone, _x, code) => code === Ev.Fetch && fetches.push(phone) });
    assertInvariants(r, 2, 1);
    assert.equal(r.live, n);
    // Only a root asks for the file from the server, once per hierarchy.
    assert.equal(fetches.length, 2, `fetch requests: ${fetches.length}`);
  });
}

test("1 phone alone becomes root of each file after its claim advertisements", () => {
  const confirms: number[] = [];
  const r = runFleet({ phones: 1, files: 3, seed: 5, bootSpreadMs: 0, observer: (t, _p, _x, code) => code === Ev.ConfirmedRoot && confirms.push(t) });
  assertInvariants(r, 3, 1);
  assert.equal(confirms.length, 3);
  // One solicit (250 ms) then claim + Ad 1..4 (1250 ms), after up to 250 ms jitter.
  for (const t of confirms) assert.ok(t >= 1500 && t <= 1750 + 1, `confirmed at ${t}`);
});

test("1000 phones of 2 models, 5 files, 20% datagram loss", () => {
  const r = runFleet({ phones: 1000, models: 2, files: 5, loss: 0.2, seed: 7 });
  assertInvariants(r, 5, 2);
  assert.equal(r.live, 1000);
  for (const h of r.hierarchies) assert.equal(h.members, 500);
});

test("different models form different hierarchies for the same file name", () => {
  const r = runFleet({ phones: 8, models: 2, files: 1, seed: 11 });
  assertInvariants(r, 1, 2);
  const [a, b] = r.hierarchies;
  assert.notEqual(a.xid, b.xid);
  assert.notEqual(a.model, b.model);
  assert.equal(a.members + b.members, 8);
});
