// The relay with every phone in its own process, as deployed: K phone
// processes (the real core) on loopback relay one file from an in-memory
// server; then K plain forwarding processes replay the tree they formed.
// Time runs from the root's first byte to the last node holding everything.

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
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [...(process.env.PFS_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PFS_PROFILE_DIR}`] : []), NODE_JS, ...args], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } });
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
}

export async function relayProcs(phones: number, bytes: number, port = 27051): Promise<RelayProcsResult> {
  const binds = Array.from({ length: phones }, (_, i) => `127.0.0.${i + 2}`);
  const ours = binds.map((b, i) => start(["phone", b, String(port), String(bytes), String(500 + i)]));
  const attached = await Promise.all(ours.map((p) => p.wait("attached")));
  const root = ours.find((p) => p.events.some((e) => e.event === "root")) ?? ours[attached.findIndex((a) => a.parent === 0)];
  await root.wait("root");
  root.child.stdin!.write("go\n");
  const first = (await root.wait("first")).t as number;
  const done = await Promise.all(ours.map((p) => p.wait("done")));
  const oursMs = Math.max(...done.map((d) => d.t as number)) - first;
  for (const p of ours) p.child.stdin!.write("exit\n");
  // The same tree, plain.
  const parents = attached.map((a) => (a.parent === 0 ? -1 : binds.indexOf(u32ToIp(a.parent as number))));
  const rootIndex = parents.indexOf(-1);
  const depthOf = (i: number): number => (parents[i] < 0 ? 0 : 1 + depthOf(parents[i]));
  const kids = (i: number) => parents.map((p, k) => (p === i ? binds[k] : "")).filter((x) => x !== "");
  // Children listen before their parents connect: start leaves first.
  const order = binds.map((_b, i) => i).sort((a, b) => depthOf(b) - depthOf(a));
  const plain: Proc[] = new Array(phones);
  for (const i of order) {
    plain[i] = start(["pipe", binds[i], String(port + 1), String(bytes), kids(i).join(",") || "-"], { PFS_PIPE_ROOT: binds[rootIndex] });
    await plain[i].wait("attached");
  }
  for (const p of plain) p.child.stdin!.write("go\n");
  const pFirst = (await plain[rootIndex].wait("first")).t as number;
  const pDone = await Promise.all(plain.filter((_p, i) => i !== rootIndex).map((p) => p.wait("done")));
  const plainMs = Math.max(...pDone.map((d) => d.t as number)) - pFirst;
  for (const p of plain) p.child.stdin!.write("exit\n");
  return { phones, depth: Math.max(...binds.map((_b, i) => depthOf(i))), oursMs, plainMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const phones of [3, 7]) {
    const r = await relayProcs(phones, 15 << 20);
    process.stdout.write(`${phones} phone processes, depth ${r.depth}: ours ${r.oursMs.toFixed(0)} ms, plain ${r.plainMs.toFixed(0)} ms, plain/ours ${(r.plainMs / r.oursMs).toFixed(2)}\n`);
  }
}
