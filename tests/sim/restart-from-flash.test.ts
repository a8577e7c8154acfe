// A phone that crashes after it finished its files boots again from its
// flash (fleet.ts bootPhone): the files it holds checked are served from
// there at once, and it neither fetches nor writes any of them again.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Ev } from "../../host/core/abi.js";
import { Fleet } from "../../host/sim/fleet.js";
import { getPreset } from "../../host/load/presets.js";

const FILES = getPreset("tiny").components.length;

test("a phone restarted after it finished serves its files from flash and writes none of them again", () => {
  const finished = new Map<number, Set<number>>(); // phone -> xids with FILE_DONE, over incarnations
  const doneAtCrash = new Map<number, boolean>();
  const wholeOnRestart = new Map<number, boolean>();
  const notVerified: string[] = [];
  const fleet: Fleet = new Fleet({
    phones: 24, load: "tiny", wanKbps: 512, crash: 0.5, restart: 1, faultMs: 60_000, seed: 5,
    observer: (_t, phone, xid, code) => {
      if (code !== Ev.FileDone) return;
      let s = finished.get(phone);
      if (s === undefined) finished.set(phone, (s = new Set()));
      s.add(xid);
    },
    onCrash: (_t, phone) => doneAtCrash.set(phone, (finished.get(phone)?.size ?? 0) === FILES),
    onRestart: (_t, phone) => {
      const whole = doneAtCrash.get(phone) ?? false;
      wholeOnRestart.set(phone, whole);
      if (!whole) return;
      const p = fleet.world.phones[phone];
      for (const slot of p.slots.values()) if (p.core!.x.hierVerified(slot) !== 1) notVerified.push(`phone ${phone} slot ${slot}`);
    },
  });
  while (!fleet.step()) {
    /* advance */
  }
  const r = fleet.result();
  assert.deepEqual(r.errors, []);
  assert.equal(r.relay!.verified, r.live);
  const kept = [...wholeOnRestart].filter(([, whole]) => whole).map(([phone]) => phone);
  assert.ok(kept.length >= 2, `only ${kept.length} phones restarted after finishing (seed 5)`);
  assert.ok(r.stats.filesKeptOnRestart >= kept.length * FILES, `${r.stats.filesKeptOnRestart} files kept for ${kept.length} phones`);
  assert.deepEqual(notVerified, [], "a kept file was not verified at once");
  for (const phone of kept) {
    const p = fleet.world.phones[phone];
    if (p.alive) assert.equal(p.flashBytesWritten, 0, `phone ${phone} wrote its files again after it restarted`);
  }
});
