// A small site on real sockets (`pfs site`, host/site/): 12 phone processes
// of two models, each in its own namespace on a bridge of 100 Mbit/s ports,
// behind a WAN link shaped by tbf to 4000 kbit/s with 40 ms held by our
// relay, upgrade to the scaled-down mcu-1.0 load from our server in its own
// namespace. Judged by what the test reads itself:
//   - every phone's flash image boots exactly the server's files
//     (host/site/image-check.ts, which reads the images and the root);
//   - the server's own records: each component and block list read once per
//     model (the two models' roots), and nothing read more;
//   - tbf's counters on the WAN link: what came down, less one header per
//     packet (Ethernet 14, IPv4 20, UDP 8, TFTP 4) and less the files the
//     phones must read besides the load (from the root on disk), is between
//     1.0 and 1.01 times the loads;
//   - a ping through the relay (a TFTP request for a file that is not there,
//     answered by the server's error), timed by this test in a phone's
//     namespace, takes at least the round trip the relay must hold.
// Skips, saying why, where namespaces cannot be made (not root, no iproute2).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { whyNoNetns } from "../../host/site/netns.js";
import { runSite, SITE_TFTP_PORT } from "../../host/site/site.js";
import { SiteNet } from "../../host/site/site-net.js";

const PHONES = 12;
const MODELS = 2;
const LOAD = "mcu-1.0";
const WAN_KBPS = 4000;
const RTT_MS = 40;
/** Ethernet (14), IPv4 (20), UDP (8) and TFTP's opcode and block (4): what
 *  tbf counts of every DATA frame besides the file's bytes. */
const FRAME_OVERHEAD_BYTES = 14 + 20 + 8 + 4;
const PINGS = 5;

/** Round trips (ms) of PINGS TFTP requests for a missing file, each to its
 *  error, timed inside the namespace `ns` (the test's own clock). */
function pingThroughRelay(net: SiteNet, ns: string): number[] {
  const script = `
const dgram = require("node:dgram");
const [host, port, n] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
const rtts = [];
const one = (i) => new Promise((resolve) => {
  const t0 = performance.now();
  s.once("message", () => { rtts.push(performance.now() - t0); resolve(); });
  s.send(Buffer.concat([Buffer.from([0, 1]), Buffer.from("pfs-site-ping-" + i + "\\0octet\\0")]), Number(port), host);
});
(async () => { for (let i = 0; i < Number(n); i++) await one(i); console.log(JSON.stringify(rtts)); s.close(); })();
setTimeout(() => process.exit(2), 20000).unref();`;
  const r = spawnSync(net.exec(ns)[0], [...net.exec(ns).slice(1), process.execPath, "-e", script, net.gateway.addr, String(SITE_TFTP_PORT), String(PINGS)], { encoding: "utf8" });
  assert.equal(r.status, 0, `the ping: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as number[];
}

test("a site of 12 phones behind a shaped WAN with held round trips: every phone verified, one read per component per model, WAN bytes within 1 % of the loads", async (t) => {
  const why = whyNoNetns();
  if (why !== null) {
    t.skip(why);
    return;
  }
  let rtts: number[] = [];
  const r = await runSite({
    phones: PHONES, models: MODELS, load: LOAD, wanKbps: WAN_KBPS, wanRttMs: RTT_MS, source: "tftp",
    // Below the path's 20 KB: the test asks for exact bytes, not speed.
    tftpWindow: 8, lingerSec: 3, out: () => {},
    beforeRuns: async (net) => {
      rtts = pingThroughRelay(net, net.lan.hosts[0].ns);
    },
  });
  assert.deepEqual(r.problems, [], "every phone boots the server's load");
  assert.equal(r.verified, PHONES);
  assert.ok(Number.isFinite(r.fleet.doneMs) && Number.isFinite(r.single.doneMs), "every phone said its load was active");

  // The relay holds the round trip: no ping came back sooner.
  assert.equal(rtts.length, PINGS);
  assert.ok(Math.min(...rtts) >= RTT_MS, `a ping through the relay took ${Math.min(...rtts).toFixed(1)} ms, less than ${RTT_MS} ms`);

  // The server's own records.
  for (const c of presetFiles(getPreset(LOAD), "41")) {
    for (const f of [c.name, `${c.name}.blk`]) {
      const reads = r.fleet.reads[f];
      assert.ok(reads !== undefined, `${f} was never read`);
      assert.equal(reads.tftpReads + reads.httpReads, MODELS, `${f}: ${reads.tftpReads} reads for ${MODELS} models`);
    }
  }

  // The kernel's counters at the WAN link.
  const down = r.fleet.wan.down;
  const payload = down.bytes - down.packets * FRAME_OVERHEAD_BYTES - r.metadataBytes;
  const ratio = payload / r.allLoadsBytes;
  assert.ok(ratio >= 1.0 && ratio <= 1.01, `the WAN carried ${down.bytes} bytes in ${down.packets} frames (${down.dropped} dropped): ${ratio.toFixed(4)} x the loads beyond headers and ${r.metadataBytes} bytes of configurations, indexes and block lists`);
  assert.ok(r.fleet.wan.up.bytes < r.allLoadsBytes / 10, `the site sent ${r.fleet.wan.up.bytes} bytes up the WAN: more than acknowledgements`);
});

// The WAN budget on real sockets (issue 13 §3), measured at the link: tbf's
// counters sampled every second (host/site/wan-rate.ts), the highest payload
// rate over any 10 s, while two models' roots fetch at once.
const BUDGET_KBPS = 1000;
/** What the pacing may run over the cap by: its burst allowance and the
 *  sampling's edges (the simulator's check allows the same, wan-models.test.ts). */
const BUDGET_SLACK = 0.03;

test("a site under a WAN budget: two models' roots together stay under the cap at the link, and use it", async (t) => {
  const why = whyNoNetns();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const r = await runSite({
    phones: PHONES, models: MODELS, load: LOAD, wanKbps: WAN_KBPS, wanRttMs: RTT_MS, source: "tftp",
    tftpWindow: 32, lingerSec: 3, wanKbpsMax: BUDGET_KBPS, out: () => {},
  });
  assert.deepEqual(r.problems, [], "every phone boots the server's load");
  const max = r.fleet.wanMaxKbps10s;
  assert.ok(max !== null, "the fleet's run lasted a 10 s window at least");
  t.diagnostic(`highest payload rate over 10 s: ${max} kbit/s under a budget of ${BUDGET_KBPS} on a ${WAN_KBPS} kbit/s WAN; done in ${(r.fleet.doneMs / 1000).toFixed(1)} s`);
  assert.ok(max <= BUDGET_KBPS * (1 + BUDGET_SLACK), `${max} kbit/s over 10 s at the link: over the budget of ${BUDGET_KBPS}`);
  assert.ok(max >= 0.8 * BUDGET_KBPS, `${max} kbit/s over 10 s: the budget is wasted`);
});
