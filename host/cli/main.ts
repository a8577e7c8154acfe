// The `pfs` command: one entry point, one file per subcommand, each defined
// with commander (host/cli/args.ts builds them).

import { Command } from "commander";
import { demoCli } from "./demo.js";
import { simCli } from "./sim.js";
import { sweepCli } from "./sweep.js";
import { tftpCli } from "./tftp.js";
import { tftpdCli } from "./tftpd.js";
import { httpdCli } from "./httpd.js";
import { flashCli } from "./flash.js";
import { loadsCli } from "./loads.js";
import { phoneCli } from "./phone.js";
import { fleetCli } from "./fleet.js";
import { siteCli } from "./site.js";
import { traceCli } from "./trace.js";
import { boardsCli } from "./boards.js";
import { wasiCli } from "./wasi.js";
import { logdCli } from "./logd.js";
import { Out, pfsCommand, runCommand, UsageError } from "./args.js";
import { MakeDirError } from "../make-dir.js";

/** The whole `pfs` command: every subcommand's definition, one tree. */
export function pfsProgram(out: Out): Command {
  const program = pfsCommand("pfs", "open Peer Firmware Sharing: a fleet simulator, phones on real sockets, TFTP, flash images, traces", out)
    .configureHelp({ sortOptions: false, sortSubcommands: false, subcommandTerm: (c) => c.name() });
  for (const cmd of [simCli(out), sweepCli(out), demoCli(out), phoneCli(out), fleetCli(out), siteCli(out), loadsCli(out), flashCli(out), tftpdCli(out), httpdCli(out), tftpCli(out), wasiCli(out), boardsCli(out), traceCli(out), logdCli(out)]) {
    program.addCommand(cmd);
  }
  program.addHelpText("after", "\nEach command has its own help: pfs <command> --help, or pfs help <command>.");
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`pfs sim | head`) is not an error of ours.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  const out = (line: string) => process.stdout.write(line + "\n");
  const cmd = argv[0];
  const program = pfsProgram(out);
  if (argv.length === 0) {
    out(program.helpInformation().replace(/\n$/, ""));
    return 2;
  }
  try {
    return await runCommand(program, argv);
  } catch (e) {
    if (e instanceof UsageError) {
      // One line: what is wrong, and where the whole story is.
      const path = e.command === undefined || e.command === "" ? "pfs" : `pfs ${e.command}`;
      process.stderr.write(`${path}: ${e.message} (see ${path} --help)\n`);
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
