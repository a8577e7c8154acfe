// The virtual subnet: phones (real pfs.wasm cores) on one simulated LAN with
// a virtual clock. Datagrams (broadcast or unicast) suffer loss, duplication
// and per-link delay with jitter (which reorders them); streams are TCP-like:
// ordered, reliable and flow-controlled until a partition or a crash breaks
// them. With a load, each phone also has a LAN port of limited bandwidth and
// a flash device of limited speed, and roots fetch over a WAN modelled as
// TFTP (lockstep or windowed blocks, shared bandwidth). Nothing here reads a
// real clock; every random choice comes from the world's seed.

import { BROADCAST_ADDR, CoreConfig, Ev, Role } from "../core/abi.js";
import { CoreSink, PfsCore } from "../core/core.js";
import type { RelayFile } from "../load/blocklist.js";
import type { TraceRecorder } from "../trace/recorder.js";
import { Agenda } from "./queue.js";
import { Rng } from "./random.js";
import { newWan, startWanFetch, Wan, WanFetch, WanOptions, wanRound } from "./wan.js";

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

/** The physical figures of a run with a load. */
export interface RelayWorld {
  lanBitsPerSec: number;
  flashWriteBytesPerSec: number;
  flashReadBytesPerSec: number;
  wan: WanOptions;
}

export interface WorldOptions {
  seed: number;
  core: CoreConfig;
  /** A model's own core figures, where they differ from `core`. */
  coreOf?: (model: number) => CoreConfig;
  /** One-way LAN latency floor of one phone's port, ms; links add two ports. */
  portDelayMs: number;
  /** A connect to a silent peer fails after this long (a SYN timeout). */
  connectTimeoutMs: number;
  relay?: RelayWorld;
  /** Records the cores of the phones it wants (pfs trace record). */
  tracer?: TraceRecorder;
  /** The compiled core every phone runs (release or debug build); by default
   *  build/pfs.wasm. */
  module?: WebAssembly.Module;
}

/** Faults of the simulated flash, as probabilities per operation. */
export interface FlashFaults {
  /** A read for a child fails (reported with 0 bytes: the child is dropped
   *  and re-joins elsewhere). */
  readFail: number;
  /** A read brings one bit flipped: the child's block check catches it. */
  readFlip: number;
  /** A write fails (reported with a negative length, docs/ABI.md §7.3):
   *  the core asks for it again after a backoff. */
  writeFail: number;
}

/** Test-only ways to break a promise on purpose, so that a test can show the
 *  check that guards it firing (tests/sim/promises.test.ts). Each counts down
 *  the times it strikes; all are 0 (off) unless a test sets them. */
export interface Sabotage {
  /** DATA frames delivered twice: the child is offered bytes it holds
   *  (its core counts refetchedBytes). */
  dataTwice: number;
  /** Flash writes with a byte flipped on their way in (corruptHeld). */
  flashWriteFlip: number;
  /** Phones whose host fetches their file from the server itself when they
   *  join a tree, root or not (nonRootFetches). */
  fetchWhenJoined: number;
}

interface Segment {
  bytes: Uint8Array;
  /** How many of the last bytes were a zero-copy view (reported written). */
  refBytes: number;
}

export interface Conn {
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
  /** Bytes the receiver could not take yet (its ring was full), in order. */
  pendingToA: Segment[];
  pendingToB: Segment[];
  /** A DATA frame head waiting for its payload view (sent as one segment). */
  headToA: Uint8Array | null;
  headToB: Uint8Array | null;
}

export type EventObserver = (atMs: number, phone: number, xid: number, code: number, n: number, a: number, b: number) => void;

/** What a slot of a phone's core is relaying: for flash contents and checks. */
export interface SlotFile {
  xid: number;
  model: number;
  file: RelayFile;
}

export class SimPhone {
  core: PfsCore | null = null;
  alive = false;
  gen = 0;
  timerAt = Infinity;
  readonly handles = new Map<number, Conn>();
  /** Hierarchies the phone takes part in: xid -> core slot. */
  readonly slots = new Map<number, number>();
  /** Files being relayed, by core slot. */
  readonly slotFiles = new Map<number, SlotFile>();
  /** Conns with bytes waiting for this phone's ring. */
  readonly stalled = new Set<Conn>();
  /** Server fetches feeding this phone. */
  readonly fetches = new Map<number, WanFetch>();
  readonly sink: CoreSink;
  portFreeAtMs = 0;
  flashFreeAtMs = 0;
  /** Bytes this incarnation's core wrote to its flash. */
  flashBytesWritten = 0;
  /** A rogue flips a byte of every firmware chunk it sends. */
  rogue = false;
  /** onTimer calls into its cores: a core coalesces its links' timers, so
   *  about one per heartbeat however many links it has. */
  timerCalls = 0;
  /** Phones this incarnation caught sending bytes that failed their check
   *  (event CORRUPT), and when: its core avoids them (assembly/avoid.ts). */
  readonly caughtFrom = new Map<number, number>();
  /** Its flash is full: every write fails, and the core gives its files up. */
  flashFull = false;
  /** Files (xids) this incarnation's core gave up for its flash (event
   *  FLASH_FAILED with b = 1). */
  readonly gaveUp = new Set<number>();
  /** Per slot: bumped by a failed write, so the writes queued behind it are
   *  forgotten (the core asks for them again). */
  readonly flashEpoch = new Map<number, number>();

  constructor(readonly index: number, readonly addr: number, readonly model: number, world: World) {
    this.sink = world.sinkFor(this);
  }
}

type Item =
  | { atMs: number; seq: number; kind: "dgram"; to: number; toGen: number; from: number; bytes: Uint8Array; src?: number }
  | { atMs: number; seq: number; kind: "syn" | "synack" | "connfail"; conn: Conn }
  | { atMs: number; seq: number; kind: "data"; conn: Conn; toB: boolean; seg: Segment }
  | { atMs: number; seq: number; kind: "fin"; conn: Conn; toB: boolean }
  | { atMs: number; seq: number; kind: "wdone"; conn: Conn; toB: boolean; bytes: number }
  | { atMs: number; seq: number; kind: "flash"; phone: number; gen: number; slot: number; bytes: number; read: number; tag?: number; epoch?: number; fail?: boolean }
  | { atMs: number; seq: number; kind: "wan"; job: WanFetch }
  | { atMs: number; seq: number; kind: "timer"; phone: number; gen: number }
  | { atMs: number; seq: number; kind: "call"; fn: () => void };

/** A core asked for something its ABI rules out (docs/ABI.md §6): a write
 *  or close on a handle it does not hold, a fetch for a slot with no file.
 *  Like a trap, it fails the run (fleet.ts), naming phone and seed. */
export class CoreAbiError extends Error {}

/** The phone whose core an agenda item calls (-1: a scheduled call). */
function phoneOfItem(item: Item): number {
  switch (item.kind) {
    case "dgram": return item.to;
    case "timer": case "flash": return item.phone;
    case "wan": return item.job.phone;
    case "syn": return item.conn.b;
    case "synack": case "connfail": return item.conn.a;
    case "data": case "fin": return item.toB ? item.conn.b : item.conn.a;
    case "wdone": return item.toB ? item.conn.a : item.conn.b;
    default: return -1;
  }
}

/** The handle of a fetch the host makes for itself (Sabotage): its bytes go
 *  nowhere near the core. */
const HOST_OWN_FETCH = -1;

export interface WorldStats {
  datagramsSent: number;
  datagramsDelivered: number;
  datagramsLost: number;
  streamsOpened: number;
  streamBytes: number;
  coreCalls: number;
  events: number;
  /** The fullest any core's outbox was when drained: the board's outboxBytes
   *  must stay above it (pfs boards). */
  outboxPeakBytes: number;
  /** Outbox records the cores dropped for want of room (crashed cores too). */
  outboxDropped: number;
  /** Claimants that yielded while fetching tentatively (assembly/election.ts):
   *  each may have taken up to a file's bytes the WAN carries again. */
  tentativeYields: number;
  datagramsDuplicated: number;
  /** Simulated flash faults injected (FlashFaults). */
  flashReadFails: number;
  flashReadFlips: number;
  flashWriteFails: number;
}

/** What the relay measured (with a load). */
export interface RelayStats {
  /** Bytes the server sent, per model: the WAN's load. */
  wanBytes: number[];
  /** Of those, bytes a fetch had to skip (TFTP cannot start mid-file). */
  wanSkippedBytes: number;
  /** When the first server fetch was asked (the election's cost), ms; null: none. */
  firstFetchMs: number | null;
  /** Phones that fetched anything from the server. */
  serverContacts: Set<number>;
  /** Fetches asked by a phone that was not a confirmed root: must stay 0. */
  nonRootFetches: number;
  /** Bytes offered to a phone at offsets it already held checked (the
   *  cores count them; crashed cores' counts are kept here). */
  refetchedBytes: number;
  /** Bytes written to flash that differ from the real file: must stay 0. */
  corruptHeld: number;
  flashBytesWritten: number;
  fileDone: Map<number, Map<number, number>>;
  /** Bytes the server sent each phone, per xid (the watchers' `wan`). */
  wanByPhone: Map<number, Map<number, number>>;
}

export class World {
  nowMs = 0;
  readonly phones: SimPhone[] = [];
  readonly agenda = new Agenda<Item>();
  faults: LinkFaults = { loss: 0, dup: 0, jitterMs: 0 };
  flashFaults: FlashFaults = { readFail: 0, readFlip: 0, writeFail: 0 };
  readonly sabotage: Sabotage = { dataTwice: 0, flashWriteFlip: 0, fetchWhenJoined: 0 };
  /** The phone whose core was being called when a call threw (a trap). */
  trapPhone = -1;
  /** Partition group of each phone; phones talk only within one group. */
  group: number[] = [];
  /** Phones of each model: a datagram for a model's hierarchy only matters
   *  to phones of that model (the core drops unknown XIDs unread anyway). */
  private byXid = new Map<number, Set<number>>();
  private portDelayMs: number[] = [];
  readonly rng: Rng;
  private readonly netRng: Rng;
  observer: EventObserver | null = null;
  readonly stats: WorldStats = { datagramsSent: 0, datagramsDelivered: 0, datagramsLost: 0, streamsOpened: 0, streamBytes: 0, coreCalls: 0, events: 0, outboxPeakBytes: 0, outboxDropped: 0, tentativeYields: 0,
    datagramsDuplicated: 0, flashReadFails: 0, flashReadFlips: 0, flashWriteFails: 0 };
  readonly relay: RelayStats = {
    wanBytes: [], wanSkippedBytes: 0, firstFetchMs: null, serverContacts: new Set(), nonRootFetches: 0, refetchedBytes: 0, corruptHeld: 0, flashBytesWritten: 0, fileDone: new Map(), wanByPhone: new Map(),
  };
  /** The xid each server fetch is for (wanByPhone). */
  private readonly wanXid = new WeakMap<WanFetch, number>();
  readonly eventCounts = new Map<number, number>();
  /** Active server fetches; they queue for the one WAN link. */
  readonly wanJobs = new Set<WanFetch>();
  /** The WAN link, its meter and budget (wan.ts). */
  readonly wan: Wan | null;

  constructor(readonly opts: WorldOptions) {
    this.rng = Rng.derive(opts.seed, "world");
    this.netRng = Rng.derive(opts.seed, "net");
    this.flashRng = Rng.derive(opts.seed, "flash");
    this.wan = opts.relay === undefined ? null : newWan(opts.relay.wan);
  }

  private readonly flashRng: Rng;

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
    p.stalled.clear();
    for (const job of p.fetches.values()) this.wanJobs.delete(job);
    p.fetches.clear();
    for (const xid of p.slots.keys()) this.byXid.get(xid)?.delete(p.index);
    p.slots.clear();
    p.slotFiles.clear();
    p.caughtFrom.clear(); // a new core starts with an empty avoid list
    p.gaveUp.clear();
    p.flashEpoch.clear();
    p.flashBytesWritten = 0;
    const figures = this.opts.coreOf?.(p.model) ?? this.opts.core;
    p.core = new PfsCore({ ...figures, selfAddr: p.addr, seed: this.rng.u32() || 1 }, this.opts.module, this.opts.tracer?.tapFor(p.index) ?? null);
  }

  /** Registers that phone `p` needs (model, file); returns the xid. With a
   *  relay file, the core relays its bytes (flags carry the mode). */
  need(p: SimPhone, model: string, file: string, sizeBytes: number, heldBytes = 0, flags = 0, relay?: RelayFile): number {
    const core = p.core!;
    const slot = core.need(this.nowMs, model, file, sizeBytes, heldBytes, flags, relay?.listSha256);
    if (slot < 0) throw new Error(`phone ${p.index}: core refused need() (${slot})`);
    const xid = core.xidOf(model, file);
    p.slots.set(xid, slot);
    if (relay !== undefined) p.slotFiles.set(slot, { xid, model: p.model, file: relay });
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
    p.stalled.clear();
    for (const job of p.fetches.values()) this.wanJobs.delete(job);
    p.fetches.clear();
    if (p.core !== null) {
      this.relay.refetchedBytes += p.core.x.refetchedBytes() >>> 0;
      this.stats.outboxDropped += p.core.x.outboxDroppedRecords() >>> 0;
    }
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

  /** Phone-and-XID keys of claimants fetching while they claim. */
  private readonly tentative = new Set<string>();

  private noteTentative(p: SimPhone, xid: number, code: number, n: number): void {
    const key = `${p.index}:${xid}`;
    if (code === Ev.Fetch && n === 1) this.tentative.add(key);
    else if (code === Ev.ConfirmedRoot) this.tentative.delete(key);
    else if (code === Ev.Yield && this.tentative.delete(key)) this.stats.tentativeYields++;
  }

  sinkFor(p: SimPhone): CoreSink {
    return {
      datagram: (dst, bytes) => this.sendDatagram(p, dst, bytes),
      connect: (handle, addr) => this.connect(p, handle, addr),
      write: (handle, bytes) => this.write(p, handle, bytes, false),
      writeRef: (handle, bytes) => this.write(p, handle, bytes, true),
      close: (handle) => this.close(p, handle),
      event: (xid, code, n, a, b) => {
        this.stats.events++;
        this.eventCounts.set(code, (this.eventCounts.get(code) ?? 0) + 1);
        if (code === 6 /* Joined */ && this.sabotage.fetchWhenJoined > 0 && p.slots.has(xid >>> 0)) {
          this.sabotage.fetchWhenJoined--;
          const slot = p.slots.get(xid >>> 0)!;
          this.fetch(p, slot, HOST_OWN_FETCH, 0, p.core!.x.hierTotal(slot));
        }
        this.noteTentative(p, xid >>> 0, code, n);
        if (code === 17 /* Corrupt */ && (a >>> 0) !== 0) p.caughtFrom.set(indexOf(a >>> 0), this.nowMs);
        if (code === 20 /* FlashFailed */ && b === 1) p.gaveUp.add(xid >>> 0);
        if (code === 16 /* FileDone */) {
          let m = this.relay.fileDone.get(p.index);
          if (m === undefined) this.relay.fileDone.set(p.index, (m = new Map()));
          if (!m.has(xid >>> 0)) m.set(xid >>> 0, this.nowMs);
        }
        if (this.observer !== null) this.observer(this.nowMs, p.index, xid >>> 0, code, n, a >>> 0, b >>> 0);
      },
      fetch: (slot, handle, from, total) => this.fetch(p, slot, handle, from, total),
      flashWrite: (slot, offset, bytes) => this.flashWrite(p, slot, offset, bytes),
      flashRead: (slot, offset, into, handle, tag) => this.flashRead(p, slot, offset, into, handle, tag),
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
    if (copies === 2) this.stats.datagramsDuplicated++;
    for (let i = 0; i < copies; i++) {
      this.agenda.push({ atMs: this.nowMs + this.delay(from, to), seq: 0, kind: "dgram", to, toGen: this.phones[to].gen, from, bytes });
    }
  }

  /** A datagram from an address that is no phone (a forger, sim/forger.ts),
   *  broadcast to the phones of its XID with the fault phase's loss; a
   *  connect to that address never gets an answer. */
  forgeDatagram(src: number, bytes: Uint8Array): void {
    this.stats.datagramsSent++;
    const xid = bytes.length >= 8 ? ((bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7]) >>> 0 : -1;
    for (const q of this.byXid.get(xid) ?? []) {
      if (this.netRng.chance(this.faults.loss)) {
        this.stats.datagramsLost++;
        continue;
      }
      this.agenda.push({ atMs: this.nowMs + 2 * this.portDelayMs[q], seq: 0, kind: "dgram", to: q, toGen: this.phones[q].gen, from: q, bytes, src });
    }
  }

  private connect(p: SimPhone, handle: number, addr: number): void {
    const b = indexOf(addr);
    const conn: Conn = {
      a: p.index, aGen: p.gen, aHandle: handle, b, bGen: -1, bHandle: -1,
      aOpen: true, bOpen: false, broken: false, lastToA: 0, lastToB: 0,
      pendingToA: [], pendingToB: [], headToA: null, headToB: null,
    };
    p.handles.set(handle, conn);
    this.stats.streamsOpened++;
    if (b < 0 || b >= this.phones.length) {
      this.agenda.push({ atMs: this.nowMs + this.opts.connectTimeoutMs, seq: 0, kind: "connfail", conn });
      return;
    }
    this.agenda.push({ atMs: this.nowMs + this.delay(p.index, b), seq: 0, kind: "syn", conn });
  }

  private write(p: SimPhone, handle: number, view: Uint8Array, isRef: boolean): void {
    const conn = p.handles.get(handle);
    if (conn === undefined) throw new CoreAbiError(`phone ${p.index} wrote on unknown handle ${handle}`);
    const toB = conn.a === p.index && conn.aHandle === handle && conn.aGen === p.gen;
    if (!isRef && view.length === 7 && view[2] === 0x15) {
      // A DATA head: it travels with the payload view that follows at once.
      if (toB) conn.headToB = view.slice();
      else conn.headToA = view.slice();
      return;
    }
    const head = toB ? conn.headToB : conn.headToA;
    if (toB) conn.headToB = null;
    else conn.headToA = null;
    if (conn.broken || !(toB ? conn.bOpen || conn.bHandle === -1 : conn.aOpen)) {
      // Nobody will read it: the view is free at once.
      if (isRef) this.agenda.push({ atMs: this.nowMs, seq: 0, kind: "wdone", conn, toB, bytes: view.length });
      return;
    }
    if (!this.sameSide(conn.a, conn.b)) {
      conn.broken = true;
      return;
    }
    const bytes = new Uint8Array((head?.length ?? 0) + view.length);
    if (head !== null) bytes.set(head, 0);
    bytes.set(view, head?.length ?? 0);
    if (isRef && p.rogue && view.length > 0) bytes[bytes.length - 1] ^= 0x5a; // a rogue's bad byte
    this.stats.streamBytes += bytes.length;
    const atMs = this.nextSegmentMs(p, conn, toB, bytes.length);
    this.agenda.push({ atMs, seq: 0, kind: "data", conn, toB, seg: { bytes, refBytes: isRef ? view.length : 0 } });
    if (head !== null && this.sabotage.dataTwice > 0) {
      // Sabotage: the frame again, right behind itself (its view is reported once).
      this.sabotage.dataTwice--;
      this.agenda.push({ atMs: this.nextSegmentMs(p, conn, toB, bytes.length), seq: 0, kind: "data", conn, toB, seg: { bytes: bytes.slice(), refBytes: 0 } });
    }
  }

  /** When a segment from `p` arrives: after its port has sent it (LAN
   *  bandwidth), after the link's latency, and never before the previous
   *  segment on that connection. */
  private nextSegmentMs(p: SimPhone, conn: Conn, toB: boolean, bytes: number): number {
    let sentMs = this.nowMs;
    const lan = this.opts.relay?.lanBitsPerSec;
    if (lan !== undefined) {
      sentMs = Math.max(this.nowMs, p.portFreeAtMs) + (bytes * 8 * 1000) / lan;
      p.portFreeAtMs = sentMs;
    }
    const t = Math.max(sentMs + this.delay(conn.a, conn.b), toB ? conn.lastToB : conn.lastToA);
    if (toB) conn.lastToB = t;
    else conn.lastToA = t;
    return t;
  }

  private close(p: SimPhone, handle: number): void {
    const job = p.fetches.get(handle);
    if (job !== undefined) {
      // The core ended a server fetch (it merged, or caught bad bytes).
      p.fetches.delete(handle);
      this.wanJobs.delete(job);
      job.cancelled = true;
      return;
    }
    const conn = p.handles.get(handle);
    if (conn === undefined) throw new CoreAbiError(`phone ${p.index} closed unknown handle ${handle}`);
    p.handles.delete(handle);
    p.stalled.delete(conn);
    const isA = conn.a === p.index && conn.aHandle === handle && conn.aGen === p.gen;
    if (isA) conn.aOpen = false;
    else conn.bOpen = false;
    this.sendFin(conn, isA);
  }

  private sendFin(conn: Conn, toB: boolean): void {
    if (conn.broken || !this.sameSide(conn.a, conn.b)) return;
    const t = Math.max(this.nowMs + this.delay(conn.a, conn.b), toB ? conn.lastToB : conn.lastToA);
    if (toB) conn.lastToB = t;
    else conn.lastToA = t;
    this.agenda.push({ atMs: t, seq: 0, kind: "fin", conn, toB });
  }

  // ------------------------------------------------------------ flash and server

  private flashWrite(p: SimPhone, slot: number, offset: number, view: Uint8Array): void {
    const relay = this.opts.relay!;
    const sf = p.slotFiles.get(slot);
    // The checker of checkers: what reaches flash must be the real file.
    const want = sf?.file.stream.subarray(offset, offset + view.length);
    if (this.sabotage.flashWriteFlip > 0 && view.length > 0) {
      // Sabotage: what lands in flash is not what the core wrote.
      this.sabotage.flashWriteFlip--;
      view = view.slice();
      view[0] ^= 1;
    }
    if (want === undefined || want.length !== view.length || Buffer.compare(want, view) !== 0) this.relay.corruptHeld += view.length;
    this.relay.flashBytesWritten += view.length;
    p.flashBytesWritten += view.length;
    const start = Math.max(this.nowMs, p.flashFreeAtMs);
    p.flashFreeAtMs = start + (view.length * 1000) / relay.flashWriteBytesPerSec;
    const fail = p.flashFull || (view.length > 0 && this.flashRng.chance(this.flashFaults.writeFail));
    if (fail) this.stats.flashWriteFails++;
    this.agenda.push({ atMs: p.flashFreeAtMs, seq: 0, kind: "flash", phone: p.index, gen: p.gen, slot, bytes: view.length, read: -1, epoch: p.flashEpoch.get(slot) ?? 0, fail });
  }

  private flashRead(p: SimPhone, slot: number, offset: number, into: Uint8Array, handle: number, tag: number): void {
    const relay = this.opts.relay!;
    const sf = p.slotFiles.get(slot);
    const src = sf?.file.stream.subarray(offset, offset + into.length);
    let n = src === undefined ? 0 : src.length;
    if (src !== undefined) into.set(src);
    if (n > 0 && this.flashRng.chance(this.flashFaults.readFail)) {
      this.stats.flashReadFails++;
      n = 0; // the read failed: reported as 0 bytes
    } else if (n > 0 && this.flashRng.chance(this.flashFaults.readFlip)) {
      this.stats.flashReadFlips++;
      into[this.flashRng.int(0, n - 1)] ^= 1 << this.flashRng.int(0, 7);
    }
    const start = Math.max(this.nowMs, p.flashFreeAtMs);
    p.flashFreeAtMs = start + (n * 1000) / relay.flashReadBytesPerSec;
    this.agenda.push({ atMs: p.flashFreeAtMs, seq: 0, kind: "flash", phone: p.index, gen: p.gen, slot, bytes: n, read: handle, tag });
  }

  private fetch(p: SimPhone, slot: number, handle: number, from: number, total: number): void {
    const sf = p.slotFiles.get(slot);
    if (sf === undefined || this.opts.relay === undefined) throw new CoreAbiError(`phone ${p.index}: fetch for a slot without a file`);
    this.relay.serverContacts.add(p.index);
    // Only a root (or a direct fetcher, also a root) may go to the server, or
    // a first claimant fetching while it claims (assembly/election.ts).
    const role = p.core!.x.hierRole(slot);
    if (role !== Role.Root && role !== Role.Claiming) this.relay.nonRootFetches++;
    this.relay.firstFetchMs ??= this.nowMs;
    const job = startWanFetch(p.index, p.gen, handle, sf.model, sf.file.stream.subarray(0, total), sf.file.list.length, from, this.opts.relay.wan.source);
    p.fetches.set(handle, job);
    this.wanXid.set(job, sf.xid);
    this.wanJobs.add(job);
    this.scheduleWan(job);
  }

  private scheduleWan(job: WanFetch): void {
    const atMs = wanRound(job, this.opts.relay!.wan, this.wan!, this.nowMs, this.rootsFetching());
    this.agenda.push({ atMs, seq: 0, kind: "wan", job });
  }

  /** The phones with a server fetch open now: the budget's share (only
   *  counted when there is a budget; a handful of roots in a fleet). */
  private rootsFetching(): number {
    if (this.wan?.budget === null) return 1;
    const phones = new Set<number>();
    for (const job of this.wanJobs) phones.add(job.phone);
    return Math.max(1, phones.size);
  }

  /** One TFTP round arrived at the root's host: skip what precedes the
   *  resume point, hand the rest to the core (as far as it takes it). */
  private onWan(job: WanFetch): void {
    const p = this.phones[job.phone];
    if (job.cancelled || !p.alive || p.gen !== job.gen) return;
    const chunk = job.stream.subarray(job.pos, job.pos + job.roundBytes);
    job.pos += chunk.length;
    this.relay.wanBytes[job.model] = (this.relay.wanBytes[job.model] ?? 0) + chunk.length;
    const xid = this.wanXid.get(job);
    if (xid !== undefined) {
      let byXid = this.relay.wanByPhone.get(job.phone);
      if (byXid === undefined) this.relay.wanByPhone.set(job.phone, (byXid = new Map()));
      byXid.set(xid, (byXid.get(xid) ?? 0) + chunk.length);
    }
    const skipTo = Math.max(0, Math.min(chunk.length, job.from - (job.pos - chunk.length)));
    this.relay.wanSkippedBytes += skipTo;
    job.pending = chunk.subarray(skipTo);
    this.feedWan(p, job);
  }

  private feedWan(p: SimPhone, job: WanFetch): void {
    if (job.pending !== null && job.pending.length > 0) {
      const took = job.handle === HOST_OWN_FETCH ? job.pending.length : p.core!.streamData(this.nowMs, job.handle, job.pending);
      job.pending = job.pending.subarray(took);
      this.settle(p);
      if (job.cancelled || !p.alive) return;
      if (job.pending.length > 0) return; // the ring is full: the ACK waits
    }
    job.pending = null;
    if (job.pos >= job.stream.length) {
      p.fetches.delete(job.handle);
      this.wanJobs.delete(job);
      if (job.handle === HOST_OWN_FETCH) return;
      p.core!.closed(this.nowMs, job.handle); // the transfer's last block
      this.settle(p);
      return;
    }
    this.scheduleWan(job);
  }

  // ------------------------------------------------------------ running

  /** Runs events until virtual time `untilMs` (inclusive) or the agenda empties. */
  runUntil(untilMs: number): void {
    while (this.agenda.peekMs() <= untilMs) {
      const item = this.agenda.pop()!;
      this.nowMs = item.atMs;
      try {
        this.dispatch(item);
      } catch (e) {
        this.trapPhone = phoneOfItem(item);
        throw e;
      }
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
        p.timerCalls++;
        p.core!.timer(this.nowMs);
        this.settle(p);
        return;
      }
      case "dgram": {
        const p = this.live(item.to, item.toGen);
        // A forged datagram (src set) comes from no phone, so from every side.
        if (p === null || (item.src === undefined && !this.sameSide(item.from, item.to))) return;
        this.stats.datagramsDelivered++;
        p.core!.datagram(this.nowMs, item.src ?? addrOf(item.from), item.bytes);
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
        const queue = item.toB ? c.pendingToB : c.pendingToA;
        queue.push(item.seg);
        if (queue.length === 1) this.feedConn(p, c, item.toB);
        return;
      }
      case "wdone": {
        const c = item.conn;
        const p = item.toB ? this.live(c.a, c.aGen) : this.live(c.b, c.bGen);
        if (p === null || !(item.toB ? c.aOpen : c.bOpen)) return;
        p.core!.writeDone(this.nowMs, item.toB ? c.aHandle : c.bHandle, item.bytes);
        this.settle(p);
        return;
      }
      case "flash": {
        const p = this.live(item.phone, item.gen);
        if (p === null) return;
        if (item.read >= 0) p.core!.flashRead(this.nowMs, item.read, item.tag ?? 0, item.bytes);
        else if (item.epoch !== (p.flashEpoch.get(item.slot) ?? 0)) return; // behind a failed write: forgotten
        else if (item.fail) {
          // The writes from the flash offset on failed; those queued behind
          // this one are forgotten (docs/ABI.md §7.3).
          p.flashEpoch.set(item.slot, (item.epoch ?? 0) + 1);
          p.core!.flashWritten(this.nowMs, item.slot, -1);
        } else p.core!.flashWritten(this.nowMs, item.slot, item.bytes);
        this.settle(p);
        return;
      }
      case "wan":
        this.onWan(item.job);
        return;
      case "fin": {
        const c = item.conn;
        if (c.broken || !this.sameSide(c.a, c.b)) return;
        const p = item.toB ? this.live(c.b, c.bGen) : this.live(c.a, c.aGen);
        if (p === null || !(item.toB ? c.bOpen : c.aOpen)) return;
        const handle = item.toB ? c.bHandle : c.aHandle;
        if (item.toB) c.bOpen = false;
        else c.aOpen = false;
        p.handles.delete(handle);
        p.stalled.delete(c);
        p.core!.closed(this.nowMs, handle);
        this.settle(p);
        return;
      }
    }
  }

  /** Hands queued segments to phone `p` as far as its core takes them; a
   *  segment taken whole frees its sender's view (reported after the ack's
   *  way back). */
  private feedConn(p: SimPhone, c: Conn, toB: boolean): void {
    const queue = toB ? c.pendingToB : c.pendingToA;
    const handle = toB ? c.bHandle : c.aHandle;
    while (queue.length > 0) {
      if (!(toB ? c.bOpen : c.aOpen) || !p.alive) {
        queue.length = 0;
        break;
      }
      const seg = queue[0];
      const took = p.core!.streamData(this.nowMs, handle, seg.bytes);
      if (took < seg.bytes.length) {
        seg.bytes = seg.bytes.subarray(took);
        p.stalled.add(c);
        this.settle(p);
        return;
      }
      queue.shift();
      if (seg.refBytes > 0) {
        this.agenda.push({ atMs: this.nowMs + this.delay(c.a, c.b), seq: 0, kind: "wdone", conn: c, toB, bytes: seg.refBytes });
      }
    }
    p.stalled.delete(c);
    this.settle(p);
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

  /** After any call into a core: act on its outputs, retry stalled streams
   *  and fetches, re-arm its timer. */
  settle(p: SimPhone): void {
    this.stats.coreCalls++;
    const core = p.core;
    if (core === null) return;
    const used = core.x.outboxLen();
    if (used > this.stats.outboxPeakBytes) this.stats.outboxPeakBytes = used;
    core.drain(p.sink);
    if (p.stalled.size > 0 || p.fetches.size > 0) this.retryStalled(p);
    if (p.core === null) return;
    const due = p.core.nextDeadlineMs();
    if (due < p.timerAt) {
      p.timerAt = Math.max(due, this.nowMs);
      this.agenda.push({ atMs: p.timerAt, seq: 0, kind: "timer", phone: p.index, gen: p.gen });
    }
  }

  private retrying = false;

  private retryStalled(p: SimPhone): void {
    if (this.retrying) return; // feeding calls settle(); one pass at a time
    this.retrying = true;
    try {
      for (const c of [...p.stalled]) {
        const toB = c.b === p.index && c.bGen === p.gen;
        const queue = toB ? c.pendingToB : c.pendingToA;
        if (queue.length === 0) {
          p.stalled.delete(c);
          continue;
        }
        const room = p.core!.x.rxWindow(toB ? c.bHandle : c.aHandle);
        if (room > 0) this.feedConn(p, c, toB);
      }
      for (const job of [...p.fetches.values()]) {
        if (job.pending !== null && job.pending.length > 0 && p.core !== null && p.core.x.rxWindow(job.handle) > 0) this.feedWan(p, job);
      }
    } finally {
      this.retrying = false;
    }
  }
}
