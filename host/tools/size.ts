// `make size`: the release core's size and the linear memory it uses once
// initialised from the default board (the figure a dev board must budget).

import { statSync } from "node:fs";
import { loadBoard } from "../boards.js";
import { defaultWasmPath, PfsCore } from "../core/core.js";

/** The aim for the release core. */
const TARGET_WASM_BYTES = 32 * 1024;

const release = defaultWasmPath(false);
const debug = defaultWasmPath(true);
const board = loadBoard(process.argv[2] ?? "cp-7961g");
const core = new PfsCore({ ...board.core, selfAddr: 0x0a000001, seed: 1 });
const pages = core.x.memory.buffer.byteLength / 65536;
// heapMark allocates one tiny block: its address is the heap's top after init.
const heapTop = core.x.heapMark();
const bytes = statSync(release).size;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
process.stdout.write(
  `release core  ${release}: ${bytes} bytes (${kib(bytes)}; aim < ${kib(TARGET_WASM_BYTES)}: ${bytes < TARGET_WASM_BYTES ? "met" : "MISSED"})\n` +
  `debug core    ${debug}: ${statSync(debug).size} bytes\n` +
  `after init    board ${board.name}: heap top at ${heapTop} bytes (${kib(heapTop)}), linear memory ${pages} pages (${kib(pages * 65536)})\n`,
);
