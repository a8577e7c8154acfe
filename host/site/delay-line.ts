// The site relay's "half a round trip" in one direction: every item waits
// the same delay, so due times never decrease and one DelayLine
// (host/wan/delay-line.ts) holds them.

import { DelayLine } from "../wan/delay-line.js";

export class FixedDelayLine {
  private readonly line = new DelayLine();

  constructor(private readonly delayMs: number) {
    console.assert(delayMs >= 0 && Number.isFinite(delayMs), "a delay is a finite time");
  }

  /** Items waiting. */
  get length(): number {
    return this.line.length;
  }

  push(run: () => void): void {
    this.line.push(performance.now() + this.delayMs, run);
  }

  clear(): void {
    this.line.clear();
  }
}
