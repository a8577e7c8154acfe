// The `pfs` command: one entry point, one file per subcommand.

import { demoCommand } from "./demo.js";
import { simCommand } from "./sim.js";
import { sweepCommand } from "./sweep.js";
import { tftpCommand } from "./tftp.js";
import { tftpdCommand } from "./tftpd.js";
import { flashCommand } from "./flash.js";
import { loadsCommand } from "./loads.js";
import { phoneCommand } from "./phone.js";
import { fleetCommand } from "./fleet.js";
import { traceCommand } from "./trace.js";
import { boardsCommand } from "./boards.js";
import { wasiCommand } from "./wasi.js";
import { UsageError } from "./args.js";
import { MakeDirError } from "../make-dir.js";

const USAGE = `usage: pfs <command> [options]
commands:
  sim     run the deterministic fleet simulator (pfs sim --help)
  sweep   many seeded simulator runs with faults, on worker threads (pfs sweep --help)
  demo    watch a simulated fleet upgrade through PFS
  phone   boot one phone on real sockets: config, compare, upgrade (pfs phone --help)
  fleet   a fleet of phone processes on this machine, upgraded over real sockets (pfs fleet --help)
  loads   write a TFTP root: a load's index, files and phone configs (pfs loads --help)
  flash   a phone's A/B flash as an image file: format, ls (pfs flash --help)
  tftpd   serve a directory over TFTP, optionally over an emulated WAN (pfs tftpd --help)
  tftp    fetch a file from a TFTP server: pfs tftp get (pfs tftp --help)
  wasi    run the core as a WASI command under node:wasi: selftest, replay (pfs wasi --help)
  boards  every board's measured figures: memory, stack, image size (pfs boards --help)
  trace   record a simulator run's core inputs, replay them on v8, wasi, native or qemu (pfs trace --help)`;

export async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`pfs sim | head`) is not an error of ours.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const out = (line: string) => process.stdout.write(line + "\n");
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "sim":
        return simCommand(rest, out);
      case "sweep":
        return await sweepCommand(rest, out);
      case "demo":
        return await demoCommand(rest, out);
      case "tftpd":
        return await tftpdCommand(rest, out);
      case "tftp":
        return await tftpCommand(rest, out);
      case "flash":
        return flashCommand(rest, out);
      case "fleet":
        return await fleetCommand(rest, out);
      case "phone":
        return await phoneCommand(rest, out);
      case "loads":
        return loadsCommand(rest, out);
      case "wasi":
        return await wasiCommand(rest, out);
      case "boards":
        return await boardsCommand(rest, out);
      case "trace":
        return await traceCommand(rest, out);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'\n\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`pfs: ${e.message}\n`);
      return 2;
    }
    // A place the file system will not give us (a folder under /proc, a
    // read-only disk, a missing parent): one line, whichever command.
    if (e instanceof MakeDirError) {
      process.stderr.write(`pfs ${cmd}: ${e.message}\n`);
      return 1;
    }
    const fsError = fileSystemError(e);
    if (fsError !== undefined) {
      process.stderr.write(`pfs ${cmd}: ${fsError}\n`);
      return 1;
    }
    throw e;
  }
}

/** A failed file-system call (Node's errors carry its syscall, path and
 *  code) as one line; undefined for any other error. */
function fileSystemError(e: unknown): string | undefined {
  const err = e as (NodeJS.ErrnoException & { dest?: string }) | null;
  if (!(e instanceof Error) || typeof err?.code !== "string" || typeof err.syscall !== "string" || typeof err.path !== "string") return undefined;
  return `cannot ${err.syscall} '${err.path}': ${err.code}${typeof err.dest === "string" ? ` (to '${err.dest}')` : ""}`;
}
