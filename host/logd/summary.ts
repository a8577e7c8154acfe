// logd's live table: one line per phone (MAC, address, load, its roles, the
// percent of the load it holds, its rate, its last event), from the reports
// as they come. Rendering is a function of the table; logd decides when.

import type { PhoneReport, ReportEvent } from "../view/report.js";

/** The rate is over the reports of the last this many ms: long enough to
 *  span a few status ticks (one a second), short enough to show a stall. */
export const RATE_WINDOW_MS = 10_000;
/** Phones shown on a terminal; the rest are counted on the last line. */
export const MAX_SHOWN_PHONES = 200;

interface PhoneRow {
  mac: string;
  ip: string;
  load: string;
  /** Per file: role, held, size. */
  files: Map<string, { role: string; held: number; size: number }>;
  lastEvent: ReportEvent | "";
  /** (time, total held) samples within the rate window. */
  samples: Array<{ atMs: number; held: number }>;
}

export class LogSummary {
  private readonly rows = new Map<string, PhoneRow>();

  apply(r: PhoneReport): void {
    let row = this.rows.get(r.mac);
    if (row === undefined) {
      row = { mac: r.mac, ip: r.ip, load: r.load, files: new Map(), lastEvent: "", samples: [] };
      this.rows.set(r.mac, row);
    }
    row.ip = r.ip;
    if (r.load !== "") row.load = r.load;
    if (r.event !== undefined) row.lastEvent = r.event;
    const c = r.component;
    if (c === undefined) return;
    row.files.set(`${c.model} ${c.file}`, { role: c.role, held: Math.min(c.held, c.size), size: c.size });
    const held = [...row.files.values()].reduce((s, f) => s + f.held, 0);
    row.samples.push({ atMs: r.atMs, held });
    while (row.samples.length > 1 && row.samples[0].atMs < r.atMs - RATE_WINDOW_MS) row.samples.shift();
  }

  /** One line per phone, by MAC, then a totals line. */
  lines(stats: { stored: number; malformed: number }): string[] {
    const rows = [...this.rows.values()].sort((a, b) => (a.mac < b.mac ? -1 : 1));
    const out = rows.slice(0, MAX_SHOWN_PHONES).map((row) => phoneLine(row));
    if (rows.length > MAX_SHOWN_PHONES) out.push(`... and ${rows.length - MAX_SHOWN_PHONES} more phones`);
    out.push(`${rows.length} phones, ${stats.stored} messages stored, ${stats.malformed} malformed (kept in malformed.log)`);
    return out;
  }
}

function phoneLine(row: PhoneRow): string {
  const files = [...row.files.values()];
  const size = files.reduce((s, f) => s + f.size, 0);
  const held = files.reduce((s, f) => s + f.held, 0);
  const percent = size === 0 ? 0 : Math.floor((held * 100) / size);
  const roles = [...new Set(files.map((f) => f.role))].join(",") || "-";
  const first = row.samples[0];
  const last = row.samples.at(-1);
  const spanMs = first === undefined || last === undefined ? 0 : last.atMs - first.atMs;
  const kibPerSec = spanMs <= 0 ? 0 : ((last!.held - first!.held) * 1000) / spanMs / 1024;
  return `${row.mac} ${row.ip.padEnd(15)} ${(row.load || "-").padEnd(20)} ${roles.padEnd(16)} ${String(percent).padStart(3)}% ${kibPerSec.toFixed(1).padStart(8)} KiB/s ${row.lastEvent || "-"}`;
}
