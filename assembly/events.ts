// Events for the host's log and progress display. The core never formats
// text (that would allocate); it emits fixed 12-byte records and the host
// prints them in the vendor's console style. Codes are part of the ABI.

import { outboxPush, OUT_EVENT } from "./outbox";

export const EV_SOLICIT: u8 = 1; //        looking for a hierarchy (a = strength)
export const EV_CLAIM: u8 = 2; //          TxBdcst ClaimRoot(tent); n = Ad number 0..4, a = strength
export const EV_CONFIRMED_ROOT: u8 = 3; // UT:Confirmed root bumping strength; a = strength
export const EV_FETCH: u8 = 4; //          root asks the host to fetch the file from the server
export const EV_YIELD: u8 = 5; //          a stronger claim or root won; a = its address, b = its strength
export const EV_JOINED: u8 = 6; //         attached; a = parent address, n = depth
export const EV_CHILD_ADDED: u8 = 7; //    a = child address
export const EV_CHILD_LOST: u8 = 8; //     a = child address
export const EV_PARENT_LOST: u8 = 9; //    a = parent address, n = depth, b = PARENT_LOST_VERIFIED or 0
export const EV_REFUSED: u8 = 10; //       a join was refused; a = refuser, n = reason
export const EV_MOVED: u8 = 11; //         re-parented to a shallower slot; a = new parent, n = depth
export const EV_MERGE: u8 = 12; //         a second root tries to merge under a stronger one (a = its address, b = its
//                                         strength); it keeps its fetch and children until that tree proves itself
export const EV_MALFORMED: u8 = 13; //     dropped input; n = reason, a = source address
export const EV_LEFT: u8 = 14; //          linger ended or host released; the hierarchy slot is free
export const EV_ROOT_AD: u8 = 15; //       confirmed root advertised; n = candidates carried
export const EV_FILE_DONE: u8 = 16; //     the whole file is checked and in flash; a = size, b = bytes discarded on the way
export const EV_CORRUPT: u8 = 17; //       a block failed its check; a = source (0: server), b = block (0xffffffff: the list)
export const EV_MERGE_FAILED: u8 = 18; //  a merge attempt failed (n = MERGE_*); a = the claimed root, b = backoff ms
export const EV_MERGE_PROVEN: u8 = 19; //  the new parent delivered checked bytes: the server fetch is closed; a = parent
export const EV_FLASH_FAILED: u8 = 20; //  flash writes failed; n = failures in a row, a = flash offset, b = 1: given up (LEFT follows)

// n of EV_MERGE_FAILED: why the stronger root did not prove itself.
export const MERGE_SILENT: u8 = 1; //   nobody answered the join (or only refusals that say nothing)
export const MERGE_REFUSED: u8 = 2; //  refused, and no candidate left to try
export const MERGE_NO_BYTES: u8 = 3; // accepted, but no checked block beyond ours within MERGE_PROVE_MS
export const MERGE_LOST: u8 = 4; //     accepted, then the link ended before it delivered

// b of EV_PARENT_LOST: this phone holds the file verified, so it does not
// re-join: it claims the root to serve late peers (tree.ts standForRoot).
export const PARENT_LOST_VERIFIED: u32 = 1;

export const EVENT_BYTES: i32 = 12;

/** Record: u8 code, u8 n, u16 reserved, u32 a, u32 b (little-endian). */
export function emit(xid: u32, code: u8, n: u32, a: u32, b: u32): void {
  const at = outboxPush(OUT_EVENT, xid, 0, EVENT_BYTES);
  if (at == 0) return;
  store<u8>(at, code);
  store<u8>(at, <u8>n, 1);
  store<u16>(at, 0, 2);
  store<u32>(at, a, 4);
  store<u32>(at, b, 8);
}
