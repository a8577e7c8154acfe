// Timers and resources: nextDeadlineMs() tells the host when to call back;
// early or repeated onTimer calls do nothing; idle links carry a heartbeat
// every heartbeatMs; a verified phone lingers lingerMs and then leaves; the
// steady state allocates nothing.

import * as core from "../../assembly/core";
import { Candidate } from "../../assembly/candidate";
import { EV_LEFT } from "../../assembly/events";
import { hiers, ROLE_IDLE, ROLE_ROOT } from "../../assembly/hierarchy";
import { LINK_FREE, links } from "../../assembly/link";
import { T_DOWN, T_UP } from "../../assembly/wire";
import {
  acceptJoin, adCands, attach, becomeRoot, boot, clear, countClose, countEvent, countFrame, dgClaim, dgRootAd,
  dgSolicit, deliver, fileXid, frDown, frUp, needFile, noBest, now, P1, P2, P3, P4, recordCount, role,
  fillHeapHoles, runUntil, SELF, setNow, SIZE, step,
} from "./support";

const childCands = new StaticArray<Candidate>(1);
childCands[0] = new Candidate();
const chain2: StaticArray<u32> = [P1, P2];

function openLinks(): i32 {
  let n = 0;
  for (let i = 0; i < links.length; i++) if (links[i].kind != LINK_FREE) n++;
  return n;
}

/** The UP a fresh leaf child P1 of a root sends: it changes nothing. */
function quietUp(handle: i32): void {
  childCands[0].set(P1, 2, 2, 1);
  frUp(handle, fileXid(), 1, 1, 0, childCands, 1);
}

describe("deadlines", () => {
  test("Infinity before init and before need()", () => {
    expect(core.isReady()).toBe(false);
    expect(core.nextDeadlineMs()).toBe(Infinity);
    boot();
    expect(core.nextDeadlineMs()).toBe(Infinity);
    core.onTimer(1e9);
    expect(recordCount()).toBe(0);
  });

  test("after need(): finite, within one advertisement interval", () => {
    boot();
    needFile(5000);
    const d = core.nextDeadlineMs();
    expect(d).toBeGreaterThanOrEqual(5000);
    expect(d).toBeLessThanOrEqual(5250);
  });

  test("early or repeated onTimer calls emit nothing extra", () => {
    boot();
    needFile(0);
    for (let i = 0; i < 12; i++) {
      const d = core.nextDeadlineMs();
      clear();
      core.onTimer(d - 1);
      core.onTimer(d - 0.001);
      expect(recordCount()).toBe(0, "early, step " + i.toString());
      expect(core.nextDeadlineMs()).toBe(d);
      core.onTimer(d);
      const n = recordCount();
      expect(n).toBeGreaterThan(0);
      core.onTimer(d);
      expect(recordCount()).toBe(n, "again, step " + i.toString());
      expect(core.nextDeadlineMs()).toBeGreaterThan(d);
      setNow(d);
    }
    expect(role()).toBe(ROLE_ROOT); // 2 solicits + 5 claims + confirm, then root ads
  });

  test("early calls do nothing on a root with a child link either", () => {
    boot();
    becomeRoot();
    const h = acceptJoin(P1, fileXid());
    for (let i = 0; i < 10; i++) {
      quietUp(h);
      const d = core.nextDeadlineMs();
      clear();
      core.onTimer(d - 1);
      expect(recordCount()).toBe(0, "early, step " + i.toString());
      core.onTimer(d);
      const n = recordCount();
      expect(n).toBeGreaterThan(0);
      core.onTimer(d);
      expect(recordCount()).toBe(n);
      setNow(d);
    }
    expect(hiers[0].childCount()).toBe(1);
  });
});

describe("heartbeats", () => {
  test("a root sends DOWN every heartbeatMs on an idle child link", () => {
    boot();
    becomeRoot();
    const h = acceptJoin(P1, fileXid());
    const t0 = now;
    let downs = 0;
    let last: f64 = -1;
    while (now < t0 + 6000) {
      quietUp(h); // the child's own heartbeat keeps the link alive
      clear();
      const d = step();
      const n = countFrame(T_DOWN, h);
      if (n == 0) continue;
      expect(n).toBe(1);
      if (last < 0) expect(d - t0).toBeLessThanOrEqual(1000); // an update or the first heartbeat
      else expect(d - last).toBe(1000);
      last = d;
      downs++;
    }
    expect(downs).toBeGreaterThanOrEqual(5);
    expect(countClose(h)).toBe(0);
    expect(hiers[0].childCount()).toBe(1);
  });

  test("an attached phone sends UP every heartbeatMs on an idle parent link", () => {
    boot();
    const parent = attach(chain2, 2);
    step(); // the update joining causes
    let last = now;
    let ups = 0;
    for (let i = 0; i < 5; i++) {
      clear();
      frDown(parent, fileXid(), chain2, 2, noBest); // same path: no change, keeps the link alive
      const d = core.nextDeadlineMs();
      runUntil(d);
      expect(countFrame(T_UP, parent)).toBe(1);
      expect(d - last).toBe(1000);
      last = d;
      ups++;
    }
    expect(ups).toBe(5);
  });
});

describe("join timeouts", () => {
  test("an inbound stream that sends no JOIN is closed after joinTimeoutMs", () => {
    boot();
    becomeRoot();
    const t = now;
    const h = core.onStreamAccept(t, P3);
    clear();
    runUntil(t + 1499);
    expect(countClose(h)).toBe(0);
    runUntil(t + 1500);
    expect(countClose(h)).toBe(1);
    expect(openLinks()).toBe(0);
  });
});

describe("linger", () => {
  test("a verified phone leaves the hierarchy lingerMs later, not before", () => {
    boot(SELF, 10000);
    becomeRoot();
    const h = acceptJoin(P1, fileXid());
    const t = now + 5;
    setNow(t);
    expect(core.setHeld(t, 0, SIZE, core.NEED_VERIFIED)).toBe(0);
    for (let k = t + 500; k < t + 10000; k += 500) {
      runUntil(k);
      quietUp(h);
    }
    clear();
    runUntil(t + 9999);
    expect(countEvent(EV_LEFT)).toBe(0);
    expect(role()).toBe(ROLE_ROOT);
    expect(core.nextDeadlineMs()).toBeLessThanOrEqual(t + 10000);
    runUntil(t + 10000);
    expect(countEvent(EV_LEFT)).toBe(1);
    expect(countClose(h)).toBe(1);
    expect(role()).toBe(ROLE_IDLE);
    expect(core.nextDeadlineMs()).toBe(Infinity);
    expect(openLinks()).toBe(0);
  });

  test("a second verified report does not extend the linger", () => {
    boot(SELF, 10000);
    becomeRoot();
    const t = now;
    core.setHeld(t, 0, SIZE, core.NEED_VERIFIED);
    runUntil(t + 4000);
    core.setHeld(now, 0, SIZE, core.NEED_VERIFIED);
    runUntil(t + 10000);
    expect(countEvent(EV_LEFT)).toBe(1);
  });

  test("release() leaves at once", () => {
    boot();
    becomeRoot();
    clear();
    expect(core.release(now, 0)).toBe(0);
    expect(countEvent(EV_LEFT)).toBe(1);
    expect(role()).toBe(ROLE_IDLE);
    expect(core.release(now, 0)).toBe(-2);
  });
});

// ---------------------------------------------------------------- allocation

let kids0: i32 = -1;
let kids1: i32 = -1;
let sink: Candidate | null = null;

/** A busy second of a root with two children, repeated `seconds` times:
 *  timers, UPs, solicits, claims, foreign ads, malformed input, a refused
 *  joiner. The outbox is emptied as a host would. */
function work(seconds: i32): void {
  for (let s = 0; s < seconds; s++) {
    const base = now;
    for (let k = 1; k <= 10; k++) {
      runUntil(base + <f64>k * 100);
      quietUp(kids0);
      dgSolicit(P3, fileXid(), 0);
      if (k == 5) {
        dgClaim(P4, fileXid(), 5, 0);
        dgRootAd(P4, fileXid(), 0x80000000, adCands, 0);
        deliver(P4, 3); // malformed
        const j = acceptJoin(P3, fileXid()); // refused: we are full
        core.onStreamClosed(now, j); // already closed by us: a stale handle
      }
      clear();
    }
    childCands[0].set(P2, 2, 2, 1);
    frUp(kids1, fileXid(), 1, 1, 0, childCands, 1);
  }
}

describe("allocation", () => {
  test("the steady state allocates nothing (and the check can see an allocation)", () => {
    boot();
    becomeRoot();
    kids0 = acceptJoin(P1, fileXid());
    kids1 = acceptJoin(P2, fileXid());
    clear();
    work(2); // warm-up
    fillHeapHoles();
    const a = heap.alloc(1);
    const b = heap.alloc(1);
    work(20);
    const c = heap.alloc(1);
    // the control: the same measurement around one small allocation
    const d = heap.alloc(1);
    sink = new Candidate();
    const e = heap.alloc(1);
    expect(b - a).toBeGreaterThan(0);
    expect(c - b).toBe(b - a);
    expect(e - d).not.toBe(b - a);
    expect(sink).not.toBeNull();
    expect(hiers[0].childCount()).toBe(2);
    expect(core.malformedDatagrams).toBe(22); // one a second, warm-up included
    expect(role()).toBe(ROLE_ROOT);
  });
});
