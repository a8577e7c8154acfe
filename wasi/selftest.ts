// Conformance self-checks run before anything else: facts any port of the
// core must reproduce on its engine, each from a published source. If one
// fails, no digest this engine prints can be trusted.
//   - SHA-256 known answers (FIPS 180-2 appendix B / the FIPS 180-4 example
//     messages) through the hash the core checks relayed blocks with, and
//     through the streaming hash the digest uses;
//   - FNV-1a 32 of "a" and the XID of the worked example of PROTOCOL.md 3.2;
//   - the first PCG32 tie-breaks of phones 10.0.0.1 / seed 1 and 10.0.0.2 /
//     seed 2 (PROTOCOL.md 3.3 and 8.1: strengths 0x00001e08, 0x0000bb67);
//   - the strength of PROTOCOL.md 3.3's examples.

import { fnv1a, hierarchyId } from "../assembly/hash";
import { rngNext, rngSeed } from "../assembly/rng";
import { sha256 } from "../assembly/sha256";
import { SHA256_DIGEST_BYTES, SHA256_STATE_BYTES, sha256Final, sha256Init, sha256Update } from "../assembly/sha256-soft";
import { makeStrength } from "../assembly/strength";
import { hexOf } from "./text";

/** The longest known-answer message below (the 896-bit one, 112 bytes). */
const MAX_VECTOR_BYTES: i32 = 128;
/** FIPS 180-2 appendix B.3: one million repetitions of "a". */
const MILLION: i32 = 1000000;
/** The million 'a' are streamed in pieces of this size. */
const PIECE_BYTES: i32 = 1000;
/** The FNV-1a offset basis (PROTOCOL.md 3.2). */
const FNV_OFFSET: u32 = 0x811c9dc5;
const TIE_BREAK_MASK: u32 = 0xffff;

const buf = memory.data(MAX_VECTOR_BYTES);
const piece = memory.data(PIECE_BYTES);
const out = memory.data(<i32>SHA256_DIGEST_BYTES, 8);
const state = memory.data(<i32>SHA256_STATE_BYTES, 8);

let problem: string = "";

export function selftestProblem(): string {
  return problem;
}

function put(at: usize, s: string): i32 {
  assert(s.length <= MAX_VECTOR_BYTES);
  for (let i = 0; i < s.length; i++) store<u8>(at + <usize>i, <u8>s.charCodeAt(i));
  return s.length;
}

function sameText(what: string, got: string, want: string): bool {
  if (got == want) return true;
  problem = what + ": expected " + want + ", got " + got;
  return false;
}

function same(what: string, got: u32, want: u32): bool {
  return sameText(what, "0x" + got.toString(16), "0x" + want.toString(16));
}

function oneShot(msg: string, want: string): bool {
  sha256(buf, <usize>put(buf, msg), out);
  return sameText("SHA-256 of a " + msg.length.toString() + "-byte message", hexOf(out, <i32>SHA256_DIGEST_BYTES), want);
}

function million(): bool {
  memory.fill(piece, 0x61, <usize>PIECE_BYTES); // 'a'
  sha256Init(state);
  for (let i = 0; i < MILLION / PIECE_BYTES; i++) sha256Update(state, piece, <usize>PIECE_BYTES);
  sha256Final(state, out);
  return sameText("SHA-256 of a million 'a'", hexOf(out, <i32>SHA256_DIGEST_BYTES),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

function hashes(): bool {
  return oneShot("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") &&
    oneShot("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") &&
    oneShot("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") &&
    oneShot("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1") &&
    million();
}

/** The tie-break a phone draws for its first hierarchy: the first PCG32
 *  output after init() seeds it with seed | selfAddr << 32 (core.ts). */
function tieBreak(selfAddr: u32, seed: u32): u32 {
  rngSeed(<u64>seed | (<u64>selfAddr << 32));
  return rngNext() & TIE_BREAK_MASK;
}

function coreFacts(): bool {
  const a = put(buf, "a");
  if (!same("FNV-1a of \"a\"", fnv1a(FNV_OFFSET, buf, a), 0xe40c292c)) return false;
  const m = put(buf, "CP-7961G");
  const f = put(buf + <usize>m, "SCCP41.9-4-2SR2-2S.loads");
  if (!same("XID of CP-7961G / SCCP41.9-4-2SR2-2S.loads", hierarchyId(buf, m, buf + <usize>m, f), 0x761ba17a)) return false;
  // init() reseeds, so drawing here leaves nothing behind for a replay.
  if (!same("tie-break of 10.0.0.1, seed 1", tieBreak(0x0a000001, 1), 0x1e08)) return false;
  if (!same("tie-break of 10.0.0.2, seed 2", tieBreak(0x0a000002, 2), 0xbb67)) return false;
  if (!same("strength holding 16384 of 40000 bytes", makeStrength(false, false, 16384, 40000, 0xbb67), 0x1a36bb67)) return false;
  return same("strength of a confirmed root holding the file", makeStrength(true, true, 652, 652, 0x1e08), 0xffff1e08);
}

/** True when every check holds; else selftestProblem() says which failed. */
export function selftest(): bool {
  problem = "";
  return hashes() && coreFacts();
}
