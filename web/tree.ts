// One hierarchy's tree as SVG: d3.stratify over the parent links, d3.tree
// for the layout, root at the top under the load server, one row per depth.
// Each node is a <g data-node="MAC" data-parent="MAC"> a test can read.

import { stratify, tree, type HierarchyPointNode } from "d3-hierarchy";
import type { HierarchyView } from "../host/view/fleet-snapshot.js";
import { TOP_ID, treeData, type TreeDatum } from "./tree-links.js";

const SVG_NS = "http://www.w3.org/2000/svg";
/** Space per node across and per depth down, in SVG units: room for a
 *  4-digit label under a node. */
const NODE_DX = 44;
const NODE_DY = 54;
const NODE_R = 9;
const MARGIN = 24;

export function drawTree(svg: SVGSVGElement, h: HierarchyView): void {
  const root = stratify<TreeDatum>().id((d) => d.id).parentId((d) => (d.parentId === "" ? null : d.parentId))(treeData(h));
  root.sort((a, b) => (a.id! < b.id! ? -1 : 1));
  const laid = tree<TreeDatum>().nodeSize([NODE_DX, NODE_DY])(root);
  const nodes = laid.descendants();
  const minX = Math.min(...nodes.map((n) => n.x));
  const maxX = Math.max(...nodes.map((n) => n.x));
  const maxY = Math.max(...nodes.map((n) => n.y));
  const width = maxX - minX + 2 * MARGIN;
  const height = maxY + 2 * MARGIN + 12;
  svg.setAttribute("viewBox", `${minX - MARGIN} ${-MARGIN} ${width} ${height}`);
  svg.setAttribute("width", String(Math.min(width, 1200)));
  svg.setAttribute("height", String(Math.min(height, 420)));
  svg.replaceChildren();
  const links = make("g", "links");
  for (const n of nodes) if (n.parent !== null) links.append(link(n.parent, n));
  const dots = make("g", "nodes");
  for (const n of nodes) dots.append(n.data.member === null ? top(n) : node(n));
  svg.append(links, dots);
}

function link(from: HierarchyPointNode<TreeDatum>, to: HierarchyPointNode<TreeDatum>): SVGElement {
  const p = make("path", from.data.id === TOP_ID ? (to.data.orphan ? "link orphan" : "link wan") : "link");
  const midY = (from.y + to.y) / 2;
  p.setAttribute("d", `M${from.x},${from.y}C${from.x},${midY} ${to.x},${midY} ${to.x},${to.y}`);
  return p;
}

function top(n: HierarchyPointNode<TreeDatum>): SVGElement {
  const g = make("g", "top");
  g.setAttribute("transform", `translate(${n.x},${n.y})`);
  const r = make("rect", "");
  for (const [k, v] of [["x", -26], ["y", -10], ["width", 52], ["height", 20], ["rx", 4]] as const) r.setAttribute(k, String(v));
  const t = make("text", "");
  t.setAttribute("dy", "4");
  t.textContent = "server";
  g.append(r, t);
  return g;
}

function node(n: HierarchyPointNode<TreeDatum>): SVGElement {
  const m = n.data.member!;
  const g = make("g", `node role-${m.role}${m.done ? " done" : ""}${n.data.orphan ? " orphan" : ""}`);
  g.setAttribute("transform", `translate(${n.x},${n.y})`);
  g.dataset.node = m.mac;
  g.dataset.parent = n.data.parentId === TOP_ID ? "" : n.data.parentId;
  g.dataset.depth = String(m.depth);
  const c = make("circle", "");
  c.setAttribute("r", String(NODE_R));
  const t = make("text", "");
  t.setAttribute("dy", String(NODE_R + 13));
  t.textContent = m.mac.slice(-4);
  const title = make("title", "");
  title.textContent = `${m.mac} ${m.role}, depth ${m.depth}${m.parentIp !== "" ? `, parent ${m.parentIp}` : ""}${m.done ? ", done" : ""}`;
  g.append(c, t, title);
  return g;
}

function make(tag: string, cls: string): SVGElement {
  const e = document.createElementNS(SVG_NS, tag) as SVGElement;
  if (cls !== "") e.setAttribute("class", cls);
  return e;
}
