// Our server's WAN emulation: wanRttMs holds each datagram half the round
// trip each way, so a lockstep transfer pays one RTT per block and a windowed
// one one per window; wanKbps paces all the server sends through one token
// bucket. The asserts are lower bounds that hold by construction (the
// emulator never delivers early) and ratios with wide margins, never tight
// wall-clock limits: this machine is shared.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TftpError, tftpGet } from "../../host/tftp/client.js";
import { TftpServer, UDP_IPV4_OVERHEAD_BYTES, WAN_BURST_BYTES } from "../../host/tftp/server.js";
import { DATA_HEADER_BYTES } from "../../host/tftp/packet.js";

const LOOPBACK = "127.0.0.1";
const FILE_BYTES = 200_000;
const dir = mkdtempSync(join(tmpdir(), "pfs-tftp-wan-"));
writeFileSync(join(dir, "load.bin"), randomBytes(FILE_BYTES));
writeFileSync(join(dir, "big.bin"), randomBytes(2 * FILE_BYTES));

const servers: TftpServer[] = [];
async function serve(wanKbps: number, wanRttMs: number): Promise<number> {
  const s = new TftpServer({ root: dir, host: LOOPBACK, port: 0, wanKbps, wanRttMs });
  servers.push(s);
  return (await s.start()).port;
}
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function timed(port: number, file: string, opts: { blksize?: number; windowsize?: number } = {}) {
  const t0 = performance.now();
  const r = await tftpGet({ host: LOOPBACK, port, file, ...opts });
  return { ...r, ms: performance.now() - t0 };
}

/** Bits the emulated link carries for a file: payload, TFTP and UDP/IP headers. */
const wireBits = (bytes: number, blksize: number) => {
  const blocks = Math.floor(bytes / blksize) + 1;
  return (bytes + blocks * (DATA_HEADER_BYTES + UDP_IPV4_OVERHEAD_BYTES)) * 8;
};

let rttPort = 0;
before(async () => {
  rttPort = await serve(0, 40);
});

test("wanRttMs 40: a lockstep fetch pays a round trip per block, a windowed one per window", async (t) => {
  const blksize = 2048;
  const blocks = Math.floor(FILE_BYTES / blksize) + 1;
  const lockstep = await timed(rttPort, "load.bin", { blksize });
  assert.equal(lockstep.bytes, FILE_BYTES);
  // Each DATA is held 20 ms out and its ACK 20 ms in; the OACK adds one more.
  assert.ok(lockstep.ms >= blocks * 40, `lockstep ${lockstep.ms.toFixed(0)} ms for ${blocks} blocks: at least ${blocks * 40} ms`);
  const windowed = await timed(rttPort, "load.bin", { blksize, windowsize: 16 });
  assert.equal(windowed.windowsize, 16);
  const windows = Math.ceil(blocks / 16);
  assert.ok(windowed.ms >= windows * 40, `windowed ${windowed.ms.toFixed(0)} ms: at least ${windows} round trips`);
  assert.ok(windowed.ms * 4 < lockstep.ms, `windowed ${windowed.ms.toFixed(0)} ms is much faster than lockstep ${lockstep.ms.toFixed(0)} ms`);
  t.diagnostic(`${blocks} blocks: lockstep ${lockstep.ms.toFixed(0)} ms, windowsize 16 ${windowed.ms.toFixed(0)} ms (${(lockstep.ms / windowed.ms).toFixed(1)}x)`);
});

test("wanRttMs 40: even a refusal takes the round trip", async () => {
  const t0 = performance.now();
  await assert.rejects(tftpGet({ host: LOOPBACK, port: rttPort, file: "missing.bin" }), (e: unknown) => e instanceof TftpError && e.code === 1);
  assert.ok(performance.now() - t0 >= 40);
});

test("wanKbps caps throughput, and all transfers share the one bucket", async (t) => {
  const kbps = 4000;
  const port = await serve(kbps, 0);
  const opts = { blksize: 1428, windowsize: 16 };
  const bytes = 2 * FILE_BYTES;
  // No faster than the link: its bits over its rate, less one burst.
  const floorMs = (bits: number) => (bits - WAN_BURST_BYTES * 8) / kbps;
  const one = await timed(port, "big.bin", opts);
  const oneFloor = floorMs(wireBits(bytes, opts.blksize));
  assert.ok(one.ms >= oneFloor, `${one.ms.toFixed(0)} ms: at least ${oneFloor.toFixed(0)} ms at ${kbps} kbit/s`);
  const goodputKbps = (bytes * 8) / one.ms;
  assert.ok(goodputKbps > 0.3 * kbps, `goodput ${goodputKbps.toFixed(0)} kbit/s is not far below the cap ${kbps}`);

  const t0 = performance.now();
  const both = await Promise.all([tftpGet({ host: LOOPBACK, port, file: "big.bin", ...opts }), tftpGet({ host: LOOPBACK, port, file: "load.bin", ...opts })]);
  const bothMs = performance.now() - t0;
  const bothFloor = floorMs(wireBits(bytes, opts.blksize) + wireBits(FILE_BYTES, opts.blksize));
  assert.deepEqual(both.map((r) => r.bytes), [bytes, FILE_BYTES]);
  assert.ok(bothMs >= bothFloor, `two at once took ${bothMs.toFixed(0)} ms: at least ${bothFloor.toFixed(0)} ms through one bucket`);
  t.diagnostic(`cap ${kbps} kbit/s: one fetch ${goodputKbps.toFixed(0)} kbit/s of payload; two at once ${((bytes + FILE_BYTES) * 8 / bothMs).toFixed(0)} kbit/s together`);

  // The same fetch from an unpaced server is far quicker: the cap is what bounds it.
  const free = await timed(await serve(0, 0), "big.bin", opts);
  assert.ok(free.ms * 3 < one.ms, `unpaced ${free.ms.toFixed(0)} ms vs paced ${one.ms.toFixed(0)} ms`);
});
