// The binary tree of one hierarchy: joining, accepting and refusing children,
// the UP/DOWN summaries that flow along the links, repair when a parent
// vanishes, and rebalancing that keeps the tree shallow.
//
// Each link carries, every heartbeat and soon after any change:
//   UP   (child -> parent): the child's strength, subtree size and height, and
//        the shallowest free slots in its subtree;
//   DOWN (parent -> child): the child's ancestor path (root first) and the
//        shallowest free slot outside the child's subtree.
// A full phone refusing a joiner hands out its subtree's free slots and its
// children as hints, spreading a crowd of joiners down both sides.
// A leaf that learns of a free slot MOVE_MIN_GAIN or more levels above it moves
// there (make-before-break): at rest no such slot exists, which bounds the
// depth (docs/DESIGN.md). A phone never attaches below one of its
// descendants: the acceptor refuses a joiner found in its own ancestor path,
// and a DOWN path that contains ourselves breaks the link.

import * as cfg from "./config";
import { Candidate, insertCandidate, newCandidates } from "./candidate";
import { claimAfterRootLoss, dropTentativeFetch, enterDiscover } from "./role";
import {
  emit, EV_CHILD_ADDED, EV_CHILD_LOST, EV_JOINED, EV_LEFT, EV_MOVED, EV_PARENT_LOST, EV_REFUSED, MERGE_LOST, MERGE_REFUSED,
  MERGE_SILENT, PARENT_LOST_VERIFIED,
} from "./events";
import { Hier, hierIndex, hiers, NO_OFFSET, NO_STREAM, ROLE_ATTACHED, ROLE_CLAIMING, ROLE_JOINING, ROLE_ROOT } from "./hierarchy";
import {
  MAX_CHILDREN, MAX_DEPTH, MAX_JOIN_HOPS, MAX_SILENT_HOPS, MAX_SUBTREE_CANDIDATES, MAX_WIRE_CANDIDATES,
  FETCH_RETRY_MS, HEARTBEAT_EARLY_DIVISOR, MAX_MOVE_HOPS, MOVE_BACKOFF_MS, MOVE_JITTER_MS, MOVE_MIN_GAIN, REJOIN_BACKOFF_MS, REJOIN_JITTER_MS, UPDATE_MIN_GAP_MS,
} from "./limits";
import { allocLink, Link, LINK_CHILD, LINK_FREE, LINK_INBOUND, LINK_JOINING, LINK_PARENT, LINK_SERVER, links } from "./link";
import { avoid, avoidSilent, isAvoided, turnSkeptical } from "./avoid";
import { mergeAccepted, mergeDeadline, mergeFailed, mergeJoinOffset, mergeTimer, mergeUnpin } from "./merge";
import { childStarts, heldOffset, payloadWindow, pump, releaseStaging, releaseTransfer, rewind, startFetch, closeServer, transferDeadline, transferOf } from "./relay";
import { markDirty, markDownDirty, markUpDirty } from "./dirty";
import { rngBelow } from "./rng";
import { beginFrameOn, finish, requestClose, requestConnect } from "./send";
import {
  encodeAccept, encodeDown, encodeJoin, encodeRefuse, encodeUp, JOIN_MOVE, Msg,
  REFUSE_CYCLE, REFUSE_FULL, REFUSE_NOT_MEMBER, REFUSE_TOO_DEEP, T_ACCEPT, T_DOWN, T_JOIN, T_REFUSE, T_UP,
} from "./wire";

const tmp = new Candidate();
const fallback = new Candidate();
const upCands = newCandidates(MAX_SUBTREE_CANDIDATES);
const wireCands = newCandidates(MAX_WIRE_CANDIDATES);
const oneBest = newCandidates(1);

// ---------------------------------------------------------------- summaries

export function subtreeSize(h: Hier): u32 {
  let n: u32 = 1;
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c != NO_STREAM) n += unchecked(links[c]).childSize;
  }
  return n;
}

export function subtreeHeight(h: Hier): u32 {
  let height: u32 = 0;
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c != NO_STREAM) {
      const ch = unchecked(links[c]).childHeight + 1;
      if (ch > height) height = ch;
    }
  }
  return height;
}

function ilog2(v: u32): u32 {
  return v == 0 ? 0 : 31 - clz<u32>(v);
}

/** Where a joiner sent into child link `l`'s subtree would likely land: the
 *  frontier of a balanced subtree of that size, pushed down as joiners are
 *  sent there, so that hints alternate between the two sides. */
function hintDepth(h: Hier, l: Link): u32 {
  const est = <u32>h.depth() + 2 + ilog2(l.childSize + l.redirects);
  return est > <u32>MAX_DEPTH ? <u32>MAX_DEPTH : est;
}

/** Collects the best free slots of our subtree into `out` (sorted), from our
 *  own free child slots and what each child reported; returns the count.
 *  `except`: a child link whose subtree is left out. `slotsOnly`: without
 *  the hints that point into each child's subtree. */
export function gatherSubtree(h: Hier, out: StaticArray<Candidate>, includeSelf: bool, except: i32, slotsOnly: bool): i32 {
  let n = 0;
  const depth = h.depth();
  const free = MAX_CHILDREN - h.childCount();
  if (includeSelf && h.isMember() && free > 0 && depth + 1 < MAX_DEPTH) {
    tmp.set(cfg.selfAddr, <u32>(depth + 1), <u32>free, h.strength());
    n = insertCandidate(out, n, tmp);
  }
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM || c == except) continue;
    const l = unchecked(links[c]);
    for (let k = 0; k < l.nCands; k++) n = insertCandidate(out, n, unchecked(l.cands[k]));
    if (!slotsOnly) {
      tmp.set(l.peer, hintDepth(h, l), 0, l.childStrength);
      n = insertCandidate(out, n, tmp);
    }
  }
  return n;
}



/** The best free slot outside a child may have changed. Only a subtree deep
 *  enough to hold a leaf that would move there hears of it at once; the rest
 *  learn it with the next heartbeat. In a balanced tree no leaf can use a
 *  new slot, so a join does not send a wave of updates through the tree. */
export function markDownIfUseful(h: Hier): void {
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM) continue;
    const l = unchecked(links[c]);
    const best = bestOutsideOf(h, c);
    if (best.isSlot() && h.depth() + 1 + <i32>l.childHeight >= <i32>best.childDepth + MOVE_MIN_GAIN) l.dirty = true;
  }
}


function sendUp(handle: i32, l: Link, h: Hier, nowMs: f64): void {
  const n = gatherSubtree(h, upCands, true, -1, true);
  const w = beginFrameOn(handle);
  encodeUp(w, h.xid, h.strength(), subtreeSize(h), subtreeHeight(h), upCands, n);
  finish(w);
  l.lastTxMs = nowMs;
  l.dirty = false;
}

/** The best free slot outside child `handle`'s subtree: ours, its sibling's
 *  subtree's, or the best outside our own subtree. */
function bestOutsideOf(h: Hier, handle: i32): Candidate {
  const n = gatherSubtree(h, oneBest, true, handle, true);
  const mine = unchecked(oneBest[0]);
  if (n == 0) return h.bestOutside;
  return h.bestOutside.betterThan(mine) ? h.bestOutside : mine;
}

function sendDown(handle: i32, l: Link, h: Hier, nowMs: f64): void {
  const w = beginFrameOn(handle);
  encodeDown(w, h.xid, h.path, h.depth(), cfg.selfAddr, bestOutsideOf(h, handle));
  finish(w);
  l.lastTxMs = nowMs;
  l.dirty = false;
}

// ---------------------------------------------------------------- joining

/** Loads a walk from a ROOT_AD that `src` sent: its candidates, and the
 *  root itself last as a hint (it knows its tree even when the list is
 *  stale). `src` is the claimed root the walk has to find answering. */
export function walkFromAd(h: Hier, src: u32, m: Msg): void {
  resetWalk(h, src);
  addAdCandidates(h, src, m);
}

/** A walk toward a claimant (election.ts joinClaimant): it alone is the
 *  candidate, and the walk is no claimed root's: a claimant that yielded
 *  in the meantime refuses, which strikes nobody (walkExhausted). */
export function walkToClaimant(h: Hier, src: u32, strength: u32): void {
  resetWalk(h, 0);
  addHint(h, src, strength);
}

/** Adds a ROOT_AD's candidates (and its sender as a hint) to the walk. */
export function addAdCandidates(h: Hier, src: u32, m: Msg): void {
  for (let i = 0; i < m.nCand; i++) h.nCands = insertCandidate(h.cands, h.nCands, unchecked(m.cands[i]));
  addHint(h, src, m.strength);
}

/** A new walk, for the claimed root `walkRoot` (0: nobody's claim). */
function resetWalk(h: Hier, walkRoot: u32): void {
  h.nCands = 0;
  h.nTried = 0;
  h.hops = 0;
  h.walkRoot = walkRoot;
  h.walkAnswered = false;
}

/** The sender itself, tried after the slots it named: it knows its tree
 *  even when its list is stale. A new claim gets its own tries. */
function addHint(h: Hier, src: u32, strength: u32): void {
  fallback.set(src, <u32>MAX_DEPTH, 0, strength);
  h.nCands = insertCandidate(h.cands, h.nCands, fallback);
  h.silentHops = 0;
}

/** The classic walk, which owns the role (JOINING): tries the next
 *  candidate; with none left, starts over with discovery after a short
 *  random backoff. Our children stay with us. */
export function startJoinWalk(h: Hier, nowMs: f64): void {
  h.role = ROLE_JOINING;
  h.sideWalk = false;
  h.phaseMs = Infinity;
  continueWalk(h, nowMs);
}

/** A walk beside the role: a merging root, or a skeptical phone that goes on
 *  electing while it tries a claimed root (merge.ts, election.ts). */
export function startSideWalk(h: Hier, nowMs: f64): void {
  assert(h.role != ROLE_JOINING && h.joinStream == NO_STREAM); // a side walk starts beside the role, with no attempt in flight
  h.sideWalk = true;
  continueWalk(h, nowMs);
}

function continueWalk(h: Hier, nowMs: f64): void {
  assert(h.walking() && h.joinStream == NO_STREAM); // a walk goes on with no attempt in flight
  if (tryNextCandidate(h, nowMs)) return;
  walkExhausted(h, nowMs);
}

/** Connects to the best candidate not yet tried; false with none left. */
function tryNextCandidate(h: Hier, nowMs: f64): bool {
  while (h.nCands > 0) {
    tmp.copyFrom(unchecked(h.cands[0]));
    for (let i = 1; i < h.nCands; i++) unchecked(h.cands[i - 1]).copyFrom(unchecked(h.cands[i]));
    h.nCands--;
    if (tmp.addr == cfg.selfAddr || h.wasTried(tmp.addr) || isAvoided(tmp.addr, nowMs)) continue;
    if (h.hops >= MAX_JOIN_HOPS) break;
    // A claimed root whose candidates never answer is not worth a long walk,
    // but it is asked itself before it is struck as silent: the slots it
    // named can be stale or starved while it answers. (On the real-socket
    // site a phone powered up again met two silent slots of a complete tree,
    // struck its live root and, deaf to that root's ROOT_ADs for
    // AVOID_SILENT_MS, became a second root: the file crossed the WAN twice
    // until the merge.) A forged ROOT_AD costs one join timeout more.
    if (h.walkRoot != 0 && !h.walkAnswered && h.silentHops >= MAX_SILENT_HOPS && tmp.addr != h.walkRoot) continue;
    const handle = allocLink();
    if (handle < 0) break;
    const idx = hierIndex(h.xid);
    unchecked(links[handle]).open(LINK_JOINING, tmp.addr, idx, nowMs);
    h.markTried(tmp.addr);
    h.hops++;
    h.silentHops++;
    h.joinStream = handle;
    requestConnect(handle, tmp.addr);
    return true;
  }
  return false;
}

/** Nobody took us. A claimed root that nobody even answered for goes on the
 *  avoid list (a strength is only a claim), and this phone turns skeptical:
 *  later ROOT_ADs no longer stop its election (election.ts). */
function walkExhausted(h: Hier, nowMs: f64): void {
  const silent = h.walkRoot != 0 && !h.walkAnswered;
  if (silent) {
    if (!isAvoided(h.walkRoot, nowMs)) avoidSilent(h.walkRoot, nowMs); // unless its own attempt struck it
    turnSkeptical(nowMs);
  }
  h.walkRoot = 0;
  h.walkAnswered = false;
  h.nCands = 0;
  if (h.sideWalk) {
    h.sideWalk = false;
    if (h.role == ROLE_ROOT && h.mergeRoot != 0) mergeFailed(h, nowMs, silent ? MERGE_SILENT : MERGE_REFUSED);
    return; // a skeptical phone's election simply goes on
  }
  enterDiscover(h, nowMs, REJOIN_BACKOFF_MS, REJOIN_JITTER_MS);
}

function startMove(h: Hier, nowMs: f64): void {
  const handle = allocLink();
  h.nextMoveMs = nowMs + <f64>MOVE_BACKOFF_MS + <f64>rngBelow(MOVE_BACKOFF_MS);
  if (handle < 0) return;
  const l = unchecked(links[handle]);
  l.open(LINK_JOINING, h.bestOutside.addr, hierIndex(h.xid), nowMs);
  l.move = true;
  h.joinStream = handle;
  requestConnect(handle, h.bestOutside.addr);
}

function moveEligible(h: Hier): bool {
  return h.role == ROLE_ATTACHED && h.joinStream == NO_STREAM && h.childCount() == 0 && !h.onTrial() &&
    h.bestOutside.isSlot() && <i32>h.bestOutside.childDepth + MOVE_MIN_GAIN <= h.depth();
}

export function onLinkConnected(handle: i32, l: Link): void {
  l.connected = true;
  if (l.kind != LINK_JOINING) return;
  const h = unchecked(hiers[l.hier]);
  // A merging root asks for its bytes from where its server stream stops.
  const offset = l.move ? heldOffset(h) : mergeJoinOffset(h, heldOffset(h));
  const w = beginFrameOn(handle);
  encodeJoin(w, h.xid, h.strength(), l.move ? JOIN_MOVE : 0, subtreeSize(h), subtreeHeight(h), offset);
  finish(w);
}

// ---------------------------------------------------------------- frames

/** A decoded frame on link `handle`. Returns false when the frame was not
 *  acceptable on this link (the caller counts it and drops the link). */
export function onFrame(handle: i32, l: Link, m: Msg, nowMs: f64): bool {
  if (m.type == T_JOIN) {
    if (l.kind != LINK_INBOUND) return false;
    handleJoin(handle, l, m, nowMs);
    return true;
  }
  if (l.kind == LINK_INBOUND || l.hier < 0) return false;
  const h = unchecked(hiers[l.hier]);
  if (m.xid != h.xid) return false;
  if (m.type == T_ACCEPT && l.kind == LINK_JOINING) {
    handleAccept(handle, l, h, m, nowMs);
    return true;
  }
  if (m.type == T_REFUSE && l.kind == LINK_JOINING) {
    handleRefuse(handle, l, h, m, nowMs);
    return true;
  }
  if (m.type == T_DOWN && l.kind == LINK_PARENT) {
    handleDown(handle, h, m, nowMs);
    return true;
  }
  if (m.type == T_UP && l.kind == LINK_CHILD) {
    handleUp(l, h, m);
    return true;
  }
  return false;
}

function refuse(handle: i32, l: Link, xid: u32, h: Hier | null, reason: u32): void {
  let n = 0;
  if (h != null && reason == REFUSE_FULL) n = refusalCandidates(h);
  const w = beginFrameOn(handle);
  encodeRefuse(w, xid, reason, wireCands, n);
  finish(w);
  requestClose(handle);
  l.free();
}

/** Candidates for a refused joiner. The first one is "spent" (a slot's free
 *  count drops, or a hinted child counts one more redirect) so that the next
 *  refusal points elsewhere: concurrent joiners fan out. */
function refusalCandidates(h: Hier): i32 {
  const n = gatherSubtree(h, wireCands, false, -1, false);
  if (n == 0) return 0;
  const first = unchecked(wireCands[0]);
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM) continue;
    const l = unchecked(links[c]);
    if (!first.isSlot()) {
      if (l.peer == first.addr) l.redirects++;
      continue;
    }
    for (let k = 0; k < l.nCands; k++) {
      const e = unchecked(l.cands[k]);
      if (e.addr != first.addr) continue;
      if (e.free > 1) e.free--;
      else {
        for (let j = k + 1; j < l.nCands; j++) unchecked(l.cands[j - 1]).copyFrom(unchecked(l.cands[j]));
        l.nCands--;
      }
      return n;
    }
  }
  return n;
}

function handleJoin(handle: i32, l: Link, m: Msg, nowMs: f64): void {
  const idx = hierIndex(m.xid);
  if (idx < 0) {
    refuse(handle, l, m.xid, null, REFUSE_NOT_MEMBER);
    return;
  }
  const h = unchecked(hiers[idx]);
  if (!h.isMember() || h.direct) {
    refuse(handle, l, m.xid, h, REFUSE_NOT_MEMBER);
    return;
  }
  if (l.peer == cfg.selfAddr || h.hasAncestor(l.peer)) {
    refuse(handle, l, m.xid, h, REFUSE_CYCLE);
    return;
  }
  if (h.depth() + 1 + <i32>m.subtreeHeight >= MAX_DEPTH) {
    refuse(handle, l, m.xid, h, REFUSE_TOO_DEEP);
    return;
  }
  // A child re-joining before we noticed its old link die: that link is stale.
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c != NO_STREAM && unchecked(links[c]).peer == l.peer) dropLink(c, nowMs, true);
  }
  let slot = -1;
  for (let i = 0; i < MAX_CHILDREN; i++) if (unchecked(h.children[i]) == NO_STREAM) { slot = i; break; }
  if (slot < 0) {
    refuse(handle, l, m.xid, h, REFUSE_FULL);
    return;
  }
  l.kind = LINK_CHILD;
  l.hier = idx;
  l.childStrength = m.strength;
  l.childSize = m.subtreeSize == 0 ? 1 : m.subtreeSize;
  l.childHeight = m.subtreeHeight;
  l.redirects = 0;
  l.nCands = 0;
  if (l.childSize == 1 && h.depth() + 2 < MAX_DEPTH) {
    unchecked(l.cands[0]).set(l.peer, <u32>(h.depth() + 2), <u32>MAX_CHILDREN, m.strength);
    l.nCands = 1;
  }
  unchecked((h.children[slot] = handle));
  // Positive and negative space: the new child is in exactly one position,
  // never our parent, and the binary limit holds.
  assert(h.childCount() <= MAX_CHILDREN && h.parent != handle && h.joinStream != handle); // a child link is no other link of ours
  assert(unchecked(h.children[slot ^ 1]) != handle); // a child holds one position
  const w = beginFrameOn(handle);
  encodeAccept(w, h.xid, h.strength(), h.path, h.depth(), cfg.selfAddr);
  finish(w);
  l.lastTxMs = nowMs;
  emit(h.xid, EV_CHILD_ADDED, <u32>h.childCount(), l.peer, 0);
  markUpDirty(h);
  markDownIfUseful(h);
  // It resumes at the bytes it holds; we send from there on.
  childStarts(l, m.offset, h);
  pump(h, idx, nowMs);
}

function handleAccept(handle: i32, l: Link, h: Hier, m: Msg, nowMs: f64): void {
  for (let i = 0; i < m.pathLen; i++) {
    if (unchecked(m.path[i]) == cfg.selfAddr) {
      h.walkAnswered = true; // a race between two repairs, not silence
      h.walkRoot = 0;
      dropLink(handle, nowMs, true); // it would put us below ourselves
      return;
    }
  }
  if (l.move) {
    if (h.role != ROLE_ATTACHED) {
      dropLink(handle, nowMs, true);
      return;
    }
    const old = h.parent;
    if (old != NO_STREAM) {
      requestClose(old);
      unchecked(links[old]).free();
    }
    // We stopped reading the old parent when we asked to move: the new one
    // sends from the offset in our JOIN, so drop any partial block.
    const t = transferOf(h);
    if (t != null) rewind(t);
    emit(h.xid, EV_MOVED, <u32>m.pathLen, l.peer, unchecked(m.path[m.pathLen - 1]));
  } else {
    emit(h.xid, EV_JOINED, <u32>m.pathLen, l.peer, m.strength);
  }
  // A root's walk is a merge: on trial until its new parent delivers. A
  // claimant's side walk that lands ends its tentative fetch.
  const merging = !l.move && h.role == ROLE_ROOT;
  dropTentativeFetch(h, nowMs);
  l.kind = LINK_PARENT;
  l.move = false;
  h.parent = handle;
  h.joinStream = NO_STREAM;
  for (let i = 0; i < m.pathLen; i++) unchecked((h.path[i] = m.path[i]));
  h.pathLen = m.pathLen;
  h.role = ROLE_ATTACHED;
  h.phaseMs = Infinity;
  h.nCands = 0;
  h.nTried = 0;
  h.hops = 0;
  h.sideWalk = false;
  h.walkRoot = 0;
  h.walkAnswered = false;
  h.walkStartMs = Infinity;
  h.bestOutside.clear();
  h.nextMoveMs = Infinity;
  assert(!h.hasAncestor(cfg.selfAddr) && h.pathLen <= MAX_DEPTH); // an accepted path never holds ourselves
  if (merging) mergeAccepted(h, nowMs);
  markDirty(h);
}

function handleRefuse(handle: i32, l: Link, h: Hier, m: Msg, nowMs: f64): void {
  emit(h.xid, EV_REFUSED, m.reason, l.peer, <u32>m.nCand);
  const wasMove = l.move;
  // A refusal that says why counts as an answer; the claimed root itself
  // refusing with nothing to offer does not (a strength is only a claim).
  if (l.peer != h.walkRoot || m.nCand > 0 || m.reason == REFUSE_TOO_DEEP) h.walkAnswered = true;
  requestClose(handle);
  l.free();
  h.joinStream = NO_STREAM;
  mergeUnpin(h);
  if (wasMove) {
    // Stay where we are. If the refuser knows a free slot in its subtree that
    // is still worth moving to, try it next; else nextMoveMs backs off.
    for (let i = 0; i < m.nCand; i++) {
      const c = unchecked(m.cands[i]);
      if (c.isSlot() && <i32>c.childDepth + MOVE_MIN_GAIN <= h.depth() && h.hops < MAX_MOVE_HOPS) {
        h.bestOutside.copyFrom(c);
        h.hops++;
        h.nextMoveMs = nowMs;
        break;
      }
    }
    return;
  }
  if (!h.walking()) return;
  // The refuser's subtree joins what we knew: a stale slot must not pull us
  // down its branch when a sibling branch promised a shallower place.
  for (let i = 0; i < m.nCand; i++) h.nCands = insertCandidate(h.cands, h.nCands, unchecked(m.cands[i]));
  continueWalk(h, nowMs);
}

function handleUp(l: Link, h: Hier, m: Msg): void {
  const size = m.subtreeSize == 0 ? 1 : m.subtreeSize;
  let changed = l.childSize != size || l.childHeight != m.subtreeHeight || l.nCands != m.nCand;
  l.childStrength = m.strength;
  l.childSize = size;
  l.childHeight = m.subtreeHeight;
  l.redirects = 0;
  const n = m.nCand < MAX_SUBTREE_CANDIDATES ? m.nCand : MAX_SUBTREE_CANDIDATES;
  for (let i = 0; i < n; i++) {
    const c = unchecked(m.cands[i]);
    const e = unchecked(l.cands[i]);
    if (i >= l.nCands || e.addr != c.addr || e.childDepth != c.childDepth || e.free != c.free) changed = true;
    e.copyFrom(c);
  }
  l.nCands = n;
  if (changed) {
    markUpDirty(h);
    markDownIfUseful(h); // the sibling's best outside slot may have moved
  }
}

function handleDown(handle: i32, h: Hier, m: Msg, nowMs: f64): void {
  let pathChanged = m.pathLen != h.pathLen;
  for (let i = 0; i < m.pathLen; i++) {
    const a = unchecked(m.path[i]);
    if (a == cfg.selfAddr) {
      dropLink(handle, nowMs, true); // a cycle formed during repair: break it
      return;
    }
    if (!pathChanged && unchecked(h.path[i]) != a) pathChanged = true;
  }
  if (pathChanged) {
    for (let i = 0; i < m.pathLen; i++) unchecked((h.path[i] = m.path[i]));
    h.pathLen = m.pathLen;
    markDirty(h); // our own free slot moved with us; our children need the path
  }
  assert(!h.hasAncestor(cfg.selfAddr) && h.pathLen <= MAX_DEPTH); // a phone is never its own ancestor
  const b = h.bestOutside;
  const changed = b.addr != m.best.addr || b.childDepth != m.best.childDepth || b.free != m.best.free;
  b.copyFrom(m.best);
  if (changed) {
    h.hops = 0; // fresh news: refused moves may try again
    markDownIfUseful(h);
  }
  if (moveEligible(h)) {
    if (h.nextMoveMs == Infinity) h.nextMoveMs = nowMs + <f64>rngBelow(MOVE_JITTER_MS);
  } else if (h.joinStream == NO_STREAM) {
    h.nextMoveMs = Infinity;
  }
}

// ---------------------------------------------------------------- losing links

/** Forgets link `handle` and reacts to what it was. `tellHost`: we are the
 *  ones closing it, so the host must close its socket (OUT_CLOSE). */
export function dropLink(handle: i32, nowMs: f64, tellHost: bool): void {
  const l = unchecked(links[handle]);
  const kind = l.kind;
  if (kind == LINK_FREE) return;
  const peer = l.peer;
  const move = l.move;
  const hi = l.hier;
  if (tellHost) requestClose(handle);
  l.free();
  if (kind == LINK_CHILD) releaseStaging(handle);
  if (hi < 0 || kind == LINK_INBOUND) return;
  const h = unchecked(hiers[hi]);
  if (kind == LINK_SERVER) {
    if (h.server != handle) return;
    h.server = NO_STREAM;
    const t = transferOf(h);
    if (t != null) {
      // While a merge JOIN is out its offset stands on these bytes: the
      // merge's outcome decides what becomes of them (merge.ts).
      if (h.mergeOff == NO_OFFSET) rewind(t);
      if (!t.complete && t.verifiedOff < t.total) h.fetchRetryMs = nowMs + FETCH_RETRY_MS;
    }
    return;
  }
  if (kind == LINK_JOINING) {
    if (h.joinStream != handle) return;
    h.joinStream = NO_STREAM;
    mergeUnpin(h);
    // A slot a ROOT_AD offered that ended without an answer (no connect, no
    // JOIN answered): a dead phone or a forger's address, avoided a while.
    if (!move && h.walkRoot != 0) avoidSilent(peer, nowMs);
    if (!move && h.walking()) continueWalk(h, nowMs);
    return;
  }
  if (kind == LINK_CHILD) {
    for (let i = 0; i < MAX_CHILDREN; i++) if (unchecked(h.children[i]) == handle) unchecked((h.children[i] = NO_STREAM));
    assert(unchecked(h.children[0]) != handle && unchecked(h.children[1]) != handle); // a lost child holds no position
    emit(h.xid, EV_CHILD_LOST, <u32>h.childCount(), peer, 0);
    markUpDirty(h);
    markDownIfUseful(h);
    return;
  }
  if (kind == LINK_PARENT) {
    if (h.parent != handle) return;
    h.parent = NO_STREAM;
    const t = transferOf(h);
    // A partial block from it cannot be checked; on trial, the failed merge
    // discards just what this parent sent (merge.ts).
    if (t != null && !h.onTrial()) rewind(t);
    const holder = h.verified && !h.onTrial();
    emit(h.xid, EV_PARENT_LOST, <u32>h.pathLen, peer, holder ? PARENT_LOST_VERIFIED : 0);
    if (h.onTrial()) mergeFailed(h, nowMs, MERGE_LOST);
    else if (holder && h.role == ROLE_ATTACHED) standForRoot(h, nowMs);
    else if (h.role == ROLE_ATTACHED) repair(h, nowMs);
  }
}

/** Our parent vanished while we hold the file verified: we need nothing
 *  from the tree, so we do not walk back to our grandparent, which finished
 *  before us and is the next to end its linger (a tree dissolves from the
 *  top as lingers end). We are left only to serve late peers, and they find
 *  a hierarchy through a root's ROOT_AD: a holder nobody advertises serves
 *  nobody. So we claim the root at once, keeping our children, as the
 *  root's own children do: a root still there answers the CLAIM with a
 *  ROOT_AD and we yield into its tree (election.ts); with none, the
 *  strongest holder becomes the root the late peers find. */
function standForRoot(h: Hier, nowMs: f64): void {
  assert(h.verified && h.parent == NO_STREAM && h.role == ROLE_ATTACHED); // only a holder with no parent stands
  if (h.joinStream != NO_STREAM) {
    dropLink(h.joinStream, nowMs, true); // a move in flight: we are not moving any more
  }
  h.nextMoveMs = Infinity;
  claimAfterRootLoss(h, nowMs);
  assert(h.joinStream == NO_STREAM && h.role == ROLE_CLAIMING); // claiming, children kept, no walk
}

/** Our parent vanished. Below the root's children we re-join, keeping our
 *  subtree: first at our grandparent, whose slot just freed, then wherever
 *  the walk leads. The root's children instead elect a successor. */
function repair(h: Hier, nowMs: f64): void {
  if (h.joinStream != NO_STREAM) {
    dropLink(h.joinStream, nowMs, true); // a move in flight: its target is stale too
  }
  if (h.pathLen <= 1) {
    claimAfterRootLoss(h, nowMs);
    return;
  }
  h.nCands = 0;
  h.nTried = 0;
  h.hops = 0;
  h.walkRoot = 0; // a repair: our grandparent and root are no claims
  h.walkAnswered = false;
  tmp.set(unchecked(h.path[h.pathLen - 2]), <u32>(h.pathLen - 1), 1, 0xffffffff);
  h.nCands = insertCandidate(h.cands, h.nCands, tmp);
  tmp.set(unchecked(h.path[0]), <u32>MAX_DEPTH, 0, 0);
  h.nCands = insertCandidate(h.cands, h.nCands, tmp);
  startJoinWalk(h, nowMs);
}

/** A source sent bytes that failed their check: avoid it (a peer) and drop
 *  it; a parent's children re-join, a server fetch starts again. */
export function lostSource(handle: i32, nowMs: f64): void {
  const l = unchecked(links[handle]);
  if (l.kind == LINK_PARENT) avoid(l.peer, nowMs);
  dropLink(handle, nowMs, true);
}


/** Leaves hierarchy `h` entirely (linger over, or the host released it). */
export function leave(h: Hier, nowMs: f64): void {
  const idx = hierIndex(h.xid);
  for (let i = 0, n = links.length; i < n; i++) {
    const l = unchecked(links[i]);
    if (l.kind != LINK_FREE && l.hier == idx) {
      if (l.kind == LINK_CHILD) releaseStaging(i);
      requestClose(i);
      l.free();
    }
  }
  releaseTransfer(h);
  emit(h.xid, EV_LEFT, 0, 0, 0);
  h.reset();
}

// ---------------------------------------------------------------- timers

/** Is the parent link `handle` blocked by our full ring (window 0)? */
function parentStalled(handle: i32): bool {
  const l = unchecked(links[handle]);
  if (l.payloadLeft == 0 || l.hier < 0) return false;
  const h = unchecked(hiers[l.hier]);
  const t = transferOf(h);
  return t != null && payloadWindow(h, t, l.payloadLeft) == 0;
}

export function linkTimer(handle: i32, l: Link, nowMs: f64): void {
  if (l.kind == LINK_SERVER) return; // the host reports how a fetch ends
  // Deadlines are compared in the same form linkDeadline computes them
  // (a + b <= now, never now - a >= b): with floats the two can disagree by
  // one ulp, and a timer that fires but finds nothing due would spin.
  if (l.kind == LINK_INBOUND || l.kind == LINK_JOINING) {
    if (nowMs >= l.openedMs + cfg.joinTimeoutMs) dropLink(handle, nowMs, true);
    return;
  }
  // While our own ring is full we read nothing from our parent, heartbeats
  // included: that silence is ours, not the parent's.
  if (l.kind == LINK_PARENT && parentStalled(handle)) l.lastRxMs = nowMs;
  if (nowMs >= l.lastRxMs + cfg.peerTimeoutMs) {
    dropLink(handle, nowMs, true);
    return;
  }
  // A heartbeat due soon goes out now, with whatever woke us: one wake-up
  // then serves all the links of a phone instead of one each.
  const early = cfg.heartbeatMs / HEARTBEAT_EARLY_DIVISOR;
  if (nowMs >= l.lastTxMs + (cfg.heartbeatMs - early) || (l.dirty && nowMs >= l.lastTxMs + UPDATE_MIN_GAP_MS)) {
    const h = unchecked(hiers[l.hier]);
    if (l.kind == LINK_PARENT) sendUp(handle, l, h, nowMs);
    else sendDown(handle, l, h, nowMs);
  }
}

export function linkDeadline(l: Link): f64 {
  if (l.kind == LINK_FREE || l.kind == LINK_SERVER) return Infinity;
  if (l.kind == LINK_INBOUND || l.kind == LINK_JOINING) return l.openedMs + cfg.joinTimeoutMs;
  const send = l.lastTxMs + (l.dirty ? UPDATE_MIN_GAP_MS : cfg.heartbeatMs);
  return Math.min(send, l.lastRxMs + cfg.peerTimeoutMs);
}

export function treeTimer(h: Hier, nowMs: f64): void {
  if (nowMs >= h.lingerUntilMs) {
    leave(h, nowMs);
    return;
  }
  mergeTimer(h, nowMs);
  // A fetch starts from the checked bytes; while a merge JOIN pins the
  // receive offset above them it waits for the merge's outcome.
  if (nowMs >= h.fetchRetryMs && h.mergeOff == NO_OFFSET) {
    h.fetchRetryMs = Infinity;
    // A tentative fetch that failed waits for its confirmation (confirmRoot).
    if (h.role == ROLE_ROOT) startFetch(h, hierIndex(h.xid), nowMs);
  }
  if (nowMs >= h.nextMoveMs && h.joinStream == NO_STREAM) {
    if (moveEligible(h)) startMove(h, nowMs);
    else h.nextMoveMs = Infinity;
  }
}

export function treeDeadline(h: Hier): f64 {
  const move = h.joinStream == NO_STREAM ? h.nextMoveMs : Infinity;
  const fetch = h.mergeOff == NO_OFFSET ? h.fetchRetryMs : Infinity;
  return Math.min(Math.min(Math.min(move, h.lingerUntilMs), Math.min(fetch, mergeDeadline(h))), transferDeadline(h));
}
