// A FIFO of callbacks, each run no earlier than a fixed delay after it was
// pushed, on one timer: the relay's "half a round trip" in one direction.
// Since every item waits the same delay, due times never decrease along the
// queue, and one timer on the head is enough.

export class DelayLine {
  private queue: Array<{ dueMs: number; run: () => void } | undefined> = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDueMs = 0;

  constructor(private readonly delayMs: number) {
    console.assert(delayMs >= 0 && Number.isFinite(delayMs), "a delay is a finite time");
  }

  /** Items waiting. */
  get length(): number {
    return this.queue.length - this.head;
  }

  push(run: () => void): void {
    const dueMs = performance.now() + this.delayMs;
    console.assert(dueMs >= this.lastDueMs, "due times never decrease");
    this.lastDueMs = dueMs;
    if (this.delayMs === 0 && this.length === 0) {
      run();
      return;
    }
    this.queue.push({ dueMs, run });
    this.schedule();
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
    this.head = 0;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.length === 0) return;
    // Timers count from the loop's cached clock and may fire a little early
    // by performance.now(); flush() checks and waits again, so no item ever
    // leaves before its due time (the lower bound the site's RTT rests on).
    const waitMs = Math.max(0, Math.ceil(this.queue[this.head]!.dueMs - performance.now()));
    this.timer = setTimeout(() => this.flush(), waitMs);
  }

  private flush(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.dueMs <= now) {
      const item = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      item.run();
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    this.schedule();
  }
}
