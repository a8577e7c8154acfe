// The Wireshark dissector (tools/wireshark/pfs.lua) against tshark itself:
//  - a real loopback fleet upgrade captured by tcpdump on `lo`: every packet
//    on the PFS port carries a decoded PFS message with no malformed or
//    error mark, and the messages tshark finds, per phone and type, are
//    exactly those each phone says it sent (its `sent` console line);
//  - a pcap written by hand with truncated and malformed messages: each is
//    flagged with the reason the core would drop it, valid ones beside them
//    decode (one split over two segments, several in one), and tshark
//    neither crashes nor reports a Lua error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFleetProcesses } from "../../host/phone/fleet.js";
import { parseSentLine } from "../../host/phone/sent-counts.js";
import { freeUdpPort } from "../support/ports.js";
import { ROOT } from "../support/native.js";
import { Endpoint, PcapWriter, TCP_ACK, TCP_FIN, TCP_PSH } from "../support/pcap.js";

const DISSECTOR = join(ROOT, "tools/wireshark/pfs.lua");
/** A fleet big enough for a tree with a grandchild (root, two children, one
 *  below them) and every frame type of an upgrade; small enough to read. */
const PHONES = 4;
const LINGER_SEC = 2;
/** Where the fleet's capture stays after the test (build/ is not checked in). */
const KEPT_CAPTURE = join(ROOT, "build/wireshark-fleet.pcap");
/** `_ws.expert.severity` of an error (epan/proto.h PI_ERROR). */
const PI_ERROR = 0x00800000;
/** Our expert infos (pfs.lua BAD_ABBR): one field each, "1" when present. */
const PFS_EXPERTS = ["pfs.short", "pfs.bad_magic", "pfs.bad_version", "pfs.bad_type", "pfs.bad_count", "pfs.bad_length",
  "pfs.bad_field", "pfs.bad_frame_size", "pfs.capture_cut", "pfs.stream_cut", "pfs.after_error", "pfs.incomplete"];
/** Message type names as pfs.type shows them with -T fields (its hex value). */
const TYPE_NAMES: Record<string, string> = {
  "0x01": "SOLICIT", "0x02": "CLAIM", "0x03": "ROOT_AD", "0x10": "JOIN", "0x11": "ACCEPT", "0x12": "REFUSE", "0x13": "DOWN",
  "0x14": "UP", "0x15": "DATA",
};

function whyNot(needCapture: boolean): string | null {
  if (spawnSync("tshark", ["-v"]).status !== 0) return "needs tshark (Debian's tshark; tests/support/debian-deps.sh installs it)";
  if (!needCapture) return null;
  if (process.getuid?.() !== 0) return "needs root to capture on lo";
  if (spawnSync("tcpdump", ["--version"]).status !== 0) return "needs tcpdump (tests/support/debian-deps.sh installs it)";
  return null;
}

const FIELDS = ["frame.number", "ip.src", "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "tcp.len",
  "tcp.reassembled_in", "tcp.analysis.retransmission", "pfs.type", "_ws.expert.severity", "_ws.malformed", "_ws.lua.error",
  ...PFS_EXPERTS];
type Row = Record<string, string[]>;

/** tshark's reading of `pcap` with the dissector on `port`: one row per
 *  packet, each field's occurrences. */
function tshark(pcap: string, port: number): Row[] {
  const r = spawnSync("tshark", [
    "-X", `lua_script:${DISSECTOR}`, "-o", `pfs.port:${port}`, "-o", "tcp.desegment_tcp_streams:TRUE", "-r", pcap,
    "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t", ...FIELDS.flatMap((f) => ["-e", f]),
  ], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `tshark exited ${r.status} (${r.signal}): ${r.stderr}`);
  // tshark warns about running as root; anything about Lua is our failure.
  assert.doesNotMatch(r.stderr, /lua/i, `tshark's stderr: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l !== "").map((line) => {
    const cells = line.split("\t");
    assert.equal(cells.length, FIELDS.length, `a row of ${cells.length} cells: ${line}`);
    return Object.fromEntries(FIELDS.map((f, i) => [f, cells[i] === "" ? [] : cells[i].split(",")]));
  });
}

const expertsOf = (row: Row) => PFS_EXPERTS.filter((e) => row[e].length > 0);
const isError = (row: Row) => row["_ws.expert.severity"].some((s) => (Number(s) & PI_ERROR) === PI_ERROR);

// ------------------------------------------------------------ a real fleet

/** tcpdump on lo for `filter`, writing each packet at once (-U). */
async function startCapture(file: string, filter: string) {
  const proc = spawn("tcpdump", ["-i", "lo", "-U", "-B", "32768", "-s", "0", "-w", file, filter], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("listening on")) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`tcpdump exited ${code}: ${stderr}`)));
  });
  const stop = async (): Promise<string> => {
    if (proc.exitCode !== null) return stderr;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGINT");
    await exited;
    return stderr;
  };
  return { stop };
}

/** A datagram to the marker port; once tcpdump has written it, it has
 *  written everything sent before it (one queue, in order). */
async function markEnd(file: string, port: number, marker: Buffer): Promise<void> {
  const s = createSocket("udp4");
  try {
    for (let attempt = 0; ; attempt++) {
      await new Promise<void>((resolve, reject) => s.send(marker, port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
      await new Promise((r) => setTimeout(r, 100));
      if (readFileSync(file).includes(marker)) return;
      assert.ok(attempt < 100, "tcpdump never wrote the end marker");
    }
  } finally {
    s.close();
  }
}

/** What tshark found each phone sent: `"udp ROOT_AD"`-style counts by address. */
function capturedBySender(rows: Row[], port: number): Map<string, Record<string, number>> {
  const by = new Map<string, Record<string, number>>();
  for (const row of rows) {
    const src = row["ip.src"][0];
    const udp = row["udp.srcport"].length > 0;
    // Only what a phone sent: datagrams are sent from the PFS port; a
    // stream's frames go both ways, each from its sender's address.
    if (udp && Number(row["udp.srcport"][0]) !== port) continue;
    const counts = by.get(src) ?? {};
    for (const t of row["pfs.type"]) {
      const key = `${udp ? "udp" : "tcp"} ${TYPE_NAMES[t] ?? t}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    by.set(src, counts);
  }
  return by;
}

test("a captured loopback fleet upgrade decodes whole, and matches what each phone says it sent", async (t) => {
  const reason = whyNot(true);
  if (reason !== null) {
    t.skip(reason);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "pfs-wireshark-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freeUdpPort();
  const markerPort = await freeUdpPort();
  const pcap = join(dir, "cap.pcap");
  const capture = await startCapture(pcap, `port ${port} or port ${markerPort}`);
  let captureLog = "";
  try {
    const r = await runFleetProcesses({
      workDir: join(dir, "fleet"), phones: PHONES, models: 1, load: "tiny", port, lingerSec: LINGER_SEC, pfs: true, tftpWindow: 1,
      verbose: false, out: () => {},
    });
    assert.deepEqual(r.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind}: ${p.lines.slice(-3).join(" | ")}`), []);
    await markEnd(pcap, markerPort, Buffer.from(`end of the PFS capture ${process.pid}`));
    captureLog = await capture.stop();
    assert.match(captureLog, /\b0 packets dropped by kernel/, `tcpdump: ${captureLog}`);
    // Kept for a look with Wireshark when something below fails.
    copyFileSync(pcap, KEPT_CAPTURE);

    const rows = tshark(pcap, port).filter((row) => row["udp.dstport"][0] !== String(markerPort));
    // Every packet with PFS bytes carries a decoded message (or is part of
    // one decoded in a later packet), none is marked malformed or an error.
    // A retransmission (lo has them, rarely) repeats bytes tshark decoded
    // already: it shows them once, as the counts below check.
    const carrying = rows.filter((row) => row["udp.srcport"].length > 0 ||
      (Number(row["tcp.len"][0] ?? 0) > 0 && row["tcp.analysis.retransmission"].length === 0));
    assert.ok(carrying.length > 0, "nothing captured on the PFS port");
    const undecoded = carrying.filter((row) => row["pfs.type"].length === 0 && row["tcp.reassembled_in"].length === 0);
    assert.deepEqual(undecoded.map((row) => row["frame.number"][0]), [], "packets with PFS bytes and no decoded message");
    const marked = rows.filter((row) => row["_ws.malformed"].length > 0 || isError(row) || expertsOf(row).length > 0 || row["_ws.lua.error"].length > 0);
    assert.deepEqual(marked.map((row) => `${row["frame.number"][0]}: ${expertsOf(row).join(" ")}`), [], "packets marked malformed or in error");

    // Per phone and type: what the capture holds is what the phone sent.
    const captured = capturedBySender(rows, port);
    for (const p of r.phones) {
      const said = p.lines.map((l) => /DLoad: (sent .*)$/.exec(l)?.[1]).filter((x): x is string => x !== undefined).map(parseSentLine);
      assert.ok(said.length > 0 && said.every((s) => s !== null), `${p.bind} printed no sent line: ${p.lines.slice(-3).join(" | ")}`);
      const total: Record<string, number> = {};
      for (const s of said) for (const [k, n] of Object.entries(s!)) total[k] = (total[k] ?? 0) + n;
      assert.deepEqual(captured.get(p.bind) ?? {}, total, `${p.bind}: captured (left) against its sent line (right)`);
    }
    // The upgrade went through PFS: there were trees and firmware bytes.
    const all = [...captured.values()].reduce((sum, c) => sum + (c["tcp DATA"] ?? 0), 0);
    assert.ok(all > 0, "no DATA frame captured");
  } finally {
    await capture.stop();
  }
});

// ------------------------------------------------------------ a hostile pcap

const XID = [0x76, 0x1b, 0xa1, 0x7a];
const STRENGTH = [0x80, 0x00, 0x1e, 0x08];
const bytes = (...parts: Array<number | number[] | Uint8Array>) => Uint8Array.from(parts.flatMap((p) => (typeof p === "number" ? [p] : [...p])));
const u16 = (n: number) => [n >>> 8, n & 0xff];
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const dgram = (type: number, ...rest: Array<number | number[]>) => bytes(0x50, 0x46, 1, type, XID, ...rest);
/** A candidate record (docs/PROTOCOL.md §4.5). */
const cand = (addr = [10, 0, 0, 3], depth = 2, free = 2) => [...addr, depth, free, 0, 0, 0xfb, 0xab];
/** A frame: its length prefix is the body's, unless `len` says otherwise. */
const frame = (type: number, body: number[] | Uint8Array, len?: number) => bytes(u16(len ?? body.length + 1), type, body);
const JOIN = frame(0x10, [0x50, 0x46, 1, ...XID, ...STRENGTH, 0, 0, 1, 0, ...u32(0)]);
const ACCEPT = frame(0x11, [...XID, ...STRENGTH, 1, 10, 0, 0, 1]);
const DATA = frame(0x15, bytes(u32(0), new Uint8Array(100)));

interface Case {
  what: string;
  write: (w: PcapWriter) => number;
  /** The packet's decoded types (pfs.type as tshark prints it). */
  types: string[];
  /** The one expert info it must carry; null: none at all. */
  expert: string | null;
}

test("malformed and truncated PFS messages are flagged with the core's reason, and tshark does not fail", async (t) => {
  const reason = whyNot(false);
  if (reason !== null) {
    t.skip(reason);
    return;
  }
  const port = 4051;
  const a: Endpoint = { addr: "10.0.0.2", port };
  const bcast: Endpoint = { addr: "10.0.0.255", port };
  let nextPort = 40000;
  /** A fresh stream from its own port, each case on its own. */
  const stream = (segments: Uint8Array[], last = TCP_PSH | TCP_ACK, keep?: number) => (w: PcapWriter) => {
    const from: Endpoint = { addr: "10.0.0.3", port: nextPort++ };
    let n = 0;
    segments.forEach((s, i) => (n = w.tcp(from, a, s, i === segments.length - 1 ? last : TCP_PSH | TCP_ACK, i === segments.length - 1 ? keep : undefined)));
    return n;
  };
  const udp = (payload: Uint8Array, keep?: number) => (w: PcapWriter) => w.udp(a, bcast, payload, keep);
  const cases: Case[] = [
    { what: "SOLICIT", write: udp(dgram(1, STRENGTH)), types: ["0x01"], expert: null },
    { what: "CLAIM", write: udp(dgram(2, [0, 0, 0x1e, 0x08], 1, 0)), types: ["0x02"], expert: null },
    { what: "ROOT_AD with 4 candidates", write: udp(dgram(3, STRENGTH, u32(40000), 4, cand(), cand(), cand(), cand())), types: ["0x03"], expert: null },
    { what: "a 3-byte datagram", write: udp(bytes(0x50, 0x46, 1)), types: [], expert: "pfs.short" },
    { what: "bad magic", write: udp(bytes(0x50, 0x58, 1, 1, XID, STRENGTH)), types: [], expert: "pfs.bad_magic" },
    { what: "version 2", write: udp(bytes(0x50, 0x46, 2, 1, XID, STRENGTH)), types: [], expert: "pfs.bad_version" },
    { what: "datagram type 0x09", write: udp(dgram(9, STRENGTH)), types: ["0x09"], expert: "pfs.bad_type" },
    { what: "a frame type in a datagram", write: udp(dgram(0x10, STRENGTH)), types: ["0x10"], expert: "pfs.bad_type" },
    { what: "SOLICIT cut at 10 bytes", write: udp(dgram(1, [0, 0])), types: ["0x01"], expert: "pfs.short" },
    { what: "ROOT_AD with 5 candidates", write: udp(dgram(3, STRENGTH, u32(1), 5, cand(), cand(), cand(), cand(), cand())), types: ["0x03"], expert: "pfs.bad_count" },
    { what: "ROOT_AD with a candidate at address 0", write: udp(dgram(3, STRENGTH, u32(1), 1, cand([0, 0, 0, 0]))), types: ["0x03"], expert: "pfs.bad_field" },
    { what: "ROOT_AD with a candidate at depth 25", write: udp(dgram(3, STRENGTH, u32(1), 1, cand(undefined, 25))), types: ["0x03"], expert: "pfs.bad_field" },
    { what: "ROOT_AD promising a candidate it lacks", write: udp(dgram(3, STRENGTH, u32(1), 1, [10, 0, 0])), types: ["0x03"], expert: "pfs.short" },
    { what: "SOLICIT with a byte after it", write: udp(dgram(1, STRENGTH, 0)), types: ["0x01"], expert: "pfs.bad_length" },
    { what: "ROOT_AD cut by the snapshot length", write: udp(dgram(3, STRENGTH, u32(1), 1, cand()), 20 + 8 + 20), types: ["0x03"], expert: "pfs.capture_cut" },
    // (An empty datagram never reaches the dissector: Wireshark's UDP shows it as Len=0.)
    { what: "JOIN with its length prefix split over two segments", write: stream([JOIN.subarray(0, 1), JOIN.subarray(1)]), types: ["0x10"], expert: null },
    { what: "ACCEPT, then the capture cuts the segment where JOIN starts", write: stream([bytes(ACCEPT, JOIN)], TCP_PSH | TCP_ACK, 20 + 20 + ACCEPT.length), types: ["0x11"], expert: "pfs.capture_cut" },
    { what: "JOIN and ACCEPT in one segment", write: stream([bytes(JOIN, ACCEPT)]), types: ["0x10", "0x11"], expert: null },
    { what: "DATA split over two segments (the second)", write: stream([DATA.subarray(0, 50), DATA.subarray(50)]), types: ["0x15"], expert: null },
    { what: "length 0", write: stream([bytes(0, 0, 0x11)]), types: [], expert: "pfs.bad_frame_size" },
    { what: "length 16641", write: stream([bytes(u16(16641), 0x15)]), types: [], expert: "pfs.bad_frame_size" },
    { what: "DATA of length 3", write: stream([bytes(0, 3, 0x15, 0, 0)]), types: [], expert: "pfs.bad_frame_size" },
    { what: "a DOWN of 300 bytes", write: stream([frame(0x13, new Uint8Array(299))]), types: ["0x13"], expert: "pfs.bad_frame_size" },
    { what: "DATA with a 16385-byte payload", write: stream([frame(0x15, bytes(u32(0), new Uint8Array(16385)))]), types: ["0x15"], expert: "pfs.bad_field" },
    { what: "JOIN of the draft (16 bytes)", write: stream([frame(0x10, [0x50, 0x46, 1, ...XID, ...STRENGTH, 0, 0, 1, 0])]), types: ["0x10"], expert: "pfs.short" },
    { what: "JOIN with bad magic", write: stream([frame(0x10, [0x50, 0x47, 1, ...XID, ...STRENGTH, 0, 0, 1, 0, ...u32(0)])]), types: ["0x10"], expert: "pfs.bad_magic" },
    { what: "JOIN of version 2", write: stream([frame(0x10, [0x50, 0x46, 2, ...XID, ...STRENGTH, 0, 0, 1, 0, ...u32(0)])]), types: ["0x10"], expert: "pfs.bad_version" },
    { what: "frame type 0x20", write: stream([frame(0x20, [0, 0, 0, 0])]), types: ["0x20"], expert: "pfs.bad_type" },
    { what: "ACCEPT with an empty path", write: stream([frame(0x11, [...XID, ...STRENGTH, 0])]), types: ["0x11"], expert: "pfs.bad_field" },
    { what: "ACCEPT with a path of 25", write: stream([frame(0x11, [...XID, ...STRENGTH, 25, ...new Array(100).fill(1)])]), types: ["0x11"], expert: "pfs.bad_count" },
    { what: "UP with 3 candidates", write: stream([frame(0x14, [...XID, ...STRENGTH, 0, 1, 0, 3, ...cand(), ...cand(), ...cand()])]), types: ["0x14"], expert: "pfs.bad_count" },
    { what: "DOWN whose best is half zero", write: stream([frame(0x13, [...XID, 1, 10, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0])]), types: ["0x13"], expert: "pfs.bad_field" },
    { what: "REFUSE with a byte after it", write: stream([frame(0x12, [...XID, 1, 0, 7])]), types: ["0x12"], expert: "pfs.bad_length" },
    { what: "a frame after a bad one on the same stream", write: stream([frame(0x20, []), ACCEPT]), types: [], expert: "pfs.after_error" },
    { what: "JOIN cut by a FIN", write: stream([JOIN.subarray(0, 10)], TCP_FIN | TCP_ACK), types: [], expert: "pfs.stream_cut" },
    { what: "DATA cut by the snapshot length", write: stream([DATA], TCP_PSH | TCP_ACK, 20 + 20 + 30), types: ["0x15"], expert: "pfs.capture_cut" },
  ];
  const w = new PcapWriter();
  const frames = cases.map((c) => c.write(w));
  const dir = mkdtempSync(join(tmpdir(), "pfs-wireshark-hostile-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = join(dir, "hostile.pcap");
  writeFileSync(pcap, w.bytes());
  const rows = new Map(tshark(pcap, port).map((row) => [Number(row["frame.number"][0]), row]));
  assert.equal(rows.size, w.count, "tshark read every packet");
  const wrong: string[] = [];
  cases.forEach((c, i) => {
    const row = rows.get(frames[i])!;
    const got = { types: row["pfs.type"], experts: expertsOf(row), lua: row["_ws.lua.error"].length > 0 };
    const want = { types: c.types, experts: c.expert === null ? [] : [c.expert], lua: false };
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${c.what} (frame ${frames[i]}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    // Flagged as malformed errors, which is what a filter on them finds.
    const malformed = row["_ws.malformed"].length > 0 && isError(row);
    const shouldBe = c.expert !== null && c.expert !== "pfs.after_error";
    if (malformed !== shouldBe) wrong.push(`${c.what}: malformed error mark ${malformed}, want ${shouldBe}`);
  });
  assert.deepEqual(wrong, []);
});
