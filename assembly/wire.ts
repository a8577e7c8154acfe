// The PFS wire codec: UDP datagrams on port 4051 (discovery and election) and
// framed messages on TCP streams to port 4051 (tree links). All integers are
// big-endian. The byte-level specification is docs/PROTOCOL.md; keep the two
// in step. Decoders read through a bounds-checked Reader and reject anything
// whose length, count or field range is off: a malformed input is counted and
// dropped, never trusted and never allowed to trap.

import { Reader, Writer } from "./bytes";
import { Candidate, newCandidates } from "./candidate";
import { MAX_CHILDREN, MAX_DEPTH, MAX_SUBTREE_CANDIDATES, MAX_WIRE_CANDIDATES } from "./limits";

export const MAGIC: u32 = 0x5046; // "PF"
export const VERSION: u32 = 1;

// Datagram types
export const T_SOLICIT: u32 = 0x01;
export const T_CLAIM: u32 = 0x02;
export const T_ROOT_AD: u32 = 0x03;
// Stream frame types
export const T_JOIN: u32 = 0x10;
export const T_ACCEPT: u32 = 0x11;
export const T_REFUSE: u32 = 0x12;
export const T_DOWN: u32 = 0x13;
export const T_UP: u32 = 0x14;
/** Firmware bytes: u32 offset, then the payload (relay.ts). Its payload is
 *  never held in the frame buffer: it goes straight to where it belongs. */
export const T_DATA: u32 = 0x15;
/** Length prefix, type and offset of a DATA frame. */
export const DATA_HEADER_BYTES: i32 = 7;

export const DGRAM_HEADER_BYTES: i32 = 8;
export const CANDIDATE_BYTES: i32 = 10;
export const FRAME_LEN_BYTES: i32 = 2;

// JOIN flags
export const JOIN_MOVE: u32 = 1; // make-before-break re-parenting of an attached phone

// REFUSE reasons
export const REFUSE_FULL: u32 = 1;
export const REFUSE_NOT_MEMBER: u32 = 2;
export const REFUSE_CYCLE: u32 = 3;
export const REFUSE_TOO_DEEP: u32 = 4;

// Malformed-input reasons (events and counters)
export const BAD_SHORT: u32 = 1; //     truncated: a field runs past the end
export const BAD_MAGIC: u32 = 2;
export const BAD_VERSION: u32 = 3;
export const BAD_TYPE: u32 = 4;
export const BAD_COUNT: u32 = 5; //     a count field exceeds its limit
export const BAD_LENGTH: u32 = 6; //    bytes left over after the last field
export const BAD_FIELD: u32 = 7; //     a field out of its range
export const BAD_FRAME_SIZE: u32 = 8; // frame length over MAX_FRAME_BYTES or zero
export const BAD_UNEXPECTED: u32 = 9; // a well-formed frame this link may not carry (or another XID's)
export const BAD_OVERSIZE: u32 = 10; //  the host passed more bytes than the inbox holds

/** One decoded message; a single instance is reused for every input. */
@final
export class Msg {
  type: u32 = 0;
  xid: u32 = 0;
  strength: u32 = 0;
  ad: u32 = 0;
  flags: u32 = 0;
  sizeBytes: u32 = 0;
  reason: u32 = 0;
  /** JOIN: the bytes the joiner holds verified (it resumes there). */
  offset: u32 = 0;
  subtreeSize: u32 = 0;
  subtreeHeight: u32 = 0;
  nCand: i32 = 0;
  cands: StaticArray<Candidate> = newCandidates(MAX_WIRE_CANDIDATES);
  pathLen: i32 = 0;
  path: StaticArray<u32> = new StaticArray<u32>(MAX_DEPTH);
  best: Candidate = new Candidate();
}

function readCandidate(r: Reader, c: Candidate, allowNone: bool): bool {
  const addr = r.u32();
  const childDepth = r.u8();
  const free = r.u8();
  const strength = r.u32();
  c.set(addr, childDepth, free, strength);
  if (!r.ok) return false;
  if (allowNone && addr == 0) return childDepth == 0 && free == 0;
  if (addr == 0 || addr == 0xffffffff) return false;
  if (childDepth < 1 || childDepth > <u32>MAX_DEPTH) return false;
  return free <= <u32>MAX_CHILDREN; // 0: a hint (candidate.ts)
}

function writeCandidate(w: Writer, c: Candidate): void {
  w.u32(c.addr);
  w.u8(c.childDepth);
  w.u8(c.free);
  w.u32(c.strength);
}

function readCandidates(r: Reader, m: Msg, max: i32): u32 {
  const n = <i32>r.u8();
  if (!r.ok) return BAD_SHORT;
  if (n > max) return BAD_COUNT;
  m.nCand = n;
  for (let i = 0; i < n; i++) {
    if (!readCandidate(r, unchecked(m.cands[i]), false)) return r.ok ? BAD_FIELD : BAD_SHORT;
  }
  return 0;
}

function readPath(r: Reader, m: Msg): u32 {
  const n = <i32>r.u8();
  if (!r.ok) return BAD_SHORT;
  if (n > MAX_DEPTH) return BAD_COUNT;
  m.pathLen = n;
  for (let i = 0; i < n; i++) {
    const a = r.u32();
    if (!r.ok) return BAD_SHORT;
    if (a == 0 || a == 0xffffffff) return BAD_FIELD;
    unchecked((m.path[i] = a));
  }
  return 0;
}

/** Decodes a datagram of `len` bytes at `ptr` into `m`; 0 or a BAD_ reason. */
export function decodeDatagram(r: Reader, ptr: usize, len: i32, m: Msg): u32 {
  r.reset(ptr, len);
  m.xid = 0; // a datagram rejected before its XID must not report a stale one
  if (len < DGRAM_HEADER_BYTES) return BAD_SHORT;
  if (r.u16() != MAGIC) return BAD_MAGIC;
  if (r.u8() != VERSION) return BAD_VERSION;
  m.type = r.u8();
  m.xid = r.u32();
  m.nCand = 0;
  let bad: u32 = 0;
  if (m.type == T_SOLICIT) {
    m.strength = r.u32();
  } else if (m.type == T_CLAIM) {
    m.strength = r.u32();
    m.ad = r.u8();
    m.flags = r.u8();
  } else if (m.type == T_ROOT_AD) {
    m.strength = r.u32();
    m.sizeBytes = r.u32();
    bad = readCandidates(r, m, MAX_WIRE_CANDIDATES);
  } else {
    return BAD_TYPE;
  }
  if (bad != 0) return bad;
  if (!r.ok) return BAD_SHORT;
  if (r.remaining() != 0) return BAD_LENGTH;
  return 0;
}

/** Decodes one frame body (type onwards) of `len` bytes; 0 or a BAD_ reason. */
export function decodeFrame(r: Reader, ptr: usize, len: i32, m: Msg): u32 {
  r.reset(ptr, len);
  m.type = r.u8();
  if (!r.ok) return BAD_SHORT;
  let bad: u32 = 0;
  m.nCand = 0;
  m.pathLen = 0;
  if (m.type == T_JOIN) {
    if (r.u16() != MAGIC) return r.ok ? BAD_MAGIC : BAD_SHORT;
    if (r.u8() != VERSION) return r.ok ? BAD_VERSION : BAD_SHORT;
    m.xid = r.u32();
    m.strength = r.u32();
    m.flags = r.u8();
    m.subtreeSize = r.u16();
    m.subtreeHeight = r.u8();
    m.offset = r.u32();
    if (r.ok && m.subtreeHeight > <u32>MAX_DEPTH) bad = BAD_FIELD;
  } else if (m.type == T_ACCEPT) {
    m.xid = r.u32();
    m.strength = r.u32();
    bad = readPath(r, m);
    if (bad == 0 && m.pathLen < 1) bad = BAD_FIELD; // the acceptor itself ends the path
  } else if (m.type == T_REFUSE) {
    m.xid = r.u32();
    m.reason = r.u8();
    if (bad == 0) bad = readCandidates(r, m, MAX_WIRE_CANDIDATES);
  } else if (m.type == T_DOWN) {
    m.xid = r.u32();
    bad = readPath(r, m);
    if (bad == 0 && m.pathLen < 1) bad = BAD_FIELD;
    if (bad == 0 && !readCandidate(r, m.best, true)) bad = r.ok ? BAD_FIELD : BAD_SHORT;
  } else if (m.type == T_UP) {
    m.xid = r.u32();
    m.strength = r.u32();
    m.subtreeSize = r.u16();
    m.subtreeHeight = r.u8();
    if (r.ok && m.subtreeHeight > <u32>MAX_DEPTH) bad = BAD_FIELD;
    if (bad == 0) bad = readCandidates(r, m, MAX_SUBTREE_CANDIDATES);
  } else {
    return BAD_TYPE;
  }
  if (bad != 0) return bad;
  if (!r.ok) return BAD_SHORT;
  if (r.remaining() != 0) return BAD_LENGTH;
  return 0;
}

// ---- encoders: each writes a whole datagram or frame through a Writer ----

export function writeDgramHeader(w: Writer, type: u32, xid: u32): void {
  w.u16(MAGIC);
  w.u8(VERSION);
  w.u8(type);
  w.u32(xid);
}

export function encodeSolicit(w: Writer, xid: u32, strength: u32): void {
  writeDgramHeader(w, T_SOLICIT, xid);
  w.u32(strength);
}

export function encodeClaim(w: Writer, xid: u32, strength: u32, ad: u32): void {
  writeDgramHeader(w, T_CLAIM, xid);
  w.u32(strength);
  w.u8(ad);
  w.u8(0);
}

export function encodeRootAd(w: Writer, xid: u32, strength: u32, sizeBytes: u32, cands: StaticArray<Candidate>, n: i32): void {
  writeDgramHeader(w, T_ROOT_AD, xid);
  w.u32(strength);
  w.u32(sizeBytes);
  w.u8(<u32>n);
  for (let i = 0; i < n; i++) writeCandidate(w, unchecked(cands[i]));
}

/** Frames start with their body length; callers patch it with endFrame. */
export function beginFrame(w: Writer, type: u32): void {
  w.u16(0);
  w.u8(type);
}

export function endFrame(w: Writer): void {
  const bodyLen = w.length() - FRAME_LEN_BYTES;
  if (!w.ok) return;
  store<u16>(w.start, bswap<u16>(<u16>bodyLen));
}

export function encodeJoin(w: Writer, xid: u32, strength: u32, flags: u32, subtreeSize: u32, subtreeHeight: u32, resumeOffset: u32 = 0): void {
  beginFrame(w, T_JOIN);
  w.u16(MAGIC);
  w.u8(VERSION);
  w.u32(xid);
  w.u32(strength);
  w.u8(flags);
  w.u16(subtreeSize > 0xffff ? 0xffff : subtreeSize);
  w.u8(subtreeHeight);
  w.u32(resumeOffset);
  endFrame(w);
}

/** The head of a DATA frame; `payloadLen` bytes must follow on the stream. */
export function encodeDataHeader(w: Writer, offset: u32, payloadLen: i32): void {
  w.u16(<u32>(payloadLen + DATA_HEADER_BYTES - FRAME_LEN_BYTES));
  w.u8(T_DATA);
  w.u32(offset);
}

function writePath(w: Writer, path: StaticArray<u32>, pathLen: i32, self: u32): void {
  w.u8(<u32>(pathLen + 1));
  for (let i = 0; i < pathLen; i++) w.u32(unchecked(path[i]));
  w.u32(self);
}

/** ACCEPT and DOWN carry the sender's own path with the sender appended: the
 *  receiving child's ancestors, root first. */
export function encodeAccept(w: Writer, xid: u32, strength: u32, path: StaticArray<u32>, pathLen: i32, self: u32): void {
  beginFrame(w, T_ACCEPT);
  w.u32(xid);
  w.u32(strength);
  writePath(w, path, pathLen, self);
  endFrame(w);
}

export function encodeRefuse(w: Writer, xid: u32, reason: u32, cands: StaticArray<Candidate>, n: i32): void {
  beginFrame(w, T_REFUSE);
  w.u32(xid);
  w.u8(reason);
  w.u8(<u32>n);
  for (let i = 0; i < n; i++) writeCandidate(w, unchecked(cands[i]));
  endFrame(w);
}

export function encodeDown(w: Writer, xid: u32, path: StaticArray<u32>, pathLen: i32, self: u32, best: Candidate): void {
  beginFrame(w, T_DOWN);
  w.u32(xid);
  writePath(w, path, pathLen, self);
  if (best.isNone()) {
    w.u32(0);
    w.u8(0);
    w.u8(0);
    w.u32(0);
  } else writeCandidate(w, best);
  endFrame(w);
}

export function encodeUp(w: Writer, xid: u32, strength: u32, subtreeSize: u32, subtreeHeight: u32, cands: StaticArray<Candidate>, n: i32): void {
  beginFrame(w, T_UP);
  w.u32(xid);
  w.u32(strength);
  w.u16(subtreeSize > 0xffff ? 0xffff : subtreeSize);
  w.u8(subtreeHeight);
  w.u8(<u32>n);
  for (let i = 0; i < n; i++) writeCandidate(w, unchecked(cands[i]));
  endFrame(w);
}
