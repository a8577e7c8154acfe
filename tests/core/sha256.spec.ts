// sha256-soft.ts: the software SHA-256 the WASI command compiles in. The
// known answers are the FIPS 180-2 / 180-4 example messages (one block, two
// blocks, the 896-bit message, a million 'a'); lengths around every block
// boundary of the padding (section 5.1.1: 55 bytes still take the length in
// one block, 56 need a second) are checked against the host's SHA-256 (Node's
// crypto, the import env.sha256 the default core uses), one-shot, streamed
// in two pieces at every split point, and streamed byte by byte.

import {
  SHA256_BLOCK_BYTES, SHA256_DIGEST_BYTES, SHA256_STATE_BYTES, sha256Final, sha256Init, sha256Soft, sha256Update,
} from "../../assembly/sha256-soft";
import { fillHeapHoles } from "./support";

/** SHA-256 from the host, the reference here (as-pect.config.js). */
// @ts-ignore: decorator
@external("env", "sha256")
declare function hostSha256(ptr: usize, len: usize, out: usize): void;

/** Longest message built here: the boundary lengths go up to 128, a few
 *  blocks past them are checked too. */
const MAX_MESSAGE_BYTES: i32 = 4 * <i32>SHA256_BLOCK_BYTES;
/** The million-'a' vector is streamed in pieces of this many bytes. */
const PIECE_BYTES: i32 = 1000;
const MILLION: i32 = 1000000;

const msg = heap.alloc(<usize>MAX_MESSAGE_BYTES);
const piece = heap.alloc(<usize>PIECE_BYTES);
const got = heap.alloc(<usize>SHA256_DIGEST_BYTES);
const want = heap.alloc(<usize>SHA256_DIGEST_BYTES);
const state = memory.data(<i32>SHA256_STATE_BYTES, 8);

function put(at: usize, s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u8>(at + <usize>i, <u8>s.charCodeAt(i));
  return s.length;
}

function hex(p: usize): string {
  let s = "";
  for (let i = 0; i < <i32>SHA256_DIGEST_BYTES; i++) {
    const b = load<u8>(p + <usize>i);
    s += (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

function oneShot(s: string): string {
  sha256Soft(msg, <usize>put(msg, s), got);
  return hex(got);
}

/** A message of `len` bytes that differ from each other (i * 7 + 1). */
function pattern(len: i32): void {
  for (let i = 0; i < len; i++) store<u8>(msg + <usize>i, <u8>(i * 7 + 1));
}

function sameAsHost(len: i32): bool {
  hostSha256(msg, <usize>len, want);
  return memory.compare(got, want, <usize>SHA256_DIGEST_BYTES) == 0;
}

/** Every way of feeding `len` bytes gives the host's digest. */
function checkLength(len: i32): void {
  pattern(len);
  sha256Soft(msg, <usize>len, got);
  expect(sameAsHost(len)).toBe(true, "one-shot, " + len.toString() + " bytes");
  for (let split = 0; split <= len; split++) {
    sha256Init(state);
    sha256Update(state, msg, <usize>split);
    sha256Update(state, msg + <usize>split, <usize>(len - split));
    sha256Final(state, got);
    expect(sameAsHost(len)).toBe(true, "two pieces, " + len.toString() + " bytes split at " + split.toString());
  }
  sha256Init(state);
  for (let i = 0; i < len; i++) sha256Update(state, msg + <usize>i, 1);
  sha256Final(state, got);
  expect(sameAsHost(len)).toBe(true, "byte by byte, " + len.toString() + " bytes");
}

describe("sha256 (software)", () => {
  test("FIPS 180 example messages", () => {
    expect(oneShot("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(oneShot("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // 448 bits: the length no longer fits after the padding bit: two blocks.
    expect(oneShot("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
      .toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect(oneShot("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))
      .toBe("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  });

  test("a million 'a', streamed in pieces", () => {
    memory.fill(piece, 0x61, <usize>PIECE_BYTES);
    sha256Init(state);
    for (let i = 0; i < MILLION / PIECE_BYTES; i++) sha256Update(state, piece, <usize>PIECE_BYTES);
    sha256Final(state, got);
    expect(hex(got)).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  test("lengths around every block boundary, one-shot and streamed", () => {
    const lengths: i32[] = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 191, 192, MAX_MESSAGE_BYTES];
    for (let i = 0; i < lengths.length; i++) checkLength(lengths[i]);
  });

  test("every length up to four blocks agrees with the host", () => {
    for (let len = 0; len <= MAX_MESSAGE_BYTES; len++) {
      pattern(len);
      sha256Soft(msg, <usize>len, got);
      expect(sameAsHost(len)).toBe(true, len.toString() + " bytes");
    }
  });

  test("an unaligned message hashes the same", () => {
    pattern(MAX_MESSAGE_BYTES);
    const len = MAX_MESSAGE_BYTES - 3;
    sha256Soft(msg + 3, <usize>len, got);
    hostSha256(msg + 3, <usize>len, want);
    expect(memory.compare(got, want, <usize>SHA256_DIGEST_BYTES)).toBe(0);
  });

  test("hashing allocates nothing", () => {
    pattern(MAX_MESSAGE_BYTES);
    sha256Soft(msg, <usize>MAX_MESSAGE_BYTES, got); // warm-up
    fillHeapHoles();
    const a = heap.alloc(1);
    const b = heap.alloc(1);
    sha256Soft(msg, <usize>MAX_MESSAGE_BYTES, got);
    sha256Init(state);
    sha256Update(state, msg, 5);
    sha256Update(state, msg + 5, <usize>(MAX_MESSAGE_BYTES - 5));
    sha256Final(state, got);
    const c = heap.alloc(1);
    expect(b - a).toBeGreaterThan(0);
    expect(c - b).toBe(b - a);
  });
});
