// Callbacks run in order, each no earlier than its due time (which never
// decreases along the line), on one timer on the head: how our TFTP server's
// WAN emulation (host/tftp/server.ts) and the site's relay
// (host/site/delay-line.ts) hold what a WAN would.

export class DelayLine {
  private queue: Array<{ dueMs: number; run: () => void } | undefined> = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Items waiting. */
  get length(): number {
    return this.queue.length - this.head;
  }

  push(dueMs: number, run: () => void): void {
    console.assert(this.head === this.queue.length || dueMs >= this.queue[this.queue.length - 1]!.dueMs, "due times never decrease");
    if (this.head === this.queue.length && dueMs <= performance.now()) {
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
    if (this.timer !== undefined || this.head === this.queue.length) return;
    // Node's timers count from the loop's cached clock and may fire a little
    // early by performance.now(); flush() checks and waits again if so.
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
