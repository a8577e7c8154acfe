// `pfs httpd`: our HTTP server on a TFTP root, read-only, GET and HEAD with
// one byte range per request, optionally behind an emulated WAN (the same as
// `pfs tftpd`'s); one line per request as each ends. Runs until Ctrl-C.

import { Command } from "commander";
import { HttpServer } from "../http/server.js";
import { hostPortOption, HostPort, numOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError } from "./args.js";
import { untilStopped } from "./until-stopped.js";

/** The emulated WAN's limits, as `pfs tftpd`'s: beyond them nothing is
 *  emulated any more. */
const WAN_KBPS_MAX = 10_000_000;
const WAN_RTT_MAX_MS = 10_000;

interface HttpdOpts {
  root: string;
  listen: HostPort;
  wanKbps: number;
  wanRttMs: number;
}

export function httpdCli(out: Out, stop?: AbortSignal): Command {
  const cmd = pfsCommand("httpd", "serve a TFTP root over HTTP with Range, optionally over an emulated WAN", out)
    .description("Serves a directory, read-only, over HTTP/1.1: GET and HEAD, one byte range per request (206, 416), a strong ETag, Last-Modified and If-Range; prints one line per request as each ends. Runs until Ctrl-C. See docs/HTTP.md.")
    .addOption(required(textOption("--root <dir>", "the directory served, read-only; nothing outside it is ever read")))
    .addOption(required(hostPortOption("--listen <host:port>", "address and TCP port, e.g. 0.0.0.0:6970, 127.0.0.1:8080, [::1]:8080, :8080 (all addresses); port 0: any free one", { minPort: 0 })))
    .addOption(numOption("--wan-kbps <w>", "emulate a WAN: pace all that is sent to W kbit/s, shared by all responses (0: unpaced)", { min: 0, max: WAN_KBPS_MAX }, 0))
    .addOption(numOption("--wan-rtt-ms <r>", "emulate a WAN: hold every request R/2 ms on the way in and its answer R/2 on the way out", { min: 0, max: WAN_RTT_MAX_MS }, 0));
  return onRun<HttpdOpts>(cmd, (o) => serve(o, out, stop));
}

/** Serves until `stop` aborts (by default: SIGINT or SIGTERM). */
export function httpdCommand(argv: string[], out: Out, stop?: AbortSignal): Promise<number> {
  return runAlone(httpdCli(out, stop), argv, out);
}

async function serve(o: HttpdOpts, out: Out, stop: AbortSignal | undefined): Promise<number> {
  const { root, wanKbps, wanRttMs } = o;
  const { host, port } = o.listen;
  if (root === "") throw new UsageError("--root needs a directory");
  const server = new HttpServer({ root, host, port, wanKbps, wanRttMs, log: out });
  let bound: { host: string; port: number };
  try {
    bound = await server.start();
  } catch (e) {
    process.stderr.write(`pfs httpd: cannot serve ${root} on ${host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  const wan = wanKbps > 0 || wanRttMs > 0 ? `, WAN ${wanKbps > 0 ? `${wanKbps} kbit/s` : "unpaced"} ${wanRttMs} ms RTT` : "";
  out(`pfs httpd: serving ${root} on http://${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}/${wan}`);
  await untilStopped(stop);
  await server.stop();
  out(`pfs httpd: stopped after ${server.requests.length} requests`);
  return 0;
}
