// FleetView: the reducer every watcher reads, fed synthetic PhoneReports.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetView, MAX_VIEW_EVENTS, MAX_VIEW_PHONES } from "../../host/view/fleet-view.js";
import type { ComponentState, PhoneReport, RoleName } from "../../host/view/report.js";

const XA = "XID0000ABCD";
const XB = "XID00001234";

function mac(i: number): string {
  return `001BD4${(0x100000 + i).toString(16).toUpperCase().slice(-6)}`;
}

function rep(i: number, atMs: number, c?: Partial<ComponentState> & { xid: string }, extra: Partial<PhoneReport> = {}): PhoneReport {
  const component: ComponentState | undefined = c === undefined ? undefined : {
    model: "CP-7961G", file: c.xid === XA ? "a.sbn" : "b.sbn", role: "attached" as RoleName, held: 0, size: 1000, parent: "", depth: 1, wan: 0, done: false, ...c,
  };
  return { atMs, mac: mac(i), ip: `127.0.0.${i + 2}`, load: "SCCP41.9-4-2", component, ...extra };
}

test("roots, parent links by MAC, depth and re-parenting", () => {
  const v = new FleetView();
  v.apply(rep(0, 0, { xid: XA, role: "root", depth: 0 }, { event: "root" }));
  v.apply(rep(1, 10, { xid: XA, parent: "127.0.0.2", depth: 1 }));
  v.apply(rep(2, 20, { xid: XA, parent: "127.0.0.3", depth: 2 }));
  let h = v.snapshot().hierarchies.find((x) => x.xid === XA)!;
  assert.equal(h.root, mac(0));
  assert.deepEqual(h.roots, [mac(0)]);
  assert.equal(h.members.find((m) => m.mac === mac(2))!.parent, mac(1));
  assert.equal(h.maxDepth, 2);
  // Its parent is lost; it re-joins under the root.
  v.apply(rep(2, 30, { xid: XA, parent: "", depth: 0, role: "joining" }, { event: "parentLost" }));
  h = v.snapshot().hierarchies[0];
  assert.equal(h.members.find((m) => m.mac === mac(2))!.parent, "");
  v.apply(rep(2, 40, { xid: XA, parent: "127.0.0.2", depth: 1 }));
  h = v.snapshot().hierarchies[0];
  assert.equal(h.members.find((m) => m.mac === mac(2))!.parent, mac(0));
  assert.equal(h.maxDepth, 1);
  assert.deepEqual(v.snapshot().events.map((e) => [e.event, e.mac]), [["root", mac(0)], ["parentLost", mac(2)]]);
});

test("a claimant somebody names as parent is the top of its tree (a tentative root); one nobody names is not", () => {
  const v = new FleetView();
  v.apply(rep(0, 0, { xid: XA, role: "claiming", depth: 0 }));
  v.apply(rep(3, 0, { xid: XA, role: "claiming", depth: 0 })); // a claimant with no child
  assert.equal(v.snapshot().hierarchies[0].root, "", "no child yet: no tree");
  v.apply(rep(1, 10, { xid: XA, parent: "127.0.0.2", depth: 1 }));
  let h = v.snapshot().hierarchies[0];
  assert.equal(h.root, mac(0));
  assert.deepEqual(h.roots, [mac(0)]);
  // It confirms: the same top, now a root.
  v.apply(rep(0, 20, { xid: XA, role: "root", depth: 0 }, { event: "root" }));
  h = v.snapshot().hierarchies[0];
  assert.deepEqual(h.roots, [mac(0)]);
});

test("a parent named before its phone reported is resolved when it does", () => {
  const v = new FleetView();
  v.apply(rep(1, 0, { xid: XA, parent: "127.0.0.2" }));
  assert.equal(v.snapshot().hierarchies[0].members[0].parent, "");
  v.apply(rep(0, 1, { xid: XA, role: "root", depth: 0 }));
  assert.equal(v.snapshot().hierarchies[0].members.find((m) => m.mac === mac(1))!.parent, mac(0));
});

test("progress is the whole load; done by loadDone or by every file done; done over time", () => {
  const v = new FleetView();
  v.apply(rep(0, 0, { xid: XA, size: 1000, held: 500 }));
  assert.equal(v.snapshot().phones[0].progress, 50);
  // A second file of the same model's load, reported by another phone,
  // counts against phone 0 as soon as phone 0 reports again.
  v.apply(rep(1, 5, { xid: XB, size: 3000, held: 0 }));
  v.apply(rep(0, 10, { xid: XA, size: 1000, held: 1000, done: true }));
  let p0 = v.snapshot().phones.find((p) => p.mac === mac(0))!;
  assert.equal(p0.progress, 25, "1000 of 4000 bytes");
  assert.equal(p0.done, false, "one file done is not the load done");
  v.apply(rep(0, 20, { xid: XB, size: 3000, held: 3000, done: true }));
  p0 = v.snapshot().phones.find((p) => p.mac === mac(0))!;
  assert.equal(p0.progress, 100);
  assert.equal(p0.done, true);
  assert.equal(p0.doneAtMs, 20);
  v.apply(rep(1, 30, undefined, { event: "loadDone" }));
  const s = v.snapshot();
  assert.equal(s.totals.done, 2);
  assert.deepEqual(s.doneOverTime.map((d) => [d.atMs, d.done]), [[20, 1], [30, 2]]);
  assert.equal(s.phones.find((p) => p.mac === mac(1))!.progress, 100);
  // A file reported done counts whole even when its held count says 0.
  const u = new FleetView();
  u.apply(rep(0, 0, { xid: XB, size: 3000, held: 0 }));
  u.apply(rep(0, 1, { xid: XA, size: 1000, held: 0, done: true }));
  assert.equal(u.snapshot().phones[0].progress, 25);
  // Held bytes never make 100 without done.
  const w = new FleetView();
  w.apply(rep(0, 0, { xid: XA, size: 1000, held: 999 }));
  assert.equal(w.snapshot().phones[0].progress, 99);
});

test("WAN bytes against one fetch of each model's load", () => {
  const v = new FleetView();
  v.apply(rep(0, 0, { xid: XA, role: "root", size: 1000, wan: 400 }));
  v.apply(rep(0, 1, { xid: XB, role: "root", size: 3000, wan: 3000 }));
  v.apply(rep(1, 2, { xid: XA, size: 1000, wan: 0, parent: "127.0.0.2" }));
  v.apply(rep(0, 3, { xid: XA, role: "root", size: 1000, wan: 1000 }));
  const t = v.snapshot().totals;
  assert.equal(t.wanBytes, 4000, "the latest wan of each phone and file, summed");
  v.apply(rep(0, 3, { xid: XB, role: "root", size: 3000, wan: 0, done: true }));
  assert.equal(v.snapshot().totals.wanBytes, 4000, "a later, smaller count does not un-fetch bytes");
  assert.equal(t.loadBytes, 4000, "one model's load: the two files once");
  v.apply(rep(2, 4, { xid: "XID0000FFFF", model: "CP-7941G", file: "a.sbn", size: 700 }));
  assert.equal(v.snapshot().totals.loadBytes, 4700, "a second model's load adds its own size");
});

test("rate over a sliding window in report time", () => {
  const v = new FleetView();
  v.apply(rep(0, 0, { xid: XA, size: 100_000, held: 0 }));
  v.apply(rep(0, 1000, { xid: XA, size: 100_000, held: 16_384 }));
  v.apply(rep(0, 2000, { xid: XA, size: 100_000, held: 32_768 }));
  assert.equal(v.snapshot().phones[0].components[0].rateBytesPerSec, 16_384);
  // Much later, a burst: the old samples are out of the window.
  v.apply(rep(0, 60_000, { xid: XA, size: 100_000, held: 40_000 }));
  v.apply(rep(0, 60_500, { xid: XA, size: 100_000, held: 50_000 }));
  assert.equal(v.snapshot().phones[0].components[0].rateBytesPerSec, 20_000);
});

test("bounded: phones past the limit and events past the list are counted, not stored", () => {
  const v = new FleetView();
  for (let i = 0; i < MAX_VIEW_PHONES + 5; i++) v.apply(rep(i, i));
  const t = v.snapshot().totals;
  assert.equal(t.phones, MAX_VIEW_PHONES);
  assert.equal(t.dropped, 5);
  assert.equal(t.reports, MAX_VIEW_PHONES + 5);
  const w = new FleetView();
  for (let i = 0; i < MAX_VIEW_EVENTS + 10; i++) w.apply(rep(i % 7, i, { xid: XA }, { event: "avoided" }));
  const ev = w.snapshot().events;
  assert.equal(ev.length, MAX_VIEW_EVENTS);
  assert.equal(ev[ev.length - 1].atMs, MAX_VIEW_EVENTS + 9, "the newest kept");
  // joined and fileDone are not listed.
  w.apply(rep(0, 1e6, { xid: XA }, { event: "joined" }));
  assert.equal(w.snapshot().events[MAX_VIEW_EVENTS - 1].atMs, MAX_VIEW_EVENTS + 9);
});

test("malformed reports are rejected and counted", () => {
  const v = new FleetView();
  v.apply({ ...rep(0, 0), mac: "not-a-mac" });
  v.apply(rep(0, 0, { xid: "XID12" }));
  v.apply(rep(0, 0, { xid: XA, held: -1 }));
  v.apply(rep(0, 0, { xid: XA, role: "boss" as RoleName }));
  v.apply({ ...rep(0, 0), event: "exploded" as "root" });
  const s = v.snapshot();
  assert.equal(s.totals.rejected, 5);
  assert.equal(s.phones.length, 0);
  assert.equal(s.hierarchies.length, 0);
});

test("deltas carry only what changed since a version, and listeners hear every stored report", () => {
  const v = new FleetView();
  const heard: string[] = [];
  v.onChange((c) => heard.push(`${c.version}:${c.mac.slice(-1)}:${c.xid}`));
  v.apply(rep(0, 0, { xid: XA, role: "root", depth: 0 }));
  v.apply(rep(1, 1, { xid: XB }));
  const mid = v.currentVersion;
  v.apply(rep(1, 2, { xid: XB, held: 10 }, { event: "corrupt" }));
  const d = v.deltaSince(mid);
  assert.deepEqual(d.phones.map((p) => p.mac), [mac(1)]);
  assert.deepEqual(d.hierarchies.map((h) => h.xid), [XB]);
  assert.deepEqual(d.events.map((e) => e.event), ["corrupt"]);
  assert.equal(d.version, mid + 1);
  assert.deepEqual(v.deltaSince(v.currentVersion).phones, []);
  assert.deepEqual(heard, [`1:0:${XA}`, `2:1:${XB}`, `3:1:${XB}`]);
  // The snapshot is JSON and a copy: changing it changes nothing inside.
  const s = v.snapshot();
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  s.phones[0].components[0].held = 12345;
  assert.notEqual(v.snapshot().phones[0].components[0].held, 12345);
});
