// The SVG plots (host/plot/): parsed back as XML, the document holds what it
// was given: one path per series with as many vertices as points, axes that
// cover every point, text escaped, an empty series drawn as nothing, and the
// same bytes for the same input.

import { test } from "node:test";
import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { plotSvg } from "../../host/plot/svg.js";
import type { LineChart } from "../../host/plot/series.js";

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => ["g", "path", "text", "line"].includes(name) });

interface Node { [k: string]: unknown }
/** Every element named `name` below `n`, depth first. */
function all(n: unknown, name: string, out: Node[] = []): Node[] {
  if (Array.isArray(n)) for (const c of n) all(c, name, out);
  else if (n !== null && typeof n === "object") {
    for (const [k, v] of Object.entries(n as Node)) {
      if (k === name) for (const c of Array.isArray(v) ? v : [v]) out.push(c as Node);
      all(v, name, out);
    }
  }
  return out;
}

/** Vertices of a path's d: one per M or L command (a step adds H/V ones). */
const vertices = (d: string) => (d.match(/[ML]/g) ?? []).length;

const chart = (over: Partial<LineChart> = {}): LineChart => ({
  title: "phones done", xLabel: "virtual s", yLabel: "phones",
  series: [
    { name: "cut-through", points: [[0, 0], [10, 4], [20, 9], [35, 16]] },
    { name: "direct", points: [[0, 0], [50, 3], [90, 16]] },
    { name: "store-and-forward", points: [[1, 0], [40, 16]] },
  ],
  ...over,
});

function parse(svg: string): Node {
  assert.equal(XMLValidator.validate(svg), true, "the document is well-formed XML");
  return parser.parse(svg) as Node;
}

test("one path per series, one vertex per point, one legend entry each", () => {
  const doc = parse(plotSvg("run", [chart()]));
  const paths = all(doc, "path");
  assert.deepEqual(paths.map((p) => p["data-name"]), ["cut-through", "direct", "store-and-forward"]);
  assert.deepEqual(paths.map((p) => vertices(p.d as string)), [4, 3, 2]);
  const legends = all(doc, "g").filter((g) => g.class === "legend");
  assert.equal(legends.length, 3);
});

test("the axes cover every point: x to 90 at least, y from 0 to 16 at least", () => {
  const doc = parse(plotSvg("run", [chart()]));
  const g = all(doc, "g").find((n) => n.class === "chart")!;
  assert.ok(Number(g["data-x-min"]) <= 0 && Number(g["data-x-max"]) >= 90, `x ${g["data-x-min"]}..${g["data-x-max"]}`);
  assert.equal(Number(g["data-y-min"]), 0);
  assert.ok(Number(g["data-y-max"]) >= 16 && Number(g["data-y-max"]) <= 20, `y max ${g["data-y-max"]} (nice, not far above 16)`);
  // Every vertex lies inside the plot area (nothing drawn off the axes).
  for (const p of all(doc, "path")) {
    for (const [, x, y] of (p.d as string).matchAll(/[MLHV]?(-?[\d.]+),(-?[\d.]+)/g)) {
      assert.ok(Number(x) >= 0 && Number(y) >= 0, `vertex ${x},${y} of ${p["data-name"]} left of or above the axes`);
    }
  }
});

test("a log time axis keeps decades apart and refuses x <= 0", () => {
  const svg = plotSvg("run", [chart({ xScale: "log", series: [{ name: "a", points: [[1, 1], [1000, 2]] }] })]);
  const g = all(parse(svg), "g").find((n) => n.class === "chart")!;
  assert.equal(Number(g["data-x-min"]), 1);
  assert.equal(Number(g["data-x-max"]), 1000);
  assert.throws(() => plotSvg("run", [chart({ xScale: "log" })]), /log axis/);
});

test("titles, labels and names are escaped, and come back as written", () => {
  const nasty = `a<b & "c" 'd'>`;
  const svg = plotSvg(nasty, [chart({ title: nasty, xLabel: nasty, series: [{ name: nasty, points: [[0, 1], [1, 2]] }] })]);
  const doc = parse(svg);
  assert.equal(all(doc, "path")[0]["data-name"], nasty);
  const texts = all(doc, "text").map((t) => (typeof t === "object" ? t["#text"] : t));
  assert.ok(texts.filter((t) => t === nasty).length >= 3, "title, x label and legend read back whole");
  assert.ok(!svg.includes("<b "), "no raw markup from the text");
});

test("step series draw steps; an empty series draws an empty path and says no data", () => {
  const doc = parse(plotSvg("run", [chart({ series: [{ name: "done", step: true, points: [[0, 0], [10, 5], [20, 7]] }] })]));
  const d = all(doc, "path")[0].d as string;
  const v = [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(v.length, 5, `3 points as steps: across, up, across, up: ${d}`);
  for (let i = 1; i < v.length; i++) {
    const across = i % 2 === 1;
    assert.equal(v[i][across ? 1 : 0], v[i - 1][across ? 1 : 0], `segment ${i} of ${d} is ${across ? "level" : "upright"}`);
  }
  const empty = parse(plotSvg("run", [chart({ series: [{ name: "none", points: [] }] })]));
  assert.equal(all(empty, "path")[0].d, "");
  assert.ok(all(empty, "text").some((t) => t["#text"] === "no data"));
});

test("same input, same bytes; two charts stack into one document", () => {
  const a = plotSvg("run", [chart(), chart({ title: "WAN bytes" })]);
  assert.equal(a, plotSvg("run", [chart(), chart({ title: "WAN bytes" })]));
  const doc = parse(a);
  assert.equal(all(doc, "g").filter((g) => g.class === "chart").length, 2);
  assert.equal(all(doc, "path").length, 6);
});

test("bad data is refused: not ascending, not finite, too many series", () => {
  assert.throws(() => plotSvg("x", [chart({ series: [{ name: "s", points: [[2, 0], [1, 0]] }] })]), /ascending/);
  assert.throws(() => plotSvg("x", [chart({ series: [{ name: "s", points: [[0, NaN]] }] })]), /finite/);
  const many = Array.from({ length: 9 }, (_, i) => ({ name: `s${i}`, points: [[0, i]] as [number, number][] }));
  assert.throws(() => plotSvg("x", [chart({ series: many })]), /at most 8/);
});
