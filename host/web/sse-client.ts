// One browser on /events: a snapshot when it connects, then the view's
// changes as deltas, coalesced to at most SSE_MAX_MESSAGES_PER_SEC, and
// never more while the socket has not drained (a slow browser gets fewer,
// larger deltas, not an unbounded queue). Message format: docs/WEB.md.

import type { ServerResponse } from "node:http";
import type { FleetView } from "../view/fleet-view.js";

/** Messages per second to one browser: a page redrawn 4 times a second
 *  reads as live, and a fleet of thousands reporting every 16 KiB block
 *  then costs the browser a handful of JSON parses a second. */
export const SSE_MAX_MESSAGES_PER_SEC = 4;
const SSE_MIN_GAP_MS = 1000 / SSE_MAX_MESSAGES_PER_SEC;

/** A comment line this often keeps proxies and the browser from closing an
 *  idle stream (the fleet may be quiet for minutes while phones linger). */
export const SSE_KEEPALIVE_MS = 15_000;

/** How long the browser waits before reconnecting after the stream ends. */
const SSE_RETRY_MS = 2000;

export class SseClient {
  private sentVersion: number;
  private lastSentMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private ended = false;
  private readonly unsubscribe: () => void;
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly res: ServerResponse, private readonly view: FleetView, private readonly onEnd: () => void) {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
    const snap = view.snapshot();
    this.sentVersion = snap.version;
    this.write(`retry: ${SSE_RETRY_MS}\n\n`);
    this.write(message("snapshot", snap));
    this.lastSentMs = Date.now();
    this.unsubscribe = view.onChange(() => this.schedule());
    this.keepalive = setInterval(() => this.write(": keepalive\n\n"), SSE_KEEPALIVE_MS);
    res.on("close", () => this.end());
    res.on("drain", () => {
      this.draining = false;
      this.schedule();
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe();
    clearInterval(this.keepalive);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.res.end();
    this.onEnd();
  }

  /** A flush no sooner than SSE_MIN_GAP_MS after the last one; one timer at
   *  most, however many changes come meanwhile. */
  private schedule(): void {
    if (this.ended || this.timer !== null || this.draining) return;
    if (this.view.currentVersion === this.sentVersion) return;
    const wait = Math.max(0, this.lastSentMs + SSE_MIN_GAP_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.ended || this.draining) return;
    const d = this.view.deltaSince(this.sentVersion);
    if (d.version < this.sentVersion) throw new Error("the view went back in version");
    this.sentVersion = d.version;
    this.lastSentMs = Date.now();
    this.write(message("delta", d));
  }

  private write(s: string): void {
    if (this.ended) return;
    if (!this.res.write(s)) this.draining = true;
  }
}

/** One SSE message: JSON has no raw newlines, so one data line carries it. */
function message(event: string, data: unknown): string {
  const json = JSON.stringify(data);
  if (json.includes("\n")) throw new Error("JSON with a newline in it");
  return `event: ${event}\ndata: ${json}\n\n`;
}
