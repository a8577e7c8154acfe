// The microcontroller board (boards/mps2-an385.json, inheriting mcu.json):
// its core fits two wasm pages, and a fleet of it upgrades like the phones
// do, though each phone relays only two files at a time and queues the rest
// (assembly/waiting.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadBoard } from "../../host/boards.js";
import { checkBudget, coreMemory, WASM_PAGE_BYTES } from "../../host/board-figures.js";
import { Role } from "../../host/core/abi.js";
import { runFleet } from "../../host/sim/fleet.js";

test("mps2-an385: the core fits its two pages after init(), and its budget holds", () => {
  const m = coreMemory(loadBoard("mps2-an385"));
  assert.ok(m.heapBytes <= 2 * WASM_PAGE_BYTES, `${m.heapBytes} bytes`);
  assert.equal(m.pages, 2);
  assert.equal(m.linearBytes, 2 * WASM_PAGE_BYTES);
  checkBudget(m);
});

test("mps2-an385: 64 phones, 5 files, loss 0.1, a root crash: everybody verified, WAN about once", () => {
  const r = runFleet({ phones: 64, load: "mcu-1.0", loss: 0.1, rootCrashes: 1, board: "mps2-an385", seed: 11 });
  const x = r.relay!;
  assert.deepEqual(r.errors, [], `seed ${r.seed}: ${r.errors.join("; ")}`);
  assert.equal(x.verified, r.live);
  assert.equal(x.corruptHeld, 0);
  assert.equal(x.refetchedBytes, 0);
  assert.equal(r.stats.crashes, 1);
  assert.ok(x.wanBytes <= 1.1 * x.loadBytes, `WAN ${x.wanBytes} for ${x.loadBytes}`);
  assert.equal(r.stats.outboxDropped, 0);
  assert.ok(r.stats.outboxPeakBytes <= loadBoard("mps2-an385").core.outboxBytes!);
});

test("mps2-an385: files beyond the two transfers wait, and start when one comes free", async () => {
  // Sampled from the running fleet: at some point phones held hierarchies
  // in ROLE_WAITING, and at the end none did.
  const { Fleet } = await import("../../host/sim/fleet.js");
  const fleet = new Fleet({ phones: 8, load: "mcu-1.0", board: "mps2-an385", seed: 3 });
  let sawWaiting = 0;
  while (!fleet.step()) {
    for (const p of fleet.world.phones) {
      if (p.core === null) continue;
      for (const slot of p.slots.values()) if (p.core.x.hierRole(slot) === Role.Waiting) sawWaiting++;
    }
  }
  const r = fleet.result();
  assert.deepEqual(r.errors, []);
  assert.ok(sawWaiting > 0, "with 5 files and 2 transfers some files wait");
  for (const p of fleet.world.phones) for (const slot of p.slots.values()) assert.notEqual(p.core!.x.hierRole(slot), Role.Waiting);
});
