// The core on real sockets: several phones on this machine's loopback
// (127.0.0.N, each with UDP and TCP on its own address plus the shared
// broadcast socket on 127.255.255.255) elect roots and relay a load to each
// other over TCP, from an in-memory server and into in-memory flash.

import { test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Ev, NEED_RELAY } from "../../host/core/abi.js";
import { loadBoard } from "../../host/boards.js";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import type { RelayFile } from "../../host/load/blocklist.js";
import { PeerHost } from "../../host/phone/peer-host.js";

/** A port of our own, so a running phone (4051) does not interfere. */
const PORT = 24051;

/** A flash that takes `delayMs` per write, answered later: it fills the
 *  ring, so the core stops reading and the sockets pause. */
interface SlowFlash {
  delayMs: number;
  outstandingBytes: number;
  peakOutstandingBytes: number;
}

function phone(n: number, files: RelayFile[], done: Map<number, Set<number>>, roots: Set<number>, slow?: SlowFlash, fetches?: { count: number; corrupt: number }): { host: PeerHost; flash: Map<number, Uint8Array> } {
  const flash = new Map<number, Uint8Array>();
  const slotFile = new Map<number, RelayFile>();
  const bind = `127.0.0.${n}`;
  const host: PeerHost = new PeerHost({
    bind, broadcast: "127.255.255.255", port: PORT, seed: 1000 + n,
    core: { ...loadBoard("third-gen").core, lingerMs: 60_000 },
    fetcher: {
      async fetch(slot, from, total, sink, signal) {
        roots.add(n);
        if (fetches !== undefined) fetches.count++;
        const stream = slotFile.get(slot)!.stream;
        for (let off = from; off < total && !signal.aborted; off += 8192) await sink(stream.subarray(off, Math.min(total, off + 8192)));
      },
    },
    flash: {
      write(slot, offset, bytes) {
        if (slow === undefined) {
          flash.get(slot)!.set(bytes, offset);
          return;
        }
        // The view is core memory: copy it now, as a DMA would, finish later.
        flash.get(slot)!.set(bytes, offset);
        slow.outstandingBytes += bytes.length;
        slow.peakOutstandingBytes = Math.max(slow.peakOutstandingBytes, slow.outstandingBytes);
        return new Promise<void>((resolve) => setTimeout(() => {
          slow.outstandingBytes -= bytes.length;
          resolve();
        }, slow.delayMs));
      },
      read(slot, offset, into) {
        const f = flash.get(slot)!;
        const n2 = Math.min(into.length, f.length - offset);
        into.set(f.subarray(offset, offset + n2));
        return n2;
      },
    },
    onEvent: (xid, code) => {
      if (code === Ev.Corrupt && fetches !== undefined) fetches.corrupt++;
      if (code === Ev.FileDone) {
        let s = done.get(n);
        if (s === undefined) done.set(n, (s = new Set()));
        s.add(xid);
      }
    },
  });
  const need = () => {
    for (const f of files) {
      const slot = host.call(() => host.core.need(host.now(), "CP-7961G", f.name, f.content.length, 0, NEED_RELAY, f.listSha256));
      assert.ok(slot >= 0, `need ${f.name}: ${slot}`);
      slotFile.set(slot, f);
      flash.set(slot, new Uint8Array(f.stream.length));
    }
  };
  return Object.assign({ host, flash }, { need });
}

/** Starts every phone; if one cannot bind, stops them all and skips, saying why. */
async function startAll(phones: Array<{ host: PeerHost }>, t: TestContext): Promise<boolean> {
  try {
    for (const p of phones) await p.host.start();
    return true;
  } catch (e) {
    for (const p of phones) await p.host.stop();
    t.skip(`cannot bind 127.0.0.N:${PORT} and the broadcast socket here: ${(e as Error).message}`);
    return false;
  }
}

test("five phones on loopback elect roots and relay a load over real sockets", async (t) => {
  const files = presetFiles(getPreset("tiny"));
  const done = new Map<number, Set<number>>();
  const roots = new Set<number>();
  const phones = [2, 3, 4, 5, 6].map((n) => phone(n, files, done, roots) as ReturnType<typeof phone> & { need(): void });
  if (!(await startAll(phones, t))) return;
  try {
    for (const p of phones) p.need();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && [...done.values()].filter((s) => s.size === files.length).length < phones.length) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal([...done.values()].filter((s) => s.size === files.length).length, phones.length, "every phone completed every file");
    // Every phone's flash holds each file exactly (list, then content).
    for (const p of phones) {
      for (const [slot, bytes] of p.flash) {
        const f = files.find((x) => x.stream.length === bytes.length && Buffer.compare(Buffer.from(x.stream), Buffer.from(bytes)) === 0);
        assert.ok(f !== undefined, `slot ${slot} holds a file exactly`);
      }
    }
    // Only roots went to the server, at most one per file.
    assert.ok(roots.size >= 1 && roots.size <= files.length, `${roots.size} phones fetched from the server`);
    const sha = createHash("sha256").update(files[0].content).digest("hex");
    assert.equal(sha.length, 64);
  } finally {
    for (const p of phones) await p.host.stop();
  }
});

test("a slow flash fills the rings: the core stops reading, the sockets pause and resume, and every byte still arrives in order", async (t) => {
  // Four files of 768 KiB at once (12 rings of 64 KiB each): a phone has a
  // parent link per file, all reading through one shared buffer, so bytes
  // one link leaves waiting must survive the other links' reads.
  const { relayFile } = await import("../../host/load/blocklist.js");
  const files = [1, 2, 3, 4].map((k) => {
    const content = new Uint8Array(768 << 10);
    for (let i = 0; i < content.length; i++) content[i] = ((i + k) * 2654435761) >>> 24;
    return relayFile(`slow${k}.bin`, content);
  });
  const done = new Map<number, Set<number>>();
  const roots = new Set<number>();
  const slow: SlowFlash = { delayMs: 3, outstandingBytes: 0, peakOutstandingBytes: 0 };
  const fetches = { count: 0, corrupt: 0 };
  const phones = [12, 13, 14, 15].map((n) => phone(n, files, done, roots, slow, fetches) as ReturnType<typeof phone> & { need(): void });
  if (!(await startAll(phones, t))) return;
  try {
    for (const p of phones) p.need();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && [...done.values()].filter((s) => s.size === files.length).length < phones.length) await new Promise((r) => setTimeout(r, 50));
    assert.equal([...done.values()].filter((s) => s.size === files.length).length, phones.length, "every phone completed every file");
    for (const p of phones) {
      for (const bytes of p.flash.values()) assert.ok(files.some((f) => Buffer.compare(Buffer.from(f.stream), Buffer.from(bytes)) === 0), "flash holds a file exactly");
    }
    // Honest phones on clean links: no block is ever caught as bad (a good
    // parent's block caught so would make its child drop it and rejoin, and
    // at worst fetch from the server again): one fetch per file.
    assert.equal(fetches.corrupt, 0, "blocks caught as bad");
    assert.equal(fetches.count, files.length, `${fetches.count} server fetches for ${files.length} files`);
    // The flash held back at least half a ring at once: the ring was under
    // pressure, so reading had to stop (the core takes nothing past the ring).
    const ringBytes = loadBoard("third-gen").core.ringBytes!;
    assert.ok(slow.peakOutstandingBytes >= ringBytes / 2, `peak unwritten ${slow.peakOutstandingBytes} bytes, ring ${ringBytes}`);
  } finally {
    for (const p of phones) await p.host.stop();
  }
});
