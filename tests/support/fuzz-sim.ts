// Fuzzing the core while it upgrades: a simulated fleet (host/sim, the real
// cores, the debug build when PFS_WASM names it) relays a load, and from the
// first moments of the upgrade a fuzzer feeds every phone's core random and
// structure-aware mutated datagrams and stream frames (./fuzz-wire.ts) from
// addresses no honest phone has. The fleet must still finish: every live
// phone holds the whole load checked, nothing unchecked reached a flash, no
// core trapped (a debug core's assertion traps too, and ends the run).

import { Fleet, FleetResult } from "../../host/sim/fleet.js";
import { Rng } from "../../host/sim/random.js";
import type { Conn, SimPhone, World } from "../../host/sim/world.js";
import { fuzzDatagram, fuzzStream, split, Targets, xidOf } from "./fuzz-wire.js";

export interface FuzzOptions {
  seed: number;
  /** Datagrams plus frames to feed in all. */
  inputs: number;
  phones: number;
  load: string;
  wanKbps: number;
  /** Inputs per batch; a batch every batchEveryMs of virtual time. */
  batch: number;
  batchEveryMs: number;
  /** Virtual time of the first batch: the upgrade is under way by then. */
  startMs: number;
}

/** The tiny load over a slow WAN (200 kbit/s): about 5 s of virtual time to
 *  upgrade, and 1000 inputs every 2 ms put 10^6 of them into its first 2 s. */
export const FUZZ_DEFAULTS: Omit<FuzzOptions, "inputs"> = { seed: 1, phones: 8, load: "tiny", wanKbps: 200, batch: 1000, batchEveryMs: 2, startMs: 300 };

export interface FuzzStats {
  datagrams: number;
  frames: number;
  streams: number;
  /** Streams the core refused at accept (its table was full). */
  refused: number;
  malformedDatagrams: number;
  malformedFrames: number;
  /** Virtual time the last batch went in. */
  lastBatchMs: number;
}

/** Share of inputs that are datagrams; the rest are frames on streams. */
const DATAGRAM_SHARE = 0.7;
/** Streams the fuzzer leaves open for the core to time out (its JOIN timer).
 *  Few: each holds a handle for joinTimeoutMs, and a table full of them
 *  would keep the rest of the fuzz out at accept. */
const LEFT_OPEN_SHARE = 0.02;
/** Fuzz sources: 192.168.x.y, a subnet no simulated phone lives in. */
const FUZZ_NET = 0xc0a80000;

/** Frames that start within the first `upTo` bytes of a stream, by its
 *  length prefixes: what the core was offered before it closed the stream. */
function countFrames(b: Uint8Array, upTo: number): number {
  let n = 0;
  for (let at = 0; at < upTo; n++) at += at + 2 <= b.length ? 2 + ((b[at] << 8) | b[at + 1]) : b.length;
  return n;
}

export function runFuzzedFleet(partial: Partial<FuzzOptions> & { inputs: number }): { result: FleetResult; stats: FuzzStats } {
  const o: FuzzOptions = { ...FUZZ_DEFAULTS, ...partial };
  const fleet = new Fleet({ phones: o.phones, models: 1, load: o.load, seed: o.seed, wanKbps: o.wanKbps, wanRttMs: 40 });
  const world = fleet.world;
  // Never booted: a place for the fuzzer's end of each stream in the world.
  const ghost = world.addPhone(0);
  const rng = Rng.derive(o.seed, "fuzz");
  const stats: FuzzStats = { datagrams: 0, frames: 0, streams: 0, refused: 0, malformedDatagrams: 0, malformedFrames: 0, lastBatchMs: 0 };
  const targets = (): Targets => ({
    xids: fleet.catalog[0].files.map((f) => xidOf(fleet.catalog[0].model, f.name)),
    addrs: world.phones.map((p) => p.addr),
  });
  const source = () => (FUZZ_NET | rng.int(1, 0xfffe)) >>> 0;
  const live = () => world.phones.filter((p) => p.alive && p.core !== null);

  let fed = 0;
  const batch = () => {
    const t = targets();
    const phones = live();
    for (let i = 0; i < o.batch && fed < o.inputs && phones.length > 0; i++) {
      const p = rng.pick(phones);
      if (!p.alive || p.core === null) continue;
      if (rng.chance(DATAGRAM_SHARE)) {
        p.core.datagram(world.nowMs, source(), fuzzDatagram(rng, t));
        world.settle(p);
        stats.datagrams++;
        fed++;
      } else {
        const bytes = fuzzStream(rng, t);
        const offered = injectStream(world, p, ghost, source(), split(rng, bytes), !rng.chance(LEFT_OPEN_SHARE), stats);
        const frames = countFrames(bytes, offered);
        stats.frames += frames;
        fed += frames;
      }
    }
    stats.lastBatchMs = world.nowMs;
    if (fed < o.inputs) world.at(world.nowMs + o.batchEveryMs, batch);
  };
  world.at(o.startMs, batch);
  while (!fleet.step()) {
    /* advance */
  }
  for (const p of live()) {
    stats.malformedDatagrams += p.core!.x.malformedDatagrams() >>> 0;
    stats.malformedFrames += p.core!.x.malformedFrames() >>> 0;
  }
  if (fed < o.inputs) throw new Error(`the fleet finished before the fuzzer did (${fed} of ${o.inputs} inputs)`);
  return { result: fleet.result(), stats };
}

/** One stream from the fuzzer to phone `p`: accepted by its core, fed its
 *  bytes piece by piece as TCP may deliver them, then closed (or left open).
 *  The world carries what the core writes back to nobody. Returns the bytes
 *  offered before the core closed the stream (0 when it refused it). */
function injectStream(world: World, p: SimPhone, ghost: SimPhone, peer: number, pieces: Uint8Array[], close: boolean, stats: FuzzStats): number {
  const handle = p.core!.accept(world.nowMs, peer);
  stats.streams++;
  // Drained before the handle is bound: an OUT_CLOSE in this call's outbox
  // is for the stream the core evicted to make room (docs/ABI.md,
  // onStreamAccept), which may have had the same handle number.
  world.settle(p);
  if (handle < 0) {
    stats.refused++;
    return 0;
  }
  const conn: Conn = {
    a: ghost.index, aGen: ghost.gen, aHandle: -1, b: p.index, bGen: p.gen, bHandle: handle, aOpen: false, bOpen: true, broken: false,
    lastToA: 0, lastToB: 0, pendingToA: [], pendingToB: [], headToA: null, headToB: null,
  };
  p.handles.set(handle, conn);
  const open = () => p.alive && p.core !== null && p.handles.get(handle) === conn;
  let offered = 0;
  for (const piece of pieces) {
    if (!open()) return offered; // the core closed it: a protocol error
    offered += piece.length;
    p.core!.streamData(world.nowMs, handle, piece);
    world.settle(p);
  }
  if (close && open()) {
    p.handles.delete(handle);
    conn.bOpen = false;
    p.core!.closed(world.nowMs, handle);
    world.settle(p);
  }
  return offered;
}
