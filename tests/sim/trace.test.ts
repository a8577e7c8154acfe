// Traces (docs/TRACE.md) on the reference engine: a recorded run replays to
// the recorder's own digest, the same seed records the same bytes, the debug
// build of the core answers exactly like the release build, and a replay
// notices when an answer, or an input, is not what was recorded.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { T_DATAGRAM, T_DRAIN, TRACE_HEADER_BYTES, TRACE_RECORD_HEADER_BYTES } from "../../host/core/abi.js";
import { defaultWasmPath } from "../../host/core/core.js";
import type { FleetOptions } from "../../host/sim/fleet.js";
import { recordRun, traceDir } from "../support/trace.js";
import { TraceFormatError } from "../../host/trace/format.js";
import { Mismatch, replayV8 } from "../../host/trace/replay-v8.js";

const dir = traceDir("pfs-trace-test-");
const record = (name: string, opts: Partial<FleetOptions>) => recordRun(dir, name, opts);

/** Byte offset of the body of the first record of `kind` with a body of at
 *  least `min` bytes. */
function findBody(bytes: Uint8Array, kind: number, min: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = TRACE_HEADER_BYTES; at < bytes.length; at += TRACE_RECORD_HEADER_BYTES + dv.getUint32(at + 4, true)) {
    if (bytes[at] === kind && dv.getUint32(at + 4, true) >= min) return at + TRACE_RECORD_HEADER_BYTES;
  }
  throw new Error(`no record of kind ${kind}`);
}

const election = record("election.trace", { phones: 8, loss: 0.2, seed: 3 });
const relay = record("relay.trace", { phones: 6, load: "tiny", rootCrashes: 1, seed: 5 });

test("a recorded run replays on V8 to the recorder's digest and outbox record count", () => {
  for (const t of [election, relay]) {
    const r = replayV8(readFileSync(t.file));
    assert.equal(r.digest, t.sum.digest);
    assert.equal(r.records, t.sum.records);
    assert.equal(r.cores, t.sum.cores);
    assert.ok(t.sum.records > 100, `${t.sum.records} outbox records`);
  }
  assert.ok(relay.sum.cores > 6, "the crashed root came back as a new core");
});

test("the same seed records the same trace, byte for byte", () => {
  const again = record("election-again.trace", { phones: 8, loss: 0.2, seed: 3 });
  assert.deepEqual(readFileSync(again.file), readFileSync(election.file));
  const other = record("election-other.trace", { phones: 8, loss: 0.2, seed: 4 });
  assert.notEqual(other.sum.digest, election.sum.digest);
});

test("the debug build of the core answers exactly like the release build", () => {
  const debug = new WebAssembly.Module(readFileSync(defaultWasmPath(true)));
  const r = replayV8(readFileSync(relay.file), debug);
  assert.equal(r.digest, relay.sum.digest);
});

test("a changed expectation is a mismatch naming the record; a changed input is caught downstream", () => {
  const bytes = new Uint8Array(readFileSync(relay.file));
  const at = findBody(bytes, T_DRAIN, 16);
  const bad = bytes.slice();
  bad[at + 4] ^= 1; // the first record's `a` word
  assert.throws(() => replayV8(bad), (e: unknown) => e instanceof Mismatch && /^mismatch: core \d+ \(10\.0\.0\.\d+\) record \d+ T_DRAIN: outbox byte 4 \(record 0, kind \d+\):/.test(e.message));
  const input = bytes.slice();
  const d = findBody(input, T_DATAGRAM, 20);
  input[d + 16] ^= 0x40; // the datagram's magic: the core now drops it as malformed
  assert.throws(() => replayV8(input), (e: unknown) => e instanceof Mismatch);
});

test("a trace cut short, or that is not a trace, is a format error, not a crash", () => {
  const bytes = readFileSync(election.file);
  for (const cut of [0, 10, TRACE_HEADER_BYTES, TRACE_HEADER_BYTES + 3, Math.floor(bytes.length / 2), bytes.length - 1]) {
    assert.throws(() => replayV8(bytes.subarray(0, cut)), (e: unknown) => e instanceof TraceFormatError || e instanceof Mismatch, `cut at ${cut}`);
  }
  const lying = new Uint8Array(bytes);
  new DataView(lying.buffer).setUint32(TRACE_HEADER_BYTES + 4, 0xffffff00, true);
  assert.throws(() => replayV8(lying), TraceFormatError);
  const unknown = new Uint8Array(bytes);
  unknown[TRACE_HEADER_BYTES] = 200;
  assert.throws(() => replayV8(unknown), /unknown kind 200/);
});
