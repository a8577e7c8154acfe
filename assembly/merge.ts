// Merging a root under a stronger one, where the stronger one's strength is
// only a claim (issue 10, 5b: a few forged 17-byte ROOT_ADs with strength
// ffffffff used to make every root drop its server fetch, again and again).
//
//   ROOT --stronger ROOT_AD--> ROOT + merge walk (fetch and children kept)
//        --JOIN out--> the server stream is not read (recvOff pinned: mergeOff)
//        --ACCEPT--> ATTACHED on trial (the fetch is still open, paused)
//        --a checked block beyond mergeOff arrives--> proven: the fetch closes
//        --nothing by MERGE_PROVE_MS, link lost, refused, nobody answers-->
//          back to ROOT, the server stream read on from exactly mergeOff,
//          the claimed root avoided, no new merge for a growing backoff
//
// A root tries one merge at a time and never gives its fetch up before the
// new parent has delivered real bytes (they passed the block list's check),
// so forged ROOT_ADs from any number of rotating sources cost it nothing
// while they never answer TCP, and at most one trial per backoff when they
// do. A root with nothing left to fetch (no relay, or the file held) needs
// no proof: the ACCEPT is enough, as before.

import { emit, EV_MERGE, EV_MERGE_FAILED, EV_MERGE_PROVEN, MERGE_NO_BYTES } from "./events";
import { Hier, hierIndex, NO_OFFSET, NO_STREAM, ROLE_ATTACHED, ROLE_ROOT } from "./hierarchy";
import { MAX_MERGE_BACKOFF_SHIFT, MERGE_BACKOFF_MS, MERGE_PROVE_MS } from "./limits";
import { links } from "./link";
import { avoidSilent } from "./avoid";
import { closeServer, needsBytes, rewind, rewindTo, startFetch, transferOf } from "./relay";
import { requestClose } from "./send";
import { STRENGTH_VERIFIED } from "./strength";
import { markDirty } from "./dirty";

/** Whether root `h` should try to merge under a stronger root that
 *  advertised `strength`. */
export function mergeWanted(h: Hier, nowMs: f64, strength: u32): bool {
  assert(h.role == ROLE_ROOT); // only a root merges
  if (h.sideWalk || h.joinStream != NO_STREAM) return false; // one merge at a time
  if (nowMs < h.mergeAfterMs) return false; // backing off after a failure
  // Store-and-forward: a root that is not verified serves nothing yet, so it
  // could never prove itself while we still fetch; merge once it is.
  const t = transferOf(h);
  if (t != null && t.storeAndForward && needsBytes(h) && (strength & STRENGTH_VERIFIED) == 0) return false;
  return true;
}

/** Root `h` starts to merge under the claimed root `src` (the caller has
 *  loaded the walk from its ROOT_AD). */
export function mergeBegin(h: Hier, src: u32, strength: u32): void {
  assert(h.role == ROLE_ROOT && !h.sideWalk && h.joinStream == NO_STREAM && h.mergeOff == NO_OFFSET); // a merge starts from a root with no walk
  h.mergeRoot = src;
  h.mergeCost = false;
  emit(h.xid, EV_MERGE, 0, src, strength);
}

/** The offset a root's merge JOIN asks for, pinning it: from this JOIN on
 *  the server stream is not read, so the new parent continues our bytes
 *  exactly where the server stopped, and if it fails us the server does. */
export function mergeJoinOffset(h: Hier, held: u32): u32 {
  if (h.role != ROLE_ROOT || !h.sideWalk || !needsBytes(h)) return held;
  const t = transferOf(h)!;
  assert(t.recvOff >= held && t.recvOff < t.total); // a pinned merge offset lies in the unchecked tail
  h.mergeOff = t.recvOff;
  h.mergeCost = true;
  return t.recvOff;
}

/** A merge JOIN ended without an ACCEPT (refused, closed, timed out): the
 *  server stream is read on. Nothing came in meanwhile, so nothing moved. */
export function mergeUnpin(h: Hier): void {
  if (h.mergeOff == NO_OFFSET || h.onTrial()) return;
  const t = transferOf(h);
  if (t != null) {
    assert(t.recvOff == h.mergeOff); // nothing is received while a merge JOIN is out
    if (h.server == NO_STREAM) rewind(t); // the fetch ended meanwhile: its retry starts from the checked bytes
  }
  h.mergeOff = NO_OFFSET;
}

/** The merge JOIN of root `h`, now ATTACHED, was accepted. */
export function mergeAccepted(h: Hier, nowMs: f64): void {
  assert(h.role == ROLE_ATTACHED && h.parent != NO_STREAM); // an accepted merge is attached
  if (h.mergeOff == NO_OFFSET) {
    mergeProven(h); // nothing to fetch: the ACCEPT is proof enough
    return;
  }
  h.mergeUntilMs = nowMs + MERGE_PROVE_MS;
}

/** Bytes from the parent were checked: on trial, is that the proof? */
export function mergeOnBytes(h: Hier): void {
  if (!h.onTrial()) return;
  const t = transferOf(h);
  if (t == null || t.verifiedOff > h.mergeOff) mergeProven(h);
}

function mergeProven(h: Hier): void {
  // The new parent's bytes go on from where they stand: no rewind here.
  const handle = h.server;
  if (handle != NO_STREAM) {
    h.server = NO_STREAM;
    requestClose(handle);
    unchecked(links[handle]).free();
  }
  h.fetchRetryMs = Infinity;
  const parent = h.parent == NO_STREAM ? 0 : unchecked(links[h.parent]).peer;
  h.mergeRoot = 0;
  h.mergeOff = NO_OFFSET;
  h.mergeUntilMs = Infinity;
  h.mergeFailures = 0;
  emit(h.xid, EV_MERGE_PROVEN, 0, parent, 0);
  assert(h.server == NO_STREAM && !h.onTrial()); // a proven merge fetches nothing
}

/** The merge failed (`reason`, a MERGE_* code): root `h` is a root again,
 *  its fetch goes on, and it waits a growing backoff before another merge. */
export function mergeFailed(h: Hier, nowMs: f64, reason: u8): void {
  const root = h.mergeRoot;
  const accepted = h.onTrial();
  if (accepted) {
    // It accepted us and did not deliver: that is no root of ours.
    avoidSilent(root, nowMs);
    if (h.parent != NO_STREAM) {
      const p = h.parent;
      const peer = unchecked(links[p]).peer;
      if (peer != root && reason == MERGE_NO_BYTES) avoidSilent(peer, nowMs);
      h.parent = NO_STREAM;
      requestClose(p);
      unchecked(links[p]).free();
    }
    h.role = ROLE_ROOT;
    h.pathLen = 0;
    h.bestOutside.clear();
    h.nextMoveMs = Infinity;
    h.rootAdWanted = true; // tell the subnet at once that we are a root again
    h.mergeUntilMs = Infinity;
    markDirty(h); // our children hear their new path
  }
  restoreReceive(h, nowMs);
  // Only a merge that paused our fetch backs off: one that never got a
  // connection cost nothing, and the avoid list keeps its source out.
  let backoffMs: f64 = 0;
  if (h.mergeCost) {
    if (h.mergeFailures < MAX_MERGE_BACKOFF_SHIFT) h.mergeFailures++;
    backoffMs = MERGE_BACKOFF_MS * <f64>(1 << (h.mergeFailures - 1));
    h.mergeAfterMs = nowMs + backoffMs;
  }
  h.mergeRoot = 0;
  h.mergeCost = false;
  emit(h.xid, EV_MERGE_FAILED, reason, root, <u32>backoffMs);
  assert(h.role == ROLE_ROOT && h.mergeOff == NO_OFFSET && !h.onTrial()); // a failed merge leaves a root
}

/** After a failed merge: the server stream continues at mergeOff, where it
 *  was pinned; what the failed parent sent beyond it is discarded. If that
 *  cannot be (the server stream ended, or a bad block rewound below the
 *  pin), the fetch starts again from the checked bytes. */
function restoreReceive(h: Hier, nowMs: f64): void {
  const t = transferOf(h);
  if (t == null || h.mergeOff == NO_OFFSET) {
    h.mergeOff = NO_OFFSET;
    return;
  }
  const off = h.mergeOff;
  h.mergeOff = NO_OFFSET;
  if (h.server != NO_STREAM && t.verifiedOff <= off && off <= t.recvOff) {
    rewindTo(t, off);
    return;
  }
  if (h.server != NO_STREAM) closeServer(h, nowMs); // rewinds to the checked bytes
  else rewind(t);
  startFetch(h, hierIndex(h.xid), nowMs);
}

export function mergeDeadline(h: Hier): f64 {
  return h.mergeUntilMs;
}

/** A merge trial whose time is up fails. */
export function mergeTimer(h: Hier, nowMs: f64): void {
  if (nowMs >= h.mergeUntilMs) mergeFailed(h, nowMs, MERGE_NO_BYTES);
}

