// The relay's promises on the preset load (FACTS.md sizes, 8,126,582 bytes)
// over a 2000 kbit/s WAN with 80 ms RTT and 100 Mbit/s LAN ports: every
// phone verified, the WAN crossed about once per model, only roots at the
// server, within 10 % of one phone fetching alone; and the vendor's
// store-and-forward and the traditional direct upgrade run on the same case.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetOptions, FleetResult, runFleet } from "../../host/sim/fleet.js";

const CASE: Partial<FleetOptions> = { load: "cp7961-9.4.2", wanKbps: 2000, wanRttMs: 80, lanMbps: 100 };

function assertRelayed(r: FleetResult, models: number): void {
  const x = r.relay!;
  assert.deepEqual(r.errors, [], `seed ${r.seed}: ${r.errors.join("; ")}`);
  assert.equal(x.verified, r.live, "every live phone holds the whole load checked");
  assert.equal(x.corruptHeld, 0);
  assert.equal(x.refetchedBytes, 0);
  assert.equal(x.wanBytesPerModel.length, models);
  for (const bytes of x.wanBytesPerModel) assert.ok(bytes <= 1.01 * x.loadBytes, `WAN ${bytes} for a load of ${x.loadBytes}`);
  assert.ok(x.doneMs !== null && x.doneMs <= 1.1 * x.singleMs, `done ${x.doneMs} ms vs one phone alone ${x.singleMs} ms`);
  assert.ok(x.limitMs < x.singleMs, "the bound is below what TFTP allows");
}

for (const phones of [1, 2, 64]) {
  test(`cut-through, ${phones} phone(s): verified, WAN once, only roots at the server, within 10% of one phone alone`, () => {
    const r = runFleet({ ...CASE, phones, seed: 40 + phones });
    assertRelayed(r, 1);
    const x = r.relay!;
    // Every hierarchy's root fetched its file and nobody else went to the
    // server: the phones that did are exactly the phones that are roots.
    assert.equal(x.roots, 5);
    assert.equal(x.serverContacts, x.rootPhones);
  });
}

test("cut-through, 1000 phones of 2 models", () => {
  const r = runFleet({ ...CASE, phones: 1000, models: 2, seed: 7 });
  assertRelayed(r, 2);
  assert.equal(r.live, 1000);
  assert.equal(r.relay!.roots, 10);
  assert.equal(r.relay!.serverContacts, r.relay!.rootPhones);
});

test("the same case in the three modes: cut-through beats store-and-forward; direct loads the WAN once per phone", () => {
  const runs = Object.fromEntries((["cut-through", "store-and-forward", "direct"] as const).map((mode) => [mode, runFleet({ ...CASE, phones: 64, seed: 5, mode })]));
  for (const r of Object.values(runs)) {
    assert.deepEqual(r.errors, []);
    assert.equal(r.relay!.verified, 64);
  }
  const ct = runs["cut-through"].relay!;
  const sf = runs["store-and-forward"].relay!;
  const direct = runs["direct"].relay!;
  assert.ok(ct.doneMs! < sf.doneMs!, `cut-through ${ct.doneMs} ms, store-and-forward ${sf.doneMs} ms`);
  assert.ok(sf.wanBytes <= 1.01 * sf.loadBytes, "store-and-forward also crosses the WAN once");
  assert.equal(direct.serverContacts, 64);
  assert.ok(direct.wanBytes >= 64 * direct.loadBytes, "every phone fetched the whole load itself");
  assert.ok(direct.doneMs! > 10 * ct.doneMs!, `direct ${direct.doneMs} ms vs cut-through ${ct.doneMs} ms`);
});

test("late joiners after the root finished get the load from the LAN", () => {
  const r = runFleet({ ...CASE, load: "tiny", wanKbps: 64, phones: 6, late: 3, seed: 21 });
  assert.deepEqual(r.errors, []);
  const x = r.relay!;
  assert.equal(x.verified, 9);
  // Only the first roots went to the server: the late phones found trees.
  assert.ok(x.serverContacts <= 3, `${x.serverContacts} phones contacted the server`);
  assert.ok(x.wanBytes <= 1.01 * x.loadBytes);
});

test("a rogue's corrupt blocks are caught and never reach flash; its victims finish elsewhere", () => {
  let caught = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const r = runFleet({ ...CASE, load: "tiny", wanKbps: 64, phones: 16, rogues: 1, seed, faultMs: 8000 });
    assert.deepEqual(r.errors, [], `seed ${seed}`);
    assert.equal(r.relay!.corruptHeld, 0);
    assert.equal(r.relay!.verified, r.live);
    caught += r.relay!.corruptBlocks;
  }
  assert.ok(caught > 0, "no rogue ever got to send a bad block");
});
