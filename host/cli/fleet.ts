// `pfs fleet`: a fleet of real phone processes on this machine's loopback,
// upgraded from one TFTP server (ours, embedded, unless --tftp names one).

import { existsSync } from "node:fs";
import { Command } from "commander";
import { PFS_PORT } from "../phone/peer-host.js";
import { MAX_FLEET_MODELS, MAX_FLEET_PROCESSES, NATIVE_PHONE_BIN, nativeIndices, runFleetProcesses } from "../phone/fleet.js";
import { WAN_KBPS_MAX_LIMIT } from "../load/config.js";
import { presetNames } from "../load/presets.js";
import { choiceOption, flagOption, hostPortOption, HostPort, intOption, numOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError , para } from "./args.js";
import { fleetSummary, statusLine } from "./fleet-report.js";
import { MAX_LINGER_SEC, TFTP_PORT, TFTP_WINDOW_RANGE } from "./phone.js";
import { watchFleet, type FleetWatch } from "../web/fleet-watch.js";

/** The emulated WAN's limits, as pfs tftpd takes them. */
const WAN_KBPS_MAX = 10_000_000;
const WAN_RTT_MAX_MS = 10_000;
/** Seconds each phone of a fleet lingers: enough for a late peer on
 *  loopback, short enough for a fleet run to end soon after the last phone. */
export const FLEET_LINGER_SEC = 5;

const ABOUT = `Starts N 'pfs phone' processes on 127.0.0.2 .. 127.0.0.(N+1), each with its
own flash image on a factory load, all booting against one TFTP server
(ours, embedded, serving a root made from the preset, unless --tftp or
--root say otherwise), shows their progress and a final table.`;

export interface FleetOpts {
  phones: number;
  models: number;
  load: string;
  tftp?: HostPort;
  root?: string;
  wanKbps?: number;
  wanRttMs?: number;
  port: number;
  linger: number;
  pfs: boolean;
  tftpWindow?: number;
  wanKbpsMax?: number;
  native?: number;
  keep?: string;
  verbose?: boolean;
  json?: boolean;
  web?: HostPort;
}

export function fleetCli(out: Out): Command {
  const cmd = pfsCommand("fleet", "a fleet of phone processes on this machine, upgraded over real sockets", out)
    .description(para(ABOUT))
    .addOption(required(intOption("--phones <n>", "phone processes to start", { min: 1, max: MAX_FLEET_PROCESSES })))
    .addOption(intOption("--models <m>", "phone models mixed in the fleet (CP-7961G, CP-7941G, CP-7970G)", { min: 1, max: MAX_FLEET_MODELS }, 1))
    .addOption(choiceOption("--load <preset>", "the load they upgrade to", presetNames(), "tiny"))
    .addOption(hostPortOption("--tftp <host:port>", `a TFTP server of your own to boot from instead of the embedded one (port ${TFTP_PORT} if left out); it must serve the phones' configs and load`, { defaultPort: TFTP_PORT, dflt: { shown: "the embedded server" } }))
    .addOption(textOption("--root <dir>", "a TFTP root to serve with the embedded server (pfs loads make writes one) instead of one made from --load", { shown: "made from --load in a temporary folder" }))
    .addOption(numOption("--wan-kbps <w>", "put the embedded server behind an emulated WAN of W kbit/s", { min: 0, max: WAN_KBPS_MAX }, { shown: "no WAN: loopback speed" }))
    .addOption(numOption("--wan-rtt-ms <r>", "the emulated WAN's round trip", { min: 0, max: WAN_RTT_MAX_MS }, { shown: "0" }))
    .addOption(intOption("--port <p>", "the PFS port", { min: 1, max: 65535 }, PFS_PORT))
    .addOption(numOption("--linger <s>", "seconds each phone serves peers after its upgrade", { min: 0, max: MAX_LINGER_SEC }, FLEET_LINGER_SEC))
    .addOption(flagOption("--no-pfs", "configure the phones with peer firmware sharing off"))
    .addOption(intOption("--tftp-window <n>", "the largest TFTP windowsize the phones ask of the server (RFC 7440; 1: lockstep)", TFTP_WINDOW_RANGE, { shown: "each board's tftpWindowMax" }))
    .addOption(intOption("--wan-kbps-max <kbps>", "cap what the phones' roots fetch at once from the server, shared between them (docs/WAN.md; Node phones only)", { min: 1, max: WAN_KBPS_MAX_LIMIT }, { shown: "no cap" }))
    .addOption(intOption("--native <k>", "K of the phones run the C phone (build/native/pfs-phone, 'make native') with the same flags, every other phone first", { min: 0, max: MAX_FLEET_PROCESSES }, 0))
    .addOption(textOption("--keep <dir>", "put the flash images (and the TFTP root made) in DIR and keep them, to read with 'pfs flash ls'", { shown: "a temporary folder, removed at the end" }))
    .addOption(flagOption("--verbose", "print every phone's console lines as they come, prefixed by its address (else a progress line every 2 s)"))
    .addOption(hostPortOption("--web <host:port>", "serve the live fleet page here (docs/WEB.md; port 0: any free port); the phones log to a syslog receiver on 127.0.0.1 that feeds it", { minPort: 0, dflt: { shown: "no page" } }))
    .addOption(flagOption("--json", "stdout is one JSON object at the end: per phone mac, ip, model, loads before and after, exit, outcome, seconds, components, server bytes; and the totals (progress goes to stderr)"));
  return onRun<FleetOpts>(cmd, (o) => fleetRun(o, out));
}

export async function fleetRun(o: FleetOpts, stdout: Out): Promise<number> {
  // With --json stdout carries the one object alone, for a program to read
  // whole; what a person watches goes to stderr.
  const out: Out = o.json ? (line) => process.stderr.write(line + "\n") : stdout;
  let native: { bin: string; phones: (i: number) => boolean } | undefined;
  if (o.native !== undefined && o.native > 0) {
    let which: Set<number>;
    try {
      which = nativeIndices(o.phones, o.native);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (which.size > 0 && !existsSync(NATIVE_PHONE_BIN)) throw new UsageError(`--native: no C phone at ${NATIVE_PHONE_BIN} (build it with 'make native')`);
    native = { bin: NATIVE_PHONE_BIN, phones: (i) => which.has(i) };
  }
  let watch: FleetWatch | undefined;
  if (o.web !== undefined) {
    watch = await watchFleet({ web: o.web, listen: { host: "127.0.0.1", port: 0 } });
    out(`fleet page: ${watch.url}`);
  }
  let result;
  try {
    result = await runFleetProcesses({
      logServer: watch?.logServer,
      native,
      phones: o.phones, models: o.models, load: o.load,
      tftp: o.tftp, root: o.root,
      wanKbps: o.wanKbps, wanRttMs: o.wanRttMs,
      port: o.port, lingerSec: o.linger, pfs: o.pfs, tftpWindow: o.tftpWindow, wanKbpsMax: o.wanKbpsMax,
      verbose: o.verbose === true,
      workDir: o.keep,
      out,
    });
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("--")) throw new UsageError(e.message);
    throw e;
  } finally {
    await watch?.close();
  }
  const summary = fleetSummary(result, o.tftp === undefined);
  out("");
  for (const p of summary.perPhone) out(statusLine(p));
  if (result.requests.size > 0) {
    out("");
    out("server read requests per file:");
    for (const [file, n] of [...result.requests.entries()].sort()) out(`  ${String(n).padStart(4)}  ${file}`);
  }
  const failed = result.phones.filter((p) => p.exit !== 0);
  for (const p of failed) out(`${p.bind}: exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);
  out(`${result.phones.length - failed.length} of ${result.phones.length} phones upgraded in ${(result.wallMs / 1000).toFixed(1)} s`);
  if (o.keep !== undefined) out(`flash images kept in ${o.keep} (pfs flash ls --flash ${o.keep}/<MAC>.flash)`);
  if (o.json) stdout(JSON.stringify(summary));
  return failed.length === 0 ? 0 : 1;
}

/** `pfs fleet ARGV` in this process. */
export function fleetCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(fleetCli(out), argv, out);
}
