// `pfs tftpd`: our TFTP server on a directory, read-only, with optional WAN
// emulation; one line per request as each ends. Runs until Ctrl-C.

import { Command } from "commander";
import { BLKSIZE_MAX_BYTES, BLKSIZE_MIN_BYTES } from "../tftp/options.js";
import { TftpServer } from "../tftp/server.js";
import { hostPortOption, HostPort, intOption, numOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError } from "./args.js";
import { untilStopped } from "./until-stopped.js";

/** The emulated WAN's limits: beyond them nothing is emulated any more. */
const WAN_KBPS_MAX = 10_000_000;
const WAN_RTT_MAX_MS = 10_000;

interface TftpdOpts {
  root: string;
  listen: HostPort;
  wanKbps: number;
  wanRttMs: number;
  maxBlksize: number;
}

export function tftpdCli(out: Out, stop?: AbortSignal): Command {
  const cmd = pfsCommand("tftpd", "serve a directory over TFTP, optionally over an emulated WAN", out)
    .description("Serves a directory, read-only, in octet mode with blksize, tsize, timeout and windowsize; prints one line per request as each ends. Runs until Ctrl-C.")
    .addOption(required(textOption("--root <dir>", "the directory served, read-only; nothing outside it is ever read")))
    .addOption(required(hostPortOption("--listen <host:port>", "address and UDP port, e.g. 0.0.0.0:69, 127.0.0.1:6969, [::1]:6969, :6969 (all addresses); port 0: any free one", { minPort: 0 })))
    .addOption(numOption("--wan-kbps <w>", "emulate a WAN: pace all that is sent to W kbit/s, shared by all transfers (0: unpaced)", { min: 0, max: WAN_KBPS_MAX }, 0))
    .addOption(numOption("--wan-rtt-ms <r>", "emulate a WAN: hold every datagram R/2 ms on the way out and R/2 on the way in", { min: 0, max: WAN_RTT_MAX_MS }, 0))
    .addOption(intOption("--max-blksize <b>", "the largest blksize granted; 1468 keeps blocks in one Ethernet frame", { min: BLKSIZE_MIN_BYTES, max: BLKSIZE_MAX_BYTES }, BLKSIZE_MAX_BYTES));
  return onRun<TftpdOpts>(cmd, (o) => serve(o, out, stop));
}

/** Serves until `stop` aborts (by default: SIGINT or SIGTERM). */
export function tftpdCommand(argv: string[], out: Out, stop?: AbortSignal): Promise<number> {
  return runAlone(tftpdCli(out, stop), argv, out);
}

async function serve(o: TftpdOpts, out: Out, stop: AbortSignal | undefined): Promise<number> {
  const { root, wanKbps, wanRttMs, maxBlksize } = o;
  const { host, port } = o.listen;
  if (root === "") throw new UsageError("--root needs a directory");
  const server = new TftpServer({ root, host, port, wanKbps, wanRttMs, maxBlksize, log: out });
  let bound: { host: string; port: number };
  try {
    bound = await server.start();
  } catch (e) {
    process.stderr.write(`pfs tftpd: cannot serve ${root} on ${host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const wan = wanKbps > 0 || wanRttMs > 0 ? `, WAN ${wanKbps > 0 ? `${wanKbps} kbit/s` : "unpaced"} ${wanRttMs} ms RTT` : "";
  out(`pfs tftpd: serving ${root} on ${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}${wan}`);
  await untilStopped(stop);
  await server.stop();
  out(`pfs tftpd: stopped after ${server.requests.length} requests`);
  return 0;
}
