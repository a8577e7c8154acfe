// The WAN budget in the simulator: a cap on every server fetch of the
// subnet, shared by the roots fetching at once, as the real phone paces
// (host/wan/budget.ts): each root fetching takes cap / (roots fetching), and
// its fetches (one per component it is root of) draw on one bucket (GCRA).
// The real root counts the roots it hears whose strength is not yet
// verified, plus itself; the simulator counts the phones with a server
// fetch open now, which is what those ROOT_ADs stand for, without their lag.

/** What the real phone lets a root take at once beyond its rate: one block
 *  and its headers, twice (host/wan/budget.ts BUDGET_BURST_BYTES). */
const BURST_BYTES = 3000;
/** A paced window must drain within this share of the server's
 *  retransmission timeout (1 s: tftpd-hpa, atftpd, ours), as in
 *  host/wan/budget.ts: else the server sends it again while the ACK waits. */
const WINDOW_DRAIN_MS = 500;

export class SimBudget {
  /** Each root's theoretical arrival time (GCRA), ms. */
  private readonly tatMs = new Map<number, number>();

  constructor(readonly capBitsPerSec: number) {
    console.assert(capBitsPerSec > 0, "a budget caps at a positive rate");
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

  /** The largest TFTP window the root's share drains in WINDOW_DRAIN_MS. */
  tftpWindowCap(blksize: number, rootsFetching: number): number {
    return Math.max(1, Math.floor((this.rateBytesPerMs(rootsFetching) * WINDOW_DRAIN_MS) / blksize));
  }

  /** The receive window a paced HTTP reader keeps: two round trips of its
   *  share, so the ACK clock never starves it, and never more. */
  httpWindowCap(rttMs: number, rootsFetching: number, minBytes: number): number {
    return Math.max(minBytes, Math.ceil(this.rateBytesPerMs(rootsFetching) * rttMs * 2));
  }
}
