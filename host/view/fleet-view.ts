// FleetView: the state every watcher of a fleet reads (the live page, logd's
// summary, the simulator's page), reduced from PhoneReports
// (host/view/report.ts) one at a time. It owns no clock and no socket: time is
// each report's atMs, so a syslog feed, a fleet of processes and the
// simulator in virtual time all give the same picture. Bounded everywhere:
// phones, hierarchies and events past their limits are counted, not stored.

import { MAX_COMPONENTS } from "../load/loads.js";
import { REPORT_EVENTS, ROLE_NAMES, type PhoneReport, type ReportEvent } from "./report.js";
import { RateWindow } from "./fleet-rate.js";
import type {
  ComponentView, DonePoint, FleetDelta, FleetEvent, FleetSnapshot, FleetTotals, HierarchyView, MemberView, PhoneView,
} from "./fleet-snapshot.js";

/** Phones one view holds: the largest fleet the simulator runs
 *  (MAX_FLEET_PHONES in host/sim/fleet.ts, not imported: the simulator feeds
 *  this view and must not be imported by it), so `pfs sim --web` fits. */
export const MAX_VIEW_PHONES = 20_000;

/** Hierarchies (model, file) one view holds: four models' loads of the most
 *  components an index may list (MAX_COMPONENTS in host/load/loads.ts). */
export const MAX_VIEW_HIERARCHIES = 4 * MAX_COMPONENTS;

/** Events kept for the page's list: a screenful and a good scroll; older
 *  ones are in the phones' logs (logd keeps every line). */
export const MAX_VIEW_EVENTS = 200;

/** The events the list shows: "joined" and "fileDone" happen once per phone
 *  per file and would bury the ones an admin acts on; the tree and the
 *  progress bars show them. */
export const LISTED_EVENTS: ReadonlySet<ReportEvent> = new Set(["root", "parentLost", "corrupt", "avoided", "loadDone", "failed"]);

/** Console text kept per phone and per event: one console line's worth. */
export const MAX_TEXT_CHARS = 200;

const MAC_RE = /^[0-9A-F]{12}$/;
const XID_RE = /^XID[0-9A-F]{8}$/;

interface PhoneState {
  view: PhoneView;
  components: Map<string, ComponentView>;
  rates: Map<string, RateWindow>;
}

/** What one report changed, told to onChange listeners at once; what they
 *  show they take from deltaSince() (cheap here, however many phones). */
export interface FleetChange {
  version: number;
  mac: string;
  /** The hierarchy it touched, "" for none. */
  xid: string;
  event: ReportEvent | "";
}

type Listener = (change: FleetChange) => void;

export class FleetView {
  private version = 0;
  private startMs = -1;
  private readonly phones = new Map<string, PhoneState>();
  private readonly ipToMac = new Map<string, string>();
  private readonly hierarchies = new Map<string, HierarchyView>();
  /** Each (model, load)'s files and their sizes: what a phone must hold. */
  private readonly loadFiles = new Map<string, Map<string, number>>();
  private readonly events: FleetEvent[] = [];
  private readonly doneOverTime: DonePoint[] = [];
  private doneCount = 0;
  private dropped = 0;
  private rejected = 0;
  private reports = 0;
  private readonly listeners = new Set<Listener>();

  /** Calls `listener` after every stored report; returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(r: PhoneReport): void {
    this.reports++;
    if (!wellFormed(r)) {
      this.rejected++;
      return;
    }
    let p = this.phones.get(r.mac);
    if (p === undefined) {
      if (this.phones.size >= MAX_VIEW_PHONES) {
        this.dropped++;
        return;
      }
      p = newPhone(r.mac);
      this.phones.set(r.mac, p);
    }
    const c = r.component;
    if (c !== undefined && !this.hierarchies.has(c.xid) && this.hierarchies.size >= MAX_VIEW_HIERARCHIES) {
      this.dropped++;
      return;
    }
    this.version++;
    if (this.startMs < 0 || r.atMs < this.startMs) this.startMs = r.atMs;
    this.applyPhone(p, r);
    if (c !== undefined) this.applyComponent(p, r);
    if (r.event !== undefined && LISTED_EVENTS.has(r.event)) this.addEvent(r);
    this.refreshDone(p, r);
    this.checkInvariants(p);
    const change: FleetChange = { version: this.version, mac: r.mac, xid: c?.xid ?? "", event: r.event ?? "" };
    for (const l of this.listeners) l(change);
  }

  snapshot(): FleetSnapshot {
    return {
      version: this.version,
      startMs: this.startMs,
      totals: this.totals(),
      phones: [...this.phones.values()].map((p) => clonePhone(p)),
      hierarchies: [...this.hierarchies.values()].map((h) => structuredClone(h)),
      events: this.events.map((e) => ({ ...e })),
      doneOverTime: this.doneOverTime.map((d) => ({ ...d })),
    };
  }

  /** Everything newer than `fromVersion` (a client's last version): the page
   *  server sends this, coalescing many reports into one message. */
  deltaSince(fromVersion: number): FleetDelta {
    if (!(fromVersion >= 0 && fromVersion <= this.version)) throw new Error(`delta from version ${fromVersion} of ${this.version}`);
    return {
      version: this.version,
      fromVersion,
      startMs: this.startMs,
      totals: this.totals(),
      phones: [...this.phones.values()].filter((p) => p.view.version > fromVersion).map((p) => clonePhone(p)),
      hierarchies: [...this.hierarchies.values()].filter((h) => h.version > fromVersion).map((h) => structuredClone(h)),
      events: this.events.filter((e) => e.seq > fromVersion).map((e) => ({ ...e })),
      doneOverTime: this.doneOverTime.filter((d) => d.version > fromVersion).map((d) => ({ ...d })),
    };
  }

  get currentVersion(): number {
    return this.version;
  }

  private totals(): FleetTotals {
    let wanBytes = 0;
    for (const p of this.phones.values()) for (const c of p.components.values()) wanBytes += c.wan;
    let loadBytes = 0;
    for (const files of this.loadFiles.values()) for (const size of files.values()) loadBytes += size;
    return { phones: this.phones.size, done: this.doneCount, wanBytes, loadBytes, dropped: this.dropped, rejected: this.rejected, reports: this.reports };
  }

  private applyPhone(p: PhoneState, r: PhoneReport): void {
    const v = p.view;
    if (v.ip !== r.ip) {
      // The address moved (a phone restarted elsewhere): the old one no
      // longer names it, unless another phone has taken it since.
      if (this.ipToMac.get(v.ip) === v.mac) this.ipToMac.delete(v.ip);
      v.ip = r.ip;
    }
    this.ipToMac.set(r.ip, r.mac);
    if (r.load !== "") v.load = r.load;
    if (r.component !== undefined) v.model = r.component.model;
    v.lastAtMs = Math.max(v.lastAtMs, r.atMs);
    if (r.event !== undefined) v.lastEvent = r.event;
    if (r.text !== undefined) v.lastText = r.text.slice(0, MAX_TEXT_CHARS);
    v.version = this.version;
  }

  private applyComponent(p: PhoneState, r: PhoneReport): void {
    const c = r.component!;
    const parent = c.parent === "" ? "" : (this.ipToMac.get(c.parent) ?? "");
    let rate = p.rates.get(c.xid);
    if (rate === undefined) {
      rate = new RateWindow();
      p.rates.set(c.xid, rate);
    }
    rate.add(r.atMs, c.held);
    // WAN bytes are a running count: bytes fetched stay fetched, even when a
    // later report counts fewer (a core that dropped the hierarchy, a
    // restarted phone), so the view keeps the largest.
    const wan = Math.max(c.wan, p.components.get(c.xid)?.wan ?? 0);
    const view: ComponentView = {
      xid: c.xid, model: c.model, file: c.file, role: c.role, held: c.held, size: c.size, parentIp: c.parent, parent,
      depth: c.depth, wan, done: c.done, rateBytesPerSec: rate.bytesPerSec(),
    };
    p.components.set(c.xid, view);
    if (p.view.load !== "") {
      const key = `${c.model}\u0000${p.view.load}`;
      let files = this.loadFiles.get(key);
      if (files === undefined) {
        files = new Map();
        this.loadFiles.set(key, files);
      }
      if (files.has(c.file) || files.size < MAX_COMPONENTS) files.set(c.file, c.size);
    }
    this.applyMember(p.view.mac, view);
  }

  private applyMember(mac: string, c: ComponentView): void {
    let h = this.hierarchies.get(c.xid);
    if (h === undefined) {
      h = { xid: c.xid, model: c.model, file: c.file, size: c.size, root: "", roots: [], members: [], maxDepth: 0, version: 0 };
      this.hierarchies.set(c.xid, h);
    }
    h.size = c.size;
    const m: MemberView = { mac, parent: c.parent, parentIp: c.parentIp, depth: c.depth, role: c.role, done: c.done };
    const i = h.members.findIndex((x) => x.mac === mac);
    if (i >= 0) h.members[i] = m;
    else h.members.push(m);
    // A member that named its parent by an address no phone had yet: the
    // address may be known now.
    for (const x of h.members) if (x.parent === "" && x.parentIp !== "") x.parent = this.ipToMac.get(x.parentIp) ?? "";
    h.roots = treeTops(h.members);
    h.root = h.roots[0] ?? "";
    h.maxDepth = h.members.reduce((d, x) => Math.max(d, x.depth), 0);
    h.version = this.version;
  }

  private addEvent(r: PhoneReport): void {
    const c = r.component;
    this.events.push({
      seq: this.version, atMs: r.atMs, mac: r.mac, event: r.event!, xid: c?.xid ?? "", model: c?.model ?? "", file: c?.file ?? "",
      text: (r.text ?? "").slice(0, MAX_TEXT_CHARS),
    });
    if (this.events.length > MAX_VIEW_EVENTS) this.events.shift();
  }

  /** A phone is done when it said its load is done, or when it holds every
   *  file any phone of its model reported for that load, each done. */
  private refreshDone(p: PhoneState, r: PhoneReport): void {
    const v = p.view;
    const files = this.loadFiles.get(`${v.model}\u0000${v.load}`);
    let held = 0;
    let size = 0;
    let allDone = files !== undefined && files.size > 0;
    for (const [file, fileSize] of files ?? []) {
      const c = [...p.components.values()].find((x) => x.file === file && x.model === v.model);
      size += fileSize;
      // A done file counts whole: a phone may report held bytes only while
      // it fetches (a done child's core can drop the hierarchy's count).
      held += c === undefined ? 0 : c.done ? fileSize : Math.min(c.held, fileSize);
      if (c === undefined || !c.done) allDone = false;
    }
    const done = v.done || r.event === "loadDone" || allDone;
    v.progress = done ? 100 : size === 0 ? 0 : Math.min(99, Math.floor((held * 100) / size));
    if (done && !v.done) {
      v.done = true;
      v.doneAtMs = r.atMs;
      this.doneCount++;
      this.doneOverTime.push({ atMs: r.atMs, done: this.doneCount, version: this.version });
    }
  }

  private checkInvariants(p: PhoneState): void {
    const v = p.view;
    if (!(v.progress >= 0 && v.progress <= 100 && Number.isInteger(v.progress))) throw new Error(`${v.mac}: progress ${v.progress}`);
    if (v.done !== (v.doneAtMs >= 0) || (v.done && v.progress !== 100)) throw new Error(`${v.mac}: done out of step`);
    if (this.doneCount > this.phones.size || this.doneOverTime.length !== this.doneCount) throw new Error("done count out of step");
    if (this.events.length > MAX_VIEW_EVENTS || this.hierarchies.size > MAX_VIEW_HIERARCHIES) throw new Error("a limit was passed");
  }
}

function newPhone(mac: string): PhoneState {
  return {
    view: { mac, ip: "", load: "", model: "", components: [], progress: 0, done: false, doneAtMs: -1, lastAtMs: 0, lastEvent: "", lastText: "", version: 0 },
    components: new Map(),
    rates: new Map(),
  };
}

function clonePhone(p: PhoneState): PhoneView {
  return { ...p.view, components: [...p.components.values()].map((c) => ({ ...c })) };
}

const ROLES: ReadonlySet<string> = new Set(ROLE_NAMES);
const EVENTS: ReadonlySet<string> = new Set(REPORT_EVENTS);

/** Reports come from the network (syslog) as well as from our own code: one
 *  that could not have come from a phone is counted and left out. */
function wellFormed(r: PhoneReport): boolean {
  if (!MAC_RE.test(r.mac) || typeof r.ip !== "string" || typeof r.load !== "string" || !Number.isFinite(r.atMs)) return false;
  if (r.event !== undefined && !EVENTS.has(r.event)) return false;
  const c = r.component;
  if (c === undefined) return true;
  return XID_RE.test(c.xid) && ROLES.has(c.role) && typeof c.model === "string" && typeof c.file === "string" && typeof c.parent === "string"
    && count(c.held) && count(c.size) && count(c.wan) && count(c.depth) && typeof c.done === "boolean";
}

function count(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** The tops of a hierarchy's trees: its confirmed roots, and claimants that
 *  somebody names as parent (a tentative root takes children from its Ad 1
 *  and may carry a whole small load before it confirms, docs/PROTOCOL.md
 *  §6.3). Confirmed roots first. */
export function treeTops(members: readonly MemberView[]): string[] {
  const parents = new Set(members.map((x) => x.parent));
  const confirmed = members.filter((x) => x.role === "root").map((x) => x.mac);
  const tentative = members.filter((x) => x.role === "claiming" && parents.has(x.mac)).map((x) => x.mac);
  return [...confirmed, ...tentative];
}
