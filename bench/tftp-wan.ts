// Windowed TFTP against an emulated WAN (issue 13 §2): one client fetches a
// file from our server behind `--wan-kbps 2000 --wan-rtt-ms 80` (the server's
// own emulation, host/tftp/server.ts) in lockstep, with window 16, and with
// the adaptive window from the board's tftpWindowMax (host/tftp/window.ts).
// The rate is the server's own: the bits it put on the link (payload and
// headers) from its first DATA to the final ACK, over the link's rate.
// Also asks atftpd (Debian's) for a window, on loopback, to show whether it
// grants one (it cannot be put behind our WAN: the emulation is in our server).
//
//   node build/js/bench/tftp-wan.js    (after make build; atftpd needs root)
//
// Prints a table and appends it to bench/results/tftp-wan.md.

import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CLIENT_TIMEOUT_DEFAULT_MS, tftpGet } from "../host/tftp/client.js";
import { TftpServer, UDP_IPV4_OVERHEAD_BYTES } from "../host/tftp/server.js";
import { DATA_HEADER_BYTES } from "../host/tftp/packet.js";
import { SERVER_TIMEOUT_ASK_SEC, WindowControl } from "../host/tftp/window.js";
import { boardTftpWindowMax, loadBoard } from "../host/boards.js";
import { ATFTPD, atftpdArgs, atftpdMissing, LOOPBACK, startTftpd } from "../tests/support/tftpd.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The WAN: a remote site's 2 Mbit/s link, 80 ms away. */
const WAN_KBPS = 2000;
const WAN_RTT_MS = 80;
const BLKSIZE = 1428;
/** 2 MB: 8 s at the link rate, several of the largest windows. */
const FILE_BYTES = 2_000_000;
/** Lockstep pays a round trip per block (~1400 of them for 2 MB, 2 minutes):
 *  it fetches a fifth of the file; its rate per block is the same. */
const LOCKSTEP_BYTES = 300_000;
/** The window compared beside the board's: what the simulator used (issue 13). */
const FIXED_WINDOW = 16;

export interface WanRow {
  name: string;
  window: number;
  bytes: number;
  ms: number;
  /** The server's sending rate over the link rate. */
  ofLink: number;
  resentBytes: number;
}

async function measure(dir: string, name: string, file: string, bytes: number, window: WindowControl | number): Promise<WanRow> {
  const server = new TftpServer({ root: dir, host: LOOPBACK, port: 0, wanKbps: WAN_KBPS, wanRttMs: WAN_RTT_MS });
  const { port } = await server.start();
  try {
    const r = await tftpGet({
      host: LOOPBACK, port, file, blksize: BLKSIZE, tsize: true, timeoutSec: SERVER_TIMEOUT_ASK_SEC, timeoutMs: CLIENT_TIMEOUT_DEFAULT_MS,
      ...(typeof window === "number" ? { windowsize: window } : { window }),
    });
    // The final ACK crosses the emulated WAN back before the server records the end.
    const rec = server.requests[0]!;
    while (rec.endMs === undefined) await new Promise((res) => setTimeout(res, 10));
    const ms = rec.endMs - rec.firstDataMs!;
    const blocks = Math.floor(bytes / BLKSIZE) + 1;
    const bits = (bytes + blocks * (DATA_HEADER_BYTES + UDP_IPV4_OVERHEAD_BYTES)) * 8;
    return { name, window: r.windowsize, bytes, ms, ofLink: bits / ms / WAN_KBPS, resentBytes: (rec.sentBytes ?? 0) - bytes };
  } finally {
    await server.stop();
  }
}

/** Whether atftpd grants windowsize, asked on loopback. */
async function atftpdGrant(dir: string, max: number): Promise<string> {
  const missing = atftpdMissing();
  if (missing !== undefined) return `atftpd not run: ${missing}`;
  const d = await startTftpd(ATFTPD, atftpdArgs(dir), "lock.bin");
  try {
    const r = await tftpGet({ host: LOOPBACK, port: d.port, file: "lock.bin", blksize: BLKSIZE, windowsize: max, tsize: true });
    return `atftpd, asked windowsize ${max} on loopback, granted ${r.windowsize}`;
  } finally {
    await d.stop();
  }
}

export async function tftpWanBench(): Promise<WanRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "pfs-bench-tftp-wan-"));
  try {
    const data = randomBytes(FILE_BYTES);
    writeFileSync(join(dir, "load.bin"), data);
    writeFileSync(join(dir, "lock.bin"), data.subarray(0, LOCKSTEP_BYTES));
    const max = boardTftpWindowMax(loadBoard("third-gen"));
    const rows = [
      await measure(dir, "lockstep", "lock.bin", LOCKSTEP_BYTES, 1),
      await measure(dir, `window ${FIXED_WINDOW}`, "load.bin", FILE_BYTES, FIXED_WINDOW),
      await measure(dir, `adaptive, max ${max} (third-gen)`, "load.bin", FILE_BYTES, new WindowControl(max)),
    ];
    const atftpd = await atftpdGrant(dir, max);
    const lines = [
      `## TFTP over a ${WAN_KBPS} kbit/s, ${WAN_RTT_MS} ms WAN (our server's emulation), ${new Date().toISOString()}`,
      "",
      "| client | window granted | bytes | ms | rate / link rate | bytes resent |",
      "|---|---:|---:|---:|---:|---:|",
      ...rows.map((r) => `| ${r.name} | ${r.window} | ${r.bytes} | ${r.ms.toFixed(0)} | ${r.ofLink.toFixed(3)} | ${r.resentBytes} |`),
      "",
      atftpd,
      "",
    ];
    for (const l of lines) console.log(l);
    appendFileSync(join(root, "bench/results/tftp-wan.md"), lines.join("\n") + "\n");
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await tftpWanBench();
