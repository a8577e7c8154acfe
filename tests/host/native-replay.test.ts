// The C trace replayer (native/replay, build/native/pfs-replay) on a trace
// the simulator records, whole and broken on purpose: it must print the
// recording's digest line for the whole trace, exactly one line and exit 2
// for a trace that is cut short or breaks its layout, and exit 1 naming the
// record for an expectation that differs; never crash. Skips, saying why,
// when the native toolchain is missing and cannot be installed.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { T_DRAIN, T_END, T_FLASH_READ, T_NEED, T_RX, T_TIMER } from "../../host/core/abi.js";
import { Mismatch, replayV8 } from "../../host/trace/replay-v8.js";
import { ensureNative, findRecord, joinTrace, Ran, recordTrace, runReplay, splitTrace } from "../support/native.js";

/** A relay of the tiny load to four phones and a late one: elections,
 *  receive windows, flash writes and reads, in a second or so. */
const SIM_ARGS = ["--phones", "4", "--load", "tiny", "--late", "1", "--seed", "2"];
/** Layout of the bodies edited below (docs/TRACE.md 2). */
const F64 = 8;
const RX_FIXED_BYTES = 16; // f64 now; u32 exp (the window); i32 handle
const RX_WINDOW_AT = F64;

let dir = "";
let whole: Buffer;
let digestLine = "";
let why: string | null = null;

before(() => {
  why = ensureNative("native");
  if (why !== null) return;
  dir = mkdtempSync(join(tmpdir(), "pfs-native-replay-"));
  const file = join(dir, "whole.trace");
  digestLine = recordTrace(file, SIM_ARGS);
  whole = readFileSync(file);
});

after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

let count = 0;
function replayBytes(bytes: Buffer, extra: string[] = []): Ran {
  const file = join(dir, `case-${count++}.trace`);
  writeFileSync(file, bytes);
  return runReplay(file, extra);
}

/** Exit `code`, no signal, and one line that matches `line`. */
function expectOneLine(r: Ran, code: number, line: RegExp): void {
  assert.equal(r.signal, null, `ended by ${r.signal}`);
  assert.deepEqual(r.lines.length, 1, `one line, got:\n${r.lines.join("\n")}`);
  assert.match(r.lines[0], line);
  assert.equal(r.code, code, r.lines[0]);
}

const malformed = (r: Ran, what: RegExp) => {
  expectOneLine(r, 2, what);
  assert.match(r.stderr, /^pfs-replay: /, "a malformed trace is reported on stderr");
};

test("the C replayer prints the recording's digest line for a whole trace, as V8 does", (t) => {
  if (why !== null) return t.skip(why);
  const r = replayBytes(whole);
  expectOneLine(r, 0, /^digest [0-9a-f]{64} records \d+$/);
  assert.equal(r.lines[0], digestLine);
  const v8 = replayV8(whole);
  assert.equal(r.lines[0], `digest ${v8.digest} records ${v8.records}`);
  const s = replayBytes(whole, ["--stack"]);
  assert.equal(s.code, 0);
  assert.equal(s.lines[0], digestLine);
  assert.match(s.lines[1] ?? "", /^stack [1-9]\d*$/);
});

test("a trace cut short anywhere is one line and exit 2", (t) => {
  if (why !== null) return t.skip(why);
  const { records } = splitTrace(whole);
  const bigRx = records[findRecord(records, T_RX, (r) => r.body.length > 1000)];
  const end = records[records.length - 1];
  assert.equal(end.kind, T_END);
  const cuts = [0, 10, 16 + 3, bigRx.at + 8 + 500, end.at, end.at + 8 + 20, whole.length - 1];
  for (const cut of cuts) malformed(replayBytes(whole.subarray(0, cut)), /not a trace|cut short/);
});

test("a body length that lies is one line and exit 2 (or 1 where it becomes a difference)", (t) => {
  if (why !== null) return t.skip(why);
  const { records } = splitTrace(whole);
  // A T_TIMER holds exactly an f64: any other length breaks its layout.
  const timer = records[findRecord(records, T_TIMER)];
  const longer = Buffer.from(whole);
  longer.writeUInt32LE(F64 + 4, timer.at + 4);
  malformed(replayBytes(longer), new RegExp(`T_TIMER: body of ${F64 + 4} bytes does not fit its layout`));
  // A drain that claims 4 bytes more swallows the next record's header.
  const drain = records[findRecord(records, T_DRAIN, (r) => r.body.length > 0)];
  const drainLie = Buffer.from(whole);
  drainLie.writeUInt32LE(drain.body.length + 4, drain.at + 4);
  const r = replayBytes(drainLie);
  assert.equal(r.signal, null);
  assert.equal(r.lines.length, 1, r.lines.join("\n"));
  assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}: ${r.lines[0]}`);
  // A length past the end of the file.
  const huge = Buffer.from(whole);
  huge.writeUInt32LE(1 << 20, records[records.length - 1].at + 4);
  malformed(replayBytes(huge), /cut short|does not fit its layout/);
});

test("an unknown kind, and bytes after T_END, are one line and exit 2", (t) => {
  if (why !== null) return t.skip(why);
  const { records } = splitTrace(whole);
  const bad = Buffer.from(whole);
  bad[records[5].at] = 99;
  malformed(replayBytes(bad), /record 5: unknown kind 99/);
  malformed(replayBytes(Buffer.concat([whole, Buffer.from([0])])), /1 bytes after T_END/);
  malformed(replayBytes(Buffer.from("this is not a trace at all, just words")), /not a trace/);
});

test("a T_RX with more bytes than the window is one line and exit 2", (t) => {
  if (why !== null) return t.skip(why);
  const { header, records } = splitTrace(whole);
  const i = findRecord(records, T_RX, (r) => r.body.readUInt32LE(RX_WINDOW_AT) > 0);
  const window = records[i].body.readUInt32LE(RX_WINDOW_AT);
  const body = Buffer.alloc(RX_FIXED_BYTES + window + 1);
  records[i].body.copy(body, 0, 0, Math.min(records[i].body.length, body.length));
  const edited = records.map((r, j) => (j === i ? { kind: r.kind, body } : r));
  malformed(replayBytes(joinTrace(header, edited)), new RegExp(`record ${i} T_RX: ${window + 1} bytes, more than the window of ${window}`));
});

test("a T_FLASH_READ with bytes but no pending read is one line and exit 2", (t) => {
  if (why !== null) return t.skip(why);
  const { header, records } = splitTrace(whole);
  // Right after the first core's T_CORE: nothing can be pending yet.
  const body = Buffer.alloc(F64 + 12 + 4);
  body.writeInt32LE(3, F64); // handle
  body.writeUInt32LE(77, F64 + 4); // tag
  body.writeInt32LE(4, F64 + 8); // len
  const edited = [records[0], { kind: T_FLASH_READ, body }, ...records.slice(1)];
  malformed(replayBytes(joinTrace(header, edited)), /record 1 T_FLASH_READ: 4 bytes for handle 3 tag 77, but no such read is pending/);
});

test("one byte of an expectation flipped is exit 1 naming core, record and what differed", (t) => {
  if (why !== null) return t.skip(why);
  const { records } = splitTrace(whole);
  const flip = (at: number) => {
    const b = Buffer.from(whole);
    b[at] ^= 0x01;
    return b;
  };
  const d = findRecord(records, T_DRAIN, (r) => r.body.length > 0);
  const drained = flip(records[d].at + 8 + 4); // the first record's a field
  const r = replayBytes(drained);
  expectOneLine(r, 1, new RegExp(`^mismatch: core \\d+ \\(\\d+\\.\\d+\\.\\d+\\.\\d+\\) record ${d} T_DRAIN: outbox byte 4 \\(record 0, kind \\d+\\): expected 0x[0-9a-f]{2}, got 0x[0-9a-f]{2}$`));
  assert.throws(() => replayV8(drained), Mismatch, "V8 finds the same difference");
  const n = findRecord(records, T_NEED);
  expectOneLine(replayBytes(flip(records[n].at + 8 + F64)), 1, new RegExp(`record ${n} T_NEED at [0-9.]+ ms: need\\(\\) returned -?\\d+, expected -?\\d+$`));
  const end = records.length - 1;
  expectOneLine(replayBytes(flip(records[end].at + 8 + 8)), 1, new RegExp(`^mismatch: record ${end} T_END: digest [0-9a-f]{64}, expected [0-9a-f]{64}$`));
});
