// The C SHA-256 (native/sha256, FIPS 180-4) the C core trusts relayed bytes
// with: the NIST example vectors, then random messages of 0..70000 bytes
// against Node's crypto, each hashed one-shot and streamed in parts of
// changing sizes (build/native/pfs-sha256 --batch). Skips, saying why, when
// the native toolchain is missing and cannot be installed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { ensureNative, SHA256_BIN } from "../support/native.js";

/** The longest random message (the bound). */
const RANDOM_MAX_BYTES = 70_000;
const RANDOM_MESSAGES = 150;
/** Lengths around the 64-byte block and its 56-byte padding limit
 *  (FIPS 180-4 section 5.1.1), always among the messages. */
const EDGE_LENGTHS = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, RANDOM_MAX_BYTES];

/** FIPS 180-4 / NIST CSRC examples for SHA-256 (FIPS 180-2 appendix B). */
const NIST: [string, Buffer, string][] = [
  ["empty", Buffer.alloc(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", Buffer.from("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ["448 bits", Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  ["896 bits", Buffer.from("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
  ["a million 'a'", Buffer.alloc(1_000_000, "a"), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
];

/** Hashes each message with the C code: [one-shot, streamed] hex each. */
function cHashes(messages: Buffer[]): [string, string][] {
  const input = Buffer.concat(messages.flatMap((m) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(m.length);
    return [len, m];
  }));
  const r = spawnSync(SHA256_BIN, ["--batch"], { input, encoding: "utf8", maxBuffer: 1 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, messages.length);
  return lines.map((l) => l.split(" ") as [string, string]);
}

/** A small seeded generator, so a failure names lengths that repeat. */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

test("C SHA-256 gives the NIST example digests, one-shot and streamed", (t) => {
  const why = ensureNative("native");
  if (why !== null) return t.skip(why);
  const got = cHashes(NIST.map(([, m]) => m));
  NIST.forEach(([name, , want], i) => {
    assert.equal(got[i][0], want, `${name}, one-shot`);
    assert.equal(got[i][1], want, `${name}, streamed`);
  });
});

test("C SHA-256 agrees with Node's crypto on random messages of 0..70000 bytes", (t) => {
  const why = ensureNative("native");
  if (why !== null) return t.skip(why);
  const seed = 0x5a256;
  const next = xorshift(seed);
  const lengths = [...EDGE_LENGTHS];
  while (lengths.length < RANDOM_MESSAGES) lengths.push(next() % (RANDOM_MAX_BYTES + 1));
  const messages = lengths.map((n) => {
    const m = Buffer.alloc(n);
    for (let i = 0; i < n; i++) m[i] = next() & 0xff;
    return m;
  });
  const got = cHashes(messages);
  messages.forEach((m, i) => {
    const want = createHash("sha256").update(m).digest("hex");
    assert.equal(got[i][0], want, `one-shot, ${m.length} bytes (seed ${seed}, message ${i})`);
    assert.equal(got[i][1], want, `streamed, ${m.length} bytes (seed ${seed}, message ${i})`);
  });
});
