// tree.ts through the core: a root accepts two children and refuses the
// third with hints that fan out; cycles are refused or broken; an attached
// phone reports UP, repairs when its parent goes silent, walks REFUSE
// candidates, and moves to a slot two or more levels shallower.

import * as core from "../../assembly/core";
import { Candidate } from "../../assembly/candidate";
import {
  EV_CHILD_ADDED, EV_CHILD_LOST, EV_CLAIM, EV_JOINED, EV_MOVED, EV_PARENT_LOST, EV_REFUSED,
} from "../../assembly/events";
import { hiers, ROLE_ATTACHED, ROLE_CLAIMING, ROLE_DISCOVER, ROLE_JOINING } from "../../assembly/hierarchy";
import { UPDATE_MIN_GAP_MS } from "../../assembly/limits";
import { OUT_CLOSE, OUT_CONNECT } from "../../assembly/outbox";
import { STRENGTH_CONFIRMED } from "../../assembly/strength";
import {
  JOIN_MOVE, REFUSE_CYCLE, REFUSE_FULL, REFUSE_NOT_MEMBER, REFUSE_TOO_DEEP, T_ACCEPT, T_CLAIM, T_DOWN, T_JOIN,
  T_REFUSE, T_SOLICIT, T_UP,
} from "../../assembly/wire";
import {
  acceptJoin, adCands, attach, becomeRoot, boot, clear, countClose, countDgram, countEvent, countFrame, countKind,
  dgRootAd, evA, evB, evN, fileXid, findEvent, findFrame, findKind, frAccept, frDown, frRefuse, frUp,
  needFile, noBest, now, out, P1, P2, P3, P4, P6, P8, P9, recA, recB, role, runUntil, SELF, setNow, step,
} from "./support";

const noCands = new StaticArray<Candidate>(0);
const best = new Candidate();
const joiners: StaticArray<u32> = [0x0a000010, 0x0a000011, 0x0a000012, 0x0a000013, 0x0a000014, 0x0a000015, 0x0a000016, 0x0a000017];

/** Addresses of the candidates of the last decoded frame include `addr`
 *  with `free` (-1: any). */
function offers(addr: u32, free: i32): bool {
  for (let i = 0; i < out.nCand; i++) {
    if (out.cands[i].addr == addr && (free < 0 || out.cands[i].free == <u32>free)) return true;
  }
  return false;
}

/** A root with children P1 and P2 (handles returned through kids). */
const kids = new StaticArray<i32>(2);
function rootWithTwo(): void {
  boot();
  becomeRoot();
  kids[0] = acceptJoin(P1, fileXid());
  kids[1] = acceptJoin(P2, fileXid());
  clear();
}

/** Refuses joiners[0..n) in turn; counts how often each child came first. */
let firstP1 = 0;
let firstP2 = 0;
let longestRun = 0;
function refuseMany(n: i32): void {
  firstP1 = 0;
  firstP2 = 0;
  longestRun = 0;
  let run = 0;
  let last: u32 = 0;
  for (let i = 0; i < n; i++) {
    clear();
    const h = acceptJoin(joiners[i], fileXid());
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.reason).toBe(REFUSE_FULL);
    expect(out.nCand).toBeGreaterThan(0);
    const first = out.cands[0].addr;
    if (first == P1) firstP1++;
    if (first == P2) firstP2++;
    run = first == last ? run + 1 : 1;
    if (run > longestRun) longestRun = run;
    last = first;
  }
}

describe("a root", () => {
  test("accepts a joiner: ACCEPT with path [self], EV_CHILD_ADDED", () => {
    boot();
    becomeRoot();
    clear();
    const h = acceptJoin(P1, fileXid());
    expect(findFrame(T_ACCEPT, h)).not.toBe(0);
    expect(out.xid).toBe(fileXid());
    expect(out.pathLen).toBe(1);
    expect(out.path[0]).toBe(SELF);
    expect(out.strength & STRENGTH_CONFIRMED).toBe(STRENGTH_CONFIRMED);
    const ev = findEvent(EV_CHILD_ADDED);
    expect(evA(ev)).toBe(P1);
    expect(evN(ev)).toBe(1);
    expect(countClose()).toBe(0);
  });

  test("accepts a second joiner and refuses the third (FULL), pointing at both children", () => {
    rootWithTwo();
    expect(hiers[0].childCount()).toBe(2);
    const h = acceptJoin(P3, fileXid());
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.reason).toBe(REFUSE_FULL);
    expect(out.xid).toBe(fileXid());
    expect(offers(P1, -1)).toBe(true);
    expect(offers(P2, -1)).toBe(true);
    expect(offers(SELF, -1)).toBe(false);
    expect(countClose(h)).toBe(1);
    expect(countEvent(EV_CHILD_ADDED)).toBe(0);
    expect(hiers[0].childCount()).toBe(2);
  });

  test("children with full subtrees are handed out as hints (free == 0)", () => {
    rootWithTwo();
    frUp(kids[0], fileXid(), 1, 3, 1, noCands, 0);
    frUp(kids[1], fileXid(), 1, 3, 1, noCands, 0);
    const h = acceptJoin(P3, fileXid());
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.nCand).toBe(2);
    expect(offers(P1, 0)).toBe(true);
    expect(offers(P2, 0)).toBe(true);
    expect(out.cands[0].childDepth).toBe(3);
  });

  test("consecutive refusals fan out over both children (slots)", () => {
    rootWithTwo();
    refuseMany(4);
    expect(firstP1).toBeGreaterThan(0);
    expect(firstP2).toBeGreaterThan(0);
    expect(longestRun).toBeLessThanOrEqual(2); // each leaf has two slots
  });

  test("consecutive refusals fan out over both children (hints)", () => {
    rootWithTwo();
    frUp(kids[0], fileXid(), 1, 3, 1, noCands, 0);
    frUp(kids[1], fileXid(), 1, 3, 1, noCands, 0);
    refuseMany(8);
    expect(firstP1).toBeGreaterThan(0);
    expect(firstP2).toBeGreaterThan(0);
    expect(longestRun).toBeLessThan(8);
  });

  test("a lost child frees its slot", () => {
    rootWithTwo();
    core.onStreamClosed(now, kids[0]);
    const ev = findEvent(EV_CHILD_LOST);
    expect(evA(ev)).toBe(P1);
    expect(countClose()).toBe(0); // the host closed it, not us
    clear();
    const h = acceptJoin(P3, fileXid());
    expect(findFrame(T_ACCEPT, h)).not.toBe(0);
  });

  test("refuses a joiner whose subtree would end deeper than MAX_DEPTH allows", () => {
    boot();
    becomeRoot();
    clear();
    let h = acceptJoin(P1, fileXid(), 1, 100, 23);
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.reason).toBe(REFUSE_TOO_DEEP);
    clear();
    h = acceptJoin(P2, fileXid(), 1, 100, 22);
    expect(findFrame(T_ACCEPT, h)).not.toBe(0);
  });

  test("a phone that is not a member refuses with NOT_MEMBER and the JOIN's xid", () => {
    boot();
    needFile(0); // discovering: not in a tree yet
    const h = acceptJoin(P1, fileXid());
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.reason).toBe(REFUSE_NOT_MEMBER);
    expect(out.xid).toBe(fileXid());
    expect(countClose(h)).toBe(1);
  });

  // Regression: the REFUSE for an unknown hierarchy once carried xid 0, which
  // the joiner then counted as a malformed frame.
  test("a JOIN for an unknown hierarchy is refused with that hierarchy's xid", () => {
    boot();
    becomeRoot();
    clear();
    const other = fileXid() ^ 0x5a5a;
    const h = acceptJoin(P1, other);
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.reason).toBe(REFUSE_NOT_MEMBER);
    expect(out.xid).toBe(other);
  });
});

const chain2: StaticArray<u32> = [P1, P2];
const chain3: StaticArray<u32> = [P1, P2, P3];
const chain4: StaticArray<u32> = [P1, P2, P3, P4];
const chain1: StaticArray<u32> = [P1];

describe("an attached phone", () => {
  test("joins: JOIN on the connected stream, then ATTACHED at depth == path length, EV_JOINED", () => {
    boot();
    setNow(100);
    const parent = attach(chain2, 2);
    expect(findFrame(T_JOIN, parent)).not.toBe(0);
    expect(out.xid).toBe(fileXid());
    expect(out.flags).toBe(0);
    expect(role()).toBe(ROLE_ATTACHED);
    expect(hiers[0].depth()).toBe(2);
    expect(hiers[0].parent).toBe(parent);
    expect(hiers[0].path[0]).toBe(P1);
    expect(hiers[0].path[1]).toBe(P2);
    const ev = findEvent(EV_JOINED);
    expect(evA(ev)).toBe(P2);
    expect(evN(ev)).toBe(2);
  });

  test("refuses a JOIN from one of its ancestors (CYCLE)", () => {
    boot();
    attach(chain2, 2);
    clear();
    const h = acceptJoin(P1, fileXid());
    expect(findFrame(T_REFUSE, h)).not.toBe(0);
    expect(out.reason).toBe(REFUSE_CYCLE);
    expect(countClose(h)).toBe(1);
    expect(hiers[0].childCount()).toBe(0);
    clear();
    const g = acceptJoin(P9, fileXid()); // not an ancestor: accepted
    expect(findFrame(T_ACCEPT, g)).not.toBe(0);
    expect(out.pathLen).toBe(3);
    expect(out.path[2]).toBe(SELF);
  });

  test("sends UP within UPDATE_MIN_GAP_MS of joining, then every heartbeat", () => {
    boot();
    setNow(100);
    const parent = attach(chain2, 2);
    const joined = now;
    clear();
    const t1 = step();
    expect(t1 - joined).toBeLessThanOrEqual(UPDATE_MIN_GAP_MS);
    expect(findFrame(T_UP, parent)).not.toBe(0);
    expect(out.subtreeSize).toBe(1);
    expect(out.subtreeHeight).toBe(0);
    expect(out.nCand).toBe(1);
    expect(out.cands[0].addr).toBe(SELF);
    expect(out.cands[0].childDepth).toBe(3);
    clear();
    runUntil(t1 + 999);
    expect(countFrame(T_UP, parent)).toBe(0);
    runUntil(t1 + 1000);
    expect(countFrame(T_UP, parent)).toBe(1);
  });

  test("a silent parent is dropped after peerTimeoutMs; re-join at the grandparent", () => {
    boot();
    setNow(100);
    const parent = attach(chain3, 3);
    const t = now;
    clear();
    runUntil(t + 3499);
    expect(countEvent(EV_PARENT_LOST)).toBe(0);
    expect(role()).toBe(ROLE_ATTACHED);
    clear();
    runUntil(t + 3500);
    const ev = findEvent(EV_PARENT_LOST);
    expect(ev).not.toBe(0);
    expect(evA(ev)).toBe(P3);
    expect(countClose(parent)).toBe(1);
    expect(countKind(OUT_CONNECT)).toBe(1);
    expect(recA(findKind(OUT_CONNECT))).toBe(P2);
    expect(role()).toBe(ROLE_JOINING);
  });

  test("a root's child whose parent goes silent claims root at once", () => {
    boot();
    setNow(100);
    const parent = attach(chain1, 1);
    const t = now;
    clear();
    runUntil(t + 3500);
    expect(countClose(parent)).toBe(1);
    expect(countEvent(EV_PARENT_LOST)).toBe(1);
    expect(countDgram(T_CLAIM)).toBe(1);
    expect(countEvent(EV_CLAIM)).toBe(1);
    expect(countKind(OUT_CONNECT)).toBe(0);
    expect(role()).toBe(ROLE_CLAIMING);
  });

  test("a parent closed by the host: repair without OUT_CLOSE", () => {
    boot();
    const parent = attach(chain3, 3);
    clear();
    core.onStreamClosed(now, parent);
    expect(countEvent(EV_PARENT_LOST)).toBe(1);
    expect(countKind(OUT_CLOSE)).toBe(0);
    expect(recA(findKind(OUT_CONNECT))).toBe(P2);
  });

  test("a DOWN whose path contains ourselves breaks the parent link", () => {
    boot();
    const parent = attach(chain3, 3);
    clear();
    const loop: StaticArray<u32> = [P1, SELF, P3];
    frDown(parent, fileXid(), loop, 3, noBest);
    expect(countClose(parent)).toBe(1);
    expect(countEvent(EV_PARENT_LOST)).toBe(1);
    expect(hiers[0].parent).toBe(-1);
  });

  test("a DOWN with a new path updates our depth", () => {
    boot();
    const parent = attach(chain3, 3);
    const moved: StaticArray<u32> = [P1, P3];
    frDown(parent, fileXid(), moved, 2, noBest);
    expect(hiers[0].depth()).toBe(2);
    expect(hiers[0].path[1]).toBe(P3);
    expect(countClose(parent)).toBe(0);
  });

  test("an ACCEPT whose path contains ourselves is not taken", () => {
    boot();
    needFile(0);
    dgRootAd(P1, fileXid(), 0x80000001, adCands, 0);
    const h = <i32>recB(findKind(OUT_CONNECT));
    core.onStreamConnected(now, h);
    clear();
    const bad: StaticArray<u32> = [P1, SELF, P2];
    frAccept(h, fileXid(), bad, 3);
    expect(role()).not.toBe(ROLE_ATTACHED);
    expect(countClose(h)).toBe(1);
    expect(countEvent(EV_JOINED)).toBe(0);
  });
});

describe("a merging root", () => {
  test("keeps its children and tells them their new path", () => {
    boot();
    becomeRoot();
    const child = acceptJoin(P1, fileXid());
    clear();
    adCands[0].set(P8, 1, 1, 5);
    dgRootAd(P9, fileXid(), 0xffff0000, adCands, 1);
    const h = <i32>recB(findKind(OUT_CONNECT));
    expect(recA(findKind(OUT_CONNECT))).toBe(P8);
    core.onStreamConnected(now, h);
    expect(findFrame(T_JOIN, h)).not.toBe(0);
    expect(out.subtreeSize).toBe(2);
    expect(out.subtreeHeight).toBe(1);
    clear();
    const theirs: StaticArray<u32> = [P9, P8];
    frAccept(h, fileXid(), theirs, 2);
    expect(role()).toBe(ROLE_ATTACHED);
    expect(hiers[0].childCount()).toBe(1);
    runUntil(now + UPDATE_MIN_GAP_MS);
    expect(findFrame(T_DOWN, child)).not.toBe(0);
    expect(out.pathLen).toBe(3);
    expect(out.path[0]).toBe(P9);
    expect(out.path[1]).toBe(P8);
    expect(out.path[2]).toBe(SELF);
  });
});

describe("the join walk", () => {
  test("a REFUSE with candidates: connect to the best of them next", () => {
    boot();
    needFile(0);
    dgRootAd(P1, fileXid(), 0x80000001, adCands, 0);
    const h = <i32>recB(findKind(OUT_CONNECT));
    core.onStreamConnected(now, h);
    clear();
    adCands[0].set(P2, 3, 1, 50);
    adCands[1].set(P3, 2, 1, 5);
    adCands[2].set(P4, 2, 0, 99);
    frRefuse(h, fileXid(), REFUSE_FULL, adCands, 3);
    const ev = findEvent(EV_REFUSED);
    expect(evA(ev)).toBe(P1);
    expect(evN(ev)).toBe(REFUSE_FULL);
    expect(evB(ev)).toBe(3);
    expect(countClose(h)).toBe(1);
    expect(countKind(OUT_CONNECT)).toBe(1);
    expect(recA(findKind(OUT_CONNECT))).toBe(P3);
    expect(role()).toBe(ROLE_JOINING);
  });

  test("a REFUSE with nothing left: back to discovery, a SOLICIT after the backoff", () => {
    boot();
    needFile(0);
    dgRootAd(P1, fileXid(), 0x80000001, adCands, 0);
    const h = <i32>recB(findKind(OUT_CONNECT));
    core.onStreamConnected(now, h);
    clear();
    const t = now;
    frRefuse(h, fileXid(), REFUSE_FULL, adCands, 0);
    expect(role()).toBe(ROLE_DISCOVER);
    expect(countKind(OUT_CONNECT)).toBe(0);
    let at: f64 = -1;
    while (at < 0 && now < t + 1000) {
      step();
      if (countDgram(T_SOLICIT) > 0) at = now;
    }
    expect(at).toBeGreaterThanOrEqual(t + 100); // REJOIN_BACKOFF_MS
    expect(at).toBeLessThan(t + 400); //          + REJOIN_JITTER_MS
  });

  test("a join that gets no answer is abandoned after joinTimeoutMs", () => {
    boot();
    needFile(0);
    adCands[0].set(P2, 2, 1, 5);
    dgRootAd(P1, fileXid(), 0x80000001, adCands, 1);
    const h = <i32>recB(findKind(OUT_CONNECT));
    expect(recA(findKind(OUT_CONNECT))).toBe(P2);
    const t = now;
    clear();
    runUntil(t + 1499);
    expect(countClose(h)).toBe(0);
    runUntil(t + 1500);
    expect(countClose(h)).toBe(1);
    expect(recA(findKind(OUT_CONNECT))).toBe(P1); // next: the root itself
  });
});

describe("rebalancing", () => {
  test("a leaf at depth 4 moves to a free slot at childDepth 2 (make before break)", () => {
    boot();
    const old = attach(chain4, 4);
    expect(hiers[0].depth()).toBe(4);
    best.set(P6, 2, 1, 5);
    frDown(old, fileXid(), chain4, 4, best);
    clear();
    runUntil(now + 300);
    expect(countKind(OUT_CONNECT)).toBe(1);
    const c = findKind(OUT_CONNECT);
    expect(recA(c)).toBe(P6);
    const mv = <i32>recB(c);
    expect(countClose(old)).toBe(0); // the old link stays until the new one is accepted
    core.onStreamConnected(now, mv);
    expect(findFrame(T_JOIN, mv)).not.toBe(0);
    expect(out.flags).toBe(JOIN_MOVE);
    clear();
    const target: StaticArray<u32> = [P1, P6];
    frAccept(mv, fileXid(), target, 2);
    expect(countClose(old)).toBe(1);
    const ev = findEvent(EV_MOVED);
    expect(ev).not.toBe(0);
    expect(evA(ev)).toBe(P6);
    expect(evN(ev)).toBe(2);
    expect(hiers[0].parent).toBe(mv);
    expect(hiers[0].depth()).toBe(2);
    expect(role()).toBe(ROLE_ATTACHED);
  });

  test("a gain of one level (childDepth 3 at depth 4) is not worth a move", () => {
    boot();
    const old = attach(chain4, 4);
    best.set(P6, 3, 1, 5);
    frDown(old, fileXid(), chain4, 4, best);
    clear();
    runUntil(now + 2500);
    expect(countKind(OUT_CONNECT)).toBe(0);
    expect(hiers[0].parent).toBe(old);
  });

  test("a hint (free 0) two levels up is not a slot to move to", () => {
    boot();
    const old = attach(chain4, 4);
    best.set(P6, 2, 0, 5);
    frDown(old, fileXid(), chain4, 4, best);
    clear();
    runUntil(now + 2500);
    expect(countKind(OUT_CONNECT)).toBe(0);
  });

  test("a refused move keeps the old parent", () => {
    boot();
    const old = attach(chain4, 4);
    best.set(P6, 2, 1, 5);
    frDown(old, fileXid(), chain4, 4, best);
    clear();
    runUntil(now + 300);
    expect(recA(findKind(OUT_CONNECT))).toBe(P6);
    const mv = <i32>recB(findKind(OUT_CONNECT));
    core.onStreamConnected(now, mv);
    clear();
    frRefuse(mv, fileXid(), REFUSE_FULL, adCands, 0);
    expect(countClose(mv)).toBe(1);
    expect(countClose(old)).toBe(0);
    expect(hiers[0].parent).toBe(old);
    expect(role()).toBe(ROLE_ATTACHED);
  });
});
