// `pfs sim`: runs the deterministic fleet simulator and prints a summary, or
// with --json one JSON object as the last line.

import { Command, Option } from "commander";
import { runFleet, FleetOptions, FleetResult, FLEET_DEFAULTS, MAX_FLEET_PHONES, RELAY_MODES } from "../sim/fleet.js";
import { MAX_SIM_FILES, MAX_SIM_MODELS } from "../sim/catalog.js";
import { CORE_BUILDS } from "../sim/core-build.js";
import { presetNames } from "../load/presets.js";
import { WAN_SOURCES } from "../sim/wan.js";
import { formatAddr, addrOf } from "../sim/world.js";
import { choiceOption, flagOption, hostPortOption, intOption, numOption, onRun, Out, pfsCommand, runAlone, textOption, UsageError } from "./args.js";
import { runFleetPlot } from "../plot/sim-plot.js";
import { DEFAULT_SIM_SPEED, MAX_SIM_SPEED, replaySim } from "../sim/replay.js";
import { FleetView } from "../view/fleet-view.js";
import { serveFleetPage } from "../web/server.js";
import { untilStopped } from "./until-stopped.js";

/** The ranges validateFleet (host/sim/fleet.ts) holds the options to, shown
 *  in help and checked as each option is read. */
const SEED_MAX = 0xffffffff; // the core's seed is a u32
const JITTER_MAX_MS = 1000;
const PARTITIONS_MAX = 100;
const WAN_KBPS_MAX = 10_000_000;
const WAN_RTT_MAX_MS = 10_000;
const LAN_MBPS_MAX = 100_000;
const FORGERS_MAX = 64;
/** RFC 2348's block sizes; RFC 7440's window. */
const TFTP_BLKSIZE = { min: 8, max: 65464 };
const TFTP_WINDOW = { min: 1, max: 65535 };
/** A fault phase longer than an hour of virtual time tells nothing more. */
const FAULT_MAX_MS = 3_600_000;
/** Loss above this leaves nothing to elect with (validateFleet). */
const LOSS_MAX = 0.9;

const phones = { min: 0, max: MAX_FLEET_PHONES };

/** --tftp-window: a whole windowsize, or "max" (the board's figure). */
function windowOption(flags: string, description: string, dflt: number | "max"): Option {
  const o = intOption(flags, description, TFTP_WINDOW, dflt);
  const asInt = o.parseArg!;
  o.argParser((text: string, prev: unknown) => {
    if (text === "max") return "max";
    if (!/^[0-9]+$/.test(text)) throw new UsageError(`--tftp-window must be max or a whole number from ${TFTP_WINDOW.min} to ${TFTP_WINDOW.max} (got ${text})`);
    return asInt(text, prev);
  });
  return o;
}
const fraction = { min: 0, max: 1 };

/** Adds the options of `pfs sim` to `cmd` (`pfs trace record` takes them too). */
export function addSimOptions(cmd: Command): Command {
  const d = FLEET_DEFAULTS;
  return cmd
    .addOption(intOption("--phones <n>", "phones on the subnet", { min: 1, max: MAX_FLEET_PHONES }, d.phones))
    .addOption(intOption("--models <m>", "phone models, each forming its own hierarchies", { min: 1, max: MAX_SIM_MODELS }, d.models))
    .addOption(intOption("--files <f>", "files each phone needs (without --load)", { min: 1, max: MAX_SIM_FILES }, d.files))
    .addOption(intOption("--seed <s>", "the one seed everything derives from", { min: 0, max: SEED_MAX }, d.seed))
    .addOption(numOption("--loss <p>", "datagram loss during the fault phase", { min: 0, max: LOSS_MAX }, d.loss))
    .addOption(numOption("--dup <p>", "datagram duplication during the fault phase", fraction, d.dup))
    .addOption(numOption("--jitter-ms <ms>", "extra random delay per datagram (reorders), fault phase only", { min: 0, max: JITTER_MAX_MS }, d.jitterMs))
    .addOption(numOption("--crash <c>", "fraction of phones that crash during the fault phase", fraction, d.crash))
    .addOption(numOption("--restart <r>", "fraction of crashed phones that boot again", fraction, d.restart))
    .addOption(intOption("--root-crashes <k>", "crash K phones that are roots when they strike", phones, d.rootCrashes))
    .addOption(intOption("--interior-crashes <k>", "crash K phones that have children, below the root", phones, d.interiorCrashes))
    .addOption(intOption("--partitions <k>", "subnet splits during the fault phase, each healed later", { min: 0, max: PARTITIONS_MAX }, d.partitions))
    .addOption(intOption("--late <n>", "extra phones that boot after the fault phase", phones, d.late))
    .addOption(intOption("--fault-ms <ms>", "length of the fault phase (virtual time)", { min: 0, max: FAULT_MAX_MS }).default(d.faultMs, "10000 when faults are on, else 0"))
    .addOption(choiceOption("--load <preset>", "relay a load through the trees", presetNames(), { shown: "none: trees only, nothing relayed" }))
    .addOption(choiceOption("--mode <mode>", "cut-through, store-and-forward (the vendor's way) or direct (no PFS: every phone fetches from the server); needs --load", RELAY_MODES, d.mode))
    .addOption(numOption("--wan-kbps <w>", "WAN bandwidth to the TFTP server, kbit/s", { min: 1, max: WAN_KBPS_MAX }, d.wanKbps))
    .addOption(numOption("--wan-rtt-ms <r>", "WAN round trip to the TFTP server", { min: 0, max: WAN_RTT_MAX_MS }, d.wanRttMs))
    .addOption(numOption("--lan-mbps <l>", "each phone's LAN port, Mbit/s", { min: 1, max: LAN_MBPS_MAX }, d.lanMbps))
    .addOption(intOption("--tftp-blksize <b>", "TFTP block size from the server (RFC 2348)", TFTP_BLKSIZE, d.tftpBlksize))
    .addOption(windowOption("--tftp-window <n|max>", "TFTP windowsize from the server (RFC 7440; 1: lockstep; max: the board's tftpWindowMax, which roots ask and adapt)", d.tftpWindow))
    .addOption(choiceOption("--source <src>", "where roots fetch the load: tftp, or http (TCP-like, Range resume)", WAN_SOURCES, d.source))
    .addOption(numOption("--wan-kbps-max <k>", "WAN budget: a cap on all server fetches of the subnet, kbit/s, shared by the roots fetching", { min: 1, max: WAN_KBPS_MAX }, { shown: "none" }))
    .addOption(intOption("--rogues <k>", "phones that turn rogue and send corrupted firmware bytes (at most --phones)", phones, d.rogues))
    .addOption(intOption("--forgers <k>", "addresses that are no phone broadcasting ROOT_ADs of strength ffffffff for every file every 2 s, never answering TCP", { min: 0, max: FORGERS_MAX }, d.forgers))
    .addOption(flagOption("--forgers-rotate", "every forged ROOT_AD comes from a new address"))
    .addOption(textOption("--board <name>", "every phone runs this board's core figures (boards/*.json)", { shown: "each model's own board" }))
    .addOption(intOption("--load-files <n>", "relay only the first N files of the load", { min: 1, max: MAX_SIM_FILES }, { shown: "all" }))
    .addOption(numOption("--flash-read-fail <p>", "fault phase: a flash read for a child fails", fraction, d.flashReadFail))
    .addOption(numOption("--flash-read-flip <p>", "fault phase: a flash read brings one bit flipped (caught by its check)", fraction, d.flashReadFlip))
    .addOption(numOption("--flash-write-fail <p>", "fault phase: a flash write fails (the core retries)", fraction, d.flashWriteFail))
    .addOption(intOption("--flash-full <k>", "phones whose flash is full: they must give their files up (at most --phones)", phones, d.flashFull))
    .addOption(choiceOption("--core <build>", "the core build: release, or debug (its assertions on; a failed one fails the run, seed named)", CORE_BUILDS, d.core));
}

/** What addSimOptions' options parse to (commander's camelCase names are
 *  FleetOptions' own). */
export type SimOpts = Partial<FleetOptions> & {
  json?: boolean; verbose?: boolean; plot?: string; web?: { host: string; port: number }; speed: number;
};

/** The fleet options the parsed flags ask for. */
export function simOptionsFrom(opts: Record<string, unknown>): Partial<FleetOptions> {
  const keys = Object.keys(FLEET_DEFAULTS).concat(["load", "loadFiles", "board"]);
  const picked: Record<string, unknown> = {};
  for (const k of keys) if (opts[k] !== undefined) picked[k] = opts[k];
  return { ...picked, forgersRotate: opts.forgersRotate === true } as Partial<FleetOptions>;
}

/** The fleet options `pfs sim ARGS` runs (the sweep's reproduce lines). */
export function parseSimArgs(argv: string[]): Partial<FleetOptions> {
  const cmd = addSimOptions(pfsCommand("sim", "", () => {}));
  cmd.parse(argv, { from: "user" });
  return simOptionsFrom(cmd.opts());
}

/** runFleet's own checks say "--name ..."; those are usage errors. */
export function runFleetChecked(opts: Partial<FleetOptions>): FleetResult {
  try {
    return runFleet(opts);
  } catch (e) {
    if (e instanceof Error && !(e instanceof UsageError) && e.message.startsWith("--")) throw new UsageError(e.message);
    throw e;
  }
}

export function simCli(out: Out): Command {
  const cmd = pfsCommand("sim", "run the deterministic fleet simulator", out)
    .description("Runs the deterministic fleet simulator: real pfs.wasm cores on a virtual clock and subnet, a fault phase, then a healed phase that must finish; prints a summary, or with --json one JSON object as the last line.");
  addSimOptions(cmd)
    .addOption(flagOption("--json", "print one JSON object as the last line"))
    .addOption(flagOption("--verbose", "print every core event as it happens"))
    .addOption(textOption("--plot <file.svg>", "write phones done and WAN bytes over virtual time as an SVG", { shown: "none" }))
    .addOption(hostPortOption("--web <host:port>", "serve the fleet page there and replay the run into it, paced by --speed", { dflt: { shown: "none" } }))
    .addOption(numOption("--speed <x>", "with --web: virtual time runs X times as fast as the wall clock", { min: 0.01, max: MAX_SIM_SPEED }, DEFAULT_SIM_SPEED));
  return onRun<SimOpts>(cmd, (o) => (o.web === undefined ? simRun(o, out) : simWeb(o, o.web, out)));
}

function simRun(o: SimOpts, out: Out): number {
  const opts = simOptionsFrom(o);
  if (o.verbose) {
    opts.observer = (t, phone, xid, code, n, a, b) =>
      out(`${(t / 1000).toFixed(3).padStart(9)} ${formatAddr(addrOf(phone)).padEnd(12)} XID${xid.toString(16).toUpperCase().padStart(8, "0")} ev=${code} n=${n} a=${a.toString(16)} b=${b.toString(16)}`);
  }
  const result = o.plot === undefined ? runFleetChecked(opts) : usageChecked(() => runFleetPlot(opts, o.plot!));
  if (o.plot !== undefined && !o.json) out(`plot written to ${o.plot}`);
  return report(result, o, out);
}

/** `--web`: the fleet page, fed the run at --speed; it stays up (Ctrl-C
 *  ends it) so the end state can be looked at. */
async function simWeb(o: SimOpts, listen: { host: string; port: number }, out: Out): Promise<number> {
  const opts = simOptionsFrom(o);
  const view = new FleetView();
  const page = await serveFleetPage(listen, view);
  out(`fleet page at ${page.url} (virtual time at ${o.speed}x)`);
  const result = await usageCheckedAsync(() => replaySim({ fleet: opts, speed: o.speed, sink: (r) => view.apply(r) }));
  const code = report(result, o, out);
  out(`run over; the page stays up at ${page.url}: Ctrl-C to stop`);
  await untilStopped();
  await page.close();
  return code;
}

/** runFleet's own checks say "--name ..."; those are usage errors. */
function usageChecked<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof Error && !(e instanceof UsageError) && e.message.startsWith("--")) throw new UsageError(e.message);
    throw e;
  }
}

async function usageCheckedAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof Error && !(e instanceof UsageError) && e.message.startsWith("--")) throw new UsageError(e.message);
    throw e;
  }
}

/** The summary (or --json) of a finished run; its exit code. */
function report(result: FleetResult, o: SimOpts, out: Out): number {
  if (!o.json) {
    out(`seed ${result.seed}: ${result.phones} phones, ${result.live} live, ${result.orphans} orphans, converged at ${result.convergedMs ?? "never"} ms virtual, ${result.wallMs} ms wall`);
    const r = result.relay;
    if (r !== undefined) {
      out(`  ${r.mode} ${r.load}: ${r.verified} of ${result.live} verified, done at ${r.doneMs ?? "never"} ms; one phone alone ${r.singleMs} ms; limit ${r.limitMs} ms`);
      out(`  WAN ${r.wanBytes} bytes (${(r.wanBytes / r.loadBytes).toFixed(3)} x the load), ${r.serverContacts} phones contacted the server, ${r.refetchedBytes} bytes re-sent, ${r.corruptBlocks} bad blocks caught`);
    }
    for (const h of result.hierarchies) {
      out(`  ${h.xid} ${h.model.padEnd(9)} ${h.file.padEnd(28)} ${String(h.members).padStart(5)} phones  roots=${h.roots} depth=${h.maxDepth}/${h.depthBound} attached=${h.attached}`);
    }
  }
  for (const e of result.errors) out(`error: ${e}`);
  if (!result.ok) out(`FAILED: reproduce with --seed ${result.seed}`);
  if (o.json) {
    // The relay's figures sit at the top level beside the tree's.
    const { relay, ...rest } = result;
    out(JSON.stringify(relay === undefined ? rest : { ...rest, ...relay, relay: undefined }));
  }
  return result.ok ? 0 : 1;
}

/** `pfs sim ARGV` in this process. */
export function simCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(simCli(out), argv, out);
}
