// What `pfs fleet` says at the end: one status line per phone, and with
// --json one object (per phone the same facts, plus the fleet's totals),
// both from the fleet's own records: exit codes, the phones' progress lines,
// what each flash image boots, and our server's own log of reads.

import type { FleetRunResult, PhoneRun } from "../phone/fleet.js";

/** A phone's outcome in a word: upgraded (exit 0 and its flash boots a new
 *  load), unchanged (exit 0, the same load), or failed. */
export type Outcome = "upgraded" | "unchanged" | "failed";

export interface PhoneSummary {
  mac: string;
  ip: string;
  model: string;
  host: "node" | "C";
  loadBefore: string | null;
  loadAfter: string | null;
  exit: number | null;
  outcome: Outcome;
  seconds: number;
  /** Per component: percent reached and how (PFS: from peers or as root; direct: from the server). */
  components: Record<string, { percent: number; via: string }>;
  /** Bytes our server sent this phone, and the files it read (null: not our server). */
  serverBytes: number | null;
  serverFiles: string[] | null;
}

export function outcomeOf(p: PhoneRun): Outcome {
  if (p.exit !== 0) return "failed";
  return p.loadAfter !== undefined && p.loadAfter !== null && p.loadAfter !== p.loadBefore ? "upgraded" : "unchanged";
}

export function summarize(p: PhoneRun, r: FleetRunResult, ourServer: boolean): PhoneSummary {
  const mine = r.reads.filter((q) => q.client === p.bind);
  return {
    mac: p.mac, ip: p.bind, model: p.model, host: p.native ? "C" : "node",
    loadBefore: p.loadBefore ?? null, loadAfter: p.loadAfter ?? null, exit: p.exit, outcome: outcomeOf(p),
    seconds: Math.round(p.ms / 100) / 10,
    components: Object.fromEntries(p.components),
    serverBytes: ourServer ? mine.reduce((s, q) => s + q.bytes, 0) : null,
    serverFiles: ourServer ? mine.map((q) => q.file) : null,
  };
}

/** How a phone got its files, in a few words. */
function how(s: PhoneSummary): string {
  const vias = Object.values(s.components).map((c) => c.via);
  const pfs = vias.filter((v) => v === "PFS").length;
  const direct = vias.length - pfs;
  const parts = [pfs > 0 ? `${pfs} via PFS` : "", direct > 0 ? `${direct} direct` : ""].filter((x) => x !== "");
  const server = s.serverBytes === null ? "" : `; ${s.serverBytes} bytes from the server (${s.serverFiles!.length} reads)`;
  return `${parts.length > 0 ? parts.join(", ") : "no components"}${server}`;
}

/** One line per phone: MAC, address, result, seconds, how it got its files. */
export function statusLine(s: PhoneSummary): string {
  const result = s.outcome === "failed" ? `FAILED (exit ${s.exit})` : s.outcome === "upgraded" ? `upgraded to ${s.loadAfter}` : `unchanged on ${s.loadAfter}`;
  return `${s.mac} ${s.ip.padEnd(15)} ${s.model.padEnd(9)} ${s.host.padEnd(4)} ${result.padEnd(30)} ${s.seconds.toFixed(1).padStart(6)} s  ${how(s)}`;
}

export interface FleetSummary {
  ok: boolean;
  phones: number;
  upgraded: number;
  failed: number;
  wallMs: number;
  /** Our server's totals (null when the fleet booted from another server). */
  serverBytes: number | null;
  serverReads: Record<string, number> | null;
  perPhone: PhoneSummary[];
}

export function fleetSummary(r: FleetRunResult, ourServer: boolean): FleetSummary {
  const perPhone = r.phones.map((p) => summarize(p, r, ourServer));
  const failed = perPhone.filter((p) => p.outcome === "failed").length;
  return {
    ok: failed === 0, phones: perPhone.length, upgraded: perPhone.filter((p) => p.outcome === "upgraded").length, failed, wallMs: r.wallMs,
    serverBytes: ourServer ? r.reads.reduce((s, q) => s + q.bytes, 0) : null,
    serverReads: ourServer ? Object.fromEntries([...r.requests.entries()].sort()) : null,
    perPhone,
  };
}
