// `pfs sim`: runs the deterministic fleet simulator and prints a summary, or
// with --json one JSON object as the last line.

import { runFleet, FleetOptions, FleetResult, FLEET_DEFAULTS, RelayMode } from "../sim/fleet.js";
import { presetNames } from "../load/presets.js";
import { formatAddr, addrOf } from "../sim/world.js";
import { num, parse, UsageError } from "./args.js";
import type { CoreBuild } from "../sim/core-build.js";

export const SIM_USAGE = `usage: pfs sim [--phones N] [--models M] [--files F] [--seed S]
               [--loss P] [--dup P] [--jitter-ms MS] [--crash C] [--restart R]
               [--root-crashes K] [--interior-crashes K] [--partitions K] [--late N] [--fault-ms MS] [--json] [--verbose]
  --phones N      phones on the subnet (default ${FLEET_DEFAULTS.phones})
  --models M      phone models, each forming its own hierarchies (default 1)
  --files F       files of the load each phone needs (default 1)
  --loss P        datagram loss during the fault phase, 0..0.9
  --dup P         datagram duplication during the fault phase, 0..1
  --jitter-ms MS  extra random delay per packet (reorders), fault phase only
  --crash C       fraction of phones that crash during the fault phase
  --root-crashes K      crash K phones that are roots when they strike
  --interior-crashes K  crash K phones that have children, below the root
  --restart R     fraction of crashed phones that boot again (default 0.5)
  --partitions K  subnet splits during the fault phase, each healed later
  --late N        extra phones that boot after the fault phase
  --fault-ms MS   length of the fault phase (default 10000 when faults are on)
  --seed S        one seed from which everything derives (default 1)
  --load PRESET   relay a load through the trees: ${presetNames().join(", ")}
  --mode M        cut-through (default), store-and-forward (the vendor's way)
                  or direct (no PFS: every phone fetches from the server)
  --wan-kbps W    WAN bandwidth to the TFTP server (default 2000)
  --wan-rtt-ms R  WAN round trip (default 80)
  --lan-mbps L    each phone's LAN port (default 100)
  --tftp-blksize B, --tftp-window N   TFTP block size (1428) and window (1: lockstep)
  --rogues K      phones that turn rogue and send corrupted firmware bytes
  --forgers K     K addresses that are no phone broadcast ROOT_ADs of strength
                  ffffffff for every file every 2 s and never answer TCP
  --forgers-rotate  every forged ROOT_AD comes from a new address
  --board NAME    every phone runs this board's core figures (boards/*.json;
                  default: each model's own board)
  --load-files N  relay only the first N files of the load
  --flash-read-fail P, --flash-read-flip P   fault phase: a flash read for a
                  child fails, or brings one bit flipped (caught by its check)
  --flash-write-fail P  fault phase: a flash write fails (the core retries)
  --flash-full K  K phones whose flash is full: they must give their files up
  --core B        the core build: release (default) or debug (its assertions
                  on; a failed one fails the run, seed named)
  --json          print one JSON object as the last line
  --verbose       print every core event as it happens`;

/** The options of `pfs sim` (also taken by `pfs trace record`). */
export const SIM_OPTIONS = {
  phones: { type: "string" }, models: { type: "string" }, files: { type: "string" }, seed: { type: "string" },
  loss: { type: "string" }, dup: { type: "string" }, "jitter-ms": { type: "string" }, crash: { type: "string" },
  restart: { type: "string" }, "root-crashes": { type: "string" }, "interior-crashes": { type: "string" }, partitions: { type: "string" }, late: { type: "string" }, "fault-ms": { type: "string" },
  load: { type: "string" }, mode: { type: "string" }, "wan-kbps": { type: "string" }, "wan-rtt-ms": { type: "string" },
  "lan-mbps": { type: "string" }, "tftp-blksize": { type: "string" }, "tftp-window": { type: "string" }, rogues: { type: "string" },
  forgers: { type: "string" }, "forgers-rotate": { type: "boolean" },
  board: { type: "string" }, "load-files": { type: "string" }, "flash-read-fail": { type: "string" }, "flash-read-flip": { type: "string" },
  "flash-write-fail": { type: "string" }, "flash-full": { type: "string" },
  core: { type: "string" },
  json: { type: "boolean" }, verbose: { type: "boolean" }, help: { type: "boolean" },
} as const;

type SimValues = ReturnType<typeof parse>["values"];

/** The fleet options the parsed flags ask for (usage: for error messages). */
export function simOptionsFrom(values: SimValues, usage: string): Partial<FleetOptions> {
  const d = FLEET_DEFAULTS;
  return {
    phones: num(values.phones, "phones", d.phones, usage),
    models: num(values.models, "models", d.models, usage),
    files: num(values.files, "files", d.files, usage),
    seed: num(values.seed, "seed", d.seed, usage),
    loss: num(values.loss, "loss", d.loss, usage),
    dup: num(values.dup, "dup", d.dup, usage),
    jitterMs: num(values["jitter-ms"], "jitter-ms", d.jitterMs, usage),
    crash: num(values.crash, "crash", d.crash, usage),
    restart: num(values.restart, "restart", d.restart, usage),
    rootCrashes: num(values["root-crashes"], "root-crashes", d.rootCrashes, usage),
    interiorCrashes: num(values["interior-crashes"], "interior-crashes", d.interiorCrashes, usage),
    partitions: num(values.partitions, "partitions", d.partitions, usage),
    late: num(values.late, "late", d.late, usage),
    faultMs: num(values["fault-ms"], "fault-ms", d.faultMs, usage),
    load: values.load as string | undefined,
    mode: (values.mode as RelayMode | undefined) ?? d.mode,
    wanKbps: num(values["wan-kbps"], "wan-kbps", d.wanKbps, usage),
    wanRttMs: num(values["wan-rtt-ms"], "wan-rtt-ms", d.wanRttMs, usage),
    lanMbps: num(values["lan-mbps"], "lan-mbps", d.lanMbps, usage),
    tftpBlksize: num(values["tftp-blksize"], "tftp-blksize", d.tftpBlksize, usage),
    tftpWindow: num(values["tftp-window"], "tftp-window", d.tftpWindow, usage),
    rogues: num(values.rogues, "rogues", d.rogues, usage),
    forgers: num(values.forgers, "forgers", d.forgers, usage),
    forgersRotate: values["forgers-rotate"] === true,
    board: values.board as string | undefined,
    loadFiles: values["load-files"] === undefined ? undefined : num(values["load-files"], "load-files", 0, usage),
    flashReadFail: num(values["flash-read-fail"], "flash-read-fail", d.flashReadFail, usage),
    flashReadFlip: num(values["flash-read-flip"], "flash-read-flip", d.flashReadFlip, usage),
    flashWriteFail: num(values["flash-write-fail"], "flash-write-fail", d.flashWriteFail, usage),
    flashFull: num(values["flash-full"], "flash-full", d.flashFull, usage),
    core: (values.core as CoreBuild | undefined) ?? d.core,
  };
}

export function simCommand(argv: string[], out: (line: string) => void): number {
  const { values } = parse(argv, SIM_OPTIONS, SIM_USAGE);
  if (values.help) {
    out(SIM_USAGE);
    return 0;
  }
  const opts = simOptionsFrom(values, SIM_USAGE);
  if (values.verbose) {
    opts.observer = (t, phone, xid, code, n, a, b) =>
      out(`${(t / 1000).toFixed(3).padStart(9)} ${formatAddr(addrOf(phone)).padEnd(12)} XID${xid.toString(16).toUpperCase().padStart(8, "0")} ev=${code} n=${n} a=${a.toString(16)} b=${b.toString(16)}`);
  }
  let result: FleetResult;
  try {
    result = runFleet(opts);
  } catch (e) {
    if (e instanceof Error && !(e instanceof UsageError) && e.message.startsWith("--")) throw new UsageError(`${e.message}\n\n${SIM_USAGE}`);
    throw e;
  }
  if (!values.json) {
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
  if (values.json) {
    // The relay's figures sit at the top level beside the tree's.
    const { relay, ...rest } = result;
    out(JSON.stringify(relay === undefined ? rest : { ...rest, ...relay, relay: undefined }));
  }
  return result.ok ? 0 : 1;
}
