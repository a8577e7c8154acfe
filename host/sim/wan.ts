// The WAN between the roots and the distant load server. A fetch reads
// "<file>.blk" (the block list) and then "<file>", over TFTP (wan-tftp.ts:
// lockstep or windowed rounds) or HTTP (wan-http.ts: TCP-like, with Range).
// Concurrent fetches queue for the link in turn (first ready, first sent,
// wan-link.ts):
// a lockstep flow leaves it idle while it waits for its ACK, so a few flows
// do not slow each other; many saturate it and share it. TFTP cannot start
// mid-file, so a fetch that resumes at byte N still pulls the bytes before N
// over the WAN (the host drops them: wanSkippedBytes); HTTP asks for bytes
// from N on. A root that already holds the list skips the ".blk" request.
// Under a WAN budget (wan-budget.ts) every root paces at its share of the
// cap; the link's meter (wan-meter.ts) counts what crossed it.

import { WanFetch, WanOptions } from "./wan-fetch.js";
import { SimBudget } from "./wan-budget.js";
import { tftpRound } from "./wan-tftp.js";
import { httpRound } from "./wan-http.js";
import { WanLink } from "./wan-link.js";

export { startWanFetch, WAN_SOURCES } from "./wan-fetch.js";
export type { WanFetch, WanLink, WanOptions, WanSource } from "./wan-fetch.js";
export { tftpAloneMs } from "./wan-tftp.js";

/** The link, its meter and the budget (if any) of one simulated WAN. */
export interface Wan {
  link: WanLink;
  budget: SimBudget | null;
}

export function newWan(wan: WanOptions): Wan {
  return { link: new WanLink(), budget: wan.capBitsPerSec > 0 ? new SimBudget(wan.capBitsPerSec, wan.fetchesAtOnce) : null };
}

/** Sizes the next round of `job`, started at `nowMs`, and returns when its
 *  last byte reaches the root. `roots`: the phones with a server fetch open
 *  now (the budget's share). */
export function wanRound(job: WanFetch, wan: WanOptions, w: Wan, nowMs: number, roots: number): number {
  const before = job.pos;
  const atMs = wan.source === "http" ? httpRound(job, wan, w.link, nowMs, w.budget, roots) : tftpRound(job, wan, w.link, nowMs, w.budget, roots);
  console.assert(job.pos === before && job.roundBytes > 0 && atMs >= nowMs, "a round is sized, not taken, and arrives later");
  return atMs;
}
