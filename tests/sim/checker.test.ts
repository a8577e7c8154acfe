// The checkers must be able to fail: fed broken trees, each reports the break;
// and what a rogue may leave behind (check.ts names it) passes, nothing more.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Role } from "../../host/core/abi.js";
import { checkFleet, depthBound, treesSettled } from "../../host/sim/check.js";
import { runFleet } from "../../host/sim/fleet.js";
import { addrOf, SimPhone } from "../../host/sim/world.js";

const XID = 0x1234;

interface FakeNode {
  role: Role;
  parent: number;
  kids: number[];
  /** An attacker (world.ts SimPhone.rogue). */
  rogue?: boolean;
  /** Relays the file (with a load) and whether it holds it verified. */
  relaying?: boolean;
  verified?: boolean;
  alive?: boolean;
  /** Phones it caught sending bad bytes (world.ts caughtFrom). */
  caught?: number[];
}

/** Phones whose "core" reports the given role, parent and children. */
function fakeFleet(nodes: FakeNode[]): SimPhone[] {
  return nodes.map((n, i) => {
    const x = {
      hierRole: () => n.role,
      hierParent: () => (n.parent < 0 ? 0 : addrOf(n.parent)),
      hierChild: (_s: number, k: number) => (k < n.kids.length ? addrOf(n.kids[k]) : 0),
      hierVerified: () => (n.verified ? 1 : 0),
    };
    const slotFiles = new Map(n.relaying ? [[0, {}]] : []);
    const caughtFrom = new Map((n.caught ?? []).map((c) => [c, 0]));
    return { index: i, alive: n.alive ?? true, core: { x }, slots: new Map([[XID, 0]]), slotFiles, rogue: n.rogue ?? false, caughtFrom } as unknown as SimPhone;
  });
}

const info = [{ xid: XID, model: "M", file: "f", sizeBytes: 1 }];

test("a healthy little tree passes", () => {
  const r = checkFleet(fakeFleet([
    { role: Role.Root, parent: -1, kids: [1, 2] },
    { role: Role.Attached, parent: 0, kids: [] },
    { role: Role.Attached, parent: 0, kids: [] },
  ]), info, true);
  assert.deepEqual(r.errors, []);
  assert.equal(r.hierarchies[0].maxDepth, 1);
});

test("two roots are reported", () => {
  const r = checkFleet(fakeFleet([
    { role: Role.Root, parent: -1, kids: [] },
    { role: Role.Root, parent: -1, kids: [] },
  ]), info, true);
  assert.ok(r.errors.some((e) => e.includes("2 confirmed roots")));
});

test("a cycle is reported and its phones are not attached", () => {
  const r = checkFleet(fakeFleet([
    { role: Role.Root, parent: -1, kids: [] },
    { role: Role.Attached, parent: 2, kids: [2] },
    { role: Role.Attached, parent: 1, kids: [1] },
  ]), info, true);
  assert.ok(r.errors.some((e) => e.includes("cycle")), r.errors.join("; "));
  assert.equal(r.orphans, 2);
});

test("three children and a parent that does not list its child are reported", () => {
  // A core can list only two children; the third shows as a phone naming a
  // parent that does not list it.
  const r = checkFleet(fakeFleet([
    { role: Role.Root, parent: -1, kids: [1, 2] },
    { role: Role.Attached, parent: 0, kids: [] },
    { role: Role.Attached, parent: 0, kids: [] },
    { role: Role.Attached, parent: 0, kids: [] },
    { role: Role.Attached, parent: 0, kids: [] },
  ]), info, true);
  assert.ok(r.errors.some((e) => e.includes("4 children")), r.errors.join("; "));
  assert.ok(r.errors.some((e) => e.includes("not attached")), r.errors.join("; "));
});

test("a chain deeper than the bound is reported", () => {
  const n = 8;
  const nodes = Array.from({ length: n }, (_, i) => ({
    role: i === 0 ? Role.Root : Role.Attached, parent: i - 1, kids: i + 1 < n ? [i + 1] : [],
  }));
  const r = checkFleet(fakeFleet(nodes), info, true);
  assert.equal(r.hierarchies[0].maxDepth, n - 1);
  assert.ok(n - 1 > depthBound(n));
  assert.ok(r.errors.some((e) => e.includes("exceeds the bound")), r.errors.join("; "));
});

// ------------------------------------------------------------ rogues

const R = Role.Root;
const A = Role.Attached;

test("an honest parent may list a rogue child, and the rogue's own claims are not checked", () => {
  const r = checkFleet(fakeFleet([
    { role: R, parent: -1, kids: [1, 2], relaying: true, verified: true },
    { role: A, parent: 0, kids: [3], rogue: true, relaying: true },
    { role: A, parent: 0, kids: [], relaying: true },
    // the rogue lists a child that is not there: its claim, not checked
  ]), info, true);
  assert.deepEqual(r.errors, []);
  assert.equal(r.hierarchies[0].members, 2);
  assert.equal(r.hierarchies[0].rogues, 1);
});

test("phones holding the file verified may stay under a rogue root: no honest root is wanted then", () => {
  const r = checkFleet(fakeFleet([
    { role: R, parent: -1, kids: [1, 2], rogue: true, relaying: true, verified: true },
    { role: A, parent: 0, kids: [3], relaying: true, verified: true },
    { role: A, parent: 0, kids: [], relaying: true, verified: true },
    { role: A, parent: 1, kids: [], relaying: true, verified: true },
  ]), info, true);
  assert.deepEqual(r.errors, []);
  assert.equal(r.hierarchies[0].underRogue, 3);
  assert.equal(r.hierarchies[0].roots, 0);
  assert.equal(r.orphans, 0);
});

test("a phone under a rogue that does not hold the file verified is reported", () => {
  const r = checkFleet(fakeFleet([
    { role: R, parent: -1, kids: [1], relaying: true, verified: true },
    { role: A, parent: 0, kids: [2], rogue: true, relaying: true, verified: true },
    { role: A, parent: 1, kids: [], relaying: true, verified: false },
  ]), info, true);
  assert.ok(r.errors.some((e) => e.includes("phone 2 stays under a rogue")), r.errors.join("; "));
});

test("with a rogue about, a second honest root, an orphan and a broken link are still reported", () => {
  const r = checkFleet(fakeFleet([
    { role: R, parent: -1, kids: [1, 2], relaying: true, verified: true },
    { role: A, parent: 0, kids: [], rogue: true, relaying: true },
    { role: A, parent: 0, kids: [4], relaying: true, verified: true },
    { role: R, parent: -1, kids: [], relaying: true, verified: true },
    { role: A, parent: 3, kids: [], relaying: true },
    { role: Role.Discover, parent: -1, kids: [], relaying: true },
  ]), info, true);
  assert.ok(r.errors.some((e) => e.includes("2 confirmed roots")), r.errors.join("; "));
  assert.ok(r.errors.some((e) => e.includes("phone 2 lists child 4 whose parent is 3")), r.errors.join("; "));
  assert.ok(r.errors.some((e) => e.includes("not attached")), r.errors.join("; "));
});

test("direct mode: every phone its own root without links; a tree link is reported", () => {
  const direct = [{ ...info[0], direct: true }];
  const ok = checkFleet(fakeFleet([
    { role: R, parent: -1, kids: [], relaying: true },
    { role: R, parent: -1, kids: [], relaying: true },
  ]), direct, true);
  assert.deepEqual(ok.errors, []);
  const bad = checkFleet(fakeFleet([
    { role: R, parent: -1, kids: [1], relaying: true },
    { role: A, parent: 0, kids: [], relaying: true },
  ]), direct, true);
  assert.ok(bad.errors.some((e) => e.includes("tree links in direct mode")), bad.errors.join("; "));
  assert.ok(bad.errors.some((e) => e.includes("role 5 in direct mode")), bad.errors.join("; "));
});

test("a hierarchy whose only phone died is settled (pfs sim --phones 5 --models 5 --crash 0.2 --seed 4)", () => {
  const r = checkFleet(fakeFleet([{ role: R, parent: -1, kids: [], alive: false }]), info, true);
  assert.deepEqual(r.errors, []);
  assert.equal(treesSettled(r, info), true);
  const run = runFleet({ phones: 5, models: 5, files: 1, crash: 0.2, seed: 4 });
  assert.deepEqual(run.errors, []);
  assert.equal(run.live, 4, "one model's only phone is down");
  assert.ok(run.hierarchies.some((h) => h.members === 0));
  assert.notEqual(run.convergedMs, null);
  assert.ok(run.virtualMs < 20_000, `the run ends once healed, not at its time limit (${run.virtualMs} ms)`);
});

test("two roots may stay apart only while one avoids the other (it caught bad bytes from it)", () => {
  const nodes = (caught: number[]): FakeNode[] => [
    { role: R, parent: -1, kids: [1], relaying: true, verified: true },
    { role: A, parent: 0, kids: [], relaying: true, verified: true },
    { role: R, parent: -1, kids: [3], relaying: true, verified: true, caught },
    { role: A, parent: 2, kids: [], relaying: true, verified: true },
  ];
  const apart = checkFleet(fakeFleet(nodes([0])), info, true);
  assert.deepEqual(apart.errors, []);
  assert.equal(apart.hierarchies[0].rootsApart, 1);
  assert.equal(treesSettled(apart, info), true);
  // Bad bytes from some other phone keep nobody apart.
  const merged = checkFleet(fakeFleet(nodes([1])), info, true);
  assert.ok(merged.errors.some((e) => e.includes("2 confirmed roots")), merged.errors.join("; "));
  assert.equal(treesSettled(merged, info), false);
});
