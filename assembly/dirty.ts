// Which links must send soon: a subtree summary that changed goes up
// (UP), a new path goes down at once (cycle checks use it). Below the tree,
// the election and the merge, which all mark links so.

import { Hier, NO_STREAM } from "./hierarchy";
import { MAX_CHILDREN } from "./limits";
import { links } from "./link";

/** Our subtree summary changed: our parent hears of it soon (UP). */
export function markUpDirty(h: Hier): void {
  if (h.parent != NO_STREAM) unchecked(links[h.parent]).dirty = true;
}

/** Our children must hear of a new path at once (cycle checks use it). */
export function markDownDirty(h: Hier): void {
  for (let i = 0; i < MAX_CHILDREN; i++) {
    const c = unchecked(h.children[i]);
    if (c != NO_STREAM) unchecked(links[c]).dirty = true;
  }
}

export function markDirty(h: Hier): void {
  markUpDirty(h);
  markDownDirty(h);
}
