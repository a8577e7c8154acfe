// What a chart draws: named series of (x, y) points, in the units of the run
// (virtual seconds, phones, bytes). One idea: the data, checked, with the
// ranges the axes need.

export interface Series {
  name: string;
  /** x ascending; NaN and infinities are rejected. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Draw as steps (the value holds until the next point): for counts,
   *  such as phones done, that change at one moment and stay. */
  step?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** "log" for times that span orders of magnitude (direct vs PFS); every
   *  x must then be > 0. */
  xScale?: "linear" | "log";
}

/** Series a chart may hold: the palette has this many distinct colours, and
 *  a legend longer than this no longer fits beside a chart. */
export const MAX_SERIES = 8;

/** Points per series: a 20,000-phone run's done times, and more than a chart
 *  2,000 pixels wide can show; a timeline (host/sim/timeline.ts) thins its
 *  samples below it. */
export const MAX_POINTS = 20_000;

/** Checks a chart's data; throws on what would draw a wrong picture. */
export function checkChart(c: LineChart): void {
  if (c.series.length > MAX_SERIES) throw new Error(`plot: ${c.series.length} series, at most ${MAX_SERIES}`);
  for (const s of c.series) {
    if (s.points.length > MAX_POINTS) throw new Error(`plot: series ${s.name} has ${s.points.length} points, at most ${MAX_POINTS}`);
    let lastX = -Infinity;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`plot: series ${s.name} has a point that is not finite`);
      if (x < lastX) throw new Error(`plot: series ${s.name} is not in ascending x`);
      if (c.xScale === "log" && x <= 0) throw new Error(`plot: series ${s.name} has x ${x} on a log axis`);
      lastX = x;
    }
  }
}

/** [min, max] of the x (axis 0) or y (axis 1) values of every series, or
 *  `empty` when there are none. */
export function extent(c: LineChart, axis: 0 | 1, empty: [number, number]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const s of c.series) {
    for (const p of s.points) {
      if (p[axis] < min) min = p[axis];
      if (p[axis] > max) max = p[axis];
    }
  }
  return min === Infinity ? empty : [min, max];
}
