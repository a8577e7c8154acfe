// `pfs phone`: boots one phone: configuration, compare, upgrade, commit.

import { readFileSync } from "node:fs";
import { Command } from "commander";
import { IO_FAULT_SPEC, parseIoFaults, type IoFault } from "../flash/io-fault-device.js";
import { failureLine } from "../phone/errors.js";
import { parseHttpServer } from "../load/config.js";
import { bootedLoad, PhoneProgress, phoneJson } from "./phone-report.js";
import { PHONE_DEFAULTS, runPhone } from "../phone/phone.js";
import { POWER_ON_READY_LINE, waitForPowerOn } from "../phone/power-on.js";
import { WAN_KBPS_MAX_LIMIT } from "../load/config.js";
import { TtyProgress } from "../log/progress.js";
import { choiceOption, flagOption, hostPortOption, HostPort, intOption, numOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError , para } from "./args.js";

/** RFC 2348's block sizes; RFC 7440's window. */
export const TFTP_BLKSIZE_RANGE = { min: 8, max: 65464 };
export const TFTP_WINDOW_RANGE = { min: 1, max: 65535 };
/** A phone that lingers longer than a day is one nobody meant to leave. */
export const MAX_LINGER_SEC = 86_400;
/** TFTP's well-known port (RFC 1350). */
export const TFTP_PORT = 69;

const ABOUT = `Reads SEP<MAC>.cnf.xml from the TFTP server, and when the load named there
differs from the one in flash, upgrades: the .loads index from the server,
the components through PFS (or from the server when peerFirmwareSharing is
0), into the inactive flash slot, checked, then active: committed on trial,
it is booted (in the same process, after lingering) and confirmed once it has
read its configuration from the server. Exits 0 once the new load is
confirmed, 1 with one line on stderr on any failure (the old load then stays
active). Make a flash image with 'pfs flash format'.`;

/** How the phone shows each component's progress (--progress). */
const PROGRESS_CHOICES = ["auto", "bars", "lines"] as const;
const POWER_ON_CHOICES = ["now", "stdin"] as const;

export interface PhoneOpts {
  progress: (typeof PROGRESS_CHOICES)[number];
  powerOn: (typeof POWER_ON_CHOICES)[number];
  mac: string;
  model: string;
  tftp: HostPort;
  flash: string;
  bind: string;
  broadcast: string;
  port: number;
  /** Undefined: the board's lingerMs (runPhone decides). */
  linger?: number;
  tftpBlksize: number;
  /** Undefined: the board's tftpWindowMax. */
  tftpWindow?: number;
  wanKbpsMax?: number;
  board: string;
  loadsKey?: string;
  flashFaults?: string;
  json?: boolean;
  logServer?: HostPort;
  loadUrl?: string;
}

export function phoneCli(out: Out): Command {
  const d = PHONE_DEFAULTS;
  const cmd = pfsCommand("phone", "boot one phone on real sockets: config, compare, upgrade", out)
    .description(para(ABOUT))
    .addOption(required(textOption("--mac <hex>", "the phone's MAC: 12 hex digits (':', '.', '-' allowed between)")))
    .addOption(required(textOption("--model <model>", "the phone's model, e.g. CP-7961G")))
    .addOption(required(hostPortOption("--tftp <host:port>", `the TFTP server holding its configuration and loads (port ${TFTP_PORT} if left out)`, { defaultPort: TFTP_PORT })))
    .addOption(required(textOption("--flash <file>", "its flash image (pfs flash format makes one)")))
    .addOption(textOption("--bind <addr>", "this phone's address; every phone needs its own", "127.0.0.1"))
    .addOption(textOption("--broadcast <addr>", "the subnet's broadcast address", "127.255.255.255"))
    .addOption(intOption("--port <p>", "the PFS port: UDP for election and discovery, TCP for the relay", { min: 1, max: 65535 }, d.port))
    .addOption(numOption("--linger <s>", "seconds to keep serving peers after the upgrade", { min: 0, max: MAX_LINGER_SEC }, { shown: "the board's core.lingerMs, 600 s for third-gen" }))
    .addOption(intOption("--tftp-blksize <b>", "TFTP block size asked of the server (RFC 2348)", TFTP_BLKSIZE_RANGE, d.tftpBlksize))
    .addOption(intOption("--tftp-window <n>", "TFTP windowsize asked of the server at most (RFC 7440; 1: lockstep): halved after a file that lost data, grown back while clean (docs/TFTP.md)", TFTP_WINDOW_RANGE, { shown: "the board's tftpWindowMax, 320 for third-gen" }))
    .addOption(intOption("--wan-kbps-max <kbps>", "cap what this phone fetches from the load server to its share of this, shared with the other roots it hears fetching (docs/WAN.md); overrides <wanKbpsMax> of its configuration", { min: 1, max: WAN_KBPS_MAX_LIMIT }, { shown: "the configuration's <wanKbpsMax>, else no cap" }))
    .addOption(textOption("--board <name>", "the board whose figures size the core and flash (boards/*.json)", d.board))
    .addOption(textOption("--loads-key <pem>", "an Ed25519 public key (PEM): the load's index must be signed by it", { shown: "none: an unsigned index is accepted" }))
    .addOption(textOption("--flash-faults <spec>", `for tests: make the image's flash fail, ${IO_FAULT_SPEC}`, { shown: "none" }))
    .addOption(textOption("--load-url <url>", "fetch components over HTTP from this base URL (the file name appended), TFTP the fallback (docs/LOADS.md); overrides <httpServer> of its configuration", { shown: "the configuration's <httpServer>, else TFTP only" }))
    .addOption(hostPortOption("--log-server <host:port>", "send every console line as RFC 5424 syslog over UDP here (docs/LOGGING.md); overrides <logServer> of its configuration", { defaultPort: 514, dflt: { shown: "the configuration's <logServer>, else none" } }))
    .addOption(flagOption("--json", "stdout is one JSON object at the end: mac, ip, model, loads before and after, exit, outcome, seconds, components (console lines go to stderr)"));
  cmd.addOption(choiceOption("--power-on <when>", `now; or stdin: load everything first, print '${POWER_ON_READY_LINE}' on stderr and boot on the first line read from stdin (a fleet powers its phones on together, docs/SITE.md)`, POWER_ON_CHOICES, "now"));
  cmd.addOption(choiceOption("--progress <how>", "bars: a live bar per component (a terminal only); lines: the plain progress lines; auto: bars when stdout is a terminal", PROGRESS_CHOICES, "auto"));
  return onRun<PhoneOpts>(cmd, (o) => phoneRun(o, out));
}



async function phoneRun(o: PhoneOpts, stdout: Out): Promise<number> {
  if (o.json) return phoneRunJson(o, stdout);
  return phoneRunPlain(o, stdout);
}

/** With --json stdout carries the one object alone, for a program to read
 *  whole; the console lines a person reads go to stderr. */
async function phoneRunJson(o: PhoneOpts, stdout: Out): Promise<number> {
  const progress = new PhoneProgress();
  const before = bootedLoad(o.flash, o.board);
  let error: string | undefined;
  const code = await phoneRunPlain({ ...o, progress: "lines" }, (line) => {
    progress.line(line);
    process.stderr.write(line + "\n");
  }, (line) => (error = line));
  const mac = o.mac.replace(/[:.-]/g, "").toUpperCase();
  stdout(JSON.stringify(phoneJson({ mac, ip: o.bind, model: o.model }, before, bootedLoad(o.flash, o.board), code, progress, error)));
  return code;
}

async function phoneRunPlain(o: PhoneOpts, out: Out, onFailure?: (line: string) => void): Promise<number> {
  const mac = o.mac.replace(/[:.-]/g, "").toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(mac)) throw new UsageError(`--mac needs 12 hex digits (got '${o.mac}')`);
  let flashFaults: IoFault[] | undefined;
  try {
    if (o.flashFaults !== undefined) flashFaults = parseIoFaults(o.flashFaults);
  } catch (e) {
    throw new UsageError(`--flash-faults: ${(e as Error).message}`);
  }
  let loadsKey: string | undefined;
  if (o.loadsKey !== undefined) {
    try {
      loadsKey = readFileSync(o.loadsKey, "utf8");
    } catch (e) {
      throw new UsageError(`--loads-key: cannot read '${o.loadsKey}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let loadUrl: string | undefined;
  try {
    if (o.loadUrl !== undefined) loadUrl = parseHttpServer(o.loadUrl, "--load-url");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tty = o.progress === "bars" || (o.progress === "auto" && process.stdout.isTTY === true);
  if (tty && process.stdout.isTTY !== true) throw new UsageError("--progress bars needs stdout to be a terminal");
  const progress = tty ? new TtyProgress(process.stdout, out) : undefined;
  if (o.powerOn === "stdin") await waitForPowerOn();
  try {
    return await runPhone({
      progress,
      loadsKey, flashFaults,
      mac, model: o.model, tftp: o.tftp, flashPath: o.flash,
      bind: o.bind, broadcast: o.broadcast, port: o.port, lingerSec: o.linger, board: o.board,
      tftpBlksize: o.tftpBlksize, tftpWindow: o.tftpWindow, wanKbpsMax: o.wanKbpsMax, logServer: o.logServer, loadUrl,
      out: progress === undefined ? out : (line: string) => progress.log(line),
    });
  } catch (e) {
    // One line whatever went wrong (host/phone/errors.ts): typed failures
    // say what and why, anything else names itself as a bug and where.
    process.stderr.write(`pfs phone: ${failureLine(e)}\n`);
    onFailure?.(failureLine(e));
    return 1;
  }
}

/** `pfs phone ARGV` in this process. */
export function phoneCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(phoneCli(out), argv, out);
}
