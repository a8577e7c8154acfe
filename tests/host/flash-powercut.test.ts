// "Never bricks", to MCUboot's bar: count the flash operations N of a clean
// update (commit included), then for every k in 1..N run the same update with
// the power cut in operation k (torn, and again completed), power up on what
// the flash then holds, and check that boot finds a complete, verified load
// that is exactly the old one or exactly the new one, by SHA-256 of the
// contents read from flash. The new one may boot only once its boot record
// is written. Then the phone retries, the power dies again somewhere in the
// retry (the slot now holds what the first cut left), and a last retry must
// succeed. The same for cuts during a factory format.

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { AbStore } from "../../host/flash/ab-store.js";
import { PowerCut, PowerCutDevice } from "../../host/flash/fault-device.js";
import { MemoryDevice } from "../../host/flash/memory-device.js";
import { type Layout } from "../../host/flash/layout.js";
import { asFactory, factoryLoad, newLoad, runUpdate, smallLayout, whichLoad, writePlan, type Piece, type TestLoad } from "../support/flash.js";

interface Upgrade {
  name: string;
  /** The flash before the update: `from` boots from it. */
  image: Uint8Array;
  from: TestLoad;
  to: TestLoad;
  plan: Piece[];
}

/** Mutating operations of the update without a cut. */
function countOps(layout: Layout, u: Upgrade): number {
  const counter = new PowerCutDevice(MemoryDevice.fromImage(layout.sectorBytes, u.image), { cutAtOp: Infinity, seed: 0 });
  runUpdate(AbStore.open(counter, layout), u.to, u.plan);
  return counter.ops;
}

/** Sectors a load's components take in a slot, each rounded up to sectors. */
function componentSectors(layout: Layout, load: TestLoad): number {
  return load.files.reduce((n, f) => n + Math.ceil(f.stream.length / layout.sectorBytes), 0);
}

/** How each operation is cut: torn two ways (two seeds), and completed. */
const CUTS = [{ tear: true, salt: 1 }, { tear: true, salt: 2 }, { tear: false, salt: 0 }];

function proveUpgrade(t: TestContext, layout: Layout, u: Upgrade): void {
  // Manifest erase and program, each component sector erased once, one
  // program per piece, and the boot record's erase and program.
  const opsOf = (plan: Piece[]) => layout.manifestSectors + 1 + componentSectors(layout, u.to) + plan.length + 2;
  const n = countOps(layout, u);
  assert.equal(n, opsOf(u.plan), "the operations are the ones expected");
  const booted = { old: 0, new: 0 };
  let runs = 0;
  for (let k = 1; k <= n; k++) {
    for (const { tear, salt } of CUTS) {
      runs++;
      const flash = MemoryDevice.fromImage(layout.sectorBytes, u.image);
      const cut = new PowerCutDevice(flash, { cutAtOp: k, seed: 3 * k + salt, tear });
      assert.throws(() => runUpdate(AbStore.open(cut, layout), u.to, u.plan), PowerCut);
      const what = `${u.name}: cut in op ${k}/${n} (${cut.history[k - 1]}${tear ? `, torn by seed ${3 * k + salt}` : ""})`;
      // Power up on what the flash holds.
      const b = AbStore.open(flash, layout).boot();
      const got = whichLoad(flash, layout, b, [u.from, u.to]);
      assert.ok(got !== null, `${what}: boots no exact load: ${b.reason}`);
      if (got === u.to) {
        booted.new++;
        assert.equal(k, n, `${what}: the new load booted before its boot record was written`);
      } else {
        booted.old++;
        if (k === n && !tear) assert.fail(`${what}: the boot record was written, but the old load boots: ${b.reason}`);
      }
      // The phone retries the update from scratch over what the cut left,
      // and the power dies again somewhere in the retry: still no step back.
      const retryPlan = writePlan(u.to, k);
      const n2 = opsOf(retryPlan);
      const k2 = 1 + ((k * 7919 + salt * 104_729) % n2);
      const again = new PowerCutDevice(flash, { cutAtOp: k2, seed: 5 * k + salt, tear });
      assert.throws(() => runUpdate(AbStore.open(again, layout), u.to, retryPlan), PowerCut);
      const b2 = AbStore.open(flash, layout).boot();
      const got2 = whichLoad(flash, layout, b2, [u.from, u.to]);
      assert.ok(got2 !== null, `${what}, then in op ${k2} of the retry: boots no exact load: ${b2.reason}`);
      if (got2 !== got) assert.ok(got2 === u.to && k2 === n2, `${what}, then in op ${k2} of the retry: went from ${got.loadName} to ${got2.loadName}`);
      // The last retry finishes.
      runUpdate(AbStore.open(flash, layout), u.to, retryPlan);
      const after = AbStore.open(flash, layout).boot();
      assert.equal(whichLoad(flash, layout, after, [u.to]), u.to, `${what}: the retried update does not boot: ${after.reason}`);
    }
  }
  t.diagnostic(`${u.name}: N = ${n} flash operations per update; ${runs} power cuts (each op torn two ways, and completed), each followed by a retry cut again and a retry that finishes; booted the old load ${booted.old} times, the new ${booted.new}`);
}

test("a power cut in any flash operation of an update leaves exactly the old or the new load booting", (t) => {
  const layout = smallLayout();
  const factory = factoryLoad();
  const load2 = newLoad("2");
  const load3 = newLoad("3");
  const blank = new MemoryDevice(layout.sectorBytes, layout.totalSectors);
  AbStore.format(blank, layout, asFactory(factory));
  const formatted = blank.image();
  // First upgrade: factory in A, the new load to B, its record to the blank record sector.
  proveUpgrade(t, layout, { name: "factory (A) -> load 2 (B)", image: formatted, from: factory, to: load2, plan: writePlan(load2, 1) });
  // Second: B runs, the new load overwrites A, and its record overwrites the
  // older record, the one that still names A.
  runUpdate(AbStore.open(blank, layout), load2, writePlan(load2, 1));
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
