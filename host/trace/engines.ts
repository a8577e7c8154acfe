// One way to replay a trace on each engine (docs/TRACE.md): V8 in this
// process, the WASI command under node:wasi, the wasm2c build for this
// machine, and the Cortex-M image under QEMU. Each prints the same digest
// line; this returns what it printed, its exit code and its one error line.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../boards.js";
import { digestLine } from "./digest.js";
import type { EngineRun } from "./engine-run.js";
import { TraceFormatError } from "./format.js";
import { Mismatch, replayV8 } from "./replay-v8.js";

export const ENGINES = ["v8", "wasi", "native", "qemu"] as const;
export type Engine = (typeof ENGINES)[number];
export type { EngineRun };


/** The board image QEMU runs unless told otherwise. */
export const DEFAULT_QEMU_BOARD = "mps2-an385";
/** A replay under emulation that takes longer than this has hung. */
const ENGINE_TIMEOUT_MS = 30 * 60 * 1000;

const root = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  // The checkout's root: build/ has a boards/ folder of its own (images).
  for (let i = 0; i < 6 && !(existsSync(join(dir, "package.json")) && existsSync(join(dir, "assembly"))); i++) dir = dirname(dir);
  return dir;
})();

export const enginePaths = {
  wasi: join(root, "build/pfs.wasi.wasm"),
  native: join(root, "build/native/pfs-replay"),
  board: (board: string) => join(root, "build/boards", board, "pfs.elf"),
};

function v8(file: string, read: (p: string) => Uint8Array): EngineRun {
  try {
    const r = replayV8(read(file));
    return { code: 0, lines: [digestLine(r.digest, r.records)] };
  } catch (e) {
    if (e instanceof Mismatch) return { code: 1, lines: [], error: e.message };
    if (e instanceof TraceFormatError) return { code: 2, lines: [], error: `pfs: ${file}: ${e.message}` };
    throw e;
  }
}

/** Runs a command; its stdout lines, and stderr's first line as the error. */
function run(cmd: string, args: string[]): Promise<EngineRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), ENGINE_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 2, lines: [], error: `pfs: cannot run ${cmd}: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split("\n").filter((l) => l.length > 0);
      // Semihosting has one console: a board prints its mismatch on stdout.
      const err = stderr.split("\n").find((l) => l.trim().length > 0) ?? lines.find((l) => /^(mismatch|pfs-|error)/.test(l));
      const sig = signal === null ? undefined : `pfs: ${cmd} ended by ${signal}`;
      resolve({ code: code ?? 2, lines: lines.filter((l) => l !== err), error: err ?? sig });
    });
  });
}

const missing = (what: string, make: string): EngineRun => ({ code: 2, lines: [], error: `pfs: ${what} is not built: run '${make}' first` });

export async function replayOn(engine: Engine, file: string, read: (p: string) => Uint8Array, board = DEFAULT_QEMU_BOARD): Promise<EngineRun> {
  switch (engine) {
    case "v8":
      return v8(file, read);
    case "wasi": {
      if (!existsSync(enginePaths.wasi)) return missing(enginePaths.wasi, "make wasi");
      const { runWasiReplay } = await import("../wasi/run.js");
      return runWasiReplay(file);
    }
    case "native":
      if (!existsSync(enginePaths.native)) return missing(enginePaths.native, "make replay");
      return run(enginePaths.native, [file]);
    case "qemu": {
      const elf = enginePaths.board(board);
      if (!existsSync(elf)) return missing(elf, `make board BOARD=${board}`);
      const machine = String(loadBoard(board).qemuMachine ?? board);
      return run("qemu-system-arm", ["-M", machine, "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", `enable=on,target=native,arg=pfs-replay,arg=${file}`, "-kernel", elf]);
    }
  }
}
