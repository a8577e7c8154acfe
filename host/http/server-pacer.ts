// `pfs httpd`'s emulated WAN, the same link `pfs tftpd` emulates (this
// kernel has no netem): one token bucket for everything the server sends,
// shared by all its responses so that their sum holds the rate, and half the
// round trip on each way. A request is held RTT/2 before it is read (its way
// in); its answer's head leaves RTT/2 later (its way out), and each write of
// the body once the bucket has let its last bit out. Holding every write of
// one connection by RTT/2 would only shift them all alike, so the half is
// paid once, at the head (paid per write, it would throttle each response
// to a write per RTT/2). So the first byte of an answer reaches the client
// one RTT after its request left, and the body then flows at the rate. TCP's own handshake and acknowledgements are not delayed: over a
// connection kept alive (as a phone's fetch keeps it) only the request and
// the data matter.

/** A TCP segment's headers on the WAN: IPv4 (20), TCP (20) and the
 *  timestamp option Linux sends by default (12). */
export const TCP_IPV4_OVERHEAD_BYTES = 52;
/** The payload of one segment on Ethernet: an MTU of 1500 less those. */
export const TCP_SEGMENT_BYTES = 1500 - TCP_IPV4_OVERHEAD_BYTES;
/** The bucket's depth: two full Ethernet frames may go back to back, as in
 *  `pfs tftpd` (host/tftp/server.ts WAN_BURST_BYTES). */
export const HTTP_WAN_BURST_BYTES = 3000;

/** The bytes the WAN carries for `payloadBytes` of one write: the payload
 *  and the headers of the segments it takes. */
export function wireBytes(payloadBytes: number): number {
  if (!(payloadBytes >= 0)) throw new RangeError(`payload ${payloadBytes}`);
  return payloadBytes + Math.ceil(payloadBytes / TCP_SEGMENT_BYTES) * TCP_IPV4_OVERHEAD_BYTES;
}

const sleep = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

export class HttpWan {
  readonly active: boolean;
  readonly halfRttMs: number;
  /** GCRA's theoretical arrival time (ITU-T I.371): the bucket as one number. */
  private tatMs = 0;

  constructor(
    readonly kbps: number,
    readonly rttMs: number,
  ) {
    if (!(kbps >= 0) || !Number.isFinite(kbps)) throw new RangeError(`wanKbps must be 0 or more (got ${kbps})`);
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) throw new RangeError(`wanRttMs must be 0 or more (got ${rttMs})`);
    this.halfRttMs = rttMs / 2;
    this.active = kbps > 0 || rttMs > 0;
  }

  /** Resolves when a request has crossed half the round trip to us. */
  inbound(): Promise<void> {
    return this.halfRttMs > 0 ? sleep(this.halfRttMs) : Promise.resolve();
  }

  /** Resolves when a response's head (`headBytes`) has left through the
   *  bucket and crossed half the round trip. */
  head(headBytes: number): Promise<void> {
    return this.outbound(headBytes, this.halfRttMs);
  }

  /** Resolves when a write of `payloadBytes` of a body has left through the
   *  bucket: the caller writes it then. Callers of one response await each
   *  write before the next, so a response stays in order. */
  body(payloadBytes: number): Promise<void> {
    return this.outbound(payloadBytes, 0);
  }

  private outbound(payloadBytes: number, crossingMs: number): Promise<void> {
    if (!this.active) return Promise.resolve();
    const now = performance.now();
    let doneMs = now;
    if (this.kbps > 0) {
      // kbit/s is bits per ms. The write may start once the bucket holds its
      // bytes (tat - burst) and is out once its last bit is.
      const txMs = (wireBytes(payloadBytes) * 8) / this.kbps;
      const startMs = Math.max(now, this.tatMs - (HTTP_WAN_BURST_BYTES * 8) / this.kbps);
      this.tatMs = Math.max(this.tatMs, startMs) + txMs;
      doneMs = startMs + txMs;
    }
    return sleep(Math.ceil(doneMs + crossingMs - now));
  }
}
