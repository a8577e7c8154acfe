// The WAN's rate as the kernel saw it: tbf's counters on the site's downlink
// sampled every second during a run, and the highest payload rate over any
// RATE_WINDOW_MS, the same window the simulator's meter uses
// (host/sim/wan-meter.ts). Payload is what the cap of a WAN budget counts
// (docs/WAN.md): the frames' bytes less one header per packet.

import type { LinkCounters } from "./site-net.js";

/** Counters are read this often (one `tc -s` each). */
export const RATE_SAMPLE_MS = 1000;
/** The window the highest rate is taken over: the simulator's (docs/WAN.md). */
export const RATE_WINDOW_MS = 10_000;
/** Header bytes per packet besides the payload: Ethernet 14, IPv4 20, then
 *  UDP 8 and TFTP's opcode and block 4, or TCP 20 with timestamps 12. */
export const HEADER_BYTES = { tftp: 14 + 20 + 8 + 4, http: 14 + 20 + 20 + 12 } as const;

interface Sample {
  atMs: number;
  link: LinkCounters;
}

export class WanRateMeter {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly read: () => LinkCounters,
    private readonly headerBytes: number,
  ) {
    this.take();
    // Unref'd: a run that throws must not keep the process alive.
    this.timer = setInterval(() => this.take(), RATE_SAMPLE_MS).unref();
  }

  private take(): void {
    this.samples.push({ atMs: performance.now(), link: this.read() });
  }

  /** Stops sampling; returns the highest payload rate over any window of at
   *  least RATE_WINDOW_MS between two samples, kbit/s (null: the run was
   *  shorter than one window). */
  stop(): number | null {
    clearInterval(this.timer);
    this.take();
    let best: number | null = null;
    let j = 0;
    for (let i = 0; i < this.samples.length; i++) {
      const end = this.samples[i];
      // The latest start at least one window before this end.
      while (j + 1 < i && end.atMs - this.samples[j + 1].atMs >= RATE_WINDOW_MS) j++;
      const start = this.samples[j];
      const ms = end.atMs - start.atMs;
      if (ms < RATE_WINDOW_MS) continue;
      const payload = end.link.bytes - start.link.bytes - this.headerBytes * (end.link.packets - start.link.packets);
      const kbps = (payload * 8) / ms;
      if (best === null || kbps > best) best = kbps;
    }
    return best === null ? null : Math.round(best);
  }
}
