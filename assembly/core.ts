// The core's inputs: what the host pushes in (datagrams, stream events,
// timers, the files it needs) routed to election.ts and tree.ts. Every entry
// takes `nowMs`; none reads a clock. Sizes were fixed by init().

import * as cfg from "./config";
import { Reader } from "./bytes";
import { electionDeadline, electionOnDatagram, electionTimer, enterDiscover } from "./election";
import { emit, EV_MALFORMED } from "./events";
import { hierarchyId } from "./hash";
import { freeHierIndex, hierIndex, hiers, hiersInit, ROLE_IDLE } from "./hierarchy";
import { HEARTBEAT_EARLY_DIVISOR, MAX_FRAME_BYTES } from "./limits";
import { allocLink, LINK_FREE, LINK_INBOUND, links, linksInit, RX_BYTES, validHandle } from "./link";
import { outboxClear, outboxInit, outboxResetCounters } from "./outbox";
import { rngNext, rngSeed } from "./rng";
import { dropLink, leave, linkDeadline, linkTimer, onFrame, onLinkConnected, treeDeadline, treeTimer } from "./tree";
import { BAD_FRAME_SIZE, BAD_OVERSIZE, BAD_UNEXPECTED, decodeDatagram, decodeFrame, FRAME_LEN_BYTES, Msg } from "./wire";

export const NEED_VERIFIED: u32 = 1; // need() flag: we already hold the file, verified

let inbox: usize = 0;
let ready = false;
const reader = new Reader();
const msg = new Msg();

export let malformedDatagrams: u32 = 0;
export let malformedFrames: u32 = 0;
export let staleHandles: u32 = 0;

/** Sizes the tables from the config block. A second call is a reboot: it
 *  forgets every hierarchy and stream but may not change any size. */
export function coreInit(): i32 {
  const rc = cfg.settleConfig(ready);
  if (rc != 0) return rc;
  rngSeed(<u64>cfg.seed | (<u64>cfg.selfAddr << 32));
  malformedDatagrams = 0;
  malformedFrames = 0;
  staleHandles = 0;
  if (ready) {
    for (let i = 0; i < hiers.length; i++) unchecked(hiers[i]).reset();
    for (let i = 0; i < links.length; i++) unchecked(links[i]).free();
    outboxClear();
    outboxResetCounters();
    return 0;
  }
  inbox = heap.alloc(<usize>cfg.inboxBytes);
  outboxInit(cfg.outboxBytes);
  hiersInit(cfg.maxHierarchies);
  linksInit(cfg.maxStreams);
  ready = true;
  return 0;
}

export function inboxAddr(): usize {
  return inbox;
}

export function isReady(): bool {
  return ready;
}

/** The id of (model, file) whose bytes the host wrote to the inbox. */
export function xidOf(modelLen: i32, fileLen: i32): u32 {
  if (!ready || modelLen < 0 || fileLen < 0 || modelLen + fileLen > cfg.inboxBytes) return 0;
  return hierarchyId(inbox, modelLen, inbox + <usize>modelLen, fileLen);
}

/** The host needs (model, file): join or found its hierarchy. Returns the
 *  hierarchy slot, -1 when the table is full, -2 for bad arguments. */
export function need(nowMs: f64, modelLen: i32, fileLen: i32, sizeBytes: u32, heldBytes: u32, flags: u32): i32 {
  if (!ready || modelLen <= 0 || fileLen <= 0 || modelLen + fileLen > cfg.inboxBytes) return -2;
  const xid = xidOf(modelLen, fileLen);
  const known = hierIndex(xid);
  if (known >= 0) {
    const h = unchecked(hiers[known]);
    if (sizeBytes != 0) h.sizeBytes = sizeBytes;
    setHeld(nowMs, known, heldBytes, flags);
    return known;
  }
  const idx = freeHierIndex();
  if (idx < 0) return -1;
  const h = unchecked(hiers[idx]);
  h.reset();
  h.xid = xid;
  h.sizeBytes = sizeBytes;
  h.tieBreak = rngNext() & 0xffff;
  // Phones reset in bulk boot within milliseconds of each other: a jitter of
  // one advertisement interval spreads their first words.
  enterDiscover(h, nowMs, 0, <u32>cfg.adIntervalMs);
  setHeld(nowMs, idx, heldBytes, flags);
  return idx;
}

/** The host reports how much of the file it holds; once verified, the phone
 *  serves it for lingerMs more and then leaves the hierarchy. */
export function setHeld(nowMs: f64, slot: i32, heldBytes: u32, flags: u32): i32 {
  if (<u32>slot >= <u32>hiers.length) return -2;
  const h = unchecked(hiers[slot]);
  if (h.role == ROLE_IDLE) return -2;
  h.heldBytes = heldBytes;
  const verified = (flags & NEED_VERIFIED) != 0;
  if (verified && !h.verified) h.lingerUntilMs = nowMs + cfg.lingerMs;
  h.verified = verified;
  return 0;
}

export function release(nowMs: f64, slot: i32): i32 {
  if (<u32>slot >= <u32>hiers.length) return -2;
  const h = unchecked(hiers[slot]);
  if (h.role == ROLE_IDLE) return -2;
  leave(h, nowMs);
  return 0;
}

export function onDatagram(nowMs: f64, src: u32, len: i32): void {
  if (!ready) return;
  if (len < 0 || len > cfg.inboxBytes) {
    malformedDatagrams++;
    return;
  }
  const bad = decodeDatagram(reader, inbox, len, msg);
  if (bad != 0) {
    malformedDatagrams++;
    emit(msg.xid, EV_MALFORMED, bad, src, 0);
    return;
  }
  if (src == cfg.selfAddr) return; // our own broadcast, looped back
  const idx = hierIndex(msg.xid);
  if (idx < 0) return; // another model or a file we do not need
  electionOnDatagram(unchecked(hiers[idx]), src, msg, nowMs);
}

/** An inbound connection from `peer`; returns its handle, or -1 when the
 *  table is full (the host then closes the socket). */
export function onStreamAccept(nowMs: f64, peer: u32): i32 {
  if (!ready) return -1;
  const handle = allocLink();
  if (handle < 0) return -1;
  unchecked(links[handle]).open(LINK_INBOUND, peer, -1, nowMs);
  return handle;
}

export function onStreamConnected(nowMs: f64, handle: i32): void {
  if (!validHandle(handle)) {
    staleHandles++;
    return;
  }
  const l = unchecked(links[handle]);
  l.lastRxMs = nowMs;
  onLinkConnected(handle, l);
}

export function onStreamData(nowMs: f64, handle: i32, len: i32): void {
  if (!validHandle(handle)) {
    staleHandles++;
    return;
  }
  if (len < 0 || len > cfg.inboxBytes) {
    // A host bug: the bytes are lost, so the stream's framing is too.
    badFrame(handle, nowMs, BAD_OVERSIZE);
    return;
  }
  const l = unchecked(links[handle]);
  const gen = l.gen;
  l.lastRxMs = nowMs;
  let off = 0;
  while (off < len) {
    const room = RX_BYTES - l.rxLen;
    const n = len - off < room ? len - off : room;
    memory.copy(l.rx + <usize>l.rxLen, inbox + <usize>off, <usize>n);
    l.rxLen += n;
    off += n;
    while (l.rxLen >= FRAME_LEN_BYTES) {
      const bodyLen = <i32>bswap<u16>(load<u16>(l.rx));
      if (bodyLen == 0 || bodyLen > MAX_FRAME_BYTES) {
        badFrame(handle, nowMs, BAD_FRAME_SIZE);
        return;
      }
      const total = FRAME_LEN_BYTES + bodyLen;
      if (l.rxLen < total) break;
      const bad = decodeFrame(reader, l.rx + <usize>FRAME_LEN_BYTES, bodyLen, msg);
      l.rxLen -= total;
      memory.copy(l.rx, l.rx + <usize>total, <usize>l.rxLen);
      if (bad != 0) {
        badFrame(handle, nowMs, bad);
        return;
      }
      if (!onFrame(handle, l, msg, nowMs)) {
        badFrame(handle, nowMs, BAD_UNEXPECTED);
        return;
      }
      if (l.kind == LINK_FREE || l.gen != gen) return; // the frame ended this link
    }
  }
}

/** A peer on a stream broke the protocol: count it and drop the link. */
function badFrame(handle: i32, nowMs: f64, reason: u32): void {
  malformedFrames++;
  emit(0, EV_MALFORMED, reason | 0x80, unchecked(links[handle]).peer, 0);
  dropLink(handle, nowMs, true);
}

export function onStreamClosed(nowMs: f64, handle: i32): void {
  if (!validHandle(handle)) {
    staleHandles++;
    return;
  }
  dropLink(handle, nowMs, false);
}

export function onTimer(nowMs: f64): void {
  if (!ready) return;
  // An early call does nothing. A due one also serves every link whose
  // heartbeat falls due within the coalescing window, so a phone wakes about
  // once per heartbeat period however many links it has.
  if (nowMs < nextDeadlineMs()) return;
  const early = cfg.heartbeatMs / HEARTBEAT_EARLY_DIVISOR;
  for (let i = 0, n = links.length; i < n; i++) {
    const l = unchecked(links[i]);
    if (l.kind != LINK_FREE && nowMs >= linkDeadline(l) - early) linkTimer(i, l, nowMs);
  }
  for (let i = 0, n = hiers.length; i < n; i++) {
    const h = unchecked(hiers[i]);
    if (h.role == ROLE_IDLE) continue;
    treeTimer(h, nowMs);
    if (h.role != ROLE_IDLE) electionTimer(h, nowMs);
  }
}

export function nextDeadlineMs(): f64 {
  let t = Infinity;
  if (!ready) return t;
  for (let i = 0, n = links.length; i < n; i++) {
    const l = unchecked(links[i]);
    if (l.kind != LINK_FREE) t = Math.min(t, linkDeadline(l));
  }
  for (let i = 0, n = hiers.length; i < n; i++) {
    const h = unchecked(hiers[i]);
    if (h.role == ROLE_IDLE) continue;
    t = Math.min(t, Math.min(electionDeadline(h), treeDeadline(h)));
  }
  return t;
}
