// The virtual subnet: phones (real pfs.wasm cores) on one simulated LAN with
// a virtual clock. Datagrams (broadcast or unicast) suffer loss, duplication
// and per-link delay with jitter (which reorders them); streams are TCP-like:
// ordered and reliable until a partition or a crash breaks them. Nothing here
// reads a real clock; every random choice comes from the world's seed.

import { BROADCAST_ADDR } from "../core/abi.js";
import { CoreSink, PfsCore } from "../core/core.js";
import type { CoreConfig } from "../core/abi.js";
import { Agenda } from "./queue.js";
import { Rng } from "./random.js";

/** Phone i has address 10.0.0.0 + i + 1 (10.0.0.1 is phone 0). */
export const ADDR_BASE = 0x0a000001;
export const addrOf = (i: number): number => (ADDR_BASE + i) >>> 0;
export const indexOf = (addr: number): number => ((addr >>> 0) - ADDR_BASE);
export function formatAddr(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

export interface LinkFaults {
  /** Probability a datagram is lost, per receiver. */
  loss: number;
  /** Probability a datagram is delivered twice. */
  dup: number;
  /** Extra uniform delay per datagram or stream segment; reorders datagrams. */
  jitterMs: number;
}

export interface WorldOptions {
  seed: number;
  core: CoreConfig;
  /** One-way LAN latency floor of one phone's port, ms; links add two ports. */
  portDelayMs: number;
  /** A connect to a silent peer fails after this long (a SYN timeout). */
  connectTimeoutMs: number;
}

interface Conn {
  a: number;
  aGen: number;
  aHandle: number;
  b: number;
  bGen: number;
  bHandle: number;
  aOpen: boolean;
  bOpen: boolean;
  broken: boolean;
  /** Delivery times of the last segment each way, to keep streams ordered. */
  lastToA: number;
  lastToB: number;
}

export type EventObserver = (atMs: number, phone: number, xid: number, code: number, n: number, a: number, b: number) => void;

export class SimPhone {
  core: PfsCore | null = null;
  alive = false;
  gen = 0;
  timerAt = Infinity;
  readonly handles = new Map<number, Conn>();
  /** Hierarchies the phone takes part in: xid -> core slot. */
  readonly slots = new Map<number, number>();
  readonly sink: CoreSink;

  constructor(readonly index: number, readonly addr: number, readonly model: number, world: World) {
    this.sink = world.sinkFor(this);
  }
}

type Item =
  | { atMs: number; seq: number; kind: "dgram"; to: number; toGen: number; from: number; bytes: Uint8Array }
  | { atMs: number; seq: number; kind: "syn" | "synack" | "connfail"; conn: Conn }
  | { atMs: number; seq: number; kind: "data"; conn: Conn; toB: boolean; bytes: Uint8Array }
  | { atMs: number; seq: number; kind: "fin"; conn: Conn; toB: boolean }
  | { atMs: number; seq: number; kind: "timer"; phone: number; gen: number }
  | { atMs: number; seq: number; kind: "call"; fn: () => void };

export interface WorldStats {
  datagramsSent: number;
  datagramsDelivered: number;
  datagramsLost: number;
  streamsOpened: number;
  streamBytes: number;
  coreCalls: number;
  events: number;
}

export class World {
  nowMs = 0;
  readonly phones: SimPhone[] = [];
  readonly agenda = new Agenda<Item>();
  faults: LinkFaults = { loss: 0, dup: 0, jitterMs: 0 };
  /** Partition group of each phone; phones talk only within one group. */
  group: number[] = [];
  /** Phones of each model: a datagram for a model's hierarchy only matters
   *  to phones of that model (the core drops unknown XIDs unread anyway). */
  private byXid = new Map<number, Set<number>>();
  private portDelayMs: number[] = [];
  readonly rng: Rng;
  private readonly netRng: Rng;
  observer: EventObserver | null = null;
  readonly stats: WorldStats = { datagramsSent: 0, datagramsDelivered: 0, datagramsLost: 0, streamsOpened: 0, streamBytes: 0, coreCalls: 0, events: 0 };
  readonly eventCounts = new Map<number, number>();

  constructor(readonly opts: WorldOptions) {
    this.rng = Rng.derive(opts.seed, "world");
    this.netRng = Rng.derive(opts.seed, "net");
  }

  addPhone(model: number): SimPhone {
    const p = new SimPhone(this.phones.length, addrOf(this.phones.length), model, this);
    this.phones.push(p);
    this.group.push(0);
    // Each port gets its own latency, so links differ (0.5x .. 1.5x the floor).
    this.portDelayMs.push(this.opts.portDelayMs * (0.5 + this.rng.next()));
    return p;
  }

  /** Powers a phone on with a fresh core (a new incarnation). */
  boot(p: SimPhone): void {
    p.gen++;
    p.alive = true;
    p.timerAt = Infinity;
    p.handles.clear();
    for (const xid of p.slots.keys()) this.byXid.get(xid)?.delete(p.index);
    p.slots.clear();
    p.core = new PfsCore({ ...this.opts.core, selfAddr: p.addr, seed: this.rng.u32() || 1 });
  }

  /** Registers that phone `p` needs (model, file); returns the xid. */
  need(p: SimPhone, model: string, file: string, sizeBytes: number, heldBytes = 0, flags = 0): number {
    const core = p.core!;
    const slot = core.need(this.nowMs, model, file, sizeBytes, heldBytes, flags);
    if (slot < 0) throw new Error(`phone ${p.index}: core refused need() (${slot})`);
    const xid = core.xidOf(model, file);
    p.slots.set(xid, slot);
    let set = this.byXid.get(xid);
    if (set === undefined) this.byXid.set(xid, (set = new Set()));
    set.add(p.index);
    this.settle(p);
    return xid;
  }

  /** Stops a phone. `rst`: its sockets reset (process killed, peers see the
   *  close); otherwise it goes silent (power cut, peers must time out). */
  crash(p: SimPhone, rst: boolean): void {
    if (!p.alive) return;
    p.alive = false;
    for (const conn of new Set(p.handles.values())) {
      const isA = conn.a === p.index && conn.aGen === p.gen;
      if (isA) conn.aOpen = false;
      else conn.bOpen = false;
      if (rst) this.sendFin(conn, isA);
    }
    p.handles.clear();
    p.core = null;
    p.timerAt = Infinity;
  }

  at(atMs: number, fn: () => void): void {
    this.agenda.push({ atMs, seq: 0, kind: "call", fn });
  }

  sameSide(a: number, b: number): boolean {
    return this.group[a] === this.group[b];
  }

  private delay(a: number, b: number): number {
    const j = this.faults.jitterMs > 0 ? this.netRng.next() * this.faults.jitterMs : 0;
    return this.portDelayMs[a] + this.portDelayMs[b] + j;
  }

  // ------------------------------------------------------------ the sink

  sinkFor(p: SimPhone): CoreSink {
    return {
      datagram: (dst, bytes) => this.sendDatagram(p, dst, bytes),
      connect: (handle, addr) => this.connect(p, handle, addr),
      write: (handle, bytes) => this.write(p, handle, bytes),
      close: (handle) => this.close(p, handle),
      event: (xid, code, n, a, b) => {
        this.stats.events++;
        this.eventCounts.set(code, (this.eventCounts.get(code) ?? 0) + 1);
        if (this.observer !== null) this.observer(this.nowMs, p.index, xid >>> 0, code, n, a >>> 0, b >>> 0);
      },
    };
  }

  private sendDatagram(p: SimPhone, dst: number, view: Uint8Array): void {
    this.stats.datagramsSent++;
    const bytes = view.slice();
    if ((dst >>> 0) !== BROADCAST_ADDR) {
      const q = indexOf(dst);
      if (q >= 0 && q < this.phones.length) this.deliverDatagram(p.index, q, bytes);
      return;
    }
    const xid = bytes.length >= 8 ? ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0 : -1;
    const audience = this.byXid.get(xid);
    if (audience !== undefined) {
      for (const q of audience) if (q !== p.index) this.deliverDatagram(p.index, q, bytes);
    } else if (xid === -1) {
      for (let q = 0; q < this.phones.length; q++) if (q !== p.index) this.deliverDatagram(p.index, q, bytes);
    }
  }

  private deliverDatagram(from: number, to: number, bytes: Uint8Array): void {
    if (!this.sameSide(from, to)) return;
    if (this.netRng.chance(this.faults.loss)) {
      this.stats.datagramsLost++;
      return;
    }
    const copies = this.netRng.chance(this.faults.dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.agenda.push({ atMs: this.nowMs + this.delay(from, to), seq: 0, kind: "dgram", to, toGen: this.phones[to].gen, from, bytes });
    }
  }

  private connect(p: SimPhone, handle: number, addr: number): void {
    const b = indexOf(addr);
    const conn: Conn = {
      a: p.index, aGen: p.gen, aHandle: handle, b, bGen: -1, bHandle: -1,
      aOpen: true, bOpen: false, broken: false, lastToA: 0, lastToB: 0,
    };
    p.handles.set(handle, conn);
    this.stats.streamsOpened++;
    if (b < 0 || b >= this.phones.length) {
      this.agenda.push({ atMs: this.nowMs + this.opts.connectTimeoutMs, seq: 0, kind: "connfail", conn });
      return;
    }
    this.agenda.push({ atMs: this.nowMs + this.delay(p.index, b), seq: 0, kind: "syn", conn });
  }

  private write(p: SimPhone, handle: number, view: Uint8Array): void {
    const conn = p.handles.get(handle);
    if (conn === undefined) throw new Error(`phone ${p.index} wrote on unknown handle ${handle}`);
    const toB = conn.a === p.index && conn.aHandle === handle && conn.aGen === p.gen;
    if (conn.broken || !(toB ? conn.bOpen || conn.bHandle === -1 : conn.aOpen)) return;
    if (!this.sameSide(conn.a, conn.b)) {
      conn.broken = true;
      return;
    }
    this.stats.streamBytes += view.length;
    const atMs = this.nextSegmentMs(conn, toB);
    this.agenda.push({ atMs, seq: 0, kind: "data", conn, toB, bytes: view.slice() });
  }

  private nextSegmentMs(conn: Conn, toB: boolean): number {
    const t = Math.max(this.nowMs + this.delay(conn.a, conn.b), toB ? conn.lastToB : conn.lastToA);
    if (toB) conn.lastToB = t;
    else conn.lastToA = t;
    return t;
  }

  private close(p: SimPhone, handle: number): void {
    const conn = p.handles.get(handle);
    if (conn === undefined) throw new Error(`phone ${p.index} closed unknown handle ${handle}`);
    p.handles.delete(handle);
    const isA = conn.a === p.index && conn.aHandle === handle && conn.aGen === p.gen;
    if (isA) conn.aOpen = false;
    else conn.bOpen = false;
    this.sendFin(conn, isA);
  }

  private sendFin(conn: Conn, toB: boolean): void {
    if (conn.broken || !this.sameSide(conn.a, conn.b)) return;
    this.agenda.push({ atMs: this.nextSegmentMs(conn, toB), seq: 0, kind: "fin", conn, toB });
  }

  // ------------------------------------------------------------ running

  /** Runs events until virtual time `untilMs` (inclusive) or the agenda empties. */
  runUntil(untilMs: number): void {
    while (this.agenda.peekMs() <= untilMs) {
      const item = this.agenda.pop()!;
      this.nowMs = item.atMs;
      this.dispatch(item);
    }
    this.nowMs = Math.max(this.nowMs, untilMs);
  }

  private live(i: number, gen: number): SimPhone | null {
    const p = this.phones[i];
    return p.alive && p.gen === gen ? p : null;
  }

  private dispatch(item: Item): void {
    switch (item.kind) {
      case "call":
        item.fn();
        return;
      case "timer": {
        const p = this.live(item.phone, item.gen);
        if (p === null || item.atMs !== p.timerAt) return; // superseded
        p.timerAt = Infinity;
        p.core!.timer(this.nowMs);
        this.settle(p);
        return;
      }
      case "dgram": {
        const p = this.live(item.to, item.toGen);
        if (p === null || !this.sameSide(item.from, item.to)) return;
        this.stats.datagramsDelivered++;
        p.core!.datagram(this.nowMs, addrOf(item.from), item.bytes);
        this.settle(p);
        return;
      }
      case "syn":
        this.onSyn(item.conn);
        return;
      case "synack": {
        const c = item.conn;
        const a = this.live(c.a, c.aGen);
        if (a === null || !c.aOpen) return;
        a.core!.connected(this.nowMs, c.aHandle);
        this.settle(a);
        return;
      }
      case "connfail": {
        const c = item.conn;
        const a = this.live(c.a, c.aGen);
        if (a === null || !c.aOpen) return;
        c.aOpen = false;
        a.handles.delete(c.aHandle);
        a.core!.closed(this.nowMs, c.aHandle);
        this.settle(a);
        return;
      }
      case "data": {
        const c = item.conn;
        if (c.broken || !this.sameSide(c.a, c.b)) {
          c.broken = true;
          return;
        }
        const p = item.toB ? this.live(c.b, c.bGen) : this.live(c.a, c.aGen);
        if (p === null || !(item.toB ? c.bOpen : c.aOpen)) return;
        p.core!.streamData(this.nowMs, item.toB ? c.bHandle : c.aHandle, item.bytes);
        this.settle(p);
        return;
      }
      case "fin": {
        const c = item.conn;
        if (c.broken || !this.sameSide(c.a, c.b)) return;
        const p = item.toB ? this.live(c.b, c.bGen) : this.live(c.a, c.aGen);
        if (p === null || !(item.toB ? c.bOpen : c.aOpen)) return;
        const handle = item.toB ? c.bHandle : c.aHandle;
        if (item.toB) c.bOpen = false;
        else c.aOpen = false;
        p.handles.delete(handle);
        p.core!.closed(this.nowMs, handle);
        this.settle(p);
        return;
      }
    }
  }

  private onSyn(c: Conn): void {
    const bPhone = this.phones[c.b];
    if (!this.sameSide(c.a, c.b)) {
      this.agenda.push({ atMs: this.nowMs + this.opts.connectTimeoutMs, seq: 0, kind: "connfail", conn: c });
      return;
    }
    if (!bPhone.alive) {
      // A powered-off phone never answers; the SYN times out.
      this.agenda.push({ atMs: this.nowMs + this.opts.connectTimeoutMs, seq: 0, kind: "connfail", conn: c });
      return;
    }
    const handle = bPhone.core!.accept(this.nowMs, addrOf(c.a));
    if (handle < 0) {
      this.agenda.push({ atMs: this.nowMs + this.delay(c.a, c.b), seq: 0, kind: "connfail", conn: c });
      return;
    }
    c.b = bPhone.index;
    c.bGen = bPhone.gen;
    c.bHandle = handle;
    c.bOpen = true;
    bPhone.handles.set(handle, c);
    this.settle(bPhone);
    this.agenda.push({ atMs: this.nowMs + this.delay(c.a, c.b), seq: 0, kind: "synack", conn: c });
  }

  /** After any call into a core: act on its outputs, re-arm its timer. */
  settle(p: SimPhone): void {
    this.stats.coreCalls++;
    const core = p.core;
    if (core === null) return;
    core.drain(p.sink);
    const due = core.nextDeadlineMs();
    if (due < p.timerAt) {
      p.timerAt = Math.max(due, this.nowMs);
      this.agenda.push({ atMs: p.timerAt, seq: 0, kind: "timer", phone: p.index, gen: p.gen });
    }
  }
}
