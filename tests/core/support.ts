// Shared helpers for the core specs: boot a phone, feed it datagrams and
// stream frames through the core's entry points, drive its timers, and read
// what it put in the outbox. Nothing here allocates after module start, so
// the helpers may run inside the allocation check (timers.spec.ts).

import * as cfg from "../../assembly/config";
import * as core from "../../assembly/core";
import { Reader, Writer } from "../../assembly/bytes";
import { Candidate } from "../../assembly/candidate";
import { EV_CONFIRMED_ROOT } from "../../assembly/events";
import { hierarchyId } from "../../assembly/hash";
import { hiers, ROLE_ATTACHED, ROLE_JOINING } from "../../assembly/hierarchy";
import { JOIN_SPREAD_MS, OUT_HEADER_BYTES } from "../../assembly/limits";
import { outboxBase, outboxClear, outboxUsed, OUT_CONNECT, OUT_DATAGRAM, OUT_EVENT, OUT_WRITE, OUT_CLOSE } from "../../assembly/outbox";
import {
  decodeDatagram, decodeFrame, encodeAccept, encodeClaim, encodeDown, encodeJoin, encodeRefuse, encodeRootAd,
  encodeSolicit, encodeUp, FRAME_LEN_BYTES, Msg, T_JOIN,
} from "../../assembly/wire";

// ---------------------------------------------------------------- addresses

export const SELF: u32 = 0x0a000005; // 10.0.0.5
export const P1: u32 = 0x0a000001;
export const P2: u32 = 0x0a000002;
export const P3: u32 = 0x0a000003;
export const P4: u32 = 0x0a000004;
export const P6: u32 = 0x0a000006;
export const P7: u32 = 0x0a000007;
export const P8: u32 = 0x0a000008;
export const P9: u32 = 0x0a000009;

export const MODEL = "CP-7961G";
export const FILE = "SCCP41.9-4-2SR2-2S.loads";
export const SIZE: u32 = 6000000;

/** Sizes of every boot in a spec file (a reboot may not change them). */
export const MAX_HIERS: u32 = 4;
export const MAX_STREAMS: u32 = 16;
export const OUTBOX_BYTES: u32 = 1 << 20;
export const INBOX_BYTES: u32 = 4096;

// ---------------------------------------------------------------- boot

/** The simulated clock: the time of the last input or timer. */
export let now: f64 = 0;

export function setNow(t: f64): void {
  now = t;
}

/** A fresh phone: config words written, coreInit() called, outbox empty. */
export function boot(self: u32 = SELF, lingerMs: u32 = 0, seed: u32 = 7, outboxBytes: u32 = OUTBOX_BYTES): void {
  for (let i = 0; i < cfg.CONFIG_WORDS; i++) cfg.configWords[i] = 0;
  cfg.configWords[cfg.CFG_SELF_ADDR] = self;
  cfg.configWords[cfg.CFG_SEED] = seed;
  cfg.configWords[cfg.CFG_MAX_HIERARCHIES] = MAX_HIERS;
  cfg.configWords[cfg.CFG_MAX_STREAMS] = MAX_STREAMS;
  cfg.configWords[cfg.CFG_OUTBOX_BYTES] = outboxBytes;
  cfg.configWords[cfg.CFG_INBOX_BYTES] = INBOX_BYTES;
  cfg.configWords[cfg.CFG_LINGER_MS] = lingerMs;
  const rc = core.coreInit();
  assert(rc == 0, "coreInit failed");
  outboxClear();
  now = 0;
}

function putString(at: usize, s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u8>(at + <usize>i, <u8>s.charCodeAt(i));
  return s.length;
}

/** need() for (MODEL, FILE) at time `t`; returns the slot. */
export function needFile(t: f64, size: u32 = SIZE, held: u32 = 0, flags: u32 = 0): i32 {
  now = t;
  const inbox = core.inboxAddr();
  const ml = putString(inbox, MODEL);
  const fl = putString(inbox + <usize>ml, FILE);
  return core.need(t, ml, fl, size, held, flags);
}

const names = heap.alloc(256);

/** The hierarchy id of (MODEL, FILE); leaves the inbox alone. */
export function fileXid(): u32 {
  const ml = putString(names, MODEL);
  const fl = putString(names + <usize>ml, FILE);
  return hierarchyId(names, ml, names + <usize>ml, fl);
}

export function role(slot: i32 = 0): u8 {
  return hiers[slot].role;
}

// ---------------------------------------------------------------- timers

/** Runs the next timer deadline (not before `now`); returns its time. */
export function step(): f64 {
  const d = core.nextDeadlineMs();
  if (d == Infinity) return d;
  now = d > now ? d : now;
  core.onTimer(now);
  return now;
}

/** Runs every deadline up to and including `t`, then sets the clock to `t`. */
export function runUntil(t: f64): void {
  for (let guard = 0; guard < 1000000; guard++) {
    const d = core.nextDeadlineMs();
    if (d > t) {
      if (t > now) now = t;
      return;
    }
    now = d > now ? d : now;
    core.onTimer(now);
  }
  assert(false, "runUntil: timers do not advance");
}

/** Steps timers until event `code` is in the outbox (or `limit` passes). */
export function runUntilEvent(code: u8, limit: f64): bool {
  for (let guard = 0; guard < 100000; guard++) {
    if (countEvent(code) > 0) return true;
    const d = core.nextDeadlineMs();
    if (d > limit) return false;
    now = d > now ? d : now;
    core.onTimer(now);
  }
  return false;
}

/** need() and the whole election alone on the subnet: a confirmed root.
 *  Returns the time of the confirmation; the outbox is left as it is. */
export function becomeRoot(held: u32 = 0, flags: u32 = 0): f64 {
  needFile(now, SIZE, held, flags);
  assert(runUntilEvent(EV_CONFIRMED_ROOT, now + 5000), "no confirmation");
  return now;
}

// ---------------------------------------------------------------- inputs

const w = new Writer();

function inboxWriter(): Writer {
  return w.reset(core.inboxAddr(), <i32>INBOX_BYTES);
}

/** Delivers `len` bytes already in the inbox as a datagram from `src`. */
export function deliver(src: u32, len: i32): void {
  core.onDatagram(now, src, len);
}

/** Copies `len` bytes from `ptr` into the inbox, delivers them as a datagram. */
export function deliverBytes(src: u32, ptr: usize, len: i32): void {
  memory.copy(core.inboxAddr(), ptr, <usize>len);
  core.onDatagram(now, src, len);
}

export function dgSolicit(src: u32, xid: u32, strength: u32): void {
  const x = inboxWriter();
  encodeSolicit(x, xid, strength);
  deliver(src, x.length());
}

export function dgClaim(src: u32, xid: u32, strength: u32, ad: u32): void {
  const x = inboxWriter();
  encodeClaim(x, xid, strength, ad);
  deliver(src, x.length());
}

export function dgRootAd(src: u32, xid: u32, strength: u32, cands: StaticArray<Candidate>, n: i32): void {
  const x = inboxWriter();
  encodeRootAd(x, xid, strength, SIZE, cands, n);
  deliver(src, x.length());
  // A ROOT_AD that sends us joining starts the walk within JOIN_SPREAD_MS:
  // run the clock to that first connect so tests see it as they did before.
  if (hiers[0].role != ROLE_JOINING) return;
  const limit = now + <f64>JOIN_SPREAD_MS;
  for (let guard = 0; guard < 1000 && countKind(OUT_CONNECT) == 0; guard++) {
    const d = core.nextDeadlineMs();
    if (d > limit) break;
    now = d > now ? d : now;
    core.onTimer(now);
  }
}

/** Stream bytes already in the inbox. */
export function data(handle: i32, len: i32): void {
  core.onStreamData(now, handle, len);
}

export function frJoin(handle: i32, xid: u32, strength: u32 = 1, flags: u32 = 0, size: u32 = 1, height: u32 = 0): void {
  const x = inboxWriter();
  encodeJoin(x, xid, strength, flags, size, height);
  data(handle, x.length());
}

/** ACCEPT whose path (root first) is `path[0..n)`; path[n-1] is the acceptor. */
export function frAccept(handle: i32, xid: u32, path: StaticArray<u32>, n: i32, strength: u32 = 1): void {
  const x = inboxWriter();
  encodeAccept(x, xid, strength, path, n - 1, path[n - 1]);
  data(handle, x.length());
}

export function frRefuse(handle: i32, xid: u32, reason: u32, cands: StaticArray<Candidate>, n: i32): void {
  const x = inboxWriter();
  encodeRefuse(x, xid, reason, cands, n);
  data(handle, x.length());
}

/** DOWN whose path (root first) is `path[0..n)`; path[n-1] is the sender. */
export function frDown(handle: i32, xid: u32, path: StaticArray<u32>, n: i32, best: Candidate): void {
  const x = inboxWriter();
  encodeDown(x, xid, path, n - 1, path[n - 1], best);
  data(handle, x.length());
}

export function frUp(handle: i32, xid: u32, strength: u32, size: u32, height: u32, cands: StaticArray<Candidate>, n: i32): void {
  const x = inboxWriter();
  encodeUp(x, xid, strength, size, height, cands, n);
  data(handle, x.length());
}

/** Encodes a JOIN into `ptr` (not the inbox); returns its length. */
export function encodeJoinAt(ptr: usize, xid: u32, strength: u32 = 1, flags: u32 = 0, size: u32 = 1, height: u32 = 0): i32 {
  const x = w.reset(ptr, 512);
  encodeJoin(x, xid, strength, flags, size, height);
  return x.length();
}

export function encodeUpAt(ptr: usize, xid: u32, strength: u32, size: u32, height: u32, cands: StaticArray<Candidate>, n: i32): i32 {
  const x = w.reset(ptr, 512);
  encodeUp(x, xid, strength, size, height, cands, n);
  return x.length();
}

/** A scratch buffer for tests that build bytes by hand. */
export const scratch: usize = heap.alloc(8192);

/** An inbound stream from `peer` and its JOIN; returns the handle. */
export function acceptJoin(peer: u32, xid: u32, strength: u32 = 1, size: u32 = 1, height: u32 = 0): i32 {
  const handle = core.onStreamAccept(now, peer);
  assert(handle >= 0, "no stream handle");
  frJoin(handle, xid, strength, 0, size, height);
  return handle;
}

export const adCands = new StaticArray<Candidate>(4);
export const noCands = new StaticArray<Candidate>(0);
export const noBest = new Candidate();
for (let i = 0; i < 4; i++) adCands[i] = new Candidate();

/** A phone attached below the chain `path[0..n)` (root first, parent last):
 *  need(), a ROOT_AD from the root offering the parent's slot, the connect
 *  answered, the JOIN checked, the ACCEPT fed. Returns the parent handle. */
export function attach(path: StaticArray<u32>, n: i32): i32 {
  needFile(now);
  const xid = fileXid();
  adCands[0].set(path[n - 1], <u32>n, 1, 100);
  dgRootAd(path[0], xid, 0x80000000 | 0x1000, adCands, 1);
  const c = findKind(OUT_CONNECT);
  assert(c != 0 && recA(c) == path[n - 1], "attach: no connect to the parent");
  const handle = <i32>recB(c);
  core.onStreamConnected(now, handle);
  assert(findFrame(T_JOIN, handle) != 0, "attach: no JOIN");
  frAccept(handle, xid, path, n);
  assert(hiers[0].role == ROLE_ATTACHED, "attach: not attached");
  return handle;
}

// ---------------------------------------------------------------- outbox

export function clear(): void {
  outboxClear();
}

function recEnd(): usize {
  return outboxBase() + <usize>outboxUsed();
}

function nextRec(r: usize): usize {
  const len = <usize>load<u16>(r, 2);
  return r + <usize>OUT_HEADER_BYTES + ((len + 3) & ~3);
}

export function recKind(r: usize): u8 {
  return load<u8>(r);
}
export function recLen(r: usize): i32 {
  return <i32>load<u16>(r, 2);
}
export function recA(r: usize): u32 {
  assert(r != 0, "no such record");
  return load<u32>(r, 4);
}
export function recB(r: usize): u32 {
  assert(r != 0, "no such record");
  return load<u32>(r, 8);
}
export function recPayload(r: usize): usize {
  return r + <usize>OUT_HEADER_BYTES;
}

export function recordCount(): i32 {
  let n = 0;
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) n++;
  return n;
}

export function countKind(kind: u8): i32 {
  let n = 0;
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) if (recKind(r) == kind) n++;
  return n;
}

/** The `nth` record of `kind`, 0 when there is none. */
export function findKind(kind: u8, nth: i32 = 0): usize {
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == kind) {
      if (nth == 0) return r;
      nth--;
    }
  }
  return 0;
}

/** OUT_CLOSE records for `handle` (-1: any). */
export function countClose(handle: i32 = -1): i32 {
  let n = 0;
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_CLOSE && (handle < 0 || recB(r) == <u32>handle)) n++;
  }
  return n;
}

export function countEvent(code: u8): i32 {
  let n = 0;
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_EVENT && load<u8>(recPayload(r)) == code) n++;
  }
  return n;
}

/** The `nth` event record with `code`, 0 when there is none. */
export function findEvent(code: u8, nth: i32 = 0): usize {
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_EVENT && load<u8>(recPayload(r)) == code) {
      if (nth == 0) return r;
      nth--;
    }
  }
  return 0;
}

export function evN(r: usize): u32 {
  assert(r != 0, "no such event");
  return <u32>load<u8>(recPayload(r), 1);
}
export function evA(r: usize): u32 {
  assert(r != 0, "no such event");
  return load<u32>(recPayload(r), 4);
}
export function evB(r: usize): u32 {
  assert(r != 0, "no such event");
  return load<u32>(recPayload(r), 8);
}

/** The last decoded outbox message (findDgram / findFrame). */
export const out = new Msg();
const rd = new Reader();

/** Decodes datagram record `r` into `out`; the BAD_ reason or 0. */
export function decodeDgramRec(r: usize): u32 {
  return decodeDatagram(rd, recPayload(r), recLen(r), out);
}

/** Decodes write record `r` (length prefix + body) into `out`; 0 or a reason
 *  (BAD_FRAME_SIZE when the prefix disagrees with the record length). */
export function decodeFrameRec(r: usize): u32 {
  const p = recPayload(r);
  const len = recLen(r);
  if (len < FRAME_LEN_BYTES) return 1;
  if (<i32>bswap<u16>(load<u16>(p)) != len - FRAME_LEN_BYTES) return 8;
  return decodeFrame(rd, p + <usize>FRAME_LEN_BYTES, len - FRAME_LEN_BYTES, out);
}

export function countDgram(type: u32): i32 {
  let n = 0;
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_DATAGRAM && decodeDgramRec(r) == 0 && out.type == type) n++;
  }
  return n;
}

/** The `nth` valid datagram of `type` (decoded into `out`), 0 if none. */
export function findDgram(type: u32, nth: i32 = 0): usize {
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_DATAGRAM && decodeDgramRec(r) == 0 && out.type == type) {
      if (nth == 0) return r;
      nth--;
    }
  }
  return 0;
}

/** Valid frames of `type` written on `handle` (-1: any handle). */
export function countFrame(type: u32, handle: i32 = -1): i32 {
  let n = 0;
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_WRITE && (handle < 0 || recB(r) == <u32>handle) && decodeFrameRec(r) == 0 && out.type == type) n++;
  }
  return n;
}

/** The `nth` valid frame of `type` on `handle` (decoded into `out`), 0 if none. */
export function findFrame(type: u32, handle: i32 = -1, nth: i32 = 0): usize {
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_WRITE && (handle < 0 || recB(r) == <u32>handle) && decodeFrameRec(r) == 0 && out.type == type) {
      if (nth == 0) return r;
      nth--;
    }
  }
  return 0;
}

/** Every record is whole and of a known kind: datagrams and frames decode,
 *  events are 12 bytes, connect/close carry no payload, and the records
 *  end exactly where the outbox does. */
export function outboxValid(): bool {
  let r = outboxBase();
  const end = recEnd();
  while (r < end) {
    const k = recKind(r);
    if (k == OUT_DATAGRAM && decodeDgramRec(r) != 0) return false;
    else if (k == OUT_WRITE && decodeFrameRec(r) != 0) return false;
    else if (k == OUT_EVENT && recLen(r) != 12) return false;
    else if ((k == OUT_CONNECT || k == OUT_CLOSE) && recLen(r) != 0) return false;
    else if (k < OUT_DATAGRAM || k > OUT_EVENT) return false;
    r = nextRec(r);
  }
  return r == end;
}

/** Every OUT_WRITE in the outbox is a well-formed frame. */
export function allWritesValid(): bool {
  for (let r = outboxBase(), end = recEnd(); r < end; r = nextRec(r)) {
    if (recKind(r) == OUT_WRITE && decodeFrameRec(r) != 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------- heap

/** Uses up small free blocks left by earlier garbage, so that heap marks and
 *  any allocation of a workload come from the same free region. */
export function fillHeapHoles(): void {
  let prev = heap.alloc(1);
  let stride: usize = 0;
  let run = 0;
  for (let i = 0; i < 200000 && run < 4096; i++) {
    const p = heap.alloc(1);
    const d = p - prev;
    if (p > prev && d == stride) run++;
    else {
      stride = p > prev ? d : 0;
      run = 0;
    }
    prev = p;
  }
}
