// The PFS wire format (docs/PROTOCOL.md §3-5) as encoders in TypeScript, and
// what a fuzzer does with them: well-formed messages with random fields
// (real XIDs most of the time, so they get past the "not my XID" check and
// into the state machines), then mutations aimed at what a decoder checks:
// lengths, counts, ranges, truncation, trailing bytes, splices, and plain
// random bytes. Everything comes from one Rng, so a seed reproduces a run.

import { Rng } from "../../host/sim/random.js";

export const MAGIC = 0x5046;
export const VERSION = 1;
export const DGRAM = { solicit: 1, claim: 2, rootAd: 3 } as const;
export const FRAME = { join: 0x10, accept: 0x11, refuse: 0x12, down: 0x13, up: 0x14, data: 0x15 } as const;
/** §4.5, §5: candidate lists and paths. */
const MAX_AD_CANDIDATES = 4;
const MAX_PATH = 24;
const MAX_UP_CANDIDATES = 2;
/** §5.1: the largest frame body the framing accepts (DATA). */
const MAX_DATA_BODY = 16640;
const BLOCK_BYTES = 16384;

/** XID (§3.2): FNV-1a over model || 0x00 || file name. */
export function xidOf(model: string, file: string): number {
  let h = 0x811c9dc5;
  const bytes = [...Buffer.from(model), 0, ...Buffer.from(file)];
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

class Writer {
  readonly bytes: number[] = [];
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number): this {
    return this.u16(v >>> 16).u16(v);
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i] & 0xff);
    return this;
  }
  out(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** What the fuzzer aims at: the XIDs the phones use, addresses that exist. */
export interface Targets {
  xids: readonly number[];
  addrs: readonly number[];
  /** Every field within its range (to check the encoders against a core). */
  strict?: boolean;
}

/** The odds that a field is drawn outside its range. */
const odds = (t: Targets, p: number) => (t.strict ? 0 : p);

/** Values a field is most likely to be checked against. */
const EDGE_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x40000000, 0xc0000000];

function u32(rng: Rng): number {
  return rng.chance(0.3) ? rng.pick(EDGE_U32) : rng.u32();
}

function xid(rng: Rng, t: Targets): number {
  return (t.strict || rng.chance(0.8)) && t.xids.length > 0 ? rng.pick(t.xids) : u32(rng);
}

function addr(rng: Rng, t: Targets): number {
  if (rng.chance(odds(t, 0.1))) return rng.pick([0, 0xffffffff]);
  return rng.chance(0.6) && t.addrs.length > 0 ? rng.pick(t.addrs) : rng.int(1, 0xfffffffe);
}

function candidate(w: Writer, rng: Rng, t: Targets): void {
  // Mostly in range (childDepth 1..24, free 0..2), sometimes not.
  w.u32(addr(rng, t)).u8(rng.chance(1 - odds(t, 0.15)) ? rng.int(1, MAX_PATH) : rng.int(0, 255))
    .u8(rng.chance(1 - odds(t, 0.15)) ? rng.int(0, 2) : rng.int(0, 255)).u32(u32(rng));
}

function count(rng: Rng, t: Targets, max: number, min = 0): number {
  return rng.chance(1 - odds(t, 0.1)) ? rng.int(min, max) : rng.int(max + 1, 255);
}

/** A datagram of a random type with random fields (§4). */
export function datagram(rng: Rng, t: Targets): Uint8Array {
  const type = rng.chance(1 - odds(t, 0.05)) ? rng.int(1, 3) : rng.int(0, 255);
  const w = new Writer().u16(MAGIC).u8(VERSION).u8(type).u32(xid(rng, t));
  if (type === DGRAM.solicit) w.u32(u32(rng));
  else if (type === DGRAM.claim) w.u32(u32(rng) & (rng.chance(0.8) ? 0x7fffffff : 0xffffffff)).u8(rng.int(0, 4)).u8(rng.chance(0.9) ? 0 : rng.u32());
  else {
    const n = count(rng, t, MAX_AD_CANDIDATES);
    w.u32(u32(rng) | (rng.chance(0.8) ? 0x80000000 : 0)).u32(u32(rng)).u8(n);
    for (let i = 0; i < Math.min(n, MAX_AD_CANDIDATES + 2); i++) candidate(w, rng, t);
  }
  return w.out();
}

/** One stream frame with its length prefix (§5), of a random type. */
export function frame(rng: Rng, t: Targets, type = rng.pick(Object.values(FRAME))): Uint8Array {
  const body = new Writer().u8(type);
  switch (type) {
    case FRAME.join:
      body.u16(MAGIC).u8(VERSION).u32(xid(rng, t)).u32(u32(rng)).u8(rng.chance(0.8) ? rng.int(0, 1) : rng.int(0, 255))
        .u16(rng.int(0, 0xffff)).u8(count(rng, t, MAX_PATH)).u32(u32(rng));
      break;
    case FRAME.accept:
    case FRAME.down: {
      const p = count(rng, t, MAX_PATH, 1);
      body.u32(xid(rng, t));
      if (type === FRAME.accept) body.u32(u32(rng));
      body.u8(p);
      for (let i = 0; i < Math.min(p, MAX_PATH + 2); i++) body.u32(addr(rng, t));
      if (type === FRAME.down) {
        if (rng.chance(0.3)) body.raw(new Uint8Array(10));
        else candidate(body, rng, t);
      }
      break;
    }
    case FRAME.refuse: {
      const n = count(rng, t, MAX_AD_CANDIDATES);
      body.u32(xid(rng, t)).u8(rng.int(0, 5)).u8(n);
      for (let i = 0; i < Math.min(n, MAX_AD_CANDIDATES + 2); i++) candidate(body, rng, t);
      break;
    }
    case FRAME.up: {
      const n = count(rng, t, MAX_UP_CANDIDATES);
      body.u32(xid(rng, t)).u32(u32(rng)).u16(rng.int(0, 0xffff)).u8(count(rng, t, MAX_PATH)).u8(n);
      for (let i = 0; i < Math.min(n, MAX_UP_CANDIDATES + 2); i++) candidate(body, rng, t);
      break;
    }
    default: {
      // DATA: an offset near where transfers are (0, a block boundary), a
      // payload of a few bytes to a whole block (or a little more).
      const n = rng.chance(0.8) ? rng.int(1, 64) : rng.int(1, BLOCK_BYTES + 8);
      body.u32(rng.chance(0.5) ? rng.int(0, 4) * BLOCK_BYTES + rng.int(0, 96) : u32(rng));
      const payload = new Uint8Array(n);
      for (let i = 0; i < n; i += 4) payload[i] = rng.u32();
      body.raw(payload);
    }
  }
  const b = body.out();
  return new Writer().u16(b.length).raw(b).out();
}

/** Lengths a framing layer must refuse or handle at its edges (§5.1). */
const ABSURD_LENGTHS = [0, 1, 5, 6, 255, 256, 257, MAX_DATA_BODY, MAX_DATA_BODY + 1, 0x7fff, 0xfffe, 0xffff];

/** One mutation of `b`, aimed at what decoders check. */
export function mutate(rng: Rng, b: Uint8Array, isFrame: boolean): Uint8Array {
  const out = Array.from(b);
  switch (rng.int(0, 8)) {
    case 0: // flip bits
      for (let k = rng.int(1, 4); k > 0 && out.length > 0; k--) out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      break;
    case 1: // an edge value in a byte
      if (out.length > 0) out[rng.int(0, out.length - 1)] = rng.pick([0, 1, 0x7f, 0x80, 0xfe, 0xff, 24, 25]);
      break;
    case 2: // truncate
      out.length = rng.int(0, out.length);
      break;
    case 3: // trailing bytes
      for (let k = rng.int(1, 16); k > 0; k--) out.push(rng.int(0, 255));
      break;
    case 4: // duplicate a slice in place
      if (out.length > 1) {
        const at = rng.int(0, out.length - 1);
        out.splice(at, 0, ...out.slice(at, at + rng.int(1, 12)));
      }
      break;
    case 5: // an absurd length prefix (frames) or a count byte (datagrams: n at 16)
      if (isFrame && out.length >= 2) {
        const len = rng.pick(ABSURD_LENGTHS);
        out[0] = len >>> 8;
        out[1] = len & 0xff;
      } else if (out.length > 16) out[16] = rng.pick([5, 6, 255]);
      break;
    case 6: // a 32-bit edge value at a random 4-aligned-ish place
      if (out.length >= 4) {
        const at = rng.int(0, out.length - 4);
        const v = rng.pick(EDGE_U32);
        out.splice(at, 4, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
      }
      break;
    case 7: // drop a byte
      if (out.length > 0) out.splice(rng.int(0, out.length - 1), 1);
      break;
    default: // random bytes over a stretch
      for (let k = rng.int(1, 8); k > 0 && out.length > 0; k--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
  }
  return Uint8Array.from(out);
}

/** Random bytes, a well-formed datagram, or a mutated one. */
export function fuzzDatagram(rng: Rng, t: Targets): Uint8Array {
  const r = rng.next();
  if (r < 0.15) {
    const b = new Uint8Array(rng.int(0, 200));
    for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
    return b;
  }
  let d = datagram(rng, t);
  if (r < 0.35) return d;
  for (let k = rng.int(1, 3); k > 0; k--) d = mutate(rng, d, false);
  return d;
}

/** What a fuzzer writes on one stream: a JOIN first more often than not
 *  (so the later frames meet a link in some state), then frames, well-formed
 *  or mutated, or garbage, or an absurd length prefix. */
export function fuzzStream(rng: Rng, t: Targets): Uint8Array {
  const parts: Uint8Array[] = [];
  if (rng.chance(0.6)) parts.push(frame(rng, t, FRAME.join));
  for (let k = rng.int(0, 4); k > 0; k--) {
    const r = rng.next();
    if (r < 0.1) {
      const g = new Uint8Array(rng.int(1, 300));
      for (let i = 0; i < g.length; i++) g[i] = rng.int(0, 255);
      parts.push(g);
    } else {
      let f = frame(rng, t);
      if (r > 0.5) for (let m = rng.int(1, 2); m > 0; m--) f = mutate(rng, f, true);
      parts.push(f);
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts a byte stream into pieces of random sizes, as TCP may deliver it. */
export function split(rng: Rng, b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < b.length;) {
    const n = rng.chance(0.5) ? b.length - at : rng.int(1, Math.max(1, b.length - at));
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}
