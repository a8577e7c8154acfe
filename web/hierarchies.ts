// The hierarchy cards: one per (model, file), keyed by XID, with its tree.
// Each card is <section data-xid="XID…" data-root="MAC or ''">.

import type { HierarchyView } from "../host/view/fleet-snapshot.js";
import { bytes, el } from "./format.js";
import { drawTree } from "./tree.js";

const drawn = new Map<string, { card: HTMLElement; title: HTMLElement; facts: HTMLElement; svg: SVGSVGElement; version: number }>();

export function renderHierarchies(box: HTMLElement, hierarchies: Iterable<HierarchyView>): void {
  const sorted = [...hierarchies].sort((a, b) => (a.model + a.file < b.model + b.file ? -1 : 1));
  for (const h of sorted) {
    let d = drawn.get(h.xid);
    if (d === undefined) {
      const card = el("section", "hierarchy");
      card.dataset.xid = h.xid;
      const title = el("h3", "");
      const facts = el("div", "facts");
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "tree");
      card.append(title, facts, svg);
      d = { card, title, facts, svg, version: -1 };
      drawn.set(h.xid, d);
    }
    box.append(d.card); // in order; moves an existing card, creates nothing
    if (d.version === h.version) continue;
    d.version = h.version;
    d.card.dataset.root = h.root;
    d.card.classList.toggle("no-root", h.root === "");
    d.card.classList.toggle("merging", h.roots.length > 1);
    d.title.textContent = `${h.model} · ${h.file}`;
    const rootText = h.root === "" ? "no root" : `root ${h.root}${h.roots.length > 1 ? ` (+${h.roots.length - 1} merging)` : ""}`;
    d.facts.textContent = `${h.xid} · ${bytes(h.size)} · ${h.members.length} phones · depth ${h.maxDepth} · ${rootText}`;
    drawTree(d.svg, h);
  }
  if (drawn.size !== box.children.length) throw new Error("hierarchy cards out of step");
}

export function resetHierarchies(box: HTMLElement): void {
  drawn.clear();
  box.replaceChildren();
}
