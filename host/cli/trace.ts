// `pfs trace record` runs the simulator with a recorder on its cores and
// writes a trace; `pfs trace replay` feeds a trace into one engine and prints
// its digest line (docs/TRACE.md).

import { existsSync, readFileSync } from "node:fs";
import { Command } from "commander";
import { TraceRecorder } from "../trace/recorder.js";
import { digestLine } from "../trace/digest.js";
import { ENGINES, Engine, replayOn } from "../trace/engines.js";
import { choiceOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError } from "./args.js";
import { addSimOptions, runFleetChecked, simOptionsFrom } from "./sim.js";

const ENGINES_ABOUT = `Engines:
  v8      build/pfs.wasm in this Node process
  wasi    build/pfs.wasi.wasm under node:wasi (make wasi)
  native  build/native/pfs-replay, wasm2c and the system cc (make replay)
  qemu    build/boards/NAME/pfs.elf on qemu-system-arm (make board; NAME
          defaults to mps2-an385)`;

export function traceCli(out: Out): Command {
  const trace = pfsCommand("trace", "record a simulator run's core inputs, replay them on v8, wasi, native or qemu", out);
  const rec = pfsCommand("record", "run the simulator and write everything its cores received and answered", out)
    .description("Runs the simulator (any pfs sim option) and writes everything the cores received and answered to FILE (docs/TRACE.md).")
    .addOption(required(textOption("--out <file>", "the trace file to write")))
    .addOption(textOption("--only <list>", "keep only the cores of these phone indices, e.g. 0,3,5 (0 = the first phone)", { shown: "every phone" }));
  addSimOptions(rec);
  onRun<Record<string, unknown> & { out: string; only?: string }>(rec, (o) => record(o, out));
  const rep = pfsCommand("replay", "feed a trace into the core on one engine and print its digest", out)
    .description('Feeds FILE into the core on one engine, compares every answer and prints "digest <hex> records <n>"; exit 1 at the first difference (named), 2 when FILE is not a whole trace.')
    .argument("<file>", "the trace to replay")
    .addOption(choiceOption("--engine <engine>", "where the core runs", ENGINES, "v8"))
    .addOption(textOption("--board <name>", "the board image (qemu)", { shown: "mps2-an385" }))
    .addHelpText("after", "\n" + ENGINES_ABOUT);
  onRun<{ engine: Engine; board?: string }>(rep, (o, args) => replay(args[0], o, out));
  return trace.addCommand(rec).addCommand(rep);
}

/** `pfs trace ARGV` in this process. */
export function traceCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(traceCli(out), argv, out);
}

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

function record(o: Record<string, unknown> & { out: string; only?: string }, out: Out): number {
  const only = o.only !== undefined ? phoneSet(o.only) : null;
  const tracer = new TraceRecorder((i) => only === null || only.has(i));
  const result = runFleetChecked({ ...simOptionsFrom(o), tracer });
  const sum = tracer.write(o.out);
  out(`recorded ${sum.cores} cores, ${sum.bytes} bytes to ${o.out} (simulation ${result.ok ? "ok" : "FAILED"}, seed ${result.seed})`);
  out(digestLine(sum.digest, sum.records));
  return result.ok ? 0 : 1;
}

async function replay(file: string, o: { engine: Engine; board?: string }, out: Out): Promise<number> {
  if (!existsSync(file)) throw new UsageError(`no such trace: ${file}`);
  const r = await replayOn(o.engine, file, readFileSync, o.board);
  for (const line of r.lines) out(line);
  if (r.error !== undefined) process.stderr.write(r.error + "\n");
  return r.code;
}
