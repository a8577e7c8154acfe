// Hierarchies waiting for a relay transfer. A board has a few transfers (its
// RAM holds one ring and one block list each); a phone may need more files
// than that. A file that finds every transfer busy waits in ROLE_WAITING,
// first come first served, and takes part in no election and no tree until a
// transfer comes free (a file finished, or was released); then it starts as
// if it had just been needed. Phones that need the same files in the same
// order (every phone of a model reads the same index) then work on the same
// files at the same time, and the trees still form file by file.

import * as cfg from "./config";
import { enterDiscover } from "./role";
import { Hier, hiers, ROLE_ROOT, ROLE_WAITING } from "./hierarchy";
import { hasFreeTransfer, startFetch, startTransfer } from "./relay";

let nextSeq: u32 = 0;

export function waitingReset(): void {
  nextSeq = 0;
}

/** `h` needs a transfer and none is free: it waits its turn. */
export function waitForTransfer(h: Hier): void {
  assert(h.relay && h.transfer < 0); // only a relayed file without a transfer waits
  h.role = ROLE_WAITING;
  h.waitSeq = ++nextSeq;
}

/** The waiting hierarchy that came first, or -1. */
function firstWaiting(): i32 {
  let best = -1;
  let seq: u32 = 0xffffffff;
  for (let i = 0, n = hiers.length; i < n; i++) {
    const h = unchecked(hiers[i]);
    if (h.role == ROLE_WAITING && h.waitSeq <= seq) {
      best = i;
      seq = h.waitSeq;
    }
  }
  return best;
}

/** Due at once while a transfer is free and a hierarchy waits for one. */
export function waitingDeadline(): f64 {
  return hasFreeTransfer() && firstWaiting() >= 0 ? 0 : Infinity;
}

/** Gives free transfers to waiting hierarchies, first come first served. */
export function admitWaiting(nowMs: f64): void {
  for (;;) {
    const idx = firstWaiting();
    if (idx < 0) return;
    const h = unchecked(hiers[idx]);
    if (!startTransfer(h, idx, h.listHash, h.storeAndForward)) return; // none free
    if (h.direct) {
      h.role = ROLE_ROOT;
      startFetch(h, idx, nowMs);
    } else {
      enterDiscover(h, nowMs, 0, <u32>cfg.adIntervalMs);
    }
    assert(h.role != ROLE_WAITING && h.transfer >= 0); // an admitted hierarchy holds a transfer
  }
}
