// The page's copy of the fleet: the snapshot the server sends on connect,
// with every delta laid over it (docs/WEB.md). Each phone and hierarchy
// keeps its version, so the drawing redraws only what changed.

import type { DonePoint, FleetDelta, FleetEvent, FleetSnapshot, FleetTotals, HierarchyView, PhoneView } from "../host/view/fleet-snapshot.js";

/** Events the page keeps: as many as the server's view (MAX_VIEW_EVENTS in
 *  host/view/fleet-view.ts), so a reconnect shows the same list. */
export const MAX_SHOWN_EVENTS = 200;

export class FleetState {
  version = 0;
  startMs = -1;
  totals: FleetTotals = { phones: 0, done: 0, wanBytes: 0, loadBytes: 0, dropped: 0, rejected: 0, reports: 0 };
  readonly phones = new Map<string, PhoneView>();
  readonly hierarchies = new Map<string, HierarchyView>();
  events: FleetEvent[] = [];
  doneOverTime: DonePoint[] = [];

  reset(s: FleetSnapshot): void {
    this.phones.clear();
    this.hierarchies.clear();
    this.events = [];
    this.doneOverTime = [];
    this.version = 0;
    this.merge({ ...s, fromVersion: 0 });
  }

  /** A delta from a version other than ours means a message was lost: the
   *  caller reconnects for a fresh snapshot. */
  apply(d: FleetDelta): boolean {
    if (d.fromVersion !== this.version) return false;
    this.merge(d);
    return true;
  }

  private merge(d: FleetDelta): void {
    this.version = d.version;
    this.startMs = d.startMs;
    this.totals = d.totals;
    for (const p of d.phones) this.phones.set(p.mac, p);
    for (const h of d.hierarchies) this.hierarchies.set(h.xid, h);
    this.events = this.events.concat(d.events).slice(-MAX_SHOWN_EVENTS);
    this.doneOverTime = this.doneOverTime.concat(d.doneOverTime);
  }
}
