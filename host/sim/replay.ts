// The simulator paced for a person: `pfs sim --web` steps the fleet in
// slices of virtual time and waits so that virtual time runs `speed` times
// as fast as the wall clock, feeding each slice's reports (reports.ts) to a
// watcher as it goes. Stepping, not recording and replaying: memory stays
// that of the fleet, however long the run. recordSimReports() is the same
// feed run flat out, kept in memory (tests, small fleets).

import { Fleet, FleetOptions, FleetResult } from "./fleet.js";
import { ReportSink, SimReports } from "./reports.js";
import type { PhoneReport } from "../view/report.js";

/** Virtual time per wall time by default: a 200 s upgrade of the 7961 load
 *  watched in 20 s. */
export const DEFAULT_SIM_SPEED = 10;
/** The fastest pace asked for: beyond it the simulator, not the clock, sets
 *  the pace on this machine anyway (a 64-phone fleet runs at about 100x). */
export const MAX_SIM_SPEED = 100_000;
/** Fleet steps between two yields to the event loop when the simulator is
 *  behind the clock: the page server must still answer meanwhile. */
export const STEPS_PER_YIELD = 10;
/** Reports one recording may hold: recordSimReports is for small fleets;
 *  a big one belongs to replaySim, which holds none. */
export const MAX_RECORDED_REPORTS = 2_000_000;

export interface ReplayOptions {
  fleet: Partial<FleetOptions>;
  /** Virtual ms per wall ms, 0 < speed <= MAX_SIM_SPEED. */
  speed: number;
  sink: ReportSink;
  signal?: AbortSignal;
  /** The wall clock and the wait (tests may give their own). */
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Runs the fleet to its end at `speed`, feeding `sink`; resolves with the
 *  run's result (or when `signal` aborts, with the result so far). */
export async function replaySim(o: ReplayOptions): Promise<FleetResult> {
  if (!(o.speed > 0 && o.speed <= MAX_SIM_SPEED)) throw new Error(`--speed must be above 0 and at most ${MAX_SIM_SPEED}`);
  const now = o.nowMs ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const fleet = new Fleet(o.fleet);
  const reports = new SimReports(fleet, o.sink);
  const startMs = now();
  let steps = 0;
  while (!o.signal?.aborted && !fleet.step()) {
    reports.maybeSample();
    const waitMs = startMs + fleet.world.nowMs / o.speed - now();
    if (waitMs > 0) await sleep(waitMs);
    else if (++steps % STEPS_PER_YIELD === 0) await new Promise<void>((r) => setImmediate(r));
  }
  reports.sample();
  return fleet.result();
}

/** The same feed, flat out, every report kept: for tests and small fleets. */
export function recordSimReports(opts: Partial<FleetOptions>): { result: FleetResult; reports: PhoneReport[] } {
  const out: PhoneReport[] = [];
  const fleet = new Fleet(opts);
  const reports = new SimReports(fleet, (r) => {
    if (out.length >= MAX_RECORDED_REPORTS) throw new Error(`more than ${MAX_RECORDED_REPORTS} reports: use replaySim for a fleet this big`);
    out.push(r);
  });
  while (!fleet.step()) reports.maybeSample();
  reports.sample();
  return { result: fleet.result(), reports: out };
}
