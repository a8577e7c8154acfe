// `pfs phone --json`: the one object a program reads at the end of a phone's
// run: who it is, what its flash booted before and boots after (read from
// the image itself), the exit code and outcome, and each component's
// progress as its console lines told it.

import { loadBoard } from "../boards.js";
import { AbStore } from "../flash/ab-store.js";
import { FileDevice } from "../flash/file-device.js";
import { boardLayout, layoutBytes } from "../flash/layout.js";

/** A console progress line: "... DLoad: <file> <pct>% <n> KB PFS|direct". */
const PROGRESS_LINE = / DLoad: (\S+) +(\d+)% (\d+) KB (PFS|direct)$/;

/** What a flash image boots (its load's name), null when nothing verifies
 *  or the image cannot be read. */
export function bootedLoad(flashPath: string, boardName: string): string | null {
  let dev: FileDevice;
  const layout = boardLayout(loadBoard(boardName));
  try {
    dev = FileDevice.open(flashPath, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  } catch {
    return null;
  }
  try {
    const b = AbStore.open(dev, layout).boot();
    return b.verified ? (b.manifest?.loadName ?? null) : null;
  } catch {
    return null;
  } finally {
    dev.close();
  }
}

export interface PhoneJson {
  mac: string;
  ip: string;
  model: string;
  loadBefore: string | null;
  loadAfter: string | null;
  exit: number;
  outcome: "upgraded" | "unchanged" | "failed";
  seconds: number;
  components: Record<string, { percent: number; kb: number; via: string }>;
  /** The failure's one line, when it failed. */
  error?: string;
}

/** Collects a phone's progress from its console lines as they pass. */
export class PhoneProgress {
  readonly components: PhoneJson["components"] = {};
  private readonly startedMs = performance.now();

  line(text: string): void {
    const m = PROGRESS_LINE.exec(text);
    if (m !== null) this.components[m[1]] = { percent: Number(m[2]), kb: Number(m[3]), via: m[4] };
  }

  seconds(): number {
    return Math.round((performance.now() - this.startedMs) / 100) / 10;
  }
}

export function phoneJson(who: { mac: string; ip: string; model: string }, before: string | null, after: string | null, exit: number, progress: PhoneProgress, error?: string): PhoneJson {
  const outcome = exit !== 0 ? "failed" : after !== null && after !== before ? "upgraded" : "unchanged";
  return { ...who, loadBefore: before, loadAfter: after, exit, outcome, seconds: progress.seconds(), components: progress.components, ...(error === undefined ? {} : { error }) };
}
