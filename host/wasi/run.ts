// Placeholder until the WASI runner lands: the trace tooling imports it.
import type { EngineRun } from "../trace/engines.js";
export async function runWasiReplay(_file: string): Promise<EngineRun> {
  return { code: 2, lines: [], error: "pfs: the WASI runner is not written yet" };
}
