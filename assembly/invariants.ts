// The whole-table checks of the core's own promises: every hierarchy against
// the stream table and back (parent and children agree, a link belongs to
// exactly what refers to it), every transfer and staging buffer (relay.ts),
// every stream's views (link.ts), the outbox. They read every table on
// every input, so only the debug build runs them (asconfig.json: `use`
// PFS_DEBUG_CHECKS on the debug target); the release build keeps the cheap
// assertions inline where each table changes (docs/DESIGN.md, "The core
// checks itself", for what each costs). Nothing here is about input from the
// network: that is counted and dropped where it is read.

import * as cfg from "./config";
import { Hier, hiers, NO_OFFSET, NO_STREAM, ROLE_ATTACHED, ROLE_CLAIMING, ROLE_DISCOVER, ROLE_IDLE, ROLE_ROOT, ROLE_WAITING } from "./hierarchy";
import { MAX_CHILDREN, MAX_DEPTH } from "./limits";
import { LINK_CHILD, LINK_FREE, LINK_INBOUND, LINK_JOINING, LINK_PARENT, LINK_SERVER, links } from "./link";
import { outboxCheck } from "./outbox";
import { checkRelay, transferOf } from "./relay";

/** After every input, in the debug build only; compiles to nothing else. */
// @ts-ignore: decorator
@inline export function debugCheck(): void {
  if (isDefined(PFS_DEBUG_CHECKS)) checkAll();
}

export function checkAll(): void {
  for (let i = 0, n = hiers.length; i < n; i++) checkHier(i, unchecked(hiers[i]));
  for (let j = 0, n = links.length; j < n; j++) checkLink(j);
  checkRelay();
  outboxCheck();
}

/** A link `handle` that hierarchy `idx` refers to as a link of `kind`. */
function own(handle: i32, idx: i32, kind: u8): void {
  assert(<u32>handle < <u32>links.length); // a handle lies in the stream table
  const l = unchecked(links[handle]);
  assert(l.kind == kind && l.hier == idx); // a hierarchy's link is of the kind it refers to it as, and its own
}

function checkHier(idx: i32, h: Hier): void {
  if (h.role == ROLE_IDLE) {
    assert(h.transfer < 0 && h.parent == NO_STREAM && h.joinStream == NO_STREAM && h.server == NO_STREAM); // an idle slot holds nothing
    return;
  }
  // Parent and children agree: ATTACHED exactly when there is a parent.
  assert((h.role == ROLE_ATTACHED) == (h.parent != NO_STREAM)); // attached exactly when a parent link exists
  if (h.parent != NO_STREAM) own(h.parent, idx, LINK_PARENT);
  let children = 0;
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c == NO_STREAM) continue;
    children++;
    own(c, idx, LINK_CHILD);
    assert(c != h.parent && c != h.joinStream && c != h.server); // a child link is no other link
  }
  assert(unchecked(h.children[0]) == NO_STREAM || unchecked(h.children[0]) != unchecked(h.children[1])); // two positions, two links
  assert(children <= MAX_CHILDREN && children == h.childCount()); // at most two children
  if (h.joinStream != NO_STREAM) own(h.joinStream, idx, LINK_JOINING);
  if (h.server != NO_STREAM) own(h.server, idx, LINK_SERVER);
  // A phone is never its own ancestor.
  assert(h.pathLen >= 0 && h.pathLen <= MAX_DEPTH && !h.hasAncestor(cfg.selfAddr)); // the path never holds ourselves
  if (h.role == ROLE_WAITING) assert(h.transfer < 0 && children == 0 && h.parent == NO_STREAM); // a waiting slot takes part in nothing
  // Merging: a side walk runs beside an electing or root role; a pinned
  // offset belongs to a root's JOIN out or a trial, and nothing moved it.
  if (h.sideWalk) {
    assert(h.role == ROLE_ROOT || h.role == ROLE_DISCOVER || h.role == ROLE_CLAIMING); // a side walk runs beside the role
    assert(h.joinStream != NO_STREAM || h.walkStartMs != Infinity); // a side walk has an attempt in flight or a start ahead
  }
  if (h.onTrial()) assert(h.role == ROLE_ATTACHED && h.mergeOff != NO_OFFSET); // a trial is an attached root with its fetch pinned
  if (h.mergeOff != NO_OFFSET) {
    const t = transferOf(h);
    assert(t != null && t.verifiedOff <= h.mergeOff && h.mergeOff <= t.total); // a pinned offset lies in the transfer, above the checked bytes
    if (!h.onTrial()) assert(h.role == ROLE_ROOT && h.joinStream != NO_STREAM && t!.recvOff == h.mergeOff); // a merge JOIN is out and nothing moved
  }
}

/** Negative space: no link refers to a hierarchy that does not know it. */
function checkLink(handle: i32): void {
  const l = unchecked(links[handle]);
  if (l.kind == LINK_FREE) return;
  l.checkViews();
  if (l.kind == LINK_INBOUND) {
    assert(l.hier < 0); // an inbound stream belongs to no hierarchy before its JOIN
    return;
  }
  assert(<u32>l.hier < <u32>hiers.length); // a link belongs to a hierarchy
  const h = unchecked(hiers[l.hier]);
  assert(h.role != ROLE_IDLE); // a link's hierarchy is in use
  if (l.kind == LINK_PARENT) assert(h.parent == handle); // a parent link is its hierarchy's parent
  else if (l.kind == LINK_CHILD) assert(unchecked(h.children[0]) == handle || unchecked(h.children[1]) == handle); // a child link holds a position
  else if (l.kind == LINK_JOINING) assert(h.joinStream == handle); // a join attempt is its hierarchy's attempt
  else if (l.kind == LINK_SERVER) assert(h.server == handle); // a server stream is its hierarchy's fetch
}
