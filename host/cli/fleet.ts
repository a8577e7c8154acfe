// `pfs fleet`: a fleet of real phone processes on this machine's loopback,
// upgraded from one TFTP server (ours, embedded, unless --tftp names one).

import { parseHostPort } from "../phone/addr.js";
import { PFS_PORT } from "../phone/peer-host.js";
import { existsSync } from "node:fs";
import { NATIVE_PHONE_BIN, nativeIndices, runFleetProcesses } from "../phone/fleet.js";
import { num, parse, UsageError } from "./args.js";

export const FLEET_USAGE = `usage: pfs fleet --phones N [--models M] [--load PRESET] [--tftp <host:port> | --root <dir>]
                 [--wan-kbps W --wan-rtt-ms R] [--port P] [--linger S] [--no-pfs] [--native K]
                 [--keep <dir>] [--verbose]
  Starts N 'pfs phone' processes on 127.0.0.2 .. 127.0.0.(N+1), each with its
  own flash image on a factory load, all booting against one TFTP server
  (ours, embedded, serving a root made from the preset, unless --tftp or
  --root say otherwise), shows their progress and a final table.
  --models M      phone models mixed in the fleet (default 1)
  --load PRESET   the load they upgrade to (default tiny)
  --wan-kbps, --wan-rtt-ms   put the embedded server behind an emulated WAN
  --port P        the PFS port (default ${PFS_PORT})
  --linger S      seconds each phone serves peers after its upgrade (default 5)
  --no-pfs        configure the phones with peer firmware sharing off
  --native K      K of the phones run the C phone (build/native/pfs-phone,
                  'make native') with the same flags, every other phone first
  --keep DIR      put the flash images (and the TFTP root made) in DIR and keep
                  them, to read with 'pfs flash ls' (default: a temporary
                  folder, removed at the end)`;

export async function fleetCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    phones: { type: "string" }, models: { type: "string" }, load: { type: "string" }, tftp: { type: "string" }, root: { type: "string" },
    "wan-kbps": { type: "string" }, "wan-rtt-ms": { type: "string" }, port: { type: "string" }, linger: { type: "string" },
    "no-pfs": { type: "boolean" }, keep: { type: "string" }, verbose: { type: "boolean" }, "tftp-window": { type: "string" }, native: { type: "string" }, help: { type: "boolean" },
  }, FLEET_USAGE);
  if (values.help) {
    out(FLEET_USAGE);
    return 0;
  }
  if (values.phones === undefined) throw new UsageError(`--phones is required\n\n${FLEET_USAGE}`);
  let tftp: { host: string; port: number } | undefined;
  if (typeof values.tftp === "string") {
    try {
      tftp = parseHostPort(values.tftp, 69);
    } catch (e) {
      throw new UsageError(`--tftp: ${(e as Error).message}\n\n${FLEET_USAGE}`);
    }
  }
  const phones = num(values.phones, "phones", 0, FLEET_USAGE);
  let native: { bin: string; phones: (i: number) => boolean } | undefined;
  if (values.native !== undefined) {
    let which: Set<number>;
    try {
      which = nativeIndices(phones, num(values.native, "native", 0, FLEET_USAGE));
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n\n${FLEET_USAGE}`);
    }
    if (which.size > 0 && !existsSync(NATIVE_PHONE_BIN)) throw new UsageError(`--native: no C phone at ${NATIVE_PHONE_BIN} (build it with 'make native')`);
    native = { bin: NATIVE_PHONE_BIN, phones: (i) => which.has(i) };
  }
  let result;
  try {
    result = await runFleetProcesses({
      native,
      phones,
      models: num(values.models, "models", 1, FLEET_USAGE),
      load: (values.load as string | undefined) ?? "tiny",
      tftp, root: values.root as string | undefined,
      wanKbps: values["wan-kbps"] === undefined ? undefined : num(values["wan-kbps"], "wan-kbps", 0, FLEET_USAGE),
      wanRttMs: values["wan-rtt-ms"] === undefined ? undefined : num(values["wan-rtt-ms"], "wan-rtt-ms", 0, FLEET_USAGE),
      port: num(values.port, "port", PFS_PORT, FLEET_USAGE),
      lingerSec: num(values.linger, "linger", 5, FLEET_USAGE),
      pfs: values["no-pfs"] !== true,
      tftpWindow: num(values["tftp-window"], "tftp-window", 1, FLEET_USAGE),
      verbose: values.verbose === true,
      workDir: values.keep as string | undefined,
      out,
    });
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("--")) throw new UsageError(`${e.message}\n\n${FLEET_USAGE}`);
    throw e;
  }
  out("");
  out(`${"phone".padEnd(12)} ${"host".padEnd(4)} ${"model".padEnd(9)} ${"exit".padStart(4)} ${"time".padStart(7)}  components`);
  for (const p of result.phones) {
    const comps = [...p.components.entries()].map(([n, c]) => `${n.split(".")[0]} ${c.percent}% ${c.via}`).join(", ");
    out(`${p.bind.padEnd(12)} ${(p.native ? "C" : "node").padEnd(4)} ${p.model.padEnd(9)} ${String(p.exit).padStart(4)} ${(p.ms / 1000).toFixed(1).padStart(6)}s  ${comps}`);
  }
  if (result.requests.size > 0) {
    out("");
    out("server read requests per file:");
    for (const [file, n] of [...result.requests.entries()].sort()) out(`  ${String(n).padStart(4)}  ${file}`);
  }
  const failed = result.phones.filter((p) => p.exit !== 0);
  for (const p of failed) out(`${p.bind}: exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);
  out(`${result.phones.length - failed.length} of ${result.phones.length} phones upgraded in ${(result.wallMs / 1000).toFixed(1)} s`);
  if (typeof values.keep === "string") out(`flash images kept in ${values.keep} (pfs flash ls --flash ${values.keep}/<MAC>.flash)`);
  return failed.length === 0 ? 0 : 1;
}
