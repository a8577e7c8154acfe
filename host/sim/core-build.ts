// Which build of the core a simulated fleet runs. The release build
// (build/pfs.wasm) is what phones run and the fastest; the debug build
// (build/pfs.debug.wasm) keeps every assertion of the core and its bounds
// checks, so a broken invariant traps at once instead of passing unseen.
// A trap fails the run and names its seed (fleet.ts), it never ends the
// process.

import { readFileSync } from "node:fs";
import { CoreTrap, defaultWasmPath, loadModule } from "../core/core.js";
import { CoreAbiError } from "./world.js";

export type CoreBuild = "release" | "debug";
export const CORE_BUILDS: CoreBuild[] = ["release", "debug"];

/** The build a run uses when it names none: PFS_SIM_CORE (make test sets
 *  "debug" for the simulator suite), else the release build. */
export function envCoreBuild(): CoreBuild {
  const named = process.env.PFS_SIM_CORE;
  if (named === undefined || named === "") return "release";
  if (!(CORE_BUILDS as string[]).includes(named)) throw new Error(`PFS_SIM_CORE must be one of ${CORE_BUILDS.join(", ")} (got '${named}')`);
  return named as CoreBuild;
}

const modules = new Map<CoreBuild, WebAssembly.Module>();

/** The compiled module of a build, compiled once per process (or thread). */
export function coreModule(build: CoreBuild): WebAssembly.Module {
  if (build === "release") return loadModule(); // the hosts' own (PFS_WASM may name it)
  let m = modules.get(build);
  if (m === undefined) modules.set(build, (m = new WebAssembly.Module(readFileSync(defaultWasmPath(true)))));
  return m;
}

/** A failure of the core itself: an assertion (env.abort, a CoreTrap), a
 *  wasm trap (unreachable, out of bounds, a stack overflow), or an output
 *  its ABI rules out (world.ts CoreAbiError). */
export function isCoreTrap(e: unknown): e is Error {
  return e instanceof CoreTrap || e instanceof WebAssembly.RuntimeError || e instanceof CoreAbiError ||
    (e instanceof RangeError && /call stack/i.test(e.message));
}
