// The windowsize a client asks of a TFTP server (RFC 7440), adapted to loss
// from one request to the next: additive increase while transfers run clean,
// multiplicative decrease after one that lost data (AIMD, as TCP does).
//
// Why between requests and not within one: RFC 7440 lets only the sender
// choose how many blocks go out per ACK (the negotiated windowsize); an ACK
// of a block in the middle of a window tells the sender to resume right after
// it, which makes it send again the blocks still on their way. A receiver that
// ACKed early to "shrink" the window would double the traffic on the very link
// that is losing. So a transfer keeps the window it was granted, recovers a
// gap with one ACK and a silence with its timeout, and what it saw sets the
// window asked for the next file (a load is 5 components of 2 files each,
// and a failed fetch is asked again).

import { WINDOWSIZE_MAX } from "./options.js";

/** The retransmission timeout a windowed client asks of the server (RFC 2349
 *  `timeout`, whole seconds). A large window takes longer than the servers'
 *  default 1 s to cross a slow link (320 blocks of 1428 at 2 Mbit/s: 1.9 s,
 *  queued at the link), and a server that times out first sends the whole
 *  window again. 1.9 s and the 80 ms round trip, with room: 3. The client
 *  keeps its own 1 s timer: it recovers loss, the server's only a lost ACK. */
export const SERVER_TIMEOUT_ASK_SEC = 3;

/** What a finished transfer saw of the network. */
export interface TransferLoss {
  /** Retransmission timeouts while blocks were expected. */
  timeouts: number;
  /** Gaps in the block numbers (lost DATA the next block revealed). */
  gaps: number;
  /** The windowsize asked in the request (after any cap by the caller). */
  asked: number;
  /** The windowsize the server granted (1: lockstep, options refused);
   *  undefined when the transfer never started (no answer to the request). */
  granted?: number;
}

export interface WindowChange {
  from: number;
  to: number;
  why: "loss" | "clean" | "server";
}

export class WindowControl {
  private current: number;
  /** The server granted less than asked once: asking more is pointless. */
  private ceiling: number;

  /** `max` is the board's tftpWindowMax (or --tftp-window); the first
   *  request asks it, since the link is not known to lose until it does. */
  constructor(
    readonly max: number,
    private readonly onChange?: (c: WindowChange) => void,
  ) {
    if (!Number.isInteger(max) || max < 1 || max > WINDOWSIZE_MAX) throw new RangeError(`window must be from 1 to ${WINDOWSIZE_MAX} (RFC 7440; got ${max})`);
    this.current = max;
    this.ceiling = max;
  }

  /** The windowsize to ask in the next request. */
  get window(): number {
    return this.current;
  }

  /** After each transfer (completed or not): halve on loss, else grow by a
   *  quarter of the maximum (at least 1), so that 4 clean files after a loss
   *  bring a window back from half to full. */
  report(r: TransferLoss): void {
    const before = this.current;
    let why: WindowChange["why"] | undefined;
    if (r.granted !== undefined && r.granted < r.asked && r.granted >= 1) {
      this.ceiling = Math.min(this.ceiling, r.granted);
      this.current = Math.min(this.current, r.granted);
      why = "server";
    }
    if (r.timeouts > 0 || r.gaps > 0) {
      this.current = Math.max(1, Math.floor(this.current / 2));
      why = "loss";
    } else if (this.current < this.ceiling) {
      this.current = Math.min(this.ceiling, this.current + Math.max(1, Math.floor(this.max / 4)));
      why ??= "clean";
    }
    console.assert(this.current >= 1 && this.current <= this.ceiling, "window within 1..ceiling");
    if (this.current !== before && why !== undefined) this.onChange?.({ from: before, to: this.current, why });
  }
}
