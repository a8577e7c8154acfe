// The simulator as a source for fleet watchers (host/view/report.ts): its
// phones turned into PhoneReports in virtual time. Per phone a MAC derived
// from its index, its address and its load; per component (one hierarchy)
// what the core's per-hierarchy queries say (role, bytes held, parent,
// depth), sampled every REPORT_SAMPLE_MS of virtual time and sent only when
// it changed; and the core events a watcher shows, as they happen. What
// `pfs sim --web` feeds the fleet page (sim-web.ts paces it).

import { Ev } from "../core/abi.js";
import { xidTag } from "../log/console.js";
import { reportEventOf } from "../log/phone-log.js";
import { ROLE_NAMES, type ComponentState, type PhoneReport, type ReportEvent } from "../view/report.js";
import type { Fleet } from "./fleet.js";
import { formatAddr, type SimPhone } from "./world.js";

/** Virtual ms between two looks at every phone's components: five looks per
 *  second of virtual time show a tree forming (a join takes a few hundred
 *  ms) without one report per block. */
export const REPORT_SAMPLE_MS = 200;

/** The first two bytes of every simulated phone's MAC: 02 is a locally
 *  administered unicast address (IEEE 802, the U/L bit), which no vendor's
 *  phone has; the last four bytes are its 10.0.x.y address. */
export const SIM_MAC_PREFIX = "0200";

/** Phone `index`'s MAC: 12 upper-case hex digits, stable for a run. */
export function simMac(addr: number): string {
  const mac = SIM_MAC_PREFIX + (addr >>> 0).toString(16).toUpperCase().padStart(8, "0");
  if (mac.length !== 12) throw new Error(`sim MAC ${mac} is not 12 digits`);
  return mac;
}

export type ReportSink = (r: PhoneReport) => void;

export class SimReports {
  /** What was last sent per phone and xid, to send only changes. */
  private readonly lastSent = new Map<string, string>();
  /** Phones whose loadDone was sent, by incarnation (index:gen). */
  private readonly loadDoneSent = new Set<string>();
  private nextSampleMs = 0;
  private readonly load: string;

  constructor(private readonly fleet: Fleet, private readonly sink: ReportSink) {
    const w = fleet.world;
    this.load = fleet.o.load ?? `sim-${fleet.o.files}-files`;
    const before = w.observer;
    w.observer = (atMs, phone, xid, code, n, a, b) => {
      before?.(atMs, phone, xid, code, n, a, b);
      this.onEvent(atMs, w.phones[phone], xid, code, b);
    };
  }

  /** Looks at every phone if a sample is due (call after each fleet step). */
  maybeSample(): void {
    const now = this.fleet.world.nowMs;
    if (now < this.nextSampleMs) return;
    this.nextSampleMs = now + REPORT_SAMPLE_MS;
    this.sample();
  }

  /** One look at every live phone: a report per component that changed. */
  sample(): void {
    const w = this.fleet.world;
    for (const p of w.phones) {
      if (!p.alive || p.core === null) continue;
      for (const xid of p.slots.keys()) {
        const c = this.component(p, xid);
        const key = `${p.index}:${c.xid}`;
        const said = JSON.stringify(c);
        if (this.lastSent.get(key) === said) continue;
        this.lastSent.set(key, said);
        this.sink({ ...this.phone(p, w.nowMs), component: c });
      }
    }
  }

  private phone(p: SimPhone, atMs: number): PhoneReport {
    return { atMs: Math.round(atMs), mac: simMac(p.addr), ip: formatAddr(p.addr), load: this.load };
  }

  /** One hierarchy as phone `p`'s core sees it now. */
  private component(p: SimPhone, xid: number): ComponentState {
    const slot = p.slots.get(xid)!;
    const x = p.core!.x;
    const h = this.fleet.hierarchies.find((i) => i.xid === xid);
    if (h === undefined) throw new Error(`sim reports: phone ${p.index} is in ${xidTag(xid)}, which the fleet does not list`);
    const listBytes = p.slotFiles.get(slot)?.file.list.length ?? 0;
    const role = x.hierRole(slot);
    const parent = x.hierParent(slot) >>> 0;
    const done = this.fleet.world.relay.fileDone.get(p.index)?.has(xid) ?? false;
    return {
      xid: xidTag(xid),
      model: h.model,
      file: h.file,
      role: ROLE_NAMES[role] ?? "idle",
      held: Math.min(h.sizeBytes, Math.max(0, (x.hierHeld(slot) >>> 0) - listBytes)),
      size: h.sizeBytes,
      parent: parent === 0 ? "" : formatAddr(parent),
      depth: x.hierDepth(slot),
      wan: this.fleet.world.relay.wanByPhone.get(p.index)?.get(xid) ?? 0,
      done,
    };
  }

  private onEvent(atMs: number, p: SimPhone, xid: number, code: number, b: number): void {
    let event: ReportEvent | undefined = reportEventOf(code, b);
    if (code === Ev.FlashFailed && p.gaveUp.has(xid)) event = "failed";
    if (event === undefined || p.core === null || !p.slots.has(xid)) return;
    const c = this.component(p, xid);
    this.lastSent.set(`${p.index}:${c.xid}`, JSON.stringify(c));
    this.sink({ ...this.phone(p, atMs), component: c, event });
    if (code !== Ev.FileDone) return;
    const files = this.fleet.world.relay.fileDone.get(p.index);
    const key = `${p.index}:${p.gen}`;
    if (files !== undefined && files.size >= this.fleet.catalog[p.model].files.length && !this.loadDoneSent.has(key)) {
      this.loadDoneSent.add(key);
      this.sink({ ...this.phone(p, atMs), event: "loadDone" });
    }
  }
}
