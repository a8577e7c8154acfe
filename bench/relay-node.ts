// One node of bench/relay-procs.ts, in its own process as a phone would be:
//   relay-node.js phone <bind> <port> <bytes> <seed> [broadcast]   a PeerHost relaying a file
//                       (broadcast: the subnet's, default 127.255.255.255 for loopback)
//   relay-node.js pipe <bind> <port> <bytes> <children,...|->   a plain forwarding socket
// It reports on stdout as JSON lines and takes "go" / "exit" on stdin (and
// exits when stdin closes).

import { createInterface } from "node:readline";
import { createServer, Socket } from "node:net";
import { Ev, NEED_RELAY } from "../host/core/abi.js";
import { loadBoard } from "../host/boards.js";
import { relayFile } from "../host/load/blocklist.js";
import { presetBytes } from "../host/load/presets.js";
import { PeerHost } from "../host/phone/peer-host.js";
import { memoryFlash } from "./memory-flash.js";

const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
const epochMs = () => performance.timeOrigin + performance.now();
const [mode, bind, portText, bytesText, extra, broadcast = "127.255.255.255"] = process.argv.slice(2);
const port = Number(portText);
const bytes = Number(bytesText);
let go!: () => void;
const started = new Promise<void>((r) => (go = r));
createInterface({ input: process.stdin }).on("line", (l) => {
  if (l === "go") go();
  if (l === "exit") process.exit(0);
}).on("close", () => process.exit(0)); // the bench that started us is gone

if (mode === "phone") {
  const file = relayFile("bench.bin", presetBytes("bench.bin", bytes));
  let slot = -1;
  const host: PeerHost = new PeerHost({
    bind, broadcast, port, seed: Number(extra),
    // PFS_RING_BYTES: another ring than the board's, to see what the ring costs.
    core: { ...loadBoard("third-gen").core, lingerMs: 600_000, ...(process.env.PFS_RING_BYTES ? { ringBytes: Number(process.env.PFS_RING_BYTES) } : {}) },
    fetcher: {
      async fetch(_s, from, total, sink, signal) {
        say({ event: "root" });
        await started;
        say({ event: "first", t: epochMs() });
        for (let off = from; off < total && !signal.aborted; off += 65536) await sink(file.stream.subarray(off, Math.min(total, off + 65536)));
      },
    },
    flash: memoryFlash(file.stream.length),
    onEvent: (_x, code, n, a) => {
      if (code === Ev.FileDone) say({ event: "done", t: epochMs(), cpuMs: process.cpuUsage().user / 1000 });
      if (code === Ev.Corrupt) say({ event: "corrupt", n, from: a });
    },
  });
  await host.start();
  slot = host.call(() => host.core.need(host.now(), "CP-7961G", file.name, file.content.length, 0, NEED_RELAY, file.listSha256));
  const poll = setInterval(() => {
    const role = host.core.x.hierRole(slot);
    if (role === 3 || role === 5) {
      clearInterval(poll);
      say({ event: "attached", parent: host.core.x.hierParent(slot) >>> 0 });
    }
  }, 5);
} else {
  const children = extra === "-" ? [] : extra.split(",");
  const outs: Socket[] = [];
  let got = 0;
  const server = createServer((s) => {
    s.on("data", (chunk: Buffer) => {
      got += chunk.length;
      for (const o of outs) if (!o.write(chunk)) {
        s.pause();
        o.once("drain", () => s.resume());
      }
      if (got === bytes) say({ event: "done", t: epochMs(), cpuMs: process.cpuUsage().user / 1000 });
    });
  });
  server.listen(port, bind, async () => {
    for (const c of children) {
      const o = new Socket();
      await new Promise<void>((r) => o.connect({ host: c, port, localAddress: bind }, () => r()));
      o.setNoDelay(true);
      outs.push(o);
    }
    say({ event: "attached" });
    await started;
    if (children.length > 0 && bind === process.env.PFS_PIPE_ROOT) {
      const data = presetBytes("bench.bin", bytes);
      say({ event: "first", t: epochMs() });
      for (let off = 0; off < bytes; off += 65536) {
        const chunk = data.subarray(off, Math.min(bytes, off + 65536));
        for (const o of outs) if (!o.write(chunk)) await new Promise((r) => o.once("drain", r));
      }
    }
  });
}
