// Preloaded into a process under test (`node --import <this file's URL>`):
// when the process exits, writes its peak resident set size in KiB
// (getrusage's ru_maxrss, through process.resourceUsage) to the file named
// by PFS_RSS_REPORT. The peak, not a sample: nothing between two polls is
// missed, and a process that refuses its input in 50 ms is measured too.

import { writeFileSync } from "node:fs";

const out = process.env.PFS_RSS_REPORT;
if (out !== undefined && out !== "") {
  process.on("exit", () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
}
