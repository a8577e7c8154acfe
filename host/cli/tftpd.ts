// `pfs tftpd`: our TFTP server on a directory, read-only, with optional WAN
// emulation; one line per request as each ends. Runs until Ctrl-C.

import { isIP } from "node:net";
import { BLKSIZE_MAX_BYTES, BLKSIZE_MIN_BYTES } from "../tftp/options.js";
import { TftpServer } from "../tftp/server.js";
import { num, parse, UsageError } from "./args.js";

export const TFTPD_USAGE = `usage: pfs tftpd --root <dir> --listen <host:port> [--wan-kbps W] [--wan-rtt-ms R] [--max-blksize B]
  --root DIR        the directory served, read-only; nothing outside it is ever read
  --listen H:P      address and UDP port, e.g. 0.0.0.0:69, 127.0.0.1:6969, [::1]:6969
  --wan-kbps W      emulate a WAN: pace all that is sent to W kbit/s, shared by all transfers
  --wan-rtt-ms R    emulate a WAN: hold every datagram R/2 ms on the way out and R/2 on the way in
  --max-blksize B   the largest blksize granted (${BLKSIZE_MIN_BYTES}..${BLKSIZE_MAX_BYTES}, default ${BLKSIZE_MAX_BYTES});
                    1468 keeps blocks in one Ethernet frame
Serves octet mode with blksize, tsize, timeout and windowsize; prints one line per request.`;

/** "host:port", "[v6]:port" or ":port" (all addresses). */
export function hostPort(value: string | boolean | (string | boolean)[] | undefined, name: string, usage: string): { host: string; port: number } {
  if (typeof value !== "string") throw new UsageError(`--${name} is required, as host:port\n\n${usage}`);
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const host = m === null ? "" : (m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]));
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535) || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new UsageError(`--${name} needs host:port, e.g. 127.0.0.1:6969 or [::1]:6969 (got ${JSON.stringify(value)})\n\n${usage}`);
  }
  return { host, port };
}

function nonNegative(value: number, name: string): number {
  if (!(value >= 0)) throw new UsageError(`--${name} must be 0 or more (got ${value})\n\n${TFTPD_USAGE}`);
  return value;
}

/** Serves until `stop` aborts (by default: SIGINT or SIGTERM). */
export async function tftpdCommand(argv: string[], out: (line: string) => void, stop?: AbortSignal): Promise<number> {
  const { values } = parse(argv, {
    root: { type: "string" }, listen: { type: "string" }, "wan-kbps": { type: "string" }, "wan-rtt-ms": { type: "string" },
    "max-blksize": { type: "string" }, help: { type: "boolean" },
  }, TFTPD_USAGE);
  if (values.help) {
    out(TFTPD_USAGE);
    return 0;
  }
  const root = values.root;
  if (typeof root !== "string" || root === "") throw new UsageError(`--root is required\n\n${TFTPD_USAGE}`);
  const { host, port } = hostPort(values.listen, "listen", TFTPD_USAGE);
  const wanKbps = nonNegative(num(values["wan-kbps"], "wan-kbps", 0, TFTPD_USAGE), "wan-kbps");
  const wanRttMs = nonNegative(num(values["wan-rtt-ms"], "wan-rtt-ms", 0, TFTPD_USAGE), "wan-rtt-ms");
  const maxBlksize = num(values["max-blksize"], "max-blksize", BLKSIZE_MAX_BYTES, TFTPD_USAGE);
  if (!Number.isInteger(maxBlksize) || maxBlksize < BLKSIZE_MIN_BYTES || maxBlksize > BLKSIZE_MAX_BYTES) {
    throw new UsageError(`--max-blksize must be a whole number from ${BLKSIZE_MIN_BYTES} to ${BLKSIZE_MAX_BYTES}\n\n${TFTPD_USAGE}`);
  }
  const server = new TftpServer({ root, host, port, wanKbps, wanRttMs, maxBlksize, log: out });
  let bound: { host: string; port: number };
  try {
    bound = await server.start();
  } catch (e) {
    process.stderr.write(`pfs tftpd: cannot serve ${root} on ${values.listen}: ${(e as Error).message}\n`);
    return 1;
  }
  const wan = wanKbps > 0 || wanRttMs > 0 ? `, WAN ${wanKbps > 0 ? `${wanKbps} kbit/s` : "unpaced"} ${wanRttMs} ms RTT` : "";
  out(`pfs tftpd: serving ${root} on ${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}${wan}`);
  await new Promise<void>((resolve) => {
    if (stop !== undefined) {
      if (stop.aborted) resolve();
      stop.addEventListener("abort", () => resolve(), { once: true });
    } else {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }
  });
  await server.stop();
  out(`pfs tftpd: stopped after ${server.requests.length} requests`);
  return 0;
}
