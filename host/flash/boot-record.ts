// The boot record: which slot boots, as of which sequence number, and the
// SHA-256 of the manifest it commits. It is the only thing an update's commit
// writes, one sector per record. A new record always goes to a sector other
// than the one the running load was booted from, so a torn write of it (erase
// or program) can only damage a record nobody needs; its own SHA-256 makes
// the damage visible, and the highest valid sequence number wins.
// Byte layout in docs/FLASH.md.

import { HASH_BYTES } from "../core/abi.js";
import { sha256 } from "../load/blocklist.js";
import type { Slot } from "./layout.js";
import { sameBytes, type Decoded } from "./manifest.js";

export interface BootRecord {
  slot: Slot;
  /** Higher wins; one more than anything on the flash when written. */
  seq: number;
  manifestSha256: Uint8Array;
}

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
  if (v.getUint16(4, true) !== VERSION || (bytes[6] !== 0 && bytes[6] !== 1) || bytes[7] !== 0 || seq === 0) return { ok: false, why: "record of an unknown version" };
  return { ok: true, value: { slot: bytes[6] as Slot, seq, manifestSha256: bytes.slice(12, 12 + HASH_BYTES) } };
}
