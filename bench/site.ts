// The whole site on real sockets (issue 13 §4, host/site/): 60 phone
// processes in namespaces behind a 2000 kbit/s, 80 ms WAN (tbf and our delay
// relay), the real 7961 load (8,126,582 bytes): the fleet's time beside one
// phone fetching alone, directly, over the same WAN, and the WAN bytes tbf
// counted beside the load; with windowed TFTP and with HTTP; two models
// sharing the WAN; a root killed half way through the largest component.
// Writes bench/results/site.md.
//
//   node build/js/bench/site.js [--phones 60] [--cases tftp,http,tftp2,http2,kill-tftp,kill-http]

import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { whyNoNetns } from "../host/site/netns.js";
import { runSite, SiteOptions, SiteResult } from "../host/site/site.js";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "../../../bench/results/site.md");
/** The site: 60 phones, 2000 kbit/s, 80 ms, the 7961 load. */
const PHONES = 60;
const WAN_KBPS = 2000;
const RTT_MS = 80;
const LOAD = "cp7961-9.4.2";
/** More than the path holds (2000 kbit/s x 80 ms = 20 KB = 14 blocks). */
const TFTP_WINDOW = 32;
const LINGER_SEC = 5;

interface Case {
  name: string;
  models: number;
  source: "tftp" | "http";
  killRoot: boolean;
}

const CASES: Case[] = [
  { name: "tftp", models: 1, source: "tftp", killRoot: false },
  { name: "http", models: 1, source: "http", killRoot: false },
  { name: "tftp2", models: 2, source: "tftp", killRoot: false },
  { name: "http2", models: 2, source: "http", killRoot: false },
  { name: "kill-tftp", models: 1, source: "tftp", killRoot: true },
  { name: "kill-http", models: 1, source: "http", killRoot: true },
];

export const SITE_HEADER =
  "| case | phones | models | source | done (s) | single (s) | limit (s) | done / single | done / limit | WAN down (bytes) | WAN / loads | WAN / single | dropped | verified |\n" +
  "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

export function siteRow(name: string, r: SiteResult): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return `| ${name}${r.killed !== null ? " (root killed)" : ""} | ${r.phones} | ${r.models} | ${r.source} | ${s(r.fleet.doneMs)} | ${s(r.single.doneMs)} | ${s(r.limitMs)} | ` +
    `${(r.fleet.doneMs / r.single.doneMs).toFixed(3)} | ${(r.fleet.doneMs / r.limitMs).toFixed(3)} | ${r.fleet.wan.down.bytes} | ` +
    `${(r.fleet.wan.down.bytes / r.allLoadsBytes).toFixed(4)} | ${r.wanVsSingle.toFixed(4)} | ${r.fleet.wan.down.dropped} | ${r.verified} of ${r.phones} |`;
}

export async function siteBench(phones = PHONES, names = CASES.map((c) => c.name), out = (line: string) => process.stdout.write(line + "\n")): Promise<string[]> {
  const why = whyNoNetns();
  if (why !== null) {
    out(`site bench skipped: ${why}`);
    return [];
  }
  out(`site: ${phones} phones, ${WAN_KBPS} kbit/s, ${RTT_MS} ms, ${LOAD} (namespaces, tbf, our delay relay)\n${SITE_HEADER}`);
  const rows: string[] = [];
  for (const c of CASES.filter((x) => names.includes(x.name))) {
    const o: SiteOptions = {
      phones, models: c.models, load: LOAD, wanKbps: WAN_KBPS, wanRttMs: RTT_MS, source: c.source,
      tftpWindow: TFTP_WINDOW, lingerSec: LINGER_SEC, killRoot: c.killRoot, out: () => {},
    };
    try {
      const row = siteRow(c.name, await runSite(o));
      rows.push(row);
      out(row);
    } catch (e) {
      const row = `| ${c.name} | ${phones} | ${c.models} | ${c.source} | failed: ${(e as Error).message.split("\n")[0]} |||||||||`;
      rows.push(row);
      out(row);
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
  };
  const phones = Number(arg("phones", String(PHONES)));
  const rows = await siteBench(phones, arg("cases", CASES.map((c) => c.name).join(",")).split(","));
  if (rows.length > 0) {
    const md = `# A whole site on real sockets (make bench-site)\n\n` +
      `${phones} phone processes in namespaces on a 100 Mbit/s bridge; our servers behind a WAN of ${WAN_KBPS} kbit/s (tc tbf, both ways) ` +
      `and ${RTT_MS} ms (our delay relay); load ${LOAD}; TFTP windowsize ${TFTP_WINDOW}. done: the fleet's last phone with its load verified in flash; ` +
      `single: one phone of each model alone, directly, over the same WAN; limit: the loads over the WAN's rate plus one round trip; ` +
      `WAN down: what tbf sent from the server to the site, Ethernet frames, during the fleet's run (docs/SITE.md).\n\n` +
      `${SITE_HEADER}\n${rows.join("\n")}\n`;
    writeFileSync(RESULTS, md);
    process.stdout.write(`written to ${RESULTS}\n`);
  }
}
