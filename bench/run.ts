// `make bench`: the relay measured side by side in one run. For n in
// {1, 64, 1000} phones and each mode, on the preset load over the issue's
// WAN (2000 kbit/s, 80 ms RTT) and 100 Mbit/s LAN ports, in the simulator,
// for each load source (bench/fleet-tables.ts: lockstep TFTP, windowed TFTP,
// HTTP) and for two models sharing the WAN under a budget:
//   doneMs / limitMs   against the lower bound S / min(W, LAN, flash) + RTT
//   doneMs / singleMs  against one phone alone fetching over the same WAN
//   wanBytes / loadBytes
// and the wall time each simulation took. The table goes to stdout and to
// bench/results/latest.md (and .json). Ratios, not thresholds: this machine
// is shared, so wall times vary; virtual-time figures do not.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { makeDirs } from "../host/make-dir.js";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FleetOptions } from "../host/sim/fleet.js";
import { getPreset, presetLoadBytes } from "../host/load/presets.js";
import { sourceTables, twoModelTable } from "./fleet-tables.js";
import { tftpBench } from "./tftp.js";
import { BENCH_CASE } from "./case.js";
import { modesPlot, PLOT_FILE } from "./modes-plot.js";
import { boardsBench } from "./boards.js";
import { relaySockets } from "./relay-sockets.js";
import { relayProcs } from "./relay-procs.js";
import { NATIVE_HEADER, NATIVE_LOAD, NATIVE_PHONES, nativeNotes, nativePhoneBench, nativePhoneWhyNot, nativeRows } from "./native-phone.js";
import { LAN_BITS_PER_SEC, NETNS_BYTES, NETNS_HEADER, netnsRow, relayNetns, relayNetnsWhyNot } from "./relay-netns.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const PHONES = (process.env.PFS_BENCH_PHONES ?? "1,64,1000").split(",").map(Number);
const CASE: Partial<FleetOptions> = BENCH_CASE;

/** PFS_BENCH_ONLY=fleet: only the fleet tables (the simulator, a few
 *  minutes), spliced into the latest.md there is between FLEET_BEGIN and
 *  FLEET_END; everything else of the last `make bench` stays. */
const ONLY_FLEET = process.env.PFS_BENCH_ONLY === "fleet";
const FLEET_BEGIN = "<!-- fleet tables -->";
const FLEET_END = "<!-- /fleet tables -->";

const preset = getPreset(CASE.load!);
const loadBytes = presetLoadBytes(preset);
const say = (s: string) => void process.stdout.write(s);
const caseLine = `load ${preset.name} (${loadBytes} bytes), WAN ${CASE.wanKbps} kbit/s ${CASE.wanRttMs} ms RTT, LAN ${CASE.lanMbps} Mbit/s, seed ${CASE.seed}`;
say(`PFS relay benchmark: ${caseLine}\n`);
const sources = sourceTables(CASE, PHONES, say);
const two = twoModelTable(CASE, say);
const fleetMd = `${FLEET_BEGIN}\n${sources.md}${two.md}${FLEET_END}\n`;
const dir = join(root, "bench/results");
makeDirs(dir);
const writeJson = () => writeFileSync(join(dir, "latest.json"), JSON.stringify({ case: CASE, tables: sources.tables, twoModels: two.rows }, null, 2) + "\n");
if (ONLY_FLEET) {
  const old = existsSync(join(dir, "latest.md")) ? readFileSync(join(dir, "latest.md"), "utf8") : "";
  const b = old.indexOf(FLEET_BEGIN);
  const e = old.indexOf(FLEET_END);
  const head = `# make bench, ${new Date().toISOString()}\n\n${caseLine}\n\n`;
  // The rest of the last full bench, after its fleet tables.
  const legacy = old.indexOf("\n## The relay per board");
  const rest = b >= 0 && e > b ? old.slice(e + FLEET_END.length + 1) : legacy >= 0 ? old.slice(legacy + 1) : "";
  writeFileSync(join(dir, "latest.md"), head + fleetMd + rest);
  writeJson();
  say(`\nfleet tables written to bench/results/latest.md and latest.json (the rest kept from the last make bench)\n`);
  process.exit(0);
}
let md = `# make bench, ${new Date().toISOString()}\n\n${caseLine}\n\n${fleetMd}`;
md += boardsBench();
// Real sockets, measured side by side in this same run.
const relayRows: string[] = [];
process.stdout.write(`\nRelay over loopback TCP (real core, this process) vs a plain Node socket pipe over the same tree, 8 MiB\n`);
for (const phones of [3, 7]) {
  const r = await relaySockets(phones, 8 << 20);
  const row = `| ${phones} | ${r.depth} | ${r.oursMs.toFixed(0)} | ${r.plainMs.toFixed(0)} | ${(r.plainMs / r.oursMs).toFixed(2)} | ${r.verifyMs.toFixed(0)} | ${(r.verifyMs / r.oursMs).toFixed(2)} | ${r.cpuMs.toFixed(0)} |`;
  relayRows.push(row);
  process.stdout.write(row + "\n");
}
md += `\n## Relay on real sockets vs a plain socket pipe\n\n8 MiB through the tree the phones formed on loopback (in one process); the plain pipe replays that tree with sockets that only forward; ` +
  `"pipe + verify" replays it with forwarders that also store every chunk and check the list and every 16 KiB block with SHA-256, the least any verifying relay does.\n\n` +
  `| phones | depth | ours (ms) | plain pipe (ms) | plain / ours | pipe + verify (ms) | pipe + verify / ours | our CPU (ms) |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n${relayRows.join("\n")}\n`;
const procRows: string[] = [];
process.stdout.write(`\nThe same with every phone (and every plain forwarder) in its own process, 15 MiB\n`);
for (const phones of [3, 7]) {
  const r = await relayProcs(phones, 15 << 20);
  const row = `| ${phones} | ${r.depth} | ${r.oursMs.toFixed(0)} | ${r.plainMs.toFixed(0)} | ${(r.plainMs / r.oursMs).toFixed(2)} |`;
  procRows.push(row);
  process.stdout.write(row + "\n");
}
md += `\nWith every phone in its own process (15 MiB):\n\n| phones | depth | ours (ms) | plain pipe (ms) | plain / ours |\n|---:|---:|---:|---:|---:|\n${procRows.join("\n")}\n`;
// The same at the phones' own link rate: what a site sees (bench/relay-netns.ts).
const netnsTitle = `Relay at link rate (namespaces, ${LAN_BITS_PER_SEC / 1e6} Mbit/s ports)`;
const netnsWhy = relayNetnsWhyNot();
const netnsRows: string[] = [];
process.stdout.write(`\n${netnsTitle}, ${NETNS_BYTES >> 20} MiB\n`);
if (netnsWhy !== null) process.stdout.write(`skipped: ${netnsWhy}\n`);
else {
  process.stdout.write(NETNS_HEADER + "\n");
  for (const phones of [3, 7, 15]) {
    const row = netnsRow(await relayNetns(phones));
    netnsRows.push(row);
    process.stdout.write(row + "\n");
  }
}
md += `\n## ${netnsTitle}\n\n` + (netnsWhy !== null ? `skipped: ${netnsWhy}\n` :
  `${NETNS_BYTES >> 20} MiB; every phone (then every plain forwarder) in its own network namespace, eth0 on a port of one Linux bridge, ` +
  `both directions of every port shaped by tbf. link limit = bytes * 8 / (rate / 2): an interior phone sends both copies through its one uplink; ` +
  `TCP/IP headers alone put the best possible at about 1.05 x the limit.\n\n${NETNS_HEADER}\n${netnsRows.join("\n")}\n`);
// The C phone beside the Node phone, same fleet, same run (bench/native-phone.ts).
const nativeTitle = `The C phone beside the Node phone: ${NATIVE_PHONES} phone processes on loopback, ${NATIVE_LOAD}`;
const nativeWhy = nativePhoneWhyNot();
process.stdout.write(`\n${nativeTitle}\n`);
let nativeMd: string;
if (nativeWhy !== null) {
  process.stdout.write(`C phone skipped: ${nativeWhy}\n`);
  nativeMd = `C phone skipped: ${nativeWhy}\n`;
} else {
  const table = `${NATIVE_HEADER}\n${nativeRows(await nativePhoneBench()).join("\n")}\n\n${nativeNotes()}\n`;
  process.stdout.write(table);
  nativeMd = table;
}
md += `\n## ${nativeTitle}\n\n${nativeMd}`;
md += `\n${await tftpBench()}`;

writeFileSync(join(dir, "latest.md"), md);
writeJson();
for (const l of modesPlot(dir, CASE)) process.stdout.write(l + "\n");
process.stdout.write(`\nwritten to bench/results/latest.md, latest.json and ${PLOT_FILE}\n`);
