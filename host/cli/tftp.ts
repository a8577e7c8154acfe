// `pfs tftp get`: fetches one file with our TFTP client. The file appears
// under its name only once complete: it is written beside it first and
// renamed at the end, so a failed fetch never leaves a partial file that
// looks whole.

import { open, rename, unlink } from "node:fs/promises";
import { basename } from "node:path";
import { TftpError, tftpGet } from "../tftp/client.js";
import { BLKSIZE_MAX_BYTES, BLKSIZE_MIN_BYTES, WINDOWSIZE_MAX, WINDOWSIZE_MIN } from "../tftp/options.js";
import { num, parse, UsageError } from "./args.js";
import { hostPort } from "./tftpd.js";

export const TFTP_USAGE = `usage: pfs tftp get --server <host:port> --file <name> [--out <path>] [--blksize B] [--windowsize W]
                    [--tsize] [--timeout-sec S] [--retries N]
  --server H:P      the TFTP server, e.g. 10.0.0.1:69
  --file NAME       the file to read (octet mode)
  --out PATH        where to write it (default: the file's base name, here)
  --blksize B       ask for blocks of B bytes (${BLKSIZE_MIN_BYTES}..${BLKSIZE_MAX_BYTES}, RFC 2348; default: 512, not asked)
  --windowsize W    ask for W blocks per ACK (${WINDOWSIZE_MIN}..${WINDOWSIZE_MAX}, RFC 7440; default: 1, not asked)
  --tsize           ask for the size and check the bytes against it (RFC 2349)
  --timeout-sec S   first retransmission timeout, doubled on each retry (default 1);
                    a whole number is also asked as the timeout option (RFC 2349)
  --retries N       retransmissions without progress before giving up (default 5)`;

/** Blocks are gathered and written this much at a time. */
export const WRITE_BATCH_BYTES = 1 << 20;
/** Batches handed to the file system but not yet written; past this the
 *  transfer waits for the disk. Below it the network never waits for the
 *  disk (the writes run on libuv's pool while blocks keep arriving). */
export const WRITE_BACKLOG_BYTES = 4 * WRITE_BATCH_BYTES;

function whole(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${value})\n\n${TFTP_USAGE}`);
  return value;
}

export async function tftpCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    out(TFTP_USAGE);
    return 0;
  }
  if (sub !== "get") throw new UsageError(`${sub === undefined ? "a subcommand is needed" : `unknown tftp subcommand '${sub}'`}\n\n${TFTP_USAGE}`);
  const { values } = parse(rest, {
    server: { type: "string" }, file: { type: "string" }, out: { type: "string" }, blksize: { type: "string" }, windowsize: { type: "string" },
    tsize: { type: "boolean" }, "timeout-sec": { type: "string" }, retries: { type: "string" }, help: { type: "boolean" },
  }, TFTP_USAGE);
  if (values.help) {
    out(TFTP_USAGE);
    return 0;
  }
  const { host, port } = hostPort(values.server, "server", TFTP_USAGE);
  if (port === 0) throw new UsageError(`--server needs a port from 1 to 65535\n\n${TFTP_USAGE}`);
  const file = values.file;
  if (typeof file !== "string" || file === "") throw new UsageError(`--file is required\n\n${TFTP_USAGE}`);
  const blksize = values.blksize === undefined ? undefined : whole(num(values.blksize, "blksize", 0, TFTP_USAGE), "blksize", BLKSIZE_MIN_BYTES, BLKSIZE_MAX_BYTES);
  const windowsize = values.windowsize === undefined ? undefined : whole(num(values.windowsize, "windowsize", 0, TFTP_USAGE), "windowsize", WINDOWSIZE_MIN, WINDOWSIZE_MAX);
  // Only a --timeout-sec given is asked as the timeout option.
  const timeoutSec = values["timeout-sec"] === undefined ? undefined : num(values["timeout-sec"], "timeout-sec", 1, TFTP_USAGE);
  if (timeoutSec !== undefined && !(timeoutSec > 0)) throw new UsageError(`--timeout-sec must be more than 0\n\n${TFTP_USAGE}`);
  const retries = whole(num(values.retries, "retries", 5, TFTP_USAGE), "retries", 0, 1000);
  const target = typeof values.out === "string" ? values.out : basename(file.replaceAll("\\", "/"));
  const partial = `${target}.part-${process.pid}`;

  const fh = await open(partial, "w");
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
      host, port, file, blksize, windowsize, tsize: values.tsize === true, timeoutSec, retries,
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
