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

export function validHandle(handle: i32): bool {
  return <u32>handle < <u32>links.length && unchecked(links[handle]).kind != LINK_FREE;
}
