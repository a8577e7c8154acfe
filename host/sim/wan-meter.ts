// What crossed the WAN link, counted at the link itself (not by the phones):
// every round's bytes spread over the time they took on the wire, in
// buckets, so that the highest rate over any window of a given length can
// be read back (the WAN budget is held if it stays under the cap).

/** Bucket width: a 10 ms bucket holds 2.5 kB at 2 Mbit/s; a window
 *  starting mid-bucket is off by at most one bucket, 0.25 % of 10 s. */
export const WAN_METER_BUCKET_MS = 10;
/** The window the budget is judged over: long against one paced round (a
 *  root's window drains within half a second, host/wan/budget.ts), so one
 *  burst per root moves it by a few percent at most, and short against a
 *  load at the cap (a 7961 load takes 65 s at 1 Mbit/s). */
export const WAN_RATE_WINDOW_MS = 10_000;

export class WanMeter {
  private buckets = new Float64Array(1024);
  private used = 0;
  totalBytes = 0;

  /** `bytes` crossed the link evenly from startMs to endMs. */
  add(startMs: number, endMs: number, bytes: number): void {
    console.assert(startMs >= 0 && endMs >= startMs && bytes >= 0, "a transmission has a span and a size");
    this.totalBytes += bytes;
    if (bytes === 0) return;
    const spanMs = endMs - startMs;
    const first = Math.floor(startMs / WAN_METER_BUCKET_MS);
    const last = spanMs === 0 ? first : Math.floor((endMs - 1e-9) / WAN_METER_BUCKET_MS);
    this.reserve(last + 1);
    if (first === last) {
      this.buckets[first] += bytes;
      return;
    }
    for (let b = first; b <= last; b++) {
      const from = Math.max(startMs, b * WAN_METER_BUCKET_MS);
      const to = Math.min(endMs, (b + 1) * WAN_METER_BUCKET_MS);
      this.buckets[b] += (bytes * (to - from)) / spanMs;
    }
  }

  /** The highest rate over any window of `windowMs` (whole buckets), bit/s;
   *  a run shorter than the window is judged over the window all the same. */
  maxBitsPerSec(windowMs = WAN_RATE_WINDOW_MS): number {
    const k = Math.max(1, Math.round(windowMs / WAN_METER_BUCKET_MS));
    let sum = 0;
    let best = 0;
    for (let b = 0; b < this.used; b++) {
      sum += this.buckets[b];
      if (b >= k) sum -= this.buckets[b - k];
      if (sum > best) best = sum;
    }
    return (best * 8 * 1000) / (k * WAN_METER_BUCKET_MS);
  }

  private reserve(n: number): void {
    if (n > this.buckets.length) {
      let size = this.buckets.length;
      while (size < n) size *= 2;
      const grown = new Float64Array(size);
      grown.set(this.buckets);
      this.buckets = grown;
    }
    this.used = Math.max(this.used, n);
  }
}
