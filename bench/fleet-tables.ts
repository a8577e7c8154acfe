// The bench's fleet tables: the relay in the simulator for 1, 64 and 1000
// phones in each mode, over the issue's WAN, with each load source side by
// side (lockstep TFTP, windowed TFTP at the board's tftpWindowMax, HTTP with
// Range), and two models sharing the WAN with and without a budget. Virtual
// time only: the figures are the same on any machine; wall is what the
// simulation took.

import { FleetOptions, RELAY_MODES, RelayMode, runFleet } from "../host/sim/fleet.js";
import { getPreset, presetLoadBytes } from "../host/load/presets.js";
import { WAN_RATE_WINDOW_MS } from "../host/sim/wan-meter.js";
import type { WanSource } from "../host/sim/wan.js";

export interface FleetRow {
  phones: number;
  mode: RelayMode;
  doneMs: number | null;
  limitMs: number;
  singleMs: number;
  firstFetchMs: number | null;
  wanBytes: number;
  loadBytes: number;
  wanMaxKbps: number;
  serverContacts: number;
  verified: number;
  window: number;
  wallMs: number;
  ok: boolean;
}

export interface SourceCase {
  name: string;
  source: WanSource;
  tftpWindow: number | "max";
}

/** Lockstep, as phones fetch today; windowed to the board's figure; HTTP. */
export const SOURCE_CASES: SourceCase[] = [
  { name: "TFTP lockstep, blksize 1428", source: "tftp", tftpWindow: 1 },
  { name: "TFTP windowed (the board's tftpWindowMax), blksize 1428", source: "tftp", tftpWindow: "max" },
  { name: "HTTP with Range", source: "http", tftpWindow: 1 },
];

/** The budget of the two-model table: three quarters of the link, so the
 *  cap, not the link, bounds the run. */
export const BENCH_CAP_KBPS = 1500;
/** Phones of the two-model table (the fleet tables' largest). */
const TWO_MODEL_PHONES = 1000;

const fmt = (v: number | null, digits = 2) => (v === null || !Number.isFinite(v) ? "-" : v.toFixed(digits));
const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : a / b);

export const FLEET_HEADER =
  "| phones | mode              | done (s)  | done / limit W | (done - 1st fetch) / limit W | done / single  | wanBytes / load   | max 10 s (kbit/s) | server  | verified | wall (s) |\n" +
  "|-------:|:------------------|----------:|---------------:|-----------------------------:|---------------:|------------------:|------------------:|--------:|---------:|---------:|";

export function fleetLine(r: FleetRow): string {
  const wanPart = r.doneMs === null || r.firstFetchMs === null ? null : r.doneMs - r.firstFetchMs;
  return `| ${String(r.phones).padStart(6)} | ${r.mode.padEnd(17)} | ${fmt(r.doneMs === null ? null : r.doneMs / 1000, 1).padStart(9)} | ` +
    `${fmt(ratio(r.doneMs, r.limitMs)).padStart(14)} | ${fmt(ratio(wanPart, r.limitMs)).padStart(28)} | ` +
    `${fmt(ratio(r.doneMs, r.singleMs)).padStart(14)} | ${fmt(r.wanBytes / r.loadBytes, 3).padStart(17)} | ${String(r.wanMaxKbps).padStart(17)} | ` +
    `${String(r.serverContacts).padStart(7)} | ${String(r.verified).padStart(8)} | ${fmt(r.wallMs / 1000, 1).padStart(8)} |` + (r.ok ? "" : " FAILED");
}

/** One fleet run as a row. */
export function fleetRow(fleet: Partial<FleetOptions>): FleetRow {
  const r = runFleet(fleet);
  const x = r.relay!;
  console.assert(x !== undefined, "a bench fleet relays a load");
  return {
    phones: r.phones, mode: x.mode, doneMs: x.doneMs, limitMs: x.limitMs, singleMs: x.singleMs, firstFetchMs: x.firstFetchMs, wanBytes: x.wanBytes,
    loadBytes: x.loadBytes * (fleet.models ?? 1), wanMaxKbps: x.wanMaxKbps10s, serverContacts: x.serverContacts, verified: x.verified, window: x.tftpWindow,
    wallMs: r.wallMs, ok: r.ok,
  };
}

/** The source tables: markdown, and the rows for latest.json. */
export function sourceTables(base: Partial<FleetOptions>, phonesList: number[], say: (s: string) => void): { md: string; tables: Array<{ tftp: string; rows: FleetRow[] }> } {
  let md = "";
  const tables: Array<{ tftp: string; rows: FleetRow[] }> = [];
  for (const c of SOURCE_CASES) {
    say(`\n${c.name}\n${FLEET_HEADER}\n`);
    const rows: FleetRow[] = [];
    for (const phones of phonesList) {
      for (const mode of RELAY_MODES) {
        const row = fleetRow({ ...base, phones, mode, source: c.source, tftpWindow: c.tftpWindow });
        rows.push(row);
        say(fleetLine(row) + "\n");
      }
    }
    const first = rows[0];
    const notes = `
limit W = S / min(WAN, LAN, flash) + RTT = ${first?.limitMs} ms: the WAN link's rate bounds it.
(done - 1st fetch) / limit W: the same with the election taken out (the first root, a tentative root from its claim's Ad 1, fetches ${first?.firstFetchMs} ms in for one phone).
single = one phone alone, direct, fetching the same load over the same WAN, in the same run (${first?.singleMs} ms).
max 10 s = the highest rate over any ${WAN_RATE_WINDOW_MS / 1000} s at the WAN link, counted by the link model.${c.source === "tftp" ? ` TFTP window: ${first?.window}.` : ""}
`;
    say(notes);
    md += `\n## ${c.name}\n\n${FLEET_HEADER}\n${rows.map(fleetLine).join("\n")}\n${notes}`;
    tables.push({ tftp: c.name, rows });
  }
  return { md, tables };
}

export const TWO_HEADER =
  "| source | budget (kbit/s) | done (s) | done / limit | max 10 s (kbit/s) | max 10 s / budget | wanBytes / 2 loads | verified | wall (s) |\n" +
  "|:--|--:|--:|--:|--:|--:|--:|--:|--:|";

/** Two models sharing the WAN, cut-through, without and with the budget. */
export function twoModelTable(base: Partial<FleetOptions>, say: (s: string) => void): { md: string; rows: FleetRow[] } {
  const preset = getPreset(base.load!);
  const loadBytes = presetLoadBytes(preset);
  const lines: string[] = [];
  const rows: FleetRow[] = [];
  say(`\nTwo models (${TWO_MODEL_PHONES} phones, cut-through), the loads sharing the WAN\n${TWO_HEADER}\n`);
  for (const c of SOURCE_CASES.slice(1)) {
    for (const cap of [0, BENCH_CAP_KBPS]) {
      const row = fleetRow({ ...base, phones: TWO_MODEL_PHONES, models: 2, mode: "cut-through", source: c.source, tftpWindow: c.tftpWindow, wanKbpsMax: cap });
      rows.push(row);
      const rate = Math.min(cap > 0 ? cap : Infinity, base.wanKbps!) * 1000;
      const limitMs = (2 * loadBytes * 8000) / rate + base.wanRttMs!;
      const line = `| ${c.source}${c.source === "tftp" ? ` (window ${row.window})` : ""} | ${cap > 0 ? cap : "none"} | ${fmt(row.doneMs === null ? null : row.doneMs / 1000, 1)} | ` +
        `${fmt(ratio(row.doneMs, limitMs))} | ${row.wanMaxKbps} | ${cap > 0 ? fmt(row.wanMaxKbps / cap, 3) : "-"} | ${fmt(row.wanBytes / (2 * loadBytes), 3)} | ` +
        `${row.verified} | ${fmt(row.wallMs / 1000, 1)} |` + (row.ok ? "" : " FAILED");
      lines.push(line);
      say(line + "\n");
    }
  }
  const notes = `\nlimit = both loads over min(budget, WAN) + RTT. The budget is shared by the roots fetching (cap / roots, each root's fetches on one bucket, ` +
    `host/sim/wan-budget.ts); max 10 s is measured at the link by the WAN model, not by the phones.\n`;
  say(notes);
  return { md: `\n## Two models sharing the WAN, with a budget\n\n${TWO_HEADER}\n${lines.join("\n")}\n${notes}`, rows };
}
