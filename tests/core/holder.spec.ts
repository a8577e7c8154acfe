// A phone that holds its file verified and loses its parent (tree.ts
// standForRoot): it does not walk back to its grandparent (a tree dissolves
// from the top as lingers end), it claims the root at once keeping its
// children, yields into the tree of a root that answers, and becomes the
// root late peers find when none does. A phone still fetching repairs as
// before. The event says which (PARENT_LOST's b): the console prints one as
// an error, the other not.

import * as core from "../../assembly/core";
import { EV_CLAIM, EV_CONFIRMED_ROOT, EV_FETCH, EV_PARENT_LOST, EV_YIELD, PARENT_LOST_VERIFIED } from "../../assembly/events";
import { hiers, ROLE_CLAIMING, ROLE_JOINING, ROLE_ROOT } from "../../assembly/hierarchy";
import { OUT_CONNECT } from "../../assembly/outbox";
import { T_CLAIM, T_ROOT_AD } from "../../assembly/wire";
import {
  acceptJoin, adCands, attach, boot, clear, countDgram, countEvent, countKind, dgRootAd, evA, evB, evN, fileXid,
  findEvent, now, P1, P2, P3, P9, recA, findKind, role, runUntil, SELF, SIZE,
} from "./support";

/** Long enough that no linger ends during a spec (board figure: 10 min). */
const LINGER_MS: u32 = 600000;
const chain3: StaticArray<u32> = [P1, P2, P3];

/** Attached at depth 3 under P3 with a child P9, holding the file verified
 *  when `verified`; its parent link then closes. Returns the child's handle. */
function orphaned(verified: bool): i32 {
  boot(SELF, LINGER_MS);
  const parent = attach(chain3, 3);
  const child = acceptJoin(P9, fileXid());
  if (verified) expect(core.setHeld(now, 0, SIZE, core.NEED_VERIFIED)).toBe(0);
  clear();
  core.onStreamClosed(now, parent);
  return child;
}

describe("a phone holding its file verified", () => {
  test("whose parent goes claims the root at once, keeping its child, and joins nobody", () => {
    orphaned(true);
    const ev = findEvent(EV_PARENT_LOST);
    expect(ev).not.toBe(0);
    expect(evA(ev)).toBe(P3);
    expect(evN(ev)).toBe(3);
    expect(evB(ev)).toBe(PARENT_LOST_VERIFIED);
    expect(countKind(OUT_CONNECT)).toBe(0); // no walk to the grandparent
    expect(countDgram(T_CLAIM)).toBe(1);
    expect(countEvent(EV_CLAIM)).toBe(1);
    expect(role()).toBe(ROLE_CLAIMING);
    expect(hiers[0].childCount()).toBe(1);
  });

  test("with no root answering becomes the root, keeps its child, fetches nothing", () => {
    orphaned(true);
    const t = now;
    runUntil(t + 3000);
    expect(role()).toBe(ROLE_ROOT);
    expect(countEvent(EV_CONFIRMED_ROOT)).toBe(1);
    expect(countEvent(EV_FETCH)).toBe(0); // it holds the file: the server is not asked
    expect(countDgram(T_ROOT_AD)).toBeGreaterThan(0); // late peers can find it
    expect(hiers[0].childCount()).toBe(1);
  });

  test("yields into the tree of a root that answers its claim", () => {
    orphaned(true);
    clear();
    adCands[0].set(P2, 2, 1, 100);
    dgRootAd(P1, fileXid(), 0x80000000 | 0x1000, adCands, 1);
    const y = findEvent(EV_YIELD);
    expect(y).not.toBe(0);
    expect(evN(y)).toBe(1); // gave its claim up on a ROOT_AD
    expect(evA(y)).toBe(P1);
    expect(role()).toBe(ROLE_JOINING);
    expect(hiers[0].childCount()).toBe(1);
  });
});

describe("a phone still fetching", () => {
  test("whose parent goes re-joins at its grandparent, and the event says it holds nothing", () => {
    orphaned(false);
    const ev = findEvent(EV_PARENT_LOST);
    expect(ev).not.toBe(0);
    expect(evB(ev)).toBe(0);
    expect(countDgram(T_CLAIM)).toBe(0);
    expect(recA(findKind(OUT_CONNECT))).toBe(P2);
    expect(role()).toBe(ROLE_JOINING);
    expect(hiers[0].childCount()).toBe(1);
  });
});
