// `pfs boards`: every board's figures, measured (host/board-figures.ts): the
// core's wasm, its linear memory after init(), the deepest stack and the
// fullest outbox of a simulator run, the native image where one is built.
// A board over its stated memory budget is an error (exit 1).

import { listBoards, loadBoard } from "../boards.js";
import { BoardMemory, BudgetError, checkBudget, coreMemory, FIGURES_RUN, imageFigures, ImageFigures, runFigures, RunFigures, wasmBytes } from "../board-figures.js";
import { Command } from "commander";
import { flagOption, onRun, Out, pfsCommand, runAlone, UsageError , para } from "./args.js";

const ABOUT = `For every board in boards/ (or those named): the release core's wasm bytes,
the core's linear memory after init() with the board's figures (heap top and
64 KiB pages), the deepest C stack and the fullest outbox seen in a
simulator run of the board (${FIGURES_RUN.phones} phones, load ${FIGURES_RUN.load}, loss ${FIGURES_RUN.loss}, a root crash;
the stack where 'make replay' / 'make board' built the native replayers),
and the board image's flash and RAM where 'make board' built one.

A board whose core does not fit its memory.linearBytes or budgetBytes is an
error: one line, exit 1.`;

export function boardsCli(out: Out): Command {
  const cmd = pfsCommand("boards", "every board's measured figures: memory, stack, image size", out)
    .description(para(ABOUT))
    .argument("[name...]", "the boards to measure (default: every board)")
    .addOption(flagOption("--quick", "memory only: no simulator run"))
    .addOption(flagOption("--json", "one JSON object per board, one per line"));
  return onRun<{ quick?: boolean; json?: boolean }>(cmd, (o, names) => boardsRun(names, o, out));
}

/** `pfs boards ARGV` in this process. */
export function boardsCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(boardsCli(out), argv, out);
}

interface Row {
  memory: BoardMemory;
  wasmBytes: number;
  run: RunFigures | null;
  image: ImageFigures | null;
  budget: string;
}

const cell = (v: number | null | undefined) => (v === null || v === undefined ? "-" : String(v));

function table(rows: Row[], out: (line: string) => void): void {
  const head = ["board", "wasm", "heap", "pages", "stack native", "stack board", "outbox peak", "image flash", "image RAM", "budget"];
  const body = rows.map((r) => [r.memory.name, cell(r.wasmBytes), cell(r.memory.heapBytes), cell(r.memory.pages), cell(r.run?.nativeStackBytes),
    cell(r.run?.boardStackBytes), cell(r.run?.outboxPeakBytes), cell(r.image?.flashBytes), cell(r.image?.ramBytes), r.budget]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  for (const line of [head, ...body]) out(line.map((c, i) => (i === 0 || i === line.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd());
}

async function boardsRun(positionals: string[], values: { quick?: boolean; json?: boolean }, out: Out): Promise<number> {
  const known = listBoards();
  for (const n of positionals) if (!known.includes(n)) throw new UsageError(`no board '${n}' (boards: ${known.join(", ")})`);
  const names = positionals.length > 0 ? positionals : known;
  const wasm = wasmBytes();
  const rows: Row[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const board = loadBoard(name);
    const memory = coreMemory(board);
    let budget = memory.linearBytes === undefined ? "-" : `ok: ${memory.heapBytes} <= ${memory.linearBytes} <= ${memory.budgetBytes ?? "-"}`;
    try {
      checkBudget(memory);
    } catch (e) {
      if (!(e instanceof BudgetError)) throw e;
      errors.push(e.message);
      budget = "OVER";
    }
    const run = values.quick ? null : await runFigures(board, true);
    if (run !== null && (!run.ok || run.outboxDropped > 0)) errors.push(`board ${name}: the simulator run ${run.ok ? "" : "failed"}${run.outboxDropped > 0 ? ` dropped ${run.outboxDropped} outbox records` : ""}`);
    rows.push({ memory, wasmBytes: wasm, run, image: imageFigures(name), budget });
  }
  if (values.json) for (const r of rows) out(JSON.stringify({ board: r.memory.name, wasmBytes: r.wasmBytes, ...r.memory, ...(r.run ?? {}), image: r.image, budget: r.budget }));
  else table(rows, out);
  for (const e of errors) process.stderr.write(`pfs boards: ${e}\n`);
  return errors.length > 0 ? 1 : 0;
}
