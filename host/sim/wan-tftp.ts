// One round of a TFTP fetch over the simulated WAN: after a request round
// trip for a new file (RRQ, and the option ack), each round the server sends
// `window` blocks of `blksize` bytes (window 1 is RFC 1350's lockstep; more
// is RFC 7440's windowsize) and waits for the ACK of the last one. The root
// asks the board's tftpWindowMax and adapts it to loss between requests
// (host/tftp/window.ts); the simulated WAN loses nothing, so it stays at
// what the server granted. Under a budget the window is held to what the
// root's share drains in half the server's timeout, and the ACK waits for
// the root's bucket (host/wan/budget.ts).

import { freshRequest, requestEnd, WanFetch, WanLink, WanOptions } from "./wan-fetch.js";
import type { SimBudget } from "./wan-budget.js";

/** Sizes the next round of `job`, started at `nowMs`, and returns when its
 *  last byte reaches the root. */
export function tftpRound(job: WanFetch, wan: WanOptions, link: WanLink, nowMs: number, budget: SimBudget | null, roots: number): number {
  const window = budget === null ? wan.window : Math.min(wan.window, budget.tftpWindowCap(wan.blksize, roots));
  console.assert(window >= 1, "a round carries a block at least");
  job.roundBytes = Math.min(window * wan.blksize, requestEnd(job) - job.pos);
  // The ACK (or a new RRQ and its option ack) travels to the server first.
  let readyMs = nowMs + wan.rttMs / 2;
  if (freshRequest(job)) readyMs += wan.rttMs;
  if (budget !== null) readyMs = budget.paceStart(job.phone, job.roundBytes, readyMs, roots);
  const { startMs, endMs } = link.send(readyMs, job.roundBytes, wan.bitsPerSec, nowMs - wan.rttMs);
  job.lastStartMs = startMs;
  return endMs + wan.rttMs / 2;
}

/** What one phone alone needs to fetch `bytes` this way, in ms (the theory
 *  next to the simulated singleMs). */
export function tftpAloneMs(bytes: number, wan: WanOptions): number {
  const rounds = Math.ceil(bytes / (wan.window * wan.blksize));
  return rounds * wan.rttMs + (bytes * 8 * 1000) / wan.bitsPerSec + wan.rttMs;
}
