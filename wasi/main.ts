// pfs.wasi.wasm: the PFS core as a WASI command (docs/TRACE.md). The core is
// linked in directly (../assembly), compiled with its software SHA-256
// (--use PFS_SOFT_SHA256=1), so the module imports nothing but
// wasi_snapshot_preview1. `_start` runs the conformance self-checks, then:
//   selftest            nothing more
//   replay FILE...      replays each trace, printing its digest line
// Exit codes: 0 all agreed; 1 a difference (one "mismatch: ..." line on
// stdout) or a failed self-check; 2 a usage error, or a file that is not a
// whole trace (one "pfs-wasi: ..." line on stderr).

import { EXIT_BAD, EXIT_MISMATCH, EXIT_OK, exitCode, failureLine, resetOutcome, where } from "./outcome";
import { openErrorText, openRead, openError } from "./preopens";
import * as R from "./reader";
import { digestLine, replayFile } from "./replay";
import { selftest, selftestProblem } from "./selftest";

const USAGE = "usage: pfs-wasi selftest | pfs-wasi replay FILE...";

function say(line: string): void {
  process.stdout.write(line + "\n");
}

function complain(line: string): void {
  process.stderr.write(line + "\n");
}

/** Replays one file; the exit code it asks for. */
function replayOne(path: string): i32 {
  resetOutcome();
  where.file = path;
  const fd = openRead(path);
  if (fd < 0) {
    complain("pfs-wasi: " + path + ": " + openErrorText(openError));
    return EXIT_BAD;
  }
  if (!R.beginRead(fd)) {
    R.endRead();
    complain("pfs-wasi: " + path + ": cannot read its size (WASI errno " + R.readErrno().toString() + ")");
    return EXIT_BAD;
  }
  const ok = replayFile();
  R.endRead();
  if (ok) {
    say(digestLine());
    return EXIT_OK;
  }
  const code = exitCode();
  if (code == EXIT_MISMATCH) say(failureLine());
  else complain(failureLine());
  return code;
}

function run(args: string[]): i32 {
  if (!selftest()) {
    complain("pfs-wasi: selftest failed: " + selftestProblem());
    return EXIT_MISMATCH;
  }
  say("selftest ok");
  if (args.length < 2) {
    complain("pfs-wasi: no command; " + USAGE);
    return EXIT_BAD;
  }
  const cmd = args[1];
  if (cmd == "selftest") return args.length == 2 ? EXIT_OK : usage("selftest takes no arguments");
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    say(USAGE);
    return EXIT_OK;
  }
  if (cmd != "replay") return usage("unknown command '" + cmd + "'");
  if (args.length < 3) return usage("replay needs at least one FILE");
  for (let i = 2; i < args.length; i++) {
    const code = replayOne(args[i]);
    if (code != EXIT_OK) return code;
  }
  return EXIT_OK;
}

function usage(why: string): i32 {
  complain("pfs-wasi: " + why + "; " + USAGE);
  return EXIT_BAD;
}

process.exit(run(process.argv));
