// The event list: the events that matter, newest first.

import type { FleetEvent } from "../host/view/fleet-snapshot.js";
import type { ReportEvent } from "../host/view/report.js";
import { el } from "./format.js";

const LABELS: Record<ReportEvent, string> = {
  root: "root elected",
  joined: "joined",
  parentLost: "parent lost",
  corrupt: "bad block caught",
  avoided: "peer avoided",
  fileDone: "file done",
  loadDone: "done",
  failed: "failed",
};

let shownSeq = -1;

export function renderEvents(list: HTMLElement, events: FleetEvent[], startMs: number): void {
  const last = events.length === 0 ? -1 : events[events.length - 1].seq;
  if (last === shownSeq) return;
  shownSeq = last;
  const items = [...events].reverse().map((e) => {
    const li = el("li", `event ev-${e.event}`);
    li.dataset.event = e.event;
    li.dataset.mac = e.mac;
    const at = startMs >= 0 ? `${((e.atMs - startMs) / 1000).toFixed(1)} s` : "";
    const where = e.file !== "" ? `${e.model} ${e.file}` : "";
    li.append(el("span", "at", at), el("span", "what", LABELS[e.event]), el("span", "who", e.mac), el("span", "where", where));
    if (e.text !== "") li.title = e.text;
    return li;
  });
  list.replaceChildren(...items);
}

export function resetEvents(list: HTMLElement): void {
  shownSeq = -1;
  list.replaceChildren();
}
