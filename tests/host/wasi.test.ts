// The core as a WASI command (build/pfs.wasi.wasm, wasi/): it imports
// nothing but wasi_snapshot_preview1, passes its self-checks, replays
// recorded traces to the same digest line as the V8 reference replayer (one
// core rebooted for every T_CORE, across files too), reads a trace in chunks
// (its memory does not grow with the trace), and answers bad input with one
// line: exit 2 for usage and malformed files, exit 1 naming a difference.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  T_ACCEPT, T_DEADLINE, T_DRAIN, T_END, T_RX, T_TIMER, TRACE_HEADER_BYTES, TRACE_RECORD_HEADER_BYTES,
} from "../../host/core/abi.js";
import { PfsCore } from "../../host/core/core.js";
import type { FleetOptions } from "../../host/sim/fleet.js";
import { recordRun, traceDir } from "../support/trace.js";
import { digestLine } from "../../host/trace/digest.js";
import { Mismatch, replayV8 } from "../../host/trace/replay-v8.js";
import { wasiCommand } from "../../host/cli/wasi.js";
import { preopensFor, runWasi, runWasiReplay, WASI_WASM } from "../../host/wasi/run.js";

const dir = traceDir("pfs-wasi-test-");
const record = (name: string, opts: Partial<FleetOptions>) => recordRun(dir, name, opts);

const election = record("election.trace", { phones: 8, loss: 0.2, seed: 3 });
const crash = record("crash.trace", { phones: 6, load: "tiny", rootCrashes: 1, seed: 5 });
const rogue = record("rogue.trace", { phones: 6, load: "tiny", rogues: 1, seed: 7 });

/** Runs `replay FILE...` with each file's directory preopened. */
const replay = (...files: string[]) => runWasi(["replay", ...files], preopensFor(files));
const lines = (text: string) => text.split("\n").filter((l) => l.length > 0);

interface At {
  /** Offset of the record's header. */
  head: number;
  body: number;
  len: number;
  index: number;
}

/** The `nth` record of `kind` (0 = the first) whose body is at least `min` bytes. */
function find(bytes: Uint8Array, kind: number, min = 0, nth = 0): At {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let index = 0;
  for (let at = TRACE_HEADER_BYTES; at < bytes.length; index++) {
    const len = dv.getUint32(at + 4, true);
    if (bytes[at] === kind && len >= min && nth-- === 0) return { head: at, body: at + TRACE_RECORD_HEADER_BYTES, len, index };
    at += TRACE_RECORD_HEADER_BYTES + len;
  }
  throw new Error(`no record of kind ${kind}`);
}

function variant(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

test("pfs.wasi.wasm imports only wasi_snapshot_preview1 functions and exports _start", () => {
  const m = new WebAssembly.Module(readFileSync(WASI_WASM));
  const imports = WebAssembly.Module.imports(m);
  assert.ok(imports.length > 0);
  for (const i of imports) {
    assert.equal(i.module, "wasi_snapshot_preview1", `${i.module}.${i.name}`);
    assert.equal(i.kind, "function", `${i.module}.${i.name}`);
  }
  const exports = WebAssembly.Module.exports(m).map((e) => e.name);
  assert.ok(exports.includes("_start"), exports.join(", "));
  assert.ok(exports.includes("memory"), exports.join(", "));
});

test("the self-checks pass; the facts they pin hold on V8 too", () => {
  const r = runWasi(["selftest"], {});
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "selftest ok\n");
  assert.equal(r.stderr, "");
  // docs/PROTOCOL.md 3.2 and 8.1, as the V8 build computes them.
  const a = new PfsCore({ selfAddr: 0x0a000001, seed: 1 });
  assert.equal(a.xidOf("CP-7961G", "SCCP41.9-4-2SR2-2S.loads") >>> 0, 0x761ba17a);
  assert.equal(a.x.hierStrength(a.need(0, "CP-7961G", "SCCP41.9-4-2SR2-2S.loads", 652)) >>> 0, 0x1e08);
  const b = new PfsCore({ selfAddr: 0x0a000002, seed: 2 });
  assert.equal(b.x.hierStrength(b.need(0, "CP-7961G", "SCCP41.9-4-2SR2-2S.loads", 652)) >>> 0, 0xbb67);
});

test("recorded traces replay to the V8 digest line: election under loss, a crashed root's reboot, a rogue", async () => {
  for (const t of [election, crash, rogue]) {
    const v8 = replayV8(readFileSync(t.file));
    const want = digestLine(v8.digest, v8.records);
    assert.equal(want, digestLine(t.sum.digest, t.sum.records));
    const r = replay(t.file);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines(r.stdout), ["selftest ok", want]);
    assert.equal(r.stderr, "");
    assert.deepEqual(await runWasiReplay(t.file), { code: 0, lines: [want] });
  }
  assert.ok(crash.sum.cores > 6, "the crashed root came back as a new core: a reboot here");
});

test("one module replays several files in turn: every core after the first is a reboot", () => {
  const r = replay(crash.file, rogue.file, crash.file);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout), ["selftest ok", ...[crash, rogue, crash].map((t) => digestLine(t.sum.digest, t.sum.records))]);
  // A core with other table sizes cannot be had by a reboot: a limit of
  // this engine, said in one line (the election run boots smaller tables).
  const other = replay(crash.file, election.file);
  assert.equal(other.code, 2);
  assert.deepEqual(lines(other.stdout), ["selftest ok", digestLine(crash.sum.digest, crash.sum.records)]);
  assert.equal(lines(other.stderr).length, 1);
  assert.match(other.stderr, /election\.trace: record 0: core 0 has other table sizes than the first core this module booted \(init\(\) = -3\)/);
});

test("a trace is read in chunks: memory does not grow with the trace", () => {
  const small = replay(crash.file);
  const large = record("large.trace", { phones: 8, load: "mcu-1.0", seed: 2 });
  const big = replay(large.file);
  assert.equal(big.code, 0, big.stderr);
  const bytes = readFileSync(large.file).length;
  assert.ok(bytes > 2 * readFileSync(crash.file).length && bytes > 1 << 20, `${bytes} bytes`);
  // Both runs boot the same board figures; a trace twice the size adds nothing.
  assert.equal(big.memoryBytes, small.memoryBytes, `${big.memoryBytes} vs ${small.memoryBytes} bytes of memory`);
  // Nor does replaying it again and again: no record allocates (the stub
  // runtime never frees, so a leak per record would add pages here).
  const thrice = replay(large.file, large.file, large.file);
  assert.equal(thrice.code, 0, thrice.stderr);
  assert.equal(thrice.memoryBytes, big.memoryBytes);
});

test("usage errors: one line on stderr, exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /^pfs-wasi: no command; usage: pfs-wasi/],
    [["frobnicate"], /^pfs-wasi: unknown command 'frobnicate'; usage/],
    [["replay"], /^pfs-wasi: replay needs at least one FILE; usage/],
    [["replay", join(dir, "missing.trace")], /^pfs-wasi: .*missing\.trace: no such file$/],
    [["replay", "/nowhere/at/all.trace"], /^pfs-wasi: \/nowhere\/at\/all\.trace: no preopened directory holds it/],
  ];
  for (const [args, message] of cases) {
    const r = runWasi(args, args[0] === "replay" ? preopensFor(args.slice(1)) : {});
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}`);
    assert.equal(r.stdout, "selftest ok\n", args.join(" "));
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr.trim(), message, args.join(" "));
  }
});

test("a file that is not a whole trace: one line naming the file, exit 2, as on V8", () => {
  const good = new Uint8Array(readFileSync(election.file));
  const timer = find(good, T_TIMER);
  const unknown = good.slice();
  unknown[timer.head] = 99;
  const lying = good.slice();
  new DataView(lying.buffer).setUint32(timer.head + 4, 12, true); // T_TIMER's body is 8 bytes
  const overlong = good.slice();
  const end = find(good, T_END);
  new DataView(overlong.buffer).setUint32(end.head + 4, end.len + 1, true);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["empty", good.slice(0, 0), /not a trace: 0 bytes, shorter than the header$/],
    ["header only", good.slice(0, TRACE_HEADER_BYTES), /trace cut short: no T_END after 0 records$/],
    ["cut in a header", good.slice(0, TRACE_HEADER_BYTES + 3), /trace cut short in the header of record 0 \(byte 16\)$/],
    ["cut in half", good.slice(0, good.length >> 1), /trace cut short/],
    ["cut before the end", good.slice(0, good.length - 1), /trace cut short in record \d+ T_END/],
    ["unknown kind", unknown, new RegExp(`record ${timer.index}: unknown kind 99$`)],
    ["lying length", lying, new RegExp(`record ${timer.index} T_TIMER: body of 12 bytes does not fit its layout$`)],
    ["length past the end", overlong, /trace cut short in record \d+ T_END \(needs 41 bytes/],
    ["bytes after T_END", new Uint8Array([...good, 0]), /^pfs-wasi: .*: 1 bytes after T_END$/],
    ["not a trace", new TextEncoder().encode("PFSTRACX and then some more bytes"), /not a trace: no PFSTRACE magic$/],
  ];
  for (const [name, bytes, message] of cases) {
    const file = variant(`${name.replace(/ /g, "-")}.trace`, bytes);
    const r = replay(file);
    assert.equal(r.code, 2, `${name}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
    assert.equal(r.stdout, "selftest ok\n", name);
    assert.equal(lines(r.stderr).length, 1, `${name}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(`pfs-wasi: ${file}: `), `${name}: ${r.stderr}`);
    assert.match(r.stderr.trim(), message, name);
    assert.throws(() => replayV8(bytes), (e: unknown) => !(e instanceof Mismatch), `${name}: V8 calls it malformed too`);
  }
});

/** Flips one bit of the crash trace at `offset`: the wasi run, and the
 *  V8 replayer's mismatch line ("" when it found none). */
function flipped(name: string, offset: number, bit = 1) {
  const bytes = new Uint8Array(readFileSync(crash.file));
  bytes[offset] ^= bit;
  const r = replay(variant(name, bytes));
  try {
    replayV8(bytes);
    return { r, v8: "" };
  } catch (e) {
    assert.ok(e instanceof Mismatch, String(e));
    return { r, v8: e.message };
  }
}

/** "mismatch: core K (a.b.c.d) record R T_X[ at T ms]" of a line. */
const prefix = (line: string) => /^mismatch: core \d+ \(10\.0\.0\.\d+\) record \d+ T_[A-Z_]+( at [0-9.]+ ms)?/.exec(line)?.[0];

test("a flipped expectation is a difference: one line naming core, record and value, exit 1, as on V8", () => {
  const good = new Uint8Array(readFileSync(crash.file));
  const drain = find(good, T_DRAIN, 16);
  const deadline = find(good, T_DEADLINE, 8, 3);
  const rx = find(good, T_RX, 16, 2);
  const accept = find(good, T_ACCEPT, 16);
  const cases: Array<[string, number, RegExp]> = [
    // the outbox's first record, its `a` word
    ["drain", drain.body + 4, new RegExp(`record ${drain.index} T_DRAIN: outbox byte 4 \\(record 0, kind \\d+\\): expected 0x[0-9a-f]+, got 0x[0-9a-f]+$`)],
    ["deadline", deadline.body + 6, new RegExp(`record ${deadline.index} T_DEADLINE: expected deadline [-0-9.e+]+, got [0-9.]+|Infinity$`)],
    ["rx window", rx.body + 8, new RegExp(`record ${rx.index} T_RX at [0-9.]+ ms: rxWindow\\(\\): expected \\d+, got \\d+$`)],
    ["accept", accept.body + 8, new RegExp(`record ${accept.index} T_ACCEPT at [0-9.]+ ms: onStreamAccept\\(\\): expected -?\\d+, got -?\\d+$`)],
  ];
  for (const [name, offset, message] of cases) {
    const { r, v8 } = flipped(`flip-${name}.trace`, offset);
    assert.equal(r.code, 1, `${name}: exit ${r.code}: ${r.stderr}`);
    const out = lines(r.stdout);
    assert.equal(out.length, 2, `${name}: ${r.stdout}`);
    assert.equal(out[0], "selftest ok");
    assert.match(out[1], message, name);
    assert.equal(prefix(out[1]), prefix(v8), `${name}: wasi "${out[1]}", v8 "${v8}"`);
    assert.equal(r.stderr, "", name);
  }
  // The digest in T_END is checked too (docs/TRACE.md section 2).
  const end = find(good, T_END);
  const { r } = flipped("flip-digest.trace", end.body + 8 + 31, 0x80);
  assert.equal(r.code, 1);
  assert.match(lines(r.stdout)[1], /^mismatch: record \d+ T_END: the recording's digest is [0-9a-f]{64}, this replay's [0-9a-f]{64}$/);
});

test("pfs wasi replay takes paths as given, relative ones included", async () => {
  const rel = relative(process.cwd(), election.file);
  assert.ok(!rel.startsWith("/"), rel);
  const out: string[] = [];
  const code = await wasiCommand(["replay", rel], (l) => out.push(l));
  assert.equal(code, 0);
  assert.deepEqual(out, ["selftest ok", digestLine(election.sum.digest, election.sum.records)]);
  const help: string[] = [];
  assert.equal(await wasiCommand(["--help"], (l) => help.push(l)), 0);
  assert.match(help.join("\n"), /^Usage: pfs wasi .*\n[^]*selftest +the known answers only\n +replay <file\.\.\.> +replay each trace/);
  assert.match(help.join("\n"), /wasmtime --dir=\. build\/pfs\.wasi\.wasm replay t\.trace/);
});
