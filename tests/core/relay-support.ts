// Helpers for relay.spec.ts: a test file with its block list, a model host
// that plays server, flash and sockets and checks every record the core puts
// in the outbox, and feeders for a server stream and a parent's DATA frames.
//
// The model host (drain) walks the outbox after every input, as a real host
// does, and checks as it goes:
//   OUT_FLASH_WRITE  in order from offset 0, view bytes == the stream's bytes;
//   OUT_WRITE (DATA) a 7-byte head, at once followed by the OUT_WRITE_REF of
//                    its payload on the same handle, contiguous per handle,
//                    view bytes == the stream's bytes;
//   OUT_FLASH_READ   only of bytes already reported written to flash;
// and every view (flash or socket) must still show the right bytes when the
// host reports it done: the core may not reuse memory a view points into.
// A broken rule counts in `problems()`; the specs assert it stays 0. Then,
// where a test asks for it, the host reports flash writes (autoFlash), socket
// writes (autoAck per handle) and flash reads (autoRead) and walks again.
// Nothing here allocates after module start: the allocation test uses it.

import * as cfg from "../../assembly/config";
import * as core from "../../assembly/core";
import { Writer } from "../../assembly/bytes";
import {
  EV_CONFIRMED_ROOT, EV_CORRUPT, EV_FILE_DONE, EV_FLASH_FAILED, EV_LEFT, EV_MALFORMED, EV_MERGE_FAILED, EV_MERGE_PROVEN, EV_PARENT_LOST,
} from "../../assembly/events";
import { hiers, ROLE_ATTACHED } from "../../assembly/hierarchy";
import { OUT_HEADER_BYTES } from "../../assembly/limits";
import { links, LINK_FREE } from "../../assembly/link";
import {
  outboxBase, outboxClear, outboxPush, outboxUsed, OUT_CLOSE, OUT_CONNECT, OUT_EVENT, OUT_FETCH, OUT_FLASH_READ, OUT_FLASH_WRITE,
  OUT_WRITE, OUT_WRITE_REF,
} from "../../assembly/outbox";
import { BLOCK_BYTES, HASH_BYTES, listBytesFor } from "../../assembly/relay";
import { windowPtr } from "../../assembly/stream";
import { DATA_HEADER_BYTES, encodeDataHeader, encodeJoin, T_DATA, T_JOIN } from "../../assembly/wire";
import {
  adCands, decodeFrameRec, dgRootAd, FILE, fileXid, findFrame, findKind, frAccept, INBOX_BYTES, MAX_HIERS,
  MAX_STREAMS, MODEL, now, out, OUTBOX_BYTES, recB, runUntilEvent, SELF, setNow,
} from "./support";

/** SHA-256 from the host, the same import the core uses (as-pect.config.js). */
// @ts-ignore: decorator
@external("env", "sha256")
declare function sha256(ptr: usize, len: usize, out: usize): void;

export const NONE: u32 = 0xffffffff;

// ---------------------------------------------------------------- boot

/** The ring of every boot in relay.spec.ts: 8 blocks, twice the bytes a
 *  child may have in flight, so that the in-flight bound is what stops a
 *  child tied to the ring (with 4 blocks the ring would stop it first). */
export const RING_BYTES: u32 = 8 * BLOCK_BYTES;

/** Like support's boot() (same table sizes), with the ring above. */
export function bootRelay(self: u32 = SELF): void {
  for (let i = 0; i < cfg.CONFIG_WORDS; i++) cfg.configWords[i] = 0;
  cfg.configWords[cfg.CFG_SELF_ADDR] = self;
  cfg.configWords[cfg.CFG_SEED] = 7;
  cfg.configWords[cfg.CFG_MAX_HIERARCHIES] = MAX_HIERS;
  cfg.configWords[cfg.CFG_MAX_STREAMS] = MAX_STREAMS;
  cfg.configWords[cfg.CFG_OUTBOX_BYTES] = OUTBOX_BYTES;
  cfg.configWords[cfg.CFG_INBOX_BYTES] = INBOX_BYTES;
  cfg.configWords[cfg.CFG_RING_BYTES] = RING_BYTES;
  const rc = core.coreInit();
  assert(rc == 0, "coreInit failed");
  outboxClear();
  setNow(0);
  hostReset();
}

// ---------------------------------------------------------------- the file

export const MAX_FILE: u32 = 256 * 1024;
/** The transfer's byte stream: the block list, then the file. */
export const stream: usize = heap.alloc(<usize>(listBytesFor(MAX_FILE) + MAX_FILE));
/** SHA-256 of the block list: what the index gives need(). */
export const listHash: usize = heap.alloc(<usize>HASH_BYTES);
export let fileSize: u32 = 0;
export let listBytes: u32 = 0;
export let total: u32 = 0;

/** A file of `size` bytes (a pattern that differs per block and per seed),
 *  its block list and the list's hash. */
export function makeFile(size: u32, seed: u32): void {
  assert(size > 0 && size <= MAX_FILE, "makeFile: size");
  fileSize = size;
  listBytes = listBytesFor(size);
  total = listBytes + size;
  const file = stream + <usize>listBytes;
  for (let i: u32 = 0; i < size; i++) store<u8>(file + <usize>i, <u8>(i * 31 + (i >> 9) * 7 + seed));
  const blocks = listBytes / HASH_BYTES;
  for (let k: u32 = 0; k < blocks; k++) {
    const start = k * BLOCK_BYTES;
    const len = size - start < BLOCK_BYTES ? size - start : BLOCK_BYTES;
    sha256(file + <usize>start, <usize>len, stream + <usize>(k * HASH_BYTES));
  }
  sha256(stream, <usize>listBytes, listHash);
}

/** Offset (in the transfer) of file block `k`. */
export function blockAt(k: u32): u32 {
  return listBytes + k * BLOCK_BYTES;
}

/** True when `len` bytes at `ptr` equal the stream's bytes at `off`. */
export function sameAsStream(ptr: usize, off: u32, len: u32): bool {
  if (off > total || len > total - off) return false;
  return memory.compare(ptr, stream + <usize>off, <usize>len) == 0;
}

function putString(at: usize, s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u8>(at + <usize>i, <u8>s.charCodeAt(i));
  return s.length;
}

/** need() for (MODEL, FILE) with NEED_RELAY and the list hash after the
 *  names (or `hash` when given); returns the slot. */
export function needRelay(t: f64, flags: u32 = 0, hash: usize = 0): i32 {
  setNow(t);
  const inbox = core.inboxAddr();
  const ml = putString(inbox, MODEL);
  const fl = putString(inbox + <usize>ml, FILE);
  memory.copy(inbox + <usize>(ml + fl), hash != 0 ? hash : listHash, <usize>HASH_BYTES);
  return core.need(t, ml, fl, fileSize, 0, core.NEED_RELAY | flags);
}

/** need() with the relay flag and the election alone on the subnet: a
 *  confirmed root that has asked for the server fetch (drained). */
export function rootRelay(flags: u32 = 0): i32 {
  const slot = needRelay(now, flags);
  assert(slot == 0, "rootRelay: slot");
  assert(runUntilEvent(EV_CONFIRMED_ROOT, now + 5000), "rootRelay: no confirmation");
  drain();
  return slot;
}

const w = new Writer();

/** An inbound stream from `peer` whose JOIN asks for bytes from `offset`;
 *  the outbox is drained unless `drainAfter` is false. */
export function joinAt(peer: u32, offset: u32, drainAfter: bool = true): i32 {
  const handle = core.onStreamAccept(now, peer);
  assert(handle >= 0, "joinAt: no handle");
  resetHandle(handle);
  const x = w.reset(core.inboxAddr(), <i32>INBOX_BYTES);
  encodeJoin(x, fileXid(), 1, 0, 1, 0, offset);
  core.onStreamData(now, handle, x.length());
  if (drainAfter) drain();
  return handle;
}

/** Like support's attach() but with NEED_RELAY: a phone attached below the
 *  chain `path[0..n)` (root first, parent last). Returns the parent handle;
 *  the JOIN it sent is checked to resume at 0. */
export function attachRelay(path: StaticArray<u32>, n: i32): i32 {
  const slot = needRelay(now);
  assert(slot == 0, "attachRelay: slot");
  const xid = fileXid();
  adCands[0].set(path[n - 1], <u32>n, 1, 100);
  dgRootAd(path[0], xid, 0x80000000 | 0x1000, adCands, 1);
  const c = findKind(OUT_CONNECT);
  assert(c != 0, "attachRelay: no connect");
  const handle = <i32>recB(c);
  core.onStreamConnected(now, handle);
  assert(findFrame(T_JOIN, handle) != 0, "attachRelay: no JOIN");
  assert(out.offset == 0, "attachRelay: JOIN does not resume at 0");
  frAccept(handle, xid, path, n);
  assert(hiers[0].role == ROLE_ATTACHED, "attachRelay: not attached");
  drain();
  return handle;
}

// ---------------------------------------------------------------- the model host

const H = <i32>MAX_STREAMS;
const VIEWS = 32; // views remembered per handle

// Checks that failed (see the header); problems() sums them.
export let flashBad: i32 = 0;
export let dataBad: i32 = 0;
export let readBad: i32 = 0;
export let hostBad: i32 = 0;

export function problems(): i32 {
  return flashBad + dataBad + readBad + hostBad;
}

/** Record sequence number, over all walks since hostReset. */
export let seq: i32 = 0;

// Flash.
const FVIEWS = 64;
const fPtr = new StaticArray<usize>(FVIEWS);
const fOff = new StaticArray<u32>(FVIEWS);
const fLen = new StaticArray<u32>(FVIEWS);
let fHead = 0;
let fCount = 0;
export let flashSlot: i32 = 0;
export let flashWrites: i32 = 0;
/** End of what the core asked to write (writes come in order from 0). */
export let flashNext: u32 = 0;
/** Bytes reported written (onFlashWritten). */
export let flashAcked: u32 = 0;
export let autoFlash: bool = false;

// Server.
export let fetches: i32 = 0;
export let fetchHandle: i32 = -1;
export let fetchFrom: u32 = 0;
export let fetchTotal: u32 = 0;
export let fetchSlot: u32 = 0;
/** Next byte the model server sends. */
export let serverPos: u32 = 0;

// Events.
export let corrupts: i32 = 0;
export let corruptA: u32 = 0;
export let corruptB: u32 = 0;
export let dones: i32 = 0;
export let doneA: u32 = 0;
export let doneB: u32 = 0;
export let doneSeq: i32 = -1;
export let malformed: i32 = 0;
export let parentLost: i32 = 0;
export let flashFails: i32 = 0;
export let flashFailN: u32 = 0;
export let flashFailA: u32 = 0;
export let flashFailB: u32 = 0;
export let mergeFails: i32 = 0;
export let mergeFailN: u32 = 0;
export let mergeFailA: u32 = 0;
export let mergeProofs: i32 = 0;
export let lefts: i32 = 0;

// Connects and JOINs.
export let connects: i32 = 0;
export let lastConnectAddr: u32 = 0;
export let lastConnectHandle: i32 = -1;
export let joins: i32 = 0;
export let lastJoinOffset: u32 = 0;

// Per handle: DATA sent to it, views in flight, closes.
export const closes = new StaticArray<i32>(H);
export const autoAck = new StaticArray<bool>(H);
export const dFrames = new StaticArray<i32>(H);
export const dFirst = new StaticArray<u32>(H); //    offset of its first DATA frame
export const dFirstLen = new StaticArray<u32>(H);
export const dFirstSeq = new StaticArray<i32>(H);
export const dNext = new StaticArray<u32>(H); //     end of the DATA sent so far
export const dSent = new StaticArray<u32>(H); //     payload bytes handed out as views
export const dAcked = new StaticArray<u32>(H); //    reported written (onWriteDone)
export const dStaged = new StaticArray<i32>(H); //   views that were a flash-read buffer
const headOpen = new StaticArray<bool>(H);
const headOff = new StaticArray<u32>(H);
const headLen = new StaticArray<u32>(H);
const vPtr = new StaticArray<usize>(H * VIEWS);
const vOff = new StaticArray<u32>(H * VIEWS);
const vLen = new StaticArray<u32>(H * VIEWS);
const vHead = new StaticArray<i32>(H);
const vCount = new StaticArray<i32>(H);
const vDone = new StaticArray<u32>(H); //  bytes of the head view already acked
const lastReadPtr = new StaticArray<usize>(H);

// Flash reads asked for, not yet served.
const R = 16;
const rPtr = new StaticArray<usize>(R);
const rOff = new StaticArray<u32>(R);
const rLen = new StaticArray<u32>(R);
const rHandle = new StaticArray<i32>(R);
const rTag = new StaticArray<u32>(R);
export let reads: i32 = 0; //   OUT_FLASH_READ records seen
export let readsPending: i32 = 0;
export let lastReadOff: u32 = 0;
export let lastReadLen: u32 = 0;
export let lastReadHandle: i32 = -1;
export let autoRead: bool = false;

/** A copy of the DATA frames (head + payload) sent on `captureHandle`. */
export const CAPTURE_BYTES: u32 = 512 * 1024;
export const capture: usize = heap.alloc(<usize>CAPTURE_BYTES);
export let captureHandle: i32 = -1;
export let captureLen: u32 = 0;

export function resetHandle(h: i32): void {
  closes[h] = 0;
  autoAck[h] = false;
  dFrames[h] = 0;
  dFirst[h] = NONE;
  dFirstLen[h] = 0;
  dFirstSeq[h] = -1;
  dNext[h] = NONE;
  dSent[h] = 0;
  dAcked[h] = 0;
  dStaged[h] = 0;
  headOpen[h] = false;
  vHead[h] = 0;
  vCount[h] = 0;
  vDone[h] = 0;
  lastReadPtr[h] = 0;
}

export function hostReset(): void {
  flashBad = 0;
  dataBad = 0;
  readBad = 0;
  hostBad = 0;
  seq = 0;
  flashSlot = 0;
  flashWrites = 0;
  flashNext = 0;
  flashAcked = 0;
  fHead = 0;
  fCount = 0;
  autoFlash = false;
  fetches = 0;
  fetchHandle = -1;
  fetchFrom = 0;
  fetchTotal = 0;
  fetchSlot = 0;
  serverPos = 0;
  corrupts = 0;
  corruptA = 0;
  corruptB = 0;
  dones = 0;
  doneA = 0;
  doneB = 0;
  doneSeq = -1;
  malformed = 0;
  parentLost = 0;
  flashFails = 0;
  flashFailN = 0;
  flashFailA = 0;
  flashFailB = 0;
  mergeFails = 0;
  mergeFailN = 0;
  mergeFailA = 0;
  mergeProofs = 0;
  lefts = 0;
  connects = 0;
  lastConnectAddr = 0;
  lastConnectHandle = -1;
  joins = 0;
  lastJoinOffset = 0;
  for (let h = 0; h < H; h++) resetHandle(h);
  reads = 0;
  readsPending = 0;
  lastReadOff = 0;
  lastReadLen = 0;
  lastReadHandle = -1;
  autoRead = false;
  captureHandle = -1;
  captureLen = 0;
}

export function setAutoFlash(on: bool): void {
  autoFlash = on;
}
export function setAutoRead(on: bool): void {
  autoRead = on;
}
export function setCapture(handle: i32): void {
  captureHandle = handle;
  captureLen = 0;
}

/** Payload bytes handed to `h` and not yet reported written. */
export function unacked(h: i32): u32 {
  return dSent[h] - dAcked[h];
}

/** Every view of `h` not yet reported written still shows the right bytes
 *  (the core has not reused that memory). */
export function viewsIntact(h: i32): bool {
  for (let k = 0; k < vCount[h]; k++) {
    const i = h * VIEWS + (vHead[h] + k) % VIEWS;
    if (!sameAsStream(vPtr[i], vOff[i], vLen[i])) return false;
  }
  return true;
}

function pushView(h: i32, ptr: usize, off: u32, len: u32): void {
  if (vCount[h] >= VIEWS) {
    hostBad++;
    return;
  }
  const i = h * VIEWS + (vHead[h] + vCount[h]) % VIEWS;
  vPtr[i] = ptr;
  vOff[i] = off;
  vLen[i] = len;
  vCount[h] = vCount[h] + 1;
}

/** The host wrote `n` more bytes of `h`'s views: onWriteDone (then drain). */
export function ack(h: i32, n: u32): void {
  ackNow(h, n);
  drain();
}

function ackNow(h: i32, n: u32): void {
  if (n > unacked(h)) n = unacked(h);
  dAcked[h] = dAcked[h] + n;
  let left = n;
  while (left > 0 && vCount[h] > 0) {
    const i = h * VIEWS + vHead[h];
    const rest = vLen[i] - vDone[h];
    const take = left < rest ? left : rest;
    vDone[h] = vDone[h] + take;
    left -= take;
    if (vDone[h] == vLen[i]) {
      // The socket has sent the whole view: it must still show the bytes.
      if (!sameAsStream(vPtr[i], vOff[i], vLen[i])) dataBad++;
      vHead[h] = (vHead[h] + 1) % VIEWS;
      vCount[h] = vCount[h] - 1;
      vDone[h] = 0;
    }
  }
  core.onWriteDone(now, h, <i32>n);
}

/** Reports `n` more bytes of the flash writes asked for as written (then
 *  drain). */
export function flashDone(n: u32): void {
  flashDoneNow(n);
  drain();
}

function flashDoneNow(n: u32): void {
  if (n > flashNext - flashAcked) n = flashNext - flashAcked;
  flashAcked += n;
  // Flash has copied these views now: they must still show the bytes.
  while (fCount > 0 && fOff[fHead] + fLen[fHead] <= flashAcked) {
    if (!sameAsStream(fPtr[fHead], fOff[fHead], fLen[fHead])) flashBad++;
    fHead = (fHead + 1) % FVIEWS;
    fCount--;
  }
  core.onFlashWritten(now, flashSlot, <i32>n);
}

/** The flash fails the writes outstanding (onFlashWritten with len -1): the
 *  model flash forgets them, the core asks again from what was written
 *  (then drain). */
export function flashFail(): void {
  flashNext = flashAcked;
  fCount = 0;
  fHead = 0;
  core.onFlashWritten(now, flashSlot, -1);
  drain();
}

/** Forgets the flash reads asked for `h` (the host drops them when that
 *  stream closes). */
export function dropReads(h: i32): void {
  let k = 0;
  for (let i = 0; i < readsPending; i++) {
    if (rHandle[i] == h) continue;
    rPtr[k] = rPtr[i];
    rOff[k] = rOff[i];
    rLen[k] = rLen[i];
    rHandle[k] = rHandle[i];
    k++;
  }
  readsPending = k;
}

/** Serves the oldest flash read: copies the stream's bytes into the
 *  buffer the core gave (what flash holds) and reports it (then drain). */
export function serveRead(): bool {
  const did = serveReadNow();
  drain();
  return did;
}

function serveReadNow(): bool {
  if (readsPending == 0) return false;
  const ptr = rPtr[0];
  const off = rOff[0];
  const len = rLen[0];
  const h = rHandle[0];
  const tag = rTag[0];
  for (let i = 1; i < readsPending; i++) {
    rPtr[i - 1] = rPtr[i];
    rOff[i - 1] = rOff[i];
    rLen[i - 1] = rLen[i];
    rHandle[i - 1] = rHandle[i];
    rTag[i - 1] = rTag[i];
  }
  readsPending--;
  if (off + len > flashAcked) readBad++; // not written yet: flash cannot have it
  memory.copy(ptr, stream + <usize>off, <usize>len);
  lastReadPtr[h] = ptr;
  core.onFlashRead(now, h, tag, <i32>len);
  return true;
}

function recEnd(): usize {
  return outboxBase() + <usize>outboxUsed();
}

function after(r: usize): usize {
  return r + <usize>OUT_HEADER_BYTES + <usize>((<u32>load<u16>(r, 2) + 3) & ~3);
}

/** The record after `r` in the (undrained) outbox, 0 at the end. */
export function recNext(r: usize): usize {
  const next = after(r);
  return next < recEnd() ? next : 0;
}

/** The first DATA head (an OUT_WRITE whose frame type is T_DATA) on
 *  `handle` in the (undrained) outbox, 0 if none. */
export function findDataHead(handle: i32): usize {
  for (let r = outboxBase(), end = recEnd(); r < end; r = after(r)) {
    if (load<u8>(r) == OUT_WRITE && load<u32>(r, 8) == <u32>handle && load<u16>(r, 2) >= 3 &&
        <u32>load<u8>(r + <usize>OUT_HEADER_BYTES, 2) == T_DATA) return r;
  }
  return 0;
}

function walk(): void {
  let r = outboxBase();
  const end = recEnd();
  while (r < end) {
    const kind = load<u8>(r);
    const len = <u32>load<u16>(r, 2);
    const a = load<u32>(r, 4);
    const b = load<u32>(r, 8);
    const p = r + <usize>OUT_HEADER_BYTES;
    seq++;
    if (kind == OUT_FLASH_WRITE) {
      const ptr = <usize>load<u32>(p);
      const n = load<u32>(p, 4);
      flashWrites++;
      flashSlot = <i32>a;
      if (b != flashNext || n == 0 || !sameAsStream(ptr, b, n)) flashBad++;
      flashNext = b + n;
      if (fCount >= FVIEWS) hostBad++;
      else {
        const i = (fHead + fCount) % FVIEWS;
        fPtr[i] = ptr;
        fOff[i] = b;
        fLen[i] = n;
        fCount++;
      }
    } else if (kind == OUT_WRITE) {
      const h = <i32>b;
      if (len >= 3 && <u32>load<u8>(p, 2) == T_DATA) {
        const plen = <u32>bswap<u16>(load<u16>(p)) - <u32>(DATA_HEADER_BYTES - 2);
        if (len != <u32>DATA_HEADER_BYTES || headOpen[h]) dataBad++;
        headOpen[h] = true;
        headOff[h] = bswap<u32>(load<u32>(p, 3));
        headLen[h] = plen;
      } else {
        if (headOpen[h]) dataBad++; // a frame between a DATA head and its payload
        if (decodeFrameRec(r) == 0 && out.type == T_JOIN) {
          joins++;
          lastJoinOffset = out.offset;
        }
      }
    } else if (kind == OUT_WRITE_REF) {
      const h = <i32>b;
      const ptr = <usize>load<u32>(p);
      const n = load<u32>(p, 4);
      if (!headOpen[h] || headLen[h] != n) dataBad++;
      headOpen[h] = false;
      const off = headOff[h];
      if (dNext[h] != NONE && off != dNext[h]) dataBad++; // not contiguous
      if (!sameAsStream(ptr, off, n)) dataBad++;
      if (dFrames[h] == 0) {
        dFirst[h] = off;
        dFirstLen[h] = n;
        dFirstSeq[h] = seq;
      }
      if (lastReadPtr[h] != 0 && ptr == lastReadPtr[h]) dStaged[h] = dStaged[h] + 1;
      dFrames[h] = dFrames[h] + 1;
      dNext[h] = off + n;
      dSent[h] = dSent[h] + n;
      pushView(h, ptr, off, n);
      if (h == captureHandle) {
        if (captureLen + <u32>DATA_HEADER_BYTES + n > CAPTURE_BYTES) hostBad++;
        else {
          const x = w.reset(capture + <usize>captureLen, DATA_HEADER_BYTES);
          encodeDataHeader(x, off, <i32>n);
          memory.copy(capture + <usize>(captureLen + <u32>DATA_HEADER_BYTES), ptr, <usize>n);
          captureLen += <u32>DATA_HEADER_BYTES + n;
        }
      }
    } else if (kind == OUT_FLASH_READ) {
      reads++;
      lastReadOff = b;
      lastReadLen = load<u32>(p, 4);
      lastReadHandle = <i32>load<u32>(p, 8);
      if (readsPending >= R) hostBad++;
      else {
        rPtr[readsPending] = <usize>load<u32>(p);
        rOff[readsPending] = b;
        rLen[readsPending] = lastReadLen;
        rHandle[readsPending] = lastReadHandle;
        rTag[readsPending] = load<u32>(p, 12);
        readsPending++;
      }
    } else if (kind == OUT_FETCH) {
      fetches++;
      fetchSlot = a;
      fetchHandle = <i32>b;
      fetchFrom = load<u32>(p);
      fetchTotal = load<u32>(p, 4);
      serverPos = fetchFrom;
    } else if (kind == OUT_EVENT) {
      const code = load<u8>(p);
      const ea = load<u32>(p, 4);
      const eb = load<u32>(p, 8);
      if (code == EV_CORRUPT) {
        corrupts++;
        corruptA = ea;
        corruptB = eb;
      } else if (code == EV_FILE_DONE) {
        dones++;
        doneA = ea;
        doneB = eb;
        doneSeq = seq;
      } else if (code == EV_MALFORMED) malformed++;
      else if (code == EV_PARENT_LOST) parentLost++;
      else if (code == EV_FLASH_FAILED) {
        flashFails++;
        flashFailN = <u32>load<u8>(p, 1);
        flashFailA = ea;
        flashFailB = eb;
      } else if (code == EV_MERGE_FAILED) {
        mergeFails++;
        mergeFailN = <u32>load<u8>(p, 1);
        mergeFailA = ea;
      } else if (code == EV_MERGE_PROVEN) mergeProofs++;
      else if (code == EV_LEFT) lefts++;
    } else if (kind == OUT_CLOSE) {
      closes[<i32>b] = closes[<i32>b] + 1;
    } else if (kind == OUT_CONNECT) {
      connects++;
      lastConnectAddr = a;
      lastConnectHandle = <i32>b;
    }
    r += <usize>OUT_HEADER_BYTES + <usize>((len + 3) & ~3);
  }
  if (r != end) hostBad++;
}

/** One host action, if any is due; true when it made a call. */
function act(): bool {
  if (autoFlash && flashNext > flashAcked) {
    flashDoneNow(flashNext - flashAcked);
    return true;
  }
  for (let h = 0; h < H; h++) {
    if (autoAck[h] && unacked(h) > 0) {
      ackNow(h, unacked(h));
      return true;
    }
  }
  if (autoRead && readsPending > 0) return serveReadNow();
  return false;
}

/** Walks and empties the outbox, then makes the calls the host is set to
 *  make (autoFlash, autoAck, autoRead), walking again after each. */
export function drain(): void {
  for (let round = 0; round < 100000; round++) {
    walk();
    outboxClear();
    if (!act()) return;
  }
  hostBad++;
}

// ---------------------------------------------------------------- feeding

/** Feeds the model server's stream to the fetch link zero-copy (rxWindow,
 *  then onStreamRx) in pieces of at most `piece` bytes, up to `upTo` or
 *  until the window is 0 or the core closes the link; byte `corruptAt`
 *  arrives flipped. Returns the bytes taken. */
export function feedServer(upTo: u32, piece: u32, corruptAt: u32 = NONE): u32 {
  const h = fetchHandle;
  const closed = closes[h];
  let fed: u32 = 0;
  if (upTo > total) upTo = total;
  while (serverPos < upTo && closes[h] == closed) {
    const win = core.rxWindow(h);
    if (win <= 0) break;
    let n = <u32>win;
    if (n > piece) n = piece;
    if (n > upTo - serverPos) n = upTo - serverPos;
    const dst = windowPtr();
    memory.copy(dst, stream + <usize>serverPos, <usize>n);
    if (corruptAt != NONE && corruptAt >= serverPos && corruptAt < serverPos + n) {
      const at = dst + <usize>(corruptAt - serverPos);
      store<u8>(at, load<u8>(at) ^ 0x5a);
    }
    serverPos += n;
    fed += n;
    core.onStreamRx(now, h, <i32>n);
    drain();
  }
  return fed;
}

/** Offers `len` bytes of the server stream through the inbox
 *  (onStreamData); returns what the core took. */
export function offerServer(len: u32): i32 {
  if (len > total - serverPos) len = total - serverPos;
  memory.copy(core.inboxAddr(), stream + <usize>serverPos, <usize>len);
  const took = core.onStreamData(now, fetchHandle, <i32>len);
  if (took > 0) serverPos += <u32>took;
  drain();
  return took;
}

/** DATA frames as a parent sends them, built in `wire`. */
export const WIRE_BYTES: u32 = 512 * 1024;
export const wire: usize = heap.alloc(<usize>WIRE_BYTES);

/** Writes DATA frames carrying the stream's [from, to) into `wire` at `at`,
 *  `frameLen` payload bytes each (the last may be shorter; `offsetOf` lets
 *  a test lie about the first frame's offset); byte `corruptAt` flipped.
 *  Returns the end of what was written. */
export function buildFrames(at: u32, from: u32, to: u32, frameLen: u32, corruptAt: u32 = NONE, firstOffset: u32 = NONE): u32 {
  let off = from;
  let first = true;
  while (off < to) {
    const n = to - off < frameLen ? to - off : frameLen;
    const x = w.reset(wire + <usize>at, DATA_HEADER_BYTES);
    encodeDataHeader(x, first && firstOffset != NONE ? firstOffset : off, <i32>n);
    first = false;
    at += <u32>DATA_HEADER_BYTES;
    memory.copy(wire + <usize>at, stream + <usize>off, <usize>n);
    if (corruptAt != NONE && corruptAt >= off && corruptAt < off + n) {
      const p = wire + <usize>(at + corruptAt - off);
      store<u8>(p, load<u8>(p) ^ 0x5a);
    }
    at += n;
    off += n;
  }
  return at;
}

/** Offers `src[0..len)` to stream `handle` through the inbox in pieces of
 *  at most `piece` (<= the inbox); stops when the core takes less than it
 *  was offered or closes the link. Returns the bytes taken. */
export function feedBytes(handle: i32, src: usize, len: u32, piece: u32): u32 {
  const closed = closes[handle];
  let off: u32 = 0;
  while (off < len) {
    if (!linkOpen(handle) || closes[handle] != closed) break; // (the handle may be reused at once)
    const n = len - off < piece ? len - off : piece;
    memory.copy(core.inboxAddr(), src + <usize>off, <usize>n);
    const took = core.onStreamData(now, handle, <i32>n);
    drain();
    off += <u32>took;
    if (<u32>took < n) break;
  }
  return off;
}

/** Like feedBytes, zero-copy: rxWindow, copy, onStreamRx. */
export function feedBytesZeroCopy(handle: i32, src: usize, len: u32, piece: u32): u32 {
  const closed = closes[handle];
  let off: u32 = 0;
  while (off < len) {
    if (!linkOpen(handle) || closes[handle] != closed) break;
    const win = core.rxWindow(handle);
    if (win <= 0) break;
    let n = len - off < piece ? len - off : piece;
    if (n > <u32>win) n = <u32>win;
    memory.copy(windowPtr(), src + <usize>off, <usize>n);
    core.onStreamRx(now, handle, <i32>n);
    drain();
    off += n;
  }
  return off;
}

export function linkOpen(handle: i32): bool {
  return handle >= 0 && handle < links.length && links[handle].kind != LINK_FREE;
}

/** Fills the (drained) outbox with filler records (kind 0, which the walk
 *  ignores) until exactly `free` bytes are left: a host that stopped
 *  draining. */
export function fillOutbox(free: i32): void {
  let left = <i32>OUTBOX_BYTES - outboxUsed() - free;
  assert(left >= 12 && (left & 3) == 0, "fillOutbox: bad size");
  while (left >= 12 + 60000 + 16) {
    outboxPush(0, 0, 0, 60000);
    left -= 12 + 60000;
  }
  outboxPush(0, 0, 0, left - 12);
  assert(outboxUsed() == <i32>OUTBOX_BYTES - free, "fillOutbox: not filled");
}

export { fillHeapHoles } from "./support";
