// The TFTP codec and option negotiation: every packet type round-trips, and
// malformed input (truncated, unterminated, unknown opcodes, absurd option
// values, random bytes) yields an error object, never an exception.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DATA_MAX_BYTES, OPTIONS_MAX, PACKET_MAX_BYTES, Packet, TftpOption, decode, encodeAck, encodeData, encodeError, encodeOack, encodeRequest,
  errorText, wireBlock, ERROR_CODE,
} from "../../host/tftp/packet.js";
import { BLKSIZE_MAX_BYTES, acceptOack, grantOptions, parseDecimal, requestOptions } from "../../host/tftp/options.js";

const bytes = (...parts: Array<number[] | string>) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

function ok(buf: Uint8Array): Packet {
  const d = decode(buf);
  assert.ok(d.ok, `expected a packet, got ${d.ok ? "" : d.reason}`);
  return d.packet;
}

function fails(buf: Uint8Array, reason: RegExp): void {
  const d = decode(buf);
  assert.equal(d.ok, false, `expected an error for ${Buffer.from(buf).toString("hex")}`);
  if (!d.ok) assert.match(d.reason, reason);
}

test("requests round-trip with their options; names are case-insensitive", () => {
  const options: TftpOption[] = [{ name: "blksize", value: "1428" }, { name: "tsize", value: "0" }, { name: "windowsize", value: "16" }];
  assert.deepEqual(ok(encodeRequest("rrq", "SEP001122334455.cnf.xml", "octet", options)), { op: "rrq", file: "SEP001122334455.cnf.xml", mode: "octet", options });
  assert.deepEqual(ok(encodeRequest("wrq", "a/b", "netascii")), { op: "wrq", file: "a/b", mode: "netascii", options: [] });
  // A request exactly as another client might send it: upper-case mode and names.
  assert.deepEqual(ok(bytes([0, 1], "f\0OCTET\0BLKSIZE\x001024\0")), { op: "rrq", file: "f", mode: "octet", options: [{ name: "blksize", value: "1024" }] });
  // UTF-8 file names survive.
  assert.equal((ok(encodeRequest("rrq", "prüfung.bin", "octet")) as { file: string }).file, "prüfung.bin");
});

test("DATA, ACK, ERROR and OACK round-trip", () => {
  const data = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
  const d = ok(encodeData(65535, data));
  assert.equal(d.op, "data");
  assert.equal((d as { block: number }).block, 65535);
  assert.deepEqual(Buffer.from((d as { data: Uint8Array }).data), Buffer.from(data));
  assert.deepEqual(ok(encodeData(0, new Uint8Array(0))), { op: "data", block: 0, data: Buffer.alloc(0) });
  assert.equal((ok(encodeData(1, new Uint8Array(DATA_MAX_BYTES))) as { data: Uint8Array }).data.length, DATA_MAX_BYTES);
  assert.deepEqual(ok(encodeAck(0)), { op: "ack", block: 0 });
  assert.deepEqual(ok(encodeAck(65536)), { op: "ack", block: 0 }, "block numbers are taken modulo 2^16");
  assert.deepEqual(ok(encodeError(ERROR_CODE.FILE_NOT_FOUND, "File not found")), { op: "error", code: 1, message: "File not found" });
  assert.deepEqual(ok(encodeError(8, "")), { op: "error", code: 8, message: "" });
  const opts = [{ name: "blksize", value: "512" }, { name: "tsize", value: "34603008" }];
  assert.deepEqual(ok(encodeOack(opts)), { op: "oack", options: opts });
  assert.deepEqual(ok(encodeOack([])), { op: "oack", options: [] });
});

test("error codes 0..8 are named", () => {
  assert.deepEqual(Object.values(ERROR_CODE), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(errorText(ERROR_CODE.UNKNOWN_TID), "unknown transfer ID");
  assert.equal(errorText(ERROR_CODE.OPTION_REFUSED), "option negotiation refused");
  assert.equal(errorText(99), "error 99");
});

test("block numbers wrap to 0 after 65535", () => {
  assert.equal(wireBlock(65535), 65535);
  assert.equal(wireBlock(65536), 0);
  assert.equal(wireBlock(65537), 1);
  assert.equal(wireBlock(67585), 2049);
});

test("truncated packets are errors", () => {
  fails(new Uint8Array(0), /too short/);
  fails(bytes([0]), /too short/);
  fails(bytes([0, 3, 0]), /DATA .* no block number/);
  fails(bytes([0, 4]), /ACK .* no block number/);
  fails(bytes([0, 4, 7]), /ACK .* no block number/);
  fails(bytes([0, 5, 0]), /ERROR .* no error code/);
  fails(bytes([0, 1]), /needs a file name and a mode/);
});

test("strings without their NUL, empty names and unpaired options are errors", () => {
  fails(bytes([0, 1], "file"), /without its terminating NUL/);
  fails(bytes([0, 1], "file\0octet"), /without its terminating NUL/);
  fails(bytes([0, 1], "file\0octet\0blksize\x00512"), /without its terminating NUL/);
  fails(bytes([0, 1], "file\0"), /needs a file name and a mode/);
  fails(bytes([0, 1], "\0octet\0"), /empty file name/);
  fails(bytes([0, 2], "f\0\0"), /empty mode/);
  fails(bytes([0, 1], "f\0octet\0blksize\0"), /option 'blksize' has no value/);
  fails(bytes([0, 1], "f\0octet\0\0x\0"), /empty option name/);
  fails(bytes([0, 6], "tsize\0"), /OACK: option 'tsize' has no value/);
  fails(bytes([0, 6], "tsize\x0012"), /OACK: .*NUL/);
  const many = Array.from({ length: OPTIONS_MAX + 1 }, (_, i) => `o${i}\0${i}\0`).join("");
  fails(bytes([0, 1], "f\0octet\0", many), /more than/);
  fails(bytes([0, 6], many), /more than/);
});

test("an ERROR without its NUL keeps its message (a server's reason is worth more than strictness)", () => {
  assert.deepEqual(ok(bytes([0, 5, 0, 2], "Access violation")), { op: "error", code: 2, message: "Access violation" });
});

test("unknown opcodes and oversized packets are errors", () => {
  for (const op of [0, 7, 9, 0x0100, 0xffff]) fails(bytes([op >> 8, op & 0xff, 0, 1]), /unknown opcode/);
  fails(new Uint8Array(PACKET_MAX_BYTES + 1).fill(0).fill(3, 1, 2), /longer than any TFTP packet/);
});

test("absurd option values are refused by negotiation, never thrown on", () => {
  for (const v of ["99999999999999999999999999", "1e3", "0x200", " 512", "512 ", "+512", "-1", "", "5.5", "٥١٢"]) {
    assert.equal(parseDecimal(v, 0, Number.MAX_SAFE_INTEGER), undefined, JSON.stringify(v));
  }
  const limits = { maxBlksize: 1428, windowMaxBytes: 1 << 20, fileBytes: 1234 };
  const huge = (name: string, value: string) => grantOptions([{ name, value }], limits);
  assert.deepEqual(huge("blksize", "99999999999999999999").oack, []);
  assert.deepEqual(huge("blksize", "7").oack, [], "below RFC 2348's 8");
  assert.deepEqual(huge("timeout", "256").oack, [], "above RFC 2349's 255");
  assert.deepEqual(huge("timeout", "0").oack, []);
  assert.deepEqual(huge("windowsize", "0").oack, []);
  assert.deepEqual(huge("windowsize", "65536").oack, [], "above RFC 7440's 65535");
  assert.deepEqual(huge("tsize", "-5").oack, []);
  assert.deepEqual(huge("multicast", "").oack, [], "unknown options are ignored (RFC 2347)");
  // The codec carries such values; decoding them is not an error.
  const d = ok(encodeRequest("rrq", "f", "octet", [{ name: "blksize", value: "9".repeat(400) }]));
  assert.equal(d.op, "rrq");
});

test("a server grants what it can: smaller blksize and window, the file's tsize, timeout as asked", () => {
  const asked = requestOptions({ blksize: 65464, windowsize: 64, tsize: true, timeoutSec: 3 });
  assert.deepEqual(asked.map((o) => o.name), ["blksize", "tsize", "timeout", "windowsize"]);
  const g = grantOptions(asked, { maxBlksize: 1428, windowMaxBytes: 16 * 1428, fileBytes: 5_000_000 });
  assert.deepEqual(g.negotiated, { blksize: 1428, windowsize: 16, timeoutSec: 3, tsize: 5_000_000 });
  assert.deepEqual(g.oack, [
    { name: "blksize", value: "1428" }, { name: "tsize", value: "5000000" }, { name: "timeout", value: "3" }, { name: "windowsize", value: "16" },
  ]);
  // The first of repeated options counts.
  const dup = grantOptions([{ name: "blksize", value: "1024" }, { name: "blksize", value: "2048" }], { maxBlksize: BLKSIZE_MAX_BYTES, windowMaxBytes: 1 << 20, fileBytes: 0 });
  assert.deepEqual(dup.oack, [{ name: "blksize", value: "1024" }]);
  // No "tsize 0" for an empty file: curl refuses that OACK.
  assert.deepEqual(grantOptions([{ name: "tsize", value: "0" }], { maxBlksize: 512, windowMaxBytes: 1 << 20, fileBytes: 0 }).oack, []);
  // A window never goes below one block.
  assert.equal(grantOptions([{ name: "windowsize", value: "8" }], { maxBlksize: 512, windowMaxBytes: 100, fileBytes: 0 }).negotiated.windowsize, 1);
});

test("a client accepts only OACKs within what it asked", () => {
  const asked = requestOptions({ blksize: 1428, windowsize: 8, tsize: true, timeoutSec: 2 });
  const accept = (oack: TftpOption[]) => acceptOack(asked, oack);
  assert.deepEqual(accept([{ name: "blksize", value: "1024" }, { name: "tsize", value: "77" }]), { ok: true, negotiated: { blksize: 1024, windowsize: 1, tsize: 77 } });
  assert.deepEqual(accept([]), { ok: true, negotiated: { blksize: 512, windowsize: 1 } });
  assert.deepEqual(accept([{ name: "windowsize", value: "4" }, { name: "timeout", value: "2" }]), { ok: true, negotiated: { blksize: 512, windowsize: 4, timeoutSec: 2 } });
  const refused: Array<[TftpOption[], RegExp]> = [
    [[{ name: "blksize", value: "1500" }], /blksize '1500'/],
    [[{ name: "blksize", value: "4" }], /blksize '4'/],
    [[{ name: "windowsize", value: "9" }], /windowsize '9'/],
    [[{ name: "timeout", value: "3" }], /timeout '3'/],
    [[{ name: "tsize", value: "huge" }], /tsize 'huge'/],
    [[{ name: "tsize", value: "99999999999999999999" }], /tsize/],
    [[{ name: "multicast", value: "," }], /did not ask/],
    [[{ name: "blksize", value: "512" }, { name: "blksize", value: "512" }], /twice/],
  ];
  for (const [oack, reason] of refused) {
    const r = accept(oack);
    assert.equal(r.ok, false, JSON.stringify(oack));
    if (!r.ok) assert.match(r.reason, reason);
  }
  assert.throws(() => requestOptions({ blksize: 7 }), RangeError);
  assert.throws(() => requestOptions({ windowsize: 65536 }), RangeError);
  assert.deepEqual(requestOptions({ timeoutSec: 0.5 }), [], "a fractional timeout is ours alone, not asked");
});

test("encoders refuse what cannot be sent", () => {
  assert.throws(() => encodeRequest("rrq", "", "octet"), RangeError);
  assert.throws(() => encodeRequest("rrq", "a\0b", "octet"), RangeError);
  assert.throws(() => encodeRequest("rrq", "x".repeat(600), "octet"), /RFC 2347 allows 512/);
  assert.throws(() => encodeData(1, new Uint8Array(DATA_MAX_BYTES + 1)), RangeError);
});

test("random bytes and mutated packets never throw", () => {
  // xorshift32, seeded: the same inputs every run.
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const seeds = [
    encodeRequest("rrq", "file.bin", "octet", [{ name: "blksize", value: "1428" }, { name: "tsize", value: "0" }]),
    encodeOack([{ name: "windowsize", value: "8" }]),
    encodeError(1, "nope"),
    encodeData(7, Buffer.from("abc")),
    encodeAck(9),
  ];
  let packets = 0;
  let errors = 0;
  for (let i = 0; i < 20000; i++) {
    let buf: Uint8Array;
    if (i % 2 === 0) {
      buf = Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      if (buf.length >= 2 && rnd() < 0.7) buf[0] = 0;
      if (buf.length >= 2 && rnd() < 0.7) buf[1] = 1 + Math.floor(rnd() * 6);
    } else {
      buf = Uint8Array.from(seeds[i % seeds.length]);
      const flips = 1 + Math.floor(rnd() * 3);
      for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    }
    const d = decode(buf);
    if (d.ok) packets++;
    else {
      errors++;
      assert.equal(typeof d.reason, "string");
    }
  }
  assert.ok(packets > 0 && errors > 0, `${packets} packets, ${errors} errors`);
});
