// Root election and discovery for one hierarchy, over UDP broadcasts.
//
//   DISCOVER --(no root heard, no stronger claim)--> CLAIMING --(Ad 4 + 250 ms)--> ROOT
//      |  ^                                            |
//      |  +-------(a stronger claim: yield)------------+
//      +--(ROOT_AD heard)--> JOINING (tree.ts)
//
// A confirmed root advertises itself (ROOT_AD) every rootAdIntervalMs and
// when asked (SOLICIT, a foreign CLAIM). Two confirmed roots for one
// hierarchy hear each other's ROOT_AD; the weaker merges into the stronger's
// tree, keeping its own subtree. Timers follow the vendor's console log
// (FACTS.md): claim, Ad 1..4 every 250 ms, confirm ~1.25 s after the claim.
//
// Unlike the vendor, a first claimant fetches while it claims (a tentative
// fetch, role.ts): the 1.25 s of claiming is 4 % of a 7961 load at 2 Mbit/s,
// and the WAN is what a site waits for. Between claims of equal holdings the
// older wins (strength.ts claimBeats), and the bytes a claimant checks raise
// its strength, so a later claimant yields to it; a claimant that yields
// drops its fetch at once and keeps what it checked (docs/DESIGN.md). A
// successor election after a root loss does not fetch until confirmed:
// there every orphan claims at once, and each would fetch the same bytes.

import * as cfg from "./config";
import { newCandidates } from "./candidate";
import { emit, EV_CONFIRMED_ROOT, EV_FETCH, EV_ROOT_AD, EV_SOLICIT, EV_YIELD } from "./events";
import { Hier, hierIndex, NO_STREAM, ROLE_CLAIMING, ROLE_DISCOVER, ROLE_JOINING, ROLE_ROOT } from "./hierarchy";
import { CLAIM_ADS, CLAIM_WAIT_INTERVALS, JOIN_SPREAD_MS, TENTATIVE_FETCH_AD, MAX_WIRE_CANDIDATES, ROOT_AD_MIN_GAP_MS, SOLICIT_SUPPRESS_MS, SOLICITS_PER_ROUND } from "./limits";
import { BROADCAST_ADDR } from "./outbox";
import { rngBelow } from "./rng";
import { beginDatagram, finish } from "./send";
import { claimBeats, holdsMore, stronger } from "./strength";
import { markDirty } from "./dirty";
import { addAdCandidates, dropLink, gatherSubtree, startJoinWalk, startSideWalk, walkFromAd, walkToClaimant } from "./tree";
import { dropTentativeFetch, enterClaiming, fetchTentatively, sendClaim } from "./role";
import { isAvoided, isSkeptical } from "./avoid";
import { mergeBegin, mergeWanted } from "./merge";
import { startFetch } from "./relay";
import { encodeRootAd, encodeSolicit, Msg, T_CLAIM, T_ROOT_AD, T_SOLICIT } from "./wire";

const adCands = newCandidates(MAX_WIRE_CANDIDATES);

function claimWaitMs(): f64 {
  return cfg.adIntervalMs * CLAIM_WAIT_INTERVALS;
}

function confirmRoot(h: Hier, nowMs: f64): void {
  // A skeptical claimant's side walk asked with the offset of a phone that
  // fetches nothing; as a root it merges, if at all, from a fresh ROOT_AD.
  if (h.sideWalk) {
    h.sideWalk = false;
    h.walkStartMs = Infinity;
    h.nCands = 0;
    h.walkRoot = 0; // abandoned, not unanswered: nobody is avoided for it
    if (h.joinStream != NO_STREAM) dropLink(h.joinStream, nowMs, true);
  }
  h.role = ROLE_ROOT;
  h.pathLen = 0;
  h.phaseMs = Infinity;
  h.bestOutside.clear();
  h.nextMoveMs = Infinity;
  emit(h.xid, EV_CONFIRMED_ROOT, 0, h.strength(), 0);
  // A tentative fetch goes on; otherwise the fetch starts now.
  if (!h.verified && h.server == NO_STREAM) {
    emit(h.xid, EV_FETCH, 0, h.sizeBytes, h.heldBytes);
    startFetch(h, hierIndex(h.xid), nowMs);
  }
  sendRootAd(h, nowMs);
  markDirty(h);
}

export function sendRootAd(h: Hier, nowMs: f64): void {
  const n = gatherSubtree(h, adCands, true, -1, true);
  const w = beginDatagram(BROADCAST_ADDR);
  encodeRootAd(w, h.xid, h.strength(), h.sizeBytes, adCands, n);
  finish(w);
  h.lastRootAdMs = nowMs;
  h.nextRootAdMs = nowMs + cfg.rootAdIntervalMs;
  h.rootAdWanted = false;
  emit(h.xid, EV_ROOT_AD, <u32>n, h.strength(), 0);
}

/** Leaves election for the tree: the candidates of a ROOT_AD, with the root
 *  itself last as a hint (it knows its tree even when the list is stale). */
function joinFromAd(h: Hier, src: u32, m: Msg, nowMs: f64): void {
  walkFromAd(h, src, m);
  startJoining(h, nowMs);
}

/** Leaves election for the tree toward a claimant, as joinFromAd does
 *  toward a confirmed root. */
function joinClaimant(h: Hier, src: u32, strength: u32, nowMs: f64): void {
  walkToClaimant(h, src, strength);
  startJoining(h, nowMs);
}

/** One ROOT_AD or CLAIM reaches every waiting joiner at once: a random start
 *  spreads the crowd so the first phones it asks are not swamped (the walk
 *  starts in electionTimer). A tentative fetch of ours ends: the JOIN asks
 *  from what it checked. */
function startJoining(h: Hier, nowMs: f64): void {
  dropTentativeFetch(h, nowMs);
  h.role = ROLE_JOINING;
  h.phaseMs = nowMs + <f64>rngBelow(JOIN_SPREAD_MS);
}

/** A rival claim (or, ad -1, a solicitation from a phone holding more than
 *  we do) heard while we are not root. */
function heardClaim(h: Hier, src: u32, strength: u32, ad: i32, nowMs: f64): void {
  // Our own Ads will beat a claim that does not beat ours; a tentative
  // root is not unseated by a later claim of equal holding (strength.ts).
  const ours = h.role == ROLE_CLAIMING ? <i32>h.ad : -1;
  if (!claimBeats(strength, src, ad, h.strength(), cfg.selfAddr, ours)) return;
  const stale = nowMs - h.claimMs > claimWaitMs();
  if (stale || h.claimAddr == src || stronger(strength, src, h.claimStrength, h.claimAddr)) {
    h.claimAddr = src;
    h.claimStrength = strength;
    h.claimMs = nowMs;
  }
  if (h.role == ROLE_CLAIMING) emit(h.xid, EV_YIELD, 0, src, strength);
  if (h.role != ROLE_CLAIMING && h.role != ROLE_DISCOVER) return;
  // A claim that stood an interval (limits.ts TENTATIVE_FETCH_AD) we join
  // at once, as a child of a tentative root: what its fetch brings reaches
  // us as it comes, and its death before it confirms costs the WAN nothing
  // twice (we stand as its successor with those bytes, tree.ts repair). A
  // skeptical phone, which once met a claimed root that never answered,
  // waits for the ROOT_AD.
  if (ad >= TENTATIVE_FETCH_AD && h.claimAddr == src && !isSkeptical(nowMs) && !h.sideWalk) {
    joinClaimant(h, src, strength, nowMs);
    return;
  }
  if (h.role == ROLE_CLAIMING) {
    // Wait for the stronger claimant to confirm; its ROOT_AD lets us join.
    // If it goes quiet, DISCOVER's timer re-evaluates and may claim again.
    dropTentativeFetch(h, nowMs);
    h.role = ROLE_DISCOVER;
    h.solicits = SOLICITS_PER_ROUND;
    h.phaseMs = nowMs + claimWaitMs();
  }
}

/** A datagram for hierarchy `h` from `src` (never ourselves). */
export function electionOnDatagram(h: Hier, src: u32, m: Msg, nowMs: f64): void {
  if (h.direct) return; // no PFS for this file
  // A root that sent us bad bytes is not a root we join.
  if (m.type == T_ROOT_AD && isAvoided(src, nowMs)) return;
  const mine = h.strength();
  if (m.type == T_SOLICIT) {
    h.heardSolicitMs = nowMs;
    if (h.role == ROLE_ROOT) h.rootAdWanted = true;
    // A phone that holds more than we do will claim after its solicitations
    // and win: waiting for it spares a tentative fetch it would end.
    else if (holdsMore(m.strength, mine)) heardClaim(h, src, m.strength, -1, nowMs);
    return;
  }
  if (m.type == T_CLAIM) {
    if (h.role == ROLE_ROOT) {
      h.rootAdWanted = true; // tell the claimant a root exists
      return;
    }
    heardClaim(h, src, m.strength, <i32>m.ad, nowMs);
    return;
  }
  if (m.type == T_ROOT_AD) {
    if (h.role == ROLE_ROOT) {
      if (stronger(m.strength, src, mine, cfg.selfAddr)) {
        // A strength is only a claim: we keep our fetch and our children
        // until that tree has taken us and delivers (merge.ts).
        if (mergeWanted(h, nowMs, m.strength)) {
          walkFromAd(h, src, m);
          mergeBegin(h, src, m.strength);
          startSideWalk(h, nowMs);
        } else if (h.sideWalk) {
          addAdCandidates(h, src, m); // one merge at a time: these are tried next
        }
      } else {
        h.rootAdWanted = true; // make sure the weaker root hears us
      }
      return;
    }
    // A tentative root gives its fetch up to a root it hears (joinFromAd,
    // skepticalWalk), keeping what it checked: a root can answer late (a
    // starved phone's loop, a lost SOLICIT), and a claimant that went on
    // fetching beside a tree kept the WAN busy twice until it merged. A
    // forged ROOT_AD costs at most this one claim's fetch: the fetch is not
    // taken up again before the confirmation, and a silent claimed root is
    // avoided (tree.ts walkExhausted).
    if (h.role == ROLE_DISCOVER || h.role == ROLE_CLAIMING) {
      if (isSkeptical(nowMs)) {
        skepticalWalk(h, src, m, nowMs);
        return;
      }
      if (h.role == ROLE_CLAIMING) emit(h.xid, EV_YIELD, 1, src, m.strength);
      joinFromAd(h, src, m, nowMs);
    }
    // JOINING: a walk is in flight; ATTACHED: our root speaks for us.
  }
}

/** A skeptical phone (an earlier claimed root never answered) tries the
 *  root of this ROOT_AD beside its election instead of giving its election
 *  up for it: forged ROOT_ADs then cannot keep a subnet from ever electing
 *  a root. An ACCEPT still attaches it at once. */
function skepticalWalk(h: Hier, src: u32, m: Msg, nowMs: f64): void {
  dropTentativeFetch(h, nowMs); // the walk's JOIN asks from the checked bytes
  if (h.sideWalk) {
    addAdCandidates(h, src, m); // one walk at a time: it tries these next
    return;
  }
  walkFromAd(h, src, m);
  h.sideWalk = true;
  // Like any crowd released by one ROOT_AD, start spread out.
  h.walkStartMs = nowMs + <f64>rngBelow(JOIN_SPREAD_MS);
}

/** Election timers of one hierarchy; extra or early calls do nothing. */
export function electionTimer(h: Hier, nowMs: f64): void {
  if (h.direct) return;
  if (h.sideWalk && h.joinStream == NO_STREAM && nowMs >= h.walkStartMs) {
    h.walkStartMs = Infinity;
    h.sideWalk = false;
    startSideWalk(h, nowMs); // a skeptical phone's walk, beside its election
  }
  if (h.role == ROLE_ROOT) {
    if (nowMs >= h.nextRootAdMs || (h.rootAdWanted && nowMs >= h.lastRootAdMs + ROOT_AD_MIN_GAP_MS)) sendRootAd(h, nowMs);
    return;
  }
  if (nowMs < h.phaseMs) return;
  if (h.role == ROLE_JOINING) {
    if (h.joinStream == NO_STREAM) startJoinWalk(h, nowMs);
    return;
  }
  if (h.role == ROLE_DISCOVER) {
    if (h.solicits < SOLICITS_PER_ROUND) {
      if (nowMs - h.heardSolicitMs >= SOLICIT_SUPPRESS_MS) {
        const w = beginDatagram(BROADCAST_ADDR);
        encodeSolicit(w, h.xid, h.strength());
        finish(w);
        emit(h.xid, EV_SOLICIT, <u32>h.solicits, h.strength(), 0);
      }
      h.solicits++;
      h.phaseMs = nowMs + cfg.adIntervalMs;
      return;
    }
    // A claim that beats ours is standing: give it time to confirm.
    if (h.claimAddr != 0 && nowMs < h.claimMs + claimWaitMs() && stronger(h.claimStrength, h.claimAddr, h.strength(), cfg.selfAddr)) {
      h.phaseMs = h.claimMs + claimWaitMs();
      return;
    }
    enterClaiming(h, nowMs, true);
    return;
  }
  if (h.role == ROLE_CLAIMING) {
    if (h.ad < CLAIM_ADS) {
      h.ad++;
      sendClaim(h);
      h.phaseMs = nowMs + cfg.adIntervalMs;
      fetchTentatively(h, nowMs);
      return;
    }
    confirmRoot(h, nowMs);
  }
}

export function electionDeadline(h: Hier): f64 {
  if (h.role == ROLE_JOINING && h.joinStream == NO_STREAM) return h.phaseMs;
  if (h.role == ROLE_ROOT) {
    const asked = h.rootAdWanted ? h.lastRootAdMs + ROOT_AD_MIN_GAP_MS : Infinity;
    return Math.min(h.nextRootAdMs, asked);
  }
  if (h.role == ROLE_DISCOVER || h.role == ROLE_CLAIMING) return Math.min(h.phaseMs, h.walkStartMs);
  return Infinity;
}

