// Record kinds of a trace by name, and the fixed part of each kind's body
// (docs/TRACE.md section 2). The numbers are the core's own, from
// assembly/trace-format.ts; the sizes are the fields the table lists.

import {
  T_ACCEPT, T_CLOSED, T_CONNECTED, T_CORE, T_COUNTERS, T_DATAGRAM, T_DEADLINE, T_DRAIN, T_END, T_END_CORE, T_FLASH_READ,
  T_FLASH_WRITTEN, T_NEED, T_RELEASE, T_RX, T_SET_HELD, T_STATE, T_STREAM_DATA, T_TIMER, T_WRITE_DONE, T_XID,
  TRACE_COUNTERS,
} from "../assembly/trace-format";

/** Field sizes in a body: every number is one of these (docs/TRACE.md 1). */
export const F64_BYTES: u32 = 8;
export const WORD_BYTES: u32 = 4;
/** A digest in T_END: SHA-256 (FIPS 180-4 section 6.2). */
export const DIGEST_BYTES: u32 = 32;

export function kindName(kind: u32): string {
  switch (kind) {
    case T_CORE: return "T_CORE";
    case T_END_CORE: return "T_END_CORE";
    case T_END: return "T_END";
    case T_NEED: return "T_NEED";
    case T_XID: return "T_XID";
    case T_SET_HELD: return "T_SET_HELD";
    case T_RELEASE: return "T_RELEASE";
    case T_DATAGRAM: return "T_DATAGRAM";
    case T_ACCEPT: return "T_ACCEPT";
    case T_CONNECTED: return "T_CONNECTED";
    case T_STREAM_DATA: return "T_STREAM_DATA";
    case T_RX: return "T_RX";
    case T_WRITE_DONE: return "T_WRITE_DONE";
    case T_FLASH_WRITTEN: return "T_FLASH_WRITTEN";
    case T_FLASH_READ: return "T_FLASH_READ";
    case T_CLOSED: return "T_CLOSED";
    case T_TIMER: return "T_TIMER";
    case T_DEADLINE: return "T_DEADLINE";
    case T_DRAIN: return "T_DRAIN";
    case T_COUNTERS: return "T_COUNTERS";
    case T_STATE: return "T_STATE";
  }
  return "kind " + kind.toString();
}

/** No body is shorter than this for its kind; -1: not a kind. */
export function fixedBodyBytes(kind: u32): i32 {
  const T = F64_BYTES; // "now", or an f64 expectation
  const W = WORD_BYTES;
  switch (kind) {
    case T_CORE: return <i32>(W + W); //                     n, exp (words between)
    case T_END_CORE: return 0;
    case T_END: return <i32>(W + W + DIGEST_BYTES); //       cores, records, digest
    case T_NEED: return <i32>(T + 7 * W); //                 exp size held flags modelLen fileLen hashLen
    case T_XID: return <i32>(3 * W); //                      exp modelLen fileLen
    case T_SET_HELD: return <i32>(T + 4 * W); //             exp slot held flags
    case T_RELEASE: return <i32>(T + 2 * W); //              exp slot
    case T_DATAGRAM: return <i32>(T + 2 * W); //             src len
    case T_ACCEPT: return <i32>(T + 2 * W); //               exp peer
    case T_CONNECTED: return <i32>(T + W); //                handle
    case T_STREAM_DATA: return <i32>(T + 3 * W); //          exp handle len
    case T_RX: return <i32>(T + 2 * W); //                   exp handle
    case T_WRITE_DONE: return <i32>(T + 2 * W); //           handle len
    case T_FLASH_WRITTEN: return <i32>(T + 2 * W); //        slot len
    case T_FLASH_READ: return <i32>(T + 3 * W); //           handle tag len
    case T_CLOSED: return <i32>(T + W); //                   handle
    case T_TIMER: return <i32>T;
    case T_DEADLINE: return <i32>T; //                       exp
    case T_DRAIN: return 0;
    case T_COUNTERS: return <i32>(<u32>TRACE_COUNTERS * W);
    case T_STATE: return <i32>(W + W); //                    n, streamsOpen (slots between)
  }
  return -1;
}

/** Kinds whose body is exactly the fixed part. */
export function exactBody(kind: u32): bool {
  switch (kind) {
    case T_END_CORE: case T_END: case T_SET_HELD: case T_RELEASE: case T_ACCEPT: case T_CONNECTED:
    case T_WRITE_DONE: case T_FLASH_WRITTEN: case T_CLOSED: case T_TIMER: case T_DEADLINE: case T_COUNTERS:
      return true;
  }
  return false;
}

/** Input kinds start with the virtual time of their call (T_XID has none). */
export function timedKind(kind: u32): bool {
  return kind >= T_NEED && kind <= T_TIMER && kind != T_XID;
}
