// A phone's way into the two election roles, shared by the election that
// drives them (election.ts) and the tree that falls back on them (tree.ts:
// a failed walk discovers again, an orphan of the root claims at once).
// It imports neither, so the core's inputs descend through it.

import * as cfg from "./config";
import { emit, EV_CLAIM, EV_FETCH } from "./events";
import { Hier, hierIndex, NO_STREAM, ROLE_CLAIMING, ROLE_DISCOVER } from "./hierarchy";
import { TENTATIVE_FETCH_AD } from "./limits";
import { BROADCAST_ADDR } from "./outbox";
import { closeServer, startFetch, transferOf } from "./relay";
import { rngBelow } from "./rng";
import { beginDatagram, finish } from "./send";
import { encodeClaim } from "./wire";

/** Start (or restart) looking for this hierarchy after `delayMs` plus jitter:
 *  phones reset in bulk must not all speak in the same millisecond. */
export function enterDiscover(h: Hier, nowMs: f64, delayMs: u32, jitterMs: u32): void {
  assert(h.joinStream == NO_STREAM && !h.sideWalk); // discovery starts with no walk in flight
  h.role = ROLE_DISCOVER;
  h.solicits = 0;
  h.ad = 0;
  h.nCands = 0;
  h.nTried = 0;
  h.hops = 0;
  h.phaseMs = nowMs + <f64>delayMs + <f64>rngBelow(jitterMs);
}

export function enterClaiming(h: Hier, nowMs: f64, fetchNow: bool): void {
  h.role = ROLE_CLAIMING;
  h.ad = 0;
  sendClaim(h);
  h.phaseMs = nowMs + cfg.adIntervalMs;
  h.firstClaim = fetchNow;
  fetchTentatively(h, nowMs);
}

/** At its Ad TENTATIVE_FETCH_AD a first claimant that still stands starts
 *  fetching (limits.ts says why then). A skeptical claimant's side walk
 *  stands on the bytes it holds now: it fetches once confirmed, as after a
 *  root loss. */
export function fetchTentatively(h: Hier, nowMs: f64): void {
  if (!h.firstClaim || h.ad != TENTATIVE_FETCH_AD || h.verified || h.sideWalk || transferOf(h) == null) return;
  emit(h.xid, EV_FETCH, 1, h.sizeBytes, h.heldBytes);
  startFetch(h, hierIndex(h.xid), nowMs);
}

/** A claimant that yields gives its tentative fetch up; what it checked
 *  stays, and its walk or next claim starts from there. */
export function dropTentativeFetch(h: Hier, nowMs: f64): void {
  if (h.role == ROLE_CLAIMING && h.server != NO_STREAM) closeServer(h, nowMs);
}

/** The successor election after our parent, the root, vanished: we claim at
 *  once, keeping our children; the strongest orphan wins. */
export function claimAfterRootLoss(h: Hier, nowMs: f64): void {
  h.claimAddr = 0;
  h.claimStrength = 0;
  h.claimMs = -Infinity;
  enterClaiming(h, nowMs, false);
}

export function sendClaim(h: Hier): void {
  const s = h.strength();
  const w = beginDatagram(BROADCAST_ADDR);
  encodeClaim(w, h.xid, s, <u32>h.ad);
  finish(w);
  emit(h.xid, EV_CLAIM, <u32>h.ad, s, 0);
}

