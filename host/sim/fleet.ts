// A fleet run: N phones of M models boot (in bulk, within bootSpreadMs), each
// needing F files of its model. A fault phase follows with datagram loss,
// duplication, jitter, partitions and crashes (some phones come back); then a
// healed phase runs until the checkers have passed for stableMs on end, or
// until a time limit. Everything derives from one seed.

import { boardMaxTransfers, boardTftpWindowMax, listBoards, loadBoard } from "../boards.js";
import { CFG_NONE, Ev, NEED_DIRECT, NEED_RELAY, NEED_STORE_FORWARD, NEED_VERIFIED, Role } from "../core/abi.js";
import { RelayFile } from "../load/blocklist.js";
import { getPreset, Preset, presetFiles } from "../load/presets.js";
import { tftpAloneMs, WAN_SOURCES, WanSource } from "./wan.js";
import { WAN_RATE_WINDOW_MS } from "./wan-meter.js";
import { CORE_BUILDS, CoreBuild, coreModule, envCoreBuild, isCoreTrap } from "./core-build.js";
import { COALESCE_MIN_LINKS, MAX_WAKES_PER_HEARTBEAT, probeWakes } from "./wakes.js";
import { checkFleet, CheckReport, HierarchyInfo, treesSettled } from "./check.js";
import { SimModel, simCatalog } from "./catalog.js";
import { ForgerStats, startForgers } from "./forger.js";
import { Rng } from "./random.js";
import type { TraceRecorder } from "../trace/recorder.js";
import { EventObserver, RelayWorld, SimPhone, World, WorldStats } from "./world.js";

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
  /** Every phone runs this board's core figures; by default each model runs
   *  its own board's. */
  board?: string;
  /** Relay a load preset (issue 3): its components flow through the trees. */
  load?: string;
  mode: RelayMode;
  wanKbps: number;
  wanRttMs: number;
  lanMbps: number;
  tftpBlksize: number;
  /** The TFTP windowsize the server grants (1: lockstep), or "max": the
   *  board's tftpWindowMax, which roots ask and adapt (wan-tftp.ts). */
  tftpWindow: number | "max";
  /** Where roots fetch the load: TFTP, or HTTP with Range (wan-http.ts). */
  source: WanSource;
  /** The WAN budget: a cap on all server fetches of the subnet, kbit/s;
   *  0: none (wan-budget.ts). */
  wanKbpsMax: number;
  /** Phones that turn rogue during the fault phase: every firmware chunk they
   *  send then carries a bad byte. */
  rogues: number;
  /** Simulated flash faults during the fault phase, per read for a child:
   *  a read that fails, a read with one bit flipped (world.ts FlashFaults). */
  flashReadFail: number;
  flashReadFlip: number;
  /** Flash writes that fail during the fault phase, per write (reported to
   *  the core, which asks again after a backoff, docs/ABI.md §7.3). */
  flashWriteFail: number;
  /** Phones whose flash is full for the whole run: every write fails, and
   *  the core must give each file up (FLASH_FAILED, then LEFT). */
  flashFull: number;
  /** Forgers (sim/forger.ts): addresses that broadcast ROOT_ADs of strength
   *  ffffffff for every XID every 2 s for the whole run and never answer
   *  TCP; with forgersRotate, each datagram from a new address. */
  forgers: number;
  forgersRotate: boolean;
  /** The core build every phone runs (core-build.ts). Release by default:
   *  the fastest. */
  core: CoreBuild;
  /** Test-only: a compiled core to run instead (a mutated core). */
  coreModule?: WebAssembly.Module;
  /** After the run, go on quietly and count timer wake-ups (wakes.ts): a
   *  core that does not coalesce its links' timers fails the run. */
  probeWakes?: boolean;
  /** With a load: relay only its first N components (default: all). */
  loadFiles?: number;
  observer?: EventObserver;
  /** Records the cores of the phones it wants into a trace. */
  tracer?: TraceRecorder;
  /** Internal: this run is itself the single-phone baseline. */
  baseline?: boolean;
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
  /** With probeWakes: timer wake-ups per heartbeat period of the phones with
   *  5+ links, once quiet (wakes.ts); null when not measured. */
  wakesPerHeartbeat: number | null;
  virtualMs: number;
  wallMs: number;
  hierarchies: CheckReport["hierarchies"];
  errors: string[];
  stats: WorldStats & {
    crashes: number; restarts: number; partitions: number;
    /** Files a restarted phone found finished in its flash and served from there. */
    filesKeptOnRestart: number; merges: number; moves: number; malformed: number;
    /** Crashes of a phone that was root, or a parent, of a file it had not finished. */
    rootCrashesMidFile: number; interiorCrashesMidFile: number;
    /** Crashes of a phone that was root of a file it had finished (per file). */
    rootCrashesDone: number;
    /** ROOT_ADs the forgers sent (sim/forger.ts). */
    forgedAds: number;
  };
  /** With a load (issue 3). */
  relay?: RelayResult;
}

export type RelayMode = "cut-through" | "store-and-forward" | "direct";
export const RELAY_MODES: RelayMode[] = ["cut-through", "store-and-forward", "direct"];

export interface RelayResult {
  load: string;
  mode: RelayMode;
  /** One model's load: the sum of its components. */
  loadBytes: number;
  /** Virtual time at which the last live phone held the whole load checked. */
  doneMs: number | null;
  /** Live phones holding every component checked. */
  verified: number;
  /** One phone alone fetching the same load directly over the same WAN. */
  singleMs: number;
  /** The lower bound: load bytes over the slowest of WAN, LAN and flash, plus one RTT. */
  limitMs: number;
  /** Bytes that crossed the WAN, in all and per model. */
  wanBytes: number;
  wanBytesPerModel: number[];
  /** Of those, bytes a resumed fetch had to pull again (TFTP starts at 0). */
  wanSkippedBytes: number;
  /** The highest rate over any WAN_RATE_WINDOW_MS (10 s) at the link, kbit/s:
   *  counted by the WAN model itself, not by the phones. */
  wanMaxKbps10s: number;
  /** The WAN budget (0: none), kbit/s. */
  wanKbpsMax: number;
  /** When the first server fetch was asked: what the election took, ms. */
  firstFetchMs: number | null;
  source: WanSource;
  /** The TFTP windowsize the roots ran at (1: lockstep). */
  tftpWindow: number;
  /** Phones that fetched anything from the server. */
  serverContacts: number;
  /** Confirmed roots at the end, over all hierarchies (for comparison). */
  roots: number;
  /** Distinct phones that are a confirmed root of some hierarchy at the end. */
  rootPhones: number;
  /** Phones that turned rogue during the run. */
  rogues: number;
  /** Bytes offered to a phone again at offsets it already held. */
  refetchedBytes: number;
  /** Bytes written to flash that differ from the real file (must be 0). */
  corruptHeld: number;
  /** Blocks that failed their check (a rogue's work, caught). */
  corruptBlocks: number;
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
  board: undefined,
  mode: "cut-through",
  wanKbps: 2000,
  wanRttMs: 80,
  lanMbps: 100,
  tftpBlksize: 1428,
  tftpWindow: 1,
  source: "tftp",
  wanKbpsMax: 0,
  rogues: 0,
  flashReadFail: 0,
  flashReadFlip: 0,
  flashWriteFail: 0,
  flashFull: 0,
  forgers: 0,
  forgersRotate: false,
  core: envCoreBuild(),
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
  if (!RELAY_MODES.includes(o.mode)) bad(`--mode must be one of ${RELAY_MODES.join(", ")}`);
  if (!(o.wanKbps >= 1 && o.wanKbps <= 10_000_000)) bad("--wan-kbps must be from 1 to 10000000");
  if (!(o.wanRttMs >= 0 && o.wanRttMs <= 10_000)) bad("--wan-rtt-ms must be from 0 to 10000");
  if (!(o.lanMbps >= 1 && o.lanMbps <= 100_000)) bad("--lan-mbps must be from 1 to 100000");
  if (!Number.isInteger(o.tftpBlksize) || o.tftpBlksize < 8 || o.tftpBlksize > 65464) bad("--tftp-blksize must be from 8 to 65464 (RFC 2348)");
  if (o.tftpWindow !== "max" && (!Number.isInteger(o.tftpWindow) || o.tftpWindow < 1 || o.tftpWindow > 65535)) bad("--tftp-window must be max or from 1 to 65535 (RFC 7440)");
  if (!WAN_SOURCES.includes(o.source)) bad(`--source must be one of ${WAN_SOURCES.join(", ")}`);
  if (!(o.wanKbpsMax >= 0 && o.wanKbpsMax <= 10_000_000)) bad("--wan-kbps-max must be from 1 to 10000000 kbit/s");
  if (!Number.isInteger(o.rogues) || o.rogues < 0 || o.rogues > o.phones) bad("--rogues must be a whole number of phones, at most --phones");
  if (!Number.isInteger(o.forgers) || o.forgers < 0 || o.forgers > 64) bad("--forgers must be a whole number from 0 to 64");
  if (!Number.isInteger(o.flashFull) || o.flashFull < 0 || o.flashFull > o.phones) bad("--flash-full must be a whole number of phones, at most --phones");
  for (const [name, v] of [["flash-read-fail", o.flashReadFail], ["flash-read-flip", o.flashReadFlip], ["flash-write-fail", o.flashWriteFail]] as const) {
    if (!(v >= 0 && v <= 1)) bad(`--${name} must be a fraction from 0 to 1 (got ${v})`);
  }
  if (!CORE_BUILDS.includes(o.core)) bad(`--core must be one of ${CORE_BUILDS.join(", ")}`);
  if (o.loadFiles !== undefined && (!Number.isInteger(o.loadFiles) || o.loadFiles < 1)) bad("--load-files must be a whole number from 1");
  if (o.board !== undefined && !listBoards().includes(o.board)) bad(`--board must be one of: ${listBoards().join(", ")}`);
  if (o.load !== undefined) getPreset(o.load);
  else if (o.mode !== "cut-through") bad("--mode needs --load: without a load nothing is relayed");
}

/** A fleet run that can be advanced one sample at a time (the demo paces it
 *  for a person to watch); runFleet() drives it to the end in one go. */
export class Fleet {
  readonly o: FleetOptions;
  readonly world: World;
  readonly hierarchies: HierarchyInfo[] = [];
  readonly catalog: SimModel[];
  private readonly started = performance.now();
  private readonly counts = { crashes: 0, restarts: 0, filesKeptOnRestart: 0, partitions: 0, rootCrashesMidFile: 0, rootCrashesDone: 0, interiorCrashesMidFile: 0 };
  private forgerStats: ForgerStats | null = null;
  private readonly quietFrom: number;
  private readonly limitMs: number;
  private goodSince: number | null = null;
  private t = 0;
  done = false;
  last: CheckReport | null = null;

  constructor(partial: Partial<FleetOptions>) {
    const o: FleetOptions = (this.o = { ...FLEET_DEFAULTS, ...partial });
    validateFleet(o);
    if (o.load !== undefined) {
      this.preset = getPreset(o.load);
      this.catalog = simCatalog(o.models, this.preset.components.length);
      // Each model relays the preset under its own file names.
      this.files = this.catalog.map((m) => presetFiles(this.preset!, m.family).slice(0, o.loadFiles));
      this.catalog.forEach((m, i) => (m.files = this.files[i].map((f) => ({ name: f.name, sizeBytes: f.content.length }))));
    } else {
      this.catalog = simCatalog(o.models, o.files);
    }
    // Flash speeds are the first model's board's (or the one asked for).
    const board = loadBoard(o.board ?? this.catalog[0].board);
    const flash = (board.flash ?? {}) as { writeBytesPerSec?: number; readBytesPerSec?: number };
    this.relayWorld = o.load === undefined ? undefined : {
      lanBitsPerSec: o.lanMbps * 1e6,
      flashWriteBytesPerSec: flash.writeBytesPerSec ?? 2_000_000,
      flashReadBytesPerSec: flash.readBytesPerSec ?? 20_000_000,
      wan: { bitsPerSec: o.wanKbps * 1000, rttMs: o.wanRttMs, blksize: o.tftpBlksize, window: o.tftpWindow === "max" ? boardTftpWindowMax(board) : o.tftpWindow,
        source: o.source, capBitsPerSec: o.wanKbpsMax * 1000, fetchesAtOnce: boardMaxTransfers(board) },
    };
    // Each model's board, or the one asked for. Without a load the cores
    // need no relay buffers: a 10,000-phone run then fits this machine.
    const cores = this.catalog.map((m) => {
      const c = loadBoard(o.board ?? m.board).core;
      return o.load === undefined ? { ...c, maxTransfers: CFG_NONE, serveBuffers: CFG_NONE } : c;
    });
    const world = (this.world = new World({ seed: o.seed, core: cores[0], coreOf: (model) => cores[model], portDelayMs: 0.15,
      connectTimeoutMs: 1000, relay: this.relayWorld, tracer: o.tracer, module: o.coreModule ?? coreModule(o.core) }));
    if (o.observer) world.observer = o.observer;
    if (o.forgers > 0) {
      // Their own random stream: the rest of the run draws what it would without them.
      const forgeRng = Rng.derive(o.seed, "forgers");
      this.forgerStats = startForgers(world, o.forgers, o.forgersRotate, () => this.hierarchies.map((h) => h.xid), () => forgeRng.next());
    }
    const rng = Rng.derive(o.seed, "scenario");
    const anyFault = o.loss > 0 || o.dup > 0 || o.jitterMs > 0 || o.crash > 0 || o.partitions > 0 || o.rootCrashes > 0 || o.interiorCrashes > 0 || o.rogues > 0 ||
      o.flashReadFail > 0 || o.flashReadFlip > 0 || o.flashWriteFail > 0;
    const faultMs = o.faultMs >= 0 ? o.faultMs : anyFault ? 10_000 : 0;
    const counts = this.counts;
    const total = o.phones + o.late;
    for (let i = 0; i < total; i++) world.addPhone(i % this.catalog.length);
    // Full flashes draw from a stream of their own: other runs stay as they were.
    const fullRng = Rng.derive(o.seed, "flash-full");
    for (let k = 0; k < o.flashFull; k++) fullRng.pick(world.phones.slice(0, o.phones).filter((p) => !p.flashFull)).flashFull = true;
    for (let i = 0; i < o.phones; i++) {
      const p = world.phones[i];
      world.at(rng.next() * o.bootSpreadMs, () => this.bootPhone(p));
    }
    // Late joiners: after the fault phase, when the trees have formed; with
    // a load, after the first phone holds the whole load.
    for (let i = o.phones; i < total; i++) {
      const p = world.phones[i];
      const delayMs = rng.next() * 2000;
      if (o.load === undefined) world.at(faultMs + o.bootSpreadMs + delayMs, () => this.bootPhone(p));
      else this.lateQueue.push({ p, delayMs });
    }
    if (anyFault) {
      world.at(0, () => {
        world.faults = { loss: o.loss, dup: o.dup, jitterMs: o.jitterMs };
        world.flashFaults = { readFail: o.flashReadFail, readFlip: o.flashReadFlip, writeFail: o.flashWriteFail };
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
          // Was it a root or a parent in the middle of a file it relays?
          for (const slot of p.slotFiles.keys()) {
            const x = p.core!.x;
            if (x.hierVerified(slot) === 1) {
              // A finished root: its tree must elect a successor meanwhile.
              if (x.hierRole(slot) === Role.Root) counts.rootCrashesDone++;
              continue;
            }
            // A claimant fetching while it claims (assembly/election.ts) is a
            // root as far as the WAN is concerned: its successor starts over.
            const role = x.hierRole(slot);
            if (role === Role.Root || role === Role.Claiming) counts.rootCrashesMidFile++;
            else if (x.hierChild(slot, 0) !== 0 || x.hierChild(slot, 1) !== 0) counts.interiorCrashesMidFile++;
          }
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
      // Rogues turn bad mid-run, as interior phones with children to betray.
      for (let k = 0; k < o.rogues; k++) {
        const when = o.bootSpreadMs + 2000 + rng.next() * Math.max(0, faultMs - o.bootSpreadMs - 2000);
        const pick = pickBy(isInterior);
        world.at(when, () => {
          const p = pick();
          if (p !== null && !p.rogue) {
            p.rogue = true;
            this.rogueCount++;
          }
        });
      }
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
        world.flashFaults = { readFail: 0, readFlip: 0, writeFail: 0 };
        world.group.fill(0);
      });
    }
    this.quietFrom = Math.max(faultMs, o.bootSpreadMs) + (o.late > 0 ? 2000 + o.bootSpreadMs : 0);
    this.limitMs = this.quietFrom + o.healLimitMs;
    if (this.preset !== undefined) {
      const loadBytes = this.loadBytes();
      const wan = this.relayWorld!.wan;
      // Time enough for the slowest honest case: everybody fetching alone.
      // Under a budget, every model's load shares the cap.
      const oneMs = Math.max(tftpAloneMs(loadBytes, wan), wan.capBitsPerSec > 0 ? (loadBytes * 8000 * o.models) / wan.capBitsPerSec : 0);
      const alone = oneMs * (o.mode === "direct" ? Math.max(1, o.phones + o.late) : 2);
      this.limitMs += alone + 60_000;
    }
  }

  readonly preset?: Preset;
  readonly files: RelayFile[][] = [];
  readonly relayWorld?: RelayWorld;
  private rogueCount = 0;
  private readonly lateQueue: Array<{ p: SimPhone; delayMs: number }> = [];

  /** One model's load: the components relayed (all, or loadFiles of them). */
  private loadBytes(): number {
    return this.files[0].reduce((n, f) => n + f.content.length, 0);
  }

  private needFlags(): number {
    const m = this.o.mode;
    return NEED_RELAY | (m === "store-and-forward" ? NEED_STORE_FORWARD : 0) | (m === "direct" ? NEED_DIRECT : 0);
  }

  /** Live phones holding every file of their model checked. */
  private verifiedCount(): number {
    let n = 0;
    for (const p of this.world.phones) {
      if (!p.alive) continue;
      const done = this.world.relay.fileDone.get(p.index);
      const want = this.catalog[p.model].files.length;
      if (done !== undefined && done.size >= want) n++;
    }
    return n;
  }

  /** Live phones whose flash is full and whose core gave up every file of
   *  their model: all a phone can do then (it must never report one done). */
  private gaveUpCount(): number {
    let n = 0;
    for (const p of this.world.phones) {
      if (p.alive && p.flashFull && p.gaveUp.size >= this.catalog[p.model].files.length) n++;
    }
    return n;
  }



  private bootPhone(p: SimPhone): void {
    this.world.boot(p);
    // A phone that boots again boots from its flash: a file it finished
    // (FILE_DONE came after every write was confirmed) is there, checked,
    // and served from flash at once (NEED_VERIFIED); a file it had not
    // finished starts over, as the core knows nothing of a half-written
    // file (docs/ABI.md §3.3). Without relaying there is no flash to keep.
    const done = this.preset === undefined ? undefined : this.world.relay.fileDone.get(p.index);
    if (this.preset === undefined) this.world.relay.fileDone.delete(p.index);
    const m = this.catalog[p.model];
    m.files.forEach((f, i) => {
      const relay = this.preset === undefined ? undefined : this.files[p.model][i];
      const held = done?.has(p.core!.xidOf(m.model, f.name)) ?? false;
      if (held && this.o.mode === "direct") return; // nothing to fetch, nobody to serve
      if (held) this.counts.filesKeptOnRestart++;
      const flags = relay === undefined ? 0 : held ? NEED_RELAY | NEED_VERIFIED : this.needFlags();
      const xid = this.world.need(p, m.model, f.name, f.sizeBytes, held ? f.sizeBytes : 0, flags, relay);
      if (!this.hierarchies.some((h) => h.xid === xid)) this.hierarchies.push({ xid, model: m.model, file: f.name, sizeBytes: f.sizeBytes, direct: this.o.mode === "direct" });
    });
  }

  /** Advances one sample period; true once the run is over: the checkers
   *  have passed for stableMs on end after every fault, or time ran out. */
  step(): boolean {
    if (this.done) return true;
    const o = this.o;
    this.t += o.sampleMs;
    try {
      this.world.runUntil(this.t);
    } catch (e) {
      if (!isCoreTrap(e)) throw e;
      // The core broke a promise of its own: the run fails here, seed named.
      this.trap = `core trap in phone ${this.world.trapPhone} at ${this.world.nowMs.toFixed(3)} ms: ${e.message}`;
      this.done = true;
      return true;
    }
    let good: boolean;
    if (this.preset !== undefined) {
      // Cheap until everybody is done: the tree checks read every core.
      const live = this.world.phones.filter((p) => p.alive).length;
      const verified = this.verifiedCount();
      if (verified > 0 && this.lateQueue.length > 0) {
        for (const { p, delayMs } of this.lateQueue.splice(0)) this.world.at(this.t + 1000 + delayMs, () => this.bootPhone(p));
        this.lateBootPending = true;
      }
      if (this.lateBootPending && this.world.phones.every((p) => p.gen > 0)) this.lateBootPending = false;
      good = verified + this.gaveUpCount() === live && live > 0 && !this.lateBootPending && this.lateQueue.length === 0;
      if (good && this.o.mode !== "direct") {
        const last = (this.last = checkFleet(this.world.phones, this.hierarchies, false));
        if (o.onSample) o.onSample(this.t, last);
        good = treesSettled(last, this.hierarchies);
      }
    } else {
      const last = (this.last = checkFleet(this.world.phones, this.hierarchies, false));
      if (o.onSample) o.onSample(this.t, last);
      // A hierarchy whose every phone died is settled: nobody needs it.
      good = this.hierarchies.length > 0 && treesSettled(last, this.hierarchies);
    }
    if (good) {
      if (this.goodSince === null) this.goodSince = this.t;
      if (this.t >= this.quietFrom && this.t - Math.max(this.goodSince, this.quietFrom) >= o.stableMs) this.done = true;
    } else {
      this.goodSince = null;
    }
    if (this.t >= this.limitMs) this.done = true;
    return this.done;
  }

  private lateBootPending = false;
  private trap: string | null = null;

  /** Runs the finished fleet on to count its timer wake-ups (wakes.ts); a
   *  core that does not coalesce its links' timers fails the run. */
  private probeWakes(errors: string[]): number | null {
    let wakes: number | null;
    try {
      wakes = probeWakes(this.world);
    } catch (e) {
      if (!isCoreTrap(e)) throw e;
      errors.unshift(`core trap in phone ${this.world.trapPhone} at ${this.world.nowMs.toFixed(3)} ms (wake probe): ${e.message}`);
      return null;
    }
    if (wakes !== null && wakes > MAX_WAKES_PER_HEARTBEAT) {
      errors.push(`phones with ${COALESCE_MIN_LINKS}+ links woke ${wakes.toFixed(2)} times per heartbeat when quiet (coalesced timers: at most ${MAX_WAKES_PER_HEARTBEAT})`);
    }
    return wakes;
  }
  result(): FleetResult {
    const final = checkFleet(this.world.phones, this.hierarchies, true);
    if (this.trap !== null) final.errors.unshift(this.trap);

    const relay = this.preset === undefined ? undefined : this.relayResult(final);
    if (relay !== undefined) {
      const gaveUp = this.gaveUpCount();
      if (relay.verified + gaveUp !== final.live) final.errors.push(`${final.live - relay.verified - gaveUp} of ${final.live} live phones do not hold the whole load${gaveUp > 0 ? ` (${gaveUp} more gave it up: flash full)` : ""}`);
      const doneOnFull = this.world.phones.filter((p) => p.alive && p.flashFull && (this.world.relay.fileDone.get(p.index)?.size ?? 0) > 0).length;
      if (doneOnFull > 0) final.errors.push(`${doneOnFull} phones with a full flash reported a file done`);
      if (relay.corruptHeld !== 0) final.errors.push(`${relay.corruptHeld} bytes that differ from the real files reached flash`);
      if (relay.refetchedBytes !== 0) final.errors.push(`${relay.refetchedBytes} bytes were offered again to phones that held them`);
      if (this.world.relay.nonRootFetches !== 0) final.errors.push(`${this.world.relay.nonRootFetches} server fetches by phones that were not roots`);
    }
    const ev = this.world.eventCounts;
    const virtualMs = Math.round(this.world.nowMs);
    const wakes = this.o.probeWakes && this.trap === null ? this.probeWakes(final.errors) : null;
    return {
      ok: final.errors.length === 0,
      phones: this.world.phones.length,
      live: final.live,
      seed: this.o.seed,
      orphans: final.orphans,
      maxChildren: final.maxChildren,
      convergedMs: this.goodSince === null ? null : Math.round(this.goodSince),
      wakesPerHeartbeat: wakes === null ? null : Math.round(wakes * 100) / 100,
      virtualMs,
      wallMs: Math.round(performance.now() - this.started),
      hierarchies: final.hierarchies,
      errors: final.errors,
      stats: {
        ...this.world.stats,
        ...this.counts,
        forgedAds: this.forgerStats?.forgedAds ?? 0,
        merges: ev.get(Ev.Merge) ?? 0,
        moves: ev.get(Ev.Moved) ?? 0,
        malformed: ev.get(Ev.Malformed) ?? 0,
        outboxDropped: this.world.stats.outboxDropped +
          this.world.phones.reduce((n, p) => n + (p.alive && p.core !== null ? p.core.x.outboxDroppedRecords() >>> 0 : 0), 0),
      },
      relay,
    };
  }

  private relayResult(final: CheckReport): RelayResult {
    const w = this.world;
    const preset = this.preset!;
    const loadBytes = this.loadBytes();
    let doneMs: number | null = 0;
    let refetched = w.relay.refetchedBytes;
    let corruptBlocks = 0;
    for (const p of w.phones) {
      if (!p.alive) continue;
      refetched += p.core!.x.refetchedBytes() >>> 0;
      corruptBlocks += p.core!.x.corruptBlocks() >>> 0;
      const done = w.relay.fileDone.get(p.index);
      if (p.flashFull) continue; // it can hold nothing: it gives its files up
      if (done === undefined || done.size < this.catalog[p.model].files.length) doneMs = null;
      else if (doneMs !== null) doneMs = Math.max(doneMs, ...done.values());
    }
    const rw = this.relayWorld!;
    const bytesPerSec = Math.min(rw.wan.bitsPerSec / 8, rw.lanBitsPerSec / 8, rw.flashWriteBytesPerSec);
    const wanPerModel = this.catalog.map((_m, i) => w.relay.wanBytes[i] ?? 0);
    return {
      load: preset.name,
      mode: this.o.mode,
      loadBytes,
      doneMs: doneMs === null ? null : Math.round(doneMs),
      verified: this.verifiedCount(),
      singleMs: this.o.baseline ? (doneMs ?? Infinity) : singleMs(this.o),
      limitMs: Math.round((loadBytes * 1000) / bytesPerSec + rw.wan.rttMs),
      wanBytes: wanPerModel.reduce((a, b) => a + b, 0),
      wanBytesPerModel: wanPerModel,
      wanSkippedBytes: w.relay.wanSkippedBytes,
      wanMaxKbps10s: Math.round(w.wan!.link.meter.maxBitsPerSec(WAN_RATE_WINDOW_MS) / 1000),
      wanKbpsMax: this.o.wanKbpsMax,
      firstFetchMs: w.relay.firstFetchMs === null ? null : Math.round(w.relay.firstFetchMs),
      source: rw.wan.source,
      tftpWindow: rw.wan.window,
      serverContacts: w.relay.serverContacts.size,
      roots: final.hierarchies.reduce((n, h) => n + h.roots, 0),
      rootPhones: w.phones.filter((p) => p.alive && p.core !== null && [...p.slots.values()].some((s) => p.core!.x.hierRole(s) === Role.Root)).length,
      rogues: this.rogueCount,
      refetchedBytes: refetched,
      corruptHeld: w.relay.corruptHeld,
      corruptBlocks,
    };
  }
}

const singleCache = new Map<string, number>();

/** One phone alone, fetching the load straight from the server over the same
 *  WAN into the same flash: the traditional upgrade's best case. Simulated
 *  with the same code, cached per set of figures. */
export function singleMs(o: FleetOptions): number {
  const key = JSON.stringify([o.load, o.loadFiles, o.board, o.wanKbps, o.wanRttMs, o.tftpBlksize, o.tftpWindow, o.lanMbps, o.source, o.wanKbpsMax]);
  const known = singleCache.get(key);
  if (known !== undefined) return known;
  const run = new Fleet({ ...o, phones: 1, models: 1, mode: "direct", loss: 0, dup: 0, jitterMs: 0, crash: 0, rootCrashes: 0,
    interiorCrashes: 0, partitions: 0, late: 0, rogues: 0, forgers: 0, flashReadFail: 0, flashReadFlip: 0, flashWriteFail: 0, flashFull: 0, bootSpreadMs: 0, faultMs: 0, stableMs: 0, observer: undefined, onSample: undefined, tracer: undefined,
    onCrash: undefined, onRestart: undefined, sampleMs: 50, baseline: true });
  while (!run.step()) {
    /* advance */
  }
  const ms = run.result().relay!.doneMs ?? Infinity;
  singleCache.set(key, ms);
  return ms;
}

export function runFleet(partial: Partial<FleetOptions>): FleetResult {
  const fleet = new Fleet(partial);
  while (!fleet.step()) {
    /* advance */
  }
  return fleet.result();
}
