// Election scenarios on the virtual subnet, set up phone by phone: a phone
// that already holds the file wins and nobody fetches; a late joiner joins
// the live tree instead of starting its own; two roots of a healed partition
// merge within a bounded time; the successor of a dead root is the child
// holding most of the file; a tree refills after interior phones die.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Ev, NEED_VERIFIED, Role } from "../../host/core/abi.js";
import { checkFleet, HierarchyInfo } from "../../host/sim/check.js";
import { SimPhone, World } from "../../host/sim/world.js";
import { loadBoard } from "../../host/boards.js";
import { coreModule, envCoreBuild } from "../../host/sim/core-build.js";

const MODEL = "CP-7961G";
const FILE = "SCCP41.9-4-2SR2-2S.loads";
const SIZE = 8_126_582;

interface Seen {
  atMs: number;
  phone: number;
  code: number;
  a: number;
}

function makeWorld(phones: number, seed: number): { world: World; seen: Seen[]; info: HierarchyInfo[] } {
  const world = new World({ seed, core: loadBoard("third-gen").core, portDelayMs: 0.15, connectTimeoutMs: 1000, module: coreModule(envCoreBuild()) });
  const seen: Seen[] = [];
  world.observer = (atMs, phone, _xid, code, _n, a) => seen.push({ atMs, phone, code, a });
  for (let i = 0; i < phones; i++) world.addPhone(0);
  return { world, seen, info: [] };
}

function needAll(world: World, info: HierarchyInfo[], phones: SimPhone[], held = 0, flags = 0): void {
  for (const p of phones) {
    if (!p.alive) world.boot(p);
    const xid = world.need(p, MODEL, FILE, SIZE, held, flags);
    if (info.length === 0) info.push({ xid, model: MODEL, file: FILE, sizeBytes: SIZE });
  }
}

const rootsOf = (world: World, xid: number) =>
  world.phones.filter((p) => p.alive && p.slots.has(xid) && p.core!.x.hierRole(p.slots.get(xid)!) === Role.Root);

test("a phone that already holds the file verified becomes root and nobody fetches", () => {
  const { world, seen, info } = makeWorld(12, 3);
  needAll(world, info, world.phones.slice(0, 5));
  needAll(world, info, [world.phones[5]], SIZE, NEED_VERIFIED);
  needAll(world, info, world.phones.slice(6));
  world.runUntil(8000);
  const report = checkFleet(world.phones, info, true);
  assert.deepEqual(report.errors, []);
  const roots = rootsOf(world, info[0].xid);
  assert.equal(roots.length, 1);
  assert.equal(roots[0].index, 5, "the holder is root");
  assert.equal(seen.filter((e) => e.code === Ev.Fetch).length, 0, "no phone went to the server");
});

test("a late joiner joins the live tree: no second root, no second fetch", () => {
  const { world, seen, info } = makeWorld(9, 4);
  needAll(world, info, world.phones.slice(0, 8));
  world.runUntil(6000);
  const [root] = rootsOf(world, info[0].xid);
  assert.ok(root !== undefined);
  const fetchesBefore = seen.filter((e) => e.code === Ev.Fetch).length;
  assert.equal(fetchesBefore, 1);
  // Minutes later, one more phone is reset.
  world.runUntil(180_000);
  needAll(world, info, [world.phones[8]]);
  world.runUntil(184_000);
  assert.deepEqual(checkFleet(world.phones, info, true).errors, []);
  assert.equal(rootsOf(world, info[0].xid)[0].index, root.index);
  assert.equal(seen.filter((e) => e.code === Ev.Fetch).length, 1);
  assert.ok(seen.some((e) => e.phone === 8 && e.code === Ev.Joined), "the late phone joined");
  assert.ok(!seen.some((e) => e.phone === 8 && e.code === Ev.Claim), "the late phone never claimed");
});

test("two roots of a healed partition merge into one within a bounded time", () => {
  const { world, seen, info } = makeWorld(16, 5);
  // Two halves that cannot hear each other form two trees.
  world.phones.forEach((p, i) => (world.group[i] = i % 2));
  needAll(world, info, world.phones);
  world.runUntil(6000);
  assert.equal(rootsOf(world, info[0].xid).length, 2);
  world.group.fill(0);
  const healedAt = world.nowMs;
  let mergedAt = Infinity;
  for (let t = healedAt; t < healedAt + 20_000; t += 50) {
    world.runUntil(t);
    const r = checkFleet(world.phones, info, false);
    if (r.orphans === 0 && r.hierarchies[0].roots === 1) {
      mergedAt = t;
      break;
    }
  }
  // One root advertisement interval (2 s) for the roots to hear each other,
  // plus the join walk of the weaker root and a repair of its old links.
  assert.ok(mergedAt - healedAt <= 5000, `merged after ${mergedAt - healedAt} ms`);
  assert.ok(seen.some((e) => e.code === Ev.Merge));
  world.runUntil(mergedAt + 3000);
  assert.deepEqual(checkFleet(world.phones, info, true).errors, []);
});

test("when the root dies, the child holding most of the file succeeds it", () => {
  const { world, info } = makeWorld(7, 6);
  needAll(world, info, world.phones);
  world.runUntil(5000);
  const xid = info[0].xid;
  const [root] = rootsOf(world, xid);
  const slot = root.slots.get(xid)!;
  const kids = [0, 1].map((i) => root.core!.x.hierChild(slot, i) >>> 0).filter((a) => a !== 0);
  assert.equal(kids.length, 2);
  const [weak, strong] = kids.map((a) => world.phones[(a - 0x0a000001) >>> 0]);
  // The children report what they hold; the second holds more.
  weak.core!.setHeld(world.nowMs, weak.slots.get(xid)!, 1_000_000, 0);
  strong.core!.setHeld(world.nowMs, strong.slots.get(xid)!, 5_000_000, 0);
  world.crash(root, false); // silent: the children must time out
  world.runUntil(world.nowMs + 10_000);
  assert.deepEqual(checkFleet(world.phones, info, true).errors, []);
  assert.equal(rootsOf(world, xid)[0].index, strong.index);
});

test("interior phones die: orphans keep their subtrees and the tree refills", () => {
  const { world, seen, info } = makeWorld(31, 8);
  needAll(world, info, world.phones);
  world.runUntil(6000);
  const xid = info[0].xid;
  const interior = world.phones.filter((p) => {
    const s = p.slots.get(xid)!;
    return p.core!.x.hierRole(s) === Role.Attached && p.core!.x.hierChild(s, 0) !== 0;
  });
  assert.ok(interior.length >= 3);
  // Their children must not re-join from scratch: their own children stay.
  const victims = interior.slice(0, 3);
  const orphanSubtrees = new Map<number, number>();
  for (const v of victims) {
    const s = v.slots.get(xid)!;
    for (let i = 0; i < 2; i++) {
      const c = v.core!.x.hierChild(s, i) >>> 0;
      if (c === 0) continue;
      const child = world.phones[(c - 0x0a000001) >>> 0];
      orphanSubtrees.set(child.index, child.core!.x.hierSubtreeSize(child.slots.get(xid)!));
    }
  }
  for (const v of victims) world.crash(v, true);
  const lostAt = world.nowMs;
  world.runUntil(lostAt + 8000);
  assert.deepEqual(checkFleet(world.phones, info, true).errors, []);
  for (const [child, size] of orphanSubtrees) {
    if (victims.some((v) => v.index === child)) continue;
    const p = world.phones[child];
    // No child of an orphan lost its parent: subtrees moved whole.
    const grandchildrenLost = seen.filter((e) => e.atMs > lostAt && e.code === Ev.ParentLost && e.a === p.addr).length;
    assert.equal(grandchildrenLost, 0, `children of orphan ${child} (subtree ${size}) were dropped`);
  }
});
