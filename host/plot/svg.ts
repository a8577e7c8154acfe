// A whole SVG document of line charts stacked one above the other (the
// run's phones done, then its WAN bytes, over the same time axis). The file
// `pfs sim --plot` and `make bench` write.

import { LineChart } from "./series.js";
import { lineChartSvg } from "./line-chart.js";
import { coord, escapeXml } from "./svg-text.js";

/** The size of one chart: a page's width, and tall enough to read a step. */
export const CHART_WIDTH_PX = 860;
export const CHART_HEIGHT_PX = 340;

/** Charts in one document: two is what `--plot` writes; more than a few
 *  stacked charts is no longer a picture one looks at. */
export const MAX_CHARTS = 6;

/** The document: `title` for viewers that show one, charts top to bottom. */
export function plotSvg(title: string, charts: LineChart[]): string {
  if (charts.length === 0 || charts.length > MAX_CHARTS) throw new Error(`plot: ${charts.length} charts, 1 to ${MAX_CHARTS}`);
  const height = CHART_HEIGHT_PX * charts.length;
  const body = charts.map((c, i) => lineChartSvg(c, { x: 0, y: i * CHART_HEIGHT_PX, width: CHART_WIDTH_PX, height: CHART_HEIGHT_PX }));
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH_PX}" height="${height}" viewBox="0 0 ${CHART_WIDTH_PX} ${coord(height)}">
<title>${escapeXml(title)}</title>
<rect width="100%" height="100%" fill="#fff"/>
${body.join("\n")}
</svg>
`;
}
