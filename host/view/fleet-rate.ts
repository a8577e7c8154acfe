// A component's transfer rate: bytes per second over a sliding window of
// (time, bytes held) samples. The window is in report time (atMs), never the
// wall clock, so the simulator's virtual time gives virtual rates.

/** How far back a rate looks: long enough to smooth the 2 s status ticks of
 *  a phone (host/phone/fleet.ts prints progress every 2000 ms), short enough
 *  that a stalled transfer shows 0 within a few seconds. */
export const RATE_WINDOW_MS = 5000;

/** Samples kept per component: a phone reports at most a few lines per
 *  block, and older samples than the window are dropped anyway; 32 bounds the
 *  memory when a burst of lines comes within one window. */
export const RATE_MAX_SAMPLES = 32;

export class RateWindow {
  private readonly atMs: number[] = [];
  private readonly bytes: number[] = [];

  /** Records that `bytes` were held at `atMs`, dropping samples older than
   *  the window (but keeping two, so a phone that reports seldom still has a
   *  rate). Time or bytes going backwards (a restarted phone, reordered
   *  datagrams) restarts the window. */
  add(atMs: number, bytes: number): void {
    const last = this.atMs.length - 1;
    if (last >= 0 && (atMs < this.atMs[last] || bytes < this.bytes[last])) {
      this.atMs.length = 0;
      this.bytes.length = 0;
    }
    this.atMs.push(atMs);
    this.bytes.push(bytes);
    while (this.atMs.length > RATE_MAX_SAMPLES || (this.atMs.length > 2 && atMs - this.atMs[0] > RATE_WINDOW_MS)) {
      this.atMs.shift();
      this.bytes.shift();
    }
    if (this.atMs.length !== this.bytes.length || this.atMs.length > RATE_MAX_SAMPLES) throw new Error("rate window out of step");
  }

  /** Bytes per second between the oldest and newest sample in the window,
   *  0 with fewer than two samples or no time between them. */
  bytesPerSec(): number {
    const n = this.atMs.length;
    if (n < 2) return 0;
    const ms = this.atMs[n - 1] - this.atMs[0];
    if (ms <= 0) return 0;
    const rate = ((this.bytes[n - 1] - this.bytes[0]) * 1000) / ms;
    if (!(rate >= 0)) throw new Error(`negative rate ${rate}`);
    return Math.round(rate);
  }
}
