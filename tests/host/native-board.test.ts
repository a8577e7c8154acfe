// The board image (make board BOARD=mps2-an385: wasm2c core, C replayer,
// newlib over semihosting, a Cortex-M3) under qemu-system-arm: the same
// digest line as V8 and the native replayer for a trace recorded with the
// board's own figures, the same mismatch for a flipped expectation, and a
// one-line refusal for a trace whose cores need more linear memory than the
// board has. Skips, saying why, when the Arm toolchain, newlib or QEMU is
// missing and cannot be installed.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { T_DRAIN } from "../../host/core/abi.js";
import { replayV8 } from "../../host/trace/replay-v8.js";
import { BOARD, ensureNative, findRecord, recordTrace, runQemu, runReplay, splitTrace } from "../support/native.js";

let dir = "";
let why: string | null = null;

before(() => {
  why = ensureNative("board") ?? ensureNative("native");
  if (why === null) dir = mkdtempSync(join(tmpdir(), "pfs-native-board-"));
});

after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test(`${BOARD} under QEMU prints the digest line V8 and the native replayer print`, (t) => {
  if (why !== null) return t.skip(why);
  const file = join(dir, "board.trace");
  const recorded = recordTrace(file, ["--board", BOARD, "--phones", "3", "--load", "tiny", "--seed", "4"]);
  const q = runQemu(file);
  assert.equal(q.signal, null, `QEMU ended by ${q.signal}`);
  assert.equal(q.code, 0, q.lines.join("\n"));
  assert.equal(q.lines[0], recorded);
  assert.match(q.lines[1] ?? "", /^stack [1-9]\d*$/);
  assert.equal(q.lines.length, 2, q.lines.join("\n"));
  const v8 = replayV8(readFileSync(file));
  assert.equal(q.lines[0], `digest ${v8.digest} records ${v8.records}`);
  assert.equal(runReplay(file).lines[0], q.lines[0]);

  // One expectation byte flipped: exit 1, the same line as natively.
  const bytes = readFileSync(file);
  const { records } = splitTrace(bytes);
  const d = records[findRecord(records, T_DRAIN, (r) => r.body.length > 0)];
  bytes[d.at + 8] ^= 0x01;
  const flipped = join(dir, "flipped.trace");
  writeFileSync(flipped, bytes);
  const m = runQemu(flipped);
  assert.equal(m.code, 1, m.lines.join("\n"));
  assert.match(m.lines[0], /^mismatch: core \d+ \([0-9.]+\) record \d+ T_DRAIN: outbox byte 0 /);
  assert.equal(m.lines[0], runReplay(flipped).lines[0]);
});

test(`${BOARD} refuses, in one line, a trace whose cores need more linear memory than it has`, (t) => {
  if (why !== null) return t.skip(why);
  // Third-generation phone figures: a relay sized for 16 MiB files.
  const file = join(dir, "third-gen.trace");
  recordTrace(file, ["--phones", "2", "--load", "tiny", "--seed", "4"]);
  const q = runQemu(file);
  assert.equal(q.signal, null);
  assert.equal(q.code, 2, q.lines.join("\n"));
  assert.match(q.lines[0], new RegExp(`^pfs-replay: core 0 \\([0-9.]+\\) record 0 T_CORE: the core needs more linear memory than board ${BOARD} \\(memory.linearBytes \\d+\\) has: memory.grow to \\d+ pages`));
  assert.equal(q.lines.filter((l) => !/^stack \d+$/.test(l)).length, 1, q.lines.join("\n"));
});
