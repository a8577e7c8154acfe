// The boot record: which slot boots, as of which sequence number, and the
// SHA-256 of the manifest it commits. It is the only thing an update's commit
// writes, one sector per record. A new record always goes to a sector other
// than the one the running load was booted from, so a torn write of it (erase
// or program) can only damage a record nobody needs; its own SHA-256 makes
// the damage visible, and the highest valid sequence number wins.
//
// An update's record is a trial record (MCUboot's "test"): the next power-up
// boots its slot once and programs the TRIED mark after the record in the
// same sector; the load, once it has come up, programs the CONFIRMED mark.
// A power-up that finds TRIED without CONFIRMED passes the record over and
// boots the record before it: the old load. The marks are outside the
// record's hash (they are written later, onto erased bytes, once each), and
// each is MARK_BYTES of zeros read by quorum, so a torn mark reads as set or
// not set, and one bit flipped on a read changes neither.
// Byte layout in docs/FLASH.md.

import { HASH_BYTES } from "../core/abi.js";
import { sha256 } from "../load/blocklist.js";
import { sameBytes, type Decoded } from "./manifest.js";

/** One of the two slots, A (0) or B (1): what a record names (./layout.ts
 *  places them). */
export type Slot = 0 | 1;

export interface BootRecord {
  slot: Slot;
  /** Higher wins; one more than anything on the flash when written. */
  seq: number;
  manifestSha256: Uint8Array;
  /** Written by an update: boot it once, keep it only once confirmed. */
  trial: boolean;
}

/** Byte 7 of a record. A record of this project's first version has 0 there,
 *  so it reads as confirmed, which is what it was. */
const STATE_CONFIRMED = 0;
const STATE_TRIAL = 1;

/** Where the marks go in a record's sector, after the record, each in a
 *  64-byte line of its own. */
export const TRIED_MARK_AT = 128;
export const CONFIRMED_MARK_AT = 192;
export const MARK_BYTES = 16;
/** A mark is set when at least this many of its bytes read 0x00: a torn
 *  program sets it or not, a flipped bit cannot move it. */
export const MARK_QUORUM = 8;
/** What a mark is programmed with. */
export const MARK = new Uint8Array(MARK_BYTES);
/** The bytes of a record sector that the record and its marks use. */
export const RECORD_AREA_BYTES = CONFIRMED_MARK_AT + MARK_BYTES;

const MAGIC = 0x42534650; // "PFSB" read as a little-endian u32
const VERSION = 1;
const BODY_BYTES = 12 + HASH_BYTES;
export const RECORD_BYTES = BODY_BYTES + HASH_BYTES;
/** Sequence numbers are u32; 4 billion updates outlive any phone. */
export const MAX_SEQ = 0xffffffff;

export function encodeRecord(r: BootRecord): Uint8Array {
  if (!Number.isSafeInteger(r.seq) || r.seq < 1 || r.seq > MAX_SEQ) throw new RangeError(`boot record: sequence ${r.seq} is outside 1..${MAX_SEQ}`);
  const out = new Uint8Array(RECORD_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint16(4, VERSION, true);
  out[6] = r.slot;
  out[7] = r.trial ? STATE_TRIAL : STATE_CONFIRMED;
  v.setUint32(8, r.seq, true);
  out.set(r.manifestSha256, 12);
  out.set(sha256(out.subarray(0, BODY_BYTES)), BODY_BYTES);
  return out;
}

export function decodeRecord(bytes: Uint8Array): Decoded<BootRecord> {
  if (bytes.length < RECORD_BYTES) return { ok: false, why: "record area too short" };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return { ok: false, why: "no record (bad magic)" };
  if (!sameBytes(sha256(bytes.subarray(0, BODY_BYTES)), bytes.subarray(BODY_BYTES, RECORD_BYTES))) return { ok: false, why: "record hash does not match (torn or damaged)" };
  // Hashed, so written by us: a bad field here is a version we do not know.
  const seq = v.getUint32(8, true);
  if (v.getUint16(4, true) !== VERSION || (bytes[6] !== 0 && bytes[6] !== 1) || (bytes[7] !== STATE_CONFIRMED && bytes[7] !== STATE_TRIAL) || seq === 0) return { ok: false, why: "record of an unknown version" };
  return { ok: true, value: { slot: bytes[6] as Slot, seq, manifestSha256: bytes.slice(12, 12 + HASH_BYTES), trial: bytes[7] === STATE_TRIAL } };
}

/** Whether the MARK_BYTES read at a mark's place hold it. */
export function markSet(bytes: Uint8Array): boolean {
  if (bytes.length !== MARK_BYTES) throw new RangeError(`boot record: a mark is ${MARK_BYTES} bytes (got ${bytes.length})`);
  let zeros = 0;
  for (const b of bytes) if (b === 0) zeros++;
  return zeros >= MARK_QUORUM;
}
