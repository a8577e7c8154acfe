// The fleet as a watcher sees it at one moment: what FleetView
// (host/view/fleet-view.ts) hands out, what the page's /snapshot.json and
// Server-Sent Events carry (docs/WEB.md). Plain JSON: no Maps, no classes,
// so the page imports these types without anything of Node.

import type { ReportEvent, RoleName } from "./report.js";

export interface ComponentView {
  xid: string;
  model: string;
  file: string;
  role: RoleName;
  held: number;
  size: number;
  /** The parent's address as reported, and its MAC when a phone has it. */
  parentIp: string;
  parent: string;
  depth: number;
  wan: number;
  done: boolean;
  /** Bytes per second over the last RATE_WINDOW_MS of reports. */
  rateBytesPerSec: number;
}

export interface PhoneView {
  mac: string;
  ip: string;
  load: string;
  model: string;
  components: ComponentView[];
  /** The load as a whole, 0-100: held over size of every file its model's
   *  load has (as far as any phone reported them); 100 when done. */
  progress: number;
  done: boolean;
  /** When it became done (report time), -1 while not. */
  doneAtMs: number;
  lastAtMs: number;
  lastEvent: ReportEvent | "";
  lastText: string;
  /** Bumped on every change: a delta carries phones newer than the client's. */
  version: number;
}

export interface MemberView {
  mac: string;
  /** The parent's MAC ("" for a root or when no phone has that address). */
  parent: string;
  parentIp: string;
  depth: number;
  role: RoleName;
  done: boolean;
}

export interface HierarchyView {
  xid: string;
  model: string;
  file: string;
  size: number;
  /** The root's MAC, "" when no member is root; `roots` lists every member
   *  that says it is (more than one only while two trees merge). */
  root: string;
  roots: string[];
  members: MemberView[];
  maxDepth: number;
  version: number;
}

export interface FleetEvent {
  /** The view's version when it happened: a delta carries the newer ones. */
  seq: number;
  atMs: number;
  mac: string;
  event: ReportEvent;
  xid: string;
  model: string;
  file: string;
  text: string;
}

export interface DonePoint {
  atMs: number;
  done: number;
  /** The view's version when the count changed (a delta carries newer ones). */
  version: number;
}

export interface FleetTotals {
  phones: number;
  done: number;
  /** Bytes fetched from the load server so far, all phones, all files. */
  wanBytes: number;
  /** What one fetch of each model's load would cost: the sum over every
   *  (model, load) of the sizes of its files. */
  loadBytes: number;
  /** Reports not stored: beyond the named limits, or malformed. */
  dropped: number;
  rejected: number;
  reports: number;
}

export interface FleetSnapshot {
  version: number;
  /** The earliest report time seen (the plot's zero), -1 before any. */
  startMs: number;
  totals: FleetTotals;
  phones: PhoneView[];
  hierarchies: HierarchyView[];
  events: FleetEvent[];
  doneOverTime: DonePoint[];
}

/** What changed since a version: the phones and hierarchies whose version
 *  is newer, the events with a later seq, and the totals. */
export interface FleetDelta {
  version: number;
  fromVersion: number;
  startMs: number;
  totals: FleetTotals;
  phones: PhoneView[];
  hierarchies: HierarchyView[];
  events: FleetEvent[];
  doneOverTime: DonePoint[];
}
