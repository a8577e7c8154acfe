// The relay on each kind of board, side by side in one run: the phone
// family (third-gen: 5 transfers of a 64 KiB ring) against the
// microcontroller board (mps2-an385: 2 transfers of a 32 KiB ring, files
// queued for a transfer), the same fleet, the same load (mcu-1.0: every file
// fits both), the same faults. done / single is the fleet against one phone
// of that board alone fetching the same load directly over the same WAN.

import { FleetOptions, runFleet } from "../host/sim/fleet.js";
import { coreMemory } from "../host/board-figures.js";
import { loadBoard } from "../host/boards.js";

export const BOARD_BENCH_BOARDS = ["third-gen", "mps2-an385"];
const CASES: Array<{ name: string; opts: Partial<FleetOptions> }> = [
  { name: "no faults", opts: {} },
  { name: "loss 0.1, a root crash", opts: { loss: 0.1, rootCrashes: 1 } },
];
const BASE: Partial<FleetOptions> = { phones: 64, load: "mcu-1.0", wanKbps: 2000, wanRttMs: 80, lanMbps: 100, seed: 7 };

const HEADER = "| board | case | core heap (KiB) | done (s) | single (s) | done / single | done / limit | wanBytes / load | verified | ok |\n" +
  "|:--|:--|--:|--:|--:|--:|--:|--:|--:|:--|";

export function boardsBench(): string {
  const rows: string[] = [];
  process.stdout.write(`\nThe relay per board: ${BASE.phones} phones, load ${BASE.load}, WAN ${BASE.wanKbps} kbit/s ${BASE.wanRttMs} ms RTT, seed ${BASE.seed}\n${HEADER}\n`);
  for (const board of BOARD_BENCH_BOARDS) {
    const heap = coreMemory(loadBoard(board)).heapBytes;
    for (const c of CASES) {
      const r = runFleet({ ...BASE, ...c.opts, board });
      const x = r.relay!;
      const f = (v: number) => v.toFixed(2);
      const row = `| ${board} | ${c.name} | ${(heap / 1024).toFixed(1)} | ${x.doneMs === null ? "-" : (x.doneMs / 1000).toFixed(1)} | ${(x.singleMs / 1000).toFixed(1)} | ` +
        `${x.doneMs === null ? "-" : f(x.doneMs / x.singleMs)} | ${x.doneMs === null ? "-" : f(x.doneMs / x.limitMs)} | ${(x.wanBytes / x.loadBytes).toFixed(3)} | ${x.verified}/${r.live} | ${r.ok ? "ok" : "FAILED"} |`;
      rows.push(row);
      process.stdout.write(row + "\n");
    }
  }
  return `\n## The relay per board\n\n${BASE.phones} phones, load ${BASE.load} (5 files, each within the microcontroller board's 1 MiB), ` +
    `WAN ${BASE.wanKbps} kbit/s ${BASE.wanRttMs} ms RTT, lockstep TFTP, seed ${BASE.seed}. single = one phone of that board alone, direct, same WAN; ` +
    `with 2 transfers the microcontroller fetches 2 files at a time, alone or in a fleet.\n\n${HEADER}\n${rows.join("\n")}\n`;
}
