// Runs build/pfs.wasi.wasm (wasi/, docs/TRACE.md) under node:wasi: the same
// module any WASI runtime runs (wasmtime --dir=. build/pfs.wasi.wasm replay
// t.trace). A run gets its arguments and the host directories it may read,
// each preopened under the name the arguments use for it, so the command
// sees and names the paths exactly as they were given. Its stdout and stderr
// go to two temporary files and come back as text.

import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { WASI, WASIOptions } from "node:wasi";
import { fileURLToPath } from "node:url";
import type { EngineRun } from "../trace/engine-run.js";

export interface WasiResult {
  /** The command's exit code (proc_exit), or 1 when the module trapped. */
  code: number;
  stdout: string;
  stderr: string;
  /** The module's linear memory when it ended: what a replay needed. */
  memoryBytes: number;
}

/** The source tree: the nearest folder up with both package.json and
 *  assembly/ (this file runs from build/js/host/wasi). A folder named like
 *  one of ours inside build/ (build/boards) cannot be mistaken for it. */
const root = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !(existsSync(join(dir, "package.json")) && existsSync(join(dir, "assembly"))); i++) dir = dirname(dir);
  return dir;
})();

/** `make wasi` writes the command here. */
export const WASI_WASM = join(root, "build/pfs.wasi.wasm");

/** argv[0] of the command, as its usage line names it. */
const PROGRAM = "pfs-wasi";
/** wasi-shim's abort handler exits with this code after an "abort: ..." line. */
const ABORT_EXIT = 255;

const compiled = new Map<string, WebAssembly.Module>();

function module(path: string): WebAssembly.Module {
  let m = compiled.get(path);
  if (m === undefined) {
    m = new WebAssembly.Module(readFileSync(path));
    compiled.set(path, m);
  }
  return m;
}

let wasiClass: typeof WASI | null = null;

/** node:wasi announces itself as experimental when it is first loaded; that
 *  line would be the only stderr of a good run, so it is loaded here, on
 *  first use, with that one warning held back. */
function loadWasi(): typeof WASI {
  if (wasiClass !== null) return wasiClass;
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("WASI")) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    wasiClass = (createRequire(import.meta.url)("node:wasi") as { WASI: typeof WASI }).WASI;
  } finally {
    process.emitWarning = emit;
  }
  return wasiClass;
}

/** Runs the command with `args` (without argv[0]); `dirs` maps the names
 *  the command uses ("." or "traces/a") to host directories. */
export function runWasi(args: string[], dirs: Record<string, string>, wasmPath = WASI_WASM): WasiResult {
  const tmp = mkdtempSync(join(tmpdir(), "pfs-wasi-"));
  const outPath = join(tmp, "stdout");
  const errPath = join(tmp, "stderr");
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "w");
  let code = 1;
  let trap = "";
  let memoryBytes = 0;
  try {
    const options: WASIOptions = {
      version: "preview1", args: [PROGRAM, ...args], env: {}, preopens: dirs, stdout: out, stderr: err, returnOnExit: true,
    };
    const wasi = new (loadWasi())(options);
    const instance = new WebAssembly.Instance(module(wasmPath), wasi.getImportObject() as WebAssembly.Imports);
    try {
      code = wasi.start(instance);
    } catch (e) {
      // A trap (unreachable, out of bounds) ends the module without exit code.
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      trap = `${PROGRAM}: the module trapped: ${e.message}\n`;
    }
    memoryBytes = (instance.exports.memory as WebAssembly.Memory).buffer.byteLength;
  } finally {
    closeSync(out);
    closeSync(err);
  }
  try {
    return { code, stdout: readFileSync(outPath, "utf8"), stderr: readFileSync(errPath, "utf8") + trap, memoryBytes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The preopens for `files`: each file's directory, under the name the path
 *  itself gives it ("t.trace" -> ".", "../x/t.trace" -> "../x"). Directories
 *  that do not exist are left out: the command then says it cannot open the
 *  file, as for any missing file. */
export function preopensFor(files: string[]): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const f of files) {
    const name = dirname(f);
    const host = resolve(name);
    if (existsSync(host) && statSync(host).isDirectory()) dirs[name] = host;
  }
  return dirs;
}

const lines = (text: string) => text.split("\n").filter((l) => l.length > 0);

/** The wasi engine of `pfs trace replay`: the digest line, or the one line
 *  naming the difference (exit 1) or why the file is no trace (exit 2). */
export async function runWasiReplay(file: string): Promise<EngineRun> {
  const r = runWasi(["replay", file], preopensFor([file]));
  const out = lines(r.stdout).filter((l) => l !== "selftest ok");
  const err = lines(r.stderr);
  if (r.code === 0) return { code: 0, lines: out };
  const mismatch = out.find((l) => l.startsWith("mismatch: "));
  if (mismatch !== undefined) return { code: r.code, lines: out.filter((l) => l !== mismatch), error: mismatch };
  // An abort inside the module (a core assertion, an index out of range) is
  // a difference from the recording, whose core did not abort.
  if (r.code === ABORT_EXIT) return { code: 1, lines: out, error: `mismatch: the core trapped: ${err.join("; ")}` };
  return { code: r.code, lines: out, error: err[0] ?? `${PROGRAM}: exit ${r.code} with no message` };
}
