// `pfs wasi`: runs the core's WASI command (build/pfs.wasi.wasm, `make wasi`)
// under node:wasi, as another WASI runtime would run it. The directory of
// every file named after `replay` is preopened under the name the path gives
// it, so `pfs wasi replay ./some/file.trace` reads that file and names it so.

import { existsSync } from "node:fs";
import { preopensFor, runWasi, WASI_WASM } from "../wasi/run.js";

export const WASI_USAGE = `usage: pfs wasi selftest
       pfs wasi replay FILE...
  runs build/pfs.wasi.wasm (make wasi) under node:wasi: the core compiled
  with its own SHA-256 into a WASI command that imports nothing but
  wasi_snapshot_preview1. It first checks known answers a port must agree on
  (SHA-256, the XID and strengths of docs/PROTOCOL.md) and prints
  "selftest ok"; then
  selftest  stops there
  replay    replays each trace (docs/TRACE.md) and prints
            "digest <hex> records <n>" for it; exit 1 at the first difference
            (one "mismatch: ..." line), 2 when a file is not a whole trace
  Another runtime runs the same module, e.g.
            wasmtime --dir=. build/pfs.wasi.wasm replay t.trace`;

export async function wasiCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    out(WASI_USAGE);
    return 0;
  }
  if (!existsSync(WASI_WASM)) {
    process.stderr.write(`pfs: ${WASI_WASM} is not built: run 'make wasi' first\n`);
    return 2;
  }
  // Anything else, a missing or unknown subcommand included, is the
  // command's to judge: it prints its own one-line usage error.
  const files = sub === "replay" ? rest : [];
  const r = runWasi(argv, preopensFor(files));
  for (const line of r.stdout.split("\n")) if (line.length > 0) out(line);
  if (r.stderr.length > 0) process.stderr.write(r.stderr.endsWith("\n") ? r.stderr : r.stderr + "\n");
  return r.code;
}
