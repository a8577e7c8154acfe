// A TFTP client that reads one file in octet mode (RFC 1350), asking for the
// options of RFC 2348 (blksize), RFC 2349 (tsize, timeout) and RFC 7440
// (windowsize) and falling back to plain TFTP when the server ignores or
// refuses them. It resolves only after the final short block, with the byte
// count checked against tsize when the server told it: a partial file is
// never reported as complete.

import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Negotiated, NOT_NEGOTIATED, acceptOack, requestOptions } from "./options.js";
import { DATA_HEADER_BYTES, ERROR_CODE, OPCODE, TftpOption, decode, encodeAck, encodeError, encodeRequest, errorText, wireBlock } from "./packet.js";
import type { TransferLoss, WindowControl } from "./window.js";

/** A number is a TFTP error code, from the server or sent by us (ERROR_CODE);
 *  the strings are failures of our own side. */
export type TftpErrorCode = number | "timeout" | "aborted" | "protocol" | "size" | "limit" | "io";

export class TftpError extends Error {
  override name = "TftpError";
  constructor(
    readonly code: TftpErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface TftpGetOptions {
  host: string;
  port: number;
  file: string;
  /** Asked as blksize (RFC 2348); 512 when absent or not granted. */
  blksize?: number;
  /** Asked as windowsize (RFC 7440); 1 (lockstep) when absent or not granted. */
  windowsize?: number;
  /** Asks its window (capped by `windowsize` when both are given), and is told what the
   *  transfer saw (loss, the grant) when it ends, whether it completed or
   *  not: the next request then asks less or more (./window.ts). */
  window?: WindowControl;
  /** Ask for the file's size (RFC 2349) and check the bytes against it. */
  tsize?: boolean;
  /** Our first retransmission timeout, doubled on each retry; a whole number
   *  of seconds from 1 to 255 is also asked as the timeout option (RFC 2349). */
  timeoutSec?: number;
  /** Retransmissions without progress before giving up with "timeout". */
  retries?: number;
  /** Our first retransmission timeout in milliseconds, never asked of the
   *  server (timeoutSec is, when whole); taken over timeoutSec if both. */
  timeoutMs?: number;
  /** Told of each retransmission as it is sent (a caller shows that the
   *  transfer waits and why; the client itself prints nothing). */
  onRetry?: (r: TftpRetry) => void;
  localAddress?: string;
  /** Each block in file order, with its offset. A returned promise holds the
   *  transfer (after acknowledging the current window) until it settles. */
  onData?: (chunk: Uint8Array, offset: number) => void | Promise<void>;
  signal?: AbortSignal;
  /** The most bytes the caller takes. A tsize above it is refused as soon
   *  as the OACK says so (ERROR 3 to the server, code "limit"); without
   *  tsize the transfer stops at the first block that passes it. So a
   *  server cannot make us read more than this, whatever it sends. */
  maxBytes?: number;
  /** The file's size as the caller already knows it (from a trusted index):
   *  a tsize that differs, a file that runs past it or one that ends short
   *  of it fails with code "size", before any byte past it is handed on. */
  expectBytes?: number;
}

/** One retransmission: what had no answer, for how long, and what is next. */
export interface TftpRetry {
  /** 1 for the first retry since the last progress. */
  attempt: number;
  retries: number;
  /** "request": no answer to the request yet; "block": the next block is late. */
  waiting: "request" | "block";
  /** The block expected (0 while waiting on the request). */
  block: number;
  bytes: number;
  waitedMs: number;
  /** How long until the next retry or, after the last, until giving up. */
  nextWaitMs: number;
}

export interface TftpGetResult {
  bytes: number;
  tsize?: number;
  blksize: number;
  windowsize: number;
  /** Retransmission timeouts and gaps seen (./window.ts reads them). */
  timeouts: number;
  gaps: number;
}

export const CLIENT_TIMEOUT_DEFAULT_SEC = 1;
export const CLIENT_TIMEOUT_DEFAULT_MS = CLIENT_TIMEOUT_DEFAULT_SEC * 1000;
export const CLIENT_RETRIES_DEFAULT = 5;
/** Exponential backoff stops doubling here. */
export const BACKOFF_MAX_MS = 16_000;

/** How long a transfer with no answer at all waits before it fails: the
 *  first timeout, doubled on each of `retries` retries up to BACKOFF_MAX_MS
 *  (1 s and 5 retries: 1+2+4+8+16+16 = 47 s). */
export function silenceLimitMs(timeoutMs: number, retries: number): number {
  console.assert(timeoutMs > 0 && Number.isInteger(retries) && retries >= 0);
  let total = 0;
  let wait = timeoutMs;
  for (let i = 0; i <= retries; i++) {
    total += wait;
    wait = Math.min(wait * 2, BACKOFF_MAX_MS);
  }
  return total;
}
/** Asked of the kernel so that a window of large blocks is not dropped while
 *  we are busy (it caps this at net.core.rmem_max). */
export const RECEIVE_BUFFER_BYTES = 4 << 20;
/** RFC 1350 section 6: after the final ACK we linger ("dally") to ACK the last
 *  DATA again should it come back because our ACK was lost; this long at most. */
export const DALLY_MAX_MS = 2_000;
/** What tftpGetBuffer holds in memory at most when its caller gives no
 *  maxBytes: the largest component a phone's flash slot takes (16 MiB) with
 *  room to spare. Callers that know their file's limit pass it. */
export const BUFFER_MAX_DEFAULT_BYTES = 64 << 20;

/** Server answers to an optioned request after which we ask again without
 *  options: 8 is RFC 2347's refusal; 0 and 4 are what pre-RFC 2347 servers
 *  send for a request they cannot parse. */
const FALLBACK_CODES: ReadonlySet<number> = new Set([ERROR_CODE.OPTION_REFUSED, ERROR_CODE.NOT_DEFINED, ERROR_CODE.ILLEGAL_OPERATION]);

class Fallback {
  constructor(readonly reason: string) {}
}

export async function tftpGet(opts: TftpGetOptions): Promise<TftpGetResult> {
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new RangeError(`port must be from 1 to 65535 (got ${opts.port})`);
  const retries = opts.retries ?? CLIENT_RETRIES_DEFAULT;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be a whole number (got ${retries})`);
  const timeoutSec = opts.timeoutSec ?? CLIENT_TIMEOUT_DEFAULT_SEC;
  if (!(timeoutSec > 0)) throw new RangeError(`timeoutSec must be positive (got ${timeoutSec})`);
  const timeoutMs = opts.timeoutMs ?? timeoutSec * 1000;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive (got ${timeoutMs})`);
  for (const [name, v] of [["maxBytes", opts.maxBytes], ["expectBytes", opts.expectBytes]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`${name} must be a whole number of bytes (got ${v})`);
  }
  // With both, windowsize caps what the window control asks (a WAN budget
  // that a large window would outrun, see host/wan/budget.ts).
  if (opts.window !== undefined) opts = { ...opts, windowsize: Math.min(opts.window.window, opts.windowsize ?? opts.window.window) };
  const options = requestOptions(opts);
  // Checks the name and the 512-byte limit before anything is sent.
  encodeRequest("rrq", opts.file, "octet", options);
  if (opts.signal?.aborted) throw new TftpError("aborted", "transfer cancelled before it started", { cause: opts.signal.reason });
  const address = isIP(opts.host) !== 0 ? opts.host : (await lookup(opts.host, { verbatim: false })).address;
  let d = new Download(opts, address, options, retries, timeoutMs);
  try {
    const first = await d.run();
    if (!(first instanceof Fallback)) return first;
    // RFC 2347 section "Negotiation Protocol": a client whose options are
    // refused may ask again without them.
    d = new Download(opts, address, [], retries, timeoutMs);
    const second = await d.run();
    if (second instanceof Fallback) throw new TftpError("protocol", second.reason);
    return second;
  } finally {
    opts.window?.report(d.loss());
  }
}

/** The whole file in memory, never more than `maxBytes` of it
 *  (BUFFER_MAX_DEFAULT_BYTES when not given); onData, if given, still sees
 *  every block. */
export async function tftpGetBuffer(opts: TftpGetOptions): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const result = await tftpGet({
    ...opts,
    maxBytes: opts.maxBytes ?? BUFFER_MAX_DEFAULT_BYTES,
    onData: (chunk, offset) => {
      // Each datagram arrives in a buffer of its own, so a view is enough.
      chunks.push(chunk);
      total += chunk.length;
      return opts.onData?.(chunk, offset);
    },
  });
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  if (at !== result.bytes) throw new TftpError("size", `assembled ${at} bytes of ${result.bytes}`);
  return out;
}

/** One read request and its transfer, on a socket (a TID) of its own. */
class Download {
  private readonly socket: dgram.Socket;
  private readonly requestPkt: Buffer;
  private readonly baseTimeoutMs: number;
  /** The server's TID (its port), fixed by its first answer (RFC 1350 section 4). */
  private peerPort = -1;
  /** The socket is connected to the server's TID: the kernel then delivers
   *  nothing else to it, and a send skips Node's per-call address lookup
   *  (a tick of the event loop per ACK; measured ~5 % of a lockstep transfer
   *  on loopback, bench/tftp.ts). */
  private connected = false;
  /** Sent while the connect was under way (libuv refuses both an addressed
   *  send on a connected socket and an unaddressed one before): sent in
   *  order once it is connected. */
  private held: Buffer[] | undefined;
  private state: "request" | "data" | "done" = "request";
  private terms: Negotiated = NOT_NEGOTIATED;
  /** Next block expected, counted from 1 without wrapping. */
  private next = 1;
  private bytes = 0;
  /** In-order blocks since our last ACK: a full window is acknowledged. */
  private sinceAck = 0;
  /** Set once we have re-ACKed for a gap, cleared by progress: one re-ACK per
   *  gap, not one per block behind it (which would restart the window again
   *  and again). */
  private gapAcked = false;
  private retriesLeft: number;
  private timeoutMs: number;
  /** What the network did to this transfer (TftpGetResult, ./window.ts). */
  private timeouts = 0;
  private gaps = 0;
  /** The retransmission deadline counts from here (last send or progress). */
  private armedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  /** onData is holding the transfer; datagrams wait in the inbox. */
  private busy = false;
  private inbox: Array<[Buffer, dgram.RemoteInfo]> = [];
  private settle!: (r: TftpGetResult | Fallback | Error) => void;

  constructor(
    private readonly opts: TftpGetOptions,
    private readonly address: string,
    private readonly options: TftpOption[],
    private readonly retries: number,
    timeoutMs: number,
  ) {
    this.requestPkt = encodeRequest("rrq", opts.file, "octet", options);
    this.baseTimeoutMs = timeoutMs;
    this.timeoutMs = timeoutMs;
    this.retriesLeft = retries;
    this.socket = dgram.createSocket({ type: isIP(address) === 6 ? "udp6" : "udp4", recvBufferSize: RECEIVE_BUFFER_BYTES });
  }

  /** Loss seen so far and the window in force (1 until an OACK grants more). */
  loss(): TransferLoss {
    return { timeouts: this.timeouts, gaps: this.gaps, asked: this.opts.windowsize ?? 1, granted: this.peerPort < 0 ? undefined : this.terms.windowsize };
  }

  run(): Promise<TftpGetResult | Fallback> {
    const signal = this.opts.signal;
    const onAbort = () => this.fail(new TftpError("aborted", `transfer of '${this.opts.file}' cancelled`, { cause: signal?.reason }), true);
    return new Promise<TftpGetResult | Fallback | Error>((resolve) => {
      this.settle = resolve;
      signal?.addEventListener("abort", onAbort, { once: true });
      this.socket.on("error", (e) => this.fail(new TftpError("io", `socket: ${e.message}`, { cause: e }), false));
      this.socket.on("message", (msg, rinfo) => this.receive(msg, rinfo));
      this.socket.bind({ address: this.opts.localAddress, port: 0 }, () => {
        if (this.state === "done") return;
        this.send(this.requestPkt, this.opts.port);
        this.arm();
      });
    }).then((r) => {
      signal?.removeEventListener("abort", onAbort);
      if (r instanceof Error) throw r;
      return r;
    });
  }

  // ---- the timer: one pending timeout, checked against a moving deadline,
  // so a datagram costs a clock read rather than a timer reset ----

  private arm(): void {
    this.armedAtMs = performance.now();
    if (this.timer === undefined) this.timer = setTimeout(() => this.onTimer(), this.timeoutMs);
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.state === "done") return;
    const left = this.armedAtMs + this.timeoutMs - performance.now();
    if (left > 0 || this.busy) {
      // Not due yet, or the consumer holds us: its time is not the network's.
      this.timer = setTimeout(() => this.onTimer(), this.busy ? this.timeoutMs : Math.ceil(left));
      return;
    }
    if (this.retriesLeft === 0) {
      const where = this.state === "request" ? "no answer to the request" : `no block ${this.next} (${this.bytes} bytes received)`;
      this.fail(new TftpError("timeout", `timeout reading '${this.opts.file}' from ${this.address}:${this.opts.port}: ${where} after ${this.retries} retries`), true);
      return;
    }
    this.retriesLeft--;
    const waitedMs = this.timeoutMs;
    this.timeoutMs = Math.min(this.timeoutMs * 2, BACKOFF_MAX_MS);
    this.opts.onRetry?.({
      attempt: this.retries - this.retriesLeft, retries: this.retries, waiting: this.state === "request" ? "request" : "block",
      block: this.state === "request" ? 0 : this.next, bytes: this.bytes, waitedMs, nextWaitMs: this.timeoutMs,
    });
    if (this.state === "request") {
      this.send(this.requestPkt, this.opts.port);
    } else {
      this.timeouts++;
      // Lost DATA or a lost ACK look alike from here; acknowledging the last
      // in-order block covers both (RFC 7440 section 4: the sender resumes
      // after the block acknowledged).
      this.ackLastInOrder();
    }
    this.arm();
  }

  private progress(): void {
    this.retriesLeft = this.retries;
    this.timeoutMs = this.baseTimeoutMs;
    this.armedAtMs = performance.now();
  }

  // ---- datagrams ----

  private send(pkt: Buffer, port = this.peerPort): void {
    if (this.held !== undefined) this.held.push(pkt);
    else if (this.connected && port === this.peerPort) this.socket.send(pkt);
    else this.socket.send(pkt, port, this.address);
  }

  /** Called once the server's first answer fixed its TID. From then on a
   *  datagram from any other TID never reaches us: the kernel answers it
   *  with ICMP port unreachable, which is how a connected UDP socket tells
   *  a stranger it has the wrong TID (RFC 1350 section 4 asks for an ERROR 5;
   *  before this point we still send one, see stray()). */
  private lockPeer(port: number): void {
    this.peerPort = port;
    this.held = [];
    this.socket.connect(port, this.address, (e?: Error) => {
      const held = this.held ?? [];
      this.held = undefined;
      // Should the kernel refuse, the transfer goes on unconnected.
      this.connected = e === undefined;
      for (const pkt of held) this.send(pkt);
    });
  }

  private ackLastInOrder(): void {
    this.send(encodeAck(wireBlock(this.next - 1)));
    this.sinceAck = 0;
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const fromServer = rinfo.address === this.address && (this.peerPort < 0 || rinfo.port === this.peerPort);
    if (!fromServer) {
      this.stray(msg, rinfo);
      return;
    }
    if (this.state === "done") {
      this.dally(msg);
      return;
    }
    if (this.busy) {
      this.inbox.push([msg, rinfo]);
      return;
    }
    this.handle(msg, rinfo);
  }

  /** RFC 1350 section 4: a packet from another TID is answered with ERROR 5
   *  and does not disturb the transfer. An ERROR is never answered (two
   *  confused hosts would bounce errors forever). */
  private stray(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length >= 2 && msg[0] === 0 && msg[1] === 5) return;
    // Queued before we connected; a connected socket may not address others.
    if (this.connected) return;
    this.socket.send(encodeError(ERROR_CODE.UNKNOWN_TID, errorText(ERROR_CODE.UNKNOWN_TID)), rinfo.port, rinfo.address);
  }

  private handle(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // The steady state, a DATA block mid-transfer, skips the general decoder:
    // this runs once per datagram (same checks as decode(): a 4-byte header).
    if (this.state === "data" && msg.length >= DATA_HEADER_BYTES && msg[0] === 0 && msg[1] === OPCODE.DATA) {
      this.onBlock((msg[2] << 8) | msg[3], msg.subarray(DATA_HEADER_BYTES));
      return;
    }
    const d = decode(msg);
    if (!d.ok) return; // garbage is dropped; a timeout recovers whatever it hid
    const p = d.packet;
    switch (p.op) {
      case "error":
        if (this.state === "request" && this.options.length > 0 && FALLBACK_CODES.has(p.code)) {
          this.finish(new Fallback(`server refused our options: error ${p.code} ${p.message}`));
        } else {
          this.finish(new TftpError(p.code, `'${this.opts.file}': ${errorText(p.code)}${p.message ? `: ${p.message}` : ""} (error ${p.code} from ${rinfo.address}:${rinfo.port})`));
        }
        return;
      case "oack":
        if (this.state === "request") {
          if (this.options.length === 0) return; // an OACK to a request without options is nonsense: drop it
          const verdict = acceptOack(this.options, p.options);
          this.lockPeer(rinfo.port);
          if (!verdict.ok) {
            // RFC 2347: a client that does not accept the OACK sends ERROR 8.
            this.send(encodeError(ERROR_CODE.OPTION_REFUSED, verdict.reason));
            this.finish(new Fallback(verdict.reason));
            return;
          }
          this.terms = verdict.negotiated;
          if (!this.announcedSizeFits()) return;
          this.state = "data";
          this.progress();
          this.ackLastInOrder(); // ACK 0
          this.arm();
        } else if (this.next === 1) {
          this.ackLastInOrder(); // our ACK 0 was lost: the server sent the OACK again
        }
        return;
      case "data":
        if (this.state === "request") {
          if (p.block !== 1) return;
          // No OACK: the server ignored our options (RFC 2347), plain RFC 1350.
          this.lockPeer(rinfo.port);
          this.terms = NOT_NEGOTIATED;
          this.state = "data";
        }
        this.onBlock(p.block, p.data);
        return;
      default:
        return; // requests and ACKs have no place in a read
    }
  }

  private onBlock(block: number, data: Uint8Array): void {
    const { blksize, windowsize } = this.terms;
    // Distance from the block we expect, modulo 2^16, so rollover is seamless.
    const delta = (block - wireBlock(this.next)) & 0xffff;
    if (delta !== 0) {
      if (delta < 0x8000) {
        // A gap: blocks were lost. RFC 7440 section 4: ACK the last block
        // received in order, once, and the sender restarts after it.
        if (!this.gapAcked) {
          this.gapAcked = true;
          this.gaps++;
          this.ackLastInOrder();
          this.arm();
        }
      } else if (windowsize === 1 && block === wireBlock(this.next - 1)) {
        // Lockstep: the previous block again means our ACK was lost. Re-ACK at
        // once; servers do not answer duplicate ACKs (RFC 1123 4.2.3.1), so
        // this cannot start the Sorcerer's Apprentice. Windowed transfers
        // leave a resent window to our timer instead, for the same reason.
        this.ackLastInOrder();
      }
      return;
    }
    if (data.length > blksize) {
      this.abort(ERROR_CODE.ILLEGAL_OPERATION, new TftpError("protocol", `block ${this.next} has ${data.length} bytes, more than the blksize ${blksize}`));
      return;
    }
    const offset = this.bytes;
    this.bytes += data.length;
    this.next++;
    this.sinceAck++;
    this.gapAcked = false;
    this.progress();
    const tsize = this.terms.tsize;
    const last = data.length < blksize;
    if (tsize !== undefined && (this.bytes > tsize || (last && this.bytes !== tsize))) {
      this.abort(ERROR_CODE.NOT_DEFINED, new TftpError("size", `'${this.opts.file}': ${last ? "ended at" : "already"} ${this.bytes} bytes, but the server announced tsize ${tsize}`));
      return;
    }
    if (!this.receivedSizeFits(last)) return;
    if (last) {
      // The final ACK only once the consumer has the last block: if it fails,
      // the server must not log a complete transfer.
      this.consume(data, offset, () => {
        this.ackLastInOrder();
        this.finish({ bytes: this.bytes, tsize, blksize, windowsize, timeouts: this.timeouts, gaps: this.gaps });
      });
      return;
    }
    // ACK before handing the block on: the next window travels while we work.
    if (this.sinceAck >= windowsize) this.ackLastInOrder();
    this.consume(data, offset, undefined);
  }

  /** The OACK's tsize against the caller's limits: false (and the transfer
   *  refused) when the file is larger than maxBytes or not the size the
   *  caller knows. RFC 2349: a client may abort on the size with ERROR 3. */
  private announcedSizeFits(): boolean {
    const { tsize } = this.terms;
    const { maxBytes, expectBytes, file } = this.opts;
    if (tsize === undefined) return true;
    if (maxBytes !== undefined && tsize > maxBytes) {
      this.abort(ERROR_CODE.DISK_FULL, new TftpError("limit", `'${file}' is ${tsize} bytes (tsize); we take at most ${maxBytes}`));
      return false;
    }
    if (expectBytes !== undefined && tsize !== expectBytes) {
      this.abort(ERROR_CODE.NOT_DEFINED, new TftpError("size", `'${file}' is ${tsize} bytes on the server (tsize), not the ${expectBytes} expected`));
      return false;
    }
    return true;
  }

  /** The bytes received so far against the caller's limits; for servers that
   *  give no tsize (or lie about it), checked on every block. */
  private receivedSizeFits(last: boolean): boolean {
    const { maxBytes, expectBytes, file } = this.opts;
    if (maxBytes !== undefined && this.bytes > maxBytes) {
      this.abort(ERROR_CODE.DISK_FULL, new TftpError("limit", `'${file}' runs past ${maxBytes} bytes, the most we take: stopped`));
      return false;
    }
    if (expectBytes !== undefined && (this.bytes > expectBytes || (last && this.bytes !== expectBytes))) {
      const what = last ? `ends at ${this.bytes} bytes` : `runs past ${expectBytes} bytes`;
      this.abort(ERROR_CODE.NOT_DEFINED, new TftpError("size", `'${file}' ${what} on the server, not the ${expectBytes} expected`));
      return false;
    }
    return true;
  }

  /** Hands a block to onData; a promise pauses the transfer until it settles. */
  private consume(data: Uint8Array, offset: number, then: (() => void) | undefined): void {
    let r: void | Promise<void>;
    try {
      r = this.opts.onData?.(data, offset);
    } catch (e) {
      this.abort(ERROR_CODE.NOT_DEFINED, e);
      return;
    }
    if (r === undefined || typeof (r as Promise<void>).then !== "function") {
      then?.();
      return;
    }
    this.busy = true;
    r.then(
      () => {
        this.busy = false;
        if (this.state === "done") return;
        this.armedAtMs = performance.now(); // the consumer's time was not the network's
        then?.();
        this.drain();
      },
      (e) => {
        this.busy = false;
        this.abort(ERROR_CODE.NOT_DEFINED, e);
      },
    );
  }

  private drain(): void {
    while (!this.busy && this.state !== "done" && this.inbox.length > 0) {
      const [msg, rinfo] = this.inbox.shift()!;
      this.handle(msg, rinfo);
    }
  }

  /** After the final ACK: the final block again means that ACK was lost. */
  private dally(msg: Buffer): void {
    const d = decode(msg);
    if (d.ok && d.packet.op === "data" && d.packet.block === wireBlock(this.next - 1)) this.send(encodeAck(d.packet.block));
  }

  // ---- endings ----

  /** Tells the server we stop (when it is known), then fails. */
  private abort(code: number, e: unknown): void {
    const err = e instanceof Error ? e : new TftpError("io", String(e));
    if (this.peerPort >= 0 && this.state !== "done") this.send(encodeError(code, err.message.slice(0, 200)));
    this.finish(err);
  }

  private fail(e: Error, tellServer: boolean): void {
    if (this.state === "done") return;
    if (tellServer) this.abort(ERROR_CODE.NOT_DEFINED, e);
    else this.finish(e);
  }

  private finish(r: TftpGetResult | Fallback | Error): void {
    if (this.state === "done") return;
    const completed = !(r instanceof Error) && !(r instanceof Fallback);
    this.state = "done";
    this.inbox.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    // Dally after a completed transfer, without keeping the process alive
    // for it; otherwise wait one turn of the loop for an ERROR we just sent
    // (a send resolves its address asynchronously) before closing.
    this.socket.unref();
    setTimeout(() => this.socket.close(), completed ? Math.min(2 * this.timeoutMs, DALLY_MAX_MS) : 0).unref();
    this.settle(r);
  }
}
