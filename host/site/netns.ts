// A switched LAN of real interfaces on this machine, from Linux network
// namespaces: one namespace holds a bridge (the switch), and each of K hosts
// gets its own namespace with eth0 on a veth pair whose other end is a port
// of that bridge. Both ends of every veth are shaped with tbf at the port
// rate: the host's eth0 egress is its uplink, the switch port's egress its
// downlink, so each is a full-duplex switch port of that rate. Optionally
// this process's own namespace gets a port too (an address on the LAN for a
// server running in-process), or a namespace of its own does (a gateway: the
// site's router, ./site-net.ts).
//
// Needs root, `ip` and `tc` (iproute2); whyNoNetns() says why it cannot run,
// as a string a caller prints when it skips. Everything made here is named
// pfsn<pid>..., is removed by teardown() (and by a process 'exit' handler,
// and on SIGINT/SIGTERM), and a run that crashed without tearing down is
// cleaned up by the next one: namespaces of our prefix whose pid is dead.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** Every namespace and root-namespace link we make starts with this, then
 *  the pid of the process that made it. */
export const PREFIX = "pfsn";

export interface LanOptions {
  /** Hosts on the switch, each in its own namespace (at most 250). */
  hosts: number;
  /** Port rate, both directions (100 Mbit/s for the phones' switch ports). */
  rateBitsPerSec: number;
  /** Also give this process's namespace a port, at the LAN's first address. */
  hostPort?: boolean;
  /** Also give a namespace of its own (named `${PREFIX}<pid>g`) a port at the
   *  LAN's first address: the site's gateway. Not with hostPort (both want
   *  the first address). */
  gateway?: boolean;
}

export interface LanHost {
  ns: string;
  addr: string;
}

export interface Lan {
  switchNs: string;
  hosts: LanHost[];
  /** The subnet's broadcast address. */
  broadcast: string;
  /** This process's address on the LAN (with hostPort), else null. */
  hostAddr: string | null;
  /** The gateway's namespace and address on the LAN (with gateway), else null. */
  gateway: LanHost | null;
  /** The tbf parameters every port got. */
  shaping: { rateBitsPerSec: number; burstBytes: number; latencyMs: number };
  /** A command prefix that runs a program inside host i's namespace. */
  exec(i: number): string[];
  /** Bytes each port has sent so far, as its tbf counted them (Ethernet
   *  frames from their header): `up` from the host into the switch, `down`
   *  from the switch to the host. `hostPort` is this process's port. */
  sentBytes(): { hosts: Array<{ up: number; down: number }>; hostPort: { up: number; down: number } | null };
  teardown(): void;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

export function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

export function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.error !== undefined || r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${(r.error?.message ?? r.stderr).trim()}`);
  return r.stdout;
}

export const ip = (...args: string[]) => must("ip", args);
export const tc = (...args: string[]) => must("tc", args);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The kernel's timer frequency, from its config when it is readable; else
 *  100, the lowest usual value (which gives the largest, safe burst). */
export function kernelHz(): number {
  try {
    const m = /^CONFIG_HZ=(\d+)$/m.exec(gunzipSync(readFileSync("/proc/config.gz")).toString());
    if (m !== null) return Number(m[1]);
  } catch {
    // no /proc/config.gz
  }
  return 100;
}

/** Why a LAN cannot be made here, or null when it can (checked by making a
 *  throw-away namespace with a bridge, a veth pair and a tbf). */
export function whyNoNetns(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "needs root to make network namespaces";
  for (const tool of ["ip", "tc"]) {
    const r = run(tool, ["-V"]);
    if (r.error !== undefined || r.status !== 0) return `needs '${tool}' (iproute2): ${r.error?.message ?? r.stderr.trim()}`;
  }
  cleanLeftovers();
  const ns = `${PREFIX}${process.pid}probe`;
  try {
    ip("netns", "add", ns);
  } catch (e) {
    return `cannot make a network namespace: ${(e as Error).message}`;
  }
  try {
    ip("-n", ns, "link", "add", "br0", "type", "bridge");
    ip("-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb");
    ip("-n", ns, "link", "set", "va", "master", "br0");
    tc("-n", ns, "qdisc", "add", "dev", "vb", "root", "tbf", "rate", "100mbit", "burst", "50000", "latency", "20ms");
    return null;
  } catch (e) {
    return `cannot make a bridge, a veth pair or a tbf in a namespace: ${(e as Error).message}`;
  } finally {
    run("ip", ["netns", "del", ns]);
  }
}

/** Namespaces and root-namespace ports of ours, left by a run whose process
 *  is gone (or by this very process). */
function cleanLeftovers(): void {
  const mine = new RegExp(`^${PREFIX}(\\d+)`);
  const stale = (name: string) => {
    const m = mine.exec(name);
    if (m === null) return false;
    return Number(m[1]) === process.pid ? live.size === 0 : !pidAlive(Number(m[1]));
  };
  const list = run("ip", ["netns", "list"]).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n !== "" && stale(n));
  for (const ns of list) removeNamespace(ns);
  for (const l of run("ip", ["-o", "link", "show"]).stdout.split("\n")) {
    const name = /^\d+: ([^:@]+)/.exec(l)?.[1];
    if (name !== undefined && stale(name)) run("ip", ["link", "del", name]);
  }
}

/** Ends what still runs in a namespace of ours (processes we started in it),
 *  then removes it; its veth ends go with it, and their peers too. */
export function removeNamespace(ns: string): void {
  for (const pid of run("ip", ["netns", "pids", ns]).stdout.split("\n").filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  run("ip", ["netns", "del", ns]);
}

/** "Sent N bytes M pkt (dropped D" of the tbf on a device. */
export function tbfCounters(nsArgs: string[], dev: string): { bytes: number; packets: number; dropped: number } {
  const m = /^ Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/m.exec(tc(...nsArgs, "-s", "qdisc", "show", "dev", dev));
  if (m === null) throw new Error(`no tbf statistics on ${dev}`);
  return { bytes: Number(m[1]), packets: Number(m[2]), dropped: Number(m[3]) };
}

const tbfSent = (nsArgs: string[], dev: string) => tbfCounters(nsArgs, dev).bytes;

const live = new Set<Lan>();
const teardownAll = () => {
  for (const lan of live) lan.teardown();
};
const onSignal = (signal: NodeJS.Signals) => {
  teardownAll();
  process.kill(process.pid, signal); // the default action, now that the handler is gone
};
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", teardownAll);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

function unhook(): void {
  if (!hooked || live.size > 0) return;
  hooked = false;
  process.off("exit", teardownAll);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
}

/** A /24 whose addresses this namespace does not route yet (only matters for
 *  hostPort: the hosts' own namespaces see nothing else). */
function freeSubnet(): string {
  const routes = run("ip", ["-4", "route", "show", "table", "all"]).stdout + run("ip", ["-4", "addr"]).stdout;
  for (let n = 0; n < 256; n++) if (!routes.includes(`10.77.${n}.`)) return `10.77.${n}`;
  throw new Error("no free 10.77.N.0/24 here");
}

/** Makes the LAN; throws (after removing whatever it made) on failure. */
export function makeLan(o: LanOptions): Lan {
  if (!Number.isInteger(o.hosts) || o.hosts < 1 || o.hosts > 250) throw new Error("hosts must be from 1 to 250");
  if (live.size > 0) throw new Error("one LAN per process at a time (their names carry the pid)");
  if (o.hostPort && o.gateway) throw new Error("a LAN has either a host port or a gateway at its first address, not both");
  cleanLeftovers();
  const tag = `${PREFIX}${process.pid}`;
  const switchNs = `${tag}s`;
  const net = o.hostPort ? freeSubnet() : "10.77.0";
  const rate = `${o.rateBitsPerSec}bit`;
  // tbf: the bucket must refill at least a timer tick's worth of the rate,
  // or the port cannot keep up its rate (burst >= rate/HZ, tc-tbf(8)): 50 KB
  // at 100 Mbit/s with HZ 250; never less than a few full frames. latency
  // bounds the queue a port holds (limit = rate * latency + burst): 20 ms,
  // 250 KB at 100 Mbit/s, about a small switch's port buffer; TCP's pacing
  // keeps it mostly empty anyway.
  const burstBytes = Math.max(Math.ceil(o.rateBitsPerSec / 8 / kernelHz()), 4 * 1514);
  const latencyMs = 20;
  const shape = (nsArgs: string[], dev: string) =>
    tc(...nsArgs, "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate, "burst", String(burstBytes), "latency", `${latencyMs}ms`);
  const hosts: LanHost[] = Array.from({ length: o.hosts }, (_, i) => ({ ns: `${tag}p${i}`, addr: `${net}.${i + 2}` }));
  const hostDev = `${tag}h`;
  const gateway: LanHost | null = o.gateway ? { ns: `${tag}g`, addr: `${net}.1` } : null;
  let down = false;
  const lan: Lan = {
    switchNs, hosts, broadcast: `${net}.255`, hostAddr: o.hostPort ? `${net}.1` : null, gateway,
    shaping: { rateBitsPerSec: o.rateBitsPerSec, burstBytes, latencyMs },
    exec: (i) => ["ip", "netns", "exec", hosts[i].ns],
    sentBytes: () => ({
      hosts: hosts.map((h, i) => ({ up: tbfSent(["-n", h.ns], "eth0"), down: tbfSent(["-n", switchNs], `p${i}`) })),
      hostPort: o.hostPort ? { up: tbfSent([], hostDev), down: tbfSent(["-n", switchNs], "h0") } : null,
    }),
    teardown: () => {
      if (down) return;
      down = true;
      for (const h of hosts) removeNamespace(h.ns);
      if (o.hostPort) run("ip", ["link", "del", hostDev]);
      if (gateway !== null) removeNamespace(gateway.ns);
      removeNamespace(switchNs);
      live.delete(lan);
      unhook();
    },
  };
  live.add(lan);
  hook();
  try {
    ip("netns", "add", switchNs);
    ip("-n", switchNs, "link", "add", "br0", "type", "bridge");
    ip("-n", switchNs, "link", "set", "br0", "up");
    hosts.forEach((h, i) => {
      const port = `p${i}`;
      ip("netns", "add", h.ns);
      ip("-n", h.ns, "link", "set", "lo", "up");
      ip("-n", switchNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.ns);
      ip("-n", switchNs, "link", "set", port, "master", "br0", "up");
      ip("-n", h.ns, "addr", "add", `${h.addr}/24`, "brd", "+", "dev", "eth0");
      ip("-n", h.ns, "link", "set", "eth0", "up");
      shape(["-n", h.ns], "eth0");
      shape(["-n", switchNs], port);
    });
    if (o.hostPort) {
      ip("link", "add", hostDev, "type", "veth", "peer", "name", "h0", "netns", switchNs);
      ip("-n", switchNs, "link", "set", "h0", "master", "br0", "up");
      ip("addr", "add", `${net}.1/24`, "brd", "+", "dev", hostDev);
      ip("link", "set", hostDev, "up");
      shape([], hostDev);
      shape(["-n", switchNs], "h0");
    }
    if (gateway !== null) {
      ip("netns", "add", gateway.ns);
      ip("-n", gateway.ns, "link", "set", "lo", "up");
      ip("-n", switchNs, "link", "add", "g0", "type", "veth", "peer", "name", "lan0", "netns", gateway.ns);
      ip("-n", switchNs, "link", "set", "g0", "master", "br0", "up");
      ip("-n", gateway.ns, "addr", "add", `${gateway.addr}/24`, "brd", "+", "dev", "lan0");
      ip("-n", gateway.ns, "link", "set", "lan0", "up");
      shape(["-n", gateway.ns], "lan0");
      shape(["-n", switchNs], "g0");
    }
  } catch (e) {
    lan.teardown();
    throw e;
  }
  return lan;
}
