// The WAN budget (docs/WAN.md): the token bucket and the share on their own
// with a fake clock, then a real-socket fleet of two models (two roots
// fetching at once) against our TFTP server, where the rate is measured at
// the server from its own record of every datagram it sent: with the cap in
// the phones' configuration the bytes sent while both roots fetch stay under
// cap x T plus the bursts the design allows; without it they do not (so the
// check can fire).

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUDGET_BURST_BYTES, WanBudget, WINDOW_PACE_MS } from "../../host/wan/budget.js";
import { decodeClaim, decodeRootAd, FetchingRoots } from "../../host/wan/root-ads.js";
import { TftpServer } from "../../host/tftp/server.js";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { fleetPhones, runFleetProcesses } from "../../host/phone/fleet.js";
import { freeUdpPort } from "../support/ports.js";

const tmp: string[] = [];
after(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

/** A clock only the test moves: sleep() advances it. */
function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
}

function rootAd(xid: number, strength: number): Uint8Array {
  const b = new Uint8Array(17);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0x5046);
  b[2] = 1;
  b[3] = 3;
  v.setUint32(4, xid);
  v.setUint32(8, strength >>> 0);
  return b;
}

test("the bucket lets a burst through, then paces at the cap", async () => {
  const c = fakeClock();
  const b = new WanBudget({ kbpsMax: 800, now: c.now, sleep: c.sleep }); // 100 bytes per ms
  await b.pace(BUDGET_BURST_BYTES);
  assert.equal(c.now(), 0, "the first burst waits for nothing");
  for (let i = 0; i < 100; i++) await b.pace(1000);
  // 100 kB more at 100 bytes/ms: 1000 ms, of which the burst depth was free.
  assert.equal(Math.round(c.now()), 1000);
});

test("the share is the roots heard still fetching, across XIDs, plus this one", async () => {
  const c = fakeClock();
  const self = 0x7f000002;
  const roots = new FetchingRoots(self, 6000);
  const b = new WanBudget({ kbpsMax: 800, roots, now: c.now, sleep: c.sleep });
  const confirmed = 0x8000_1234;
  roots.hear(0x7f000003, decodeRootAd(rootAd(1, confirmed))!, c.now());
  roots.hear(0x7f000003, decodeRootAd(rootAd(2, confirmed))!, c.now()); // the same phone, another file
  roots.hear(0x7f000004, decodeRootAd(rootAd(1, confirmed))!, c.now());
  roots.hear(self, decodeRootAd(rootAd(3, confirmed))!, c.now()); // our own broadcast
  assert.equal(b.share(), 3);
  // A root whose strength says verified no longer fetches that file.
  roots.hear(0x7f000004, decodeRootAd(rootAd(1, confirmed | (1 << 30)))!, c.now());
  assert.equal(b.share(), 2);
  await b.pace(BUDGET_BURST_BYTES);
  const t0 = c.now();
  for (let i = 0; i < 50; i++) await b.pace(1000);
  assert.equal(Math.round(c.now() - t0), 1000, "half the cap: 50 kB in 1 s");
  c.advance(6001);
  assert.equal(b.share(), 1, "a root not heard for the window stops counting");
});

test("a claimant counts while it claims, for the claim window only, and a ROOT_AD's window is not cut short by a claim", () => {
  const c = fakeClock();
  const roots = new FetchingRoots(0x7f000002, 6000, 500);
  const b = new WanBudget({ kbpsMax: 800, roots, now: c.now, sleep: c.sleep });
  const claim = (xid: number, strength: number) => {
    const m = rootAd(xid, strength).subarray(0, 14);
    m[3] = 0x02; // CLAIM: header, strength, ad, flags (docs/PROTOCOL.md 4.3)
    return m;
  };
  roots.hear(0x7f000005, decodeClaim(claim(1, 0x0000_1234))!, c.now());
  assert.equal(b.share(), 2, "a claimant fetches tentatively");
  c.advance(501);
  assert.equal(b.share(), 1, "a claimant that stopped claiming (it yielded) stops counting");
  roots.hear(0x7f000006, decodeRootAd(rootAd(1, 0x8000_0001))!, c.now());
  roots.hear(0x7f000006, decodeClaim(claim(1, 0x0000_0001))!, c.now());
  c.advance(1000);
  assert.equal(b.share(), 2, "the root still counts for its ROOT_AD's window");
  assert.equal(decodeClaim(rootAd(1, 0x8000_0001)), undefined, "a ROOT_AD is no claim");
});

test("only a well-formed ROOT_AD with a root's strength is heard", () => {
  assert.equal(decodeRootAd(rootAd(1, 0x8000_0001).subarray(0, 16)), undefined, "short");
  assert.equal(decodeRootAd(rootAd(1, 0x0000_0001)), undefined, "bit 31 clear: not a root");
  const bad = rootAd(1, 0x8000_0001);
  bad[0] = 0;
  assert.equal(decodeRootAd(bad), undefined, "no magic");
  const claim = rootAd(1, 0x8000_0001);
  claim[3] = 2;
  assert.equal(decodeRootAd(claim), undefined, "a CLAIM");
  assert.deepEqual(decodeRootAd(rootAd(9, 0x8000_0001)), { xid: 9, strength: 0x8000_0001 });
});

test("the windows a phone's fetches ask drain within WINDOW_PACE_MS of its share", () => {
  const b = new WanBudget({ kbpsMax: 8000 }); // 1000 bytes per ms
  assert.equal(b.windowCap(1000, 1, 3000), WINDOW_PACE_MS);
  assert.equal(b.windowCap(1000, 5, 3000), WINDOW_PACE_MS / 5, "split among the fetches at once");
  assert.equal(b.windowCap(1000, 1, 1000), 500, "and within half the server's timeout");
  assert.equal(new WanBudget({ kbpsMax: 8 }).windowCap(1428, 5), 1, "never below lockstep");
});

/** The load: 1.3 MB per model, 2.6 MB for two; 13 s at the cap below,
 *  which is low enough that the bursts the design allows (below) are well
 *  under the load, so an uncapped fleet cannot pass for a capped one. */
const LOAD = "mcu-1.0";
const CAP_KBPS = 1600;
/** Configuration and index reads are not paced (a few kB each). */
const UNPACED_SLACK_BYTES = 64 << 10;

interface Sent {
  bytes: number;
  atMs: number;
}

async function fleetOf2(cap: number | undefined): Promise<{ sent: Sent[]; server: TftpServer; ok: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), "pfs-wan-budget-"));
  tmp.push(dir);
  const phones = fleetPhones(2, 2);
  const root = join(dir, "tftp");
  for (const p of phones) makeTftpRoot({ outDir: root, model: p.model, preset: LOAD, macs: [p.mac], pfs: { enterprise: true }, wanKbpsMax: cap });
  const sent: Sent[] = [];
  const server = new TftpServer({ root, host: "127.0.0.1", port: 0, onSent: (bytes, atMs) => sent.push({ bytes, atMs }) });
  const tftp = await server.start();
  try {
    const r = await runFleetProcesses({
      phones: 2, models: 2, load: LOAD, tftp, root, port: await freeUdpPort(), lingerSec: 1, pfs: true, verbose: false, out: () => {}, workDir: join(dir, "work"),
    });
    return { sent, server, ok: r.phones.every((p) => p.exit === 0) };
  } finally {
    await server.stop();
  }
}

/** From the first component byte either root fetched to the last, from the
 *  server's records: the cap holds over any span, whether one or both roots
 *  fetch in it (one alone takes the whole cap). */
function fetchSpan(server: TftpServer): { from: number; to: number } {
  const byClient = new Map<string, { from: number; to: number }>();
  for (const r of server.requests) {
    if (r.firstDataMs === undefined || r.endMs === undefined || /\.(xml|loads)$/.test(r.file)) continue;
    const ip = r.client.replace(/:\d+$/, "");
    const s = byClient.get(ip) ?? { from: Infinity, to: -Infinity };
    byClient.set(ip, { from: Math.min(s.from, r.firstDataMs), to: Math.max(s.to, r.endMs) });
  }
  assert.equal(byClient.size, 2, "two roots fetched from the server");
  const spans = [...byClient.values()];
  assert.ok(Math.max(...spans.map((s) => s.from)) < Math.min(...spans.map((s) => s.to)), "the two roots fetched at the same time");
  return { from: Math.min(...spans.map((s) => s.from)), to: Math.max(...spans.map((s) => s.to)) };
}

/** Bytes the server sent within the span, and what the budget allows there:
 *  cap x T, plus each root's windows asked at once (together at most
 *  WINDOW_PACE_MS at the whole cap, asked before a root hears the other),
 *  its bucket depth, and the unpaced reads. */
function measure(sent: Sent[], span: { from: number; to: number }) {
  const bytes = sent.filter((s) => s.atMs >= span.from && s.atMs <= span.to).reduce((n, s) => n + s.bytes, 0);
  const capBytesPerMs = CAP_KBPS / 8;
  const burst = 2 * (WINDOW_PACE_MS * capBytesPerMs + BUDGET_BURST_BYTES + UNPACED_SLACK_BYTES);
  return { bytes, allowed: capBytesPerMs * (span.to - span.from) + burst, ms: span.to - span.from };
}

test("two roots fetching at once hold the subnet's cap, as the server counts its bytes", async (t) => {
  const capped = await fleetOf2(CAP_KBPS);
  assert.ok(capped.ok, "both phones upgraded");
  const c = measure(capped.sent, fetchSpan(capped.server));
  t.diagnostic(`capped: ${c.bytes} bytes in ${c.ms.toFixed(0)} ms (${((c.bytes * 8) / c.ms).toFixed(0)} kbit/s), allowed ${Math.round(c.allowed)}`);
  assert.ok(c.bytes <= c.allowed, `capped: ${c.bytes} bytes in ${c.ms.toFixed(0)} ms, over the ${Math.round(c.allowed)} the cap allows`);
  // The same fleet without the cap runs past the same bound: the check fires.
  const free = await fleetOf2(undefined);
  assert.ok(free.ok);
  const f = measure(free.sent, fetchSpan(free.server));
  t.diagnostic(`uncapped: ${f.bytes} bytes in ${f.ms.toFixed(0)} ms, a cap would allow ${Math.round(f.allowed)}`);
  assert.ok(f.bytes > f.allowed, `uncapped: ${f.bytes} bytes in ${f.ms.toFixed(0)} ms, within the ${Math.round(f.allowed)} a cap would allow`);
});
