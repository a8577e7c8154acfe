// `pfs trace record` runs the simulator with a recorder on its cores and
// writes a trace; `pfs trace replay` feeds a trace into one engine and prints
// its digest line (docs/TRACE.md).

import { existsSync, readFileSync } from "node:fs";
import { runFleet } from "../sim/fleet.js";
import { TraceRecorder } from "../trace/recorder.js";
import { digestLine } from "../trace/digest.js";
import { ENGINES, Engine, replayOn } from "../trace/engines.js";
import { parse, UsageError } from "./args.js";
import { SIM_OPTIONS, simOptionsFrom } from "./sim.js";

export const TRACE_USAGE = `usage: pfs trace record --out FILE [--only I,J,...] [pfs sim options]
       pfs trace replay FILE --engine ${ENGINES.join("|")} [--board NAME]
  record   runs the simulator (any pfs sim option: pfs sim --help) and writes
           everything the cores received and answered to FILE; --only keeps
           the cores of those phone indices (0 = the first phone)
  replay   feeds FILE into the core on one engine, compares every answer and
           prints "digest <hex> records <n>"; exit 1 at the first difference
           (named), 2 when FILE is not a whole trace
  engines  v8      build/pfs.wasm in this Node process
           wasi    build/pfs.wasi.wasm under node:wasi (make wasi)
           native  build/native/pfs-replay, wasm2c and the system cc (make replay)
           qemu    build/boards/NAME/pfs.elf on qemu-system-arm (make board;
                   NAME defaults to mps2-an385)`;

/** "3,5,9" -> a set of phone indices. */
function phoneSet(list: string): Set<number> {
  const out = new Set<number>();
  for (const part of list.split(",")) {
    const n = Number(part);
    if (part.trim() === "" || !Number.isInteger(n) || n < 0) throw new UsageError(`--only needs phone indices like 0,3,5 (got ${JSON.stringify(list)})`);
    out.add(n);
  }
  return out;
}

function record(argv: string[], out: (line: string) => void): number {
  const { values } = parse(argv, { ...SIM_OPTIONS, out: { type: "string" }, only: { type: "string" } }, TRACE_USAGE);
  if (values.help) {
    out(TRACE_USAGE);
    return 0;
  }
  if (typeof values.out !== "string") throw new UsageError(`trace record needs --out FILE\n\n${TRACE_USAGE}`);
  const only = typeof values.only === "string" ? phoneSet(values.only) : null;
  const tracer = new TraceRecorder((i) => only === null || only.has(i));
  const opts = { ...simOptionsFrom(values, TRACE_USAGE), tracer };
  let result;
  try {
    result = runFleet(opts);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("--")) throw new UsageError(`${e.message}\n\n${TRACE_USAGE}`);
    throw e;
  }
  const sum = tracer.write(values.out);
  out(`recorded ${sum.cores} cores, ${sum.bytes} bytes to ${values.out} (simulation ${result.ok ? "ok" : "FAILED"}, seed ${result.seed})`);
  out(digestLine(sum.digest, sum.records));
  return result.ok ? 0 : 1;
}

async function replay(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(argv, { engine: { type: "string" }, board: { type: "string" }, help: { type: "boolean" } }, TRACE_USAGE, true);
  if (values.help) {
    out(TRACE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`trace replay needs one FILE (got ${positionals.length})\n\n${TRACE_USAGE}`);
  const engine = (values.engine ?? "v8") as Engine;
  if (!ENGINES.includes(engine)) throw new UsageError(`--engine must be one of ${ENGINES.join(", ")} (got ${JSON.stringify(values.engine)})`);
  const file = positionals[0];
  if (!existsSync(file)) throw new UsageError(`no such trace: ${file}`);
  const r = await replayOn(engine, file, readFileSync, typeof values.board === "string" ? values.board : undefined);
  for (const line of r.lines) out(line);
  if (r.error !== undefined) process.stderr.write(r.error + "\n");
  return r.code;
}

export async function traceCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "record":
      return record(rest, out);
    case "replay":
      return replay(rest, out);
    case undefined:
    case "help":
    case "--help":
      out(TRACE_USAGE);
      return sub === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown trace command '${sub}'\n\n${TRACE_USAGE}`);
  }
}
