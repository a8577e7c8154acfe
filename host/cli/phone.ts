// `pfs phone`: boots one phone: configuration, compare, upgrade, commit.

import { readFileSync } from "node:fs";
import { IO_FAULT_SPEC, parseIoFaults, type IoFault } from "../flash/io-fault-device.js";
import { parseHostPort } from "../phone/addr.js";
import { failureLine } from "../phone/errors.js";
import { PHONE_DEFAULTS, runPhone } from "../phone/phone.js";
import { num, parse, UsageError } from "./args.js";

export const PHONE_USAGE = `usage: pfs phone --mac <12 hex> --model <e.g. CP-7961G> --tftp <host:port> --flash <file>
                 [--bind <addr>] [--broadcast <addr>] [--port 4051] [--linger <s>]
                 [--tftp-blksize B] [--tftp-window N] [--board NAME] [--loads-key PEM]
                 [--flash-faults SPEC]
  Boots one phone: reads SEP<MAC>.cnf.xml from the TFTP server, and when the
  load named there differs from the one in flash, upgrades: the .loads index
  from the server, the components through PFS (or from the server when
  peerFirmwareSharing is 0), into the inactive flash slot, checked, then
  active: committed on trial, it is booted (in the same process, after
  lingering) and confirmed once it has read its configuration from the
  server. Exits 0 once the new load is confirmed, 1 with one line on stderr
  on any failure (the old load then stays active). Make a flash image with
  'pfs flash format'.
  --bind        this phone's address (default 127.0.0.1); every phone needs its own
  --broadcast   the subnet's broadcast address (default 127.255.255.255)
  --linger      seconds to keep serving peers after the upgrade (default ${PHONE_DEFAULTS.lingerSec})
  --loads-key   an Ed25519 public key (PEM): the load's index must be signed by it
  --flash-faults  for tests: make the image's flash fail, ${IO_FAULT_SPEC}`;

export async function phoneCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    mac: { type: "string" }, model: { type: "string" }, tftp: { type: "string" }, flash: { type: "string" },
    bind: { type: "string" }, broadcast: { type: "string" }, port: { type: "string" }, linger: { type: "string" },
    "tftp-blksize": { type: "string" }, "tftp-window": { type: "string" }, board: { type: "string" }, "loads-key": { type: "string" },
    "flash-faults": { type: "string" }, help: { type: "boolean" },
  }, PHONE_USAGE);
  if (values.help) {
    out(PHONE_USAGE);
    return 0;
  }
  const need = (name: string) => {
    const v = values[name as keyof typeof values];
    if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required\n\n${PHONE_USAGE}`);
    return v;
  };
  const mac = need("mac").replace(/[:.-]/g, "").toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(mac)) throw new UsageError(`--mac needs 12 hex digits (got '${values.mac}')\n\n${PHONE_USAGE}`);
  let tftp: { host: string; port: number };
  try {
    tftp = parseHostPort(need("tftp"), 69);
  } catch (e) {
    throw new UsageError(`--tftp: ${(e as Error).message}\n\n${PHONE_USAGE}`);
  }
  const port = num(values.port, "port", PHONE_DEFAULTS.port, PHONE_USAGE);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be from 1 to 65535\n\n${PHONE_USAGE}`);
  let flashFaults: IoFault[] | undefined;
  try {
    if (typeof values["flash-faults"] === "string") flashFaults = parseIoFaults(values["flash-faults"]);
  } catch (e) {
    throw new UsageError(`--flash-faults: ${(e as Error).message}\n\n${PHONE_USAGE}`);
  }
  let loadsKey: string | undefined;
  if (typeof values["loads-key"] === "string") {
    try {
      loadsKey = readFileSync(values["loads-key"], "utf8");
    } catch (e) {
      throw new UsageError(`--loads-key: cannot read '${values["loads-key"]}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n\n${PHONE_USAGE}`);
    }
  }
  try {
    return await runPhone({
      loadsKey, flashFaults,
      mac, model: need("model"), tftp, flashPath: need("flash"),
      bind: (values.bind as string | undefined) ?? "127.0.0.1",
      broadcast: (values.broadcast as string | undefined) ?? "127.255.255.255",
      port,
      lingerSec: num(values.linger, "linger", PHONE_DEFAULTS.lingerSec, PHONE_USAGE),
      board: (values.board as string | undefined) ?? PHONE_DEFAULTS.board,
      tftpBlksize: num(values["tftp-blksize"], "tftp-blksize", PHONE_DEFAULTS.tftpBlksize, PHONE_USAGE),
      tftpWindow: num(values["tftp-window"], "tftp-window", PHONE_DEFAULTS.tftpWindow, PHONE_USAGE),
      out,
    });
  } catch (e) {
    // One line whatever went wrong (host/phone/errors.ts): typed failures
    // say what and why, anything else names itself as a bug and where.
    process.stderr.write(`pfs phone: ${failureLine(e)}\n`);
    return 1;
  }
}
