// The .loads index: a fixture shaped like a real signed index parses; our own
// indexes round-trip field for field and byte for byte; Ed25519 signatures
// verify with the right key only; and no truncation or mutation makes the
// parser fail without a LoadsError that says what is wrong.

import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, KeyObject } from "node:crypto";
import {
  checkLoadsSignature, LoadIndexInput, LoadsError, loadsKeyId, parseLoads, SIG_ED25519, TAG, verifyLoads, writeLoads,
} from "../../host/load/loads.js";
import { relayFile } from "../../host/load/blocklist.js";
import { presetBytes } from "../../host/load/presets.js";

// ---------------------------------------------------------------- helpers

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const bytesOf = (v: number[] | Uint8Array | string) => (typeof v === "string" ? ascii(v) : Uint8Array.from(v));
function tlv(tag: number, v: number[] | Uint8Array | string): Uint8Array {
  const value = bytesOf(v);
  return Uint8Array.from([tag, ...u16(value.length), ...value]);
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
/** A small seeded generator (xorshift32), so every failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

/** Parses, and insists that any failure is a LoadsError with a message. */
function parseOrExplain(bytes: Uint8Array, what: string): ReturnType<typeof parseLoads> | LoadsError {
  try {
    return parseLoads(bytes);
  } catch (e) {
    assert.ok(e instanceof LoadsError, `${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, /^\.loads: .{10,}/, `${what}: the message says what is wrong`);
    return e;
  }
}

// ---------------------------------------------------------------- the fixture

/** A fixture shaped like the vendor's 652-byte `SCCP41.9-4-2SR3-1S.loads`
 *  (FACTS.md): every header tag, an RSA-size signature, the real component
 *  names, CRLF text. Signer, serial, CA, signature and timestamp are made up;
 *  tag 9 stands for a record this parser does not know. */
const FIXTURE_NAMES = [
  "jar41sccp.9-4-2ES26.sbn",
  "cnu41.9-4-2ES26.sbn",
  "apps41.9-4-2ES26.sbn",
  "dsp41.9-4-2ES26.sbn",
  "cvm41sccp.9-4-2ES26.sbn",
];
const FIXTURE_SIGNER = "CN=load-signer-7;OU=Phone Firmware;O=Example Telephony";
const FIXTURE_CA = "CN=Example Telephony Manufacturing CA;O=Example Telephony";
const FIXTURE_SERIAL = [0x4f, 0x2a, 0x19, 0xc3, 0xd0, 0x7e, 0x8b, 0x55, 0x61, 0xaa];
const FIXTURE_TIME = Date.UTC(2012, 5, 14, 9, 30, 0);
const FIXTURE_SIGNATURE = Array.from({ length: 128 }, (_, i) => (i * 37 + 11) & 0xff);
const FIXTURE_TEXT =
  "# SCCP41.9-4-2SR2-2S.loads\r\n# components of the 7941/7961 SCCP load, in the order they are fetched\r\n" +
  FIXTURE_NAMES.map((n) => n + "\r\n").join("");

function fixture(): { bytes: Uint8Array; headerBytes: number; padding: number } {
  const build = (headerBytes: number, padding: number) => [
    tlv(1, [1, 0]),
    tlv(2, u16(headerBytes)),
    tlv(3, [0, 1]),
    tlv(4, FIXTURE_SIGNER),
    tlv(5, FIXTURE_SERIAL),
    tlv(6, FIXTURE_CA),
    tlv(7, [0, 15]),
    tlv(8, [1]),
    tlv(9, [0x02, 0x01]),
    tlv(10, [1]),
    tlv(11, [0, 128]),
    tlv(12, FIXTURE_SIGNATURE),
    tlv(13, new Uint8Array(padding)),
    tlv(14, "SCCP41.9-4-2SR2-2S.loads"),
    tlv(15, u32(FIXTURE_TIME / 1000)),
  ];
  const unpadded = concat(build(0, 0)).length;
  const padding = 652 - unpadded - FIXTURE_TEXT.length;
  assert.ok(padding >= 0, `the fixture's records and text fit 652 bytes (padding ${padding})`);
  const headerBytes = unpadded + padding;
  return { bytes: concat([...build(headerBytes, padding), ascii(FIXTURE_TEXT)]), headerBytes, padding };
}

test("a fixture shaped like a real 652-byte signed index parses: header fields, unknown tags, components", () => {
  const { bytes, headerBytes, padding } = fixture();
  assert.equal(bytes.length, 652);
  const idx = parseLoads(bytes);
  const h = idx.header;
  assert.equal(idx.loadName, "SCCP41.9-4-2SR2-2S");
  assert.deepEqual(h.version, { major: 1, minor: 0 });
  assert.equal(h.headerBytes, headerBytes);
  assert.equal(h.signerId, 1);
  assert.equal(h.signerName, FIXTURE_SIGNER);
  assert.deepEqual(h.serial, Uint8Array.from(FIXTURE_SERIAL));
  assert.equal(h.caName, FIXTURE_CA);
  assert.deepEqual(h.signatureInfo, Uint8Array.from([0, 15]));
  assert.equal(h.digestAlgorithm, 1, "SHA-1");
  assert.equal(h.signatureAlgorithm, 1);
  assert.deepEqual(h.modulus, Uint8Array.from([0, 128]));
  assert.deepEqual(h.signature, Uint8Array.from(FIXTURE_SIGNATURE));
  assert.equal(h.paddingBytes, padding);
  assert.equal(h.fileName, "SCCP41.9-4-2SR2-2S.loads");
  assert.equal(h.timestamp?.getTime(), FIXTURE_TIME);
  assert.deepEqual(h.unknown, [{ tag: 9, value: Uint8Array.from([2, 1]) }]);
  assert.deepEqual(idx.comments, [" SCCP41.9-4-2SR2-2S.loads", " components of the 7941/7961 SCCP load, in the order they are fetched"]);
  assert.deepEqual(idx.components, FIXTURE_NAMES.map((name) => ({ name })));
  assert.equal(idx.signed, true);
  // Signed, but not with anything we can check.
  const { publicKey } = generateKeyPairSync("ed25519");
  const check = checkLoadsSignature(bytes, publicKey);
  assert.equal(check.ok, false);
  assert.match((check as { reason: string }).reason, /algorithm 1, not Ed25519/);
});

test("the text tolerates LF line ends, blank lines and comments anywhere; a file name from outside when tag 14 is missing", () => {
  const text = "# a\n\njar41sccp.x.sbn\n  # indented comment\ncnu41.x.sbn";
  const header = (len: number) => [tlv(1, [1, 0]), tlv(2, u16(len)), tlv(8, [2])];
  const len = concat(header(0)).length;
  const bytes = concat([...header(len), ascii(text)]);
  assert.throws(() => parseLoads(bytes), (e: Error) => e instanceof LoadsError && /no file-name record \(tag 14\)/.test(e.message));
  const idx = parseLoads(bytes, "/srv/tftp/SCCP41.X.loads");
  assert.equal(idx.loadName, "SCCP41.X");
  assert.deepEqual(idx.comments, [" a", " indented comment"]);
  assert.deepEqual(idx.components.map((c) => c.name), ["jar41sccp.x.sbn", "cnu41.x.sbn"]);
  assert.equal(idx.signed, false);
});

// ---------------------------------------------------------------- our indexes

function ownIndex(): LoadIndexInput {
  const a = relayFile("jar41sccp.test.sbn", presetBytes("jar41sccp.test.sbn", 40_000));
  const b = relayFile("cnu41.test.sbn", presetBytes("cnu41.test.sbn", 16_384));
  const empty = relayFile("empty41.test.sbn", new Uint8Array(0));
  return {
    loadName: "SCCP41.TEST-1",
    comments: [" SCCP41.TEST-1 for CP-7961G", "\tsecond comment, with a tab "],
    components: [
      { name: a.name, sizeBytes: a.content.length, sha256: a.sha256, listSha256: a.listSha256 },
      { name: b.name, sizeBytes: b.content.length, sha256: b.sha256, listSha256: b.listSha256 },
      { name: empty.name, sizeBytes: 0, sha256: empty.sha256, listSha256: empty.listSha256 },
      { name: "plain41.test.sbn" },
    ],
    header: {
      version: { major: 1, minor: 2 },
      signerId: 513,
      signerName: "CN=pfs test",
      serial: Uint8Array.from([1, 2, 3]),
      caName: "CN=pfs test CA",
      signatureInfo: Uint8Array.from([0xab]),
      digestAlgorithm: 2,
      paddingBytes: 3,
      timestamp: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      unknown: [{ tag: 0, value: Uint8Array.from([7]) }, { tag: 9, value: new Uint8Array(0) }, { tag: 200, value: ascii("future") }],
    },
  };
}

test("round trip, unsigned: every field written is read back, and rewriting gives the same bytes", () => {
  const input = ownIndex();
  const bytes = writeLoads(input);
  const idx = parseLoads(bytes);
  assert.equal(idx.loadName, input.loadName);
  assert.deepEqual(idx.comments, input.comments);
  assert.deepEqual(idx.components, input.components);
  assert.equal(idx.signed, false);
  const { headerBytes, fileName, unknown, ...rest } = idx.header;
  const { unknown: unknownIn, ...restIn } = input.header!;
  assert.deepEqual(rest, restIn);
  // Unknown records come back in tag order (the writer sorts them).
  assert.deepEqual(unknown, unknownIn);
  assert.equal(fileName, "SCCP41.TEST-1.loads");
  assert.equal(bytes[headerBytes], "#".charCodeAt(0), "the text starts where the header length says");
  assert.deepEqual(writeLoads(idx), bytes);
  // Lines end in CRLF and carry name, size, SHA-256 and block-list SHA-256.
  const text = Buffer.from(bytes.subarray(headerBytes)).toString("latin1");
  assert.match(text, /^jar41sccp\.test\.sbn 40000 [0-9a-f]{64} [0-9a-f]{64}\r\n/m);
  assert.match(text, /\r\nplain41\.test\.sbn\r\n$/);
  assert.doesNotMatch(text.replace(/\r\n/g, ""), /[\r\n]/);
});

test("round trip, signed: Ed25519 with tag 10 = 0xED, a 64-byte tag 12 and the key id as serial; deterministic bytes", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const input = { ...ownIndex(), header: { ...ownIndex().header, serial: undefined } };
  const bytes = writeLoads(input, { signingKey: privateKey, signerName: "CN=site signer" });
  const idx = parseLoads(bytes);
  assert.equal(idx.signed, true);
  assert.equal(idx.header.signatureAlgorithm, SIG_ED25519);
  assert.equal(idx.header.signature?.length, 64);
  assert.equal(idx.header.signerName, "CN=site signer");
  assert.deepEqual(idx.header.serial, loadsKeyId(publicKey));
  assert.deepEqual(idx.components, input.components);
  assert.equal(verifyLoads(bytes, publicKey), true);
  assert.equal(verifyLoads(bytes, privateKey), true, "a private key stands for its public half");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  assert.equal(verifyLoads(bytes, new Uint8Array(raw)), true, "a raw 32-byte key");
  assert.equal(verifyLoads(bytes, publicKey.export({ format: "pem", type: "spki" }) as string), true, "a PEM key");
  assert.deepEqual(writeLoads(idx, { signingKey: privateKey }), bytes, "Ed25519 is deterministic: same index, same bytes");
  assert.throws(() => writeLoads(idx), /marked signed but no signing key/);
  assert.equal(verifyLoads(writeLoads({ ...idx, signed: false }), publicKey), false);
});

test("a signature fails with another key, with any byte flipped, cut short or extended", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519").publicKey;
  const bytes = writeLoads(ownIndex(), { signingKey: privateKey });
  assert.equal(verifyLoads(bytes, publicKey), true);
  const wrong = checkLoadsSignature(bytes, other);
  assert.equal(wrong.ok, false);
  assert.match((wrong as { reason: string }).reason, /does not match .*key id [0-9a-f]{16}.*configured key is [0-9a-f]{16}/);
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80]) {
      const m = Uint8Array.from(bytes);
      m[i] ^= mask;
      assert.equal(verifyLoads(m, publicKey), false, `byte ${i} ^ 0x${mask.toString(16)} still verifies`);
    }
  }
  assert.equal(verifyLoads(bytes.subarray(0, bytes.length - 1), publicKey), false);
  assert.equal(verifyLoads(concat([bytes, ascii("x\r\n")]), publicKey), false);
});

test("unsigned indexes say signed=false and never verify", () => {
  const { publicKey } = generateKeyPairSync("ed25519");
  const bytes = writeLoads(ownIndex());
  assert.equal(parseLoads(bytes).signed, false);
  assert.equal(parseLoads(bytes).header.signature, undefined);
  const check = checkLoadsSignature(bytes, publicKey);
  assert.deepEqual(check, { ok: false, reason: "the index is not signed" });
  assert.equal(verifyLoads(new Uint8Array(0), publicKey), false);
});

test("the writer refuses what it could not write faithfully", () => {
  const base = ownIndex();
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
  const cases: Array<[LoadIndexInput, RegExp, { signingKey?: KeyObject }?]> = [
    [{ ...base, loadName: "../etc/passwd" }, /not a plain file name/],
    [{ ...base, components: [] }, /at least one component/],
    [{ ...base, components: [{ name: "a.sbn" }, { name: "a.sbn" }] }, /listed twice/],
    [{ ...base, components: [{ name: "a/b.sbn" }] }, /not a plain file name/],
    [{ ...base, components: [{ name: "a.sbn", sizeBytes: 3 }] }, /not all three/],
    [{ ...base, components: [{ name: "a.sbn", sizeBytes: 1.5, sha256: new Uint8Array(32), listSha256: new Uint8Array(32) }] }, /whole number/],
    [{ ...base, components: [{ name: "a.sbn", sizeBytes: 1, sha256: new Uint8Array(31), listSha256: new Uint8Array(32) }] }, /31 bytes, not 32/],
    [{ ...base, comments: ["two\r\nlines"] }, /not printable ASCII/],
    [{ ...base, header: { fileName: "OTHER.loads" } }, /not the load name plus '.loads'/],
    [{ ...base, header: { unknown: [{ tag: 12, value: new Uint8Array(64) }] } }, /tag 12 \(signature\): set that field/],
    [{ ...base, header: { signerName: "caf\u00e9" } }, /not printable ASCII/],
    [{ ...base, header: { paddingBytes: -1 } }, /padding must be a whole number/],
    [{ ...base, header: { version: { major: 256, minor: 0 } } }, /version major must be a whole number from 0 to 255/],
    [{ ...base, header: { timestamp: new Date(Number.NaN) } }, /does not fit 4 bytes/],
    [base, /Ed25519 private key/, { signingKey: rsa }],
  ];
  for (const [input, message, opts] of cases) {
    assert.throws(() => writeLoads(input, opts), (e: Error) => e instanceof LoadsError && message.test(e.message), String(message));
  }
});

// ---------------------------------------------------------------- hostile input

test("the header length must agree with the records", () => {
  const bytes = writeLoads(ownIndex());
  const h = parseLoads(bytes).header.headerBytes;
  for (const delta of [-1, 1, -4, 7]) {
    // Tag 2's value is bytes 8 and 9, after the version record (0..4) and its own tag and length.
    const m = Uint8Array.from(bytes);
    m[8] = (h + delta) >> 8;
    m[9] = (h + delta) & 0xff;
    assert.throws(() => parseLoads(m), (e: Error) => e instanceof LoadsError && /header length disagrees with the records/.test(e.message), `delta ${delta}`);
  }
  const m = Uint8Array.from(bytes);
  m[8] = 0xff;
  m[9] = 0xff;
  assert.throws(() => parseLoads(m), /header length \(tag 2\) is 65535 but the file is only \d+ bytes/);
  m[8] = 0;
  m[9] = 4;
  assert.throws(() => parseLoads(m), /shorter than its own first two records/);
});

test("clear errors, with the byte where the problem is", () => {
  const header = (extra: Uint8Array[] = []) => {
    const build = (len: number) => [tlv(1, [1, 0]), tlv(2, u16(len)), ...extra, tlv(14, "L.loads")];
    return concat(build(concat(build(0)).length));
  };
  const withText = (text: string | Uint8Array, extra?: Uint8Array[]) => concat([header(extra), typeof text === "string" ? ascii(text) : text]);
  const hdr = header().length;
  const cases: Array<[Uint8Array, RegExp, number | undefined]> = [
    [new Uint8Array(0), /the file is empty/, undefined],
    [Uint8Array.from([1, 0]), /at byte 0: the file ends inside a record's tag and length/, 0],
    [Uint8Array.from([1, 0, 9, 1]), /at byte 0: tag 1 \(version\) claims 9 bytes but only 1 remain/, 0],
    [ascii("<?xml version='1.0'?>"), /at byte 0: found tag 60 where a signed-file header starts with the version record/, 0],
    [concat([tlv(1, [1, 0]), tlv(4, "x")]), /at byte 5: found tag 4 \(signer name\) where the header-length record \(tag 2\) must follow/, 5],
    [concat([tlv(1, [1]), tlv(2, [0, 9])]), /version \(tag 1\) must be 2 bytes/, 0],
    [withText("a.sbn\r\n", [tlv(8, [2]), tlv(8, [2])]), /tag 8 \(digest algorithm\) appears twice \(first at byte 10\)/, 14],
    [withText("a.sbn\r\n", [tlv(15, [1, 2])]), /timestamp \(tag 15\) must be 4 bytes/, 10],
    [withText("a.sbn\r\n", [tlv(8, [])]), /digest algorithm\) must be a number of 1 to 4 bytes, not 0/, 10],
    [withText("a.sbn\r\n", [tlv(4, [0x41, 0x0a])]), /signer name\) holds byte 0x0a/, 10],
    [withText("a.sbn\r\n", [tlv(10, [SIG_ED25519]), tlv(12, new Uint8Array(63))]), /Ed25519 signature \(tag 12\) is 64 bytes, not 63/, 14],
    [withText("a.sbn\r\n", [tlv(10, [SIG_ED25519])]), /Ed25519 but there is no signature/, 10],
    [withText("a.sbn\r\n", [tlv(12, [])]), /signature \(tag 12\) is empty/, 10],
    [withText("# only a comment\r\n"), /names no component file/, hdr],
    [withText("a.sbn 12\r\n"), /line 1 has 2 fields/, hdr],
    [withText("# c\r\na.sbn 12 zz 00\r\n"), /line 2: the SHA-256 of 'a.sbn' must be 64 hex digits/, hdr + 5],
    [withText(`a.sbn 1e3 ${"0".repeat(64)} ${"0".repeat(64)}\r\n`), /size of 'a.sbn' must be a whole number/, hdr],
    [withText(`a.sbn 1 ${"0".repeat(64)} ${"0".repeat(63)}\r\n`), /block-list SHA-256 of 'a.sbn' must be 64 hex digits/, hdr],
    [withText("../../etc/passwd\r\n"), /component name '..\/..\/etc\/passwd' is not a plain file name/, hdr],
    [withText("a.sbn\r\nb.sbn\r\na.sbn\r\n"), /line 3 names 'a.sbn' again \(first on line 1\)/, hdr + 14],
    [withText(concat([ascii("a.sbn\r\nb"), Uint8Array.from([0xe9]), ascii(".sbn\r\n")])), /byte 0xe9 in the text \(line 2\)/, hdr + 8],
    [withText("a.sbn\rb.sbn\r\n"), /carriage return not followed by a line feed/, hdr + 5],
    [withText(Array.from({ length: 65 }, (_, i) => `f${i}.sbn\r\n`).join("")), /more than 64 components/, undefined],
    [new Uint8Array(70_000), /70000 bytes; an index is a few hundred/, undefined],
  ];
  for (const [bytes, message, offset] of cases) {
    assert.throws(() => parseLoads(bytes), (e: Error) => {
      assert.ok(e instanceof LoadsError, `${message}: got ${e.constructor.name}: ${e.message}`);
      assert.match(e.message, message);
      if (offset !== undefined) assert.equal(e.offset, offset, `${message}: offset`);
      return true;
    });
  }
});

test("truncation at every length returns an index or a LoadsError, and a cut header never parses", () => {
  const { privateKey } = generateKeyPairSync("ed25519");
  const inputs: Array<[string, Uint8Array]> = [
    ["fixture", fixture().bytes],
    ["unsigned", writeLoads(ownIndex())],
    ["signed", writeLoads(ownIndex(), { signingKey: privateKey })],
  ];
  for (const [name, bytes] of inputs) {
    const headerBytes = parseLoads(bytes).header.headerBytes;
    for (let n = 0; n < bytes.length; n++) {
      const r = parseOrExplain(bytes.subarray(0, n), `${name} cut to ${n}`);
      if (n <= headerBytes) assert.ok(r instanceof LoadsError, `${name} cut to ${n} (inside the header or with no text) parsed`);
    }
  }
});

test("random mutations never throw anything but a LoadsError, and never verify", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const signed = writeLoads(ownIndex(), { signingKey: privateKey });
  const inputs = [fixture().bytes, writeLoads(ownIndex()), signed];
  const next = rng(20240607);
  let parsed = 0;
  let rejected = 0;
  for (let round = 0; round < 6000; round++) {
    const src = inputs[round % inputs.length];
    let m: Uint8Array = Uint8Array.from(src);
    const edits = 1 + next(4);
    for (let e = 0; e < edits; e++) {
      const at = next(m.length + 1);
      switch (next(6)) {
        case 0: // flip a bit
          if (at < m.length) m[at] ^= 1 << next(8);
          break;
        case 1: // any byte value
          if (at < m.length) m[at] = next(256);
          break;
        case 2: // insert a byte
          m = concat([m.subarray(0, at), Uint8Array.of(next(256)), m.subarray(at)]);
          break;
        case 3: // delete a run
          m = concat([m.subarray(0, at), m.subarray(Math.min(m.length, at + 1 + next(8)))]);
          break;
        case 4: // a record length, in the first 60 bytes where the header is
          if (m.length > 62) {
            const p = 1 + next(60);
            m[p] = next(256);
            m[p + 1] = next(256);
          }
          break;
        default: // pure garbage of some length
          if (next(20) === 0) m = Uint8Array.from({ length: next(800) }, () => next(256));
          break;
      }
    }
    const r = parseOrExplain(m, `round ${round}`);
    if (r instanceof LoadsError) rejected++;
    else parsed++;
    const same = m.length === signed.length && m.every((b, i) => b === signed[i]);
    if (!same) assert.equal(verifyLoads(m, publicKey), false, `round ${round}: a mutated index verifies`);
  }
  assert.ok(parsed > 0 && rejected > 0, `both outcomes seen (${parsed} parsed, ${rejected} rejected)`);
});

test("tags are the documented numbers", () => {
  assert.deepEqual(Object.values(TAG), [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15]);
});
