// The input records (docs/TRACE.md section 2): each is one exported call of
// the core, its arguments read from the trace, its bytes put where the core
// takes them, its answer compared with what the recording saw and folded
// into the digest. `nowMs` was read already (the dispatcher names it in a
// mismatch); the rest of the body follows in the reader.

import * as pfs from "../assembly/index";
import {
  T_ACCEPT, T_CLOSED, T_CONNECTED, T_DATAGRAM, T_FLASH_READ, T_FLASH_WRITTEN, T_NEED, T_RELEASE, T_RX, T_SET_HELD,
  T_STREAM_DATA, T_TIMER, T_WRITE_DONE, T_XID,
} from "../assembly/trace-format";
import { foldU32 } from "./digest";
import { fixedBodyBytes, kindName } from "./kinds";
import { malformed, mismatch, where } from "./outcome";
import { pendingTake, takenLen, takenPtr } from "./pending";
import { put, same32 } from "./put";
import * as R from "./reader";

const INBOX = "the inbox";

function answer(kind: u32, call: string, got: u32, exp: u32): bool {
  if (!same32(call, got, exp)) return false;
  foldU32(kind, got);
  return true;
}

/** The names (and hash) of T_NEED and T_XID: their lengths must add up to
 *  the body, and they go to the inbox. */
function names(body: u32, fixed: u32, total: u64): bool {
  if (<u64>fixed + total != <u64>body) {
    return malformed("record " + where.record.toString() + " " + kindName(where.kind) + ": body of " + body.toString() +
      " bytes does not fit its layout");
  }
  return put(<u32>total, pfs.inboxPtr(), <u32>pfs.inboxBytes(), INBOX);
}

function need(now: f64, body: u32): bool {
  const exp = R.readU32();
  const size = R.readU32();
  const held = R.readU32();
  const flags = R.readU32();
  const m = R.readU32();
  const f = R.readU32();
  const hashLen = R.readU32();
  if (!names(body, <u32>fixedBodyBytes(T_NEED), <u64>m + <u64>f + <u64>hashLen)) return false;
  return answer(T_NEED, "need()", <u32>pfs.need(now, <i32>m, <i32>f, size, held, flags), exp);
}

export function xid(body: u32): bool {
  const exp = R.readU32();
  const m = R.readU32();
  const f = R.readU32();
  if (!names(body, <u32>fixedBodyBytes(T_XID), <u64>m + <u64>f)) return false;
  return answer(T_XID, "xidOf()", pfs.xidOf(<i32>m, <i32>f), exp);
}

function rx(now: f64, bytes: u32): bool {
  const exp = R.readU32();
  const handle = R.readI32();
  const window = <u32>pfs.rxWindow(handle);
  if (!answer(T_RX, "rxWindow()", window, exp)) return false;
  if (!put(bytes, pfs.rxPtr(), window, "the receive window")) return false;
  pfs.onStreamRx(now, handle, <i32>bytes);
  return true;
}

function flashRead(now: f64, bytes: u32): bool {
  const handle = R.readI32();
  const tag = R.readU32();
  const len = R.readI32();
  const asked = pendingTake(handle, tag);
  if (bytes > 0) {
    if (!asked) {
      return mismatch("flash read bytes for handle " + handle.toString() + " tag " + tag.toString() +
        ", which the core never asked for");
    }
    if (!put(bytes, <usize>takenPtr, takenLen, "a staging view")) return false;
  }
  pfs.onFlashRead(now, handle, tag, len);
  return true;
}

/** Replays input record `kind` of `body` bytes whose time `now` was read. */
export function input(kind: u32, now: f64, body: u32): bool {
  const tail = body - <u32>fixedBodyBytes(kind); // the variable bytes, where the kind has them
  switch (kind) {
    case T_NEED: return need(now, body);
    case T_SET_HELD: {
      const exp = R.readU32();
      const slot = R.readI32();
      const held = R.readU32();
      return answer(kind, "setHeld()", <u32>pfs.setHeld(now, slot, held, R.readU32()), exp);
    }
    case T_RELEASE: {
      const exp = R.readU32();
      return answer(kind, "release()", <u32>pfs.release(now, R.readI32()), exp);
    }
    case T_DATAGRAM: {
      const src = R.readU32();
      const len = R.readI32();
      if (!put(tail, pfs.inboxPtr(), <u32>pfs.inboxBytes(), INBOX)) return false;
      pfs.onDatagram(now, src, len);
      return true;
    }
    case T_ACCEPT: {
      const exp = R.readU32();
      return answer(kind, "onStreamAccept()", <u32>pfs.onStreamAccept(now, R.readU32()), exp);
    }
    case T_CONNECTED: pfs.onStreamConnected(now, R.readI32()); return true;
    case T_STREAM_DATA: {
      const exp = R.readU32();
      const handle = R.readI32();
      const len = R.readI32();
      if (!put(tail, pfs.inboxPtr(), <u32>pfs.inboxBytes(), INBOX)) return false;
      return answer(kind, "onStreamData()", <u32>pfs.onStreamData(now, handle, len), exp);
    }
    case T_RX: return rx(now, tail);
    case T_WRITE_DONE: {
      const handle = R.readI32();
      pfs.onWriteDone(now, handle, R.readI32());
      return true;
    }
    case T_FLASH_WRITTEN: {
      const slot = R.readI32();
      pfs.onFlashWritten(now, slot, R.readI32());
      return true;
    }
    case T_FLASH_READ: return flashRead(now, tail);
    case T_CLOSED: pfs.onStreamClosed(now, R.readI32()); return true;
    case T_TIMER: pfs.onTimer(now); return true;
  }
  assert(false, "not an input kind");
  return false;
}
