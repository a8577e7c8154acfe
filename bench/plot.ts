// `node build/js/bench/plot.js`: only the bench's plot (bench/results/latest.svg), for
// when the whole bench is too long to wait for.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_CASE } from "./case.js";
import { modesPlot, PLOT_FILE } from "./modes-plot.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../../../bench/results");
for (const l of modesPlot(dir, BENCH_CASE)) process.stdout.write(l + "\n");
process.stdout.write(`written to bench/results/${PLOT_FILE}\n`);
