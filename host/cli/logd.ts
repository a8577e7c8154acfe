// `pfs logd`: our own log server for the fleet's syslog (docs/LOGGING.md):
// one append-only file per phone, malformed datagrams kept raw and counted,
// a live one-line-per-phone summary, and with --web the fleet page. Runs
// until Ctrl-C.

import { Command } from "commander";
import { runLogd } from "../logd/logd.js";
import { hostPortOption, HostPort, onRun, Out, pfsCommand, runAlone, textOption } from "./args.js";
import { untilStopped } from "./until-stopped.js";

interface LogdOpts {
  listen: HostPort;
  out: string;
  web?: HostPort;
}

export function logdCli(out: Out, stop?: AbortSignal): Command {
  const cmd = pfsCommand("logd", "a log server for the phones' syslog: files per phone, a live summary", out)
    .description("Receives RFC 5424 syslog over UDP from the phones (pfs phone --log-server, <logServer> in SEP<MAC>.cnf.xml), appends each message to SEP<MAC>.log under --out, keeps every datagram that is not one of ours in malformed.log (escaped, counted), and prints one line per phone: MAC, address, load, roles, percent of the load, rate, last event. Runs until Ctrl-C.")
    .addOption(hostPortOption("--listen <host:port>", "address and UDP port to receive on; port 0: any free one", { defaultPort: 514, minPort: 0, dflt: { shown: "0.0.0.0:514" } }))
    .addOption(textOption("--out <dir>", "where the phone files and malformed.log go (made if missing)", "pfs-logs"))
    .addOption(hostPortOption("--web <host:port>", "also serve the live fleet page here (HTTP)", { defaultPort: 8080, dflt: { shown: "no page" } }));
  return onRun<LogdOpts>(cmd, (o) => serve(o, out, stop));
}

/** `pfs logd ARGV` in this process; serves until `stop` aborts. */
export function logdCommand(argv: string[], out: Out, stop?: AbortSignal): Promise<number> {
  return runAlone(logdCli(out, stop), argv, out);
}

async function serve(o: LogdOpts, out: Out, stop: AbortSignal | undefined): Promise<number> {
  const listen = o.listen ?? { host: "0.0.0.0", port: 514 };
  let logd;
  try {
    logd = await runLogd({ listen, out: o.out, web: o.web, print: out, tty: process.stdout.isTTY ? process.stdout : undefined });
  } catch (e) {
    process.stderr.write(`pfs logd: cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message}\n`);
    return 1;
  }
  out(`pfs logd: listening on ${logd.address.host}:${logd.address.port}, writing to ${o.out}${logd.webUrl === undefined ? "" : `, fleet page at ${logd.webUrl}`}`);
  await untilStopped(stop);
  await logd.close();
  out(`pfs logd: stopped: ${logd.store.stored} messages stored, ${logd.store.malformed} malformed`);
  return 0;
}
