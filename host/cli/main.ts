// The `pfs` command: one entry point, one file per subcommand.

import { demoCommand } from "./demo.js";
import { simCommand } from "./sim.js";
import { UsageError } from "./args.js";

const USAGE = `usage: pfs <command> [options]
commands:
  sim     run the deterministic fleet simulator (pfs sim --help)
  demo    watch a simulated fleet form its hierarchies`;

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
      case "demo":
        return await demoCommand(rest, out);
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
    throw e;
  }
}
