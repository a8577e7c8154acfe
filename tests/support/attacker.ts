// An attacker on the LAN, as its own process (so that its work does not slow
// the test's TFTP server): what issue 10 (5, 5b) did to a phone's port 4051.
//   flood: datagrams as fast as loopback takes them, half random bytes, half
//          well-formed-looking ones for the phone's real XIDs (fuzz-wire.ts);
//   idle:  connections opened and held, then garbage and absurd frame
//          lengths written on every one still open;
//   churn: connections re-opened as fast as they close, for a while;
//   forge: ROOT_ADs claiming the strongest root there is for the phones'
//          real XIDs, broadcast every 2 s from an address that never answers
//          TCP, and from a new address each time (host/sim/forger.ts).
// Run: node attacker.js '<json plan>'; prints one JSON line of what it did
// when done (or on SIGTERM, which ends a churn early).

import { createSocket } from "node:dgram";
import { connect, Socket } from "node:net";
import { FORGE_INTERVAL_MS, forgedRootAd } from "../../host/sim/forger.js";
import { Rng } from "../../host/sim/random.js";
import { fuzzDatagram, Targets } from "./fuzz-wire.js";

export interface AttackPlan {
  target: string;
  port: number;
  /** Where the attacker's sockets are bound (its "address on the LAN"). */
  from: string;
  /** More addresses its TCP connections rotate over (a LAN attacker can
   *  claim several): more of them get past a per-source limit. */
  alsoFrom?: string[];
  seed: number;
  targets: Targets;
  flood?: { datagrams: number };
  idle?: { connections: number; holdMs: number };
  /** Connections that write garbage or an absurd frame length at once. */
  garbage?: { connections: number };
  churn?: { connections: number; durationMs: number };
  /** Until told to stop: every FORGE_INTERVAL_MS one forged ROOT_AD per XID
   *  to `broadcast` from `from`, and with `rotateUnder` (a /16 such as
   *  "127.9") another from an address of it never used before. */
  forge?: { broadcast: string; rotateUnder?: string };
}

export interface AttackReport {
  datagramsSent?: number;
  floodMs?: number;
  idleConnected?: number;
  /** Held connections the phone closed before the garbage was written. */
  idleClosedByPhone?: number;
  garbageWrites?: number;
  /** Garbage connections the phone had closed when the attacker stopped. */
  garbageClosedByPhone?: number;
  churnConnects?: number;
  churnMs?: number;
  forgedAds?: number;
  /** Distinct source addresses the forged ROOT_ADs came from. */
  forgedSources?: number;
}

/** Sends not yet done at once: enough to keep loopback busy, few enough that
 *  the attacker's own memory stays flat. */
const FLOOD_IN_FLIGHT = 512;

async function flood(plan: AttackPlan, rng: Rng, report: AttackReport): Promise<void> {
  const n = plan.flood!.datagrams;
  const sock = createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, plan.from, () => resolve()));
  const started = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < n && sent - done < FLOOD_IN_FLIGHT) {
        let b: Uint8Array;
        if (rng.chance(0.5)) {
          b = new Uint8Array(rng.int(0, 200));
          for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
        } else b = fuzzDatagram(rng, plan.targets);
        sent++;
        sock.send(b, plan.port, plan.target, () => {
          done++;
          if (done === n) resolve();
          else if (sent - done < FLOOD_IN_FLIGHT / 2) setImmediate(pump);
        });
      }
    };
    pump();
  });
  report.datagramsSent = sent;
  report.floodMs = Math.round(performance.now() - started);
  sock.close();
}

/** Frame heads a framing layer must refuse (docs/PROTOCOL.md §5.1): length
 *  0, just past the control limit, past the DATA limit, 0xffff. */
const ABSURD_HEADS = [[0x00, 0x00, 0x10], [0x01, 0x01, 0x10], [0x41, 0x01, 0x15], [0xff, 0xff, 0x15], [0xff, 0xff, 0x14]];

function junk(rng: Rng): Uint8Array {
  if (rng.chance(0.5)) return Uint8Array.from(rng.pick(ABSURD_HEADS));
  const garbage = new Uint8Array(rng.int(1, 4096));
  for (let i = 0; i < garbage.length; i++) garbage[i] = rng.int(0, 255);
  return garbage;
}

const sourceOf = (plan: AttackPlan, i: number) => {
  const all = [plan.from, ...(plan.alsoFrom ?? [])];
  return all[i % all.length];
};

async function idle(plan: AttackPlan, rng: Rng, report: AttackReport): Promise<void> {
  const { connections, holdMs } = plan.idle!;
  const socks: Socket[] = [];
  let connected = 0;
  let closed = 0;
  for (let i = 0; i < connections; i++) {
    const s = connect({ host: plan.target, port: plan.port, localAddress: sourceOf(plan, i) });
    s.on("connect", () => connected++);
    s.on("error", () => {});
    s.on("close", () => closed++);
    socks.push(s);
  }
  await new Promise((r) => setTimeout(r, holdMs));
  report.idleConnected = connected;
  report.idleClosedByPhone = closed;
  let writes = 0;
  for (const s of socks) {
    if (s.destroyed) continue;
    s.write(junk(rng));
    writes++;
  }
  report.garbageWrites = (report.garbageWrites ?? 0) + writes;
  await new Promise((r) => setTimeout(r, 500));
  for (const s of socks) s.destroy();
}

/** Connections that write junk as soon as they are up, then wait to be
 *  closed (the phone must not keep them). */
async function garbage(plan: AttackPlan, rng: Rng, report: AttackReport): Promise<void> {
  const { connections } = plan.garbage!;
  let closed = 0;
  let writes = 0;
  const socks: Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const s = connect({ host: plan.target, port: plan.port, localAddress: sourceOf(plan, i) });
    s.on("connect", () => {
      writes++;
      s.write(junk(rng));
    });
    s.on("error", () => {});
    s.on("close", () => closed++);
    socks.push(s);
  }
  await new Promise((r) => setTimeout(r, 3000));
  report.garbageWrites = (report.garbageWrites ?? 0) + writes;
  report.garbageClosedByPhone = closed;
  for (const s of socks) s.destroy();
}

async function churn(plan: AttackPlan, report: AttackReport, stop: Promise<void>): Promise<void> {
  const { connections, durationMs } = plan.churn!;
  const started = performance.now();
  let connects = 0;
  let running = true;
  const one = () => {
    if (!running) return;
    const s = connect({ host: plan.target, port: plan.port, localAddress: plan.from });
    s.on("connect", () => {
      connects++;
      s.destroy();
    });
    s.on("error", () => {});
    s.on("close", () => setImmediate(one));
  };
  for (let i = 0; i < connections; i++) one();
  await Promise.race([new Promise((r) => setTimeout(r, durationMs)), stop]);
  running = false;
  report.churnConnects = connects;
  report.churnMs = Math.round(performance.now() - started);
}

async function sendFrom(from: string, port: number, to: string, datagrams: Uint8Array[]): Promise<void> {
  const sock = createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, from, () => resolve()));
  sock.setBroadcast(true);
  for (const d of datagrams) await new Promise<void>((resolve) => sock.send(d, port, to, () => resolve()));
  sock.close();
}

async function forge(plan: AttackPlan, report: AttackReport, stop: Promise<void>): Promise<void> {
  const { broadcast, rotateUnder } = plan.forge!;
  const ads = plan.targets.xids.map((xid) => forgedRootAd(xid));
  const sources = new Set<string>();
  let forged = 0;
  let stopped = false;
  void stop.then(() => (stopped = true));
  for (let round = 0; !stopped; round++) {
    const from = [plan.from];
    // 127.X.Y.Z with Y.Z counting up from .0.1: 65,534 rounds before a repeat.
    if (rotateUnder !== undefined) from.push(`${rotateUnder}.${((round + 1) >> 8) & 0xff}.${(round + 1) & 0xff}`);
    for (const f of from) {
      await sendFrom(f, plan.port, broadcast, ads);
      sources.add(f);
      forged += ads.length;
    }
    await Promise.race([new Promise((r) => setTimeout(r, FORGE_INTERVAL_MS)), stop]);
  }
  report.forgedAds = forged;
  report.forgedSources = sources.size;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? "{}") as AttackPlan;
  const rng = new Rng(plan.seed);
  const report: AttackReport = {};
  let onStop = () => {};
  const stop = new Promise<void>((resolve) => (onStop = resolve));
  process.on("SIGTERM", onStop);
  const jobs: Array<Promise<void>> = [];
  if (plan.flood !== undefined) jobs.push(flood(plan, rng, report));
  if (plan.idle !== undefined) jobs.push(idle(plan, rng, report));
  if (plan.garbage !== undefined) jobs.push(garbage(plan, rng, report));
  if (plan.churn !== undefined) jobs.push(churn(plan, report, stop));
  if (plan.forge !== undefined) jobs.push(forge(plan, report, stop));
  await Promise.all(jobs);
  process.stdout.write(JSON.stringify(report) + "\n");
  process.exit(0);
}

if (process.argv[1] !== undefined && /attacker\.js$/.test(process.argv[1])) await main();
