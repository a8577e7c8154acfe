// `make bench`: the relay measured side by side in one run. For n in
// {1, 64, 1000} phones and each mode, on the preset load over the issue's
// WAN (2000 kbit/s, 80 ms RTT) and 100 Mbit/s LAN ports, in the simulator:
//   doneMs / limitMs   against the lower bound S / min(W, LAN, flash) + RTT
//   doneMs / singleMs  against one phone alone fetching over the same WAN
//   wanBytes / loadBytes
// and the wall time each simulation took. The table goes to stdout and to
// bench/results/latest.md (and .json). Ratios, not thresholds: this machine
// is shared, so wall times vary; virtual-time figures do not.

import { writeFileSync } from "node:fs";
import { makeDirs } from "../host/make-dir.js";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FleetOptions, RELAY_MODES, RelayMode, runFleet } from "../host/sim/fleet.js";
import { getPreset, presetLoadBytes } from "../host/load/presets.js";
import { tftpAloneMs } from "../host/sim/wan.js";
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

interface Row {
  phones: number;
  mode: RelayMode;
  doneMs: number | null;
  limitMs: number;
  singleMs: number;
  limitEffMs: number;
  wanBytes: number;
  loadBytes: number;
  serverContacts: number;
  verified: number;
  wallMs: number;
}

/** The case uses lockstep TFTP, as phones do; windowed TFTP (RFC
 *  7440) shows the relay against the WAN's own limit. */
const TFTP_CASES = [
  { name: "TFTP lockstep, blksize 1428", window: 1 },
  { name: "TFTP windowsize 16, blksize 1428", window: 16 },
];

const rows: Row[] = [];
const fmt = (v: number | null, digits = 2) => (v === null || !Number.isFinite(v) ? "-" : v.toFixed(digits));
const line = (r: Row) =>
  `| ${String(r.phones).padStart(5)} | ${r.mode.padEnd(17)} | ${fmt(r.doneMs === null ? null : r.doneMs / 1000, 1).padStart(9)} | ` +
  `${fmt(r.doneMs === null ? null : r.doneMs / r.limitMs).padStart(14)} | ${fmt(r.doneMs === null ? null : r.doneMs / r.limitEffMs).padStart(17)} | ` +
  `${fmt(r.doneMs === null ? null : r.doneMs / r.singleMs).padStart(15)} | ${fmt(r.wanBytes / r.loadBytes, 3).padStart(17)} | ` +
  `${String(r.serverContacts).padStart(7)} | ${String(r.verified).padStart(8)} | ${fmt(r.wallMs / 1000, 1).padStart(8)} |`;
const header =
  "| phones | mode              | done (s)  | done / limit W | done / limit Weff | done / single  | wanBytes / load   | server  | verified | wall (s) |\n" +
  "|-------:|:------------------|----------:|---------------:|------------------:|---------------:|------------------:|--------:|---------:|---------:|";

const preset = getPreset(CASE.load!);
const loadBytes = presetLoadBytes(preset);
const biggest = Math.max(...preset.components.map((c) => c.sizeBytes));
let md = `# make bench, ${new Date().toISOString()}\n\nload ${preset.name} (${loadBytes} bytes), WAN ${CASE.wanKbps} kbit/s ${CASE.wanRttMs} ms RTT, LAN ${CASE.lanMbps} Mbit/s, seed ${CASE.seed}\n`;
const tables: Array<{ tftp: string; limitEffMs: number; rows: Row[] }> = [];
process.stdout.write(`PFS relay benchmark: load ${preset.name} (${loadBytes} bytes), WAN ${CASE.wanKbps} kbit/s ${CASE.wanRttMs} ms RTT, LAN ${CASE.lanMbps} Mbit/s, seed ${CASE.seed}\n`);
for (const tftp of TFTP_CASES) {
  const wan = { bitsPerSec: CASE.wanKbps! * 1000, rttMs: CASE.wanRttMs!, blksize: 1428, window: tftp.window };
  // W_eff: what this TFTP lets one flow fetch the largest component; the
  // roots fetch the components in parallel, each at that rate, sharing W.
  const limitEffMs = Math.max(Math.round(tftpAloneMs(biggest, wan)), Math.round((loadBytes * 8000) / wan.bitsPerSec + wan.rttMs));
  const these: Row[] = [];
  process.stdout.write(`\n${tftp.name}\n${header}\n`);
  for (const phones of PHONES) {
    for (const mode of RELAY_MODES) {
      const r = runFleet({ ...CASE, phones, mode, tftpWindow: tftp.window });
      const x = r.relay!;
      const row: Row = {
        phones, mode, doneMs: x.doneMs, limitMs: x.limitMs, singleMs: x.singleMs, limitEffMs, wanBytes: x.wanBytes, loadBytes: x.loadBytes,
        serverContacts: x.serverContacts, verified: x.verified, wallMs: r.wallMs,
      };
      these.push(row);
      rows.push(row);
      process.stdout.write(line(row) + (r.ok ? "" : `  FAILED: ${r.errors.slice(0, 2).join("; ")}`) + "\n");
    }
  }
  const notes = `
limit W = S / min(WAN, LAN, flash) + RTT = ${these[0]?.limitMs} ms: the WAN link's rate bounds it.
limit Weff = ${limitEffMs} ms: the larger of limit W and what this TFTP lets one flow fetch the largest
component (${biggest} bytes); the roots fetch the components in parallel.
single = one phone alone, direct, fetching the same load over the same WAN, in the same run (${these[0]?.singleMs} ms).
`;
  process.stdout.write(notes);
  md += `\n## ${tftp.name}\n\n${header}\n${these.map(line).join("\n")}\n${notes}`;
  tables.push({ tftp: tftp.name, limitEffMs, rows: these });
}
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

const dir = join(root, "bench/results");
makeDirs(dir);
writeFileSync(join(dir, "latest.md"), md);
writeFileSync(join(dir, "latest.json"), JSON.stringify({ case: CASE, tables }, null, 2) + "\n");
for (const l of modesPlot(dir, CASE)) process.stdout.write(l + "\n");
process.stdout.write(`\nwritten to bench/results/latest.md, latest.json and ${PLOT_FILE}\n`);
