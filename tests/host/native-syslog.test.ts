// The C phone's syslog (native/phone/syslog.c, syslog_out.c; docs/LOGGING.md):
//   - its formatter writes the very bytes the Node formatter writes
//     (host/log/syslog.ts formatSyslog), escaping and the 2048-byte cut too;
//   - a fleet of C phones sending to Debian's rsyslogd: judged by rsyslogd's
//     own file, every phone's lines arrive as SEP<MAC>, parse, one `line`
//     message per console line the phone printed, with the component, the
//     role, the parent and the events a watcher needs, and status ticks;
//   - one Node and one C phone in one fleet: their messages carry the same
//     params in the same order, kind for kind.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSyslog, MAX_DATAGRAM_BYTES, parseSyslog, type ParsedSyslog } from "../../host/log/syslog.js";
import { NATIVE_PHONE_BIN, runFleetProcesses, type PhoneRun } from "../../host/phone/fleet.js";
import { ROLE_NAMES, type PhoneReport } from "../../host/view/report.js";
import { ensurePhoneTool, ROOT } from "../support/native.js";
import { startRsyslogd, type RunningRsyslogd } from "../support/rsyslogd.js";

const FMT = join(ROOT, "build/native/phone/pfs-syslog-fmt");
/** One PFS port per test process, below the ephemeral ports, apart from the
 *  other fleet tests' (fleet-mixed.test.ts takes 20000 + pid % 12000). */
const PORT = 20000 + ((process.pid + 7919) % 12000);
const C_PHONES = 4;
/** A console line as both phones print it (docs/CONSOLE.md). */
const CONSOLE_LINE = /^(ERR|WRN|NOT|INF|DBG) \d\d:\d\d:\d\d\.\d{3} DLoad: /;
const TEST_TIMEOUT_MS = 240_000;

const work = mkdtempSync(join(tmpdir(), "pfs-native-syslog-"));
after(() => rmSync(work, { recursive: true, force: true }));

const skipFmt = ensurePhoneTool("build/native/phone/pfs-syslog-fmt");
const skipPhone = ensurePhoneTool("build/native/pfs-phone");

/** The C formatter's message for a report, by pfs-syslog-fmt's flags. */
function cFormat(r: PhoneReport, cap = MAX_DATAGRAM_BYTES): { code: number | null; out: string } {
  const a = ["--severity", String(r.level === undefined ? 6 : { ERR: 3, WRN: 4, NOT: 5, INF: 6, DBG: 7 }[r.level]), "--at", String(r.atMs),
    "--mac", r.mac, "--ip", r.ip, "--load", r.load, "--cap", String(cap)];
  const c = r.component;
  if (c !== undefined) {
    a.push("--xid", `0x${c.xid.slice(3)}`, "--model", c.model, "--file", c.file, "--role", String(ROLE_NAMES.indexOf(c.role)),
      "--held", String(c.held), "--size", String(c.size), "--parent", c.parent, "--depth", String(c.depth), "--wan", String(c.wan),
      "--done", c.done ? "1" : "0");
  }
  if (r.event !== undefined) a.push("--event", r.event);
  if (r.text !== undefined) a.push("--text", r.text);
  const p = spawnSync(FMT, a, { encoding: "latin1" });
  return { code: p.status, out: p.stdout };
}

const AT = Date.UTC(2026, 11, 7, 2, 19, 24, 412);
function report(): PhoneReport {
  return {
    atMs: AT, mac: "001BD4000001", ip: "127.0.0.2", load: "SCCP41.9-4-2SR3", level: "NOT",
    text: "NOT 00:00:01.234 DLoad: @@@HROOT:XID080027F8 m=CP-7961G ROOT=127.0.0.2 apps41.sbn",
    component: { xid: "XID080027F8", model: "CP-7961G", file: "apps41.sbn", role: "root", held: 4096, size: 65536, parent: "", depth: 0, wan: 4160, done: false },
    event: "root",
  };
}

test("the C formatter writes the Node formatter's bytes", { skip: skipFmt ?? false }, () => {
  const cases: Array<[string, PhoneReport]> = [["a root's line", report()]];
  const plain: PhoneReport = { atMs: AT + 1, mac: "001BD40000AB", ip: "10.0.0.1", load: "", level: "WRN", text: "WRN 00:00:00.001 DLoad: SEP001BD40000AB.cnf.xml not found" };
  cases.push(["a line about no component", plain]);
  const odd = report();
  odd.load = 'we"ird\\lo]ad';
  odd.component = { ...odd.component!, file: ']]\\"x', role: "attached", parent: "127.0.0.9", depth: 3, done: true };
  odd.text = "ERR 00:00:02.000 DLoad: tab\there, é and ] \\ \"";
  odd.level = "ERR";
  odd.event = "corrupt";
  cases.push(["escaping and non-ASCII", odd]);
  const long = report();
  long.text = `INF 00:00:03.000 DLoad: ${"x".repeat(3000)}`;
  long.level = "INF";
  cases.push(["a line over the datagram limit", long]);
  for (const level of ["ERR", "WRN", "NOT", "INF", "DBG"] as const) cases.push([`level ${level}`, { ...plain, level }]);
  for (const [what, r] of cases) {
    const c = cFormat(r);
    assert.equal(c.code, 0, what);
    assert.equal(c.out, formatSyslog(r, "line"), what);
    assert.ok(Buffer.byteLength(c.out, "latin1") <= MAX_DATAGRAM_BYTES, what);
    parseSyslog(c.out);
  }
  const { text: _t, level: _l, event: _e, ...tick } = report();
  const c = cFormat(tick);
  assert.equal(c.out, formatSyslog(tick, "status"));
  assert.deepEqual(parseSyslog(c.out), { report: tick, msgid: "status" });
  // Room for less than the header and the structured data: nothing, not half.
  assert.equal(cFormat(report(), 100).code, 1);
});

interface Received {
  raw: string;
  parsed: ParsedSyslog;
}

/** rsyslogd's raw file: every datagram must parse; by phone MAC. */
function receivedByMac(server: RunningRsyslogd): Map<string, Received[]> {
  const by = new Map<string, Received[]>();
  for (const raw of server.lines()) {
    const parsed = parseSyslog(raw); // throws, with its reason, on any malformed one
    const list = by.get(parsed.report.mac) ?? [];
    list.push({ raw, parsed });
    by.set(parsed.report.mac, list);
  }
  return by;
}

/** rsyslogd writes what it got a moment after: wait until the counts hold still. */
async function settled(server: RunningRsyslogd): Promise<void> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const n = server.lines().length;
    if (n === last) return;
    last = n;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const consoleLines = (p: PhoneRun) => p.lines.filter((l) => CONSOLE_LINE.test(l));

test("C phones log every console line to rsyslogd, with the component state", { skip: skipPhone ?? false, timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = mkdtempSync(join(work, "c-"));
  const server = await startRsyslogd(dir);
  if (typeof server === "string") return t.skip(server);
  try {
    const run = await runFleetProcesses({
      phones: C_PHONES, models: 1, load: "tiny", port: PORT, lingerSec: 2, pfs: true, tftpWindow: 1, wanKbps: 400, wanRttMs: 20,
      verbose: false, out: () => {}, workDir: join(dir, "fleet"), native: { bin: NATIVE_PHONE_BIN, phones: () => true },
      logServer: { host: "127.0.0.1", port: server.port },
    });
    for (const p of run.phones) assert.equal(p.exit, 0, `${p.bind}: ${p.lines.slice(-3).join(" | ")}`);
    await settled(server);
    const by = receivedByMac(server);
    let roots = 0;
    for (const p of run.phones) {
      const got = by.get(p.mac) ?? [];
      assert.ok(got.every((g) => g.raw.includes(` SEP${p.mac} pfs - `)), p.mac);
      const lines = got.filter((g) => g.parsed.msgid === "line").map((g) => g.parsed.report);
      const printed = consoleLines(p);
      assert.deepEqual(lines.map((r) => r.text).sort(), printed.slice().sort(), `${p.mac}: one line message per console line`);
      for (const r of lines) {
        assert.equal(r.ip, p.bind);
        assert.equal(r.level, r.text!.slice(0, 3));
      }
      // The components: each need line says its XID, file and size.
      const needs = [...printed.join("\n").matchAll(/(XID[0-9A-F]{8})(?: model=\S+)? need (\S+) \((\d+) bytes\)/g)];
      assert.ok(needs.length > 0, `${p.mac}: no need line`);
      for (const [, xid, file, size] of needs) {
        const about = lines.filter((r) => r.component?.xid === xid);
        assert.ok(about.length > 0, `${p.mac} ${xid}: no line carries it`);
        for (const r of about) {
          assert.equal(r.component!.file, file);
          assert.equal(r.component!.size, Number(size));
          assert.equal(r.component!.model, p.model);
        }
        const fileDone = about.find((r) => r.event === "fileDone");
        assert.ok(fileDone !== undefined && fileDone.component!.done, `${p.mac} ${xid}: fileDone`);
        const ticks = got.filter((g) => g.parsed.msgid === "status" && g.parsed.report.component?.xid === xid).map((g) => g.parsed.report.component!);
        assert.ok(ticks.some((c) => c.done && c.held === Number(size)), `${p.mac} ${xid}: a status tick says it is all held`);
        const root = about.find((r) => r.event === "root");
        if (root !== undefined) {
          roots++;
          assert.equal(root.component!.role, "root");
          assert.equal(root.component!.parent, "");
          assert.ok(ticks.some((c) => c.wan > 0), `${p.mac} ${xid}: the root fetched from the server`);
        }
        for (const j of about.filter((r) => r.event === "joined")) {
          assert.equal(j.component!.role, "attached");
          assert.ok(run.phones.some((o) => o.bind === j.component!.parent && o !== p), `${p.mac}: parent ${j.component!.parent} is a phone`);
          assert.ok(j.text!.includes(`parent=${j.component!.parent} `), j.text);
        }
      }
      assert.equal(lines.filter((r) => r.event === "loadDone").length >= 1, true, `${p.mac}: loadDone`);
      assert.ok(lines.find((r) => r.event === "loadDone")!.text!.includes("verified in flash and active"));
    }
    assert.ok(roots >= 1, "a root said so");
  } finally {
    await server.stop();
  }
});

/** A message's params in order, by kind: msgid, component or not, event. */
function shapes(got: Received[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of got) {
    const sd = /\[pfs@32473((?: [a-z]+="(?:[^"\\]|\\.)*")*)\]/.exec(g.raw)![1];
    const names = [...sd.matchAll(/ ([a-z]+)="/g)].map((m) => m[1]).join(",");
    const r = g.parsed.report;
    out.set(`${g.parsed.msgid} ${r.component === undefined ? "-" : "component"} ${r.event ?? "-"} sev${/^<(\d+)>/.exec(g.raw)![1]}`, names);
  }
  return out;
}

test("a Node and a C phone in one fleet: the same params in the same order", { skip: skipPhone ?? false, timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = mkdtempSync(join(work, "mixed-"));
  const server = await startRsyslogd(dir);
  if (typeof server === "string") return t.skip(server);
  try {
    const run = await runFleetProcesses({
      phones: 2, models: 1, load: "tiny", port: PORT + 1, lingerSec: 2, pfs: true, tftpWindow: 1, wanKbps: 400, wanRttMs: 20,
      verbose: false, out: () => {}, workDir: join(dir, "fleet"), native: { bin: NATIVE_PHONE_BIN, phones: (i) => i === 1 },
      logServer: { host: "127.0.0.1", port: server.port },
    });
    for (const p of run.phones) assert.equal(p.exit, 0, `${p.bind}: ${p.lines.slice(-3).join(" | ")}`);
    await settled(server);
    const by = receivedByMac(server);
    const [node, c] = run.phones;
    const ns = shapes(by.get(node.mac) ?? []);
    const cs = shapes(by.get(c.mac) ?? []);
    const common = [...ns.keys()].filter((k) => cs.has(k));
    // Lines without a component, with one, the loadDone, the status ticks at least.
    for (const must of ["line - - sev133", "status component - sev134", "line - loadDone sev133", "line component fileDone sev133"]) {
      assert.ok(common.includes(must), `both phones sent a "${must}" message (Node: ${[...ns.keys()].join("; ")} / C: ${[...cs.keys()].join("; ")})`);
    }
    for (const k of common) assert.equal(cs.get(k), ns.get(k), k);
    assert.equal(consoleLines(c).length, (by.get(c.mac) ?? []).filter((g) => g.parsed.msgid === "line").length);
    assert.equal(consoleLines(node).length, (by.get(node.mac) ?? []).filter((g) => g.parsed.msgid === "line").length);
  } finally {
    await server.stop();
  }
});
