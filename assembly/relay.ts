// The relay: firmware bytes flowing down the tree, cut-through.
//
// One transfer = one file of one hierarchy, as a single offset space:
//   [0, listBytes)                the block list: SHA-256 of every 16 KiB block
//   [listBytes, listBytes + size) the file itself
// The index the phone trusts (from its own server) gives the file's size and
// the SHA-256 of its block list. The list is checked as a whole once it is in;
// then every block is checked against its list entry before it goes anywhere
// (to flash or to a child), so bad bytes are caught one block after they
// arrive and never passed on. The root reads the same stream from the server
// (the host fetches "<file>.blk" and then "<file>").
//
// Received file bytes land in a fixed ring (ringBytes, whole blocks, from the
// board). Each child link and the flash have a cursor; the writer may run at
// most ringBytes ahead of the slowest cursor still tied to the ring, so the
// slowest consumer pushes back on the parent stream (or the server fetch)
// instead of growing memory (smoltcp's ring: window, then enqueue). A child
// that falls behind the ring, joins late, or whose parent is already done is
// served from what was written to flash, through a small pool of staging
// buffers, and no longer holds the ring back. Sends and flash writes hand the
// host views of core memory (zero copy); the host reports when they are done.

import * as cfg from "./config";
import { emit, EV_CORRUPT, EV_FILE_DONE, EV_FLASH_FAILED } from "./events";
import { Hier, hiers, NO_STREAM, ROLE_IDLE } from "./hierarchy";
import { BLOCK_BYTES, FETCH_RETRY_MS, FLASH_RETRY_MS, MAX_CHILDREN, MAX_FLASH_FAILURES, MAX_FRAME_BYTES } from "./limits";
import { allocLink, CHUNK_LIST, CHUNK_RING, CHUNK_STAGING, Link, LINK_CHILD, LINK_SERVER, links, MAX_CHUNKS } from "./link";
import { outboxFits, outboxPush, OUT_FETCH, OUT_FLASH_READ, OUT_FLASH_WRITE, OUT_WRITE_REF } from "./outbox";
import { beginFrameOn, finish, requestClose } from "./send";
import { sha256 } from "./sha256";
import { encodeDataHeader, FRAME_LEN_BYTES } from "./wire";

export { BLOCK_BYTES };
export const HASH_BYTES: u32 = 32;
/** Bytes a child may have in flight (sent, not yet reported written): about
 *  a socket buffer. */
export const CHILD_INFLIGHT_BYTES: u32 = 4 * BLOCK_BYTES;
/** Flash writes in flight per transfer. */
export const FLASH_INFLIGHT_BYTES: u32 = 4 * BLOCK_BYTES;
/** A flash-fed child goes back on the ring within ringBytes / 4 of the head. */
const REATTACH_DIVISOR: u32 = 4;
/** An OUT_WRITE_REF or OUT_FLASH_WRITE record's payload: ptr and length. */
const REF_BYTES: i32 = 8;

export function listBytesFor(sizeBytes: u32): u32 {
  return ((sizeBytes + BLOCK_BYTES - 1) / BLOCK_BYTES) * HASH_BYTES;
}

@final
export class Transfer {
  hier: i32 = -1;
  storeAndForward: bool = false;
  sizeBytes: u32 = 0;
  listBytes: u32 = 0;
  total: u32 = 0;
  expected: usize = 0; // HASH_BYTES: SHA-256 of the block list, from the index
  list: usize = 0; //     the block list buffer
  ring: usize = 0;
  /** Bytes received in order (some may still await their check). */
  recvOff: u32 = 0;
  /** The furthest offset ever written into the ring. After a rewind the ring
   *  still holds those discarded bytes, so whether an offset is intact in the
   *  ring is judged against this, not recvOff. */
  ringHigh: u32 = 0;
  /** Bytes checked: the list, then whole blocks. Only these go anywhere. */
  verifiedOff: u32 = 0;
  listOk: bool = false;
  flashReqOff: u32 = 0;
  flashOff: u32 = 0;
  complete: bool = false;
  /** Bytes discarded: partial blocks of a lost parent, corrupt blocks. */
  discarded: u32 = 0;
  /** Flash writes that failed in a row (no byte written since). */
  flashFailures: i32 = 0;
  /** After a failed flash write, none is asked for before this. */
  flashRetryAtMs: f64 = -Infinity;

  reset(): void {
    this.hier = -1;
    this.storeAndForward = false;
    this.sizeBytes = 0;
    this.listBytes = 0;
    this.total = 0;
    this.recvOff = 0;
    this.ringHigh = 0;
    this.verifiedOff = 0;
    this.listOk = false;
    this.flashReqOff = 0;
    this.flashOff = 0;
    this.complete = false;
    this.discarded = 0;
    this.flashFailures = 0;
    this.flashRetryAtMs = -Infinity;
  }
}

let transfers: StaticArray<Transfer> = new StaticArray<Transfer>(0);
let staging: StaticArray<usize> = new StaticArray<usize>(0);
let stagingOwner: StaticArray<i32> = new StaticArray<i32>(0);
let digest: usize = 0;
let maxListBytes: u32 = 0;
export let corruptBlocks: u32 = 0;

export function relayInit(): void {
  maxListBytes = listBytesFor(cfg.maxFileBytes);
  transfers = new StaticArray<Transfer>(cfg.maxTransfers);
  for (let i = 0; i < cfg.maxTransfers; i++) {
    const t = new Transfer();
    t.expected = heap.alloc(<usize>HASH_BYTES);
    t.list = heap.alloc(<usize>maxListBytes);
    t.ring = heap.alloc(<usize>cfg.ringBytes);
    transfers[i] = t;
  }
  staging = new StaticArray<usize>(cfg.serveBuffers);
  stagingOwner = new StaticArray<i32>(cfg.serveBuffers);
  for (let i = 0; i < cfg.serveBuffers; i++) {
    staging[i] = heap.alloc(<usize>cfg.stagingBytes);
    stagingOwner[i] = -1;
  }
  digest = heap.alloc(<usize>HASH_BYTES);
  corruptBlocks = 0;
}

export function relayReboot(): void {
  for (let i = 0; i < transfers.length; i++) unchecked(transfers[i]).reset();
  for (let i = 0; i < stagingOwner.length; i++) unchecked((stagingOwner[i] = -1));
  corruptBlocks = 0;
}

export function transferOf(h: Hier): Transfer | null {
  return h.transfer < 0 ? null : unchecked(transfers[h.transfer]);
}

export function hasFreeTransfer(): bool {
  for (let i = 0; i < transfers.length; i++) if (unchecked(transfers[i]).hier < 0) return true;
  return false;
}

/** Takes a transfer for hierarchy `idx`: `hash` points at the SHA-256 of the
 *  block list. False when none is free or the file is over the board's size. */
export function startTransfer(h: Hier, idx: i32, hash: usize, storeAndForward: bool): bool {
  if (h.sizeBytes == 0 || h.sizeBytes > cfg.maxFileBytes) return false;
  for (let i = 0; i < transfers.length; i++) {
    const t = unchecked(transfers[i]);
    if (t.hier >= 0) continue;
    t.reset();
    t.hier = idx;
    t.storeAndForward = storeAndForward;
    t.sizeBytes = h.sizeBytes;
    t.listBytes = listBytesFor(h.sizeBytes);
    t.total = t.listBytes + h.sizeBytes;
    memory.copy(t.expected, hash, <usize>HASH_BYTES);
    h.transfer = i;
    return true;
  }
  return false;
}

/** Everything of this hierarchy's file that a child can be sent now. */
export function servable(h: Hier): u32 {
  if (!h.relay) return 0;
  const t = transferOf(h);
  if (t == null) return h.verified ? listBytesFor(h.sizeBytes) + h.sizeBytes : 0;
  if (t.storeAndForward && !t.complete) return 0;
  return t.verifiedOff;
}

/** Where the phone resumes: the bytes it holds checked. */
export function heldOffset(h: Hier): u32 {
  if (!h.relay) return 0;
  const t = transferOf(h);
  if (t == null) return h.verified ? listBytesFor(h.sizeBytes) + h.sizeBytes : 0;
  return t.verifiedOff;
}

/** The phone still has bytes of this file to receive (and check). */
export function needsBytes(h: Hier): bool {
  const t = transferOf(h);
  return t != null && !t.complete && t.verifiedOff < t.total;
}

// ---------------------------------------------------------------- receiving

/** The lowest offset the ring must keep: the flash cursor and every child
 *  still tied to the ring (attached, or with ring views in flight). */
function ringTail(h: Hier, t: Transfer): u32 {
  let tail = t.flashOff;
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM) continue;
    const l = unchecked(links[c]);
    const hold = l.ringHold();
    if (hold < tail) tail = hold;
  }
  return tail < t.listBytes ? t.listBytes : tail;
}

/** Bytes the writer may add at `off` before it would overwrite what some
 *  consumer still needs. */
function ringRoom(h: Hier, t: Transfer, off: u32): u32 {
  const limit = <u64>ringTail(h, t) + <u64>cfg.ringBytes;
  // The ring's own promise: the writer never got more than ringBytes ahead
  // of what some consumer still needs.
  assert(limit >= <u64>off); // recvOff - ringTail <= ringBytes
  return limit > <u64>off ? <u32>(limit - <u64>off) : 0;
}

let windowPtr: usize = 0;

export function rxPtr(): usize {
  return windowPtr;
}

/** How many bytes of payload transfer `t` can take now, and where (rxPtr). */
export function payloadWindow(h: Hier, t: Transfer, limit: u32): u32 {
  const off = t.recvOff;
  if (off >= t.total) return 0;
  if (off < t.listBytes) {
    windowPtr = t.list + <usize>off;
    const n = t.listBytes - off;
    return n < limit ? n : limit;
  }
  const R = <u32>cfg.ringBytes;
  let room = ringRoom(h, t, off);
  if (room == 0 && detachLaggard(h, t)) room = ringRoom(h, t, off);
  const pos = (off - t.listBytes) % R;
  let n = R - pos;
  if (room < n) n = room;
  if (t.total - off < n) n = t.total - off;
  if (limit < n) n = limit;
  windowPtr = t.ring + <usize>pos;
  return n;
}

/** `n` payload bytes were placed at the window. Checks what completed;
 *  returns false when a check failed (the caller drops the source). */
export function commitPayload(h: Hier, t: Transfer, n: u32, source: u32): bool {
  // The window bounded n: bytes land within the transfer, never past it.
  assert(n <= t.total - t.recvOff); // received bytes stay within the transfer
  t.recvOff += n;
  if (t.recvOff > t.ringHigh) t.ringHigh = t.recvOff;
  if (!t.listOk) {
    if (t.recvOff < t.listBytes) return true;
    sha256(t.list, <usize>t.listBytes, digest);
    if (memory.compare(digest, t.expected, <usize>HASH_BYTES) != 0) {
      corrupt(h, t, source, 0xffffffff);
      return false;
    }
    t.listOk = true;
    t.verifiedOff = t.listBytes;
  }
  const R = <u32>cfg.ringBytes;
  while (t.verifiedOff < t.recvOff) {
    const k = (t.verifiedOff - t.listBytes) / BLOCK_BYTES;
    let end = t.listBytes + (k + 1) * BLOCK_BYTES;
    if (end > t.total) end = t.total;
    if (t.recvOff < end) break;
    const pos = (t.verifiedOff - t.listBytes) % R;
    sha256(t.ring + <usize>pos, <usize>(end - t.verifiedOff), digest);
    if (memory.compare(digest, t.list + <usize>(k * HASH_BYTES), <usize>HASH_BYTES) != 0) {
      corrupt(h, t, source, k);
      return false;
    }
    assert(end > t.verifiedOff && end <= t.recvOff); // a checked block moves verifiedOff forward, never past recvOff
    t.verifiedOff = end;
    h.heldBytes = end - t.listBytes;
  }
  assertReceive(t);
  return true;
}

/** The receive side's order, cheap enough for every change: checked bytes
 *  never pass received ones, flash never passes checked ones. */
// @ts-ignore: decorator
@inline function assertReceive(t: Transfer): void {
  assert(t.verifiedOff <= t.recvOff && t.recvOff <= t.ringHigh && t.ringHigh <= t.total); // verifiedOff <= recvOff <= ringHigh <= total
  assert(t.flashOff <= t.flashReqOff && t.flashReqOff <= t.verifiedOff); // flashOff <= flashReqOff <= verifiedOff
}

/** The ring is full and a child still tied to it holds the tail: if flash
 *  already has what that child needs next, serve it from flash from now on,
 *  so it no longer stalls its sibling and the stream feeding us. */
function detachLaggard(h: Hier, t: Transfer): bool {
  const tail = ringTail(h, t);
  let freed = false;
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM) continue;
    const l = unchecked(links[c]);
    // Its views in flight still hold the ring until the host is done with
    // them; from then on its bytes come from flash.
    if (l.ringMode && l.ringHold() == tail && t.flashOff > l.sendOff) {
      l.ringMode = false;
      l.lagged = true;
      freed = l.ringHold() > tail;
    }
  }
  return freed;
}

function corrupt(h: Hier, t: Transfer, source: u32, block: u32): void {
  corruptBlocks++;
  emit(h.xid, EV_CORRUPT, 0, source, block);
  rewind(t);
}

/** Drops bytes received but not checked (a lost or bad source): the one
 *  way recvOff goes back, and never below the checked bytes. */
export function rewind(t: Transfer): void {
  const checked = t.listOk ? t.verifiedOff : 0;
  assert(checked <= t.recvOff); // a rewind drops unchecked bytes only
  t.discarded += t.recvOff - checked;
  t.recvOff = checked;
  assertReceive(t);
}

/** Drops the unchecked bytes from `off` on and keeps those before it: a
 *  failed merge keeps what the server sent up to where it was paused
 *  (merge.ts), since its stream goes on exactly there. */
export function rewindTo(t: Transfer, off: u32): void {
  assert(t.verifiedOff <= off && off <= t.recvOff); // rewindTo stays within the unchecked bytes
  t.discarded += t.recvOff - off;
  t.recvOff = off;
  assertReceive(t);
}

// ---------------------------------------------------------------- the server

/** A root (or a direct fetcher) asks the host for the file from the server,
 *  from the bytes it holds on (the host must skip what comes before: TFTP
 *  cannot start mid-file). `handle` is a free link for the server stream. */
export function requestFetch(h: Hier, slot: i32, handle: i32, nowMs: f64): void {
  const t = transferOf(h);
  if (t == null) return;
  const at = outboxPush(OUT_FETCH, <u32>slot, <u32>handle, 8);
  if (at == 0) {
    h.fetchRetryMs = nowMs + FETCH_RETRY_MS; // no room to ask now: ask again later
    return;
  }
  store<u32>(at, t.verifiedOff);
  store<u32>(at, t.total, 4);
  const l = unchecked(links[handle]);
  l.open(LINK_SERVER, 0, slot, nowMs);
  l.connected = true;
  h.server = handle;
}

/** Starts (or restarts) the server fetch of a root or direct fetcher. */
export function startFetch(h: Hier, slot: i32, nowMs: f64): void {
  const t = transferOf(h);
  // Everything received already (flash may still be writing): nothing to fetch.
  if (t == null || t.complete || t.verifiedOff >= t.total || h.server != NO_STREAM) return;
  const handle = allocLink();
  if (handle < 0) {
    h.fetchRetryMs = nowMs + FETCH_RETRY_MS;
    return;
  }
  requestFetch(h, slot, handle, nowMs);
}

// ---------------------------------------------------------------- serving

function pushRef(kind: u8, a: u32, b: u32, ptr: usize, len: u32): bool {
  const at = outboxPush(kind, a, b, 8);
  if (at == 0) return false;
  store<u32>(at, <u32>ptr);
  store<u32>(at, len, 4);
  return true;
}

/** One DATA frame to child link `handle` from `ptr` (a view the host sends
 *  without copying). */
function sendChunk(handle: i32, l: Link, kind: u8, ptr: usize, len: u32): bool {
  // The head and its view go together or not at all (the framing depends on it).
  if (!outboxFits(MAX_FRAME_BYTES + FRAME_LEN_BYTES, REF_BYTES)) return false;
  const w = beginFrameOn(handle);
  encodeDataHeader(w, l.sendOff, <i32>len);
  if (!finish(w)) return false;
  pushRef(OUT_WRITE_REF, 0, <u32>handle, ptr, len);
  l.pushChunk(kind, l.sendOff, len);
  l.sendOff += len;
  return true;
}

function takeStaging(handle: i32): i32 {
  for (let i = 0; i < stagingOwner.length; i++) {
    if (unchecked(stagingOwner[i]) < 0) {
      unchecked((stagingOwner[i] = handle));
      return i;
    }
  }
  return -1;
}

export function releaseStaging(handle: i32): void {
  for (let i = 0; i < stagingOwner.length; i++) if (unchecked(stagingOwner[i]) == handle) unchecked((stagingOwner[i] = -1));
}

/** Length of the next chunk at `off`: up to a block boundary of the file (or
 *  the end of the list), never more than a block. */
function chunkAt(t_listBytes: u32, total: u32, off: u32, limit: u32): u32 {
  let end: u32;
  if (off < t_listBytes) end = t_listBytes;
  else end = t_listBytes + ((off - t_listBytes) / BLOCK_BYTES + 1) * BLOCK_BYTES;
  if (end > total) end = total;
  if (end > limit) end = limit;
  let n = end - off;
  if (n > BLOCK_BYTES) n = BLOCK_BYTES;
  return n;
}

/** Sends child link `handle` what it can take of what we hold. */
function serveChild(h: Hier, slot: i32, t: Transfer | null, handle: i32, l: Link): void {
  const avail = servable(h);
  const listBytes = listBytesFor(h.sizeBytes);
  const total = listBytes + h.sizeBytes;
  const R = <u32>cfg.ringBytes;
  while (l.sendOff < avail && l.inflightBytes < CHILD_INFLIGHT_BYTES && l.chunks < MAX_CHUNKS) {
    const off = l.sendOff;
    if (t != null && !t.complete && off < listBytes && t.listOk) {
      if (!sendChunk(handle, l, CHUNK_LIST, t.list + <usize>off, chunkAt(listBytes, total, off, avail))) return;
      continue;
    }
    // Back on the ring once the ring holds what it needs next; a child that
    // was detached for lagging only once it has caught up to within a quarter
    // ring of the newest bytes (else it would tie the ring up again at once).
    if (t != null && !t.complete && !t.storeAndForward && !l.ringMode && !l.readPending && l.stagedLen == 0 &&
        off >= listBytes && off + (l.lagged ? R / REATTACH_DIVISOR : R) >= t.ringHigh) {
      l.ringMode = true;
      l.lagged = false;
    }
    // Still in the ring? Only while nobody may have written over it.
    if (t != null && !t.complete && !t.storeAndForward && off >= listBytes && l.ringMode &&
        off + R >= t.ringHigh && off >= ringTail(h, t)) {
      const n = chunkAt(listBytes, total, off, avail);
      if (!sendChunk(handle, l, CHUNK_RING, t.ring + <usize>((off - listBytes) % R), n)) return;
      continue;
    }
    // From flash: one staged read at a time per child.
    l.ringMode = false;
    if (l.resend) {
      // A staged block the outbox had no room for: send it now.
      if (!sendChunk(handle, l, CHUNK_STAGING, unchecked(staging[l.staging]), l.stagedLen)) return;
      l.resend = false;
      l.readPending = false;
      break;
    }
    if (l.readPending || l.stagedLen != 0) break;
    const flashHas = t == null ? total : t.flashOff;
    if (off >= flashHas) break;
    const s = takeStaging(handle);
    if (s < 0) break;
    // A staging buffer may be smaller than a block (a board's figure): the
    // bytes were checked before they went to flash, the child checks them
    // again as whole blocks, so a read need not be a whole block.
    let n = chunkAt(listBytes, total, off, flashHas);
    if (n > <u32>cfg.stagingBytes) n = <u32>cfg.stagingBytes;
    const at = outboxPush(OUT_FLASH_READ, <u32>slot, off, 16);
    if (at == 0) {
      unchecked((stagingOwner[s] = -1)); // try again at the next pump
      return;
    }
    store<u32>(at, <u32>unchecked(staging[s]));
    store<u32>(at, n, 4);
    store<u32>(at, <u32>handle, 8);
    store<u32>(at, l.gen, 12); // the host hands it back: a late answer for a reused handle is ignored
    l.staging = s;
    l.readPending = true;
    l.stagedLen = n;
    break;
  }
}

/** The host filled child `handle`'s staging buffer from flash. Returns false
 *  when the read failed: the caller drops that child, which re-joins
 *  elsewhere (retrying a flash that cannot be read would spin). */
export function flashReadDone(handle: i32, l: Link, tag: u32, n: u32): bool {
  if (!l.readPending || l.staging < 0 || tag != l.gen) return true; // not this link's read
  l.readPending = false;
  const len = n < l.stagedLen ? n : l.stagedLen;
  if (len == 0) {
    l.stagedLen = 0;
    unchecked((stagingOwner[l.staging] = -1));
    l.staging = -1;
    return false;
  }
  if (!sendChunk(handle, l, CHUNK_STAGING, unchecked(staging[l.staging]), len)) {
    l.readPending = true; // the outbox is full: the staged bytes wait for the next pump
    l.stagedLen = len;
    l.resend = true;
  }
  return true;
}

/** The host wrote `n` more bytes of this link's views to its socket.
 *  Returns true when a staging buffer came free (others may wait for one). */
export function writeDone(l: Link, n: u32): bool {
  l.completeChunks(n);
  if (l.staging >= 0 && !l.readPending && !l.hasChunk(CHUNK_STAGING)) {
    unchecked((stagingOwner[l.staging] = -1));
    l.staging = -1;
    l.stagedLen = 0;
    return true;
  }
  return false;
}

/** Flash writes, serving children, completion: after anything that moved. */
export function pump(h: Hier, slot: i32, nowMs: f64): void {
  const t = transferOf(h);
  if (t != null) {
    // After a failed write the flash gets a rest (FLASH_RETRY_MS, doubling).
    if (nowMs >= t.flashRetryAtMs) t.flashRetryAtMs = -Infinity;
    // Checked bytes go to flash in order, at most FLASH_INFLIGHT_BYTES ahead.
    while (t.flashReqOff < t.verifiedOff && t.flashReqOff - t.flashOff < FLASH_INFLIGHT_BYTES && t.flashRetryAtMs == -Infinity) {
      const off = t.flashReqOff;
      const n = chunkAt(t.listBytes, t.total, off, t.verifiedOff);
      const ptr = off < t.listBytes ? t.list + <usize>off : t.ring + <usize>((off - t.listBytes) % <u32>cfg.ringBytes);
      if (!pushRef(OUT_FLASH_WRITE, <u32>slot, off, ptr, n)) break;
      t.flashReqOff += n;
    }
    assertReceive(t);
    assert(t.flashReqOff - t.flashOff <= FLASH_INFLIGHT_BYTES + BLOCK_BYTES); // flash writes in flight stay bounded
    if (!t.complete && t.flashOff >= t.total && t.verifiedOff >= t.total) {
      t.complete = true;
      emit(h.xid, EV_FILE_DONE, 0, h.sizeBytes, t.discarded);
      h.heldBytes = h.sizeBytes;
      h.markVerified(nowMs, cfg.lingerMs);
    }
  }
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c != NO_STREAM) serveChild(h, slot, t, c, unchecked(links[c]));
  }
  // A finished transfer gives its buffers back once no view of them is out.
  if (t != null && t.complete && !ringViewsOut(h)) {
    t.reset();
    h.transfer = -1;
  }
}

function ringViewsOut(h: Hier): bool {
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM) continue;
    const l = unchecked(links[c]);
    if (l.hasChunk(CHUNK_RING) || l.hasChunk(CHUNK_LIST)) return true;
  }
  return false;
}

/** The host finished `n` more bytes of this transfer's flash writes. */
export function flashWritten(h: Hier, n: u32): void {
  const t = transferOf(h);
  if (t == null) return;
  const room = t.flashReqOff - t.flashOff;
  t.flashOff += n < room ? n : room;
  if (n > 0 && room > 0) t.flashFailures = 0;
  assertReceive(t);
}

/** The host reports that this transfer's flash writes from flashOff on
 *  failed (onFlashWritten with len < 0): they are asked for again after a
 *  backoff, from flashOff (the ring still holds those bytes: flashOff is its
 *  tail). Returns true when MAX_FLASH_FAILURES in a row say the flash
 *  cannot take the file: the caller gives the transfer up. */
export function flashFailed(h: Hier, nowMs: f64): bool {
  const t = transferOf(h);
  // Nothing outstanding, nothing failed: a late or repeated report.
  if (t == null || t.flashReqOff == t.flashOff) return false;
  t.flashReqOff = t.flashOff;
  if (t.flashFailures < MAX_FLASH_FAILURES) t.flashFailures++;
  const giveUp = t.flashFailures >= MAX_FLASH_FAILURES;
  t.flashRetryAtMs = nowMs + FLASH_RETRY_MS * <f64>(1 << (t.flashFailures - 1));
  emit(h.xid, EV_FLASH_FAILED, <u32>t.flashFailures, t.flashOff, giveUp ? 1 : 0);
  assertReceive(t);
  return giveUp;
}

/** When pump has flash work waiting for the end of a backoff. */
export function transferDeadline(h: Hier): f64 {
  const t = transferOf(h);
  return t == null ? Infinity : t.flashRetryAtMs == -Infinity ? Infinity : t.flashRetryAtMs;
}

/** A child joined (or re-joined) asking for bytes from `offset` on. It is
 *  tied to the ring only if the ring still holds that offset (cut-through);
 *  otherwise it is served from flash and holds nothing back. */
export function childStarts(l: Link, offset: u32, h: Hier): void {
  const total = listBytesFor(h.sizeBytes) + h.sizeBytes;
  l.sendOff = offset <= total ? offset : total;
  const t = transferOf(h);
  l.ringMode = t != null && !t.storeAndForward && !t.complete && l.sendOff >= t.listBytes &&
    <u64>l.sendOff + <u64>cfg.ringBytes >= <u64>t.ringHigh;
}

/** Debug build (invariants.ts): every transfer and staging buffer against
 *  the tables that refer to them, and the ring's order: tail <= verifiedOff
 *  <= recvOff <= ringHigh, recvOff - tail <= ringBytes. */
export function checkRelay(): void {
  const R = <u32>cfg.ringBytes;
  for (let i = 0; i < transfers.length; i++) {
    const t = unchecked(transfers[i]);
    if (t.hier < 0) continue;
    const h = unchecked(hiers[t.hier]);
    assert(h.role != ROLE_IDLE && h.transfer == i); // a transfer's hierarchy holds it
    assert(t.total == t.listBytes + t.sizeBytes && t.listBytes == listBytesFor(t.sizeBytes)); // a transfer is its list, then its file
    assertReceive(t);
    if (!t.listOk) {
      assert(t.verifiedOff == 0 && t.flashReqOff == 0); // nothing is checked, or written, before the list
      continue;
    }
    const tail = ringTail(h, t);
    assert(tail <= t.verifiedOff); // the ring's tail lies in checked bytes
    assert(t.recvOff <= t.listBytes || t.recvOff - tail <= R); // recvOff - ringTail <= ringBytes
  }
  for (let i = 0; i < hiers.length; i++) {
    const h = unchecked(hiers[i]);
    if (h.transfer >= 0) assert(unchecked(transfers[h.transfer]).hier == i); // a hierarchy's transfer is its own
  }
  for (let s = 0; s < stagingOwner.length; s++) {
    const owner = unchecked(stagingOwner[s]);
    if (owner < 0) continue;
    const l = unchecked(links[owner]);
    assert(l.kind == LINK_CHILD && l.staging == s); // a staging buffer's owner is a child that holds it
  }
}

export function releaseTransfer(h: Hier): void {
  const t = transferOf(h);
  if (t != null) t.reset();
  h.transfer = -1;
}

/** Ends a server fetch we no longer need (we merged into another tree). */
export function closeServer(h: Hier, nowMs: f64): void {
  if (h.server != NO_STREAM) {
    const handle = h.server;
    h.server = NO_STREAM;
    requestClose(handle);
    unchecked(links[handle]).free();
  }
  const t = transferOf(h);
  if (t != null) rewind(t);
  h.fetchRetryMs = Infinity;
}
