// The relay at the phones' own link rate: every phone process in its own
// network namespace, with eth0 on a port of one Linux bridge, every port
// shaped to the board's LAN rate (100 Mbit/s, full duplex) by tbf
// (tests/support/netns.ts). Phones use the real PFS port and their subnet's
// broadcast address; the plain pipe replays the tree they formed over the
// same ports (bench/relay-procs.ts runs both). On unshaped loopback the pipe
// moves gigabytes a second and the comparison measures our CPU per byte;
// here it asks what a site cares about: does our relay keep the links as
// full as a plain pipe does?
//
// The link limit: an interior phone sends one copy to each child through
// its one uplink, so each branch gets at most rate / children, and the file
// cannot reach the last phone sooner than bytes * 8 / (rate / children)
// (plus a few frames' latency per level). tbf counts Ethernet frames from
// their header, so TCP/IP/Ethernet headers (66 bytes per 1448 of payload)
// put the best any TCP relay can do at about 1.05 x that limit.
//
//   node build/js/bench/relay-netns.js [--runs N] [--phones 3,7,15] [--mib 15] [--mbit 100]

import { loadBoard } from "../host/boards.js";
import { PFS_PORT } from "../host/phone/peer-host.js";
import { makeLan, whyNoNetns } from "../tests/support/netns.js";
import { relayProcs, RelayProcsResult } from "./relay-procs.js";

/** The board's LAN port rate (boards/third-gen.json). */
export const LAN_BITS_PER_SEC = Number(loadBoard("third-gen").lanMbps) * 1e6;
/** A few seconds per run at 100 Mbit/s, under the core's maxFileBytes (16 MiB). */
export const NETNS_BYTES = 15 << 20;
/** Election, the tree, both relays and the pipe: well within this. */
const RUN_TIMEOUT_MS = 180_000;

export interface RelayNetnsResult extends RelayProcsResult {
  bytes: number;
  rateBitsPerSec: number;
  /** bytes * 8 / (rate / maxChildren): the tree's own bound. */
  limitMs: number;
}

/** Why it cannot run here (printed when `make bench` skips it), or null. */
export function relayNetnsWhyNot(): string | null {
  return whyNoNetns();
}

export async function relayNetns(phones: number, bytes = NETNS_BYTES, rateBitsPerSec = LAN_BITS_PER_SEC): Promise<RelayNetnsResult> {
  const lan = makeLan({ hosts: phones, rateBitsPerSec });
  try {
    const r = await relayProcs(phones, bytes, PFS_PORT, {
      binds: lan.hosts.map((h) => h.addr), broadcast: lan.broadcast, wrap: lan.exec, timeoutMs: RUN_TIMEOUT_MS,
    });
    const limitMs = (bytes * 8 * 1000) / (rateBitsPerSec / Math.max(1, r.maxChildren));
    return { ...r, bytes, rateBitsPerSec, limitMs };
  } finally {
    lan.teardown();
  }
}

export const NETNS_HEADER =
  "| phones | depth | ours (ms) | plain pipe (ms) | plain / ours | link limit (ms) | ours / limit | plain / limit | our CPU (ms) | bad blocks |\n" +
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

export function netnsRow(r: RelayNetnsResult): string {
  return `| ${r.phones} | ${r.depth} | ${r.oursMs.toFixed(0)} | ${r.plainMs.toFixed(0)} | ${(r.plainMs / r.oursMs).toFixed(2)} | ` +
    `${r.limitMs.toFixed(0)} | ${(r.oursMs / r.limitMs).toFixed(2)} | ${(r.plainMs / r.limitMs).toFixed(2)} | ${r.oursCpuMs.toFixed(0)} | ${r.badBlocks} |`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
  };
  const runs = Number(arg("runs", "1"));
  const phoneCounts = arg("phones", "3,7,15").split(",").map(Number);
  const bytes = Math.round(Number(arg("mib", "15")) * (1 << 20));
  const rate = Number(arg("mbit", String(LAN_BITS_PER_SEC / 1e6))) * 1e6;
  const why = relayNetnsWhyNot();
  if (why !== null) {
    process.stdout.write(`skipped: ${why}\n`);
  } else {
    process.stdout.write(`relay of ${bytes} bytes at ${rate / 1e6} Mbit/s ports (namespaces on a bridge, tbf)\n${NETNS_HEADER}\n`);
    const all = new Map<number, RelayNetnsResult[]>();
    for (let run = 0; run < runs; run++) {
      for (const phones of phoneCounts) {
        const r = await relayNetns(phones, bytes, rate);
        all.set(phones, [...(all.get(phones) ?? []), r]);
        process.stdout.write(netnsRow(r) + "\n");
      }
    }
    if (runs > 1) {
      const span = (xs: number[]) => `${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)} (median ${xs.sort((a, b) => a - b)[xs.length >> 1].toFixed(2)})`;
      for (const [phones, rs] of all) {
        process.stdout.write(`${phones} phones, ${rs.length} runs: plain/ours ${span(rs.map((r) => r.plainMs / r.oursMs))}, ours/limit ${span(rs.map((r) => r.oursMs / r.limitMs))}, plain/limit ${span(rs.map((r) => r.plainMs / r.limitMs))}\n`);
      }
    }
  }
}
