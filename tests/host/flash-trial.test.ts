// Trial boot and revert, after MCUboot's test/confirm: an update commits its
// load on trial; the next power-up boots it once and marks it tried; only a
// confirm keeps it; a power-up after a trial that was not confirmed boots the
// old load again. Every load here is judged by reading it back from flash
// (whichLoad: names and SHA-256s of the bytes in the booted slot).

import { test } from "node:test";
import assert from "node:assert/strict";
import { AbStore } from "../../host/flash/ab-store.js";
import { CONFIRMED_MARK_AT, MARK_BYTES, markSet, MARK_QUORUM, TRIED_MARK_AT } from "../../host/flash/boot-record.js";
import { FlashError } from "../../host/flash/errors.js";
import { IoFaultDevice } from "../../host/flash/io-fault-device.js";
import { MemoryDevice } from "../../host/flash/memory-device.js";
import type { Layout } from "../../host/flash/layout.js";
import { asFactory, factoryLoad, newLoad, runUpdate, smallLayout, whichLoad, writePlan, type TestLoad } from "../support/flash.js";

function updated(): { dev: MemoryDevice; layout: Layout; factory: TestLoad; load2: TestLoad } {
  const layout = smallLayout();
  const dev = new MemoryDevice(layout.sectorBytes, layout.totalSectors);
  const factory = factoryLoad();
  AbStore.format(dev, layout, asFactory(factory));
  const load2 = newLoad("2");
  runUpdate(AbStore.open(dev, layout), load2, writePlan(load2, 4));
  return { dev, layout, factory, load2 };
}

const states = (store: AbStore) => store.slots().map((s) => `${s.slot}:${s.state}`).join(" ");

test("a committed update boots once on trial; confirmed it stays, and the old load is the confirmed fallback", () => {
  const { dev, layout, factory, load2 } = updated();
  const before = AbStore.open(dev, layout);
  const b = before.boot();
  assert.equal(b.trial, true, "the new record is a trial");
  assert.equal(whichLoad(dev, layout, b, [load2]), load2);
  assert.equal(states(before), "A:confirmed B:trial");

  const phone = AbStore.open(dev, layout);
  const up = phone.powerUp();
  assert.equal(whichLoad(dev, layout, up, [load2]), load2, "the trial boots");
  assert.equal(phone.onTrial(), 1);
  // From the flash alone: were the power to die now, the old load boots.
  const meanwhile = AbStore.open(dev, layout);
  assert.equal(whichLoad(dev, layout, meanwhile.boot(), [factory]), factory);
  assert.equal(states(meanwhile), "A:active B:bad");
  assert.match(meanwhile.slots()[1].why, /booted once on trial \(record 2\) and never confirmed: reverted/);
  assert.throws(() => phone.beginUpdate(load2.loadName, []), /runs on trial: confirm it before an update/);

  const kept = phone.confirm();
  assert.equal(kept.trial, false);
  assert.equal(phone.onTrial(), null);
  for (let boot = 0; boot < 3; boot++) {
    const again = AbStore.open(dev, layout);
    const c = again.powerUp();
    assert.equal(whichLoad(dev, layout, c, [load2]), load2, `power-up ${boot} after the confirm`);
    assert.equal(c.trial, false);
    assert.equal(again.onTrial(), null);
    assert.equal(states(again), "A:confirmed B:active");
  }
  assert.throws(() => AbStore.open(dev, layout).confirm(), /confirm\(\) without a trial/);
});

test("a trial that is not confirmed (a crash, a power cut, kill -9) boots the old load at the next power-up, and stays reverted", () => {
  const { dev, layout, factory, load2 } = updated();
  assert.equal(whichLoad(dev, layout, AbStore.open(dev, layout).powerUp(), [load2]), load2, "the trial boot");
  // ... and it dies before confirming. Every power-up from now on:
  for (let boot = 0; boot < 3; boot++) {
    const store = AbStore.open(dev, layout);
    const b = store.powerUp();
    assert.equal(whichLoad(dev, layout, b, [factory]), factory, `power-up ${boot} after the failed trial`);
    assert.equal(store.onTrial(), null);
    assert.match(b.reason, /names slot B on trial: booted once and never confirmed \(reverted\)/);
  }
  // The phone upgrades again, into the same slot, and this time confirms.
  const store = AbStore.open(dev, layout);
  store.powerUp();
  const load3 = newLoad("3");
  runUpdate(store, load3, writePlan(load3, 7));
  const phone = AbStore.open(dev, layout);
  assert.equal(whichLoad(dev, layout, phone.powerUp(), [load3]), load3);
  phone.confirm();
  assert.equal(whichLoad(dev, layout, AbStore.open(dev, layout).powerUp(), [load3]), load3);
});

test("the last resort (no record verifies) prefers a slot that is not a reverted trial", () => {
  const { dev, layout, factory } = updated();
  AbStore.open(dev, layout).powerUp(); // the trial boots and dies
  dev.erase(0); // the factory's record is lost
  const b = AbStore.open(dev, layout).powerUp();
  assert.equal(whichLoad(dev, layout, b, [factory]), factory, b.reason);
  assert.match(b.reason, /slot A's own manifest \(seq 1\) verifies/);
});

test("a TRIED mark that will not take: the trial is not booted at all; a CONFIRMED mark that will not take: the old load next time", () => {
  {
    const { dev, layout, factory } = updated();
    // The record sectors are full (nothing can be programmed there, not a
    // bit): the TRIED mark cannot be written.
    const full = () => new IoFaultDevice(dev, [{ kind: "full", at: 0, times: 1, sectors: { first: 0, last: 1 } }]);
    const faulty = full();
    const store = AbStore.open(faulty, layout);
    const b = store.powerUp();
    assert.equal(whichLoad(dev, layout, b, [factory]), factory, "a trial that cannot be made safe is not booted");
    assert.equal(store.onTrial(), null);
    assert.match(b.reason, /names slot B on trial: not booted: its TRIED mark does not take/);
    assert.equal(faulty.injected.full, 1);
    assert.equal(AbStore.open(dev, layout).boot().trial, true, "the flash still holds an untried trial");
    assert.equal(whichLoad(dev, layout, AbStore.open(full(), layout).powerUp(), [factory]), factory, "and the next power-up does not boot it either");
  }
  {
    const { dev, layout, factory, load2 } = updated();
    // Room for the TRIED mark only.
    const faulty = new IoFaultDevice(dev, [{ kind: "full", at: MARK_BYTES, times: 1, sectors: { first: 0, last: 1 } }]);
    const store = AbStore.open(faulty, layout);
    assert.equal(whichLoad(dev, layout, store.powerUp(), [load2]), load2);
    assert.throws(() => store.confirm(), (e: Error) => e instanceof FlashError && /CONFIRMED mark of boot record 2 \(sector 1\) does not take/.test(e.message));
    assert.equal(whichLoad(dev, layout, AbStore.open(dev, layout).powerUp(), [factory]), factory);
  }
});

test("marks are read by quorum: a torn mark reads set or not, one flipped bit changes neither", () => {
  const zeros = (n: number) => {
    const m = new Uint8Array(MARK_BYTES).fill(0xff);
    m.fill(0, 0, n);
    return m;
  };
  assert.equal(markSet(zeros(0)), false);
  assert.equal(markSet(zeros(MARK_QUORUM - 1)), false);
  assert.equal(markSet(zeros(MARK_QUORUM)), true);
  assert.equal(markSet(zeros(MARK_BYTES)), true);
  const flipped = zeros(MARK_BYTES);
  flipped[3] = 0x10;
  assert.equal(markSet(flipped), true, "a set mark with one bit flipped");
  const clear = zeros(0);
  clear[5] = 0xef;
  assert.equal(markSet(clear), false, "a clear mark with one bit flipped");
  assert.ok(TRIED_MARK_AT >= 76 && CONFIRMED_MARK_AT >= TRIED_MARK_AT + MARK_BYTES, "the marks lie after the record, apart");
  // A bit flipped on reading a confirmed trial record (read 1 of its sector)
  // or its CONFIRMED mark (read 2) does not send the phone back to the old load.
  const { dev, layout, load2 } = updated();
  const store = AbStore.open(dev, layout);
  store.powerUp();
  store.confirm();
  for (const at of [1, 2]) {
    const flips = new IoFaultDevice(dev, [{ kind: "flip", at, times: 1, sectors: { first: 1, last: 1 } }]);
    const lines: string[] = [];
    const b = AbStore.open(flips, layout, { report: (l) => lines.push(l) }).powerUp();
    assert.equal(whichLoad(dev, layout, b, [load2]), load2, `a flip on read ${at}: ${b.reason}`);
    assert.equal(b.trial, false);
    assert.equal(flips.injected.flip, 1);
    if (at === 1) assert.match(lines.join("\n"), /did not match its hash on a first read and did on reading again/);
  }
});
