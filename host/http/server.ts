// `pfs httpd`'s server: a TFTP root served read-only over HTTP/1.1 (node:http),
// GET and HEAD, one byte range per request (host/http/server-range.ts), a
// strong ETag made of the file's size and mtime and its Last-Modified, and
// If-Range honoured, so that a phone resuming a file mid-way never splices
// two versions of it. Nothing outside the root is served
// (host/http/server-path.ts). Behind the same emulated WAN as `pfs tftpd`
// (host/http/server-pacer.ts). It keeps a record of every request, as
// TftpServer does, so tests read what was sent from the server itself.

import { constants } from "node:fs";
import { FileHandle, open, realpath, stat } from "node:fs/promises";
import http from "node:http";
import { AddressInfo } from "node:net";
import { answerRange } from "./server-range.js";
import { locateUnder, targetName } from "./server-path.js";
import { HttpWan } from "./server-pacer.js";

export interface HttpServerOptions {
  /** The directory served; nothing outside it is ever read. */
  root: string;
  /** Address to listen on (default 0.0.0.0). */
  host?: string;
  /** TCP port (0 picks a free one). */
  port: number;
  /** Emulated WAN bandwidth for everything sent, kbit/s (0 or absent: none). */
  wanKbps?: number;
  /** Emulated WAN round trip, ms: half on each request, half on each write. */
  wanRttMs?: number;
  /** Called with one line per request, when it ends. */
  log?: (line: string) => void;
}

export interface HttpRequestRecord {
  method: string;
  /** The request target as sent (path and query, undecoded). */
  target: string;
  /** The file served, relative to the root (undefined: none was). */
  file?: string;
  /** The Range header as sent, if any. */
  range?: string;
  ifRange?: string;
  status: number;
  /** Body bytes handed to the socket (0 for HEAD and refusals). */
  bytes: number;
  /** "address:port" of the client. */
  client: string;
  /** When the request arrived (Date.now()). */
  atMs: number;
  /** Why it failed or was cut short (a refusal's reason, a client gone). */
  error?: string;
}

export const HTTP_HOST_DEFAULT = "0.0.0.0";
/** Bytes read from the file and written at a time: one PFS block (16 KiB),
 *  small enough that responses sharing the WAN interleave finely (65 ms at
 *  2 Mbit/s). */
export const HTTP_WRITE_CHUNK_BYTES = 16 << 10;
/** Connections at once (as `pfs tftpd`'s SESSIONS_MAX); more are refused by
 *  the kernel's listen queue and Node. */
export const HTTP_CONNECTIONS_MAX = 1024;
/** What the WAN is charged for a response's status line and headers: about
 *  what node:http writes for ours (about 250 bytes, measured with curl -v). */
export const HEAD_BYTES_ESTIMATE = 256;
/** If-Range with a date matches only a Last-Modified this far in the past:
 *  a file changed twice within one second has the same date (RFC 9110
 *  8.8.2.2: a date is a strong validator only a second after the change). */
export const DATE_STRONG_AFTER_MS = 1000;

/** A strong entity tag: size and mtime (nanoseconds), like most servers'. */
export function entityTag(sizeBytes: number, mtimeNs: bigint): string {
  return `"${sizeBytes.toString(16)}-${mtimeNs.toString(16)}"`;
}

export class HttpServer {
  readonly requests: HttpRequestRecord[] = [];
  readonly wan: HttpWan;
  private server: http.Server | undefined;
  private rootReal = "";

  constructor(private readonly opts: HttpServerOptions) {
    this.wan = new HttpWan(opts.wanKbps ?? 0, opts.wanRttMs ?? 0);
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.server !== undefined) throw new Error("HttpServer already started");
    this.rootReal = await realpath(this.opts.root);
    if (!(await stat(this.rootReal)).isDirectory()) throw new Error(`${this.opts.root} is not a directory`);
    const server = http.createServer({ keepAlive: true });
    server.maxConnections = HTTP_CONNECTIONS_MAX;
    server.on("request", (req, res) => {
      void this.wan.inbound().then(() => this.serve(req, res)).catch((e: unknown) => this.crash(res, e));
    });
    // A client that sends garbage gets Node's 400 and is dropped; nothing the
    // network sends may bring the server down.
    server.on("clientError", (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.opts.host ?? HTTP_HOST_DEFAULT, port: this.opts.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private crash(res: http.ServerResponse, e: unknown): void {
    this.opts.log?.(`pfs httpd: internal error: ${(e as Error).message}`);
    if (!res.headersSent) res.writeHead(500, { "Content-Length": 0 }).end();
    else res.destroy();
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const range = header(req, "range");
    const ifRange = header(req, "if-range");
    const record: HttpRequestRecord = {
      method: req.method ?? "", target: req.url ?? "", status: 0, bytes: 0, atMs: Date.now(),
      client: `${req.socket.remoteAddress}:${req.socket.remotePort}`, ...(range !== undefined && { range }), ...(ifRange !== undefined && { ifRange }),
    };
    this.requests.push(record);
    res.on("close", () => this.logRecord(record, res));
    if (this.server === undefined) return void (await this.refuse(res, record, 503, "server stopping"));
    if (record.method !== "GET" && record.method !== "HEAD") return void (await this.refuse(res, record, 405, `method ${record.method} not served`, { Allow: "GET, HEAD" }));
    const t = targetName(req.url);
    if (!t.ok) return void (await this.refuse(res, record, t.status, t.why));
    const where = await locateUnder(this.rootReal, t.name);
    if (!where.ok) return void (await this.refuse(res, record, where.status, where.why));
    let fh: FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO someone left under the root must not hang us.
      fh = await open(where.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      return void (await this.refuse(res, record, 404, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`));
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) return void (await this.refuse(res, record, 404, "not a regular file"));
      record.file = t.name;
      await this.answer(req, res, record, fh, Number(st.size), st.mtimeNs);
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** The file's answer: whole, a part, or 416. */
  private async answer(req: http.IncomingMessage, res: http.ServerResponse, record: HttpRequestRecord, fh: FileHandle, sizeBytes: number, mtimeNs: bigint): Promise<void> {
    const etag = entityTag(sizeBytes, mtimeNs);
    const mtimeMs = Number(mtimeNs / 1_000_000n);
    const lastModified = new Date(mtimeMs).toUTCString();
    const headers: http.OutgoingHttpHeaders = { "Accept-Ranges": "bytes", ETag: etag, "Last-Modified": lastModified, "Content-Type": "application/octet-stream" };
    // If-Range (RFC 9110 13.1.5): the range only if the validator is still
    // this file's; else the whole file, so nothing stale is ever spliced.
    const fresh = record.ifRange === undefined || validatorMatches(record.ifRange, etag, lastModified, mtimeMs);
    let a = answerRange(fresh ? record.range : undefined, sizeBytes);
    if (record.range !== undefined && !fresh) a = { kind: "whole", why: "If-Range validator is stale" };
    if (a.kind === "unsatisfiable") return void (await this.refuse(res, record, 416, `range ${record.range} beyond ${sizeBytes} bytes`, { "Content-Range": `bytes */${sizeBytes}`, ...headers }));
    if (a.kind === "whole" && a.why !== undefined && record.range !== undefined) record.error = `Range ignored: ${a.why}`;
    const first = a.kind === "part" ? a.first : 0;
    const last = a.kind === "part" ? a.last : sizeBytes - 1;
    const length = last - first + 1;
    if (a.kind === "part") headers["Content-Range"] = `bytes ${first}-${last}/${sizeBytes}`;
    headers["Content-Length"] = length;
    record.status = a.kind === "part" ? 206 : 200;
    await this.wan.head(HEAD_BYTES_ESTIMATE);
    if (res.destroyed) return;
    res.writeHead(record.status, headers);
    if (req.method === "HEAD") return void res.end();
    await this.sendBody(res, record, fh, first, length);
  }

  /** Writes `length` bytes from `first`, a chunk at a time through the WAN,
   *  waiting for the client to drain each; stops if the client goes away. */
  private async sendBody(res: http.ServerResponse, record: HttpRequestRecord, fh: FileHandle, first: number, length: number): Promise<void> {
    let sent = 0;
    while (sent < length) {
      // A buffer per write: the socket may hold on to it after write() returns.
      const chunk = Buffer.allocUnsafe(Math.min(HTTP_WRITE_CHUNK_BYTES, length - sent));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, first + sent);
      if (bytesRead === 0) {
        // The file shrank under us: the client sees a body shorter than its
        // Content-Length, as it would from any server, and must not keep it.
        record.error = `file ended at ${first + sent} of ${first + length}`;
        return void res.destroy();
      }
      await this.wan.body(bytesRead);
      if (res.destroyed) return;
      const drained = res.write(chunk.subarray(0, bytesRead));
      sent += bytesRead;
      record.bytes = sent;
      if (!drained && !(await drainedOrClosed(res))) return;
    }
    if (!(sent === length)) throw new Error(`sent ${sent} of ${length}`);
    res.end();
  }

  private async refuse(res: http.ServerResponse, record: HttpRequestRecord, status: number, why: string, extra: http.OutgoingHttpHeaders = {}): Promise<void> {
    record.status = status;
    record.error = why;
    await this.wan.head(HEAD_BYTES_ESTIMATE);
    if (res.destroyed) return;
    const body = `${status} ${http.STATUS_CODES[status] ?? ""}\n`;
    const isHead = record.method === "HEAD";
    res.writeHead(status, { ...extra, "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
    res.end(isHead ? undefined : body);
  }

  private logRecord(r: HttpRequestRecord, res: http.ServerResponse): void {
    if (!res.writableFinished && r.status >= 200 && r.status < 300) r.error ??= "client went away";
    let line = `${new Date(r.atMs).toISOString()} ${r.client} ${r.method} ${r.target}`;
    if (r.range !== undefined) line += ` [Range ${r.range}${r.ifRange !== undefined ? ` If-Range ${r.ifRange}` : ""}]`;
    line += `: ${r.status} ${r.bytes} bytes`;
    if (r.error !== undefined) line += ` (${r.error})`;
    this.opts.log?.(line);
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/** If-Range's validator against the file's: an ETag must match strongly
 *  (a weak one never does); a date must equal Last-Modified and be strong. */
export function validatorMatches(validator: string, etag: string, lastModified: string, mtimeMs: number): boolean {
  const v = validator.trim();
  if (v.startsWith('"')) return v === etag;
  if (v.startsWith("W/")) return false;
  return v === lastModified && Date.now() - mtimeMs >= DATE_STRONG_AFTER_MS;
}

function drainedOrClosed(res: http.ServerResponse): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const done = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}
