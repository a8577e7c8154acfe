// merge.ts and the walks beside a role: a strength is only a claim (issue
// 10, 5b). A root that hears a stronger ROOT_AD keeps its server fetch and
// its children until the stronger tree has accepted it and delivered a
// checked block beyond its own offset; a claimed root that does not answer,
// or answers and delivers nothing, is avoided, and the root's fetch reads on
// from exactly where it was paused. A phone whose claimed root never answered
// turns skeptical: ROOT_ADs no longer stop its election.

import * as core from "../../assembly/core";
import { isAvoided, isSkeptical } from "../../assembly/avoid";
import { Candidate } from "../../assembly/candidate";
import { EV_CONFIRMED_ROOT, EV_MERGE, EV_MERGE_FAILED, EV_MERGE_PROVEN, MERGE_NO_BYTES, MERGE_SILENT } from "../../assembly/events";
import { hiers, NO_OFFSET, ROLE_ATTACHED, ROLE_CLAIMING, ROLE_DISCOVER, ROLE_JOINING, ROLE_ROOT } from "../../assembly/hierarchy";
import { MAX_SILENT_HOPS, MERGE_BACKOFF_MS, MERGE_PROVE_MS } from "../../assembly/limits";
import { OUT_CONNECT } from "../../assembly/outbox";
import { BLOCK_BYTES } from "../../assembly/relay";
import { STRENGTH_CONFIRMED, STRENGTH_VERIFIED } from "../../assembly/strength";
import {
  adCands, becomeRoot, clear, countEvent, dgRootAd, fileXid, findKind, frAccept, frDown, needFile, noBest, now, P1,
  P2, P8, P9, recA, recB, role, runUntil, setNow, step,
} from "./support";
import {
  blockAt, bootRelay, buildFrames, closes, connects, corrupts, dones, drain, feedBytes, feedServer, fetches, fetchHandle,
  flashAcked, flashDone, flashNext, lastConnectAddr, lastConnectHandle, lastJoinOffset, makeFile, malformed, mergeFailA,
  mergeFailN, mergeFails, mergeProofs, problems, rootRelay, serverPos, total, wire,
} from "./relay-support";

const LARGE: u32 = 200000; // 13 blocks
const FORGED: u32 = 0xffffffff;
const noCands = new StaticArray<Candidate>(0);
const stronger: u32 = STRENGTH_CONFIRMED | STRENGTH_VERIFIED | 0x3fff0000;

/** Reports every flash write asked for. */
function flashAll(): void {
  for (let i = 0; i < 200 && flashAcked < flashNext; i++) flashDone(flashNext - flashAcked);
}

/** A relaying root two blocks and 1000 unchecked bytes into its fetch. */
function fetchingRoot(): i32 {
  bootRelay();
  makeFile(LARGE, 31);
  rootRelay();
  feedServer(blockAt(2) + 1000, 700);
  flashAll();
  expect(serverPos).toBe(blockAt(2) + 1000);
  return fetchHandle;
}

/** The rest of the server stream, and flash, to the end: no bad byte anywhere. */
function finishFromServer(server: i32): void {
  expect(closes[server]).toBe(0);
  while (serverPos < total) {
    const fed = feedServer(total, 4096);
    flashAll();
    if (fed == 0) runUntil(now + 100);
  }
  flashAll();
  expect(corrupts).toBe(0);
  expect(malformed).toBe(0);
  expect(dones).toBe(1);
  expect(fetches).toBe(1); // one fetch from start to end: never asked again
  expect(problems()).toBe(0);
}

describe("a root that hears a forged ROOT_AD", () => {
  test("from an address that never answers TCP: keeps its fetch, fails the merge, avoids the forger", () => {
    const server = fetchingRoot();
    dgRootAd(P9, fileXid(), FORGED, noCands, 0);
    expect(countEvent(EV_MERGE)).toBe(1);
    drain();
    expect(role()).toBe(ROLE_ROOT); // a strength is only a claim
    expect(lastConnectAddr).toBe(P9);
    expect(closes[server]).toBe(0);
    expect(core.rxWindow(server)).toBeGreaterThan(0); // nothing paused: no JOIN went out
    feedServer(blockAt(4), 700); // the fetch goes on while the connect hangs
    flashAll();
    core.onStreamClosed(now, lastConnectHandle); // the connect fails
    drain();
    expect(mergeFails).toBe(1);
    expect(mergeFailN).toBe(<u32>MERGE_SILENT);
    expect(mergeFailA).toBe(P9);
    expect(isAvoided(P9, now)).toBe(true);
    // Its next ROOT_AD is ignored: no second attempt.
    const before = connects;
    dgRootAd(P9, fileXid(), FORGED, noCands, 0);
    drain();
    expect(connects).toBe(before);
    expect(role()).toBe(ROLE_ROOT);
    finishFromServer(server);
  });

  test("from rotating sources: one attempt at a time, the fetch never paused, never dropped", () => {
    const server = fetchingRoot();
    let attempts = 0;
    for (let i: u32 = 0; i < 24; i++) {
      setNow(now + 300);
      dgRootAd(0x0a010000 + i, fileXid(), FORGED, noCands, 0);
      drain();
      expect(role()).toBe(ROLE_ROOT);
      expect(core.rxWindow(server)).toBeGreaterThan(0);
      expect(hiers[0].mergeOff).toBe(NO_OFFSET);
      if (i % 3 == 2) {
        // Every third ad the attempt in flight fails: the next source is tried.
        core.onStreamClosed(now, lastConnectHandle);
        drain();
        attempts++;
      }
      feedServer(serverPos + 4000, 1000);
      flashAll();
    }
    expect(connects).toBeLessThanOrEqual(attempts + 1);
    finishFromServer(server);
  });

  test("that answers TCP and ACCEPTs but delivers nothing: paused at most MERGE_PROVE_MS, then read on exactly", () => {
    const server = fetchingRoot();
    const pinned = serverPos; // 1000 unchecked bytes beyond the checked ones
    dgRootAd(P9, fileXid(), FORGED, noCands, 0);
    drain();
    const h = lastConnectHandle;
    core.onStreamConnected(now, h);
    drain();
    expect(lastJoinOffset).toBe(pinned); // the new parent would go on from the server's last byte
    expect(core.rxWindow(server)).toBe(0); // the server waits for the outcome
    const path: StaticArray<u32> = [P9];
    frAccept(h, fileXid(), path, 1, FORGED);
    drain();
    expect(role()).toBe(ROLE_ATTACHED);
    expect(hiers[0].onTrial()).toBe(true);
    expect(closes[server]).toBe(0); // still its fetch
    // It keeps the link alive (DOWN every heartbeat) and sends no byte.
    const until = now + MERGE_PROVE_MS;
    while (now + 1000 < until) {
      runUntil(now + 1000);
      frDown(h, fileXid(), path, 1, noBest);
      drain();
      expect(role()).toBe(ROLE_ATTACHED);
      expect(core.rxWindow(server)).toBe(0);
    }
    runUntil(until);
    drain();
    expect(mergeFails).toBe(1);
    expect(mergeFailN).toBe(<u32>MERGE_NO_BYTES);
    expect(role()).toBe(ROLE_ROOT);
    expect(closes[h]).toBe(1);
    expect(isAvoided(P9, now)).toBe(true);
    // A merge that cost a pause backs off: another stronger ROOT_AD is not tried yet.
    const before = connects;
    adCands[0].set(P2, 1, 1, 5);
    dgRootAd(P1, fileXid(), stronger, adCands, 1);
    drain();
    expect(connects).toBe(before);
    setNow(now + MERGE_BACKOFF_MS);
    // The server's stream continues at exactly the pinned byte: every block checks.
    expect(core.rxWindow(server)).toBeGreaterThan(0);
    finishFromServer(server);
  });
});

describe("an honest merge", () => {
  test("proven by a checked block beyond our offset: the server fetch closes, the new parent finishes the file", () => {
    const server = fetchingRoot();
    const pinned = serverPos;
    adCands[0].set(P2, 2, 1, 5);
    dgRootAd(P1, fileXid(), stronger, adCands, 1);
    drain();
    expect(lastConnectAddr).toBe(P2);
    const h = lastConnectHandle;
    core.onStreamConnected(now, h);
    drain();
    expect(lastJoinOffset).toBe(pinned);
    const path: StaticArray<u32> = [P1, P2];
    frAccept(h, fileXid(), path, 2, stronger);
    drain();
    expect(hiers[0].onTrial()).toBe(true);
    // Bytes that do not complete a block prove nothing yet.
    let end = buildFrames(0, pinned, pinned + 2000, 2000);
    expect(feedBytes(h, wire, end, 4096)).toBe(end);
    expect(mergeProofs).toBe(0);
    expect(closes[server]).toBe(0);
    // The rest of block 2 checks: proven.
    end = buildFrames(0, pinned + 2000, blockAt(3), 4096);
    expect(feedBytes(h, wire, end, 4096)).toBe(end);
    expect(mergeProofs).toBe(1);
    expect(closes[server]).toBe(1); // the other root fetches for us all now
    expect(hiers[0].onTrial()).toBe(false);
    expect(role()).toBe(ROLE_ATTACHED);
    // Block by block, flash keeping up (the ring holds 8 blocks).
    for (let off = blockAt(3); off < total; off += BLOCK_BYTES) {
      const to = off + BLOCK_BYTES < total ? off + BLOCK_BYTES : total;
      end = buildFrames(0, off, to, BLOCK_BYTES);
      expect(feedBytes(h, wire, end, 4096)).toBe(end);
      flashAll();
    }
    expect(dones).toBe(1);
    expect(corrupts).toBe(0);
    expect(malformed).toBe(0);
    expect(problems()).toBe(0);
    // Well after the trial's time: nothing reverts.
    runUntil(now + 2 * MERGE_PROVE_MS);
    expect(mergeFails).toBe(0);
  });

  test("without a relay (trees only) the ACCEPT is proof enough", () => {
    bootRelay(); // one spec file, one set of table sizes
    becomeRoot();
    clear();
    adCands[0].set(P8, 1, 1, 5);
    dgRootAd(P9, fileXid(), 0xffff0000, adCands, 1);
    const h = <i32>recB(findKind(OUT_CONNECT));
    expect(recA(findKind(OUT_CONNECT))).toBe(P8);
    core.onStreamConnected(now, h);
    const path: StaticArray<u32> = [P9, P8];
    frAccept(h, fileXid(), path, 2);
    expect(role()).toBe(ROLE_ATTACHED);
    expect(countEvent(EV_MERGE_PROVEN)).toBe(1);
    expect(hiers[0].onTrial()).toBe(false);
  });
});

describe("joiners that hear forged ROOT_ADs", () => {
  test("a walk nobody answers gives up after MAX_SILENT_HOPS attempts and the claimed root itself, and turns the phone skeptical", () => {
    bootRelay();
    needFile(0);
    runUntil(10); // soliciting
    for (let i = 0; i < 4; i++) adCands[i].set(0x0a020001 + <u32>i, 1, 2, FORGED);
    dgRootAd(0x0a020000, fileXid(), FORGED, adCands, 4);
    expect(role()).toBe(ROLE_JOINING);
    let tries = 0;
    let last: u32 = 0;
    for (let guard = 0; guard < 20 && role() == ROLE_JOINING; guard++) {
      const c = findKind(OUT_CONNECT);
      if (c != 0) {
        tries++;
        last = recA(c);
        const h = <i32>recB(c);
        clear();
        core.onStreamClosed(now, h); // nobody there
      } else {
        step();
      }
    }
    // Two of the named slots, then the claimed root: never struck untried.
    expect(tries).toBe(MAX_SILENT_HOPS + 1);
    expect(last).toBe(0x0a020000);
    expect(role()).toBe(ROLE_DISCOVER);
    expect(isSkeptical(now)).toBe(true);
  });

  test("a skeptical phone confirms itself root although forged ROOT_ADs keep coming", () => {
    bootRelay();
    needFile(0);
    runUntil(10);
    dgRootAd(0x0a030000, fileXid(), FORGED, noCands, 0);
    const first = findKind(OUT_CONNECT);
    expect(first).not.toBe(0);
    core.onStreamClosed(now, <i32>recB(first));
    clear();
    expect(isSkeptical(now)).toBe(true);
    // A forged ROOT_AD from a new address every 200 ms, connects failing 100 ms later.
    let source: u32 = 0x0a030001;
    let pending = -1;
    let pendingAt: f64 = 0;
    let confirmed = false;
    for (let t = now; t < now + 4000 && !confirmed; t += 50) {
      runUntil(t);
      if ((<i32>t) % 200 == 0) dgRootAd(source++, fileXid(), FORGED, noCands, 0);
      const c = findKind(OUT_CONNECT);
      if (c != 0) {
        pending = <i32>recB(c);
        pendingAt = t;
      }
      if (pending >= 0 && t >= pendingAt + 100) {
        core.onStreamClosed(now, pending);
        pending = -1;
      }
      expect(role() == ROLE_DISCOVER || role() == ROLE_CLAIMING || role() == ROLE_ROOT).toBe(true);
      if (countEvent(EV_CONFIRMED_ROOT) > 0) confirmed = true;
      clear();
    }
    expect(confirmed).toBe(true);
  });
});
