// A fleet run: N phones of M models boot (in bulk, within bootSpreadMs), each
// needing F files of its model. A fault phase follows with datagram loss,
// duplication, jitter, partitions and crashes (some phones come back); then a
// healed phase runs until the checkers have passed for stableMs on end, or
// until a time limit. Everything derives from one seed.

import { loadBoard } from "../boards.js";
import { Ev, Role } from "../core/abi.js";
import { checkFleet, CheckReport, HierarchyInfo } from "./check.js";
import { SimModel, simCatalog } from "./catalog.js";
import { Rng } from "./random.js";
import { EventObserver, SimPhone, World, WorldStats } from "./world.js";

export interface FleetOptions {
  phones: number;
  models: number;
  files: number;
  seed: number;
  /** Datagram loss probability during the fault phase. */
  loss: number;
  /** Datagram duplication probability during the fault phase. */
  dup: number;
  /** Extra delay jitter during the fault phase (reorders datagrams), ms. */
  jitterMs: number;
  /** Fraction of phones that crash at random moments of the fault phase. */
  crash: number;
  /** Fraction of crashed phones that power up again (late joiners). */
  restart: number;
  /** Crashes aimed at a confirmed root of some hierarchy, at random moments
   *  of the fault phase (in addition to `crash`). */
  rootCrashes: number;
  /** Crashes aimed at interior phones (a parent that is not a root). */
  interiorCrashes: number;
  /** Partition episodes during the fault phase. */
  partitions: number;
  /** Phones that boot only after the fault phase, when trees exist. */
  late: number;
  faultMs: number;
  bootSpreadMs: number;
  stableMs: number;
  /** Give up this long after the fault phase. */
  healLimitMs: number;
  sampleMs: number;
  board: string;
  observer?: EventObserver;
  /** Called when a phone crashes (rst: its sockets reset) or boots again. */
  onCrash?: (atMs: number, phone: number, rst: boolean) => void;
  onRestart?: (atMs: number, phone: number) => void;
  /** Called at every convergence sample (progress displays). */
  onSample?: (nowMs: number, report: CheckReport) => void;
}

export interface FleetResult {
  ok: boolean;
  phones: number;
  live: number;
  seed: number;
  orphans: number;
  maxChildren: number;
  convergedMs: number | null;
  virtualMs: number;
  wallMs: number;
  hierarchies: CheckReport["hierarchies"];
  errors: string[];
  stats: WorldStats & { crashes: number; restarts: number; partitions: number; merges: number; moves: number; malformed: number };
}

export const FLEET_DEFAULTS: FleetOptions = {
  phones: 16,
  models: 1,
  files: 1,
  seed: 1,
  loss: 0,
  dup: 0,
  jitterMs: 0,
  crash: 0,
  restart: 0.5,
  rootCrashes: 0,
  interiorCrashes: 0,
  partitions: 0,
  late: 0,
  faultMs: -1,
  bootSpreadMs: 1000,
  stableMs: 3000,
  healLimitMs: 120_000,
  sampleMs: 100,
  board: "third-gen",
};

/** Limits that keep one run within this machine (2 cores, 24 GiB). */
export const MAX_FLEET_PHONES = 20_000;

export function validateFleet(o: FleetOptions): void {
  const bad = (what: string) => {
    throw new Error(what);
  };
  if (!Number.isInteger(o.phones) || o.phones < 1 || o.phones > MAX_FLEET_PHONES) bad(`--phones must be a whole number from 1 to ${MAX_FLEET_PHONES}`);
  for (const [name, v] of [["loss", o.loss], ["dup", o.dup], ["crash", o.crash], ["restart", o.restart]] as const) {
    if (!(v >= 0 && v <= 1)) bad(`--${name} must be a fraction from 0 to 1 (got ${v})`);
  }
  if (o.loss > 0.9) bad("--loss above 0.9 leaves nothing to elect with");
  if (!(o.jitterMs >= 0 && o.jitterMs <= 1000)) bad("--jitter-ms must be from 0 to 1000");
  for (const [name, v] of [["root-crashes", o.rootCrashes], ["interior-crashes", o.interiorCrashes]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > o.phones) bad(`--${name} must be a whole number of phones, at most --phones`);
  }
  if (!Number.isInteger(o.partitions) || o.partitions < 0 || o.partitions > 100) bad("--partitions must be a whole number from 0 to 100");
  if (!Number.isInteger(o.late) || o.late < 0 || o.late > MAX_FLEET_PHONES) bad("--late must be a whole number of phones");
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) bad("--seed must be a whole number from 0 to 4294967295");
}

/** A fleet run that can be advanced one sample at a time (the demo paces it
 *  for a person to watch); runFleet() drives it to the end in one go. */
export class Fleet {
  readonly o: FleetOptions;
  readonly world: World;
  readonly hierarchies: HierarchyInfo[] = [];
  readonly catalog: SimModel[];
  private readonly started = performance.now();
  private readonly counts = { crashes: 0, restarts: 0, partitions: 0 };
  private readonly quietFrom: number;
  private readonly limitMs: number;
  private goodSince: number | null = null;
  private t = 0;
  done = false;
  last: CheckReport | null = null;

  constructor(partial: Partial<FleetOptions>) {
    const o: FleetOptions = (this.o = { ...FLEET_DEFAULTS, ...partial });
    validateFleet(o);
    this.catalog = simCatalog(o.models, o.files);
    const board = loadBoard(o.board);
    const world = (this.world = new World({ seed: o.seed, core: board.core, portDelayMs: 0.15, connectTimeoutMs: 1000 }));
    if (o.observer) world.observer = o.observer;
    const rng = Rng.derive(o.seed, "scenario");
    const anyFault = o.loss > 0 || o.dup > 0 || o.jitterMs > 0 || o.crash > 0 || o.partitions > 0 || o.rootCrashes > 0 || o.interiorCrashes > 0;
    const faultMs = o.faultMs >= 0 ? o.faultMs : anyFault ? 10_000 : 0;
    const counts = this.counts;
    const total = o.phones + o.late;
    for (let i = 0; i < total; i++) world.addPhone(i % this.catalog.length);
    for (let i = 0; i < o.phones; i++) {
      const p = world.phones[i];
      world.at(rng.next() * o.bootSpreadMs, () => this.bootPhone(p));
    }
    // Late joiners: after the fault phase, when the trees have formed.
    for (let i = o.phones; i < total; i++) {
      const p = world.phones[i];
      world.at(faultMs + o.bootSpreadMs + rng.next() * 2000, () => this.bootPhone(p));
    }
    if (anyFault) {
      world.at(0, () => {
        world.faults = { loss: o.loss, dup: o.dup, jitterMs: o.jitterMs };
      });
      const crashAt = (pickVictim: () => SimPhone | null) => {
        const when = o.bootSpreadMs + rng.next() * Math.max(0, faultMs - o.bootSpreadMs);
        const rst = rng.chance(0.5);
        const comesBack = rng.chance(o.restart);
        const downMs = 500 + rng.next() * 5000;
        world.at(when, () => {
          const p = pickVictim();
          if (p === null || !p.alive) return;
          counts.crashes++;
          world.crash(p, rst);
          o.onCrash?.(world.nowMs, p.index, rst);
          if (comesBack) {
            world.at(Math.min(world.nowMs + downMs, faultMs + o.bootSpreadMs), () => {
              counts.restarts++;
              this.bootPhone(p);
              o.onRestart?.(world.nowMs, p.index);
            });
          }
        });
      };
      const crashes = Math.round(o.crash * o.phones);
      const victims = new Set<number>();
      while (victims.size < crashes) victims.add(rng.int(0, o.phones - 1));
      for (const v of victims) crashAt(() => world.phones[v]);
      // Aimed crashes pick their victim when they strike, from the trees as
      // they are then: a root, or a phone with children below the root.
      const pickBy = (want: (p: SimPhone, slot: number) => boolean) => (): SimPhone | null => {
        const found = world.phones.filter((p) => p.alive && p.core !== null && [...p.slots.values()].some((slot) => want(p, slot)));
        return found.length === 0 ? null : rng.pick(found);
      };
      const isRoot = (p: SimPhone, slot: number) => p.core!.x.hierRole(slot) === Role.Root;
      const isInterior = (p: SimPhone, slot: number) => p.core!.x.hierRole(slot) === Role.Attached && (p.core!.x.hierChild(slot, 0) !== 0 || p.core!.x.hierChild(slot, 1) !== 0);
      for (let k = 0; k < o.rootCrashes; k++) crashAt(pickBy(isRoot));
      for (let k = 0; k < o.interiorCrashes; k++) crashAt(pickBy(isInterior));
      for (let k = 0; k < o.partitions; k++) {
        const start = rng.next() * Math.max(1, faultMs - 2000);
        const lenMs = 2000 + rng.next() * 6000;
        const split = rng.next();
        world.at(start, () => {
          counts.partitions++;
          for (let i = 0; i < world.phones.length; i++) world.group[i] = rng.next() < split ? 1 : 0;
        });
        world.at(Math.min(start + lenMs, faultMs), () => world.group.fill(0));
      }
      world.at(faultMs, () => {
        world.faults = { loss: 0, dup: 0, jitterMs: 0 };
        world.group.fill(0);
      });
    }
    this.quietFrom = Math.max(faultMs, o.bootSpreadMs) + (o.late > 0 ? 2000 + o.bootSpreadMs : 0);
    this.limitMs = this.quietFrom + o.healLimitMs;
  }

  private bootPhone(p: SimPhone): void {
    this.world.boot(p);
    const m = this.catalog[p.model];
    for (const f of m.files) {
      const xid = this.world.need(p, m.model, f.name, f.sizeBytes);
      if (!this.hierarchies.some((h) => h.xid === xid)) this.hierarchies.push({ xid, model: m.model, file: f.name, sizeBytes: f.sizeBytes });
    }
  }

  /** Advances one sample period; true once the run is over: the checkers
   *  have passed for stableMs on end after every fault, or time ran out. */
  step(): boolean {
    if (this.done) return true;
    const o = this.o;
    this.t += o.sampleMs;
    this.world.runUntil(this.t);
    const last = (this.last = checkFleet(this.world.phones, this.hierarchies, false));
    if (o.onSample) o.onSample(this.t, last);
    const good = this.hierarchies.length > 0 && last.orphans === 0 &&
      last.hierarchies.every((h) => h.roots === 1 && h.members > 0 && h.maxDepth <= h.depthBound);
    if (good) {
      if (this.goodSince === null) this.goodSince = this.t;
      if (this.t >= this.quietFrom && this.t - Math.max(this.goodSince, this.quietFrom) >= o.stableMs) this.done = true;
    } else {
      this.goodSince = null;
    }
    if (this.t >= this.limitMs) this.done = true;
    return this.done;
  }

  result(): FleetResult {
    const final = checkFleet(this.world.phones, this.hierarchies, true);
    const ev = this.world.eventCounts;
    return {
      ok: final.errors.length === 0,
      phones: this.world.phones.length,
      live: final.live,
      seed: this.o.seed,
      orphans: final.orphans,
      maxChildren: final.maxChildren,
      convergedMs: this.goodSince === null ? null : Math.round(this.goodSince),
      virtualMs: Math.round(this.world.nowMs),
      wallMs: Math.round(performance.now() - this.started),
      hierarchies: final.hierarchies,
      errors: final.errors,
      stats: {
        ...this.world.stats,
        ...this.counts,
        merges: ev.get(Ev.Merge) ?? 0,
        moves: ev.get(Ev.Moved) ?? 0,
        malformed: ev.get(Ev.Malformed) ?? 0,
      },
    };
  }
}

export function runFleet(partial: Partial<FleetOptions>): FleetResult {
  const fleet = new Fleet(partial);
  while (!fleet.step()) {
    /* advance */
  }
  return fleet.result();
}
