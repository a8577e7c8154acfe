// The WAN budget: a cap on the rate at which the phones of one subnet fetch
// from the load server, shared fairly by the roots fetching at once
// (docs/WAN.md). Each root paces its own fetches at cap / (the other roots
// it hears still fetching + itself), through one token bucket wrapped around
// its fetch sink: awaiting pace() holds the TFTP ACK (or the HTTP read),
// which is what slows the server down. A phone's several fetches (one per
// component it is root of) draw on the same bucket, so they share its share.

import { FetchingRoots } from "./root-ads.js";

/** The bucket's depth: what a root may take at once beyond its rate, so that
 *  a transfer starting does not wait for tokens it never had. One 1428-byte
 *  TFTP block and its headers, twice: the cap is exceeded by at most this
 *  (plus what the server sends before it sees the held ACK, one window). */
export const BUDGET_BURST_BYTES = 3000;
/** The most a window of blocks may take to pace at this phone's share: the
 *  server sends a window at once, so this is how far ahead of the cap one
 *  root may get. 1 s keeps an 80 ms WAN at ~0.9 of the share (a round trip
 *  idle per window, RFC 7440) and well inside the server's timeout. */
export const WINDOW_PACE_MS = 1000;
/** The server's retransmission timeout when the phone asks none: 1 s in
 *  tftpd-hpa, atftpd and ours (host/tftp/server.ts). */
export const SERVER_TIMEOUT_ASSUMED_MS = 1000;
/** A held ACK must reach the server well before it resends the window. */
const WINDOW_TIMEOUT_SHARE = 0.5;

export interface BudgetOptions {
  /** The cap for the whole subnet, kbit/s of payload. */
  kbpsMax: number;
  /** Who else is fetching; omitted: this phone alone (a share of 1). */
  roots?: FetchingRoots;
  /** The clock (ms); performance.now() unless a test drives it. */
  now?: () => number;
  /** How to wait (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

export class WanBudget {
  /** GCRA's theoretical arrival time: the token bucket as one number (ms). */
  private tatMs = 0;
  private readonly bytesPerMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: BudgetOptions) {
    if (!(Number.isFinite(o.kbpsMax) && o.kbpsMax > 0)) throw new RangeError(`the WAN cap must be a positive kbit/s (got ${o.kbpsMax})`);
    this.bytesPerMs = o.kbpsMax / 8; // kbit/s = bits per ms
    this.now = o.now ?? (() => performance.now());
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** How many roots share the cap now: the others heard, and this one. */
  share(): number {
    return 1 + (this.o.roots?.count(this.now()) ?? 0);
  }

  /** This phone's rate now, bytes per ms. */
  rate(): number {
    return this.bytesPerMs / this.share();
  }

  /** Resolves once `bytes` fit this phone's share: a sink awaits it for each
   *  chunk fetched, before taking the next. */
  async pace(bytes: number): Promise<void> {
    console.assert(Number.isFinite(bytes) && bytes >= 0, "bytes paced are a count");
    const now = this.now();
    const rate = this.rate();
    // The chunk has arrived already: it is charged now, and the next one
    // may come once the bucket has refilled beyond its burst.
    this.tatMs = Math.max(this.tatMs, now) + bytes / rate;
    const waitMs = this.tatMs - BUDGET_BURST_BYTES / rate - now;
    if (waitMs > 0) await this.sleep(waitMs);
  }

  /** The largest TFTP window a fetch may ask when `fetchesAtOnce` of this
   *  phone's fetches may draw on the bucket together (the board's
   *  maxTransfers): all their windows drain within WINDOW_PACE_MS at the
   *  share, and within half the server's timeout. A larger one would run
   *  ahead of the cap, or make the server resend it while we hold the ACK
   *  (the WAN spent twice). Split by the most fetches, not those open now:
   *  a window is fixed for its request (RFC 7440), and fetches that start
   *  later would slow the ones asked before past the server's timeout. */
  windowCap(blksize: number, fetchesAtOnce: number, serverTimeoutMs = SERVER_TIMEOUT_ASSUMED_MS): number {
    return budgetWindowCap(this.rate(), blksize, fetchesAtOnce, serverTimeoutMs);
  }
}

/** windowCap for a share of `bytesPerMs`: the one rule, for the phone and
 *  for the simulator's model of it (host/sim/wan-budget.ts). */
export function budgetWindowCap(bytesPerMs: number, blksize: number, fetchesAtOnce: number, serverTimeoutMs: number): number {
  console.assert(bytesPerMs > 0 && blksize > 0 && fetchesAtOnce >= 1 && serverTimeoutMs > 0);
  const ms = Math.min(WINDOW_PACE_MS, serverTimeoutMs * WINDOW_TIMEOUT_SHARE) / fetchesAtOnce;
  return Math.max(1, Math.floor((bytesPerMs * ms) / blksize));
}
