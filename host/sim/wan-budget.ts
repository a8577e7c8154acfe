// The WAN budget in the simulator: a cap on every server fetch of the
// subnet, shared by the roots fetching at once, as the real phone paces
// (host/wan/budget.ts): each root fetching takes cap / (roots fetching), and
// its fetches (one per component it is root of) draw on one bucket (GCRA).
// The real root counts the roots it hears whose strength is not yet
// verified, plus itself; the simulator counts the phones with a server
// fetch open now, which is what those ROOT_ADs stand for, without their lag.

import { budgetWindowCap } from "../wan/budget.js";
import { SERVER_TIMEOUT_ASK_SEC } from "../tftp/window.js";

/** What the real phone lets a root take at once beyond its rate: one block
 *  and its headers, twice (host/wan/budget.ts BUDGET_BURST_BYTES). */
const BURST_BYTES = 3000;

export class SimBudget {
  /** Each root's theoretical arrival time (GCRA), ms. */
  private readonly tatMs = new Map<number, number>();

  /** `fetchesAtOnce`: the board's maxTransfers, which the phone splits its
   *  window cap by (host/wan/budget.ts windowCap). */
  constructor(readonly capBitsPerSec: number, private readonly fetchesAtOnce: number) {
    console.assert(capBitsPerSec > 0 && fetchesAtOnce >= 1, "a budget caps at a positive rate");
  }

  /** One root's rate now, bytes per ms. */
  rateBytesPerMs(rootsFetching: number): number {
    console.assert(rootsFetching >= 1, "the root asking is fetching");
    return this.capBitsPerSec / 8 / 1000 / rootsFetching;
  }

  /** When `phone` may start sending a round of `bytes` ready at readyMs;
   *  charges its bucket. */
  paceStart(phone: number, bytes: number, readyMs: number, rootsFetching: number): number {
    const rate = this.rateBytesPerMs(rootsFetching);
    const tat = this.tatMs.get(phone) ?? 0;
    const startMs = Math.max(readyMs, tat - BURST_BYTES / rate);
    this.tatMs.set(phone, Math.max(tat, startMs) + bytes / rate);
    console.assert(startMs >= readyMs, "pacing only ever delays");
    return startMs;
  }

  /** The largest TFTP window the root asks under its share: the phone's
   *  own rule, with the server timeout the phone asks (host/tftp/window.ts). */
  tftpWindowCap(blksize: number, rootsFetching: number): number {
    return budgetWindowCap(this.rateBytesPerMs(rootsFetching), blksize, this.fetchesAtOnce, SERVER_TIMEOUT_ASK_SEC * 1000);
  }

  /** The receive window a paced HTTP reader keeps: two round trips of its
   *  share, so the ACK clock never starves it, and never more. */
  httpWindowCap(rttMs: number, rootsFetching: number, minBytes: number): number {
    return Math.max(minBytes, Math.ceil(this.rateBytesPerMs(rootsFetching) * rttMs * 2));
  }
}
