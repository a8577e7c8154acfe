// Election strength: one u32 compared as unsigned, highest wins. It says who
// should feed the others, most useful fact first (docs/DESIGN.md):
//   bit 31      CONFIRMED: set when a claimant confirms itself root
//               ("bumping strength"), so no later tentative claim unseats it
//   bit 30      VERIFIED: holds the whole file, verified; such a root never
//               touches the WAN for it
//   bits 16..29 share of the file held, in 1/16383ths: a successor that holds
//               more re-fetches less
//   bits 0..15  random tie-break from the seeded generator
// Equal strengths (1 in 65536 for equal holdings) fall back to the higher
// address, so the order is total and every phone agrees on the winner.

import { TENTATIVE_FETCH_AD } from "./limits";

export const STRENGTH_CONFIRMED: u32 = 0x80000000;
export const STRENGTH_VERIFIED: u32 = 0x40000000;
const HELD_SHIFT: u32 = 16;
const HELD_MAX: u64 = 0x3fff;

export function makeStrength(confirmed: bool, verified: bool, heldBytes: u64, sizeBytes: u64, tieBreak: u32): u32 {
  let held: u64 = 0;
  if (verified) held = HELD_MAX;
  else if (sizeBytes > 0) {
    held = heldBytes >= sizeBytes ? HELD_MAX : (heldBytes * HELD_MAX) / sizeBytes;
  }
  let s = (<u32>held << HELD_SHIFT) | (tieBreak & 0xffff);
  if (verified) s |= STRENGTH_VERIFIED;
  if (confirmed) s |= STRENGTH_CONFIRMED;
  return s;
}

/** True when (a, addrA) beats (b, addrB). */
export function stronger(a: u32, addrA: u32, b: u32, addrB: u32): bool {
  if (a != b) return a > b;
  return addrA > addrB;
}

/** The part of a strength that says what a phone holds (VERIFIED and the
 *  share held), without the tie-break: what decides between claims first. */
function holding(s: u32): u32 {
  return s & ~(<u32>0xffff);
}

/** Does strength a say its phone holds more of the file than b's? */
export function holdsMore(a: u32, b: u32): bool {
  return holding(a) > holding(b);
}

/** True when claim (a, addrA, adA) beats (b, addrB, adB) in an election; a
 *  phone that has not claimed passes ad -1. The phone that holds more wins.
 *  Between equal holdings a tentative root (a claim that reached Ad
 *  TENTATIVE_FETCH_AD: it fetches and takes children, election.ts) beats a claim
 *  that did not, so a phone that boots late does not end a fetch begun; any
 *  other pair falls back to the strength's tie-break. Claims made in one
 *  crowd cross before their Ad 1 and are decided by the tie-break alone. */
export function claimBeats(a: u32, addrA: u32, adA: i32, b: u32, addrB: u32, adB: i32): bool {
  if (holding(a) != holding(b)) return holding(a) > holding(b);
  const tentA = adA >= TENTATIVE_FETCH_AD;
  if (tentA != adB >= TENTATIVE_FETCH_AD) return tentA;
  return stronger(a, addrA, b, addrB);
}
