// Power-on on cue (`pfs phone --power-on stdin`): the process loads what a
// boot needs first (Node, our modules, the core's compiled module), says so
// on stderr, and boots on the first line of stdin. A fleet holds all its
// phones so and powers them on at once (./fleet.ts): on a machine of few
// cores, phone processes that start Node at the same moment starve each
// other for seconds, which real phones, each with a CPU of its own, do not
// (docs/SITE.md).

import { loadModule } from "../core/core.js";

/** What a held phone prints on stderr once loaded. */
export const POWER_ON_READY_LINE = "pfs phone: loaded, waiting for a line on stdin to power on";

/** Returns on the first line of stdin (or its end), once loaded. */
export async function waitForPowerOn(): Promise<void> {
  loadModule();
  process.stderr.write(POWER_ON_READY_LINE + "\n");
  await new Promise<void>((resolve) => {
    process.stdin.once("data", () => {
      // Read once: the open pipe must not keep the process alive after.
      process.stdin.destroy();
      resolve();
    });
    process.stdin.once("end", resolve);
  });
}
