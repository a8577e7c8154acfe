// "Never bricks", to MCUboot's bar: count the flash operations N of a whole
// upgrade as the phone does it (update and commit on trial, the power-up
// that boots the trial and marks it tried, the confirm once it has come up),
// then for every k in 1..N run the same upgrade with the power cut in
// operation k (torn, and again completed), and check what the next power-up
// boots: a complete, verified load that is exactly the old one or exactly the
// new one, by SHA-256 of the contents read from flash; the new one only once
// its boot record is written, and the old one again when the trial was
// booted and the power died before the confirm. Then the phone lives on over
// what the cut left (boots, confirms or upgrades again), the power dies again
// somewhere in that, the same check holds, and a last run must end on the new
// load, confirmed. The same for cuts during a factory format.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { AbStore, type BootResult } from "../../host/flash/ab-store.js";
import type { FlashDevice } from "../../host/flash/device.js";
import { PowerCut, PowerCutDevice } from "../../host/flash/fault-device.js";
import { MemoryDevice } from "../../host/flash/memory-device.js";
import { type Layout } from "../../host/flash/layout.js";
import { asFactory, factoryLoad, newLoad, runUpdate, smallLayout, whichLoad, writePlan, type Piece, type TestLoad } from "../support/flash.js";

interface Upgrade {
  name: string;
  /** The flash before the update: `from` boots from it, confirmed. */
  image: Uint8Array;
  from: TestLoad;
  to: TestLoad;
  plan: Piece[];
}

/** One phone process as host/phone runs it: power-up; a trial that boots
 *  has come up and is confirmed; a phone not on `to` updates, reboots into
 *  it (on trial) and confirms it. */
function phoneRun(dev: FlashDevice, layout: Layout, to: TestLoad, plan: Piece[]): void {
  let store = AbStore.open(dev, layout);
  const b = store.powerUp();
  if (store.onTrial() !== null) store.confirm();
  if (whichLoad(dev, layout, b, [to]) === to) return;
  runUpdate(store, to, plan);
  store = AbStore.open(dev, layout);
  store.powerUp();
  assert.notEqual(store.onTrial(), null, "the reboot after an update boots the new load on trial");
  store.confirm();
}

/** Mutating operations of a phone run over `image` without a cut. */
function countOps(layout: Layout, image: Uint8Array, to: TestLoad, plan: Piece[]): number {
  const counter = new PowerCutDevice(MemoryDevice.fromImage(layout.sectorBytes, image), { cutAtOp: Infinity, seed: 0 });
  phoneRun(counter, layout, to, plan);
  return counter.ops;
}

/** Sectors a load's components take in a slot, each rounded up to sectors. */
function componentSectors(layout: Layout, load: TestLoad): number {
  return load.files.reduce((n, f) => n + Math.ceil(f.stream.length / layout.sectorBytes), 0);
}

/** How each operation is cut: torn two ways (two seeds), and completed. */
const CUTS = [{ tear: true, salt: 1 }, { tear: true, salt: 2 }, { tear: false, salt: 0 }];

type Outcome = "old" | "trial" | "new";

/** What the next power-up boots (read-only: AbStore.boot), checked exact. */
function booted(flash: MemoryDevice, layout: Layout, u: Upgrade, what: string): { outcome: Outcome; b: BootResult } {
  const b = AbStore.open(flash, layout).boot();
  const got = whichLoad(flash, layout, b, [u.from, u.to]);
  assert.ok(got !== null, `${what}: boots no exact load (a brick): ${b.reason}`);
  return { outcome: got === u.from ? "old" : b.trial ? "trial" : "new", b };
}

/** What a cut in operation k of n (update: 1..n-2, TRIED mark: n-1,
 *  CONFIRMED mark: n) may leave booting; completed cuts have one answer. */
function allowed(k: number, n: number, tear: boolean): Outcome[] {
  if (k < n - 2) return ["old"];
  if (k === n - 2) return tear ? ["old", "trial"] : ["trial"];
  if (k === n - 1) return tear ? ["old", "trial"] : ["old"]; // tried and died: reverted
  return tear ? ["old", "new"] : ["new"];
}

function proveUpgrade(t: TestContext, layout: Layout, u: Upgrade): void {
  // The update: manifest erase and program, each component sector erased
  // once, one program per piece, the record's erase and program; then the
  // TRIED mark and the CONFIRMED mark.
  const updateOps = (plan: Piece[]) => layout.manifestSectors + 1 + componentSectors(layout, u.to) + plan.length + 2;
  const n = countOps(layout, u.image, u.to, u.plan);
  assert.equal(n, updateOps(u.plan) + 2, "the operations are the ones expected");
  const seen = { old: 0, trial: 0, new: 0 };
  let runs = 0;
  let reverts = 0;
  for (let k = 1; k <= n; k++) {
    for (const { tear, salt } of CUTS) {
      runs++;
      const flash = MemoryDevice.fromImage(layout.sectorBytes, u.image);
      const cut = new PowerCutDevice(flash, { cutAtOp: k, seed: 3 * k + salt, tear });
      assert.throws(() => phoneRun(cut, layout, u.to, u.plan), PowerCut);
      const what = `${u.name}: cut in op ${k}/${n} (${cut.history[k - 1]}${tear ? `, torn by seed ${3 * k + salt}` : ""})`;
      const first = booted(flash, layout, u, what);
      seen[first.outcome]++;
      if (k === n - 1 && first.outcome === "old") reverts++;
      assert.ok(allowed(k, n, tear).includes(first.outcome), `${what}: boots the ${first.outcome} load, expected ${allowed(k, n, tear).join(" or ")}: ${first.b.reason}`);
      // The phone lives on over what the cut left, and the power dies again
      // somewhere in that: still an exact load, and no step back from the
      // new load once confirmed.
      const retryPlan = writePlan(u.to, k);
      const n2 = countOps(layout, flash.image(), u.to, retryPlan);
      if (n2 > 0) {
        const k2 = 1 + ((k * 7919 + salt * 104_729) % n2);
        const again = new PowerCutDevice(flash, { cutAtOp: k2, seed: 5 * k + salt, tear });
        assert.throws(() => phoneRun(again, layout, u.to, retryPlan), PowerCut);
        const second = booted(flash, layout, u, `${what}, then in op ${k2}/${n2} of the next run`);
        if (first.outcome === "new") assert.equal(second.outcome, "new", `${what}, then in op ${k2}/${n2} of the next run: went back from the confirmed new load`);
      }
      // The last run finishes: the new load, confirmed.
      phoneRun(flash, layout, u.to, retryPlan);
      const last = booted(flash, layout, u, `${what}: after a run that finished`);
      assert.equal(last.outcome, "new", `${what}: the run that finished does not leave the new load confirmed: ${last.b.reason}`);
    }
  }
  assert.equal(seen.old + seen.trial + seen.new, runs);
  assert.ok(reverts >= 1, "a trial that died before its confirm went back to the old load");
  t.diagnostic(`${u.name}: N = ${n} flash operations per upgrade (${n - 2} of the update, the TRIED mark, the CONFIRMED mark); ${runs} power cuts (each op torn two ways, and completed), each followed by a run cut again and a run that finishes; after the first cut the old load booted ${seen.old} times (${reverts} of them a reverted trial), the new one on trial ${seen.trial}, the new one confirmed ${seen.new}; bricks 0`);
}

test("a power cut in any flash operation of an update, its trial boot or its confirm leaves exactly the old or the new load booting", (t) => {
  const layout = smallLayout();
  const factory = factoryLoad();
  const load2 = newLoad("2");
  const load3 = newLoad("3");
  const blank = new MemoryDevice(layout.sectorBytes, layout.totalSectors);
  AbStore.format(blank, layout, asFactory(factory));
  const formatted = blank.image();
  // First upgrade: factory in A, the new load to B, its record to the blank record sector.
  proveUpgrade(t, layout, { name: "factory (A) -> load 2 (B)", image: formatted, from: factory, to: load2, plan: writePlan(load2, 1) });
  // Second: B runs, confirmed; the new load overwrites A, and its record
  // overwrites the older record, the one that still names A.
  phoneRun(blank, layout, load2, writePlan(load2, 1));
  proveUpgrade(t, layout, { name: "load 2 (B) -> load 3 (A)", image: blank.image(), from: load2, to: load3, plan: writePlan(load3, 2) });
});

test("a power cut in any flash operation of a factory format leaves no load or exactly the factory load", (t) => {
  const layout = smallLayout();
  const factory = factoryLoad();
  let runs = 0;
  let booted = 0;
  let n = 0;
  // Blank chips reading 0xFF (erased) and 0x00 (a sparse image file).
  for (const fill of [0xff, 0x00]) {
    const counter = new PowerCutDevice(new MemoryDevice(layout.sectorBytes, layout.totalSectors, fill), { cutAtOp: Infinity, seed: 0 });
    AbStore.format(counter, layout, asFactory(factory));
    n = counter.ops;
    for (let k = 1; k <= n; k++) {
      runs++;
      const flash = new MemoryDevice(layout.sectorBytes, layout.totalSectors, fill);
      const cut = new PowerCutDevice(flash, { cutAtOp: k, seed: k, tear: true });
      assert.throws(() => AbStore.format(cut, layout, asFactory(factory)), PowerCut);
      const what = `format on 0x${fill.toString(16)}: cut in op ${k}/${n} (${cut.history[k - 1]}, torn)`;
      const b = AbStore.open(flash, layout).boot();
      if (b.verified) {
        booted++;
        assert.equal(whichLoad(flash, layout, b, [factory]), factory, `${what}: boots something else: ${b.reason}`);
      }
      AbStore.format(flash, layout, asFactory(factory));
      assert.equal(whichLoad(flash, layout, AbStore.open(flash, layout).boot(), [factory]), factory, `${what}: formatting again does not boot`);
    }
  }
  t.diagnostic(`format: N = ${n} flash operations; ${runs} power cuts; the factory load booted after ${booted} of them, nothing (a blank phone) after the rest; every re-format succeeded`);
});
