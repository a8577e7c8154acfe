// The bench's picture: one fleet upgraded three ways (cut-through,
// store-and-forward, direct), phones done and WAN bytes over virtual time,
// in one SVG beside latest.md. Virtual time only: the same on any machine.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Fleet, FleetOptions, RELAY_MODES } from "../host/sim/fleet.js";
import { PlottedRun, simPlotSvg } from "../host/plot/sim-plot.js";
import { runFleetTimeline } from "../host/sim/timeline.js";

/** The plotted fleet: the bench's 64-phone row, big enough for trees of
 *  depth 5 and for direct to queue 64 fetches on the WAN, small enough to
 *  run in seconds. */
export const PLOT_PHONES = 64;

/** The file beside latest.md. */
export const PLOT_FILE = "latest.svg";

/** Runs the three modes on `fleet` (the bench's case) and writes the plot
 *  into `dir`; returns one line per mode for the bench's output. */
export function modesPlot(dir: string, fleet: Partial<FleetOptions>): string[] {
  const runs: PlottedRun[] = [];
  const lines: string[] = [];
  for (const mode of RELAY_MODES) {
    const { result, timeline } = runFleetTimeline(new Fleet({ ...fleet, phones: PLOT_PHONES, mode }));
    if (!result.ok) throw new Error(`bench plot: ${mode} failed: ${result.errors.slice(0, 2).join("; ")} (seed ${result.seed})`);
    runs.push({ name: mode, timeline });
    lines.push(`${mode}: done at ${result.relay!.doneMs} ms, WAN ${result.relay!.wanBytes} bytes, ${timeline.length} samples`);
  }
  const f = { ...fleet, phones: PLOT_PHONES };
  const title = `${PLOT_PHONES} phones, ${f.load}, WAN ${f.wanKbps} kbit/s ${f.wanRttMs} ms RTT, LAN ${f.lanMbps} Mbit/s, lockstep TFTP, seed ${f.seed}`;
  writeFileSync(join(dir, PLOT_FILE), simPlotSvg(title, runs, true));
  return lines;
}
