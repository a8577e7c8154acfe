// A phone's PFS core on real sockets: UDP on the PFS port for election and
// discovery (unicast from its own address, broadcasts received on a shared
// socket bound to the subnet's broadcast address), TCP on the same port for
// tree links. The core decides everything; this file only carries bytes and
// time between it and the OS:
//   - datagrams out and in; streams opened, fed and closed;
//   - zero-copy sends: a view of core memory goes to socket.write, and the
//     core hears when Node is done with it (onWriteDone);
//   - flow control: when the core's ring is full it takes fewer bytes than
//     offered, the socket is paused, and resumed once the core takes more;
//   - timers: one setTimeout at the core's next deadline.
// Server fetches and flash go to the adapters the phone supplies.

import { createSocket, Socket as UdpSocket } from "node:dgram";
import { createServer, Server, Socket, SocketConstructorOpts } from "node:net";
import { BROADCAST_ADDR, CoreConfig } from "../core/abi.js";
import { CoreSink, PfsCore } from "../core/core.js";
import { AcceptGate, acceptLimits } from "./accept-gate.js";
import { ipToU32, u32ToIp } from "./addr.js";
import { SentCounts } from "./sent-counts.js";

/** The PFS port: UDP and TCP (IANA "cppdp"; the technote's console log). */
export const PFS_PORT = 4051;

/** Drain-and-refeed passes per call; each pass moves bytes or stops. */
const MAX_SETTLE_ROUNDS = 16;
/** What a stream socket we opened reads at a time, into one buffer this host
 *  reuses for every such socket (net.Socket's onread): no Buffer and no
 *  stream events per read. 64 KiB is libuv's own read size. Accepted sockets
 *  cannot take onread (net.Server has no such option), but they carry UP and
 *  JOIN only; DATA flows to the side that connected (docs/PROTOCOL.md §2). */
const READ_BYTES = 65536;
/** Connections the kernel queues for us before it drops SYNs. Node's 511
 *  fills in a few ms of a connection flood, and a real joiner whose SYN is
 *  dropped waits 1, 3, 7 s... to try again; the kernel caps this at
 *  net.core.somaxconn (4096 on this machine). We accept as fast as the
 *  queue fills and close what the gate refuses, so the queue stays short. */
const LISTEN_BACKLOG = 4096;
/** After the core closes a stream we send what it queued and a FIN, and
 *  wait this long for the peer's FIN before resetting: a peer that never
 *  closes its side must not hold a descriptor for ever. */
const CLOSE_LINGER_MS = 2_000;
/** Accepted sockets beyond what the core's stream table holds never get a
 *  handle; past this many the listener refuses them before any of our code
 *  runs (net.Server maxConnections). Counted as a multiple of maxStreams so
 *  that sockets lingering after a close (above) have room. */
const MAX_CONNECTIONS_PER_STREAM = 2;

/** Where a root's server bytes come from: stream [from, total) of a slot's
 *  list-then-file into `sink`, resolving when it is all delivered. `sink`
 *  resolves once the core has taken the chunk (back-pressure). */
export interface ServerFetcher {
  fetch(slot: number, from: number, total: number, sink: (chunk: Uint8Array) => Promise<void>, signal: AbortSignal): Promise<void>;
}

/** Where a slot's transfer lives in flash (list, then file). */
export interface SlotFlash {
  write(slot: number, offset: number, bytes: Uint8Array): Promise<void> | void;
  /** Fills `into` from the slot's transfer space; returns bytes read (0 on error). */
  read(slot: number, offset: number, into: Uint8Array): number;
}

export interface PeerHostOptions {
  bind: string;
  broadcast: string;
  port: number;
  core: CoreConfig;
  seed: number;
  fetcher: ServerFetcher;
  flash: SlotFlash;
  onEvent?: (xid: number, code: number, n: number, a: number, b: number) => void;
  /** Shown every datagram before the core takes it (the WAN budget hears
   *  the other roots' ROOT_ADs here: host/wan/root-ads.ts). */
  onDatagram?: (src: number, msg: Uint8Array) => void;
  log?: (line: string) => void;
  /** A call into the core threw (a trap: a bug). The host stops calling
   *  it; without this handler the error is thrown on. */
  onError?: (e: Error) => void;
}

interface Stream {
  socket: Socket;
  /** Bytes received that the core has not taken yet (its ring was full). */
  pending: Uint8Array[];
  paused: boolean;
  closedByCore: boolean;
}

export class PeerHost {
  readonly core: PfsCore;
  readonly self: number;
  private udp: UdpSocket | null = null;
  private bcast: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly streams = new Map<number, Stream>();
  private readonly fetches = new Map<number, { abort: AbortController; waiting: Array<() => void>; pending: Uint8Array | null }>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private readonly started = Date.now();
  private closed = false;
  private readonly sink: CoreSink;
  /** Sockets written to during the current call, uncorked at its end. */
  private readonly corked = new Set<Socket>();
  /** Where every socket we connected reads into; taken at once each time. */
  private readonly readBuf = Buffer.allocUnsafe(READ_BYTES);
  /** Per-source limits on accepted connections (./accept-gate.ts). */
  readonly gate: AcceptGate;
  /** What a call into the core threw, once it has; nothing runs after. */
  failure: Error | null = null;
  /** Datagrams and frames the OS took from us, by type (./sent-counts.ts). */
  readonly sent = new SentCounts();

  constructor(readonly opts: PeerHostOptions) {
    this.self = ipToU32(opts.bind);
    this.core = new PfsCore({ ...opts.core, selfAddr: this.self, seed: opts.seed || 1 });
    this.gate = new AcceptGate(acceptLimits(opts.core.maxHierarchies ?? 1));
    this.sink = {
      datagram: (dst, bytes) => this.sendDatagram(dst, bytes),
      connect: (handle, addr) => this.connect(handle, addr),
      write: (handle, bytes) => this.write(handle, bytes.slice(), false),
      writeRef: (handle, bytes) => this.write(handle, bytes, true),
      close: (handle) => this.closeStream(handle),
      event: (xid, code, n, a, b) => this.opts.onEvent?.(xid >>> 0, code, n, a >>> 0, b >>> 0),
      fetch: (slot, handle, from, total) => this.startFetch(slot, handle, from, total),
      flashWrite: (slot, offset, bytes) => this.flashWrite(slot, offset, bytes),
      flashRead: (slot, offset, into, handle, tag) => {
        // Synchronous reads: the flash adapter fills core memory now, and the
        // core hears of it on the next turn (never from inside a drain).
        const n = this.opts.flash.read(slot, offset, into);
        queueMicrotask(() => this.call(() => this.core.flashRead(this.now(), handle, tag, n)));
      },
    };
  }

  /** Milliseconds since this host started: the core's clock. */
  now(): number {
    return Date.now() - this.started;
  }

  /** Opens the sockets; if one cannot be opened (the port taken, the
   *  address not ours), closes those that were, then throws: a UDP socket
   *  left open would keep a failed phone's process alive for ever. */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async open(): Promise<void> {
    const { bind, broadcast, port } = this.opts;
    this.udp = createSocket({ type: "udp4", reuseAddr: true });
    this.udp.on("message", (msg, rinfo) => this.onDatagram(msg, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      this.udp!.once("error", reject);
      this.udp!.bind(port, bind, () => resolve());
    });
    this.udp.setBroadcast(true);
    this.bcast = createSocket({ type: "udp4", reuseAddr: true });
    this.bcast.on("message", (msg, rinfo) => this.onDatagram(msg, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      this.bcast!.once("error", reject);
      this.bcast!.bind(port, broadcast, () => resolve());
    });
    this.tcp = createServer((socket) => this.onAccept(socket));
    this.tcp.maxConnections = MAX_CONNECTIONS_PER_STREAM * (this.opts.core.maxStreams ?? this.core.x.hierCapacity() * 5);
    await new Promise<void>((resolve, reject) => {
      this.tcp!.once("error", reject);
      this.tcp!.listen({ port, host: bind, backlog: LISTEN_BACKLOG }, () => resolve());
    });
    this.opts.log?.(`+++ Listening on peer TCP port ${port} at ${bind}, UDP ${bind} and ${broadcast}`);
  }

  /** Runs `fn` against the core, then acts on whatever it asked for. */
  call<T>(fn: () => T): T {
    if (this.closed) return undefined as T;
    try {
      const r = fn();
      // Draining may free ring room; feeding waiting bytes may ask for more.
      for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
        this.core.drain(this.sink);
        if (!this.retryPending()) break;
      }
      for (const socket of this.corked) socket.uncork();
      this.corked.clear();
      this.arm();
      return r;
    } catch (e) {
      // Most calls come from socket and timer callbacks, where a throw would
      // end the process with a stack trace: hand it to the phone instead.
      if (this.opts.onError === undefined) throw e;
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return undefined as T;
    }
  }

  private fail(e: Error): void {
    if (this.failure !== null) return;
    this.failure = e;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.opts.onError?.(e);
  }

  private arm(): void {
    const due = this.core.nextDeadlineMs();
    if (due >= this.timerAt && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = due;
    if (!Number.isFinite(due)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.call(() => this.core.timer(this.now()));
    }, Math.max(0, due - this.now()));
  }

  // ------------------------------------------------------------ datagrams

  private onDatagram(msg: Buffer, from: string): void {
    let src: number;
    try {
      src = ipToU32(from);
    } catch {
      return;
    }
    this.opts.onDatagram?.(src, msg);
    this.call(() => this.core.datagram(this.now(), src, msg));
  }

  private sendDatagram(dst: number, view: Uint8Array): void {
    const to = (dst >>> 0) === BROADCAST_ADDR ? this.opts.broadcast : u32ToIp(dst);
    const type = SentCounts.datagramType(view);
    // Counted once the OS has taken it: what a capture can see.
    this.udp?.send(Buffer.from(view), this.opts.port, to, (err) => {
      if (err === null) this.sent.add("udp", type);
    });
  }

  /** Every datagram and frame sent so far, by `"udp ROOT_AD"`-style key. */
  sentCounts(): Record<string, number> {
    return this.sent.snapshot();
  }

  // ------------------------------------------------------------ streams

  /** A connection to our port. It reaches the core only when the gate
   *  admits its source and the core has a handle for it; otherwise it is
   *  closed at once, unread, so a flood of connections costs a descriptor
   *  for one turn of the loop each and nothing more. */
  private onAccept(socket: Socket): void {
    let peer: number;
    try {
      peer = ipToU32(socket.remoteAddress?.replace(/^::ffff:/, "") ?? "");
    } catch {
      socket.destroy();
      return;
    }
    if (this.closed || this.gate.admit(peer, this.now()) !== "ok") {
      socket.destroy();
      return;
    }
    socket.once("close", () => this.gate.release(peer));
    const handle = this.call(() => this.core.accept(this.now(), peer));
    if (!(handle >= 0)) {
      socket.destroy();
      return;
    }
    this.adopt(handle, socket);
  }

  private connect(handle: number, addr: number): void {
    let s: Stream | undefined;
    // Node's Socket constructor takes onread (net.connect passes its options
    // through); its types declare it on connect's options only.
    const socket = new Socket(<SocketConstructorOpts>{
      onread: {
        buffer: this.readBuf,
        callback: (n: number) => {
          if (s !== undefined && this.streams.get(handle) === s) this.received(handle, s, this.readBuf.subarray(0, n), false);
        },
      },
    });
    s = this.adopt(handle, socket, false);
    socket.connect({ host: u32ToIp(addr), port: this.opts.port, localAddress: this.opts.bind }, () => {
      if (this.streams.get(handle)?.socket === socket) this.call(() => this.core.connected(this.now(), handle));
    });
  }

  /** `events`: the socket reads through 'data' events (accepted sockets)
   *  rather than onread (the caller wires that to received()). */
  private adopt(handle: number, socket: Socket, events = true): Stream {
    socket.setNoDelay(true);
    const s: Stream = { socket, pending: [], paused: false, closedByCore: false };
    this.streams.set(handle, s);
    if (events) {
      socket.on("data", (chunk: Buffer) => {
        if (this.streams.get(handle) === s) this.received(handle, s, chunk, true);
      });
    }
    const gone = () => {
      if (this.streams.get(handle) !== s) return;
      this.streams.delete(handle);
      if (!s.closedByCore) this.call(() => this.core.closed(this.now(), handle));
    };
    socket.on("close", gone);
    socket.on("error", () => socket.destroy());
    return s;
  }

  /** Bytes read from a stream. `owned`: the chunk is ours to keep; else it
   *  is the shared read buffer, and what the core does not take now is
   *  copied before this returns. */
  private received(handle: number, s: Stream, chunk: Uint8Array, owned: boolean): void {
    if (s.pending.length > 0) {
      // Behind bytes that already wait for ring room (the socket is paused;
      // a read was under way): keep the order.
      s.pending.push(owned ? chunk : Uint8Array.prototype.slice.call(chunk));
      return;
    }
    this.call(() => {
      const took = this.core.streamData(this.now(), handle, chunk);
      if (took === chunk.length || this.streams.get(handle) !== s) return;
      const rest = chunk.subarray(took);
      // A copy (Buffer#slice would be a view): the next read of any socket
      // we connected, not only this paused one, overwrites readBuf.
      s.pending.push(owned ? rest : Uint8Array.prototype.slice.call(rest));
      if (!s.paused) {
        s.socket.pause();
        s.paused = true;
      }
    });
  }

  /** Offers queued bytes to the core; pauses the socket when its ring is full. */
  private feed(handle: number, s: Stream): void {
    while (s.pending.length > 0) {
      const chunk = s.pending[0];
      const took = this.core.streamData(this.now(), handle, chunk);
      if (this.streams.get(handle) !== s) return; // the core closed it
      if (took < chunk.length) {
        s.pending[0] = chunk.subarray(took);
        if (!s.paused) {
          s.socket.pause();
          s.paused = true;
        }
        return;
      }
      s.pending.shift();
    }
    if (s.paused) {
      s.socket.resume();
      s.paused = false;
    }
  }

  /** Offers bytes that waited for ring room; true if any were taken. */
  private retryPending(): boolean {
    let moved = false;
    // (Map iteration tolerates the deletions a feed may cause; no copy.)
    for (const [handle, s] of this.streams) {
      if (s.pending.length > 0 && this.core.x.rxWindow(handle) > 0) {
        this.feed(handle, s);
        moved = true;
      }
    }
    for (const [handle, f] of this.fetches) {
      if (f.pending !== null && this.core.x.rxWindow(handle) > 0) {
        this.feedFetch(handle);
        moved = true;
      }
    }
    return moved;
  }

  private write(handle: number, bytes: Uint8Array, isRef: boolean): void {
    const s = this.streams.get(handle);
    if (s === undefined) return;
    // Everything one call asks of a socket leaves in one writev (uncorked
    // at the end of call()): a system call per 16 KiB frame cost more than
    // the rest of the relay.
    if (!this.corked.has(s.socket)) {
      s.socket.cork();
      this.corked.add(s.socket);
    }
    if (!isRef) {
      // Each such write starts one frame (a DATA frame's payload follows as
      // a view, uncounted). Counted once it has left for the kernel; a
      // write a destroyed socket drops fails its callback instead.
      const type = SentCounts.frameType(bytes);
      s.socket.write(bytes, (err) => {
        if (err === undefined || err === null) this.sent.add("tcp", type);
      });
      return;
    }
    // A view of core memory: Node may hold it until the write completes; the
    // core does not touch that memory until it hears so (the callback runs
    // outside any drain, so it may call the core directly).
    s.socket.write(bytes, () => {
      // A write that finishes after its stream was closed (and the handle
      // perhaps reused) is not the new stream's.
      if (this.streams.get(handle) === s) this.completed(this.writesDone, handle, bytes.length);
    });
  }

  /** Completions (writes done, flash written) gather here and reach the core
   *  together in one call after the current task: one drain then refills a
   *  whole window, and its frames leave in one writev. */
  private readonly writesDone = new Map<number, number>();
  private readonly flashDone = new Map<number, number>();
  private flushQueued = false;

  private completed(into: Map<number, number>, key: number, bytes: number): void {
    into.set(key, (into.get(key) ?? 0) + bytes);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.call(() => {
        for (const [slot, n] of this.flashDone) this.core.flashWritten(this.now(), slot, n);
        this.flashDone.clear();
        for (const [handle, n] of this.writesDone) this.core.writeDone(this.now(), handle, n);
        this.writesDone.clear();
      });
    });
  }

  private closeStream(handle: number): void {
    const f = this.fetches.get(handle);
    if (f !== undefined) {
      this.fetches.delete(handle);
      f.abort.abort();
      return;
    }
    const s = this.streams.get(handle);
    if (s === undefined) return;
    s.closedByCore = true;
    this.streams.delete(handle);
    s.socket.end();
    setTimeout(() => s.socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  // ------------------------------------------------------------ server and flash

  private startFetch(slot: number, handle: number, from: number, total: number): void {
    const abort = new AbortController();
    const f = { abort, waiting: [] as Array<() => void>, pending: null as Uint8Array | null };
    this.fetches.set(handle, f);
    const sink = (chunk: Uint8Array): Promise<void> => {
      if (abort.signal.aborted) return Promise.resolve();
      f.pending = chunk;
      return new Promise<void>((resolve) => {
        f.waiting.push(resolve);
        this.call(() => this.feedFetch(handle));
      });
    };
    // Never from inside a drain: the fetcher may call sink() at once.
    setImmediate(() => this.runFetch(slot, handle, f, from, total, sink));
  }

  private runFetch(slot: number, handle: number, f: { abort: AbortController }, from: number, total: number, sink: (chunk: Uint8Array) => Promise<void>): void {
    const abort = f.abort;
    if (abort.signal.aborted) return;
    this.opts.fetcher.fetch(slot, from, total, sink, abort.signal).then(
      () => {
        if (this.fetches.get(handle) !== f) return;
        this.fetches.delete(handle);
        this.call(() => this.core.closed(this.now(), handle)); // the fetch ended
      },
      (e: Error) => {
        if (this.fetches.get(handle) !== f) return;
        this.fetches.delete(handle);
        this.opts.log?.(`server fetch for slot ${slot} failed: ${e.message}`);
        this.call(() => this.core.closed(this.now(), handle));
      },
    );
  }

  private feedFetch(handle: number): void {
    const f = this.fetches.get(handle);
    if (f === undefined || f.pending === null) return;
    const took = this.core.streamData(this.now(), handle, f.pending);
    f.pending = took < f.pending.length ? f.pending.subarray(took) : null;
    if (f.pending === null) for (const resolve of f.waiting.splice(0)) resolve();
  }

  private flashWrite(slot: number, offset: number, view: Uint8Array): void {
    // Reported after the drain that asked for it, never from inside it.
    const done = () => this.completed(this.flashDone, slot, view.length);
    const r = this.opts.flash.write(slot, offset, view);
    if (r instanceof Promise) r.then(done, (e: Error) => this.opts.log?.(`flash write failed: ${e.message}`));
    else done();
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    for (const f of this.fetches.values()) f.abort.abort();
    for (const s of this.streams.values()) s.socket.destroy();
    this.streams.clear();
    // Idempotent, and safe after a failed start: a socket whose bind failed
    // may be closed already (dgram then throws on close).
    for (const u of [this.udp, this.bcast]) {
      try {
        u?.close();
      } catch {
        /* not running */
      }
    }
    this.udp = this.bcast = null;
    const tcp = this.tcp;
    this.tcp = null;
    await new Promise<void>((resolve) => (tcp === null ? resolve() : tcp.close(() => resolve())));
  }
}
