// The phone cards: one per phone, keyed by MAC, with a progress bar per
// component (bytes held of the file's size, and the rate). Each card is
// <article data-mac="MAC" data-progress="0-100">, the load as a whole.

import type { ComponentView, PhoneView } from "../host/view/fleet-snapshot.js";
import { bytes, el, ipOrder, percent, rate } from "./format.js";

const drawn = new Map<string, { card: HTMLElement; version: number }>();

export function renderPhones(box: HTMLElement, phones: Iterable<PhoneView>): void {
  const sorted = [...phones].sort((a, b) => ipOrder(a.ip, b.ip) || (a.mac < b.mac ? -1 : 1));
  for (const p of sorted) {
    let d = drawn.get(p.mac);
    if (d === undefined) {
      const card = el("article", "phone");
      card.dataset.mac = p.mac;
      d = { card, version: -1 };
      drawn.set(p.mac, d);
    }
    box.append(d.card);
    if (d.version === p.version) continue;
    d.version = p.version;
    fill(d.card, p);
  }
  if (drawn.size !== box.children.length) throw new Error("phone cards out of step");
}

export function resetPhones(box: HTMLElement): void {
  drawn.clear();
  box.replaceChildren();
}

function fill(card: HTMLElement, p: PhoneView): void {
  if (!(Number.isInteger(p.progress) && p.progress >= 0 && p.progress <= 100)) throw new Error(`${p.mac}: progress ${p.progress}`);
  card.dataset.progress = String(p.progress);
  // A claimant may already be the top of a tree (a tentative root takes
  // children from its Ad 1, docs/PROTOCOL.md §6.3): it shows as claiming.
  const claiming = p.components.some((c) => c.role === "claiming");
  card.dataset.role = p.components.some((c) => c.role === "root") ? "root" : claiming ? "claiming" : "";
  card.classList.toggle("done", p.done);
  const head = el("header", "");
  const roles = p.components.filter((c) => c.role === "root").length;
  head.append(el("span", "mac", p.mac), el("span", "ip", p.ip), el("span", "model", p.model));
  if (roles > 0) head.append(el("span", "badge root", roles === 1 ? "root" : `root ×${roles}`));
  else if (claiming) head.append(el("span", "badge claiming", "claiming"));
  head.append(el("span", "pct", p.done ? "done" : `${p.progress}%`));
  const load = el("div", "load", p.load === "" ? "reading its configuration" : p.load);
  const rows = el("div", "components");
  for (const c of [...p.components].sort((a, b) => (a.file < b.file ? -1 : 1))) rows.append(component(c));
  const last = el("div", "last", p.lastText);
  card.replaceChildren(head, load, rows, last);
}

function component(c: ComponentView): HTMLElement {
  const row = el("div", `component role-${c.role}${c.done ? " done" : ""}`);
  row.dataset.xid = c.xid;
  const pct = c.done ? 100 : percent(c.held, c.size);
  const bar = el("div", "bar");
  const fillEl = el("div", "fill");
  fillEl.style.width = `${pct}%`;
  bar.append(fillEl);
  const via = c.role === "root" ? "from the server" : c.parent !== "" ? `from ${c.parent.slice(-4)}` : c.parentIp !== "" ? `from ${c.parentIp}` : c.role;
  const speed = c.done ? "done" : rate(c.rateBytesPerSec);
  // A done file is all held, whatever the last count said (a phone may
  // report its held bytes only while it fetches).
  const held = c.done ? c.size : c.held;
  row.append(el("span", "file", c.file), bar, el("span", "numbers", `${bytes(held)} / ${bytes(c.size)} · ${speed} · ${via}`));
  row.title = `${c.xid} ${c.role}, depth ${c.depth}, WAN ${bytes(c.wan)}`;
  return row;
}
