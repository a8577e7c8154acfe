// The plot of simulator runs: phones done over time (steps: a count), and
// WAN bytes over time, as two charts stacked over the same time axis in one
// SVG (a second y axis on one chart would mix phones and bytes on one grid).
// One run (`pfs sim --plot`) or several side by side (the bench's modes).

import { writeFileSync } from "node:fs";
import { Fleet, FleetOptions, FleetResult } from "../sim/fleet.js";
import { runFleetTimeline, TimelineSample } from "../sim/timeline.js";
import type { LineChart, Series } from "./series.js";
import { plotSvg } from "./svg.js";

export interface PlottedRun {
  /** The legend's name for the run (its mode, say). */
  name: string;
  timeline: TimelineSample[];
}

/** Seconds of the first point on a log axis: a run starts at 0, which a log
 *  axis cannot show; a tenth of a second is before any phone boots
 *  (bootSpreadMs is 1000) and after the axis's first decade. */
export const LOG_AXIS_START_S = 0.1;

/** A step series needs only the points where the value changes, and the
 *  last (where the run ends): a long flat stretch is one step. */
function steps(points: Array<[number, number]>): Array<[number, number]> {
  const out = points.filter((p, i) => i === 0 || i === points.length - 1 || p[1] !== points[i - 1][1]);
  if (out.length > points.length) throw new Error("plot: steps added points");
  return out;
}

/** The SVG: `title` on top, then phones done, then WAN bytes. With `logTime`
 *  the time axis is logarithmic (runs of very different lengths). */
export function simPlotSvg(title: string, runs: PlottedRun[], logTime = false): string {
  const at = (ms: number) => (logTime ? Math.max(LOG_AXIS_START_S, ms / 1000) : ms / 1000);
  const series = (pick: (s: TimelineSample) => number): Series[] =>
    runs.map((r) => ({ name: r.name, step: true, points: steps(r.timeline.map((s) => [at(s.atMs), pick(s)] as [number, number])) }));
  const xLabel = `virtual time (s${logTime ? ", log scale" : ""})`;
  const xScale = logTime ? "log" : "linear";
  const charts: LineChart[] = [
    { title: "Phones holding the whole load", xLabel, yLabel: "phones", xScale, series: series((s) => s.done) },
    { title: "Bytes fetched over the WAN", xLabel, yLabel: "bytes", xScale, series: series((s) => s.wanBytes) },
  ];
  return plotSvg(title, charts);
}

/** Runs a fleet to its end, recording its timeline, and writes its plot to
 *  `svgPath` (`pfs sim --plot FILE.svg`). Returns the run's result. */
export function runFleetPlot(opts: Partial<FleetOptions>, svgPath: string): FleetResult {
  const fleet = new Fleet(opts);
  const { result, timeline } = runFleetTimeline(fleet);
  const o = fleet.o;
  const what = o.load === undefined ? `${o.files} files` : `${o.load}, ${o.mode}`;
  const title = `pfs sim: ${result.phones} phones, ${o.models} models, ${what}, seed ${o.seed}`;
  writeFileSync(svgPath, simPlotSvg(title, [{ name: o.mode, timeline }]));
  return result;
}
