// The reference replayer: feeds a trace into fresh instances of pfs.wasm on
// V8 and compares every answer with the recording (docs/TRACE.md). The C,
// WASI and board replayers do the same in their own languages; all must
// print the same digest line.

import * as A from "../core/abi.js";
import { CoreTrap, Exports, instantiateCore, loadModule } from "../core/core.js";
import { f64Bytes, Observations, u32Bytes } from "./digest.js";
import { formatAddr, kindName, TraceFormatError } from "./format.js";
import { normalizeOutbox, OutboxError, PendingRead } from "./normalize.js";
import { countersOf, slotState } from "./recorder.js";
import { records, TraceRecord } from "./reader.js";

/** The first difference between this engine and the recording. */
export class Mismatch extends Error {}

export interface ReplayResult {
  digest: string;
  records: number;
  cores: number;
}

/** The core being replayed and what the replayer knows about it. */
interface Live {
  x: Exports;
  index: number;
  self: number;
  pending: Map<string, PendingRead>;
}

class Replay {
  private live: Live | null = null;
  private cores = 0;
  private readonly obs = new Observations();
  private rec!: TraceRecord;

  constructor(private readonly module: WebAssembly.Module) {}

  private fail(what: string): never {
    const l = this.live;
    const who = l === null ? "" : `core ${l.index} (${formatAddr(l.self)}) `;
    const kind = this.rec.kind;
    const timed = kind >= A.T_NEED && kind <= A.T_TIMER && kind !== A.T_XID && this.rec.body.length >= 8;
    const at = timed ? ` at ${this.rec.dv.getFloat64(0, true)} ms` : "";
    throw new Mismatch(`mismatch: ${who}record ${this.rec.index} ${kindName(kind)}${at}: ${what}`);
  }

  private core(): Live {
    if (this.live === null) throw new TraceFormatError(`record ${this.rec.index} ${kindName(this.rec.kind)} outside any core`);
    return this.live;
  }

  private mem(): Uint8Array {
    return new Uint8Array(this.core().x.memory.buffer);
  }

  /** Compares a 4-byte answer and folds it into the digest. */
  private expect32(kind: number, got: number, exp: number): void {
    if (got >>> 0 !== exp >>> 0) this.fail(`expected ${exp | 0}, got ${got | 0}`);
    this.obs.fold(kind, u32Bytes(got));
  }

  /** Copies trace bytes into core memory at `ptr`, within `room`. */
  private put(bytes: Uint8Array, ptr: number, room: number, what: string): void {
    if (bytes.length > room) throw new TraceFormatError(`record ${this.rec.index}: ${bytes.length} bytes for ${what}, which takes ${room}`);
    const mem = this.mem();
    if (ptr + bytes.length > mem.length) this.fail(`${what} at ${ptr} lies outside memory`);
    mem.set(bytes, ptr);
  }

  run(file: Uint8Array): ReplayResult {
    for (const rec of records(file)) {
      this.rec = rec;
      try {
        this.step(rec);
      } catch (e) {
        if (e instanceof CoreTrap) this.fail(`the core trapped: ${e.message}`);
        if (e instanceof WebAssembly.RuntimeError) this.fail(`the core trapped: ${e.message}`);
        throw e;
      }
    }
    const digest = this.obs.hex();
    if (this.endDigest !== digest) this.fail(`the recording's digest ${this.endDigest} differs from this replay's ${digest}`);
    return { digest, records: this.obs.records, cores: this.cores };
  }

  /** The digest T_END carries: the recorder's own. */
  private endDigest = "";

  private step(r: TraceRecord): void {
    const d = r.dv;
    switch (r.kind) {
      case A.T_CORE: return this.startCore(r);
      case A.T_END_CORE:
        this.core();
        this.live = null;
        return;
      case A.T_END: return this.end(r);
      case A.T_DEADLINE: {
        const got = this.core().x.nextDeadlineMs();
        const exp = d.getFloat64(0, true);
        if (!Object.is(got, exp)) this.fail(`expected deadline ${exp}, got ${got}`);
        this.obs.fold(r.kind, f64Bytes(got));
        return;
      }
      case A.T_DRAIN: return this.drain(r);
      case A.T_COUNTERS: return this.counters(r);
      case A.T_STATE: return this.state(r);
      default: return this.input(r);
    }
  }

  private startCore(r: TraceRecord): void {
    if (this.live !== null) throw new TraceFormatError(`record ${r.index}: T_CORE inside core ${this.live.index}`);
    const n = r.dv.getUint32(0, true);
    const x = instantiateCore(this.module);
    if (n > x.configWords()) throw new TraceFormatError(`record ${r.index}: ${n} config words, the core has ${x.configWords()}`);
    const words = new Uint32Array(x.configWords());
    for (let i = 0; i < n; i++) words[i] = r.dv.getUint32(4 + 4 * i, true);
    new Uint32Array(x.memory.buffer, x.configPtr(), words.length).set(words);
    this.live = { x, index: this.cores++, self: words[A.CFG_SELF_ADDR], pending: new Map() };
    this.expect32(r.kind, x.init(), r.dv.getInt32(4 + 4 * n, true));
  }

  private end(r: TraceRecord): void {
    if (this.live !== null) throw new TraceFormatError(`T_END inside core ${this.live.index}`);
    const cores = r.dv.getUint32(0, true);
    const recs = r.dv.getUint32(4, true);
    if (cores !== this.cores || recs !== this.obs.records) this.fail(`the recording saw ${cores} cores and ${recs} outbox records, this replay ${this.cores} and ${this.obs.records}`);
    this.endDigest = Buffer.from(r.body.subarray(8, 40)).toString("hex");
  }

  private drain(r: TraceRecord): void {
    const l = this.core();
    let out;
    try {
      out = normalizeOutbox(this.mem(), l.x.outboxPtr(), l.x.outboxLen());
    } catch (e) {
      if (e instanceof OutboxError) this.fail(e.message);
      throw e;
    }
    const exp = r.body;
    const n = Math.min(exp.length, out.bytes.length);
    for (let i = 0; i < n; i++) {
      if (exp[i] !== out.bytes[i]) this.fail(`outbox byte ${i} (${recordAt(out.bytes, i)}): expected 0x${exp[i].toString(16)}, got 0x${out.bytes[i].toString(16)}`);
    }
    if (exp.length !== out.bytes.length) this.fail(`outbox of ${out.bytes.length} bytes, expected ${exp.length}`);
    for (const p of out.reads) l.pending.set(`${p.handle}/${p.tag >>> 0}`, p);
    this.obs.records += out.records;
    this.obs.fold(r.kind, Buffer.concat([u32Bytes(out.bytes.length), out.bytes]));
    l.x.outboxClear();
  }

  private counters(r: TraceRecord): void {
    const got = countersOf(this.core().x);
    got.forEach((v, i) => {
      const exp = r.dv.getUint32(4 * i, true);
      if (v !== exp) this.fail(`counter ${i}: expected ${exp}, got ${v}`);
    });
    this.obs.fold(r.kind, new Uint8Array(new Uint32Array(got).buffer));
  }

  private state(r: TraceRecord): void {
    const x = this.core().x;
    const n = r.dv.getUint32(0, true);
    if (n !== x.hierCapacity()) this.fail(`${x.hierCapacity()} hierarchy slots, expected ${n}`);
    const got = [n];
    for (let s = 0; s < n; s++) got.push(...slotState(x, s));
    got.push(x.streamsOpen() >>> 0);
    got.forEach((v, i) => {
      const exp = r.dv.getUint32(4 * i, true);
      if (v !== exp) this.fail(`state word ${i} (slot ${Math.floor((i - 1) / A.TRACE_STATE_WORDS)}): expected ${exp}, got ${v}`);
    });
    this.obs.fold(r.kind, r.body);
  }

  /** Inputs: one exported call each (docs/TRACE.md section 2). */
  private input(r: TraceRecord): void {
    const { x } = this.core();
    const d = r.dv;
    const now = d.getFloat64(0, true);
    const tail = (from: number) => r.body.subarray(from);
    switch (r.kind) {
      case A.T_NEED: return this.need(r, now);
      case A.T_XID: {
        const m = d.getUint32(4, true);
        const f = d.getUint32(8, true);
        this.put(tail(12), x.inboxPtr(), x.inboxBytes(), "the inbox");
        return this.expect32(r.kind, x.xidOf(m, f), d.getUint32(0, true));
      }
      case A.T_SET_HELD: return this.expect32(r.kind, x.setHeld(now, d.getInt32(12, true), d.getUint32(16, true), d.getUint32(20, true)), d.getInt32(8, true));
      case A.T_RELEASE: return this.expect32(r.kind, x.release(now, d.getInt32(12, true)), d.getInt32(8, true));
      case A.T_DATAGRAM:
        this.put(tail(16), x.inboxPtr(), x.inboxBytes(), "the inbox");
        return x.onDatagram(now, d.getUint32(8, true), d.getInt32(12, true));
      case A.T_ACCEPT: return this.expect32(r.kind, x.onStreamAccept(now, d.getUint32(12, true)), d.getInt32(8, true));
      case A.T_CONNECTED: return x.onStreamConnected(now, d.getInt32(8, true));
      case A.T_STREAM_DATA:
        this.put(tail(20), x.inboxPtr(), x.inboxBytes(), "the inbox");
        return this.expect32(r.kind, x.onStreamData(now, d.getInt32(12, true), d.getInt32(16, true)), d.getInt32(8, true));
      case A.T_RX: return this.rx(r, now);
      case A.T_WRITE_DONE: return x.onWriteDone(now, d.getInt32(8, true), d.getInt32(12, true));
      case A.T_FLASH_WRITTEN: return x.onFlashWritten(now, d.getInt32(8, true), d.getInt32(12, true));
      case A.T_FLASH_READ: return this.flashRead(r, now);
      case A.T_CLOSED: return x.onStreamClosed(now, d.getInt32(8, true));
      case A.T_TIMER: return x.onTimer(now);
      default: throw new TraceFormatError(`record ${r.index}: unknown kind ${r.kind}`);
    }
  }

  private need(r: TraceRecord, now: number): void {
    const { x } = this.core();
    const d = r.dv;
    const m = d.getUint32(24, true);
    const f = d.getUint32(28, true);
    this.put(r.body.subarray(36), x.inboxPtr(), x.inboxBytes(), "the inbox");
    this.expect32(r.kind, x.need(now, m, f, d.getUint32(12, true), d.getUint32(16, true), d.getUint32(20, true)), d.getInt32(8, true));
  }

  private rx(r: TraceRecord, now: number): void {
    const { x } = this.core();
    const handle = r.dv.getInt32(12, true);
    const window = x.rxWindow(handle) >>> 0;
    this.expect32(r.kind, window, r.dv.getUint32(8, true));
    const bytes = r.body.subarray(16);
    this.put(bytes, x.rxPtr(), window, "the receive window");
    x.onStreamRx(now, handle, bytes.length);
  }

  private flashRead(r: TraceRecord, now: number): void {
    const l = this.core();
    const handle = r.dv.getInt32(8, true);
    const tag = r.dv.getUint32(12, true);
    const bytes = r.body.subarray(20);
    const key = `${handle}/${tag}`;
    const p = l.pending.get(key);
    l.pending.delete(key);
    if (bytes.length > 0) {
      if (p === undefined) this.fail(`flash read bytes for handle ${handle} tag ${tag}, which the core never asked for`);
      this.put(bytes, p.ptr, p.len, "a staging view");
    }
    l.x.onFlashRead(now, handle, tag, r.dv.getInt32(16, true));
  }
}

/** "record k, kind K" of the normalised outbox record holding byte `at`. */
function recordAt(bytes: Uint8Array, at: number): string {
  let off = 0;
  for (let k = 0; off + A.OUT_HEADER_BYTES <= bytes.length; k++) {
    const next = off + A.OUT_HEADER_BYTES + ((bytes[off + 2] | (bytes[off + 3] << 8)) + 3 & ~3);
    if (at < next) return `record ${k}, kind ${bytes[off]}`;
    off = next;
  }
  return "past the records";
}

export function replayV8(file: Uint8Array, module: WebAssembly.Module = loadModule()): ReplayResult {
  return new Replay(module).run(file);
}
