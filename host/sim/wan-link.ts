// The shared WAN link of the simulator: one round at a time on the wire, in
// the order the rounds are ready to be sent, not the order they were
// sized. A round is sized when the previous one of its fetch arrives, and
// may be ready only later (a round trip away, or paced by the WAN budget
// to its root's share); a FIFO in sizing order let a round paced a quarter
// second ahead hold the link for every round ready before it, and two
// models' roots under a 1500 kbit/s budget used 850 of it. Rounds are not
// split: one fits into an idle gap of the wire or goes after it.

import { WanMeter } from "./wan-meter.js";

/** Busy spans kept: one or two rounds per open fetch are ahead of the
 *  clock at any time, and a fleet has a handful of roots (a phone fetches
 *  at most the board's maxTransfers files at once). */
export const WAN_LINK_MAX_SPANS = 256;

export class WanLink {
  readonly meter = new WanMeter();
  /** Busy spans [start, end) on the wire, sorted, none ended before the
   *  last call's clock. Flat pairs: starts at even indices. */
  private spans: number[] = [];

  /** Puts a round of `bytes` ready at `readyMs` on the wire at the first
   *  idle span long enough from then on, and returns when it is on and off
   *  the wire. `oldestMs`: no round of this call or a later one is ready
   *  before it (the clock at the server, which lags the root's by half a
   *  round trip), so spans ended by then can go. */
  send(readyMs: number, bytes: number, bitsPerSec: number, oldestMs: number): { startMs: number; endMs: number } {
    console.assert(readyMs >= oldestMs && bytes > 0 && bitsPerSec > 0, "a round is sent from its horizon on, with bytes, at a rate");
    const s = this.spans;
    let drop = 0;
    while (drop < s.length && s[drop + 1] <= oldestMs) drop += 2;
    if (drop > 0) s.splice(0, drop);
    const durMs = (bytes * 8 * 1000) / bitsPerSec;
    let startMs = readyMs;
    let at = 0;
    for (; at < s.length; at += 2) {
      if (s[at + 1] <= startMs) continue; // ended before we could start
      if (s[at] >= startMs + durMs) break; // we fit in the gap before it
      startMs = s[at + 1];
    }
    const endMs = startMs + durMs;
    s.splice(at, 0, startMs, endMs);
    console.assert(s.length <= 2 * WAN_LINK_MAX_SPANS, "busy spans stay bounded");
    this.meter.add(startMs, endMs, bytes);
    return { startMs, endMs };
  }
}
