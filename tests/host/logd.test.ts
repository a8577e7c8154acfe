// `pfs logd` as a library (host/logd/logd.ts): real datagrams in on a
// loopback socket (valid reports of three phones, RFC 3164 lines, other
// apps' RFC 5424, oversize, binary, empty), files out. Judged by reading the
// files: every valid message in its phone's file, byte for byte and in
// order; every other datagram in malformed.log, its bytes recoverable;
// the counts right; nothing lost, nothing else written.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLogd } from "../../host/logd/logd.js";
import { MALFORMED_FILE, unescapeRaw } from "../../host/logd/store.js";
import { formatSyslog } from "../../host/log/syslog.js";
import type { PhoneReport } from "../../host/view/report.js";

/** Polls of the store until every datagram sent is accounted for. */
const WAIT_POLLS = 100;

function report(mac: string, i: number, held: number): PhoneReport {
  return {
    atMs: Date.UTC(2026, 11, 7) + i * 1000, mac, ip: `127.0.0.${parseInt(mac.slice(-2), 16) + 1}`, load: "SCCP41.9-4-2SR3",
    component: { xid: "XID080027F8", model: "CP-7961G", file: "apps41.sbn", role: i === 0 ? "root" : "attached", held, size: 1000, parent: "", depth: 0, wan: 0, done: held === 1000 },
  };
}

test("logd stores every valid message in its phone's file and every other datagram in malformed.log", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-logd-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const printed: string[] = [];
  const logd = await runLogd({ listen: { host: "127.0.0.1", port: 0 }, out: join(dir, "logs"), print: (l) => printed.push(l) });
  t.after(() => logd.close());

  const macs = ["001BD4000001", "001BD4000002", "001BD4000003"];
  const valid = new Map<string, string[]>(macs.map((m) => [m, []]));
  const malformed: Buffer[] = [];
  const datagrams: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    for (const mac of macs) {
      const r = report(mac, i, Math.min(1000, i * 60));
      const s = i % 3 === 0 ? formatSyslog({ ...r, level: "INF", text: `INF 00:00:0${i % 10}.000 DLoad: line ${i} "quoted" ]` }, "line") : formatSyslog(r, "status");
      valid.get(mac)!.push(s);
      datagrams.push(Buffer.from(s));
    }
  }
  const bad = [
    Buffer.from("<13>Dec  7 02:19:24 myhost su: an RFC 3164 line"),
    Buffer.from('<134>1 2026-12-07T02:19:24.412Z SEP001BD4000001 sshd - line [pfs@32473 ip="127.0.0.2" load=""] another app'),
    Buffer.from(`${valid.get(macs[0])![1]}${" pad".repeat(600)}`), // oversize: over 2048 bytes
    Buffer.from([0, 1, 2, 10, 13, 0x5c, 0x78, 0x34, 0x31, 0xff, 0xfe, 0x80]), // binary, with a newline and a literal "\x41"
    Buffer.from(`${valid.get(macs[1])![0]}\nsecond line`),
    Buffer.alloc(0),
  ];
  // Interleaved with the valid ones, as a real site's log server sees them.
  for (const [k, b] of bad.entries()) {
    datagrams.splice(k * 9 + 1, 0, b);
    malformed.push(b);
  }
  const s = createSocket("udp4");
  for (const d of datagrams) await new Promise<void>((res) => s.send(d, logd.address.port, "127.0.0.1", () => res()));
  s.close();
  for (let i = 0; i < WAIT_POLLS && logd.store.stored + logd.store.malformed < datagrams.length; i++) await new Promise((r) => setTimeout(r, 50));

  assert.equal(logd.store.stored, 60);
  assert.equal(logd.store.malformed, bad.length);
  const files = readdirSync(join(dir, "logs")).sort();
  assert.deepEqual(files, [...macs.map((m) => `SEP${m}.log`), MALFORMED_FILE].sort());
  for (const mac of macs) {
    const lines = readFileSync(join(dir, "logs", `SEP${mac}.log`), "utf8").split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines, valid.get(mac), `SEP${mac}.log`);
  }
  // Each malformed datagram is one line: a note, a tab, its bytes escaped.
  const kept = readFileSync(join(dir, "logs", MALFORMED_FILE), "utf8").split("\n");
  assert.equal(kept.pop(), "");
  assert.equal(kept.length, bad.length);
  assert.deepEqual(kept.map((l) => unescapeRaw(l.slice(l.indexOf("\t") + 1))), malformed);
  assert.match(kept[0], /127\.0\.0\.1:\d+ 47 bytes: /);
  assert.match(kept[1], /APP-NAME 'sshd'/);
  assert.match(kept[2], /bytes; at most 2048/);
  assert.match(kept[3], /not UTF-8/);
  assert.match(kept[4], /control character 10/);

  // The summary, printed at close: one line per phone, then the totals.
  await logd.close();
  const last = printed.slice(-4);
  assert.match(last[0], /^001BD4000001 127\.0\.0\.2 +SCCP41\.9-4-2SR3 +attached +100% .* -$/);
  assert.equal(last[3], "3 phones, 60 messages stored, 6 malformed (kept in malformed.log)");
});
