// A core with fewer transfers than files (assembly/waiting.ts): the file
// that finds every transfer busy waits in ROLE_WAITING, takes part in
// nothing, and starts as soon as a transfer comes free. One core, driven by
// hand; its outputs are read from the outbox.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { loadBoard } from "../../host/boards.js";
import { NEED_RELAY, Role } from "../../host/core/abi.js";
import { CoreSink, PfsCore } from "../../host/core/core.js";

const quiet = (): CoreSink & { datagrams: number; fetches: number } => {
  const s = {
    datagrams: 0, fetches: 0,
    datagram() { s.datagrams++; }, connect() {}, write() {}, close() {}, event() {},
    fetch() { s.fetches++; }, flashWrite() {}, flashRead() {}, writeRef() {},
  };
  return s;
};

test("two files, one transfer: the second waits, is silent, and starts when the first is released", () => {
  const core = new PfsCore({ ...loadBoard("mcu").core, maxTransfers: 1, selfAddr: 0x0a000001, seed: 7 });
  const sink = quiet();
  const a = core.need(0, "CP-7961G", "a.bin", 100_000, 0, NEED_RELAY, randomBytes(32));
  const b = core.need(0, "CP-7961G", "b.bin", 100_000, 0, NEED_RELAY, randomBytes(32));
  assert.ok(a >= 0 && b >= 0 && a !== b);
  assert.equal(core.x.hierRole(b), Role.Waiting);
  assert.notEqual(core.x.hierRole(a), Role.Waiting);
  // Run both for a few seconds: only `a` elects (its solicits, claims, root ads).
  for (let t = 0; t <= 5000; t += 50) {
    core.timer(t);
    core.drain(sink);
  }
  assert.equal(core.x.hierRole(a), Role.Root);
  assert.equal(core.x.hierRole(b), Role.Waiting, "a waiting file does not elect");
  assert.equal(sink.fetches, 1, "only the admitted file is fetched");
  assert.equal(core.nextDeadlineMs() > 0, true, "nothing is due for the waiting file while no transfer is free");
  core.release(5000, a);
  assert.equal(core.nextDeadlineMs(), 0, "a free transfer and a waiting file: due at once");
  core.timer(5001);
  core.drain(sink);
  assert.equal(core.x.hierRole(b), Role.Discover, "admitted: it starts as if just needed");
  assert.ok(core.x.hierTotal(b) > 100_000);
});

test("a file over the board's maxFileBytes is refused (-3), not queued", () => {
  const core = new PfsCore({ ...loadBoard("mcu").core, selfAddr: 0x0a000001, seed: 7 });
  assert.equal(core.need(0, "CP-7961G", "huge.bin", 2 << 20, 0, NEED_RELAY, randomBytes(32)), -3);
});
