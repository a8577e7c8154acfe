// One hierarchy = one (phone model, file name) this phone takes part in. The
// table is sized once at init from the board (maxHierarchies); a slot is free
// when its role is ROLE_IDLE.

import { Candidate, newCandidates } from "./candidate";
import { MAX_CHILDREN, MAX_DEPTH, MAX_JOIN_CANDIDATES, MAX_TRIED } from "./limits";
import { makeStrength } from "./strength";

export const ROLE_IDLE: u8 = 0;
export const ROLE_DISCOVER: u8 = 1; // soliciting, or waiting for a stronger claimant to confirm
export const ROLE_CLAIMING: u8 = 2; // tentative root, advertising Ad 0..4
export const ROLE_ROOT: u8 = 3; //     confirmed root
export const ROLE_JOINING: u8 = 4; //  walking free-slot candidates, not attached
export const ROLE_ATTACHED: u8 = 5; // has a parent
export const ROLE_WAITING: u8 = 6; //  needs a relay transfer while every one is busy: takes part in nothing yet (waiting.ts)

export const NO_STREAM: i32 = -1;
/** An offset that is none: beyond any transfer (maxFileBytes <= 1 GiB). */
export const NO_OFFSET: u32 = 0xffffffff;

@final
export class Hier {
  role: u8 = ROLE_IDLE;
  xid: u32 = 0;
  sizeBytes: u32 = 0;
  heldBytes: u32 = 0;
  verified: bool = false;
  tieBreak: u32 = 0;

  /** Deadline of the current election step (solicit, claim Ad, wait). */
  phaseMs: f64 = Infinity;
  ad: i32 = 0;
  solicits: i32 = 0;
  heardSolicitMs: f64 = -Infinity;
  /** Strongest foreign tentative claim heard lately. */
  claimAddr: u32 = 0;
  claimStrength: u32 = 0;
  claimMs: f64 = -Infinity;

  parent: i32 = NO_STREAM;
  children: StaticArray<i32> = new StaticArray<i32>(MAX_CHILDREN);
  /** Ancestors, root first; depth == pathLen (the root has depth 0). */
  path: StaticArray<u32> = new StaticArray<u32>(MAX_DEPTH);
  pathLen: i32 = 0;

  /** Join walk: candidates still to try, addresses tried this round. */
  cands: StaticArray<Candidate> = newCandidates(MAX_JOIN_CANDIDATES);
  nCands: i32 = 0;
  tried: StaticArray<u32> = new StaticArray<u32>(MAX_TRIED);
  nTried: i32 = 0;
  /** Join attempts in this walk (bounded by MAX_JOIN_HOPS). */
  hops: i32 = 0;
  /** Stream of the join (or move) attempt in flight. */
  joinStream: i32 = NO_STREAM;
  /** The walk (cands, joinStream) runs beside the role instead of owning
   *  it: a root merging under a stronger one, or a skeptical phone that goes
   *  on with its election while it tries a claimed root (merge.ts). */
  sideWalk: bool = false;
  /** A first claim (not after a root loss): it fetches tentatively (election.ts). */
  firstClaim: bool = false;
  /** The claimed root whose ROOT_AD started this walk; 0 for a repair. */
  walkRoot: u32 = 0;
  /** Somebody answered during this walk: an ACCEPT, or a REFUSE that says
   *  why (tree.ts). A walk nobody answers gives up after MAX_SILENT_HOPS
   *  and one attempt at the claimed root itself. */
  walkAnswered: bool = false;
  /** Attempts nobody answered since the last ROOT_AD's candidates came in:
   *  each claimed root gets MAX_SILENT_HOPS of them, however many the walk
   *  holds (a forged ROOT_AD cannot crowd an honest one's slots out). */
  silentHops: i32 = 0;
  /** A loaded side walk of a skeptical phone makes its first attempt then
   *  (a crowd released by one ROOT_AD spreads over JOIN_SPREAD_MS). */
  walkStartMs: f64 = Infinity;

  /** Merging (merge.ts): the claimed root we try to merge under, 0 if none. */
  mergeRoot: u32 = 0;
  /** recvOff as the merge JOIN carried it: from that JOIN on, the server
   *  stream is not read, so its bytes still continue exactly there if the
   *  stronger root fails us. NO_OFFSET when no merge JOIN is out. */
  mergeOff: u32 = NO_OFFSET;
  /** Accepted on trial: the new parent must deliver by then. */
  mergeUntilMs: f64 = Infinity;
  /** No new merge attempt before this (backoff after a failure). */
  mergeAfterMs: f64 = -Infinity;
  /** Merge failures in a row: the backoff's exponent. */
  mergeFailures: i32 = 0;
  /** This merge paused our fetch at least once (a JOIN went out). */
  mergeCost: bool = false;

  /** Shallowest free slot outside our subtree, as our parent sees it. */
  bestOutside: Candidate = new Candidate();
  nextMoveMs: f64 = Infinity;

  nextRootAdMs: f64 = Infinity;
  lastRootAdMs: f64 = -Infinity;
  rootAdWanted: bool = false;

  lingerUntilMs: f64 = Infinity;

  /** Relay (relay.ts): our transfer, or -1; the server link while we fetch. */
  transfer: i32 = -1;
  server: i32 = NO_STREAM;
  /** No PFS: fetch straight from the server, join no tree (direct mode). */
  direct: bool = false;
  /** The bytes flow through this hierarchy (NEED_RELAY); without it only the
   *  tree forms (elections and tree tests). */
  relay: bool = false;
  fetchRetryMs: f64 = Infinity;

  /** The block list's SHA-256 (HASH_BYTES, from the index), kept while the
   *  hierarchy waits for a transfer; allocated once, never reset. */
  listHash: usize = 0;
  /** Pass the file on only once it is whole (NEED_STORE_FORWARD). */
  storeAndForward: bool = false;
  /** Order of arrival among waiting hierarchies: the first in goes first. */
  waitSeq: u32 = 0;

  /** The file is whole and checked: strength says so, and linger starts. */
  markVerified(nowMs: f64, lingerMs: f64): void {
    if (!this.verified) this.lingerUntilMs = nowMs + lingerMs;
    this.verified = true;
  }

  reset(): void {
    this.role = ROLE_IDLE;
    this.xid = 0;
    this.sizeBytes = 0;
    this.heldBytes = 0;
    this.verified = false;
    this.tieBreak = 0;
    this.phaseMs = Infinity;
    this.ad = 0;
    this.solicits = 0;
    this.heardSolicitMs = -Infinity;
    this.claimAddr = 0;
    this.claimStrength = 0;
    this.claimMs = -Infinity;
    this.parent = NO_STREAM;
    for (let i = 0; i < MAX_CHILDREN; i++) unchecked((this.children[i] = NO_STREAM));
    this.pathLen = 0;
    this.nCands = 0;
    this.nTried = 0;
    this.hops = 0;
    this.joinStream = NO_STREAM;
    this.sideWalk = false;
    this.firstClaim = false;
    this.walkRoot = 0;
    this.walkAnswered = false;
    this.silentHops = 0;
    this.walkStartMs = Infinity;
    this.mergeRoot = 0;
    this.mergeCost = false;
    this.mergeOff = NO_OFFSET;
    this.mergeUntilMs = Infinity;
    this.mergeAfterMs = -Infinity;
    this.mergeFailures = 0;
    this.bestOutside.clear();
    this.nextMoveMs = Infinity;
    this.nextRootAdMs = Infinity;
    this.lastRootAdMs = -Infinity;
    this.rootAdWanted = false;
    this.lingerUntilMs = Infinity;
    this.transfer = -1;
    this.server = NO_STREAM;
    this.direct = false;
    this.relay = false;
    this.fetchRetryMs = Infinity;
    this.storeAndForward = false;
    this.waitSeq = 0;
  }

  depth(): i32 {
    return this.role == ROLE_ROOT || this.role == ROLE_CLAIMING ? 0 : this.pathLen;
  }

  /** Takes children: a root, a claimant (a tentative root, election.ts
   *  joinClaimant), or a phone with a parent. */
  isMember(): bool {
    return this.role == ROLE_ROOT || this.role == ROLE_CLAIMING || this.role == ROLE_ATTACHED;
  }

  /** A join walk is in flight or about to start: the classic one, which owns
   *  the role (JOINING), or one beside the role (sideWalk). */
  walking(): bool {
    return this.role == ROLE_JOINING || this.sideWalk;
  }

  /** Attached on trial: a merged root whose new parent has not delivered yet. */
  onTrial(): bool {
    return this.mergeUntilMs != Infinity;
  }

  childCount(): i32 {
    let n = 0;
    for (let i = 0; i < MAX_CHILDREN; i++) if (unchecked(this.children[i]) != NO_STREAM) n++;
    return n;
  }

  strength(): u32 {
    return makeStrength(this.role == ROLE_ROOT, this.verified, <u64>this.heldBytes, <u64>this.sizeBytes, this.tieBreak);
  }

  /** Is `addr` one of our ancestors? A phone never attaches below itself. */
  hasAncestor(addr: u32): bool {
    for (let i = 0; i < this.pathLen; i++) if (unchecked(this.path[i]) == addr) return true;
    return false;
  }

  wasTried(addr: u32): bool {
    for (let i = 0; i < this.nTried; i++) if (unchecked(this.tried[i]) == addr) return true;
    return false;
  }

  markTried(addr: u32): void {
    if (this.nTried < MAX_TRIED) unchecked((this.tried[this.nTried++] = addr));
    else {
      for (let i = 1; i < MAX_TRIED; i++) unchecked((this.tried[i - 1] = this.tried[i]));
      unchecked((this.tried[MAX_TRIED - 1] = addr));
    }
  }
}

export let hiers: StaticArray<Hier> = new StaticArray<Hier>(0);

export function hiersInit(n: i32, hashBytes: usize): void {
  hiers = new StaticArray<Hier>(n);
  for (let i = 0; i < n; i++) {
    const h = new Hier();
    h.reset();
    h.listHash = heap.alloc(hashBytes);
    hiers[i] = h;
  }
}

export function findHier(xid: u32): Hier | null {
  for (let i = 0, n = hiers.length; i < n; i++) {
    const h = unchecked(hiers[i]);
    if (h.role != ROLE_IDLE && h.xid == xid) return h;
  }
  return null;
}

export function hierIndex(xid: u32): i32 {
  for (let i = 0, n = hiers.length; i < n; i++) {
    const h = unchecked(hiers[i]);
    if (h.role != ROLE_IDLE && h.xid == xid) return i;
  }
  return -1;
}

export function freeHierIndex(): i32 {
  for (let i = 0, n = hiers.length; i < n; i++) if (unchecked(hiers[i]).role == ROLE_IDLE) return i;
  return -1;
}
