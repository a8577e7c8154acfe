// Trace bytes into core memory, after the checks docs/TRACE.md asks for:
// they must fit the room the core gave (else the trace is malformed), and
// the core's address must lie inside memory (else the core differs).

import { malformed, mismatch, where } from "./outcome";
import * as R from "./reader";

/** Bytes of linear memory now (a wasm page is 64 KiB). */
export function memoryBytes(): u64 {
  return <u64>memory.size() << 16;
}

/** Copies the next `len` bytes of the trace to `ptr`, which takes `room`. */
export function put(len: u32, ptr: usize, room: u32, what: string): bool {
  if (len > room) {
    return malformed("record " + where.record.toString() + ": " + len.toString() + " bytes for " + what + ", which takes " +
      room.toString());
  }
  if (<u64>ptr + <u64>len > memoryBytes()) return mismatch(what + " at " + ptr.toString() + " lies outside memory");
  R.into(ptr, <usize>len);
  return true;
}

/** A 4-byte answer the recording saw: compared, then folded in by the caller. */
export function same32(call: string, got: u32, exp: u32): bool {
  if (got == exp) return true;
  return mismatch(call + ": expected " + (<i32>exp).toString() + ", got " + (<i32>got).toString());
}
