// election.ts through the core: a lone phone solicits once, claims with
// Ad 0..4 250 ms apart and confirms itself root 1250 ms after its first
// claim; stronger claims and roots win, weaker ones do not; a root answers
// solicitations promptly but at most every ROOT_AD_MIN_GAP_MS; the strength
// order is total.

import * as core from "../../assembly/core";
import {
  EV_CHILD_ADDED, EV_CLAIM, EV_CONFIRMED_ROOT, EV_FETCH, EV_MERGE, EV_ROOT_AD, EV_SOLICIT, EV_YIELD,
} from "../../assembly/events";
import { hiers, ROLE_CLAIMING, ROLE_DISCOVER, ROLE_JOINING, ROLE_ROOT } from "../../assembly/hierarchy";
import { JOIN_SPREAD_MS, ROOT_AD_MIN_GAP_MS, SOLICITS_PER_ROUND } from "../../assembly/limits";
import { isAvoided } from "../../assembly/avoid";
import { BROADCAST_ADDR, OUT_CONNECT, OUT_DATAGRAM } from "../../assembly/outbox";
import { makeStrength, stronger, STRENGTH_CONFIRMED, STRENGTH_VERIFIED } from "../../assembly/strength";
import { T_CLAIM, T_ROOT_AD, T_SOLICIT } from "../../assembly/wire";
import {
  adCands, becomeRoot, boot, clear, countDgram, countEvent, countKind, dgClaim, dgRootAd, dgSolicit, evA, evB, evN,
  fileXid, findDgram, findEvent, findKind, frJoin, needFile, now, out, P1, P2, P3, P4, P9, recA, recB, role, runUntil,
  runUntilEvent, SELF, setNow, SIZE, step,
} from "./support";

const solicitAt = new StaticArray<f64>(8);
const claimAt = new StaticArray<f64>(8);
let solicits = 0;
let claims = 0;
let confirmedAt: f64 = -1;
let fetches = 0;
let confirmStrength: u32 = 0;

/** Steps timers until confirmation, noting when each message went out. */
function runElection(limit: f64, firstAd: i32 = 0): void {
  solicits = 0;
  claims = 0;
  confirmedAt = -1;
  fetches = 0;
  while (confirmedAt < 0) {
    const t = step();
    if (t > limit) break;
    const r = findKind(OUT_DATAGRAM);
    if (r != 0) expect(recA(r)).toBe(BROADCAST_ADDR);
    if (countDgram(T_SOLICIT) > 0 && solicits < 8) solicitAt[solicits++] = t;
    if (findDgram(T_CLAIM) != 0) {
      expect(out.ad).toBe(<u32>(claims + firstAd), "Ad number");
      expect(evN(findEvent(EV_CLAIM))).toBe(<u32>(claims + firstAd));
      if (claims < 8) claimAt[claims++] = t;
    }
    fetches += countEvent(EV_FETCH);
    const ev = findEvent(EV_CONFIRMED_ROOT);
    if (ev != 0) {
      confirmedAt = t;
      confirmStrength = evA(ev);
    }
    if (confirmedAt < 0) clear();
  }
}

function near(a: f64, b: f64): bool {
  return Math.abs(a - b) <= 1;
}

describe("a lone phone", () => {
  test("need() is for the hierarchy of (model, file)", () => {
    boot();
    expect(needFile(0)).toBe(0);
    expect(hiers[0].xid).toBe(fileXid());
    expect(role()).toBe(ROLE_DISCOVER);
    expect(needFile(0)).toBe(0); // the same file again: the same slot
  });

  test("solicits once, claims Ad 0..4 250 ms apart, confirms 1250 ms after the first claim", () => {
    boot();
    needFile(1000);
    runElection(10000);
    expect(solicits).toBe(SOLICITS_PER_ROUND);
    expect(solicitAt[0]).toBeGreaterThanOrEqual(1000);
    expect(solicitAt[0]).toBeLessThan(1250);
    expect(claims).toBe(5);
    expect(near(claimAt[0] - solicitAt[0], 250)).toBe(true);
    for (let k = 1; k < 5; k++) expect(near(claimAt[k] - claimAt[k - 1], 250)).toBe(true, "Ad " + k.toString());
    expect(confirmedAt).toBeGreaterThan(0);
    expect(near(confirmedAt - claimAt[0], 1250)).toBe(true);
    expect(confirmStrength & STRENGTH_CONFIRMED).toBe(STRENGTH_CONFIRMED);
    expect(role()).toBe(ROLE_ROOT);
    // the confirmation step: fetch from the server, advertise the tree
    expect(fetches).toBe(1);
    expect(findEvent(EV_FETCH)).not.toBe(0);
    expect(findDgram(T_ROOT_AD)).not.toBe(0);
    expect(out.strength).toBe(confirmStrength);
    expect(out.sizeBytes).toBe(SIZE);
    expect(out.nCand).toBe(1); // its own two free child slots
    expect(out.cands[0].addr).toBe(SELF);
    expect(out.cands[0].childDepth).toBe(1);
    expect(out.cands[0].free).toBe(2);
    expect(countEvent(EV_ROOT_AD)).toBe(1);
  });

  // Regression: need() once dropped heldBytes and flags for a new hierarchy
  // (it set them while the slot was still idle).
  test("need() with flags=1 (verified): no EV_FETCH at confirmation", () => {
    boot();
    needFile(0, SIZE, SIZE, 1);
    expect(hiers[0].verified).toBe(true);
    expect(hiers[0].heldBytes).toBe(SIZE);
    runElection(10000);
    expect(confirmedAt).toBeGreaterThan(0);
    expect(fetches).toBe(0);
    expect(confirmStrength & STRENGTH_VERIFIED).toBe(STRENGTH_VERIFIED);
  });

  test("need() then setHeld(verified) before confirmation: no EV_FETCH", () => {
    boot();
    const slot = needFile(0, SIZE, 0, 0);
    expect(core.setHeld(0, slot, SIZE, core.NEED_VERIFIED)).toBe(0);
    runElection(10000);
    expect(confirmedAt).toBeGreaterThan(0);
    expect(fetches).toBe(0);
    expect(confirmStrength & STRENGTH_VERIFIED).toBe(STRENGTH_VERIFIED);
    expect(confirmStrength & STRENGTH_CONFIRMED).toBe(STRENGTH_CONFIRMED);
  });

  test("another phone's SOLICIT just before ours makes ours redundant", () => {
    boot();
    needFile(0);
    const d = core.nextDeadlineMs();
    setNow(d - 50);
    dgSolicit(P1, fileXid(), 0);
    clear();
    runUntil(d);
    expect(countDgram(T_SOLICIT)).toBe(0); // suppressed, but the round goes on
    expect(hiers[0].solicits).toBe(1);
    // Its answer would have reached us too; none came: we claim on time.
    runUntil(d + 250);
    expect(countDgram(T_SOLICIT)).toBe(0);
    expect(countDgram(T_CLAIM)).toBe(1);
  });

  test("the solicit event carries the round number; one round, then the claim", () => {
    boot();
    needFile(0);
    step();
    expect(evN(findEvent(EV_SOLICIT))).toBe(0);
    clear();
    step();
    expect(countEvent(EV_SOLICIT)).toBe(0);
    expect(countEvent(EV_CLAIM)).toBe(1);
  });
});

describe("competing claims", () => {
  test("a stronger claim makes a claimant yield and join it; a claimant that never answers is struck by nobody, and the phone claims again", () => {
    boot();
    needFile(0);
    expect(runUntilEvent(EV_CLAIM, 2000)).toBe(true); // Ad 0
    clear();
    step(); // Ad 1
    expect(countDgram(T_CLAIM)).toBe(1);
    clear();
    const t = now + 10;
    setNow(t);
    dgClaim(P9, fileXid(), 0xffff, 1);
    const ev = findEvent(EV_YIELD);
    expect(ev).not.toBe(0);
    expect(evA(ev)).toBe(P9);
    expect(evB(ev)).toBe(0xffff);
    // A child of the tentative root, within one join spread.
    expect(role()).toBe(ROLE_JOINING);
    runUntil(t + <f64>JOIN_SPREAD_MS);
    expect(countDgram(T_CLAIM)).toBe(0);
    expect(countKind(OUT_CONNECT)).toBe(1);
    const connect = findKind(OUT_CONNECT);
    expect(recA(connect)).toBe(P9);
    // It never answers: the walk ends, P9 is not avoided (a claim is no
    // root's word), and the phone claims again, from Ad 0.
    core.onStreamClosed(now, <i32>recB(connect));
    expect(isAvoided(P9, now)).toBe(false);
    clear();
    expect(runUntilEvent(EV_CLAIM, t + 5000)).toBe(true);
    expect(findDgram(T_CLAIM)).not.toBe(0);
    expect(out.ad).toBe(0);
    expect(role()).toBe(ROLE_CLAIMING);
  });

  test("a weaker claim does not stop a claimant", () => {
    boot();
    needFile(0);
    expect(runUntilEvent(EV_CLAIM, 2000)).toBe(true);
    const first = now;
    clear();
    dgClaim(P1, fileXid(), 0, 0);
    expect(countEvent(EV_YIELD)).toBe(0);
    expect(role()).toBe(ROLE_CLAIMING);
    runElection(first + 5000, 1);
    expect(claims).toBe(4); // Ad 1..4
    expect(near(confirmedAt - first, 1250)).toBe(true);
  });

  test("an equal-strength claim: the higher address wins", () => {
    boot();
    needFile(0);
    expect(runUntilEvent(EV_CLAIM, 2000)).toBe(true);
    clear();
    const mine = hiers[0].strength();
    dgClaim(P1, fileXid(), mine, 0); // lower address than ours
    expect(countEvent(EV_YIELD)).toBe(0);
    expect(role()).toBe(ROLE_CLAIMING);
    dgClaim(P9, fileXid(), mine, 0); // higher address
    expect(countEvent(EV_YIELD)).toBe(1);
    expect(role()).toBe(ROLE_DISCOVER); // its Ad 1 makes it a tentative root we join
  });

  test("a stronger claim heard while soliciting keeps the phone from claiming; its Ad 1 makes the phone join it", () => {
    boot();
    needFile(0);
    step(); // solicit 0
    dgClaim(P9, fileXid(), 0x3fff0000, 0);
    const t = now;
    clear();
    runUntil(t + 200);
    expect(countDgram(T_CLAIM)).toBe(0);
    expect(role()).toBe(ROLE_DISCOVER);
    dgClaim(P9, fileXid(), 0x3fff0000, 1);
    expect(role()).toBe(ROLE_JOINING);
    runUntil(now + <f64>JOIN_SPREAD_MS);
    expect(countDgram(T_CLAIM)).toBe(0);
    expect(recA(findKind(OUT_CONNECT))).toBe(P9);
  });

  test("a claimant takes a child: a JOIN while it claims is accepted", () => {
    boot();
    needFile(0);
    expect(runUntilEvent(EV_CLAIM, 2000)).toBe(true);
    clear();
    const child = core.onStreamAccept(now, P1);
    frJoin(child, fileXid(), 0);
    expect(countEvent(EV_CHILD_ADDED)).toBe(1);
    expect(hiers[0].childCount()).toBe(1);
    expect(role()).toBe(ROLE_CLAIMING);
  });
});

describe("hearing a root", () => {
  test("a ROOT_AD while discovering: connect to the shallowest, then strongest slot", () => {
    boot();
    needFile(0);
    step();
    clear();
    adCands[0].set(P1, 2, 2, 900);
    adCands[1].set(P2, 1, 1, 5);
    adCands[2].set(P3, 1, 2, 9);
    adCands[3].set(P4, 1, 0, 1000); // a hint: after the slots of its depth
    dgRootAd(P9, fileXid(), 0x80001234, adCands, 4);
    expect(role()).toBe(ROLE_JOINING);
    expect(countKind(OUT_CONNECT)).toBe(1);
    expect(recA(findKind(OUT_CONNECT))).toBe(P3);
  });

  test("a ROOT_AD without candidates: connect to the root itself", () => {
    boot();
    needFile(0);
    step();
    clear();
    dgRootAd(P9, fileXid(), 0x80001234, adCands, 0);
    expect(recA(findKind(OUT_CONNECT))).toBe(P9);
  });

  test("a ROOT_AD while claiming: yield and join", () => {
    boot();
    needFile(0);
    expect(runUntilEvent(EV_CLAIM, 2000)).toBe(true);
    clear();
    adCands[0].set(P2, 1, 2, 5);
    dgRootAd(P1, fileXid(), 0x80000001, adCands, 1);
    const ev = findEvent(EV_YIELD);
    expect(ev).not.toBe(0);
    expect(evN(ev)).toBe(1);
    expect(evA(ev)).toBe(P1);
    expect(recA(findKind(OUT_CONNECT))).toBe(P2);
    runUntil(now + 3000);
    expect(countDgram(T_CLAIM)).toBe(0);
  });

  test("a datagram for another file is ignored", () => {
    boot();
    needFile(0);
    step();
    clear();
    dgRootAd(P9, fileXid() + 1, 0x80001234, adCands, 0);
    expect(role()).toBe(ROLE_DISCOVER);
    expect(countKind(OUT_CONNECT)).toBe(0);
  });
});

const adAt = new StaticArray<f64>(64);
let ads = 0;

/** Runs timers up to `t`, noting the time of each ROOT_AD. */
function recordAds(t: f64): void {
  while (core.nextDeadlineMs() <= t) {
    const s = step();
    const n = countDgram(T_ROOT_AD);
    for (let i = 0; i < n && ads < 64; i++) adAt[ads++] = s;
    clear();
  }
  setNow(t);
}

describe("a confirmed root", () => {
  test("answers a SOLICIT within ROOT_AD_MIN_GAP_MS, at most once per gap in a burst", () => {
    boot();
    const t0 = becomeRoot();
    clear();
    ads = 0;
    setNow(t0 + 10);
    dgSolicit(P1, fileXid(), 0);
    recordAds(t0 + 10 + ROOT_AD_MIN_GAP_MS);
    expect(ads).toBe(1);
    expect(adAt[0] - (t0 + 10)).toBeLessThanOrEqual(ROOT_AD_MIN_GAP_MS);
    // a burst: a SOLICIT every 7 ms for a second, each followed by an extra
    // onTimer call (a host may call it at any time)
    for (let t = t0 + 120; t < t0 + 1120; t += 7) {
      recordAds(t);
      dgSolicit(P1 + <u32>(t % 5), fileXid(), 0);
      core.onTimer(t);
      if (countDgram(T_ROOT_AD) > 0 && ads < 64) adAt[ads++] = t;
      clear();
    }
    recordAds(t0 + 1300);
    expect(ads).toBeGreaterThanOrEqual(10); // the first answer + one per gap of the burst
    expect(ads).toBeLessThanOrEqual(12);
    for (let i = 1; i < ads; i++) expect(adAt[i] - adAt[i - 1]).toBeGreaterThanOrEqual(ROOT_AD_MIN_GAP_MS);
    // the last solicit (t0 + 1114) was answered within a gap too
    expect(adAt[ads - 1]).toBeGreaterThanOrEqual(t0 + 1114);
    expect(adAt[ads - 1]).toBeLessThanOrEqual(t0 + 1114 + ROOT_AD_MIN_GAP_MS);
  });

  test("re-advertises every rootAdIntervalMs when nobody asks", () => {
    boot();
    const t0 = becomeRoot();
    clear();
    ads = 0;
    recordAds(t0 + 6500);
    expect(ads).toBe(3);
    expect(adAt[0]).toBe(t0 + 2000);
    expect(adAt[1]).toBe(t0 + 4000);
    expect(adAt[2]).toBe(t0 + 6000);
  });

  test("a stronger ROOT_AD: a merge walk beside the root role, connect to the advertised slot", () => {
    boot();
    becomeRoot();
    clear();
    const theirs: u32 = STRENGTH_CONFIRMED | STRENGTH_VERIFIED | 0x3fff0000;
    adCands[0].set(P2, 1, 1, 5);
    dgRootAd(P1, fileXid(), theirs, adCands, 1);
    const ev = findEvent(EV_MERGE);
    expect(ev).not.toBe(0);
    expect(evA(ev)).toBe(P1);
    expect(evB(ev)).toBe(theirs);
    // A strength is only a claim: still root until that tree takes us.
    expect(role()).toBe(ROLE_ROOT);
    expect(hiers[0].sideWalk).toBe(true);
    expect(countKind(OUT_CONNECT)).toBe(1);
    expect(recA(findKind(OUT_CONNECT))).toBe(P2);
    expect(recB(findKind(OUT_CONNECT))).toBe(<u32>hiers[0].joinStream);
  });

  test("a weaker ROOT_AD: no merge, re-advertise within the gap", () => {
    boot();
    const t0 = becomeRoot();
    clear();
    setNow(t0 + 500);
    dgRootAd(P1, fileXid(), STRENGTH_CONFIRMED, adCands, 0);
    expect(countEvent(EV_MERGE)).toBe(0);
    expect(role()).toBe(ROLE_ROOT);
    expect(countKind(OUT_CONNECT)).toBe(0);
    ads = 0;
    recordAds(t0 + 500 + ROOT_AD_MIN_GAP_MS);
    expect(ads).toBe(1);
  });

  test("a CLAIM makes it advertise, not yield", () => {
    boot();
    const t0 = becomeRoot();
    clear();
    setNow(t0 + 300);
    dgClaim(P9, fileXid(), 0x7fffffff, 0);
    expect(countEvent(EV_YIELD)).toBe(0);
    expect(role()).toBe(ROLE_ROOT);
    ads = 0;
    recordAds(t0 + 300 + ROOT_AD_MIN_GAP_MS);
    expect(ads).toBe(1);
  });
});

describe("strength", () => {
  test("verified beats any held amount", () => {
    const v = makeStrength(false, true, 0, 100, 0);
    const full = makeStrength(false, false, 100, 100, 0xffff);
    const over = makeStrength(false, false, 1000, 100, 0xffff);
    expect(v).toBeGreaterThan(full);
    expect(v).toBeGreaterThan(over);
    expect(v & STRENGTH_VERIFIED).toBe(STRENGTH_VERIFIED);
    expect(full & STRENGTH_VERIFIED).toBe(0);
  });

  test("more held beats less, whatever the tie-break", () => {
    expect(makeStrength(false, false, 51, 100, 0)).toBeGreaterThan(makeStrength(false, false, 50, 100, 0xffff));
    expect(makeStrength(false, false, 1, 4000000000, 0)).toBeGreaterThanOrEqual(makeStrength(false, false, 0, 4000000000, 0));
    expect(makeStrength(false, false, 3000000000, 4000000000, 0)).toBeGreaterThan(makeStrength(false, false, 2000000000, 4000000000, 0xffff));
    expect(makeStrength(false, false, 5, 0, 0x1234)).toBe(0x1234); // size unknown: nothing held
  });

  test("confirmed beats everything else; the tie-break is 16 bits", () => {
    const c = makeStrength(true, false, 0, 100, 0);
    expect(c).toBeGreaterThan(makeStrength(false, true, 100, 100, 0xffff));
    expect(c).toBe(STRENGTH_CONFIRMED);
    expect(makeStrength(false, false, 0, 100, 0x12345678)).toBe(0x5678);
    expect(makeStrength(true, true, 100, 100, 0xffff)).toBe(0xffffffff);
  });

  test("stronger() compares unsigned, then breaks ties on the address", () => {
    expect(stronger(0x80000000, 1, 0x7fffffff, 9)).toBe(true);
    expect(stronger(0x7fffffff, 9, 0x80000000, 1)).toBe(false);
    expect(stronger(5, P2, 5, P1)).toBe(true);
    expect(stronger(5, P1, 5, P2)).toBe(false);
    expect(stronger(5, P1, 5, P1)).toBe(false);
  });
});
