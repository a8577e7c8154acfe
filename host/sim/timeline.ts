// A run's course over virtual time: how many live phones hold their whole
// load, and how many bytes have crossed the WAN, sampled after every step of
// the fleet (FleetOptions.sampleMs). Bounded: when the samples fill their
// table, every other one goes and the stride doubles, so a long run (direct,
// 1000 phones: 9 virtual hours) keeps its shape in the same memory as a
// short one. What `pfs sim --plot` and the bench's plot draw.

import { Fleet, FleetResult } from "./fleet.js";

/** Samples kept: twice the width in pixels of a chart (host/plot/svg.ts),
 *  so thinning never shows. */
export const MAX_TIMELINE_SAMPLES = 2048;

export interface TimelineSample {
  atMs: number;
  /** Live phones holding every file of their model, checked. */
  done: number;
  /** Bytes the server has sent, all models. */
  wanBytes: number;
}

export class Timeline {
  readonly samples: TimelineSample[] = [];
  /** Record every `stride`-th sample offered (doubles as the table fills). */
  private stride = 1;
  private offered = 0;
  private last: TimelineSample | null = null;

  /** Offers one sample; kept or not by the stride. Times must not go back. */
  offer(s: TimelineSample): void {
    if (this.last !== null && s.atMs < this.last.atMs) throw new Error(`timeline: sample at ${s.atMs} ms after one at ${this.last.atMs} ms`);
    this.last = s;
    if (this.offered++ % this.stride !== 0) return;
    this.samples.push(s);
    if (this.samples.length >= MAX_TIMELINE_SAMPLES) {
      let k = 0;
      for (let i = 0; i < this.samples.length; i += 2) this.samples[k++] = this.samples[i];
      this.samples.length = k;
      this.stride *= 2;
    }
  }

  /** The samples kept, with the last one offered always at the end (the
   *  run's final state, whatever the stride skipped). */
  finished(): TimelineSample[] {
    const out = this.samples.slice();
    if (this.last !== null && out[out.length - 1] !== this.last) out.push(this.last);
    if (out.length > MAX_TIMELINE_SAMPLES) throw new Error("timeline: table overflow");
    return out;
  }
}

/** The fleet as it stands now, as one sample. */
export function sampleFleet(fleet: Fleet): TimelineSample {
  const w = fleet.world;
  let done = 0;
  for (const p of w.phones) {
    if (!p.alive) continue;
    const files = w.relay.fileDone.get(p.index);
    if (files !== undefined && files.size >= fleet.catalog[p.model].files.length) done++;
  }
  const wanBytes = w.relay.wanBytes.reduce((a, b) => a + (b ?? 0), 0);
  return { atMs: w.nowMs, done, wanBytes };
}

/** Runs a fleet to its end as runFleet() does, recording its timeline. */
export function runFleetTimeline(fleet: Fleet): { result: FleetResult; timeline: TimelineSample[] } {
  const t = new Timeline();
  t.offer(sampleFleet(fleet));
  while (!fleet.step()) t.offer(sampleFleet(fleet));
  t.offer(sampleFleet(fleet));
  return { result: fleet.result(), timeline: t.finished() };
}
