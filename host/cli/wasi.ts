// `pfs wasi`: runs the core's WASI command (build/pfs.wasi.wasm, `make wasi`)
// under node:wasi, as another WASI runtime would run it. The directory of
// every file named after `replay` is preopened under the name the path gives
// it, so `pfs wasi replay ./some/file.trace` reads that file and names it so.

import { existsSync } from "node:fs";
import { Command } from "commander";
import { onRun, Out, pfsCommand, runAlone , para } from "./args.js";
import { preopensFor, runWasi, WASI_WASM } from "../wasi/run.js";

const ABOUT = `Runs build/pfs.wasi.wasm (make wasi) under node:wasi: the core compiled with
its own SHA-256 into a WASI command that imports nothing but
wasi_snapshot_preview1. It first checks known answers a port must agree on
(SHA-256, the XID and strengths of docs/PROTOCOL.md) and prints
"selftest ok".`;

const ANOTHER = `Another runtime runs the same module, e.g.
  wasmtime --dir=. build/pfs.wasi.wasm replay t.trace`;

export function wasiCli(out: Out): Command {
  const wasi = pfsCommand("wasi", "run the core as a WASI command under node:wasi: selftest, replay", out)
    .description(para(ABOUT))
    .addHelpText("after", "\n" + ANOTHER);
  const selftest = pfsCommand("selftest", "the known answers only", out);
  onRun(selftest, () => runIt(["selftest"], [], out));
  const replay = pfsCommand("replay", "replay each trace and print its digest", out)
    .description('Replays each trace (docs/TRACE.md) and prints "digest <hex> records <n>" for it; exit 1 at the first difference (one "mismatch: ..." line), 2 when a file is not a whole trace.')
    .argument("<file...>", "the traces (docs/TRACE.md)")
    .addHelpText("after", "\n" + ANOTHER);
  onRun(replay, (_o, files) => runIt(["replay", ...files], files, out));
  return wasi.addCommand(selftest).addCommand(replay);
}

/** `pfs wasi ARGV` in this process. */
export function wasiCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(wasiCli(out), argv, out);
}

function runIt(argv: string[], files: string[], out: Out): number {
  if (!existsSync(WASI_WASM)) {
    process.stderr.write(`pfs wasi: ${WASI_WASM} is not built: run 'make wasi' first\n`);
    return 2;
  }
  const r = runWasi(argv, preopensFor(files));
  for (const line of r.stdout.split("\n")) if (line.length > 0) out(line);
  if (r.stderr.length > 0) process.stderr.write(r.stderr.endsWith("\n") ? r.stderr : r.stderr + "\n");
  return r.code;
}
