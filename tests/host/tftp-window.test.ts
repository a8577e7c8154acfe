// Windowed TFTP to the link's limit (docs/TFTP.md "Window"): the client asks
// the board's tftpWindowMax, takes what the server grants, halves the window
// it asks after a file that lost data and grows it back while files come
// clean (host/tftp/window.ts). Rates are read from the server's own records
// (when its first DATA left, when the last ACK came), bytes from its own
// count of what it sent; a broken client (no window, early ACKs that make
// the server resend, no adaptation) fails these.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tftpGet, tftpGetBuffer } from "../../host/tftp/client.js";
import { TftpServer, TftpServerOptions, UDP_IPV4_OVERHEAD_BYTES } from "../../host/tftp/server.js";
import { DATA_HEADER_BYTES } from "../../host/tftp/packet.js";
import { SERVER_TIMEOUT_ASK_SEC, WindowChange, WindowControl } from "../../host/tftp/window.js";
import { boardTftpWindowMax, loadBoard } from "../../host/boards.js";
import { IN_TFTPD, LOOPBACK, startTftpd, tftpdHpaArgs, tftpdHpaMissing } from "../support/tftpd.js";

const BLKSIZE = 1428;
/** 2 MB: 8 s on the 2 Mbit/s link, several windows of 320 blocks. */
const FILE_BYTES = 2_000_000;
const WAN = { wanKbps: 2000, wanRttMs: 80 };
const dir = mkdtempSync(join(tmpdir(), "pfs-tftp-window-"));
const content = randomBytes(FILE_BYTES);
writeFileSync(join(dir, "load.bin"), content);
writeFileSync(join(dir, "small.bin"), content.subarray(0, 100_000));
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const servers: TftpServer[] = [];
async function serve(o: Partial<TftpServerOptions>): Promise<{ server: TftpServer; port: number }> {
  const server = new TftpServer({ root: dir, host: LOOPBACK, port: 0, ...o });
  servers.push(server);
  return { server, port: (await server.start()).port };
}
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** The client resolves on sending its final ACK; the server records the
 *  request once that ACK has crossed the emulated WAN back to it. */
async function settled(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "the server recorded the request's end");
}

/** What the link carries per second at wanKbps, payload and headers. */
function linkShare(bytes: number, ms: number): number {
  const blocks = Math.floor(bytes / BLKSIZE) + 1;
  const wireBits = (bytes + blocks * (DATA_HEADER_BYTES + UDP_IPV4_OVERHEAD_BYTES)) * 8;
  return wireBits / ms / WAN.wanKbps;
}

test("the third-gen board asks a window that fills a 2 Mbit/s 80 ms WAN to 0.95 of its rate", () => {
  const w = boardTftpWindowMax(loadBoard("third-gen"));
  // RFC 7440 waits a round trip after each window: a share W t / (W t + RTT).
  const blockMs = ((BLKSIZE + DATA_HEADER_BYTES + UDP_IPV4_OVERHEAD_BYTES) * 8) / WAN.wanKbps;
  const share = (w * blockMs) / (w * blockMs + WAN.wanRttMs);
  assert.ok(share >= 0.95, `tftpWindowMax ${w} uses the link at ${share.toFixed(3)} at most`);
  assert.equal(boardTftpWindowMax(loadBoard("cp-7961g")), w, "a model inherits its family's figure");
});

test("the board's window fills the emulated WAN: the server sends each byte once, near the link rate", async () => {
  const { server, port } = await serve(WAN);
  const ctl = new WindowControl(boardTftpWindowMax(loadBoard("third-gen")));
  const got = await tftpGetBuffer({ host: LOOPBACK, port, file: "load.bin", blksize: BLKSIZE, tsize: true, window: ctl, timeoutSec: SERVER_TIMEOUT_ASK_SEC, timeoutMs: 1000 });
  assert.equal(sha(got), sha(content));
  const rec = server.requests.find((r) => r.file === "load.bin")!;
  await settled(() => rec.endMs !== undefined);
  assert.equal(rec.bytes, FILE_BYTES);
  // No early or duplicate ACK made the server resend: it sent the file once.
  assert.equal(rec.sentBytes, FILE_BYTES, "the server sent nothing twice");
  const share = linkShare(FILE_BYTES, rec.endMs! - rec.firstDataMs!);
  // Lockstep reaches 0.07 of this link, window 16 0.57, 64 0.84 (bench/
  // tftp-wan.ts); the emulator never delivers early, so this lower bound
  // fails any window up to 64 and leaves room for a busy machine.
  assert.ok(share >= 0.88, `the server sent at ${share.toFixed(3)} of the link rate`);
  assert.equal(ctl.window, ctl.max, "a clean transfer leaves the window at its maximum");
});

test("under loss the window asked halves after a lossy file and grows back while clean", async () => {
  const seen: string[] = [];
  const lossy = await serve({ dataLoss: 0.03, dataLossSeed: 7, log: (l) => seen.push(l) });
  const clean = await serve({ log: (l) => seen.push(l) });
  const changes: WindowChange[] = [];
  const ctl = new WindowControl(64, (c) => changes.push(c));
  const get = async (port: number) => {
    const r = await tftpGetBuffer({ host: LOOPBACK, port, file: "small.bin", blksize: BLKSIZE, tsize: true, window: ctl, timeoutMs: 200 });
    assert.equal(sha(r), sha(content.subarray(0, 100_000)), "the lossy transfer still delivers the file whole");
  };
  await get(lossy.port);
  await get(lossy.port);
  const rec = lossy.server.requests.filter((r) => r.file === "small.bin");
  assert.ok(rec.every((r) => (r.dropped ?? 0) > 0), "the server did drop DATA in both transfers");
  assert.deepEqual(changes.slice(0, 2).map((c) => [c.from, c.to, c.why]), [[64, 32, "loss"], [32, 16, "loss"]]);
  for (let i = 0; i < 4; i++) await get(clean.port);
  assert.deepEqual(changes.slice(2).map((c) => c.why), ["clean", "clean", "clean"], "three clean files grow 16 by 16 back to 64");
  assert.equal(ctl.window, 64);
  await settled(() => seen.length === 6);
  // What was asked, as the servers logged each request's options.
  const asked = seen.map((l) => Number(/windowsize=(\d+)\]/.exec(l)?.[1]));
  assert.deepEqual(asked, [64, 32, 16, 32, 48, 64]);
});

test("the client asking a window from tftpd-hpa falls back to lockstep, and asks no more of it", async (t) => {
  const missing = tftpdHpaMissing();
  if (missing !== undefined) return t.skip(missing);
  const hpa = await startTftpd(IN_TFTPD, tftpdHpaArgs(dir), "small.bin");
  try {
    const changes: WindowChange[] = [];
    const ctl = new WindowControl(64, (c) => changes.push(c));
    const r = await tftpGet({ host: LOOPBACK, port: hpa.port, file: "small.bin", blksize: BLKSIZE, tsize: true, window: ctl });
    assert.equal(r.bytes, 100_000);
    assert.equal(r.windowsize, 1, "tftpd-hpa grants no windowsize: lockstep");
    assert.deepEqual(changes.map((c) => [c.to, c.why]), [[1, "server"]]);
  } finally {
    await hpa.stop();
  }
});
