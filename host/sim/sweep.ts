// The fault sweep (issue 10, section 3): run k of a sweep from seed S uses
// seed S + k, and that seed alone draws the whole run: its fleet (16-256
// phones, 1-3 models, a load and how many of its files, a board) and its
// faults (loss, duplication, jitter that reorders, partitions that heal,
// random, root and interior crashes, restarts, late joiners, rogue phones,
// flash reads that fail or flip a bit, writes that fail, a full flash). So a failing seed is reproduced by itself, on any
// number of workers: `pfs sweep --runs 1 --seed <seed>`.
//
// Every run ends with a healed phase (fleet.ts) and must pass everything
// the fleet checks (every live honest phone holds the whole load verified,
// nothing unverified in any flash, nobody but a root at the server, no byte
// offered twice, the trees as check.ts wants them, no trap of the core),
// timer coalescing (wakes.ts), and the WAN bound below.

import { FleetOptions, FleetResult, runFleet } from "./fleet.js";
import type { CoreBuild } from "./core-build.js";
import { Rng } from "./random.js";
import { getPreset } from "../load/presets.js";
import { BLOCK_BYTES, HASH_BYTES } from "../core/abi.js";

/** The fleet sizes the issue names; drawn log-uniform, so small and large
 *  fleets are equally common. */
export const SWEEP_MIN_PHONES = 16;
export const SWEEP_MAX_PHONES = 256;
export const SWEEP_MAX_MODELS = 3;
/** Loads small enough for a thousand runs: tiny (83 KB, 3 files) over a
 *  slow WAN, and the microcontroller load (1.25 MiB, 5 files). */
export const SWEEP_LOADS = ["tiny", "mcu-1.0"] as const;
/** Boards: each model's own phone board, or every phone on a
 *  microcontroller board (2 transfers: files wait their turn). */
export const SWEEP_BOARDS = [undefined, "mcu", "mps2-an385"] as const;
export const SWEEP_MAX_LOSS = 0.3;
export const SWEEP_MAX_DUP = 0.2;
export const SWEEP_MAX_JITTER_MS = 10;
export const SWEEP_MAX_ROGUES = 2;
/** Per flash read for a child. A flipped bit makes the child distrust an
 *  honest parent for 10 minutes (it cannot tell it from a rogue), so flips
 *  are kept rarer than failed reads: at 3 % a phone served from flash came
 *  to avoid most of the tree (seed 174 of an early sweep). */
export const SWEEP_MAX_FLASH_READ_FAIL = 0.01;
export const SWEEP_MAX_FLASH_READ_FLIP = 0.005;
/** Per flash write during the fault phase: each is retried after a backoff;
 *  four in a row give the file up, which at 5 % happens about once in
 *  160,000 writes. */
export const SWEEP_MAX_FLASH_WRITE_FAIL = 0.05;
/** Runs with one phone whose flash is full: it must give every file up. */
export const SWEEP_FULL_FLASH_RUNS = 0.1;
/** The fault phase: long enough that crashes and rogues land mid-file. */
export const SWEEP_FAULT_MS = 20_000;

/** Options of run `seed`: everything from the seed, nothing else. */
export function sweepRunOptions(seed: number, core: CoreBuild): Partial<FleetOptions> {
  const r = Rng.derive(seed, "sweep");
  const phones = Math.round(SWEEP_MIN_PHONES * 2 ** (r.next() * Math.log2(SWEEP_MAX_PHONES / SWEEP_MIN_PHONES)));
  const load = r.pick(SWEEP_LOADS);
  const components = getPreset(load).components.length;
  const tiny = load === "tiny";
  // A WAN slow enough that the load takes longer than the fault phase.
  const wanKbps = tiny ? r.int(48, 256) : r.int(1000, 4000);
  const rogues = r.chance(0.3) ? r.int(1, SWEEP_MAX_ROGUES) : 0;
  const flashFaults = r.chance(0.3);
  return {
    seed, core, phones, models: r.int(1, SWEEP_MAX_MODELS), load, loadFiles: r.int(1, components),
    board: r.pick(SWEEP_BOARDS), mode: r.chance(0.2) ? "store-and-forward" : "cut-through",
    wanKbps, wanRttMs: r.int(20, 120), tftpWindow: r.pick([1, 1, 4, 8]),
    loss: r.next() * SWEEP_MAX_LOSS, dup: r.next() * SWEEP_MAX_DUP, jitterMs: r.next() * SWEEP_MAX_JITTER_MS,
    partitions: r.int(0, 2), crash: r.next() * 0.1, restart: r.next(),
    rootCrashes: r.int(0, 2), interiorCrashes: r.int(0, 3), late: r.int(0, 8), rogues,
    flashReadFail: flashFaults ? r.next() * SWEEP_MAX_FLASH_READ_FAIL : 0,
    flashReadFlip: flashFaults ? r.next() * SWEEP_MAX_FLASH_READ_FLIP : 0,
    faultMs: SWEEP_FAULT_MS, probeWakes: true,
    flashWriteFail: flashFaults ? r.next() * SWEEP_MAX_FLASH_WRITE_FAIL : 0,
    flashFull: r.chance(SWEEP_FULL_FLASH_RUNS) ? 1 : 0,
  };
}

/** Faults one run injected, by kind (summed over a sweep). */
export type FaultCounts = Record<(typeof FAULT_KINDS)[number], number>;
export const FAULT_KINDS = [
  "datagramsLost", "datagramsDuplicated", "jitteredRuns", "partitions", "crashes", "rootCrashesMidFile",
  "interiorCrashesMidFile", "restarts", "filesKeptOnRestart", "lateJoiners", "rogues", "corruptBlocksCaught", "flashReadFails", "flashReadFlips",
  "flashWriteFails", "fullFlashPhones",
] as const;

export interface SweepRun {
  seed: number;
  ok: boolean;
  /** The first error, and how many there were. */
  error?: string;
  errors: number;
  phones: number;
  virtualMs: number;
  wallMs: number;
  /** WAN bytes over the bound's allowance (wanBound). */
  wanRatio: number;
  wakesPerHeartbeat: number | null;
  faults: FaultCounts;
}

/** The WAN bound: each model's load (its files and their block lists)
 *  crosses once, plus once more for each event that can legitimately make
 *  a file's root start over or a second root fetch beside it: a crash of a
 *  root, mid-file (its successor's TFTP starts again at byte 0) or after it
 *  (a phone booting before the tree noticed may claim and fetch), a
 *  partition (each side elects a root), a rogue or a bit flipped on a flash
 *  read (its victim leaves the tree and avoids the sender, which may be its
 *  root: it may elect another), WAN_ELECTION_SLACK per model for roots
 *  elected at once under loss that fetch until they merge, and, where any
 *  claimant yielded while it fetched tentatively (claims at once that missed
 *  each other under loss, assembly/election.ts), WAN_TENTATIVE_SLACK more
 *  per model for all of those together: a yield comes within a few claim
 *  advertisements, so together they take a fraction of a file (300 seeds of
 *  up to 30 % loss: at most one crossing). */
export const WAN_ELECTION_SLACK = 1;
export const WAN_TENTATIVE_SLACK = 1;
export function wanBound(r: FleetResult, o: Partial<FleetOptions>): number {
  const models = o.models ?? 1;
  const files = getPreset(o.load!).components.slice(0, o.loadFiles);
  const transferBytes = files.reduce((n, f) => n + Math.ceil(f.sizeBytes / BLOCK_BYTES) * HASH_BYTES + f.sizeBytes, 0);
  const s = r.stats;
  const again = s.rootCrashesMidFile + s.rootCrashesDone + s.partitions * models + r.relay!.rogues + s.flashReadFlips + (WAN_ELECTION_SLACK + (s.tentativeYields > 0 ? WAN_TENTATIVE_SLACK : 0)) * models;
  return transferBytes * (models + again);
}

function faultsOf(o: Partial<FleetOptions>, r: FleetResult): FaultCounts {
  const s = r.stats;
  return {
    datagramsLost: s.datagramsLost, datagramsDuplicated: s.datagramsDuplicated, jitteredRuns: (o.jitterMs ?? 0) > 0 ? 1 : 0,
    partitions: s.partitions, crashes: s.crashes, rootCrashesMidFile: s.rootCrashesMidFile, interiorCrashesMidFile: s.interiorCrashesMidFile,
    restarts: s.restarts, filesKeptOnRestart: s.filesKeptOnRestart, lateJoiners: o.late ?? 0, rogues: r.relay?.rogues ?? 0, corruptBlocksCaught: r.relay?.corruptBlocks ?? 0,
    flashReadFails: s.flashReadFails, flashReadFlips: s.flashReadFlips, flashWriteFails: s.flashWriteFails, fullFlashPhones: o.flashFull ?? 0,
  };
}

/** Runs one seed of the sweep and judges it. A host exception (a bug of the
 *  simulator or of the host code it runs) fails the run too, never the
 *  sweep. */
export function runSweepSeed(seed: number, core: CoreBuild): SweepRun {
  const o = sweepRunOptions(seed, core);
  const started = performance.now();
  let r: FleetResult;
  try {
    r = runFleet(o);
  } catch (e) {
    const error = `host exception: ${e instanceof Error ? (e.stack ?? e.message).split("\n").slice(0, 3).join(" | ") : String(e)}`;
    return { seed, ok: false, error, errors: 1, phones: o.phones!, virtualMs: 0, wallMs: Math.round(performance.now() - started), wanRatio: 0, wakesPerHeartbeat: null, faults: emptyFaults() };
  }
  const errors = [...r.errors];
  const bound = wanBound(r, o);
  const wanBytes = r.relay!.wanBytes;
  if (wanBytes > bound) errors.push(`${wanBytes} WAN bytes, over the bound of ${bound} (wanBound)`);
  return {
    seed, ok: errors.length === 0, error: errors[0], errors: errors.length, phones: r.phones, virtualMs: r.virtualMs, wallMs: r.wallMs,
    wanRatio: Math.round((wanBytes / bound) * 1000) / 1000, wakesPerHeartbeat: r.wakesPerHeartbeat, faults: faultsOf(o, r),
  };
}

export function emptyFaults(): FaultCounts {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
}

export interface SweepSummary {
  runs: number;
  seed: number;
  core: CoreBuild;
  jobs: number;
  failed: Array<{ seed: number; error: string }>;
  wallMs: number;
  /** Simulated phones over all runs, and virtual time. */
  phones: number;
  virtualMs: number;
  faults: FaultCounts;
  /** The largest WAN use seen, as a fraction of its bound. */
  maxWanRatio: number;
  maxWakesPerHeartbeat: number | null;
}

/** Folds runs (in any order) into the sweep's figures, failures by seed. */
export function summarize(runs: SweepRun[], seed: number, core: CoreBuild, jobs: number, wallMs: number): SweepSummary {
  const faults = emptyFaults();
  let maxWakes: number | null = null;
  for (const run of runs) {
    for (const k of FAULT_KINDS) faults[k] += run.faults[k];
    if (run.wakesPerHeartbeat !== null) maxWakes = Math.max(maxWakes ?? 0, run.wakesPerHeartbeat);
  }
  return {
    runs: runs.length, seed, core, jobs,
    failed: runs.filter((r) => !r.ok).sort((a, b) => a.seed - b.seed).map((r) => ({ seed: r.seed, error: r.error ?? "" })),
    wallMs: Math.round(wallMs),
    phones: runs.reduce((n, r) => n + r.phones, 0),
    virtualMs: runs.reduce((n, r) => n + r.virtualMs, 0),
    faults,
    maxWanRatio: runs.reduce((m, r) => Math.max(m, r.wanRatio), 0),
    maxWakesPerHeartbeat: maxWakes,
  };
}
