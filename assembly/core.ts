// The core's inputs: what the host pushes in (datagrams, stream events,
// timers, the files it needs) routed to election.ts and tree.ts. Every entry
// takes `nowMs`; none reads a clock. Sizes were fixed by init().

import * as cfg from "./config";
import { Reader } from "./bytes";
import { electionDeadline, electionOnDatagram, electionTimer } from "./election";
import { enterDiscover } from "./role";
import { emit, EV_MALFORMED } from "./events";
import { hierarchyId } from "./hash";
import { freeHierIndex, hierIndex, hiers, hiersInit, ROLE_IDLE, ROLE_ROOT } from "./hierarchy";
import { HEARTBEAT_EARLY_DIVISOR, MAX_PENDING_PER_PEER, MIN_PENDING_INBOUND, PENDING_EVICT_MS, PENDING_INBOUND_DIVISOR } from "./limits";
import { allocLink, LINK_FREE, LINK_INBOUND, links, linksInit, oldestPendingInbound, pendingInbound, validHandle } from "./link";
import { outboxClear, outboxInit, outboxResetCounters } from "./outbox";
import { rngNext, rngSeed } from "./rng";
import { dropLink, leave, linkDeadline, linkTimer, onFrame, onLinkConnected, treeDeadline, treeTimer } from "./tree";
import { avoidReset } from "./avoid";
import { flashFailed, flashReadDone, flashWritten, HASH_BYTES, pump, relayInit, relayReboot, startFetch, startTransfer, writeDone } from "./relay";
import { badFrame, resetStreamCounters, streamCommit, streamFromInbox, streamWindow } from "./stream";
import { admitWaiting, waitForTransfer, waitingDeadline, waitingReset } from "./waiting";
import { BAD_OVERSIZE, decodeDatagram, Msg } from "./wire";

// need() flags
export const NEED_VERIFIED: u32 = 1; //      we already hold the file, verified (in flash)
export const NEED_DIRECT: u32 = 2; //        no PFS: fetch from the server, join no tree
export const NEED_RELAY: u32 = 4; //         relay the bytes: the block list's SHA-256 follows the names in the inbox
export const NEED_STORE_FORWARD: u32 = 8; // pass a file on only once it is whole (the vendor's way)

let inbox: usize = 0;
let ready = false;
const reader = new Reader();
const msg = new Msg();

export let malformedDatagrams: u32 = 0;
export let staleHandles: u32 = 0;

/** Sizes the tables from the config block. A second call is a reboot: it
 *  forgets every hierarchy and stream but may not change any size. */
export function coreInit(): i32 {
  const rc = cfg.settleConfig(ready);
  if (rc != 0) return rc;
  rngSeed(<u64>cfg.seed | (<u64>cfg.selfAddr << 32));
  malformedDatagrams = 0;
  resetStreamCounters();
  staleHandles = 0;
  avoidReset();
  waitingReset();
  if (ready) {
    for (let i = 0; i < hiers.length; i++) unchecked(hiers[i]).reset();
    // Generations start over too: a reboot is indistinguishable from a power-on
    // (the host has forgotten every handle; docs/ABI.md 2.2).
    for (let i = 0; i < links.length; i++) unchecked(links[i]).reboot();
    outboxClear();
    outboxResetCounters();
    relayReboot();
    return 0;
  }
  inbox = heap.alloc(<usize>cfg.inboxBytes);
  outboxInit(cfg.outboxBytes);
  hiersInit(cfg.maxHierarchies, <usize>HASH_BYTES);
  linksInit(cfg.maxStreams);
  relayInit();
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
  const relay = (flags & NEED_RELAY) != 0 && (flags & NEED_VERIFIED) == 0;
  if (relay && (modelLen + fileLen + <i32>HASH_BYTES > cfg.inboxBytes || sizeBytes == 0)) return -2;
  if ((flags & NEED_DIRECT) != 0 && !relay) return -2;
  const xid = xidOf(modelLen, fileLen);
  const known = hierIndex(xid);
  if (known >= 0) {
    const h = unchecked(hiers[known]);
    // A file being relayed keeps the size its transfer was sized for.
    if (sizeBytes != 0 && h.transfer < 0 && !h.relay) h.sizeBytes = sizeBytes;
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
  h.relay = (flags & NEED_RELAY) != 0;
  h.direct = (flags & NEED_DIRECT) != 0;
  if (relay) {
    if (sizeBytes > cfg.maxFileBytes) {
      h.reset();
      return -3; // the file is over the board's size
    }
    memory.copy(h.listHash, inbox + <usize>(modelLen + fileLen), <usize>HASH_BYTES);
    h.storeAndForward = (flags & NEED_STORE_FORWARD) != 0;
    if (!startTransfer(h, idx, h.listHash, h.storeAndForward)) {
      waitForTransfer(h); // every transfer is busy: its turn comes (waiting.ts)
      return idx;
    }
  }
  if (h.direct) {
    // The traditional upgrade, for comparison: this phone alone, from the server.
    h.role = ROLE_ROOT;
    startFetch(h, idx, nowMs);
    return idx;
  }
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
  if (h.transfer >= 0) return 0; // the relay knows better what it holds
  // Verified is for good: a phone that holds the file keeps serving it until
  // it leaves (release() is how a host takes it back).
  if (h.verified) return 0;
  h.heldBytes = heldBytes;
  if ((flags & NEED_VERIFIED) != 0) h.markVerified(nowMs, cfg.lingerMs);
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

/** An inbound connection from `peer`; returns its handle, or -1 (the host
 *  then closes the socket). Streams that have not sent their JOIN yet are
 *  held to a share of the table so tree links always find a handle, and to
 *  MAX_PENDING_PER_PEER per address; with that share full, the oldest one
 *  that has waited PENDING_EVICT_MS gives way (docs/ABI.md, onStreamAccept). */
export function onStreamAccept(nowMs: f64, peer: u32): i32 {
  if (!ready) return -1;
  if (pendingInbound(peer) >= MAX_PENDING_PER_PEER) return -1;
  let victim = -1;
  if (pendingInbound(0) >= maxPendingInbound()) {
    victim = oldestPendingInbound();
    if (victim < 0 || nowMs < unchecked(links[victim]).openedMs + PENDING_EVICT_MS) return -1;
  }
  const handle = allocLink();
  if (handle < 0) return -1;
  unchecked(links[handle]).open(LINK_INBOUND, peer, -1, nowMs);
  // The new stream holds its handle before the victim goes: the victim's
  // OUT_CLOSE, still in the outbox when the host learns the new handle, can
  // never name the new stream (sweep seed 907).
  if (victim >= 0) dropLink(victim, nowMs, true);
  assert(victim != handle);
  assert(pendingInbound(0) <= maxPendingInbound()); // pending inbound streams stay within their share
  return handle;
}

/** Handles not-yet-joined inbound streams may hold at most. */
export function maxPendingInbound(): i32 {
  const share = cfg.maxStreams / PENDING_INBOUND_DIVISOR;
  return share > MIN_PENDING_INBOUND ? share : MIN_PENDING_INBOUND;
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

/** Stream bytes in the inbox; returns how many the core took (fewer when
 *  its ring is full: keep the rest and offer them again later). */
export function onStreamData(nowMs: f64, handle: i32, len: i32): i32 {
  if (!validHandle(handle)) {
    staleHandles++;
    return 0;
  }
  if (len < 0 || len > cfg.inboxBytes) {
    // A host bug: the bytes are lost, so the stream's framing is too.
    badFrame(handle, nowMs, BAD_OVERSIZE);
    return 0;
  }
  return streamFromInbox(nowMs, handle, inbox, len);
}

/** The zero-copy way in: how many bytes `handle` takes next, at rxPtr(). */
export function rxWindow(handle: i32): i32 {
  if (!validHandle(handle)) return 0;
  return <i32>streamWindow(handle);
}

/** The host put `len` (<= the last rxWindow) bytes at rxPtr(). */
export function onStreamRx(nowMs: f64, handle: i32, len: i32): void {
  if (!validHandle(handle)) {
    staleHandles++;
    return;
  }
  const room = streamWindow(handle);
  if (len < 0 || <u32>len > room) {
    badFrame(handle, nowMs, BAD_OVERSIZE);
    return;
  }
  streamCommit(nowMs, handle, <u32>len);
}

/** The host finished writing `len` more bytes of this stream's OUT_WRITE_REF
 *  views (in order); their memory may be used again. */
export function onWriteDone(nowMs: f64, handle: i32, len: i32): void {
  if (!validHandle(handle) || len < 0) {
    staleHandles++;
    return;
  }
  const l = unchecked(links[handle]);
  if (writeDone(l, <u32>len)) pumpAll(nowMs); // a staging buffer is free: whoever waits for one goes on
  else if (l.hier >= 0) pump(unchecked(hiers[l.hier]), l.hier, nowMs);
}

function pumpAll(nowMs: f64): void {
  for (let i = 0, n = hiers.length; i < n; i++) {
    const h = unchecked(hiers[i]);
    if (h.role != ROLE_IDLE && h.relay) pump(h, i, nowMs);
  }
}

/** The host wrote `len` more bytes of slot's OUT_FLASH_WRITE views; a
 *  negative `len`: the writes from the flash offset on failed. They are
 *  asked for again after a backoff, and after MAX_FLASH_FAILURES in a row
 *  the file is given up (FLASH_FAILED, then LEFT; never FILE_DONE). */
export function onFlashWritten(nowMs: f64, slot: i32, len: i32): void {
  if (<u32>slot >= <u32>hiers.length) return;
  const h = unchecked(hiers[slot]);
  if (h.role == ROLE_IDLE) return;
  if (len < 0) {
    if (flashFailed(h, nowMs)) {
      leave(h, nowMs);
      return;
    }
  } else {
    flashWritten(h, <u32>len);
  }
  pump(h, slot, nowMs);
}

/** The host read `len` bytes from flash into the staging buffer it was given
 *  for stream `handle` (OUT_FLASH_READ, whose `tag` it hands back); 0 when it
 *  could not: that child is dropped and re-joins elsewhere. */
export function onFlashRead(nowMs: f64, handle: i32, tag: u32, len: i32): void {
  if (!validHandle(handle) || len < 0) {
    staleHandles++;
    return;
  }
  const l = unchecked(links[handle]);
  if (!flashReadDone(handle, l, tag, <u32>len)) {
    dropLink(handle, nowMs, true);
    return;
  }
  if (l.hier >= 0) pump(unchecked(hiers[l.hier]), l.hier, nowMs);
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
  admitWaiting(nowMs);
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
  // Whatever waits for a buffer or a cursor gets a look at every wake-up,
  // so no lost nudge can stall a transfer for good.
  pumpAll(nowMs);
}

export function nextDeadlineMs(): f64 {
  let t = Infinity;
  if (!ready) return t;
  t = waitingDeadline();
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
