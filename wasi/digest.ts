// The digest every engine prints (docs/TRACE.md section 4): SHA-256 over the
// kind byte and the observed value of each record that carries an
// expectation, in file order, and the count of outbox records seen. The
// hash is the core's own software SHA-256, streamed: nothing is kept.

import {
  SHA256_DIGEST_BYTES, SHA256_STATE_BYTES, sha256Final, sha256Init, sha256Update,
} from "../assembly/sha256-soft";
import { hexOf } from "./text";

const state = memory.data(<i32>SHA256_STATE_BYTES, 8);
const scratch = memory.data(8, 8);
const digestOut = memory.data(<i32>SHA256_DIGEST_BYTES, 8);

/** Outbox records of every T_DRAIN so far. */
export let outboxRecords: u32 = 0;

export function digestBegin(): void {
  sha256Init(state);
  outboxRecords = 0;
}

export function countRecords(n: u32): void {
  outboxRecords += n;
}

export function foldBytes(ptr: usize, len: usize): void {
  sha256Update(state, ptr, len);
}

export function foldKind(kind: u32): void {
  store<u8>(scratch, <u8>kind);
  sha256Update(state, scratch, 1);
}

/** The kind byte and a 4-byte answer, little-endian as the trace has it. */
export function foldU32(kind: u32, v: u32): void {
  foldKind(kind);
  store<u32>(scratch, v);
  sha256Update(state, scratch, 4);
}

export function foldWord(v: u32): void {
  store<u32>(scratch, v);
  sha256Update(state, scratch, 4);
}

/** The kind byte and an f64, bit for bit. */
export function foldF64(kind: u32, v: f64): void {
  foldKind(kind);
  store<f64>(scratch, v);
  sha256Update(state, scratch, 8);
}

/** Ends the hash; the 32 bytes are at the returned address. */
export function digestEnd(): usize {
  sha256Final(state, digestOut);
  return digestOut;
}

export function digestHex(ptr: usize): string {
  return hexOf(ptr, <i32>SHA256_DIGEST_BYTES);
}
