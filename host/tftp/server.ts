// A read-only TFTP server (RFC 1350, octet mode) with the options of RFC 2348
// (blksize), RFC 2349 (tsize, timeout) and RFC 7440 (windowsize), negotiated
// through the codec the client uses. Each transfer gets its own socket (its
// TID, RFC 1350 section 4). Block numbers wrap to 0 after 65535, as tftpd-hpa
// and atftpd do, so files beyond 32 MiB at blksize 512 go through.
//
// WAN emulation, since this kernel has no netem: `wanKbps` paces everything
// the server sends through one token bucket shared by all its transfers, and
// `wanRttMs` holds every datagram it sends and every one it receives for half
// the round trip, so a lockstep transfer feels the whole RTT on each block.

import dgram from "node:dgram";
import { constants } from "node:fs";
import { FileHandle, open, realpath, stat } from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import { DelayLine } from "../wan/delay-line.js";
import { BLKSIZE_MAX_BYTES, BLKSIZE_MIN_BYTES, Negotiated, grantOptions } from "./options.js";
import { DATA_HEADER_BYTES, ERROR_CODE, TftpOption, decode, encodeError, encodeOack, errorText, wireBlock, writeDataHeader } from "./packet.js";

export interface TftpServerOptions {
  /** The directory served; nothing outside it is ever read. */
  root: string;
  /** Address to listen on (default 0.0.0.0). */
  host?: string;
  /** UDP port (default 69; 0 picks a free one). */
  port?: number;
  /** Emulated WAN bandwidth for everything sent, kbit/s (0 or absent: none). */
  wanKbps?: number;
  /** Emulated WAN round trip, ms: half on each datagram sent, half on each received. */
  wanRttMs?: number;
  /** The largest blksize granted (default and maximum 65464, RFC 2348). */
  maxBlksize?: number;
  /** Called with one line per request, when it ends. */
  log?: (line: string) => void;
  /** Tests: the share of DATA datagrams dropped instead of sent (0..1),
   *  drawn from a generator seeded by `dataLossSeed`, so that a run is
   *  repeatable. The windowed client's loss handling is tested with it. */
  dataLoss?: number;
  dataLossSeed?: number;
  /** Told of every datagram of a transfer as it leaves the server (its
   *  bytes, performance.now()): what a test measures a rate cap with. */
  onSent?: (bytes: number, atMs: number) => void;
}

export interface TftpRequestRecord {
  file: string;
  /** "address:port" of the client. */
  client: string;
  /** When the request arrived (Date.now()). */
  atMs: number;
  /** Bytes sent, once the final block was acknowledged. */
  bytes?: number;
  /** When the first DATA went out and when the request ended
   *  (performance.now(), this process's clock): a test reads the rate the
   *  server sent at from these, not from the client's word. */
  firstDataMs?: number;
  endMs?: number;
  /** DATA payload bytes handed to the network so far, resends included. */
  sentBytes?: number;
  /** DATA datagrams dropped by `dataLoss`. */
  dropped?: number;
  /** Why the request failed. */
  error?: string;
}

export const SERVER_HOST_DEFAULT = "0.0.0.0";
export const SERVER_PORT_DEFAULT = 69;
/** Before the first retransmission, unless the client negotiated `timeout`;
 *  tftpd-hpa's default too. */
export const SERVER_TIMEOUT_DEFAULT_SEC = 1;
/** Retransmissions without progress before a transfer is dropped. */
export const SERVER_RETRIES = 5;
export const SERVER_BACKOFF_MAX_MS = 16_000;
/** Bytes one transfer may have in flight: bounds the granted windowsize
 *  (2048 blocks of 512, 734 of 1428, 16 of 65464), and with it the memory a
 *  transfer holds. RFC 7440's measurements gain little beyond 64 KiB. */
export const WINDOW_MAX_BYTES = 1 << 20;
/** The file is read this much at a time (or a whole window, if larger). */
export const READ_CHUNK_BYTES = 128 << 10;
/** Transfers at once; more requests are refused with ERROR 0. */
export const SESSIONS_MAX = 1024;
/** IPv4 (20) and UDP (8) headers: what the WAN carries besides the payload. */
export const UDP_IPV4_OVERHEAD_BYTES = 28;
/** The token bucket's depth: two full Ethernet frames may go back to back. */
export const WAN_BURST_BYTES = 3000;

// ---- WAN emulation ----


class Wan {
  readonly active: boolean;
  private readonly halfRttMs: number;
  /** GCRA's theoretical arrival time: the token bucket as one number. */
  private tatMs = 0;
  /** When the last datagram sent reaches the far end (they stay in order). */
  private lastDueMs = 0;
  private readonly outbound = new DelayLine();
  private readonly inbound = new DelayLine();

  constructor(
    private readonly kbps: number,
    rttMs: number,
  ) {
    this.halfRttMs = rttMs / 2;
    this.active = kbps > 0 || rttMs > 0;
  }

  /** Runs `send` when a datagram of `bytes` may leave and has crossed half the RTT. */
  transmit(bytes: number, send: () => void): void {
    const now = performance.now();
    let doneMs = now;
    if (this.kbps > 0) {
      // kbit/s is bits per ms. A datagram may start once the bucket holds its
      // bytes, at tat - burst (the generic cell rate algorithm, ITU-T I.371),
      // and is out once its last bit is.
      const txMs = ((bytes + UDP_IPV4_OVERHEAD_BYTES) * 8) / this.kbps;
      const startMs = Math.max(now, this.tatMs - (WAN_BURST_BYTES * 8) / this.kbps);
      this.tatMs = Math.max(this.tatMs, startMs) + txMs;
      doneMs = startMs + txMs;
    }
    this.lastDueMs = Math.max(this.lastDueMs, doneMs + this.halfRttMs);
    this.outbound.push(this.lastDueMs, send);
  }

  /** Runs `handle` once a received datagram has crossed half the RTT. */
  deliver(handle: () => void): void {
    if (this.halfRttMs === 0) handle();
    else this.inbound.push(performance.now() + this.halfRttMs, handle);
  }

  clear(): void {
    this.outbound.clear();
    this.inbound.clear();
    this.tatMs = 0;
    this.lastDueMs = 0;
  }
}

// ---- the served directory ----

const within = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

type Located = { ok: true; path: string } | { ok: false; code: number; message: string };

/** The file a request names, under the root or refused: ERROR 2 for names
 *  and symlinks leading outside, ERROR 1 for what does not exist. */
async function locate(rootReal: string, file: string): Promise<Located> {
  // tftpd-hpa --secure serves "/x" as "x" under its root; so do we.
  const full = path.resolve(rootReal, file.replace(/^\/+/, ""));
  const escapes = { ok: false as const, code: ERROR_CODE.ACCESS_VIOLATION, message: "path leads outside the served directory" };
  if (!within(rootReal, full)) return escapes;
  let real: string;
  try {
    real = await realpath(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { ok: false, code: ERROR_CODE.FILE_NOT_FOUND, message: "File not found" };
    if (code === "EACCES" || code === "ELOOP") return { ok: false, code: ERROR_CODE.ACCESS_VIOLATION, message: "Permission denied" };
    return { ok: false, code: ERROR_CODE.NOT_DEFINED, message: `cannot open: ${code ?? String(e)}` };
  }
  return within(rootReal, real) ? { ok: true, path: real } : escapes;
}

// ---- the server ----

export class TftpServer {
  readonly requests: TftpRequestRecord[] = [];
  /** @internal the shared emulated link */
  readonly wan: Wan;
  private readonly sessions = new Map<string, Session>();
  private socket: dgram.Socket | undefined;
  /** @internal set by stop(): last words go out at once, not through the WAN */
  stopping = false;
  private rootReal = "";
  private readonly maxBlksize: number;
  /** xorshift32 state for `dataLoss` (0: no loss). */
  private lossState: number;

  constructor(private readonly opts: TftpServerOptions) {
    const kbps = opts.wanKbps ?? 0;
    const rttMs = opts.wanRttMs ?? 0;
    if (!(kbps >= 0) || !Number.isFinite(kbps)) throw new RangeError(`wanKbps must be 0 or more (got ${kbps})`);
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) throw new RangeError(`wanRttMs must be 0 or more (got ${rttMs})`);
    this.maxBlksize = opts.maxBlksize ?? BLKSIZE_MAX_BYTES;
    if (!Number.isInteger(this.maxBlksize) || this.maxBlksize < BLKSIZE_MIN_BYTES || this.maxBlksize > BLKSIZE_MAX_BYTES) {
      throw new RangeError(`maxBlksize must be from ${BLKSIZE_MIN_BYTES} to ${BLKSIZE_MAX_BYTES} (got ${this.maxBlksize})`);
    }
    this.wan = new Wan(kbps, rttMs);
    const loss = opts.dataLoss ?? 0;
    if (!(loss >= 0 && loss < 1)) throw new RangeError(`dataLoss must be from 0 to below 1 (got ${loss})`);
    this.lossState = loss > 0 ? (opts.dataLossSeed ?? 1) >>> 0 || 1 : 0;
  }

  /** @internal */
  sent(bytes: number): void {
    this.opts.onSent?.(bytes, performance.now());
  }

  /** @internal true when this DATA datagram is to be lost (dataLoss). */
  dropThis(): boolean {
    if (this.lossState === 0) return false;
    let x = this.lossState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.lossState = x >>> 0 || 1;
    return this.lossState / 0x1_0000_0000 < this.opts.dataLoss!;
  }

  get host(): string {
    return this.opts.host ?? SERVER_HOST_DEFAULT;
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.socket !== undefined) throw new Error("TftpServer already started");
    this.rootReal = await realpath(this.opts.root);
    if (!(await stat(this.rootReal)).isDirectory()) throw new Error(`${this.opts.root} is not a directory`);
    const socket = dgram.createSocket(isIP(this.host) === 6 ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ address: this.host, port: this.opts.port ?? SERVER_PORT_DEFAULT }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // Nothing the network sends may bring the server down; a send that fails
    // is as good as a lost datagram.
    socket.on("error", () => {});
    socket.on("message", (msg, rinfo) => this.wan.deliver(() => this.onRequest(socket, msg, rinfo)));
    this.socket = socket;
    this.stopping = false;
    const a = socket.address();
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.stopping = true;
    this.wan.clear();
    await Promise.all([...this.sessions.values()].map((s) => s.end("server stopped", ERROR_CODE.NOT_DEFINED)));
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** @internal */
  forget(key: string): void {
    this.sessions.delete(key);
  }

  /** @internal */
  logLine(line: string): void {
    this.opts.log?.(line);
  }

  private onRequest(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.socket !== socket) return; // stopped meanwhile
    const d = decode(msg);
    // Garbage and stray DATA/ACK on the well-known port get no answer: a
    // server must not be made to reflect traffic at a forged source.
    if (!d.ok || (d.packet.op !== "rrq" && d.packet.op !== "wrq")) return;
    const p = d.packet;
    const client = `${rinfo.address}:${rinfo.port}`;
    // The client sent its request again before our first answer reached it.
    if (this.sessions.has(client)) return;
    const record: TftpRequestRecord = { file: p.file, client, atMs: Date.now() };
    this.requests.push(record);
    const refuse = (code: number, message: string) => {
      record.error = `error ${code}: ${message}`;
      this.logLine(`${new Date(record.atMs).toISOString()} ${client} ${p.op.toUpperCase()} ${p.file}: ${record.error}`);
      const pkt = encodeError(code, message);
      this.wan.transmit(pkt.length, () => socket.send(pkt, rinfo.port, rinfo.address));
    };
    if (p.op === "wrq") return refuse(ERROR_CODE.ACCESS_VIOLATION, "this server is read-only");
    if (p.mode !== "octet") return refuse(ERROR_CODE.ILLEGAL_OPERATION, `mode '${p.mode}' is not served: octet only`);
    if (this.sessions.size >= SESSIONS_MAX) return refuse(ERROR_CODE.NOT_DEFINED, "server busy, try again later");
    const session = new Session(this, this.rootReal, this.maxBlksize, record, p.file, p.options, rinfo);
    this.sessions.set(client, session);
    session.start().catch((e: unknown) => session.end(`internal error: ${(e as Error).message}`, ERROR_CODE.NOT_DEFINED));
  }
}

// ---- one transfer ----

class Session {
  private socket: dgram.Socket;
  private fh: FileHandle | undefined;
  private state: "opening" | "oack" | "data" | "done" = "opening";
  private terms!: Negotiated;
  private oackPkt: Buffer | undefined;
  private fileBytes = 0;
  /** The final block, counted from 1 without wrapping (a file that is a
   *  multiple of blksize ends with an empty block, RFC 1350 section 6). */
  private lastBlock = 1;
  private acked = 0;
  private sentHigh = 0;
  /** A window was restarted since the last full-window ACK: a duplicate ACK
   *  then does not restart it again (else every duplicate of a window would
   *  breed another: the Sorcerer's Apprentice, RFC 1123 4.2.3.1). */
  private restarted = false;
  private chunk: Buffer = Buffer.alloc(0);
  private chunkStart = 0;
  /** A read of the file is under way; datagrams wait in the inbox. */
  private loading = false;
  private inbox: Buffer[] = [];
  private timeoutMs = SERVER_TIMEOUT_DEFAULT_SEC * 1000;
  private retriesLeft = SERVER_RETRIES;
  private armedAtMs = 0;
  /** Datagrams handed to the WAN that have not left yet: no timeout runs for
   *  data still in our own queue. */
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedMs = performance.now();
  private closed: Promise<void> | undefined;

  constructor(
    private readonly server: TftpServer,
    private readonly rootReal: string,
    private readonly maxBlksize: number,
    private readonly record: TftpRequestRecord,
    private readonly file: string,
    private readonly options: TftpOption[],
    private readonly client: dgram.RemoteInfo,
  ) {
    this.socket = dgram.createSocket(client.family === "IPv6" ? "udp6" : "udp4");
  }

  async start(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.socket.once("error", reject);
        this.socket.bind({ address: this.server.host, port: 0 }, () => {
          this.socket.off("error", reject);
          resolve();
        });
      });
    } catch (e) {
      await this.end(`cannot open a socket: ${(e as Error).message}`, undefined);
      return;
    }
    this.socket.on("error", (e) => void this.end(`socket: ${e.message}`, undefined));
    this.socket.on("message", (msg, rinfo) => this.server.wan.deliver(() => this.receive(msg, rinfo)));
    const where = await locate(this.rootReal, this.file);
    if (this.isDone()) return;
    if (!where.ok) return void this.end(where.message, where.code);
    try {
      // O_NONBLOCK: opening a FIFO someone left under the root must not hang us.
      this.fh = await open(where.path, constants.O_RDONLY | constants.O_NONBLOCK);
      if (this.isDone()) return void (await this.fh.close());
      const st = await this.fh.stat();
      if (!st.isFile()) return void this.end("not a regular file", ERROR_CODE.ACCESS_VIOLATION);
      this.fileBytes = st.size;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return void this.end(`cannot open: ${code ?? String(e)}`, code === "EACCES" ? ERROR_CODE.ACCESS_VIOLATION : ERROR_CODE.NOT_DEFINED);
    }
    if (this.isDone()) return;
    const { oack, negotiated } = grantOptions(this.options, { maxBlksize: this.maxBlksize, windowMaxBytes: WINDOW_MAX_BYTES, fileBytes: this.fileBytes });
    this.terms = negotiated;
    this.lastBlock = Math.floor(this.fileBytes / negotiated.blksize) + 1;
    if (negotiated.timeoutSec !== undefined) this.timeoutMs = negotiated.timeoutSec * 1000;
    this.retriesLeft = SERVER_RETRIES;
    if (oack.length > 0) {
      // RFC 2347: the OACK, then DATA 1 once the client ACKs block 0.
      this.state = "oack";
      this.oackPkt = encodeOack(oack);
      this.transmit(this.oackPkt);
      this.arm();
    } else {
      this.state = "data";
      this.sendWindow(1);
    }
    this.drain();
  }

  /** The state as of now (after an await, not as the compiler last saw it). */
  private isDone(): boolean {
    return this.state === "done";
  }

  // ---- sending ----

  private transmit(pkt: Buffer): void {
    const wan = this.server.wan;
    if (!wan.active) {
      this.socket.send(pkt, this.client.port, this.client.address);
      this.server.sent(pkt.length);
      this.armedAtMs = performance.now();
      return;
    }
    this.queued++;
    wan.transmit(pkt.length, () => {
      this.queued--;
      if (this.state === "done") return;
      this.socket.send(pkt, this.client.port, this.client.address);
      this.server.sent(pkt.length);
      this.armedAtMs = performance.now();
    });
  }

  /** Sends blocks from `from` to the end of the window (RFC 7440: after a
   *  block acknowledged, the next window starts right after it). */
  private sendWindow(from: number): void {
    const { blksize, windowsize } = this.terms;
    const to = Math.min(from + windowsize - 1, this.lastBlock);
    const startByte = (from - 1) * blksize;
    const endByte = Math.min(to * blksize, this.fileBytes);
    if (startByte < this.chunkStart || endByte > this.chunkStart + this.chunk.length) {
      this.loading = true;
      this.load(startByte, Math.max(READ_CHUNK_BYTES, endByte - startByte)).then(
        () => {
          this.loading = false;
          if (this.state === "done") return;
          this.sendWindow(from);
          this.drain();
        },
        (e) => void this.end(`read failed: ${(e as Error).message}`, ERROR_CODE.NOT_DEFINED),
      );
      return;
    }
    for (let block = from; block <= to; block++) {
      const at = (block - 1) * blksize;
      const n = Math.min(blksize, this.fileBytes - at);
      const pkt = Buffer.allocUnsafe(DATA_HEADER_BYTES + n);
      writeDataHeader(pkt, wireBlock(block));
      this.chunk.copy(pkt, DATA_HEADER_BYTES, at - this.chunkStart, at - this.chunkStart + n);
      this.record.firstDataMs ??= performance.now();
      this.record.sentBytes = (this.record.sentBytes ?? 0) + n;
      if (this.server.dropThis()) {
        this.record.dropped = (this.record.dropped ?? 0) + 1;
        continue;
      }
      this.transmit(pkt);
    }
    this.sentHigh = to;
    this.arm();
  }

  private async load(startByte: number, wantBytes: number): Promise<void> {
    const len = Math.min(wantBytes, this.fileBytes - startByte);
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh!.read(buf, got, len - got, startByte + got);
      if (bytesRead === 0) throw new Error(`file shrank to ${startByte + got} bytes of ${this.fileBytes} while being sent`);
      got += bytesRead;
    }
    // A fresh buffer each time: datagrams already handed to the WAN keep
    // their own copies, but a view would be overwritten under them.
    this.chunk = buf;
    this.chunkStart = startByte;
  }

  // ---- the timer: one timeout checked against a moving deadline ----

  private arm(): void {
    if (!this.server.wan.active) this.armedAtMs = performance.now();
    if (this.timer === undefined) this.timer = setTimeout(() => this.onTimer(), this.timeoutMs);
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.state === "done") return;
    const left = this.armedAtMs + this.timeoutMs - performance.now();
    if (left > 0 || this.loading || this.queued > 0) {
      this.timer = setTimeout(() => this.onTimer(), left > 0 ? Math.ceil(left) : this.timeoutMs);
      return;
    }
    if (this.retriesLeft === 0) {
      void this.end(`timeout: no ACK ${this.state === "oack" ? "of the OACK" : `for block ${this.acked + 1}`} after ${SERVER_RETRIES} retries`, undefined);
      return;
    }
    this.retriesLeft--;
    this.timeoutMs = Math.min(this.timeoutMs * 2, SERVER_BACKOFF_MAX_MS);
    this.restarted = false;
    if (this.state === "oack") {
      this.transmit(this.oackPkt!);
      this.arm();
    } else {
      this.sendWindow(this.acked + 1);
    }
  }

  // ---- receiving ----

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.state === "done") return;
    if (rinfo.port !== this.client.port || rinfo.address !== this.client.address) {
      // RFC 1350 section 4: another TID gets ERROR 5 and changes nothing.
      // An ERROR is never answered with one.
      if (msg.length >= 2 && msg[0] === 0 && msg[1] === 5) return;
      const pkt = encodeError(ERROR_CODE.UNKNOWN_TID, errorText(ERROR_CODE.UNKNOWN_TID));
      this.server.wan.transmit(pkt.length, () => this.socket.send(pkt, rinfo.port, rinfo.address));
      return;
    }
    if (this.loading || this.state === "opening") {
      this.inbox.push(msg);
      return;
    }
    this.handle(msg);
  }

  private drain(): void {
    while (!this.loading && this.state !== "done" && this.inbox.length > 0) this.handle(this.inbox.shift()!);
  }

  private handle(msg: Buffer): void {
    const d = decode(msg);
    if (!d.ok) return;
    const p = d.packet;
    if (p.op === "error") {
      // The client gave up, or refused our OACK (RFC 2347: ERROR 8).
      void this.end(`client sent error ${p.code} (${errorText(p.code)})${p.message ? `: ${p.message}` : ""}`, undefined);
      return;
    }
    if (p.op !== "ack") return;
    if (this.state === "oack") {
      if (p.block !== 0) return;
      this.state = "data";
      this.progress();
      this.sendWindow(1);
      return;
    }
    if (this.state !== "data") return;
    // Which block, counted without wrapping: the only candidates are those
    // from the last one acknowledged to the last one sent.
    const delta = (p.block - wireBlock(this.acked)) & 0xffff;
    if (delta > this.sentHigh - this.acked) return; // stale or bogus
    const block = this.acked + delta;
    if (block > this.acked) {
      this.acked = block;
      this.progress();
      if (block === this.lastBlock) {
        this.record.bytes = this.fileBytes;
        void this.end(undefined, undefined);
        return;
      }
      // A whole window acknowledged: the next one. Part of it: RFC 7440
      // section 4, the receiver saw a gap, restart right after its ACK.
      this.restarted = block !== this.sentHigh;
      this.sendWindow(block + 1);
    } else if (this.terms.windowsize > 1 && !this.restarted && this.queued === 0 && this.sentHigh > this.acked) {
      // The ACK before the window again: its first block was lost.
      // Lockstep never gets here: a duplicate ACK there is ignored (RFC 1123).
      this.restarted = true;
      this.sendWindow(block + 1);
    }
  }

  private progress(): void {
    this.retriesLeft = SERVER_RETRIES;
    this.timeoutMs = (this.terms.timeoutSec ?? SERVER_TIMEOUT_DEFAULT_SEC) * 1000;
  }

  // ---- the end ----

  /** An ERROR to the client before the socket closes: through the WAN like
   *  everything else, unless the server is stopping. */
  private sendLastWords(pkt: Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      const send = () => {
        try {
          this.socket.send(pkt, this.client.port, this.client.address, () => resolve());
        } catch {
          resolve(); // the socket never came up
        }
      };
      if (this.server.stopping) send();
      else this.server.wan.transmit(pkt.length, send);
    });
  }

  /** Ends the transfer once: `error` undefined is success; `code` sends the
   *  client an ERROR first (undefined: the client knows already). */
  end(error: string | undefined, code: number | undefined): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.state = "done";
    this.inbox = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const r = this.record;
    r.endMs = performance.now();
    const ms = r.endMs - this.startedMs;
    let line = `${new Date(r.atMs).toISOString()} ${r.client} RRQ ${r.file}`;
    const asked = this.options.map((o) => `${o.name}=${o.value}`).join(" ");
    if (asked) line += ` [${asked}]`;
    if (error === undefined) {
      const t = this.terms;
      line += `: ${r.bytes} bytes in ${(ms / 1000).toFixed(2)} s, blksize ${t.blksize} windowsize ${t.windowsize}`;
    } else {
      r.error = code === undefined ? error : `error ${code}: ${error}`;
      line += `: ${r.error}`;
    }
    this.server.logLine(line);
    this.server.forget(r.client);
    this.closed = (async () => {
      if (code !== undefined) await this.sendLastWords(encodeError(code, error ?? ""));
      await new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // never bound
        }
      });
      await this.fh?.close().catch(() => {});
    })();
    return this.closed;
  }
}
