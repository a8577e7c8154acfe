// The C host of the core (native/phone/net.c, peer.c) on the wire with the
// Node one (host/phone/peer-host.ts): build/native/phone/pfs-peer, a PFS
// peer for one file, in groups with Node PeerHosts on real loopback sockets
// (127.0.0.N, the shared broadcast socket on 127.255.255.255). Every test is
// judged by the bytes in flash (the native's --out file, the Node peers'
// in-memory flash) against the source, not by what the programs say.

import { test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ev, NEED_RELAY } from "../../host/core/abi.js";
import { loadBoard } from "../../host/boards.js";
import { relayFile, RelayFile } from "../../host/load/blocklist.js";
import { PeerHost } from "../../host/phone/peer-host.js";
import { Rng } from "../../host/sim/random.js";
import { ensurePhoneTool } from "../support/native.js";
import { fuzzDatagram, fuzzStream, split, xidOf } from "../support/fuzz-wire.js";

const TOOL = "build/native/phone/pfs-peer";
/** A port of this test process, so parallel runs and a running phone (4051)
 *  do not meet (as tests/host/fleet-flood.test.ts). */
const PORT = 20000 + (process.pid % 12000);
const BCAST = "127.255.255.255";
const MODEL = "CP-7961G";
const BOARD = "third-gen";
/** Garbage datagrams thrown at the native peer in the fuzz test. */
const FUZZ_DATAGRAMS = 10_000;
/** Connections carrying garbage frames, from a few source addresses (the
 *  accept gate admits 4 at once per source, 10 a second). */
const FUZZ_STREAMS = 120;

const why = ensurePhoneTool(TOOL);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function content(bytes: number, salt: number): Uint8Array {
  const c = new Uint8Array(bytes);
  for (let i = 0; i < c.length; i++) c[i] = (Math.imul(i + salt, 2654435761) >>> 24) ^ (i >> 11);
  return c;
}

const dir = mkdtempSync(join(tmpdir(), "pfs-native-peer-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

interface Native {
  proc: ChildProcess;
  out: string;
  lines: string[];
  exited: Promise<number | null>;
}

/** Starts pfs-peer for `f` on 127.0.0.`n`. */
function native(n: number, f: RelayFile, role: { fetch?: boolean; seed?: boolean }, lingerS: number): Native {
  // Written once: a peer started later must not truncate what another reads.
  const src = join(dir, f.name);
  if (!existsSync(src)) writeFileSync(src, f.content);
  const out = join(dir, `out-${n}-${f.name}`);
  const args = [
    "--bind", `127.0.0.${n}`, "--broadcast", BCAST, "--port", String(PORT), "--model", MODEL, "--file", f.name,
    "--size", String(f.content.length), "--list-sha256", Buffer.from(f.listSha256).toString("hex"), "--out", out,
    "--linger", String(lingerS), "--board", BOARD, "--seed", String(n), "--timeout", "90",
  ];
  if (role.fetch) args.push("--fetch-from", src);
  if (role.seed) args.push("--seed-from", src);
  const proc = spawn(TOOL, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  for (const s of [proc.stdout!, proc.stderr!]) s.on("data", (b: Buffer) => lines.push(...b.toString().split("\n").filter((l) => l.length > 0)));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return { proc, out, lines, exited };
}

async function waitLine(p: Native, re: RegExp, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!p.lines.some((l) => re.test(l))) {
    if (Date.now() > until || p.proc.exitCode !== null) assert.fail(`no line ${re} from the native peer:\n${p.lines.join("\n")}`);
    await sleep(20);
  }
}

/** The native's flash: the transfer space (list, then file). */
function nativeHolds(p: Native, f: RelayFile): boolean {
  try {
    return Buffer.compare(readFileSync(p.out), Buffer.from(f.stream)) === 0;
  } catch {
    return false;
  }
}

interface NodePeer {
  host: PeerHost;
  flash: Uint8Array;
  slot: number;
  done: boolean;
  fetches: number;
  need(): void;
}

/** A Node phone for `f` on 127.0.0.`n`. `server`: whether it may fetch from
 *  the server (else a fetch fails, and is counted); `flashDelayMs`: a slow
 *  flash that answers each write that much later. */
function nodePeer(n: number, f: RelayFile, server: boolean, flashDelayMs = 0): NodePeer {
  const me: NodePeer = {
    host: null as unknown as PeerHost, flash: new Uint8Array(f.stream.length), slot: -1, done: false, fetches: 0,
    need() {
      me.slot = me.host.call(() => me.host.core.need(me.host.now(), MODEL, f.name, f.content.length, 0, NEED_RELAY, f.listSha256));
      assert.ok(me.slot >= 0, `need: ${me.slot}`);
    },
  };
  me.host = new PeerHost({
    bind: `127.0.0.${n}`, broadcast: BCAST, port: PORT, seed: 7000 + n,
    core: { ...loadBoard(BOARD).core, lingerMs: 120_000 },
    fetcher: {
      async fetch(_slot, from, total, sink, signal) {
        me.fetches++;
        if (!server) throw new Error("this peer has no server");
        for (let off = from; off < total && !signal.aborted; off += 8192) await sink(f.stream.subarray(off, Math.min(total, off + 8192)));
      },
    },
    flash: {
      write(_slot, offset, bytes) {
        me.flash.set(bytes, offset);
        if (flashDelayMs > 0) return sleep(flashDelayMs);
      },
      read(_slot, offset, into) {
        const k = Math.min(into.length, me.flash.length - offset);
        into.set(me.flash.subarray(offset, offset + k));
        return k;
      },
    },
    onEvent: (_xid, code) => {
      if (code === Ev.FileDone) me.done = true;
    },
  });
  return me;
}

function nodeHolds(p: NodePeer, f: RelayFile): boolean {
  return Buffer.compare(Buffer.from(p.flash), Buffer.from(f.stream)) === 0;
}

async function startNodes(peers: NodePeer[], t: TestContext): Promise<boolean> {
  try {
    for (const p of peers) await p.host.start();
    return true;
  } catch (e) {
    for (const p of peers) await p.host.stop();
    t.skip(`cannot bind 127.0.0.N:${PORT} and ${BCAST} here: ${(e as Error).message}`);
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(25);
  }
  return true;
}

function stopAll(natives: Native[], nodes: NodePeer[]): Promise<unknown> {
  for (const p of natives) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  return Promise.all([...nodes.map((p) => p.host.stop()), ...natives.map((p) => p.exited)]);
}

test("a native root feeds Node children: every child's flash holds the file", { skip: why ?? false }, async (t) => {
  const f = relayFile("nat-root.bin", content(700_000, 1));
  const root = native(10, f, { fetch: true }, 8);
  const kids = [11, 12, 13].map((n) => nodePeer(n, f, false));
  try {
    // The native confirms itself root before anybody else needs the file.
    await waitLine(root, /@@@HROOT/, 10_000);
    if (!(await startNodes(kids, t))) return;
    for (const k of kids) k.need();
    await until(() => kids.every((k) => k.done), 30_000);
    for (const [i, k] of kids.entries()) assert.ok(nodeHolds(k, f), `Node child ${i} holds the file exactly`);
    assert.equal(kids.reduce((s, k) => s + k.fetches, 0), 0, "a Node child went to the server");
    assert.ok(nativeHolds(root, f), "the native root's flash holds the file");
    assert.equal(await root.exited, 0, root.lines.join("\n"));
  } finally {
    await stopAll([root], kids);
  }
});

test("a Node root feeds native children: every native's --out holds the file", { skip: why ?? false }, async (t) => {
  const f = relayFile("node-root.bin", content(900_000, 2));
  const root = nodePeer(20, f, true);
  const kids: Native[] = [];
  try {
    if (!(await startNodes([root], t))) return;
    root.need();
    assert.ok(await until(() => root.done, 10_000), "the Node root fetched the file");
    for (const n of [21, 22, 23]) kids.push(native(n, f, {}, 2));
    const codes = await Promise.all(kids.map((k) => k.exited));
    for (const [i, k] of kids.entries()) {
      assert.ok(nativeHolds(k, f), `native child ${i} holds the file exactly:\n${k.lines.join("\n")}`);
      assert.equal(codes[i], 0);
    }
    assert.equal(root.fetches, 1, "one server fetch");
  } finally {
    await stopAll(kids, [root]);
  }
});

test("a mixed group of 5 finishes after kill -9 of the native root mid-transfer", { skip: why ?? false }, async (t) => {
  const f = relayFile("mixed.bin", content(2 << 20, 3));
  const root = native(30, f, { fetch: true }, 60);
  const natives = [root];
  // Node children with a slow flash (a write answered 15 ms later): the
  // transfer still runs when the root dies.
  const nodes = [31, 32].map((n) => nodePeer(n, f, true, 15));
  try {
    await waitLine(root, /@@@HROOT/, 10_000);
    if (!(await startNodes(nodes, t))) return;
    for (const p of nodes) p.need();
    natives.push(native(33, f, { fetch: true }, 3), native(34, f, { fetch: true }, 3));
    const total = f.stream.length;
    const held = () => Math.min(...nodes.map((p) => (p.slot < 0 ? 0 : p.host.core.x.hierHeld(p.slot) >>> 0)));
    assert.ok(await until(() => held() > total / 10, 20_000), "the Node children started receiving");
    const at = held();
    root.proc.kill("SIGKILL");
    await root.exited;
    assert.ok(at < total, `the transfer was over (${at} of ${total}) before the root died`);
    assert.ok(await until(() => nodes.every((p) => p.done), 40_000), "every Node peer finished");
    for (const [i, p] of nodes.entries()) assert.ok(nodeHolds(p, f), `Node peer ${i} holds the file exactly`);
    const codes = await Promise.all(natives.slice(1).map((p) => p.exited));
    for (const [i, p] of natives.slice(1).entries()) {
      assert.ok(nativeHolds(p, f), `native peer ${i} holds the file exactly:\n${p.lines.slice(-20).join("\n")}`);
      assert.equal(codes[i], 0);
    }
  } finally {
    await stopAll(natives, nodes);
  }
});

/** Throws garbage at 127.0.0.`n`: datagrams, then streams of frames from
 *  a few source addresses, split as TCP may deliver them. */
async function fuzz(n: number, f: RelayFile, seed: number): Promise<{ datagrams: number; streams: number }> {
  const rng = new Rng(seed);
  const targets = { xids: [xidOf(MODEL, f.name)], addrs: [0x7f000000 + n, 0x7f000000 + 40, 0x7f000000 + 41] };
  const udp = createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", () => resolve()));
  let datagrams = 0;
  for (let i = 0; i < FUZZ_DATAGRAMS; i++) {
    udp.send(fuzzDatagram(rng, targets), PORT, `127.0.0.${n}`);
    datagrams++;
    if (i % 200 === 199) await sleep(5); // not all into one full socket buffer
  }
  udp.close();
  let streams = 0;
  const open: Promise<void>[] = [];
  for (let i = 0; i < FUZZ_STREAMS; i++) {
    const pieces = split(rng, fuzzStream(rng, targets));
    open.push(new Promise<void>((resolve) => {
      const s = connect({ host: `127.0.0.${n}`, port: PORT, localAddress: `127.0.0.${60 + (i % 8)}` }, async () => {
        streams++;
        for (const p of pieces) {
          if (s.destroyed) break;
          s.write(p);
          await sleep(1);
        }
        s.end();
      });
      s.on("error", () => resolve());
      s.on("close", () => resolve());
      setTimeout(() => s.destroy(), 3000).unref();
    }));
    if (i % 8 === 7) await sleep(100);
  }
  await Promise.all(open);
  return { datagrams, streams };
}

test("garbage datagrams and frames do not stop a native peer from finishing", { skip: why ?? false }, async (t) => {
  const f = relayFile("fuzzed.bin", content(1 << 20, 4));
  // A Node root that fetches slowly (8 KiB per 20 ms): the native child is
  // mid-transfer while the garbage comes.
  const root = nodePeer(40, f, true);
  const slowFetch = root.host.opts.fetcher;
  root.host.opts.fetcher = {
    async fetch(slot, from, total, sink, signal) {
      await slowFetch.fetch(slot, from, total, async (chunk) => {
        await sleep(20);
        await sink(chunk);
      }, signal);
    },
  };
  const kids: Native[] = [];
  try {
    if (!(await startNodes([root], t))) return;
    root.need();
    const kid = native(41, f, {}, 2);
    kids.push(kid);
    await waitLine(kid, /Joined parent=127\.0\.0\.40/, 15_000);
    const sent = await fuzz(41, f, 4051 + (process.pid % 1000));
    assert.equal(sent.datagrams, FUZZ_DATAGRAMS);
    assert.ok(sent.streams > 0, "no garbage stream was even accepted by the kernel");
    const code = await kid.exited;
    assert.equal(kid.proc.signalCode, null, `the native peer died of a signal:\n${kid.lines.slice(-20).join("\n")}`);
    assert.ok(nativeHolds(kid, f), `the native peer holds the file exactly:\n${kid.lines.slice(-20).join("\n")}`);
    assert.equal(code, 0);
    // The garbage reached the core: it counted malformed input.
    const summary = kid.lines.find((l) => l.startsWith("pfs-peer: exit")) ?? "";
    const malformed = Number(/malformedDatagrams=(\d+)/.exec(summary)?.[1] ?? 0);
    assert.ok(malformed > 0, `no malformed datagram counted: ${summary}`);
    assert.ok(root.done && nodeHolds(root, f), "the Node root holds the file");
  } finally {
    await stopAll(kids, [root]);
  }
});
