// Console lines that outside input can cause, kept to a rate a person (and a
// disk) can take. A flood of 200,000 bad datagrams once wrote 86,862 lines,
// one per drop. Now:
//   - DropLog counts dropped inputs (event MALFORMED) by kind and reason and
//     prints at most one line per DROP_SUMMARY_INTERVAL_MS: the first drop
//     at once, then a summary of everything since, when the interval is up.
//   - EventBudget lets through at most EVENT_LINES_PER_INTERVAL lines of one
//     event code per interval, and says how many it held back.
// Both take the time as an argument (no clock of their own), so tests run
// them at any speed; the phone calls flush() from a timer.

import { formatAddr, malformedReason, MALFORMED_FRAME_BIT } from "./console.js";

/** At most one drop line per this long. 10 s: an admin watching the console
 *  sees a flood start at once and its size every 10 s; 200,000 drops in a
 *  minute make 7 lines, not 86,862. */
export const DROP_SUMMARY_INTERVAL_MS = 10_000;
/** Lines of one event code per interval before the rest are only counted.
 *  An honest fleet's busiest code (children added and lost while the trees
 *  settle) writes a few per file; 20 lets all of those through. */
export const EVENT_LINES_PER_INTERVAL = 20;
/** Sources named in a drop summary, the busiest first. */
const SOURCES_SHOWN = 3;
/** Distinct sources counted per interval; more are counted as "others"
 *  (a flood from rotating addresses must not grow this map without bound). */
const SOURCES_TRACKED = 256;

export class DropLog {
  private lastLineMs = -Infinity;
  private pending = 0;
  private datagrams = 0;
  private frames = 0;
  private readonly reasons = new Map<string, number>();
  private readonly sources = new Map<number, number>();
  private otherSources = 0;
  /** Every drop since the start, for tests and for the phone's last line. */
  total = 0;

  constructor(
    private readonly line: (atMs: number, text: string) => void,
    private readonly intervalMs = DROP_SUMMARY_INTERVAL_MS,
  ) {}

  /** One dropped input: `reason` is the event's n (0x80 set for a frame),
   *  `source` the peer's address (0 for a server handle). */
  add(nowMs: number, reason: number, source: number): void {
    this.total++;
    this.pending++;
    if ((reason & MALFORMED_FRAME_BIT) !== 0) this.frames++;
    else this.datagrams++;
    const name = malformedReason(reason);
    this.reasons.set(name, (this.reasons.get(name) ?? 0) + 1);
    if (this.sources.has(source) || this.sources.size < SOURCES_TRACKED) this.sources.set(source, (this.sources.get(source) ?? 0) + 1);
    else this.otherSources++;
    if (nowMs - this.lastLineMs >= this.intervalMs) this.flush(nowMs);
  }

  /** Prints the summary if drops are pending and the interval is up (or,
   *  `force`, at the end: nothing counted goes unsaid). */
  flush(nowMs: number, force = false): void {
    if (this.pending === 0 || (!force && nowMs - this.lastLineMs < this.intervalMs)) return;
    this.line(nowMs, this.summary());
    this.lastLineMs = nowMs;
    this.pending = this.datagrams = this.frames = this.otherSources = 0;
    this.reasons.clear();
    this.sources.clear();
  }

  private summary(): string {
    const kinds = [this.datagrams > 0 ? `${this.datagrams} datagram${this.datagrams === 1 ? "" : "s"}` : "", this.frames > 0 ? `${this.frames} frame${this.frames === 1 ? "" : "s"}` : ""]
      .filter((s) => s !== "").join(" and ");
    const reasons = [...this.reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(", ");
    const top = [...this.sources].sort((a, b) => b[1] - a[1]).slice(0, SOURCES_SHOWN)
      .map(([addr, n]) => `${addr === 0 ? "the server" : formatAddr(addr)} ${n}`);
    const rest = this.sources.size - top.length + (this.otherSources > 0 ? 1 : 0);
    const from = `from ${top.join(", ")}${rest > 0 ? ` and ${rest}${this.otherSources > 0 ? "+" : ""} more` : ""}`;
    return `Dropped malformed ${kinds} (${reasons}) ${from}; ${this.total} since start`;
  }
}

export class EventBudget {
  private windowStartMs = -Infinity;
  private readonly used = new Map<number, number>();
  private readonly held = new Map<string, number>();

  constructor(
    private readonly line: (atMs: number, text: string) => void,
    private readonly perInterval = EVENT_LINES_PER_INTERVAL,
    private readonly intervalMs = DROP_SUMMARY_INTERVAL_MS,
  ) {}

  /** True when a line of event `code` may be printed now; `name` says what
   *  is counted when it may not. */
  allow(nowMs: number, code: number, name: string): boolean {
    this.flush(nowMs);
    const n = this.used.get(code) ?? 0;
    if (n < this.perInterval) {
      this.used.set(code, n + 1);
      return true;
    }
    this.held.set(name, (this.held.get(name) ?? 0) + 1);
    return false;
  }

  /** Starts a new interval when the current one is over, saying first what
   *  it held back. */
  flush(nowMs: number): void {
    if (nowMs - this.windowStartMs < this.intervalMs) return;
    if (this.held.size > 0) {
      const what = [...this.held].map(([name, n]) => `${n} ${name}`).join(", ");
      this.line(nowMs, `... and ${what} line(s) not shown (more than ${this.perInterval} of a kind in ${this.intervalMs / 1000} s)`);
    }
    this.windowStartMs = nowMs;
    this.used.clear();
    this.held.clear();
  }
}
