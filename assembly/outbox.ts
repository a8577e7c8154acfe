// What the host pulls out: one linear buffer of records, appended during
// input calls and emptied by the host (outboxClear) when it has acted on them.
// Record: u8 kind, u8 flags, u16 payload length (little-endian, host order),
// u32 a, u32 b, then the payload padded to 4 bytes. Layout in docs/ABI.md.

import { OUT_HEADER_BYTES } from "./limits";

export const OUT_DATAGRAM: u8 = 1; // a = destination address (BROADCAST_ADDR: the subnet)
export const OUT_CONNECT: u8 = 2; //  a = peer address, b = stream handle
export const OUT_WRITE: u8 = 3; //    b = stream handle, payload = bytes for the stream
export const OUT_CLOSE: u8 = 4; //    b = stream handle; the core has already forgotten it
export const OUT_EVENT: u8 = 5; //    a = xid, payload = event record (events.ts)
export const OUT_FETCH: u8 = 6; //    a = slot, b = stream handle; payload u32 from, u32 total: fetch from the server
export const OUT_FLASH_WRITE: u8 = 7; // a = slot, b = offset; payload u32 ptr, u32 len: write that view to flash
export const OUT_FLASH_READ: u8 = 8; //  a = slot, b = offset; payload u32 ptr, u32 len, u32 handle, u32 tag: read flash there
export const OUT_WRITE_REF: u8 = 9; //   b = stream handle; payload u32 ptr, u32 len: send that view (zero copy)

export const BROADCAST_ADDR: u32 = 0xffffffff;

let base: usize = 0;
let capacity: i32 = 0;
let used: i32 = 0;
/** Records dropped because the host did not drain in time. */
export let outboxDropped: u32 = 0;

export function outboxInit(bytes: i32): void {
  base = heap.alloc(<usize>bytes);
  capacity = bytes;
  used = 0;
}

export function outboxBase(): usize {
  return base;
}

export function outboxUsed(): i32 {
  return used;
}

export function outboxClear(): void {
  used = 0;
}

/** A reboot forgets the count of dropped records too. */
export function outboxResetCounters(): void {
  outboxDropped = 0;
}

/** Whether records with these payload sizes would all fit now: a caller that
 *  must emit several records together (a DATA head and its view) asks first,
 *  so it never leaves half of a frame behind. */
export function outboxFits(payloadA: i32, payloadB: i32): bool {
  return used + 2 * OUT_HEADER_BYTES + ((payloadA + 3) & ~3) + ((payloadB + 3) & ~3) <= capacity;
}

/** Reserves a record with `len` payload bytes; returns the payload address or
 *  0 when the outbox is full (the record is then dropped and counted). */
export function outboxPush(kind: u8, a: u32, b: u32, len: i32): usize {
  const padded = (len + 3) & ~3;
  if (len < 0 || len > 0xffff || used + OUT_HEADER_BYTES + padded > capacity) {
    outboxDropped++;
    return 0;
  }
  const at = base + <usize>used;
  // Padding is zeroed, so the outbox's bytes depend on nothing but the
  // records (a trace compares them byte for byte: docs/TRACE.md).
  if (padded > len) store<u32>(at + <usize>(OUT_HEADER_BYTES + padded - 4), 0);
  store<u8>(at, kind);
  store<u8>(at, 0, 1);
  store<u16>(at, <u16>len, 2);
  store<u32>(at, a, 4);
  store<u32>(at, b, 8);
  used += OUT_HEADER_BYTES + padded;
  assert(used <= capacity); // the outbox never overflows
  return at + <usize>OUT_HEADER_BYTES;
}

/** Debug build (invariants.ts): the records fill the outbox exactly. */
export function outboxCheck(): void {
  assert(used >= 0 && used <= capacity && used % 4 == 0); // the outbox holds whole records within its capacity
  let at = 0;
  while (at + OUT_HEADER_BYTES <= used) at += OUT_HEADER_BYTES + ((<i32>load<u16>(base + <usize>at, 2) + 3) & ~3);
  assert(at == used); // the records end where the outbox does
}

/** Shrinks the payload of the record just pushed (a message is reserved at
 *  its largest and trimmed once encoded). */
export function outboxTrimLast(payload: usize, oldLen: i32, newLen: i32): void {
  assert(newLen >= 0 && newLen <= oldLen); // a record only shrinks
  const header = payload - <usize>OUT_HEADER_BYTES;
  store<u16>(header, <u16>newLen, 2);
  used -= ((oldLen + 3) & ~3) - ((newLen + 3) & ~3);
  for (let i = newLen; i < ((newLen + 3) & ~3); i++) store<u8>(payload + <usize>i, 0);
}

/** Removes the record just pushed (its encoding failed). */
export function outboxDropLast(payload: usize, len: i32): void {
  assert(payload == base + <usize>(used - ((len + 3) & ~3))); // only the record just pushed is dropped
  used -= OUT_HEADER_BYTES + ((len + 3) & ~3);
  outboxDropped++;
}
