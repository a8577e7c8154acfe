// One round of an HTTP fetch over the simulated WAN, TCP-like and simple:
// a connection costs one round trip (SYN, SYN-ACK) and is kept for the
// fetch's next request (the file after its list); a request costs half a
// round trip to the server. The server then sends a congestion window of
// bytes per round; a round may start one RTT after the last one started
// (the ACK of its first bytes is back: the ACK clock), and the window
// doubles each round (slow start; the simulated WAN loses nothing, so it
// never leaves it) up to the root's receive window. On the WAN
// (2 Mbit/s x 80 ms = 20 kB in flight) the initial window nearly fills the
// pipe: the link runs full from the second round on. A fetch that resumes
// at byte N asks `Range: bytes=N-` and pulls nothing before N
// (wan-fetch.ts startWanFetch). Under a budget the root reads at its share:
// a receive window of two round trips of it, and its bucket.

import { freshRequest, requestEnd, WanFetch, WanLink, WanOptions } from "./wan-fetch.js";
import type { SimBudget } from "./wan-budget.js";

/** TCP's maximum segment on Ethernet: 1500 - 20 (IP) - 20 (TCP) - 20 (options). */
export const HTTP_MSS_BYTES = 1440;
/** RFC 6928: an initial congestion window of 10 segments. */
export const HTTP_INITIAL_CWND_BYTES = 10 * HTTP_MSS_BYTES;
/** The root's receive window: Linux's default tcp_rmem maximum is 6 MiB,
 *  but a phone's host takes what the core's ring drains (64 KiB) plus
 *  what is on its way; 256 KiB is a second of a 2 Mbit/s link. */
export const HTTP_RWND_BYTES = 256 * 1024;

export function httpRound(job: WanFetch, wan: WanOptions, link: WanLink, nowMs: number, budget: SimBudget | null, roots: number): number {
  const rwnd = budget === null ? HTTP_RWND_BYTES : Math.min(HTTP_RWND_BYTES, budget.httpWindowCap(wan.rttMs, roots, HTTP_MSS_BYTES));
  let readyMs: number;
  if (freshRequest(job)) {
    // A new request: a connection first if there is none yet.
    readyMs = nowMs + (job.cwndBytes === 0 ? wan.rttMs : 0) + wan.rttMs / 2;
    if (job.cwndBytes === 0) job.cwndBytes = HTTP_INITIAL_CWND_BYTES;
  } else {
    // The ACK clock: the window may be sent again one RTT after the last
    // round began, and not before that round left the server (its last
    // byte reached the root now): back to back once the window fills the
    // pipe. (A root whose ring had stalled opens its window a little later
    // than this; the flash drains faster than the WAN, so that is rare.)
    readyMs = Math.max(job.lastStartMs + wan.rttMs, nowMs - wan.rttMs / 2);
    job.cwndBytes = Math.min(job.cwndBytes * 2, Math.max(rwnd, HTTP_INITIAL_CWND_BYTES));
  }
  const window = Math.min(job.cwndBytes, rwnd);
  job.roundBytes = Math.min(window, requestEnd(job) - job.pos);
  console.assert(job.roundBytes > 0, "a round carries bytes");
  if (budget !== null) readyMs = budget.paceStart(job.phone, job.roundBytes, readyMs, roots);
  const { startMs, endMs } = link.send(readyMs, job.roundBytes, wan.bitsPerSec, nowMs - wan.rttMs);
  job.lastStartMs = startMs;
  return endMs + wan.rttMs / 2;
}
