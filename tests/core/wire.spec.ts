// wire.ts, the codec alone: every datagram and frame type survives an
// encode/decode round trip field by field; every kind of malformed input gets
// its BAD_ reason; a seeded fuzz loop never traps nor reads past its span.

import { Reader, Writer } from "../../assembly/bytes";
import { Candidate, newCandidates } from "../../assembly/candidate";
import { MAX_DEPTH } from "../../assembly/limits";
import {
  BAD_COUNT, BAD_FIELD, BAD_LENGTH, BAD_MAGIC, BAD_SHORT, BAD_TYPE, BAD_VERSION, decodeDatagram, decodeFrame,
  encodeAccept, encodeClaim, encodeDown, encodeJoin, encodeRefuse, encodeRootAd, encodeSolicit, encodeUp,
  JOIN_MOVE, MAGIC, Msg, REFUSE_CYCLE, REFUSE_FULL, T_ACCEPT, T_CLAIM, T_DOWN, T_JOIN, T_REFUSE, T_ROOT_AD,
  T_SOLICIT, T_UP, VERSION,
} from "../../assembly/wire";

const buf = heap.alloc(2048);
const w = new Writer();
const r = new Reader();
const m = new Msg();
const cands = newCandidates(5);
const path = new StaticArray<u32>(MAX_DEPTH + 1);
const best = new Candidate();

function fill(): void {
  for (let i = 0; i < 5; i++) cands[i].set(0x0a000010 + <u32>i, 1 + <u32>i * 5, <u32>(i % 3), 0xc0de0000 + <u32>i * 7);
  for (let i = 0; i <= MAX_DEPTH; i++) path[i] = 0x0a000100 + <u32>i;
}

function start(): Writer {
  fill();
  return w.reset(buf, 2048);
}

/** Decodes the frame at buf: checks the length prefix, returns the reason. */
function frame(len: i32): u32 {
  expect<i32>(<i32>bswap<u16>(load<u16>(buf))).toBe(len - 2, "length prefix");
  return decodeFrame(r, buf + 2, len - 2, m);
}

function sameCand(c: Candidate, e: Candidate): void {
  expect(c.addr).toBe(e.addr);
  expect(c.childDepth).toBe(e.childDepth);
  expect(c.free).toBe(e.free);
  expect(c.strength).toBe(e.strength);
}

describe("round trips", () => {
  test("SOLICIT", () => {
    const x = start();
    encodeSolicit(x, 0xdeadbeef, 0x80001234);
    expect(x.length()).toBe(12);
    expect(load<u8>(buf)).toBe(0x50); // "PF", big-endian
    expect(load<u8>(buf, 1)).toBe(0x46);
    expect(decodeDatagram(r, buf, x.length(), m)).toBe(0);
    expect(m.type).toBe(T_SOLICIT);
    expect(m.xid).toBe(0xdeadbeef);
    expect(m.strength).toBe(0x80001234);
  });

  test("CLAIM with Ad 0..4", () => {
    for (let ad: u32 = 0; ad <= 4; ad++) {
      const x = start();
      encodeClaim(x, 0x01020304, 0x7fff0000 + ad, ad);
      expect(x.length()).toBe(14);
      expect(decodeDatagram(r, buf, x.length(), m)).toBe(0);
      expect(m.type).toBe(T_CLAIM);
      expect(m.xid).toBe(0x01020304);
      expect(m.strength).toBe(0x7fff0000 + ad);
      expect(m.ad).toBe(ad);
      expect(m.flags).toBe(0);
    }
  });

  test("ROOT_AD with 0..4 candidates", () => {
    for (let n = 0; n <= 4; n++) {
      const x = start();
      encodeRootAd(x, 0xa5a5a5a5, 0x80000000 | <u32>n, 123456789, cands, n);
      expect(x.length()).toBe(17 + 10 * n);
      m.nCand = -1;
      expect(decodeDatagram(r, buf, x.length(), m)).toBe(0);
      expect(m.type).toBe(T_ROOT_AD);
      expect(m.xid).toBe(0xa5a5a5a5);
      expect(m.strength).toBe(0x80000000 | <u32>n);
      expect(m.sizeBytes).toBe(123456789);
      expect(m.nCand).toBe(n);
      for (let i = 0; i < n; i++) sameCand(m.cands[i], cands[i]);
    }
  });

  test("JOIN, plain and MOVE; subtree size clamps to 0xffff", () => {
    let x = start();
    encodeJoin(x, 0x11223344, 0x40003fff, 0, 1, 0);
    expect(frame(x.length())).toBe(0);
    expect(m.type).toBe(T_JOIN);
    expect(m.xid).toBe(0x11223344);
    expect(m.strength).toBe(0x40003fff);
    expect(m.flags).toBe(0);
    expect(m.subtreeSize).toBe(1);
    expect(m.subtreeHeight).toBe(0);
    x = start();
    encodeJoin(x, 0x55667788, 7, JOIN_MOVE, 70000, MAX_DEPTH);
    expect(frame(x.length())).toBe(0);
    expect(m.xid).toBe(0x55667788);
    expect(m.strength).toBe(7);
    expect(m.flags).toBe(JOIN_MOVE);
    expect(m.subtreeSize).toBe(0xffff);
    expect(m.subtreeHeight).toBe(<u32>MAX_DEPTH);
  });

  test("ACCEPT with path length 1 and MAX_DEPTH", () => {
    let x = start();
    encodeAccept(x, 0xcafe, 0x80000001, path, 0, 0x0a000005);
    expect(frame(x.length())).toBe(0);
    expect(m.type).toBe(T_ACCEPT);
    expect(m.xid).toBe(0xcafe);
    expect(m.strength).toBe(0x80000001);
    expect(m.pathLen).toBe(1);
    expect(m.path[0]).toBe(0x0a000005);
    x = start();
    encodeAccept(x, 0xbeef, 3, path, MAX_DEPTH - 1, 0x0a0000ff);
    expect(frame(x.length())).toBe(0);
    expect(m.pathLen).toBe(MAX_DEPTH);
    for (let i = 0; i < MAX_DEPTH - 1; i++) expect(m.path[i]).toBe(path[i]);
    expect(m.path[MAX_DEPTH - 1]).toBe(0x0a0000ff);
  });

  test("REFUSE with 0..4 candidates", () => {
    for (let n = 0; n <= 4; n++) {
      const x = start();
      encodeRefuse(x, 0x99, n == 0 ? REFUSE_CYCLE : REFUSE_FULL, cands, n);
      expect(frame(x.length())).toBe(0);
      expect(m.type).toBe(T_REFUSE);
      expect(m.xid).toBe(0x99);
      expect(m.reason).toBe(n == 0 ? REFUSE_CYCLE : REFUSE_FULL);
      expect(m.nCand).toBe(n);
      for (let i = 0; i < n; i++) sameCand(m.cands[i], cands[i]);
    }
  });

  test("DOWN without and with a best candidate", () => {
    let x = start();
    best.clear();
    encodeDown(x, 0x77, path, 2, 0x0a000042, best);
    expect(frame(x.length())).toBe(0);
    expect(m.type).toBe(T_DOWN);
    expect(m.xid).toBe(0x77);
    expect(m.pathLen).toBe(3);
    expect(m.path[0]).toBe(path[0]);
    expect(m.path[1]).toBe(path[1]);
    expect(m.path[2]).toBe(0x0a000042);
    expect(m.best.isNone()).toBe(true);
    x = start();
    best.set(0x0a000033, 2, 1, 0x80000009);
    encodeDown(x, 0x78, path, 0, 0x0a000042, best);
    expect(frame(x.length())).toBe(0);
    expect(m.pathLen).toBe(1);
    expect(m.path[0]).toBe(0x0a000042);
    sameCand(m.best, best);
  });

  test("UP with 0..2 candidates", () => {
    for (let n = 0; n <= 2; n++) {
      const x = start();
      encodeUp(x, 0x1234, 0x00050000 | <u32>n, 300 + <u32>n, 4, cands, n);
      expect(frame(x.length())).toBe(0);
      expect(m.type).toBe(T_UP);
      expect(m.xid).toBe(0x1234);
      expect(m.strength).toBe(0x00050000 | <u32>n);
      expect(m.subtreeSize).toBe(300 + <u32>n);
      expect(m.subtreeHeight).toBe(4);
      expect(m.nCand).toBe(n);
      for (let i = 0; i < n; i++) sameCand(m.cands[i], cands[i]);
    }
  });
});

describe("malformed input", () => {
  test("every truncation of a ROOT_AD is BAD_SHORT", () => {
    const x = start();
    encodeRootAd(x, 1, 2, 3, cands, 4);
    const len = x.length();
    for (let k = 0; k < len; k++) expect(decodeDatagram(r, buf, k, m)).toBe(BAD_SHORT, "prefix " + k.toString());
    expect(decodeDatagram(r, buf, -1, m)).toBe(BAD_SHORT);
    expect(decodeDatagram(r, buf, len, m)).toBe(0);
  });

  test("every truncation of an ACCEPT (both path lengths) is BAD_SHORT", () => {
    for (let p = 0; p < MAX_DEPTH; p += MAX_DEPTH - 1) {
      const x = start();
      encodeAccept(x, 1, 2, path, p, 0x0a000001);
      const body = x.length() - 2;
      for (let k = 0; k < body; k++) expect(decodeFrame(r, buf + 2, k, m)).toBe(BAD_SHORT, "prefix " + k.toString());
      expect(decodeFrame(r, buf + 2, -1, m)).toBe(BAD_SHORT);
      expect(decodeFrame(r, buf + 2, body, m)).toBe(0);
    }
  });

  test("every truncation of the other frames is nonzero", () => {
    for (let t = 0; t < 4; t++) {
      const x = start();
      best.set(0x0a000033, 2, 1, 9);
      if (t == 0) encodeJoin(x, 1, 2, 0, 1, 0);
      else if (t == 1) encodeRefuse(x, 1, REFUSE_FULL, cands, 4);
      else if (t == 2) encodeDown(x, 1, path, 3, 0x0a000001, best);
      else encodeUp(x, 1, 2, 3, 1, cands, 2);
      const body = x.length() - 2;
      for (let k = 0; k < body; k++) expect(decodeFrame(r, buf + 2, k, m)).toBeGreaterThan(0);
      expect(decodeFrame(r, buf + 2, body, m)).toBe(0);
    }
  });

  test("bad magic, bad version", () => {
    let x = start();
    encodeSolicit(x, 1, 2);
    store<u8>(buf, 0x51);
    expect(decodeDatagram(r, buf, x.length(), m)).toBe(BAD_MAGIC);
    x = start();
    encodeSolicit(x, 1, 2);
    store<u8>(buf, 2, 2);
    expect(decodeDatagram(r, buf, x.length(), m)).toBe(BAD_VERSION);
    x = start();
    encodeJoin(x, 1, 2, 0, 1, 0);
    store<u8>(buf, 0x47, 4); // second magic byte
    expect(frame(x.length())).toBe(BAD_MAGIC);
    x = start();
    encodeJoin(x, 1, 2, 0, 1, 0);
    store<u8>(buf, <u8>(VERSION + 1), 5);
    expect(frame(x.length())).toBe(BAD_VERSION);
    expect(MAGIC).toBe(0x5046);
  });

  test("unknown types", () => {
    let x = start();
    encodeSolicit(x, 1, 2);
    for (let t: u32 = 0; t < 256; t++) {
      if (t == T_SOLICIT || t == T_CLAIM || t == T_ROOT_AD) continue;
      store<u8>(buf, <u8>t, 3);
      expect(decodeDatagram(r, buf, x.length(), m)).toBe(BAD_TYPE);
    }
    x = start();
    encodeUp(x, 1, 2, 3, 1, cands, 0);
    for (let t: u32 = 0; t < 256; t++) {
      if (t >= T_JOIN && t <= T_UP) continue;
      store<u8>(buf, <u8>t, 2);
      expect(frame(x.length())).toBe(BAD_TYPE);
    }
  });

  test("candidate and path counts over their limits are BAD_COUNT", () => {
    let x = start();
    encodeRootAd(x, 1, 2, 3, cands, 5); // nCand 5 > MAX_WIRE_CANDIDATES, bytes present
    expect(decodeDatagram(r, buf, x.length(), m)).toBe(BAD_COUNT);
    x = start();
    encodeRefuse(x, 1, REFUSE_FULL, cands, 5);
    expect(frame(x.length())).toBe(BAD_COUNT);
    x = start();
    encodeUp(x, 1, 2, 3, 1, cands, 3); // UP carries at most 2
    expect(frame(x.length())).toBe(BAD_COUNT);
    x = start();
    encodeAccept(x, 1, 2, path, MAX_DEPTH, 0x0a000001); // path of MAX_DEPTH + 1
    expect(frame(x.length())).toBe(BAD_COUNT);
    x = start();
    encodeDown(x, 1, path, MAX_DEPTH, 0x0a000001, best);
    expect(frame(x.length())).toBe(BAD_COUNT);
  });

  test("trailing bytes are BAD_LENGTH", () => {
    let x = start();
    encodeSolicit(x, 1, 2);
    expect(decodeDatagram(r, buf, x.length() + 1, m)).toBe(BAD_LENGTH);
    x = start();
    encodeClaim(x, 1, 2, 3);
    expect(decodeDatagram(r, buf, x.length() + 1, m)).toBe(BAD_LENGTH);
    x = start();
    encodeRootAd(x, 1, 2, 3, cands, 2);
    expect(decodeDatagram(r, buf, x.length() + 10, m)).toBe(BAD_LENGTH);
    x = start();
    encodeAccept(x, 1, 2, path, 3, 0x0a000001);
    expect(decodeFrame(r, buf + 2, x.length() - 2 + 1, m)).toBe(BAD_LENGTH);
    x = start();
    encodeJoin(x, 1, 2, 0, 1, 0);
    expect(decodeFrame(r, buf + 2, x.length() - 2 + 4, m)).toBe(BAD_LENGTH);
  });

  test("candidate fields out of range are BAD_FIELD", () => {
    for (let k = 0; k < 6; k++) {
      fill();
      const c = cands[1];
      if (k == 0) c.addr = 0;
      else if (k == 1) c.addr = 0xffffffff;
      else if (k == 2) c.childDepth = 0;
      else if (k == 3) c.childDepth = <u32>MAX_DEPTH + 1;
      else if (k == 4) c.free = 3;
      else c.free = 255;
      let x = w.reset(buf, 2048);
      encodeRootAd(x, 1, 2, 3, cands, 3);
      expect(decodeDatagram(r, buf, x.length(), m)).toBe(BAD_FIELD, "ROOT_AD case " + k.toString());
      x = w.reset(buf, 2048);
      encodeRefuse(x, 1, REFUSE_FULL, cands, 2);
      expect(frame(x.length())).toBe(BAD_FIELD, "REFUSE case " + k.toString());
      x = w.reset(buf, 2048);
      encodeUp(x, 1, 2, 3, 1, cands, 2);
      expect(frame(x.length())).toBe(BAD_FIELD, "UP case " + k.toString());
      if (k == 0) continue; // addr 0 is DOWN's "no candidate"
      x = w.reset(buf, 2048);
      encodeDown(x, 1, path, 1, 0x0a000001, c);
      expect(frame(x.length())).toBe(BAD_FIELD, "DOWN case " + k.toString());
    }
  });

  test("other fields out of range are BAD_FIELD", () => {
    // DOWN's empty best must be all zero
    let x = start();
    best.set(0, 3, 0, 0);
    encodeDown(x, 1, path, 1, 0x0a000001, best);
    store<u8>(buf + <usize>(x.length() - 6), 3); // childDepth of the none-candidate
    expect(frame(x.length())).toBe(BAD_FIELD);
    // ACCEPT with an empty path, or a 0 / broadcast address in it
    x = start();
    x.u16(0);
    x.u8(T_ACCEPT);
    x.u32(1);
    x.u32(2);
    x.u8(0);
    expect(decodeFrame(r, buf + 2, x.length() - 2, m)).toBe(BAD_FIELD);
    x = start();
    encodeAccept(x, 1, 2, path, 2, 0);
    expect(frame(x.length())).toBe(BAD_FIELD);
    x = start();
    path[0] = 0xffffffff;
    encodeAccept(x, 1, 2, path, 2, 0x0a000001);
    expect(frame(x.length())).toBe(BAD_FIELD);
    // subtree height beyond MAX_DEPTH
    x = start();
    encodeJoin(x, 1, 2, 0, 1, <u32>MAX_DEPTH + 1);
    expect(frame(x.length())).toBe(BAD_FIELD);
    x = start();
    encodeUp(x, 1, 2, 3, <u32>MAX_DEPTH + 1, cands, 0);
    expect(frame(x.length())).toBe(BAD_FIELD);
  });
});

// ---------------------------------------------------------------- fuzz

let seed: u32 = 12345;
function lcg(): u32 {
  seed = seed * 1664525 + 1013904223;
  return seed >> 8;
}

const spanA = heap.alloc(512);
const spanB = heap.alloc(512);
const mB = new Msg();
const rB = new Reader();

/** Same bytes, different bytes after the span: a decoder that reads past
 *  its span would see the difference. */
function same(len: i32, dgram: bool): bool {
  const a = dgram ? decodeDatagram(r, spanA, len, m) : decodeFrame(r, spanA, len, m);
  const b = dgram ? decodeDatagram(rB, spanB, len, mB) : decodeFrame(rB, spanB, len, mB);
  if (a != b) return false;
  if (<i32>(r.ptr - spanA) > len || r.ptr < spanA) return false;
  if (a != 0) return true;
  if (m.type != mB.type || m.xid != mB.xid || m.strength != mB.strength || m.nCand != mB.nCand || m.pathLen != mB.pathLen) return false;
  // An accepted message obeys its limits.
  if (m.nCand < 0 || m.nCand > 4 || m.pathLen < 0 || m.pathLen > MAX_DEPTH) return false;
  if ((m.type == T_ACCEPT || m.type == T_DOWN) && m.pathLen < 1) return false;
  for (let i = 0; i < m.nCand; i++) {
    const c = m.cands[i];
    if (c.addr == 0 || c.addr == 0xffffffff || c.childDepth < 1 || c.childDepth > <u32>MAX_DEPTH || c.free > 2) return false;
  }
  return true;
}

function prepare(len: i32): void {
  memory.fill(spanA + <usize>len, 0x00, 512 - <usize>len);
  memory.fill(spanB + <usize>len, 0xff, 512 - <usize>len);
  memory.copy(spanB, spanA, <usize>len);
}

describe("fuzz", () => {
  test("20000 random byte strings: no trap, no read past the span", () => {
    let mismatches = 0;
    for (let i = 0; i < 20000; i++) {
      const len = <i32>(lcg() % 201);
      for (let k = 0; k < len; k++) store<u8>(spanA + <usize>k, <u8>lcg());
      const shape = lcg() % 4;
      if (shape == 1 && len >= 4) {
        // a plausible datagram header, so the body decoders run
        store<u8>(spanA, 0x50);
        store<u8>(spanA, 0x46, 1);
        store<u8>(spanA, 1, 2);
        store<u8>(spanA, <u8>(1 + lcg() % 3), 3);
      } else if (shape == 2 && len >= 1) {
        store<u8>(spanA, <u8>(0x10 + lcg() % 5));
        if (len >= 4) {
          store<u8>(spanA, 0x50, 1);
          store<u8>(spanA, 0x46, 2);
          store<u8>(spanA, 1, 3);
        }
      }
      prepare(len);
      if (!same(len, true)) mismatches++;
      if (!same(len, false)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  test("20000 mutations of valid messages: no trap, no read past the span", () => {
    let mismatches = 0;
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      fill();
      const x = w.reset(spanA, 512);
      const kind = lcg() % 7;
      best.set(0x0a000033, 2, 1, 9);
      let dgram = kind < 2;
      if (kind == 0) encodeRootAd(x, 1, 2, 3, cands, <i32>(lcg() % 5));
      else if (kind == 1) encodeClaim(x, 1, 2, 3);
      else if (kind == 2) encodeAccept(x, 1, 2, path, <i32>(lcg() % MAX_DEPTH), 0x0a000001);
      else if (kind == 3) encodeRefuse(x, 1, 1, cands, <i32>(lcg() % 5));
      else if (kind == 4) encodeDown(x, 1, path, <i32>(lcg() % MAX_DEPTH), 0x0a000001, best);
      else if (kind == 5) encodeUp(x, 1, 2, 3, 1, cands, <i32>(lcg() % 3));
      else encodeJoin(x, 1, 2, 0, 1, 0);
      // frames decode from their type byte on
      const off: i32 = dgram ? 0 : 2;
      let len = x.length() - off;
      if (off != 0) memory.copy(spanA, spanA + 2, <usize>len);
      const flips: u32 = 1 + lcg() % 3;
      for (let k: u32 = 0; k < flips; k++) {
        const at = <i32>(lcg() % <u32>len);
        store<u8>(spanA + <usize>at, <u8>lcg());
      }
      const cut = lcg() % 4;
      if (cut == 0) len = <i32>(lcg() % <u32>(len + 1));
      else if (cut == 1) len = len + <i32>(lcg() % 12);
      prepare(len);
      if (!same(len, dgram)) mismatches++;
      if (r.ok && (dgram ? decodeDatagram(r, spanA, len, m) : decodeFrame(r, spanA, len, m)) == 0) accepted++;
    }
    expect(mismatches).toBe(0);
    expect(accepted).toBeGreaterThan(0);
  });
});
