// The checkers must be able to fail: fed broken trees, each reports the break.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Role } from "../../host/core/abi.js";
import { checkFleet, depthBound } from "../../host/sim/check.js";
import { addrOf, SimPhone } from "../../host/sim/world.js";

const XID = 0x1234;

/** Phones whose "core" reports the given role, parent and children. */
function fakeFleet(nodes: Array<{ role: Role; parent: number; kids: number[] }>): SimPhone[] {
  return nodes.map((n, i) => {
    const x = {
      hierRole: () => n.role,
      hierParent: () => (n.parent < 0 ? 0 : addrOf(n.parent)),
      hierChild: (_s: number, k: number) => (k < n.kids.length ? addrOf(n.kids[k]) : 0),
    };
    return { index: i, alive: true, core: { x }, slots: new Map([[XID, 0]]) } as unknown as SimPhone;
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
