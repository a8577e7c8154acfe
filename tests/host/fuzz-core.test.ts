// The debug core fuzzed (issue 10, 5): random and structure-aware mutated
// datagrams and stream frames (tests/support/fuzz-wire.ts, from
// docs/PROTOCOL.md) fed into every phone's core of a simulated fleet while
// it upgrades (tests/support/fuzz-sim.ts). 0 traps and 0 assertion failures
// (either ends the run with the seed), and every phone still finishes with
// the whole load checked, nothing unchecked in flash. `make test` feeds
// PFS_FUZZ_INPUTS (default 100,000); `make fuzz` feeds 1,000,000.

import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultWasmPath } from "../../host/core/core.js";

// Before any core is made: every core in this file is the debug build, whose
// assertions trap (host/core/core.ts loadModule reads PFS_WASM).
process.env.PFS_WASM = process.env.PFS_FUZZ_WASM ?? defaultWasmPath(true);
const { loadModule, PfsCore } = await import("../../host/core/core.js");
const { loadBoard } = await import("../../host/boards.js");
const { Rng } = await import("../../host/sim/random.js");
const { datagram, frame, FRAME, xidOf } = await import("../support/fuzz-wire.js");
const { runFuzzedFleet } = await import("../support/fuzz-sim.js");

const INPUTS = Number(process.env.PFS_FUZZ_INPUTS ?? 100_000);
const SEED = Number(process.env.PFS_FUZZ_SEED ?? 4051);

test("the encoders write what the core reads: in-range messages are never counted malformed", () => {
  const core = new PfsCore({ ...loadBoard("third-gen").core, selfAddr: 0x0a000001, seed: 1 }, loadModule());
  const xid = core.xidOf("CP-7961G", "f.sbn");
  assert.equal(xid, xidOf("CP-7961G", "f.sbn"), "XID (PROTOCOL.md 3.2)");
  core.need(0, "CP-7961G", "f.sbn", 0);
  const rng = new Rng(7);
  const t = { xids: [xid], addrs: [0x0a000002, 0x0a000003], strict: true };
  for (let i = 0; i < 2000; i++) {
    core.datagram(i, 0x0a000009, datagram(rng, t));
    core.drain({ datagram() {}, connect() {}, write() {}, writeRef() {}, close() {}, event() {}, fetch() {}, flashWrite() {}, flashRead() {} });
  }
  assert.equal(core.x.malformedDatagrams(), 0);
  // A well-formed JOIN for an XID this phone is no member of: refused, not malformed.
  const h = core.accept(3000, 0x0a000009);
  assert.ok(h >= 0);
  core.streamData(3000, h, frame(rng, t, FRAME.join));
  assert.equal(core.x.malformedFrames(), 0);
});

test(`${INPUTS.toLocaleString("en")} fuzzed datagrams and frames into debug cores during an upgrade: 0 traps, and the upgrade finishes`, { timeout: 600_000 }, (t) => {
  assert.ok(INPUTS >= 1000);
  assert.match(process.env.PFS_WASM!, /pfs\.debug\.wasm$/);
  const started = performance.now();
  // A trap or a failed assertion throws (CoreTrap, with the core's line):
  // said with the seed that reproduces it (PFS_FUZZ_SEED).
  let run: ReturnType<typeof runFuzzedFleet>;
  try {
    run = runFuzzedFleet({ seed: SEED, inputs: INPUTS });
  } catch (e) {
    throw new Error(`PFS_FUZZ_SEED=${SEED} PFS_FUZZ_INPUTS=${INPUTS}: ${(e as Error).message}`, { cause: e });
  }
  const { result, stats } = run;
  const wallMs = performance.now() - started;
  t.diagnostic(`seed ${SEED}: ${stats.datagrams} datagrams, ${stats.frames} frames on ${stats.streams} streams (${stats.refused} refused at accept) ` +
    `in ${(wallMs / 1000).toFixed(1)} s; cores counted ${stats.malformedDatagrams} malformed datagrams, ${stats.malformedFrames} malformed frames; ` +
    `last input at ${stats.lastBatchMs.toFixed(0)} ms, upgrade done at ${result.relay?.doneMs} ms virtual`);
  assert.ok(stats.datagrams + stats.frames >= INPUTS);
  assert.deepEqual(result.errors, [], `seed ${SEED}`);
  assert.equal(result.ok, true);
  assert.equal(result.relay!.verified, result.live, "every phone holds the load checked");
  assert.equal(result.relay!.corruptHeld, 0);
  assert.ok(result.relay!.doneMs !== null && result.relay!.doneMs > stats.lastBatchMs, "the fuzzing happened during the upgrade");
  // The fuzzer reached the decoders, not only the front door.
  assert.ok(stats.malformedDatagrams > stats.datagrams / 10 && stats.malformedFrames > 0);
});
