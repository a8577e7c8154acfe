// The outbox in its normal form (docs/TRACE.md section 3): the records as
// the core wrote them, except that a view's address becomes the first bytes
// of its SHA-256 (OUT_FLASH_WRITE, OUT_WRITE_REF) or 0 (OUT_FLASH_READ), so
// two engines whose memories are laid out differently still compare equal
// byte for byte when they sent and wrote the same bytes.

import { createHash } from "node:crypto";
import { OUT_FLASH_READ, OUT_FLASH_WRITE, OUT_HEADER_BYTES, OUT_WRITE_REF, TRACE_VIEW_TAG_BYTES } from "../core/abi.js";

/** A flash read the core asked for: the host fills [ptr, ptr + len). */
export interface PendingRead {
  handle: number;
  tag: number;
  ptr: number;
  len: number;
}

export interface NormalOutbox {
  bytes: Uint8Array;
  records: number;
  reads: PendingRead[];
}

/** The outbox does not parse, or a view lies outside memory. */
export class OutboxError extends Error {}

const padded = (n: number) => (n + 3) & ~3;

export function viewTag(view: Uint8Array): Uint8Array {
  return createHash("sha256").update(view).digest().subarray(0, TRACE_VIEW_TAG_BYTES);
}

export function normalizeOutbox(mem: Uint8Array, base: number, len: number): NormalOutbox {
  if (base < 0 || len < 0 || base + len > mem.length) throw new OutboxError(`outbox [${base}, +${len}) is outside memory`);
  const bytes = mem.slice(base, base + len);
  const dv = new DataView(bytes.buffer);
  const reads: PendingRead[] = [];
  let off = 0;
  let records = 0;
  while (off < len) {
    if (off + OUT_HEADER_BYTES > len) throw new OutboxError(`outbox record ${records} at byte ${off}: header runs past the end (${len})`);
    const kind = bytes[off];
    const plen = dv.getUint16(off + 2, true);
    const p = off + OUT_HEADER_BYTES;
    if (p + padded(plen) > len) throw new OutboxError(`outbox record ${records} at byte ${off}: payload runs past the end`);
    if (kind === OUT_FLASH_WRITE || kind === OUT_WRITE_REF || kind === OUT_FLASH_READ) {
      if (plen < 8) throw new OutboxError(`outbox record ${records} (kind ${kind}): payload of ${plen} bytes holds no view`);
      const ptr = dv.getUint32(p, true);
      const vlen = dv.getUint32(p + 4, true);
      if (ptr + vlen > mem.length) throw new OutboxError(`outbox record ${records} (kind ${kind}): view [${ptr}, +${vlen}) is outside memory`);
      if (kind === OUT_FLASH_READ) {
        if (plen < 16) throw new OutboxError(`outbox record ${records}: a flash read without handle and tag`);
        reads.push({ handle: dv.getInt32(p + 8, true), tag: dv.getUint32(p + 12, true), ptr, len: vlen });
        dv.setUint32(p, 0, true);
      } else {
        bytes.set(viewTag(mem.subarray(ptr, ptr + vlen)), p);
      }
    }
    off = p + padded(plen);
    records++;
  }
  return { bytes, records, reads };
}
