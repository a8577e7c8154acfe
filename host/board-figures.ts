// What each board's core costs, measured rather than assumed (pfs boards):
// the core's linear memory after init() with the board's figures, the deepest
// C stack and the fullest outbox seen in a simulator run of that board, and
// the size of its native image where one is built. A board that states a
// memory budget (boards/mcu.json "memory") is checked against it here.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board, loadBoard } from "./boards.js";
import { defaultWasmPath, PfsCore } from "./core/core.js";
import { runFleet } from "./sim/fleet.js";
import { TraceRecorder } from "./trace/recorder.js";
import { enginePaths, replayOn } from "./trace/engines.js";

/** A wasm page (WebAssembly spec, memory instructions). */
export const WASM_PAGE_BYTES = 65536;

/** The simulator run every board is measured on: small enough for every
 *  board (the mcu-1.0 load's files fit a 1 MiB maxFileBytes), with loss and
 *  a root crash so the repair paths run too. */
export const FIGURES_RUN = { phones: 16, load: "mcu-1.0", loss: 0.1, rootCrashes: 1, seed: 1 } as const;
/** Cores of that run recorded for the stack measurement: a root and two
 *  that are not. */
const TRACED_PHONES = new Set([0, 1, 2]);

export interface BoardMemory {
  name: string;
  /** The heap's top after init(): every table and buffer the core has. */
  heapBytes: number;
  pages: number;
  /** What the board states: the static array on the board, and its budget. */
  linearBytes?: number;
  budgetBytes?: number;
}

/** The board states a budget and the core does not fit it. */
export class BudgetError extends Error {}

export function coreMemory(board: Board): BoardMemory {
  const core = new PfsCore({ ...board.core, selfAddr: 0x0a000001, seed: 1 });
  // heapMark allocates one tiny block: its address is the heap's top.
  const heapBytes = core.x.heapMark();
  const mem = (board.memory ?? {}) as { linearBytes?: number; budgetBytes?: number };
  return { name: board.name, heapBytes, pages: core.x.memory.buffer.byteLength / WASM_PAGE_BYTES, linearBytes: mem.linearBytes, budgetBytes: mem.budgetBytes };
}

/** Throws BudgetError, naming the figure, when the core outgrows the board. */
export function checkBudget(m: BoardMemory): void {
  if (m.linearBytes === undefined) return;
  if (m.linearBytes % WASM_PAGE_BYTES !== 0) throw new BudgetError(`board ${m.name}: memory.linearBytes ${m.linearBytes} is not a whole number of 64 KiB wasm pages`);
  if (m.heapBytes > m.linearBytes) throw new BudgetError(`board ${m.name}: the core needs ${m.heapBytes} bytes after init(), over memory.linearBytes ${m.linearBytes}`);
  if (m.budgetBytes !== undefined && m.linearBytes > m.budgetBytes) throw new BudgetError(`board ${m.name}: memory.linearBytes ${m.linearBytes} is over memory.budgetBytes ${m.budgetBytes}`);
}

export interface RunFigures {
  ok: boolean;
  outboxPeakBytes: number;
  outboxDropped: number;
  /** The deepest C stack of the traced cores, replayed natively (wasm2c,
   *  the system cc) and on the board under QEMU; null where not built. */
  nativeStackBytes: number | null;
  boardStackBytes: number | null;
}

const stackOf = (lines: string[]) => {
  const m = lines.map((l) => /^stack (\d+)/.exec(l)).find((x) => x !== null);
  return m ? Number(m[1]) : null;
};

/** Runs FIGURES_RUN on `board`, recording three cores, and replays them on
 *  the native engines that are built, to read their stack high-water. */
export async function runFigures(board: Board, withBoardImage: boolean): Promise<RunFigures> {
  const dir = mkdtempSync(join(tmpdir(), "pfs-figures-"));
  try {
    const tracer = new TraceRecorder((i) => TRACED_PHONES.has(i));
    const r = runFleet({ ...FIGURES_RUN, board: board.name, tracer });
    const file = join(dir, "run.trace");
    tracer.write(file);
    let nativeStackBytes: number | null = null;
    if (existsSync(enginePaths.native)) {
      const out = execFileSync(enginePaths.native, ["--stack", file], { encoding: "utf8" });
      nativeStackBytes = stackOf(out.split("\n"));
    }
    let boardStackBytes: number | null = null;
    if (withBoardImage && existsSync(enginePaths.board(board.name))) {
      const run = await replayOn("qemu", file, () => new Uint8Array(0), board.name);
      if (run.code === 0) boardStackBytes = stackOf(run.lines);
    }
    return { ok: r.ok, outboxPeakBytes: r.stats.outboxPeakBytes, outboxDropped: r.stats.outboxDropped, nativeStackBytes, boardStackBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ImageFigures {
  text: number;
  data: number;
  bss: number;
  /** What the board's flash holds (text + data) and its RAM (data + bss,
   *  the stack and the linear memory among them). */
  flashBytes: number;
  ramBytes: number;
}

/** The native image's sizes (arm-none-eabi-size), where it is built. */
export function imageFigures(name: string): ImageFigures | null {
  const elf = enginePaths.board(name);
  if (!existsSync(elf)) return null;
  let out: string;
  try {
    out = execFileSync("arm-none-eabi-size", [elf], { encoding: "utf8" });
  } catch {
    return null;
  }
  const row = out.trim().split("\n")[1]?.trim().split(/\s+/).map(Number);
  if (row === undefined || row.length < 3 || row.slice(0, 3).some((n) => !Number.isFinite(n))) return null;
  const [text, data, bss] = row;
  return { text, data, bss, flashBytes: text + data, ramBytes: data + bss };
}

export function wasmBytes(): number {
  return statSync(defaultWasmPath(false)).size;
}

export { loadBoard };
