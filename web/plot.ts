// Phones done over time, with uPlot: seconds since the first report against
// the count of phones done, a step line.

import uPlot from "uplot";
import type { DonePoint } from "../host/view/fleet-snapshot.js";

const PLOT_HEIGHT_PX = 220;

let plot: uPlot | null = null;
let shown = "";

/** `lastMs`: the latest report, so the line runs on to now while phones
 *  are still at work. */
export function renderPlot(box: HTMLElement, points: DonePoint[], startMs: number, lastMs: number, phones: number): void {
  const key = `${points.length} ${phones} ${Math.floor(lastMs / 1000)}`;
  if (plot !== null && key === shown) return;
  shown = key;
  const secs = (ms: number): number => Math.max(0, (ms - startMs) / 1000);
  const xs = [0, ...points.map((p) => secs(p.atMs))];
  const ys = [0, ...points.map((p) => p.done)];
  if (secs(lastMs) > xs[xs.length - 1]) {
    xs.push(secs(lastMs));
    ys.push(ys[ys.length - 1]);
  }
  const data: uPlot.AlignedData = [xs, ys];
  if (plot === null) {
    plot = new uPlot(
      {
        width: Math.max(300, box.clientWidth),
        height: PLOT_HEIGHT_PX,
        legend: { show: false },
        scales: { x: { time: false }, y: { range: () => [0, Math.max(1, phones)] } },
        axes: [{ label: "seconds", stroke: "#9aa4b2", grid: { stroke: "#2a3140" } }, { label: "phones done", stroke: "#9aa4b2", grid: { stroke: "#2a3140" } }],
        series: [{}, { label: "done", stroke: "#4cc38a", width: 2, fill: "rgba(76,195,138,0.15)", paths: uPlot.paths.stepped!({ align: 1 }) }],
      },
      data,
      box,
    );
    window.addEventListener("resize", () => plot?.setSize({ width: Math.max(300, box.clientWidth), height: PLOT_HEIGHT_PX }));
  } else {
    plot.setScale("y", { min: 0, max: Math.max(1, phones) });
    plot.setData(data);
  }
}
