// The live fleet page: a FleetState fed by the server's Server-Sent Events
// (/events: a snapshot, then deltas), drawn at most once per animation frame.

import "uplot/dist/uPlot.min.css";
import "./style.css";
import type { FleetDelta, FleetSnapshot } from "../host/view/fleet-snapshot.js";
import { renderEvents, resetEvents } from "./events.js";
import { FleetState } from "./fleet-state.js";
import { renderHierarchies, resetHierarchies } from "./hierarchies.js";
import { renderPhones, resetPhones } from "./phones.js";
import { renderPlot } from "./plot.js";
import { renderSummary, renderWan } from "./summary.js";

const state = new FleetState();
const box = (id: string): HTMLElement => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e;
};
const ui = { summary: box("summary"), link: box("link"), wan: box("wan"), hierarchies: box("hierarchies"), events: box("events"), plot: box("plot"), phones: box("phones") };

let pending = false;
function redraw(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    renderSummary(ui.summary, state.totals, state.hierarchies.size);
    renderWan(ui.wan, state.totals);
    renderHierarchies(ui.hierarchies, state.hierarchies.values());
    renderPhones(ui.phones, state.phones.values());
    renderEvents(ui.events, state.events, state.startMs);
    let lastMs = state.startMs;
    for (const p of state.phones.values()) lastMs = Math.max(lastMs, p.lastAtMs);
    renderPlot(ui.plot, state.doneOverTime, state.startMs, lastMs, state.totals.phones);
    document.body.dataset.version = String(state.version);
  });
}

function connect(): void {
  const es = new EventSource("/events");
  es.addEventListener("open", () => setLink("live"));
  es.addEventListener("error", () => setLink(es.readyState === EventSource.CLOSED ? "closed" : "reconnecting"));
  es.addEventListener("snapshot", (m) => {
    state.reset(JSON.parse((m as MessageEvent<string>).data) as FleetSnapshot);
    resetHierarchies(ui.hierarchies);
    resetPhones(ui.phones);
    resetEvents(ui.events);
    redraw();
  });
  es.addEventListener("delta", (m) => {
    if (!state.apply(JSON.parse((m as MessageEvent<string>).data) as FleetDelta)) {
      // Out of step (a message we never saw): start again from a snapshot.
      es.close();
      connect();
      return;
    }
    redraw();
  });
}

function setLink(s: string): void {
  ui.link.dataset.state = s;
  ui.link.textContent = s;
}

connect();
