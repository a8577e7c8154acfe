// The relay core driven directly from Node (real pfs.wasm, Node's SHA-256):
// cases that need a precise sequence of host events.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { NEED_RELAY } from "../../host/core/abi.js";
import { CoreSink, PfsCore } from "../../host/core/core.js";

const BLOCK = 16384;

/** A file of `blocks` blocks, its list and stream (list, then file). */
function makeFile(blocks: number) {
  const size = blocks * BLOCK;
  const file = Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) % 251);
  const list = new Uint8Array(blocks * 32);
  for (let k = 0; k < blocks; k++) list.set(createHash("sha256").update(file.subarray(k * BLOCK, (k + 1) * BLOCK)).digest(), k * 32);
  const stream = new Uint8Array(list.length + size);
  stream.set(list, 0);
  stream.set(file, list.length);
  return { size, listBytes: list.length, stream, listHash: createHash("sha256").update(list).digest() };
}

// After a source is lost mid-block the ring still holds the discarded bytes
// past the new receive point; a child must never be sent them as ring bytes.
test("a child is never put on the ring over bytes discarded after a lost source", () => {
  const R = 2 * BLOCK;
  const core = new PfsCore({ selfAddr: 0x0a000001, seed: 1, ringBytes: R });
  const f = makeFile(10);
  let t = 0;
  let fetchHandle = -1;
  let child = -1;
  let pendingFlash = 0;
  const reads: Array<{ h: number; tag: number; n: number }> = [];
  const frames: Array<{ off: number; payload?: Uint8Array }> = [];
  const sink: CoreSink = {
    datagram() {}, connect() {}, close() {}, event() {},
    write(h, b) {
      if (h === child && b.length === 7 && b[2] === 0x15) frames.push({ off: ((b[3] << 24) | (b[4] << 16) | (b[5] << 8) | b[6]) >>> 0 });
    },
    writeRef(h, b) {
      if (h === child) frames[frames.length - 1].payload = Uint8Array.from(b);
    },
    fetch(_s, h) { fetchHandle = h; },
    flashWrite(_s, _o, b) { pendingFlash += b.length; },
    flashRead(_s, off, into, h, tag) {
      into.set(f.stream.subarray(off, off + into.length));
      reads.push({ h, tag, n: into.length });
    },
  };
  const drain = () => core.drain(sink);
  const slot = core.need(t, "CP-7961G", "X", f.size, 0, NEED_RELAY, f.listHash);
  drain();
  while (fetchHandle < 0) {
    t = core.nextDeadlineMs();
    core.timer(t);
    drain();
  }
  let pos = 0;
  const server = (upTo: number) => {
    while (pos < upTo) {
      const n = core.streamData(t, fetchHandle, f.stream.subarray(pos, Math.min(upTo, pos + 4096)));
      drain();
      pos += n;
      if (pendingFlash > 0) {
        const done = pendingFlash;
        pendingFlash = 0;
        core.flashWritten(t, slot, done);
        drain();
      }
      if (n === 0) break;
    }
  };
  server(f.listBytes + 3 * BLOCK);
  // A late joiner from the list's end: served from flash (block 0).
  child = core.accept(++t, 0x0a000002);
  const join = new Uint8Array(22);
  const dv = new DataView(join.buffer);
  dv.setUint16(0, 20);
  join[2] = 0x10;
  dv.setUint16(3, 0x5046);
  join[5] = 1;
  dv.setUint32(6, core.x.hierXid(slot));
  dv.setUint32(10, 1);
  dv.setUint16(15, 1);
  dv.setUint32(18, f.listBytes);
  core.streamData(t, child, join);
  drain();
  const r = reads.shift()!;
  core.flashRead(t, r.h, r.tag, r.n);
  drain();
  // Part of block 3 arrives, then the fetch breaks: those bytes are dropped.
  server(f.listBytes + 3 * BLOCK + 10000);
  core.closed(t, fetchHandle);
  drain();
  core.writeDone(t, child, r.n);
  drain();
  for (const fr of frames) {
    assert.ok(fr.payload !== undefined, "a frame head without its payload");
    const want = f.stream.subarray(fr.off, fr.off + fr.payload!.length);
    assert.ok(Buffer.compare(Buffer.from(want), Buffer.from(fr.payload!)) === 0, `frame at ${fr.off} carries bytes that are not the file's`);
  }
  assert.ok(frames.length >= 1);
});
