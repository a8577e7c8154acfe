// Bytes arriving on a stream. The host asks where the next bytes may go
// (streamWindow: a pointer and a count) and reports what it put there
// (streamCommit): control frames gather in the link's small frame buffer,
// a DATA frame's payload goes straight into the relay ring or list, and a
// server stream's raw bytes likewise. The window never spans two frames, so
// no byte is ever copied twice, and a window of 0 means "not now": the ring
// is full and the host should stop reading that socket for a while.

import { Reader } from "./bytes";
import { emit, EV_MALFORMED } from "./events";
import { hiers, NO_OFFSET, NO_STREAM } from "./hierarchy";
import { MAX_FRAME_BYTES } from "./limits";
import { Link, LINK_FREE, LINK_PARENT, LINK_SERVER, links } from "./link";
import { BLOCK_BYTES, commitPayload, payloadWindow, pump, rxPtr, transferOf } from "./relay";
import { mergeOnBytes } from "./merge";
import { dropLink, lostSource, onFrame } from "./tree";
import { BAD_FIELD, BAD_FRAME_SIZE, BAD_UNEXPECTED, DATA_HEADER_BYTES, decodeFrame, FRAME_LEN_BYTES, Msg, T_DATA } from "./wire";

const reader = new Reader();
const msg = new Msg();
let ptr: usize = 0;

export let malformedFrames: u32 = 0;
/** Payload bytes a parent offered at offsets we already held checked: the
 *  relay must never do that (a child resumes where it stands). */
export let refetchedBytes: u32 = 0;

export function resetStreamCounters(): void {
  malformedFrames = 0;
  refetchedBytes = 0;
}

export function windowPtr(): usize {
  return ptr;
}

/** While our JOIN to a new parent (a move) is out, we read nothing more from
 *  the old one: the new parent sends from the offset that JOIN carried. */
function movingAway(l: Link): bool {
  if (l.hier < 0) return false;
  const j = unchecked(hiers[l.hier]).joinStream;
  if (j == NO_STREAM) return false;
  const m = unchecked(links[j]);
  return m.move && m.connected;
}

function bodyLength(l: Link): i32 {
  return <i32>bswap<u16>(load<u16>(l.rx));
}

/** How many bytes stream `handle` takes next; they go to windowPtr(). */
export function streamWindow(handle: i32): u32 {
  const l = unchecked(links[handle]);
  if (l.kind == LINK_PARENT && movingAway(l)) return 0;
  // A merge JOIN pins the receive offset: the server waits for its outcome.
  if (l.kind == LINK_SERVER && unchecked(hiers[l.hier]).mergeOff != NO_OFFSET) return 0;
  if (l.kind == LINK_SERVER || l.payloadLeft > 0) {
    const h = unchecked(hiers[l.hier]);
    const t = transferOf(h);
    if (t == null) return 0;
    const n = payloadWindow(h, t, l.kind == LINK_SERVER ? t.total - t.recvOff : l.payloadLeft);
    ptr = rxPtr();
    return n;
  }
  ptr = l.rx + <usize>l.rxLen;
  if (l.rxLen < FRAME_LEN_BYTES) return <u32>(FRAME_LEN_BYTES - l.rxLen);
  if (l.rxLen < FRAME_LEN_BYTES + 1) return 1;
  if (<u32>load<u8>(l.rx, FRAME_LEN_BYTES) == T_DATA) return <u32>(DATA_HEADER_BYTES - l.rxLen);
  return <u32>(FRAME_LEN_BYTES + bodyLength(l) - l.rxLen);
}

/** A peer broke the protocol on `handle`: count it and drop the link. */
export function badFrame(handle: i32, nowMs: f64, reason: u32): void {
  malformedFrames++;
  emit(0, EV_MALFORMED, reason | 0x80, unchecked(links[handle]).peer, 0);
  dropLink(handle, nowMs, true);
}

/** The host put `n` bytes (at most the last window) at windowPtr(). */
export function streamCommit(nowMs: f64, handle: i32, n: u32): void {
  const l = unchecked(links[handle]);
  l.lastRxMs = nowMs;
  if (l.kind == LINK_SERVER || l.payloadLeft > 0) {
    const h = unchecked(hiers[l.hier]);
    const t = transferOf(h);
    if (t == null) return;
    if (l.payloadLeft > 0) l.payloadLeft -= n < l.payloadLeft ? n : l.payloadLeft;
    if (!commitPayload(h, t, n, l.peer)) {
      lostSource(handle, nowMs); // a block failed its check: that source is bad
      return;
    }
    if (l.kind == LINK_PARENT) mergeOnBytes(h); // a merge on trial may be proven now
    pump(h, l.hier, nowMs);
    return;
  }
  l.rxLen += <i32>n;
  if (l.rxLen < FRAME_LEN_BYTES) return;
  const bodyLen = bodyLength(l);
  if (bodyLen == 0 || bodyLen > MAX_FRAME_BYTES + BLOCK_BYTES) {
    badFrame(handle, nowMs, BAD_FRAME_SIZE);
    return;
  }
  if (l.rxLen < FRAME_LEN_BYTES + 1) return;
  if (<u32>load<u8>(l.rx, FRAME_LEN_BYTES) == T_DATA) {
    if (bodyLen < DATA_HEADER_BYTES - FRAME_LEN_BYTES + 1) {
      badFrame(handle, nowMs, BAD_FRAME_SIZE); // no room for an offset and a payload
      return;
    }
    if (l.rxLen < DATA_HEADER_BYTES) return;
    startPayload(handle, l, bodyLen, nowMs);
    return;
  }
  if (bodyLen > MAX_FRAME_BYTES) {
    badFrame(handle, nowMs, BAD_FRAME_SIZE);
    return;
  }
  if (l.rxLen < FRAME_LEN_BYTES + bodyLen) return;
  l.rxLen = 0;
  const bad = decodeFrame(reader, l.rx + <usize>FRAME_LEN_BYTES, bodyLen, msg);
  if (bad != 0) {
    badFrame(handle, nowMs, bad);
    return;
  }
  if (!onFrame(handle, l, msg, nowMs)) badFrame(handle, nowMs, BAD_UNEXPECTED);
}

/** A DATA header is in: its payload must continue our bytes exactly. */
function startPayload(handle: i32, l: Link, bodyLen: i32, nowMs: f64): void {
  l.rxLen = 0;
  const offset = bswap<u32>(load<u32>(l.rx, FRAME_LEN_BYTES + 1));
  const payload = <u32>(bodyLen - (DATA_HEADER_BYTES - FRAME_LEN_BYTES));
  if (l.kind != LINK_PARENT || l.hier < 0) {
    badFrame(handle, nowMs, BAD_UNEXPECTED);
    return;
  }
  const t = transferOf(unchecked(hiers[l.hier]));
  if (t == null) {
    badFrame(handle, nowMs, BAD_UNEXPECTED);
    return;
  }
  if (offset < t.verifiedOff) refetchedBytes += payload < t.verifiedOff - offset ? payload : t.verifiedOff - offset;
  if (payload == 0 || payload > BLOCK_BYTES || offset != t.recvOff || payload > t.total - offset) {
    badFrame(handle, nowMs, BAD_FIELD);
    return;
  }
  l.payloadLeft = payload;
}

/** The inbox way in: copies up to `len` inbox bytes through the windows and
 *  returns how many were taken (fewer when the ring is full). */
export function streamFromInbox(nowMs: f64, handle: i32, inbox: usize, len: i32): i32 {
  const l = unchecked(links[handle]);
  const gen = l.gen;
  let off = 0;
  while (off < len) {
    if (l.kind == LINK_FREE || l.gen != gen) return len; // the link ended: the rest is moot
    const room = streamWindow(handle);
    if (room == 0) break;
    const n = <u32>(len - off) < room ? <u32>(len - off) : room;
    memory.copy(ptr, inbox + <usize>off, <usize>n);
    off += <i32>n;
    streamCommit(nowMs, handle, n);
  }
  return off;
}
