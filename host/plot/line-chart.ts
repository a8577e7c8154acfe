// One line chart as an SVG group, drawn in Node with no DOM: d3-scale gives
// the axes and their nice ticks, d3-shape's line() the path strings, and the
// markup around them (frame, ticks, labels, legend) is written here. Same
// input, same bytes.

import { scaleLinear, scaleLog } from "d3-scale";
import { curveLinear, curveStepAfter, line } from "d3-shape";
import { PALETTE } from "./palette.js";
import { checkChart, extent, LineChart, MAX_SERIES } from "./series.js";
import { coord, COORD_DECIMALS, escapeXml } from "./svg-text.js";

/** A chart's box in the document, in pixels. */
export interface Frame {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Room around the plot area: the y tick labels (up to "999.5M") on the
 *  left, the legend on the right, the title above, the x label below. */
export const MARGIN = { left: 72, right: 170, top: 34, bottom: 46 } as const;

/** Ticks asked of d3 per axis: about one per 80 pixels of a 640-pixel axis. */
export const TICKS = 8;

const LEGEND_ROW_PX = 18;
const FONT = 'font-family="sans-serif" font-size="12"';

/** The chart as a `<g>` element placed at its frame. */
export function lineChartSvg(c: LineChart, f: Frame): string {
  checkChart(c);
  const w = f.width - MARGIN.left - MARGIN.right;
  const h = f.height - MARGIN.top - MARGIN.bottom;
  if (!(w > 0 && h > 0)) throw new Error(`plot: frame ${f.width}x${f.height} leaves no room to draw`);
  const log = c.xScale === "log";
  let [x0, x1] = extent(c, 0, log ? [1, 10] : [0, 1]);
  if (x0 === x1) [x0, x1] = log ? [x0 / 10, x1 * 10] : [x0 - 1, x1 + 1];
  // Counts and bytes start from nothing: the y axis from 0 (or below, if any is).
  const [yMin, yMax] = extent(c, 1, [0, 1]);
  const y0 = Math.min(0, yMin);
  const y1 = yMax > y0 ? yMax : y0 + 1;
  const sx = (log ? scaleLog() : scaleLinear()).domain([x0, x1]).range([0, w]);
  if (!log) (sx as ReturnType<typeof scaleLinear>).nice(TICKS);
  const sy = scaleLinear().domain([y0, y1]).nice(TICKS).range([h, 0]);
  const parts: string[] = [];
  // The axes' ranges as data, after nice(): what a reader (or a test) can
  // check against the run without parsing paths.
  const [dx0, dx1] = sx.domain();
  const [dy0, dy1] = sy.domain();
  parts.push(`<g class="chart" transform="translate(${coord(f.x + MARGIN.left)},${coord(f.y + MARGIN.top)})" ` +
    `data-x-min="${dx0}" data-x-max="${dx1}" data-y-min="${dy0}" data-y-max="${dy1}" ${FONT}>`);
  parts.push(`<text class="title" x="${coord(w / 2)}" y="-14" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(c.title)}</text>`);
  parts.push(axisX(sx, w, h, log), axisY(sy, w, h));
  parts.push(`<text class="x-label" x="${coord(w / 2)}" y="${coord(h + 38)}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`);
  parts.push(`<text class="y-label" transform="translate(-56,${coord(h / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const path = line<readonly [number, number]>()
      .x((p) => sx(p[0]))
      .y((p) => sy(p[1]))
      .curve(s.step ? curveStepAfter : curveLinear)
      .digits(COORD_DECIMALS)(s.points);
    const colour = PALETTE[i % MAX_SERIES];
    parts.push(`<path class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${colour}" stroke-width="2" d="${path ?? ""}"/>`);
    const ly = i * LEGEND_ROW_PX;
    parts.push(`<g class="legend" transform="translate(${coord(w + 14)},${ly})"><line x1="0" y1="0" x2="18" y2="0" stroke="${colour}" stroke-width="3"/>` +
      `<text x="24" y="4">${escapeXml(s.name)}</text></g>`);
  });
  if (c.series.every((s) => s.points.length === 0)) {
    parts.push(`<text class="empty" x="${coord(w / 2)}" y="${coord(h / 2)}" text-anchor="middle" fill="#888">no data</text>`);
  }
  parts.push("</g>");
  return parts.join("\n");
}

type Scale = { (v: number): number; ticks(n: number): number[]; tickFormat(n: number, spec?: string): (v: number) => string };

function axisX(sx: Scale, w: number, h: number, log: boolean): string {
  // A log axis labels only its 1, 2 and 5s ("~g"; "" for the rest); a
  // linear one its own steps' decimals (d3's default).
  const fmt = log ? sx.tickFormat(TICKS, "~g") : sx.tickFormat(TICKS);
  const ticks = sx.ticks(TICKS).map((t) => {
    const x = coord(sx(t));
    const label = fmt(t);
    return `<line x1="${x}" y1="${coord(h)}" x2="${x}" y2="${coord(h + 5)}" stroke="#000"/>` +
      (label === "" ? "" : `<text class="tick" x="${x}" y="${coord(h + 18)}" text-anchor="middle">${escapeXml(label)}</text>`);
  });
  return `<g class="x-axis"><line x1="0" y1="${coord(h)}" x2="${coord(w)}" y2="${coord(h)}" stroke="#000"/>${ticks.join("")}</g>`;
}

function axisY(sy: Scale, w: number, h: number): string {
  // SI prefixes for bytes (2M), plain numbers for counts.
  const si = sy.tickFormat(TICKS, "~s");
  const fmt = (v: number) => (v === 0 ? "0" : si(v));
  const ticks = sy.ticks(TICKS).map((t) => {
    const y = coord(sy(t));
    return `<line x1="0" y1="${y}" x2="${coord(w)}" y2="${y}" stroke="#ddd"/><line x1="-5" y1="${y}" x2="0" y2="${y}" stroke="#000"/>` +
      `<text class="tick" x="-8" y="${y}" dy="4" text-anchor="end">${escapeXml(fmt(t))}</text>`;
  });
  return `<g class="y-axis"><line x1="0" y1="0" x2="0" y2="${coord(h)}" stroke="#000"/>${ticks.join("")}</g>`;
}
