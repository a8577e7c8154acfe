// Streams: the TCP links of the tree (parent <-> child on port 4051) and the
// short-lived ones a joiner opens to ask for a slot. A handle is an index in
// a table sized at init (maxStreams). The core owns handles: it picks one for
// an outbound connect (OUT_CONNECT) and hands one back from onStreamAccept.

import { Candidate, newCandidates } from "./candidate";
import { MAX_FRAME_BYTES, MAX_SUBTREE_CANDIDATES } from "./limits";
import { FRAME_LEN_BYTES } from "./wire";

export const LINK_FREE: u8 = 0;
export const LINK_INBOUND: u8 = 1; //  accepted, no JOIN yet
export const LINK_JOINING: u8 = 2; //  we connected to ask for a slot (join or move)
export const LINK_PARENT: u8 = 3; //   our link up to our parent
export const LINK_CHILD: u8 = 4; //    a child's link down from us
export const LINK_SERVER: u8 = 5; //   the host's fetch from the server (raw bytes, a root's source)

/** Views in flight per link (relay.ts), and what each one points into. */
export const MAX_CHUNKS: i32 = 8;
export const CHUNK_RING: u8 = 1; //    the ring
export const CHUNK_LIST: u8 = 2; //    the block list buffer
export const CHUNK_STAGING: u8 = 3; // a staging buffer (read from flash)

export const RX_BYTES: i32 = MAX_FRAME_BYTES + FRAME_LEN_BYTES;

@final
export class Link {
  kind: u8 = LINK_FREE;
  /** Bumped on every open, so a handle reused mid-call is noticed. */
  gen: u32 = 0;
  peer: u32 = 0;
  /** Index of the hierarchy this link serves; -1 until bound. */
  hier: i32 = -1;
  connected: bool = false;
  move: bool = false;
  openedMs: f64 = 0;
  lastRxMs: f64 = 0;
  lastTxMs: f64 = 0;
  /** Our summary or path changed: send UP/DOWN at the next chance. */
  dirty: bool = false;

  rx: usize = 0;
  rxLen: i32 = 0;

  // What a child last told us of its subtree (LINK_CHILD).
  childStrength: u32 = 0;
  childSize: u32 = 1;
  childHeight: u32 = 0;
  /** Joiners sent into this child's subtree since its last UP. */
  redirects: u32 = 0;
  nCands: i32 = 0;
  cands: StaticArray<Candidate> = newCandidates(MAX_SUBTREE_CANDIDATES);

  // Receiving (LINK_PARENT): payload bytes of the DATA frame in progress.
  payloadLeft: u32 = 0;

  // Serving (LINK_CHILD, relay.ts): next offset to send; views in flight.
  sendOff: u32 = 0;
  ringMode: bool = true;
  /** Detached from the ring for holding it up (relay.ts). */
  lagged: bool = false;
  staging: i32 = -1;
  stagedLen: u32 = 0;
  readPending: bool = false;
  /** A staged block is waiting for outbox room. */
  resend: bool = false;
  inflightBytes: u32 = 0;
  chunks: i32 = 0;
  private chunkHead: i32 = 0;
  private chunkKind: StaticArray<u8> = new StaticArray<u8>(MAX_CHUNKS);
  private chunkOff: StaticArray<u32> = new StaticArray<u32>(MAX_CHUNKS);
  private chunkLen: StaticArray<u32> = new StaticArray<u32>(MAX_CHUNKS);
  /** Bytes of the view at the head already reported written. */
  private headDone: u32 = 0;

  pushChunk(kind: u8, off: u32, len: u32): void {
    assert(this.chunks < MAX_CHUNKS && len > 0); // a view goes into a free entry of the in-flight ring
    const i = (this.chunkHead + this.chunks) % MAX_CHUNKS;
    unchecked((this.chunkKind[i] = kind));
    unchecked((this.chunkOff[i] = off));
    unchecked((this.chunkLen[i] = len));
    this.chunks++;
    this.inflightBytes += len;
  }

  /** The host wrote `n` more bytes of our views, in order. */
  completeChunks(n: u32): void {
    while (n > 0 && this.chunks > 0) {
      const i = this.chunkHead;
      const left = unchecked(this.chunkLen[i]) - this.headDone;
      const take = n < left ? n : left;
      this.headDone += take;
      this.inflightBytes -= take;
      n -= take;
      if (this.headDone == unchecked(this.chunkLen[i])) {
        this.chunkHead = (i + 1) % MAX_CHUNKS;
        this.chunks--;
        this.headDone = 0;
      }
    }
  }

  /** Debug build (invariants.ts): the views in flight add up. */
  checkViews(): void {
    assert(this.chunks >= 0 && this.chunks <= MAX_CHUNKS); // views in flight stay within MAX_CHUNKS
    let sum: u32 = 0;
    for (let k = 0; k < this.chunks; k++) sum += unchecked(this.chunkLen[(this.chunkHead + k) % MAX_CHUNKS]);
    assert(this.chunks == 0 ? this.headDone == 0 && this.inflightBytes == 0 : this.headDone < sum); // a partly reported view is the head
    assert(sum - this.headDone == this.inflightBytes); // inflightBytes is what the views in flight hold
  }

  hasChunk(kind: u8): bool {
    for (let k = 0; k < this.chunks; k++) if (unchecked(this.chunkKind[(this.chunkHead + k) % MAX_CHUNKS]) == kind) return true;
    return false;
  }

  /** The lowest file offset this link still needs the ring to keep. */
  ringHold(): u32 {
    for (let k = 0; k < this.chunks; k++) {
      const i = (this.chunkHead + k) % MAX_CHUNKS;
      if (unchecked(this.chunkKind[i]) == CHUNK_RING) return unchecked(this.chunkOff[i]);
    }
    return this.ringMode ? this.sendOff : 0xffffffff;
  }

  open(kind: u8, peer: u32, hier: i32, nowMs: f64): void {
    this.gen++;
    this.kind = kind;
    this.peer = peer;
    this.hier = hier;
    this.connected = kind == LINK_INBOUND;
    this.move = false;
    this.openedMs = nowMs;
    this.lastRxMs = nowMs;
    this.lastTxMs = nowMs;
    this.dirty = false;
    this.rxLen = 0;
    this.childStrength = 0;
    this.childSize = 1;
    this.childHeight = 0;
    this.redirects = 0;
    this.nCands = 0;
    this.payloadLeft = 0;
    this.sendOff = 0;
    this.ringMode = true;
    this.lagged = false;
    this.staging = -1;
    this.stagedLen = 0;
    this.readPending = false;
    this.resend = false;
    this.inflightBytes = 0;
    this.chunks = 0;
    this.chunkHead = 0;
    this.headDone = 0;
  }

  /** free(), and the generation count starts over (a reboot). */
  reboot(): void {
    this.free();
    this.gen = 0;
  }

  free(): void {
    this.kind = LINK_FREE;
    this.peer = 0;
    this.hier = -1;
    this.rxLen = 0;
    this.dirty = false;
  }
}

export let links: StaticArray<Link> = new StaticArray<Link>(0);

export function linksInit(n: i32): void {
  links = new StaticArray<Link>(n);
  for (let i = 0; i < n; i++) {
    const l = new Link();
    l.rx = heap.alloc(<usize>RX_BYTES);
    links[i] = l;
  }
}

export function allocLink(): i32 {
  for (let i = 0, n = links.length; i < n; i++) if (unchecked(links[i]).kind == LINK_FREE) return i;
  return -1;
}

/** Inbound streams that have not sent their JOIN yet: from `peer`, or from
 *  anybody when `peer` is 0. */
export function pendingInbound(peer: u32): i32 {
  let n = 0;
  for (let i = 0, len = links.length; i < len; i++) {
    const l = unchecked(links[i]);
    if (l.kind == LINK_INBOUND && (peer == 0 || l.peer == peer)) n++;
  }
  return n;
}

/** The not-yet-joined inbound stream that has waited longest, or -1. */
export function oldestPendingInbound(): i32 {
  let best = -1;
  for (let i = 0, len = links.length; i < len; i++) {
    const l = unchecked(links[i]);
    if (l.kind == LINK_INBOUND && (best < 0 || l.openedMs < unchecked(links[best]).openedMs)) best = i;
  }
  return best;
}

export function validHandle(handle: i32): bool {
  return <u32>handle < <u32>links.length && unchecked(links[handle]).kind != LINK_FREE;
}
