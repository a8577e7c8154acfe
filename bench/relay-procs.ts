// The relay with every phone in its own process, as deployed: K phone
// processes (the real core) on loopback relay one file from an in-memory
// server; then K plain forwarding processes replay the tree they formed.
// Time runs from the root's first byte to the last node holding everything.
// By default on loopback (127.0.0.2 ..); `net` puts the nodes on other
// addresses and runs each under a command prefix (bench/relay-netns.ts: one
// network namespace per phone).

import { spawn, ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { u32ToIp } from "../host/phone/addr.js";

const here = dirname(fileURLToPath(import.meta.url));
const NODE_JS = join(here, "relay-node.js");

interface Proc {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  wait: (event: string) => Promise<Record<string, unknown>>;
  /** Told to exit (or killed): its exit is no failure. */
  leaving?: boolean;
}

function bye(p: Proc): void {
  p.leaving = true;
  p.child.stdin!.write("exit\n");
}

function start(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Proc {
  const node = [process.execPath, ...(process.env.PFS_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PFS_PROFILE_DIR}`] : []), NODE_JS, ...args];
  const [cmd, ...rest] = [...wrap, ...node];
  const child = spawn(cmd, rest, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ event: string; resolve: (e: Record<string, unknown>) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    events.push(e);
    for (const w of waiters.splice(0)) {
      if (w.event === e.event) w.resolve(e);
      else waiters.push(w);
    }
  });
  const wait = (event: string) => {
    const seen = events.find((e) => e.event === event);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve) => waiters.push({ event, resolve }));
  };
  return { child, events, wait };
}

export interface RelayProcsResult {
  phones: number;
  depth: number;
  oursMs: number;
  plainMs: number;
  /** The most user CPU one phone process had spent when it held the file. */
  oursCpuMs: number;
  /** The most children one node had (2 in a binary tree; 1 in a chain). */
  maxChildren: number;
  /** Blocks our phones caught failing their check (honest phones: 0). */
  badBlocks: number;
}

/** Where the nodes live, when not on loopback. */
export interface RelayProcsNet {
  /** One address per node (its own interface's). */
  binds: string[];
  /** The subnet's broadcast address. */
  broadcast: string;
  /** A command prefix that runs node i where it belongs (e.g. `ip netns exec NS`). */
  wrap?: (i: number) => string[];
  /** Give up after this long (both runs together). */
  timeoutMs?: number;
}

export async function relayProcs(phones: number, bytes: number, port = 27051, net?: RelayProcsNet): Promise<RelayProcsResult> {
  const started: Proc[] = [];
  let timer: NodeJS.Timeout | undefined;
  let failed!: (e: Error) => void;
  // A node that dies before it is told to exit, or no result in time, ends the run.
  const failure = new Promise<never>((_r, reject) => {
    failed = reject;
    if (net?.timeoutMs !== undefined) timer = setTimeout(() => reject(new Error(`relay of ${bytes} bytes through ${phones} phone processes: no result within ${net.timeoutMs} ms`)), net.timeoutMs);
  });
  try {
    return await Promise.race([run(phones, bytes, port, net, started, failed), failure]);
  } finally {
    clearTimeout(timer);
    for (const p of started) {
      p.leaving = true;
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    }
  }
}

async function run(phones: number, bytes: number, port: number, net: RelayProcsNet | undefined, started: Proc[], failed: (e: Error) => void): Promise<RelayProcsResult> {
  const binds = net?.binds ?? Array.from({ length: phones }, (_, i) => `127.0.0.${i + 2}`);
  const broadcast = net?.broadcast ?? "127.255.255.255";
  const wrap = (i: number) => net?.wrap?.(i) ?? [];
  const launch = (i: number, args: string[], env?: NodeJS.ProcessEnv) => {
    const p = start(args, env, wrap(i));
    started.push(p);
    p.child.on("exit", (code, signal) => {
      if (!p.leaving) failed(new Error(`${args.slice(0, 2).join(" ")} exited (${code ?? signal}) before it was done`));
    });
    return p;
  };
  const ours = binds.map((b, i) => launch(i, ["phone", b, String(port), String(bytes), String(500 + i), broadcast]));
  const attached = await Promise.all(ours.map((p) => p.wait("attached")));
  const root = ours.find((p) => p.events.some((e) => e.event === "root")) ?? ours[attached.findIndex((a) => a.parent === 0)];
  await root.wait("root");
  root.child.stdin!.write("go\n");
  const first = (await root.wait("first")).t as number;
  const done = await Promise.all(ours.map((p) => p.wait("done")));
  const oursMs = Math.max(...done.map((d) => d.t as number)) - first;
  for (const p of ours) bye(p);
  // The same tree, plain.
  const parents = attached.map((a) => (a.parent === 0 ? -1 : binds.indexOf(u32ToIp(a.parent as number))));
  const rootIndex = parents.indexOf(-1);
  const depthOf = (i: number): number => (parents[i] < 0 ? 0 : 1 + depthOf(parents[i]));
  const kids = (i: number) => parents.map((p, k) => (p === i ? binds[k] : "")).filter((x) => x !== "");
  // Children listen before their parents connect: start leaves first.
  const order = binds.map((_b, i) => i).sort((a, b) => depthOf(b) - depthOf(a));
  const plain: Proc[] = new Array(phones);
  for (const i of order) {
    plain[i] = launch(i, ["pipe", binds[i], String(port + 1), String(bytes), kids(i).join(",") || "-"], { PFS_PIPE_ROOT: binds[rootIndex] });
    await plain[i].wait("attached");
  }
  for (const p of plain) p.child.stdin!.write("go\n");
  const pFirst = (await plain[rootIndex].wait("first")).t as number;
  const pDone = await Promise.all(plain.filter((_p, i) => i !== rootIndex).map((p) => p.wait("done")));
  const plainMs = Math.max(...pDone.map((d) => d.t as number)) - pFirst;
  for (const p of plain) bye(p);
  const oursCpuMs = Math.max(...done.map((d) => d.cpuMs as number));
  const maxChildren = Math.max(...binds.map((_b, i) => kids(i).length));
  const badBlocks = ours.reduce((sum, p) => sum + p.events.filter((e) => e.event === "corrupt").length, 0);
  return { phones, depth: Math.max(...binds.map((_b, i) => depthOf(i))), oursMs, plainMs, oursCpuMs, maxChildren, badBlocks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const phones of [3, 7]) {
    const r = await relayProcs(phones, 15 << 20);
    process.stdout.write(`${phones} phone processes, depth ${r.depth}: ours ${r.oursMs.toFixed(0)} ms, plain ${r.plainMs.toFixed(0)} ms, plain/ours ${(r.plainMs / r.oursMs).toFixed(2)}\n`);
  }
}
