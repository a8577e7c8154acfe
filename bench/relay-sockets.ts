// The relay on real sockets against a plain Node socket pipe over the same
// path. Phones (PeerHost, the real core) on loopback addresses in this
// process relay one file from an in-memory server into in-memory flash;
// then the same tree shape is replayed with plain TCP sockets that forward
// what they read to their children (Node's pipe: no checks, no flash).
// Both run in this one process on the same loopback, so they share the same
// CPU and the same kernel path; the ratio is throughput ours / plain.
// A third run replays the tree again with forwarders that also do the work
// no verifying relay can skip: SHA-256 of every 16 KiB block checked against
// the list, and a copy into memory standing for flash ("pipe + verify"). It
// tells our relay's own overhead from the cost of checking what it relays.

import { createHash } from "node:crypto";
import { createServer, Server, Socket } from "node:net";
import { BLOCK_BYTES, HASH_BYTES } from "../host/core/abi.js";
import { Ev, NEED_RELAY } from "../host/core/abi.js";
import { loadBoard } from "../host/boards.js";
import { RelayFile, relayFile } from "../host/load/blocklist.js";
import { presetBytes } from "../host/load/presets.js";
import { PeerHost } from "../host/phone/peer-host.js";
import { memoryFlash } from "./memory-flash.js";
import { u32ToIp } from "../host/phone/addr.js";

const PORT = 26051;
const PIPE_PORT = 26052;
const RING_BYTES = Number(process.env.PFS_RING_BYTES ?? 1 << 20);

export interface RelaySocketsResult {
  phones: number;
  bytes: number;
  oursMs: number;
  plainMs: number;
  /** The plain pipe that also checks every block and stores it. */
  verifyMs: number;
  depth: number;
  /** CPU this process spent while ours ran (all phones share it). */
  cpuMs: number;
}

/** One run: `phones` phones relay a file of `bytes`. */
export async function relaySockets(phones: number, bytes: number): Promise<RelaySocketsResult> {
  const file = relayFile("bench.bin", presetBytes("bench.bin", bytes));
  const hosts: PeerHost[] = [];
  const done = new Set<number>();
  let firstByteAt = 0;
  let lastDoneAt = 0;
  let cpuAtStart = process.cpuUsage();
  let cpuMs = 0;
  for (let i = 0; i < phones; i++) {
    const host: PeerHost = new PeerHost({
      bind: `127.0.0.${i + 2}`, broadcast: "127.255.255.255", port: PORT, seed: 77 + i,
      core: { ...loadBoard("third-gen").core, lingerMs: 600_000, ringBytes: RING_BYTES },
      fetcher: {
        async fetch(_slot, from, total, sink, signal) {
          // The tree first: the clock measures the relay, not the election.
          while (!treeFormed() && !signal.aborted) await new Promise((r) => setTimeout(r, 2));
          firstByteAt = performance.now();
          cpuAtStart = process.cpuUsage();
          for (let off = from; off < total && !signal.aborted; off += 65536) await sink(file.stream.subarray(off, Math.min(total, off + 65536)));
        },
      },
      flash: memoryFlash(file.stream.length),
      onEvent: (_xid, code) => {
        if (code === Ev.FileDone && !done.has(i)) {
          done.add(i);
          lastDoneAt = performance.now();
          const c = process.cpuUsage(cpuAtStart);
          cpuMs = (c.user + c.system) / 1000;
        }
      },
    });
    hosts.push(host);
  }
  const treeFormed = () => hosts.every((h, i) => slots[i] !== undefined && [3, 5].includes(h.core.x.hierRole(slots[i])));
  for (const h of hosts) await h.start();
  const slots: number[] = [];
  for (const h of hosts) slots.push(h.call(() => h.core.need(h.now(), "CP-7961G", file.name, file.content.length, 0, NEED_RELAY, file.listSha256)));
  const deadline = Date.now() + 120_000;
  while (done.size < phones && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // The tree as it stood: each phone's parent.
  const parents = hosts.map((h, i) => {
    const a = h.core.x.hierParent(slots[i]) >>> 0;
    return a === 0 ? -1 : hosts.findIndex((x) => x.self === a);
  });
  for (const h of hosts) await h.stop();
  if (done.size < phones) throw new Error(`only ${done.size} of ${phones} phones finished`);
  const depthOf = (i: number): number => (parents[i] < 0 ? 0 : 1 + depthOf(parents[i]));
  const depth = Math.max(...hosts.map((_h, i) => depthOf(i)));
  const addrs = hosts.map((h) => u32ToIp(h.self));
  const plainMs = await plainPipe(parents, addrs, file, false);
  const verifyMs = await plainPipe(parents, addrs, file, true);
  return { phones, bytes, oursMs: lastDoneAt - firstByteAt, plainMs, verifyMs, depth, cpuMs };
}

/** What a verifying node must do with each chunk it holds, whoever wrote
 *  it: store it, check the list against its SHA-256 once whole, then each
 *  16 KiB block of the file against the list as soon as it is complete. */
function verifier(file: RelayFile): (chunk: Uint8Array) => void {
  const store = new Uint8Array(file.stream.length);
  const listBytes = file.list.length;
  let held = 0;
  let checked = 0; // bytes of the stream checked so far
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
  return (chunk) => {
    store.set(chunk, held);
    held += chunk.length;
    if (checked === 0 && held >= listBytes) {
      if (!same(createHash("sha256").update(store.subarray(0, listBytes)).digest(), file.listSha256)) throw new Error("pipe + verify: bad list");
      checked = listBytes;
    }
    while (checked > 0 && checked < held && (held - checked >= BLOCK_BYTES || held === store.length)) {
      const end = Math.min(checked + BLOCK_BYTES, held);
      const k = (checked - listBytes) / BLOCK_BYTES;
      if (!same(createHash("sha256").update(store.subarray(checked, end)).digest(), store.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES))) throw new Error(`pipe + verify: bad block ${k}`);
      checked = end;
    }
  };
}

/** The same tree with plain sockets: the root writes the bytes to its
 *  children, every other node pipes what it reads to its own children.
 *  With `verify`, every node (the root too) also runs verifier() on each
 *  chunk before passing it on, as our relay does. */
async function plainPipe(parents: number[], addrs: string[], file: RelayFile, verify: boolean): Promise<number> {
  const bytes = file.stream;
  const servers: Server[] = [];
  const received = new Array<number>(addrs.length).fill(0);
  let finished = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const childrenOf = (i: number) => parents.map((p, k) => (p === i ? k : -1)).filter((k) => k >= 0);
  const outs: Socket[][] = addrs.map(() => []);
  for (let i = 0; i < addrs.length; i++) {
    const check = verify ? verifier(file) : undefined;
    const server = createServer((s) => {
      s.on("data", (chunk: Buffer) => {
        check?.(chunk);
        received[i] += chunk.length;
        for (const o of outs[i]) if (!o.write(chunk)) {
          s.pause();
          o.once("drain", () => s.resume());
        }
        if (received[i] === bytes.length && ++finished === addrs.length - 1) resolveAll();
      });
    });
    await new Promise<void>((r) => server.listen(PIPE_PORT, addrs[i], () => r()));
    servers.push(server);
  }
  for (let i = 0; i < addrs.length; i++) {
    for (const k of childrenOf(i)) {
      const s = new Socket();
      await new Promise<void>((r) => s.connect({ host: addrs[k], port: PIPE_PORT, localAddress: addrs[i] }, () => r()));
      s.setNoDelay(true);
      outs[i].push(s);
    }
  }
  const root = parents.indexOf(-1);
  const rootCheck = verify ? verifier(file) : undefined;
  const started = performance.now();
  for (let off = 0; off < bytes.length; off += 65536) {
    const chunk = bytes.subarray(off, Math.min(bytes.length, off + 65536));
    rootCheck?.(chunk);
    for (const o of outs[root]) if (!o.write(chunk)) await new Promise((r) => o.once("drain", r));
  }
  if (addrs.length > 1) await all;
  const ms = performance.now() - started;
  for (const list of outs) for (const s of list) s.destroy();
  for (const s of servers) await new Promise((r) => s.close(() => r(undefined)));
  return ms;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const phones of [3, 7]) {
    const r = await relaySockets(phones, 8 << 20);
    process.stdout.write(`${phones} phones, depth ${r.depth}: ours ${r.oursMs.toFixed(0)} ms, plain pipe ${r.plainMs.toFixed(0)} ms (plain/ours ${(r.plainMs / r.oursMs).toFixed(2)}), pipe + verify ${r.verifyMs.toFixed(0)} ms (${(r.verifyMs / r.oursMs).toFixed(2)}), ours used ${r.cpuMs.toFixed(0)} ms CPU\n`);
  }
}
