// The syslog formatter and parser (host/log/syslog.ts, docs/LOGGING.md):
// the exact bytes we send, a round trip, RFC 5424 §6.3.3 escaping, every
// field bound, and hostile input that only ever raises SyslogParseError.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatSyslog, MAX_DATAGRAM_BYTES, parseSyslog, SyslogParseError,
} from "../../host/log/syslog.js";
import type { PhoneReport } from "../../host/view/report.js";

const AT = Date.UTC(2026, 11, 7, 2, 19, 24, 412);

function lineReport(): PhoneReport {
  return {
    atMs: AT, mac: "001BD4000001", ip: "127.0.0.2", load: "SCCP41.9-4-2SR3", level: "NOT",
    text: "NOT 00:00:01.234 DLoad: @@@HROOT:XID080027F8 m=CP-7961G ROOT=127.0.0.2 apps41.sbn",
    component: { xid: "XID080027F8", model: "CP-7961G", file: "apps41.sbn", role: "root", held: 4096, size: 65536, parent: "", depth: 0, wan: 4160, done: false },
    event: "root",
  };
}

const rejects = (input: string | Uint8Array, reason: RegExp) => {
  assert.throws(() => parseSyslog(input), (e: unknown) => e instanceof SyslogParseError && reason.test(e.reason), `expected ${reason}`);
};

test("a line is written exactly as docs/LOGGING.md says", () => {
  assert.equal(
    formatSyslog(lineReport(), "line"),
    '<133>1 2026-12-07T02:19:24.412Z SEP001BD4000001 pfs - line [pfs@32473 ip="127.0.0.2" load="SCCP41.9-4-2SR3" xid="XID080027F8" model="CP-7961G" file="apps41.sbn" role="root" held="4096" size="65536" parent="" depth="0" wan="4160" done="0" event="root"] NOT 00:00:01.234 DLoad: @@@HROOT:XID080027F8 m=CP-7961G ROOT=127.0.0.2 apps41.sbn',
  );
  // local0 (16) * 8 + the level's severity.
  for (const [level, pri] of [["ERR", 131], ["WRN", 132], ["NOT", 133], ["INF", 134], ["DBG", 135]] as const) {
    assert.ok(formatSyslog({ ...lineReport(), level }, "line").startsWith(`<${pri}>1 `), level);
  }
});

test("a status tick has no MSG and round-trips without text", () => {
  const { text: _t, level: _l, event: _e, ...tick } = lineReport();
  const s = formatSyslog(tick, "status");
  assert.ok(s.endsWith('done="0"]'), s);
  const back = parseSyslog(s);
  assert.equal(back.msgid, "status");
  assert.deepEqual(back.report, tick);
});

test("round trip: line with and without a component, from bytes and from text", () => {
  const full = lineReport();
  assert.deepEqual(parseSyslog(formatSyslog(full, "line")), { report: full, msgid: "line" });
  const bare: PhoneReport = { atMs: AT, mac: "001BD4000002", ip: "10.0.0.1", load: "", level: "WRN", text: "WRN 00:00:00.001 DLoad: SEP001BD4000002.cnf.xml not found" };
  assert.deepEqual(parseSyslog(Buffer.from(formatSyslog(bare, "line"))).report, bare);
});

test('escaping: ", \\ and ] in values survive; an unescaped ] is refused', () => {
  const r = lineReport();
  r.load = 'we"ird\\lo]ad';
  r.component!.file = "]]\\\"";
  const s = formatSyslog(r, "line");
  assert.ok(s.includes('load="we\\"ird\\\\lo\\]ad"'), s);
  assert.deepEqual(parseSyslog(s).report, r);
  // §6.3.3: a backslash before another character is kept as it is.
  const other = formatSyslog(lineReport(), "line").replace('load="SCCP41.9-4-2SR3"', 'load="a\\nb"');
  assert.equal(parseSyslog(other).report.load, "a\\nb");
  rejects(formatSyslog(lineReport(), "line").replace('load="SCCP41.9-4-2SR3"', 'load="a]b"'), /unescaped/);
});

test("a long console line is cut to fit one datagram; control characters become '?'", () => {
  const r = { ...lineReport(), text: `INF x\u0007y ${"z".repeat(5000)}` };
  const s = formatSyslog(r, "line");
  assert.equal(Buffer.byteLength(s), MAX_DATAGRAM_BYTES);
  const back = parseSyslog(s).report;
  assert.ok(back.text!.startsWith("INF x?y zzz"));
  rejects(s + "z", /2049 bytes/);
});

test("every header bound of RFC 5424 §6 is enforced", () => {
  const good = formatSyslog(lineReport(), "line");
  const swap = (from: string, to: string) => good.replace(from, to);
  rejects(swap("<133>", "<192>"), /PRI 192/);
  rejects(swap("<133>", "<0133>"), /PRI is not/);
  rejects(swap("<133>", "<>"), /PRI is not/);
  assert.equal(parseSyslog(swap("<133>", "<191>")).report.level, "DBG");
  rejects(swap(">1 ", ">2 "), /VERSION/);
  rejects(swap(">1 ", ">11 "), /space after VERSION/);
  rejects(swap("2026-12-07T02:19:24.412Z", "-"), /TIMESTAMP/);
  rejects(swap("2026-12-07T02:19:24.412Z", "2026-02-30T02:19:24Z"), /out of range/);
  rejects(swap("2026-12-07T02:19:24.412Z", "2026-12-07T02:19:60Z"), /out of range/);
  rejects(swap("2026-12-07T02:19:24.412Z", "2026-12-07T02:19:24.1234567Z"), /not an RFC 3339/);
  assert.equal(parseSyslog(swap("2026-12-07T02:19:24.412Z", "2026-12-07T03:19:24.412+01:00")).report.atMs, AT);
  rejects(swap("SEP001BD4000001", `SEP${"A".repeat(253)}`), /HOSTNAME is longer than 255/);
  rejects(swap("SEP001BD4000001", "SEP001bd4000001"), /HOSTNAME/);
  rejects(swap(" pfs ", ` ${"p".repeat(49)} `), /APP-NAME is longer than 48/);
  rejects(swap(" pfs ", " sshd "), /APP-NAME 'sshd'/);
  rejects(swap(" - line ", ` ${"9".repeat(129)} line `), /PROCID is longer than 128/);
  assert.equal(parseSyslog(swap(" - line ", ` ${"9".repeat(128)} line `)).msgid, "line");
  rejects(swap(" line ", ` ${"l".repeat(33)} `), /MSGID is longer than 32/);
  rejects(swap(" line ", " other "), /neither line nor status/);
  rejects(swap("[pfs@32473 ", `[${"x".repeat(33)} `), /SD-ID is longer than 32/);
  rejects(swap(' ip="', ` ${"i".repeat(33)}="1" ip="`), /PARAM-NAME is longer than 32/);
  rejects(swap(' ip="', ' load="x" ip="'), /appears twice/);
  rejects(swap("[pfs@32473 ", '[other@1 a="b"][other@1 a="c"][pfs@32473 '), /SD-ID other@1 appears twice/);
  assert.equal(parseSyslog(swap("[pfs@32473 ", '[other@1 a="b"][pfs@32473 ')).report.ip, "127.0.0.2");
  rejects(swap("[pfs@32473 ", "[other@1 "), /no \[pfs@32473/);
  rejects(swap(' load="SCCP41.9-4-2SR3"', ` load="${"a".repeat(1025)}"`), /longer than 1024/);
});

test("our own fields are checked: roles, events, counts, addresses, done", () => {
  const good = formatSyslog(lineReport(), "line");
  const swap = (from: string, to: string) => good.replace(from, to);
  rejects(swap('role="root"', 'role="king"'), /role 'king'/);
  rejects(swap('event="root"', 'event="boom"'), /event 'boom'/);
  rejects(swap('held="4096"', 'held="-1"'), /not a count/);
  rejects(swap('held="4096"', 'held="0x10"'), /not a count/);
  rejects(swap('held="4096"', `held="${"9".repeat(16)}"`), /not a count/);
  rejects(swap('ip="127.0.0.2"', 'ip="127.0.0.256"'), /IPv4/);
  rejects(swap('parent=""', 'parent="host"'), /IPv4/);
  rejects(swap('done="0"', 'done="yes"'), /neither 0 nor 1/);
  rejects(swap(' wan="4160"', ""), /param wan is missing/);
  rejects(swap('xid="XID080027F8"', 'xid="XID80027F8"'), /xid/);
  rejects(good.replace(/\] NOT .*$/, "]"), /without its MSG/);
  rejects(swap("<133>", "<130>"), /severity 2/);
});

test("hostile input: only SyslogParseError, whatever the bytes", () => {
  const good = Buffer.from(formatSyslog(lineReport(), "line"));
  rejects(new Uint8Array([0xff, 0xfe, 0x00]), /not UTF-8/);
  rejects("", /'<'/);
  rejects(`${good.toString()}\nsecond line`, /control character 10/);
  rejects(good.toString().replace('ip="', 'ip="\t'), /control character 9/);
  rejects(new Uint8Array(MAX_DATAGRAM_BYTES + 1), /at most 2048/);
  // Every prefix, and a seeded stream of byte mutations of a good message.
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const inputs: Uint8Array[] = [];
  for (let n = 0; n < good.length; n++) inputs.push(good.subarray(0, n));
  for (let i = 0; i < 5000; i++) {
    const m = Buffer.from(good);
    for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
    inputs.push(m);
  }
  let parsed = 0;
  for (const input of inputs) {
    try {
      parseSyslog(input);
      parsed++;
    } catch (e) {
      assert.ok(e instanceof SyslogParseError, `threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    }
  }
  // Mutations inside the MSG still parse: the fuzzing reached past the header.
  assert.ok(parsed > 0 && parsed < inputs.length, `${parsed} of ${inputs.length} parsed`);
});
