// Records what cores receive and answer (docs/TRACE.md). A CoreRecording is
// one core's tap: it appends that core's records as the host calls in, and
// alongside, what the digest folds in. TraceRecorder keeps the cores in the
// order they were created and writes the file: their records one core after
// another, then T_END with the count of outbox records and the digest.

import { closeSync, openSync, writeSync } from "node:fs";
import * as A from "../core/abi.js";
import type { CoreTap, PfsCore } from "../core/core.js";
import { ByteBuilder } from "./builder.js";
import { Observations, u32Bytes } from "./digest.js";
import { COUNTER_EXPORTS } from "./format.js";
import { normalizeOutbox, PendingRead } from "./normalize.js";

const STATE_QUERIES = ["hierRole", "hierXid", "hierStrength", "hierDepth", "hierParent", "child0", "child1", "hierHeld", "hierTotal", "hierVerified", "hierSubtreeSize", "hierSubtreeHeight"] as const;

/** Reads one slot's T_STATE words from a core's exports. */
export function slotState(x: PfsCore["x"], slot: number): number[] {
  return STATE_QUERIES.map((q) => (q === "child0" ? x.hierChild(slot, 0) : q === "child1" ? x.hierChild(slot, 1) : x[q](slot)) >>> 0);
}

export function countersOf(x: PfsCore["x"]): number[] {
  return COUNTER_EXPORTS.map((c) => x[c]() >>> 0);
}

class CoreRecording implements CoreTap {
  readonly b = new ByteBuilder();
  /** Kind byte, observed bytes, ... in fold order (digest.ts). */
  readonly obs = new ByteBuilder();
  outboxRecords = 0;
  private counters: number[] = [];
  private readonly pending = new Map<string, PendingRead>();

  constructor(private readonly core: PfsCore) {}

  private head(kind: number, bodyBytes: number): ByteBuilder {
    return this.b.u8(kind).u8(0).u8(0).u8(0).u32(bodyBytes);
  }

  private observe(kind: number, bytes: Uint8Array): void {
    this.obs.u8(kind).bytes(bytes);
  }

  /** A counter changed since the last T_COUNTERS: write them all. */
  private counterCheck(force: boolean): void {
    const now = countersOf(this.core.x);
    if (!force && now.every((v, i) => v === this.counters[i])) return;
    this.counters = now;
    this.head(A.T_COUNTERS, 4 * now.length);
    for (const v of now) this.b.u32(v);
    const o = new ByteBuilder();
    for (const v of now) o.u32(v);
    this.observe(A.T_COUNTERS, Buffer.concat(o.take()));
  }

  init(words: Uint32Array, rc: number): void {
    this.head(A.T_CORE, 8 + 4 * words.length).u32(words.length);
    for (const w of words) this.b.u32(w);
    this.b.i32(rc);
    this.observe(A.T_CORE, u32Bytes(rc));
    this.counters = countersOf(this.core.x);
  }

  need(nowMs: number, model: Uint8Array, file: Uint8Array, hash: Uint8Array | undefined, size: number, held: number, flags: number, ret: number): void {
    const h = hash ?? new Uint8Array(0);
    this.head(A.T_NEED, 36 + model.length + file.length + h.length).f64(nowMs).i32(ret).u32(size).u32(held).u32(flags)
      .u32(model.length).u32(file.length).u32(h.length).bytes(model).bytes(file).bytes(h);
    this.observe(A.T_NEED, u32Bytes(ret));
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  xid(model: Uint8Array, file: Uint8Array, ret: number): void {
    this.head(A.T_XID, 12 + model.length + file.length).u32(ret).u32(model.length).u32(file.length).bytes(model).bytes(file);
    this.observe(A.T_XID, u32Bytes(ret));
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  setHeld(nowMs: number, slot: number, held: number, flags: number, ret: number): void {
    this.head(A.T_SET_HELD, 24).f64(nowMs).i32(ret).i32(slot).u32(held).u32(flags);
    this.observe(A.T_SET_HELD, u32Bytes(ret));
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  release(nowMs: number, slot: number, ret: number): void {
    this.head(A.T_RELEASE, 16).f64(nowMs).i32(ret).i32(slot);
    this.observe(A.T_RELEASE, u32Bytes(ret));
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  datagram(nowMs: number, src: number, len: number, written: Uint8Array): void {
    this.head(A.T_DATAGRAM, 16 + written.length).f64(nowMs).u32(src).i32(len).bytes(written);
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  accept(nowMs: number, peer: number, ret: number): void {
    this.head(A.T_ACCEPT, 16).f64(nowMs).i32(ret).u32(peer);
    this.observe(A.T_ACCEPT, u32Bytes(ret));
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  connected(nowMs: number, handle: number): void {
    this.head(A.T_CONNECTED, 12).f64(nowMs).i32(handle);
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  rx(nowMs: number, handle: number, window: number, bytes: Uint8Array): void {
    this.head(A.T_RX, 16 + bytes.length).f64(nowMs).u32(window).i32(handle).bytes(bytes);
    this.observe(A.T_RX, u32Bytes(window));
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  writeDone(nowMs: number, handle: number, len: number): void {
    this.head(A.T_WRITE_DONE, 16).f64(nowMs).i32(handle).i32(len);
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  flashWritten(nowMs: number, slot: number, len: number): void {
    this.head(A.T_FLASH_WRITTEN, 16).f64(nowMs).i32(slot).i32(len);
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  flashRead(nowMs: number, handle: number, tag: number, len: number): void {
    this.counterCheck(false);
    const key = `${handle}/${tag >>> 0}`;
    const p = this.pending.get(key);
    this.pending.delete(key);
    const n = p === undefined ? 0 : Math.max(0, Math.min(len, p.len));
    const bytes = p === undefined ? new Uint8Array(0) : this.core.x.memory.buffer.slice(p.ptr, p.ptr + n);
    this.head(A.T_FLASH_READ, 20 + n).f64(nowMs).i32(handle).u32(tag).i32(len).bytes(new Uint8Array(bytes));
  }

  closed(nowMs: number, handle: number): void {
    this.head(A.T_CLOSED, 12).f64(nowMs).i32(handle);
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  timer(nowMs: number): void {
    this.head(A.T_TIMER, 8).f64(nowMs);
    this.counterCheck(false); // after the call's own record: it may have moved a counter
  }

  deadline(ms: number): void {
    this.counterCheck(false);
    this.head(A.T_DEADLINE, 8).f64(ms);
    const o = new DataView(new ArrayBuffer(8));
    o.setFloat64(0, ms, true);
    this.observe(A.T_DEADLINE, new Uint8Array(o.buffer));
  }

  drain(): void {
    this.counterCheck(false);
    const x = this.core.x;
    const out = normalizeOutbox(new Uint8Array(x.memory.buffer), x.outboxPtr(), x.outboxLen());
    for (const r of out.reads) this.pending.set(`${r.handle}/${r.tag >>> 0}`, r);
    this.outboxRecords += out.records;
    this.head(A.T_DRAIN, out.bytes.length).bytes(out.bytes);
    this.observe(A.T_DRAIN, Buffer.concat([u32Bytes(out.bytes.length), out.bytes]));
  }

  /** The core's last records: counters, every slot's state, T_END_CORE. */
  finish(): void {
    this.counterCheck(true);
    const x = this.core.x;
    const n = x.hierCapacity();
    const body = new ByteBuilder().u32(n);
    for (let s = 0; s < n; s++) for (const w of slotState(x, s)) body.u32(w);
    body.u32(x.streamsOpen());
    const bytes = Buffer.concat(body.take());
    this.head(A.T_STATE, bytes.length).bytes(bytes);
    this.observe(A.T_STATE, bytes);
    this.head(A.T_END_CORE, 0);
  }
}

export interface TraceSummary {
  digest: string;
  records: number;
  cores: number;
  bytes: number;
}

export class TraceRecorder {
  private readonly cores: CoreRecording[] = [];

  /** `want(label)`: whether to record the core a host creates for `label`
   *  (the simulator passes the phone's index). */
  constructor(private readonly want: (label: number) => boolean = () => true) {}

  tapFor(label: number): ((core: PfsCore) => CoreTap) | null {
    if (!this.want(label)) return null;
    return (core) => {
      const r = new CoreRecording(core);
      this.cores.push(r);
      return r;
    };
  }

  /** Finishes every core and writes the trace to `path`. */
  write(path: string): TraceSummary {
    const obs = new Observations();
    let records = 0;
    const fd = openSync(path, "w");
    try {
      const head = new ByteBuilder().u32(A.TRACE_MAGIC_LO).u32(A.TRACE_MAGIC_HI).u32(A.TRACE_VERSION).u32(A.ABI_VERSION);
      let bytes = 0;
      const put = (chunks: Uint8Array[]) => {
        for (const c of chunks) bytes += writeSync(fd, c);
      };
      put(head.take());
      for (const c of this.cores) {
        c.finish();
        put(c.b.take());
        records += c.outboxRecords;
        for (const chunk of c.obs.take()) obs.update(chunk);
      }
      const digest = obs.bytes();
      put(new ByteBuilder().u8(A.T_END).u8(0).u8(0).u8(0).u32(40).u32(this.cores.length).u32(records).bytes(digest).take());
      return { digest: Buffer.from(digest).toString("hex"), records, cores: this.cores.length, bytes };
    } finally {
      closeSync(fd);
    }
  }
}
