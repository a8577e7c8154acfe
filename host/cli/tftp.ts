// `pfs tftp get`: fetches one file with our TFTP client. The file appears
// under its name only once complete: it is written beside it first and
// renamed at the end, so a failed fetch never leaves a partial file that
// looks whole.

import { open, rename, unlink } from "node:fs/promises";
import { basename } from "node:path";
import { Command } from "commander";
import { BACKOFF_MAX_MS, CLIENT_RETRIES_DEFAULT, CLIENT_TIMEOUT_DEFAULT_MS, CLIENT_TIMEOUT_DEFAULT_SEC, silenceLimitMs, TftpError, tftpGet, TftpRetry } from "../tftp/client.js";
import { BLKSIZE_MAX_BYTES, BLKSIZE_MIN_BYTES, WINDOWSIZE_MAX, WINDOWSIZE_MIN } from "../tftp/options.js";
import { flagOption, hostPortOption, HostPort, intOption, numOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError } from "./args.js";

/** Blocks are gathered and written this much at a time. */
export const WRITE_BATCH_BYTES = 1 << 20;
/** Batches handed to the file system but not yet written; past this the
 *  transfer waits for the disk. Below it the network never waits for the
 *  disk (the writes run on libuv's pool while blocks keep arriving). */
export const WRITE_BACKLOG_BYTES = 4 * WRITE_BATCH_BYTES;

/** The timeout option's range in seconds (RFC 2349); ours may be finer. */
const TIMEOUT_MAX_SEC = 255;
/** Node's timers count whole milliseconds: a shorter timeout is none. */
const TIMEOUT_MIN_SEC = 0.001;
/** Retries past this are a loop, not patience. */
const MAX_RETRIES = 1000;

interface GetOpts {
  server: HostPort;
  file: string;
  out?: string;
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  timeoutSec?: number;
  timeoutMs?: number;
  retries: number;
  quiet?: boolean;
}

/** Our first timeout, as asked (--timeout-ms, else --timeout-sec). */
const firstTimeoutMs = (o: GetOpts) => o.timeoutMs ?? (o.timeoutSec !== undefined ? o.timeoutSec * 1000 : CLIENT_TIMEOUT_DEFAULT_MS);

/** The line said before anything is sent: whom we ask, for what, and how
 *  long silence lasts before we give up. */
export function waitingLine(o: GetOpts): string {
  const asked = [o.blksize !== undefined ? `blksize ${o.blksize}` : "", o.windowsize !== undefined ? `windowsize ${o.windowsize}` : "", o.tsize ? "tsize" : "",
    o.timeoutSec !== undefined && Number.isInteger(o.timeoutSec) ? `timeout ${o.timeoutSec}` : ""].filter((x) => x !== "");
  const t = firstTimeoutMs(o);
  return `asking ${o.server.host}:${o.server.port} for '${o.file}' (${asked.length > 0 ? `options ${asked.join(", ")}` : "no options"}); ` +
    `retry after ${t} ms, doubling up to ${BACKOFF_MAX_MS} ms, ${o.retries} retries: giving up after ${(silenceLimitMs(t, o.retries) / 1000).toFixed(1)} s of silence`;
}

export function retryLine(r: TftpRetry): string {
  const what = r.waiting === "request" ? "no answer to the request" : `no block ${r.block} (${r.bytes} bytes so far)`;
  const next = r.attempt === r.retries ? `giving up in ${r.nextWaitMs} ms without an answer` : `next retry in ${r.nextWaitMs} ms`;
  return `  ${what} in ${r.waitedMs} ms: retry ${r.attempt} of ${r.retries} (${r.waiting === "request" ? "request sent again" : "last block acknowledged again"}; ${next})`;
}

export function tftpCli(out: Out): Command {
  const tftp = pfsCommand("tftp", "fetch a file from a TFTP server: pfs tftp get", out);
  const get = pfsCommand("get", "read one file (octet mode) with our TFTP client", out)
    .description("Reads one file (octet mode) with our TFTP client; the file appears under its name only once complete.")
    .addOption(required(hostPortOption("--server <host:port>", "the TFTP server, e.g. 10.0.0.1:69")))
    .addOption(required(textOption("--file <name>", "the file to read")))
    .addOption(textOption("--out <path>", "where to write it", { shown: "the file's base name, here" }))
    .addOption(intOption("--blksize <b>", "ask for blocks of B bytes (RFC 2348)", { min: BLKSIZE_MIN_BYTES, max: BLKSIZE_MAX_BYTES }, { shown: "512, not asked" }))
    .addOption(intOption("--windowsize <w>", "ask for W blocks per ACK (RFC 7440)", { min: WINDOWSIZE_MIN, max: WINDOWSIZE_MAX }, { shown: "1, not asked" }))
    .addOption(flagOption("--tsize", "ask for the size and check the bytes against it (RFC 2349)"))
    .addOption(numOption("--timeout-sec <s>", "first retransmission timeout, doubled on each retry; a whole number is also asked as the timeout option (RFC 2349)", { min: TIMEOUT_MIN_SEC, max: TIMEOUT_MAX_SEC }, { shown: `${CLIENT_TIMEOUT_DEFAULT_SEC}, not asked` }))
    .addOption(intOption("--timeout-ms <ms>", "first retransmission timeout in milliseconds, doubled on each retry up to " + BACKOFF_MAX_MS + "; not asked of the server; wins over --timeout-sec", { min: 1, max: TIMEOUT_MAX_SEC * 1000 }, { shown: `${CLIENT_TIMEOUT_DEFAULT_MS}` }))
    .addOption(intOption("--retries <n>", "retransmissions without progress before giving up", { min: 0, max: MAX_RETRIES }, CLIENT_RETRIES_DEFAULT))
    .addOption(flagOption("--quiet", "print only the final line (no waiting and retry lines)"));
  onRun<GetOpts>(get, (o) => tftpGetRun(o, out));
  return tftp.addCommand(get);
}

/** `pfs tftp ARGV` in this process. */
export function tftpCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(tftpCli(out), argv, out);
}

async function tftpGetRun(values: GetOpts, out: Out): Promise<number> {
  const { host, port } = values.server;
  const { file, blksize, windowsize, retries } = values;
  if (file === "") throw new UsageError("--file needs a file name");
  // Only a --timeout-sec given is asked as the timeout option.
  const timeoutSec = values.timeoutSec;
  const target = values.out !== undefined ? values.out : basename(file.replaceAll("\\", "/"));
  const partial = `${target}.part-${process.pid}`;

  const fh = await open(partial, "w");
  if (!values.quiet) out(waitingLine(values));
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Batches are written one after another, in order, behind the transfer.
  let writes: Promise<void> = Promise.resolve();
  let backlogBytes = 0;
  let writeError: unknown;
  const flush = (): Promise<void> => {
    const batch = pending;
    const bytes = pendingBytes;
    pending = [];
    pendingBytes = 0;
    if (batch.length === 0) return writes;
    backlogBytes += bytes;
    writes = writes.then(async () => {
      if (writeError !== undefined) return;
      try {
        await fh.writev(batch);
      } catch (e) {
        writeError = e;
      } finally {
        backlogBytes -= bytes;
      }
    });
    return writes;
  };
  const t0 = performance.now();
  try {
    const r = await tftpGet({
      host, port, file, blksize, windowsize, tsize: values.tsize === true, timeoutSec, timeoutMs: values.timeoutMs, retries,
      onRetry: values.quiet ? undefined : (r) => out(retryLine(r)),
      onData: (chunk) => {
        if (writeError !== undefined) throw writeError;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < WRITE_BATCH_BYTES) return;
        const written = flush();
        // A promise here holds the transfer until the disk catches up.
        if (backlogBytes > WRITE_BACKLOG_BYTES) return written;
      },
    });
    await flush();
    if (writeError !== undefined) throw writeError;
    await fh.close();
    await rename(partial, target);
    const sec = (performance.now() - t0) / 1000;
    out(`${file}: ${r.bytes} bytes in ${sec.toFixed(2)} s (${(r.bytes / 1e6 / Math.max(sec, 1e-6)).toFixed(1)} MB/s), blksize ${r.blksize}, windowsize ${r.windowsize}` +
      `${r.tsize !== undefined ? `, tsize ${r.tsize} checked` : ""} -> ${target}`);
    return 0;
  } catch (e) {
    await writes;
    await fh.close().catch(() => {});
    await unlink(partial).catch(() => {});
    if (e instanceof TftpError) {
      process.stderr.write(`pfs tftp get: ${e.message}\n`);
      return 1;
    }
    if (e === writeError) {
      process.stderr.write(`pfs tftp get: cannot write ${partial}: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
