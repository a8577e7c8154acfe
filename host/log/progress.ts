// The phone's progress on a terminal: one live bar per component (percent,
// KiB/s, PFS or direct) drawn by cli-progress, redrawn in place; console
// lines printed meanwhile go above the bars (MultiBar.log), so they never
// cut a bar in two. Only on a TTY: a pipe or a file gets the plain progress
// lines, as before (docs/CONSOLE.md).

import cliProgress from "cli-progress";

/** What a terminal stream must be for bars: a TTY (cli-progress moves the
 *  cursor with escape sequences, which a file would keep as garbage). */
export type TtyStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface ComponentProgress {
  name: string;
  /** Bytes of the file held (block list excluded), and its size. */
  held: number;
  size: number;
  viaPfs: boolean;
  done: boolean;
}

/** The window the rate is measured over: the phone's loop looks every
 *  200 ms (host/phone/phone.ts), so ten looks; short enough to show a
 *  stall within seconds, long enough not to flicker. */
export const RATE_WINDOW_MS = 2000;
/** Redraws per second: the phone updates five times a second anyway. */
export const BAR_FPS = 5;
/** Characters of a component's name shown: the vendor's component names
 *  (jar41sccp.9-4-2ES26.sbn) are about 24; longer ones end in "~". */
export const NAME_CHARS = 24;
/** A line without its bar: name, percent, KiB, KiB/s and "direct" with
 *  their spaces (the format below). */
const LINE_CHARS_BUT_BAR = NAME_CHARS + 38;
/** The bar's width: what the terminal leaves (a line longer than it would be
 *  cut off), within these bounds; 80 columns when it does not say. */
export const BAR_CHARS = { min: 10, max: 40 } as const;
const DEFAULT_COLUMNS = 80;
/** Bars one display draws: a load's components (MAX_COMPONENTS is far
 *  more, but a terminal shows a screenful). */
export const MAX_BARS = 32;

interface Bar {
  bar: cliProgress.SingleBar;
  /** (ms, held) samples within RATE_WINDOW_MS, oldest first. */
  samples: Array<[number, number]>;
}

export class TtyProgress {
  private multi: cliProgress.MultiBar | null = null;
  private readonly bars = new Map<string, Bar>();

  /** `out` prints a line when no bars are live (before and after them). */
  constructor(private readonly stream: TtyStream, private readonly out: (line: string) => void) {
    if (stream.isTTY !== true) throw new Error("TtyProgress needs a TTY: use the plain progress lines otherwise");
  }

  /** A console line: above the live bars, or as it is when none are live. */
  log(line: string): void {
    if (this.multi === null) this.out(line);
    else this.multi.log(`${line}\n`);
  }

  /** The components as they stand at `nowMs` (any clock in ms). */
  update(nowMs: number, comps: ComponentProgress[]): void {
    if (comps.length > MAX_BARS) comps = comps.slice(0, MAX_BARS);
    this.multi ??= new cliProgress.MultiBar({
      stream: this.stream, fps: BAR_FPS, hideCursor: false, clearOnComplete: false, stopOnComplete: false,
      barsize: Math.max(BAR_CHARS.min, Math.min(BAR_CHARS.max, (this.stream.columns || DEFAULT_COLUMNS) - LINE_CHARS_BUT_BAR - 1)),
      format: "{name} {bar} {percentage}% {kib} KiB {rate} KiB/s {via}", autopadding: true, forceRedraw: true,
    }, cliProgress.Presets.shades_classic);
    for (const c of comps) {
      if (!(c.size > 0 && c.held >= 0)) throw new Error(`progress: ${c.name} holds ${c.held} of ${c.size}`);
      const held = c.done ? c.size : Math.min(c.held, c.size);
      let b = this.bars.get(c.name);
      if (b === undefined) {
        b = { bar: this.multi.create(c.size, 0, this.payload(c, 0, 0)), samples: [] };
        this.bars.set(c.name, b);
      }
      b.samples.push([nowMs, held]);
      while (b.samples.length > 1 && nowMs - b.samples[0][0] > RATE_WINDOW_MS) b.samples.shift();
      const [t0, h0] = b.samples[0];
      const rate = nowMs > t0 ? ((held - h0) * 1000) / (nowMs - t0) : 0;
      b.bar.update(held, this.payload(c, held, rate));
    }
  }

  private payload(c: ComponentProgress, held: number, bytesPerSec: number) {
    return {
      name: c.name.length > NAME_CHARS ? `${c.name.slice(0, NAME_CHARS - 1)}~` : c.name.padEnd(NAME_CHARS),
      kib: String(Math.round(held / 1024)).padStart(6),
      rate: (bytesPerSec / 1024).toFixed(1).padStart(7),
      via: c.viaPfs ? "PFS" : "direct",
    };
  }

  /** Draws the bars one last time and leaves them on screen; lines go
   *  plain again. Safe to call twice. */
  stop(): void {
    if (this.multi === null) return;
    this.multi.stop();
    this.multi = null;
    this.bars.clear();
  }
}

/** Bars for `stream` when it is a terminal, otherwise null (plain lines). */
export function ttyProgressFor(stream: TtyStream, out: (line: string) => void): TtyProgress | null {
  return stream.isTTY === true ? new TtyProgress(stream, out) : null;
}
