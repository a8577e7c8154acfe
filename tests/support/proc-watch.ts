// Samples a running process from /proc: its resident memory (now and its
// kernel-kept peak, VmHWM, so nothing between samples is missed) and how
// many file descriptors it holds. Linux only; a process that has exited
// leaves the figures of its last sample.

import { readdirSync, readFileSync } from "node:fs";

/** Often enough to see a descriptor spike of a few hundred ms. */
const SAMPLE_MS = 50;

export interface ProcFigures {
  samples: number;
  /** Peak resident set (VmHWM), KiB. */
  peakRssKb: number;
  /** The most descriptors open at one sample. */
  maxFds: number;
}

export class ProcWatch {
  readonly figures: ProcFigures = { samples: 0, peakRssKb: 0, maxFds: 0 };
  private timer: NodeJS.Timeout | null = null;
  private pid: number | undefined;

  /** Starts sampling `pid()` (read at each sample: a phone may restart). */
  constructor(private readonly pidOf: () => number | undefined) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  sample(): void {
    const pid = this.pidOf();
    if (pid === undefined) return;
    this.pid = pid;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      const fds = readdirSync(`/proc/${pid}/fd`).length;
      this.figures.samples++;
      this.figures.peakRssKb = Math.max(this.figures.peakRssKb, hwm);
      this.figures.maxFds = Math.max(this.figures.maxFds, fds);
    } catch {
      // it exited between two reads
    }
  }

  stop(): ProcFigures {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    return this.figures;
  }
}
