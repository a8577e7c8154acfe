// The simulator as a source for the fleet page (host/sim/reports.ts): a
// small seeded fleet relaying a load, its reports read back as a watcher
// would. Judged against the trees the reports describe and the world's own
// WAN counter: every phone ends done, one root per hierarchy, every parent a
// member one level up, the WAN bytes add up, the same seed gives the same
// reports, and the fleet page's view takes them all.

import { test } from "node:test";
import assert from "node:assert/strict";
import { recordSimReports, replaySim } from "../../host/sim/replay.js";
import { simMac } from "../../host/sim/reports.js";
import { FleetView } from "../../host/view/fleet-view.js";
import type { ComponentState, PhoneReport } from "../../host/view/report.js";

const FLEET = { phones: 12, models: 2, load: "tiny", seed: 5 };

/** The last state each phone reported per hierarchy: xid -> mac -> state. */
function finalStates(reports: PhoneReport[]): Map<string, Map<string, ComponentState & { ip: string }>> {
  const out = new Map<string, Map<string, ComponentState & { ip: string }>>();
  for (const r of reports) {
    if (r.component === undefined) continue;
    let h = out.get(r.component.xid);
    if (h === undefined) out.set(r.component.xid, (h = new Map()));
    h.set(r.mac, { ...r.component, ip: r.ip });
  }
  return out;
}

const run = recordSimReports(FLEET);

test("every phone of the fleet reports, with a stable MAC and its own address", () => {
  assert.equal(run.result.ok, true, run.result.errors.join("; "));
  const macs = new Map<string, string>();
  for (const r of run.reports) {
    assert.match(r.mac, /^[0-9A-F]{12}$/);
    assert.equal(macs.get(r.mac) ?? r.ip, r.ip, `${r.mac} reported two addresses`);
    macs.set(r.mac, r.ip);
    assert.equal(r.load, "tiny");
  }
  assert.equal(macs.size, 12);
  assert.equal(new Set(macs.values()).size, 12, "12 distinct addresses");
  assert.equal(simMac(0x0a000001), "02000A000001");
});

test("every phone ends done in every hierarchy it is in, and says loadDone once", () => {
  const finals = finalStates(run.reports);
  // Two models, each its own hierarchies for each file of the load.
  assert.ok(finals.size >= 2 && finals.size % 2 === 0, `${finals.size} hierarchies`);
  for (const [xid, members] of finals) {
    for (const [mac, c] of members) {
      assert.equal(c.done, true, `${mac} in ${xid} not done`);
      assert.equal(c.held, c.size, `${mac} in ${xid} holds ${c.held} of ${c.size}`);
    }
  }
  const loadDone = run.reports.filter((r) => r.event === "loadDone").map((r) => r.mac);
  assert.equal(loadDone.length, 12);
  assert.equal(new Set(loadDone).size, 12);
  const members = [...finals.values()].reduce((n, m) => n + m.size, 0);
  assert.equal(run.reports.filter((r) => r.event === "fileDone").length, members, "one fileDone per phone per file");
});

test("one root per hierarchy; every parent is a member one level up; one model per hierarchy", () => {
  for (const [xid, members] of finalStates(run.reports)) {
    const roots = [...members.values()].filter((c) => c.role === "root");
    assert.equal(roots.length, 1, `${xid}: ${roots.length} roots`);
    assert.equal(roots[0].depth, 0);
    assert.equal(roots[0].parent, "");
    assert.equal(new Set([...members.values()].map((c) => c.model)).size, 1, `${xid} mixes models`);
    const byIp = new Map([...members.values()].map((c) => [c.ip, c]));
    for (const [mac, c] of members) {
      if (c.role === "root") continue;
      assert.equal(c.role, "attached", `${mac} in ${xid} is ${c.role}`);
      const parent = byIp.get(c.parent);
      assert.ok(parent !== undefined, `${mac}'s parent ${c.parent} in ${xid} is no member`);
      assert.equal(c.depth, parent.depth + 1, `${mac} at depth ${c.depth} under ${c.parent} at ${parent.depth}`);
    }
    // The event list saw the root elected.
    assert.ok(run.reports.some((r) => r.event === "root" && r.component?.xid === xid), `${xid}: no root event`);
  }
});

test("the WAN bytes the reports give add up to what the world's server sent", () => {
  const finals = finalStates(run.reports);
  const perModel = new Map<string, number>();
  for (const members of finals.values()) for (const c of members.values()) perModel.set(c.model, (perModel.get(c.model) ?? 0) + c.wan);
  const total = [...perModel.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, run.result.relay!.wanBytes);
  assert.ok(total > 0);
  // Only roots fetched: every phone with WAN bytes is a root of that hierarchy.
  for (const members of finals.values()) for (const c of members.values()) if (c.wan > 0) assert.equal(c.role, "root");
});

test("the same seed gives the same reports, byte for byte; another seed does not", () => {
  const again = recordSimReports(FLEET);
  assert.equal(JSON.stringify(again.reports), JSON.stringify(run.reports));
  const other = recordSimReports({ ...FLEET, seed: 6 });
  assert.notEqual(JSON.stringify(other.reports), JSON.stringify(run.reports));
});

test("paced replay feeds the same reports to the fleet page's view, which ends with every phone at 100", async () => {
  const view = new FleetView();
  const paced: PhoneReport[] = [];
  // A fake clock that jumps by each wait: the pacing is exercised, no wall time spent.
  let clock = 0;
  let waits = 0;
  const result = await replaySim({
    fleet: FLEET, speed: 10, nowMs: () => clock, sleep: async (ms) => { waits++; clock += ms; },
    sink: (r) => { paced.push(r); view.apply(r); },
  });
  assert.equal(result.ok, true);
  assert.equal(JSON.stringify(paced), JSON.stringify(run.reports));
  assert.ok(waits > 0, "the replay waited for the clock");
  assert.ok(clock >= result.virtualMs / 10 - 200, `the clock went ${clock} ms for ${result.virtualMs} virtual ms at 10x`);
  const snap = view.snapshot();
  assert.equal(snap.phones.length, 12);
  for (const p of snap.phones) assert.equal(p.progress, 100, `${p.mac} at ${p.progress}`);
  for (const h of snap.hierarchies) assert.match(h.root, /^[0-9A-F]{12}$/, `${h.xid} has no root in the view`);
});
