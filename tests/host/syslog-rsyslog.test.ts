// 4 phones upgrade over real sockets with `<logServer>` in their
// configuration pointing at Debian's rsyslogd (tests/support/rsyslogd.ts).
// Read back from rsyslogd's own files: every phone's lines arrive under its
// HOSTNAME SEP<MAC>, parse, and are exactly the console lines that phone
// printed; rsyslog itself parsed them as RFC 5424 (its re-formatted copy
// parses too); and the structured data tells the story: a root per
// hierarchy, children whose parent is a phone of the fleet, every
// component's held reaching its size, one loadDone per phone.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { parseSyslog, type ParsedSyslog } from "../../host/log/syslog.js";
import { fleetPhones, runFleetProcesses } from "../../host/phone/fleet.js";
import { freeUdpPort } from "../support/ports.js";
import { startRsyslogd } from "../support/rsyslogd.js";

const PHONES = 4;
const MODELS = 2;
/** Polls of rsyslogd's file after the fleet ends, until it stops growing. */
const SETTLE_POLLS = 50;

async function settled(read: () => string[]): Promise<string[]> {
  let last = -1;
  for (let i = 0; i < SETTLE_POLLS; i++) {
    const lines = read();
    if (lines.length === last) return lines;
    last = lines.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  return read();
}

test("4 phones log to rsyslogd: every console line arrives, parses and carries the tree", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-rsyslog-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rs = await startRsyslogd(join(dir));
  if (typeof rs === "string") {
    t.skip(rs);
    return;
  }
  t.after(() => rs.stop());
  const root = join(dir, "tftp");
  const phones = fleetPhones(PHONES, MODELS);
  for (const model of new Set(phones.map((p) => p.model))) {
    makeTftpRoot({
      outDir: root, model, preset: "tiny", macs: phones.filter((p) => p.model === model).map((p) => p.mac), pfs: { enterprise: true },
      logServer: { host: "127.0.0.1", port: rs.port },
    });
  }
  const r = await runFleetProcesses({
    workDir: join(dir, "images"), root, phones: PHONES, models: MODELS, load: "tiny", port: await freeUdpPort(), lingerSec: 3, pfs: true,
    tftpWindow: 1, verbose: false, out: () => {},
  });
  assert.deepEqual(r.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind}: ${p.lines.slice(-2).join(" | ")}`), []);

  const raw = await settled(() => rs.lines());
  const messages: ParsedSyslog[] = raw.map((l) => parseSyslog(l));
  // rsyslog's own RFC 5424 parse of each message, written back out, is ours again.
  const reparsed = rs.parsed().map((l) => parseSyslog(l));
  assert.equal(reparsed.length, messages.length);
  assert.deepEqual(reparsed.map((m) => m.report.mac).sort(), messages.map((m) => m.report.mac).sort());

  const ips = new Set(r.phones.map((p) => p.bind));
  for (const p of r.phones) {
    const mine = messages.filter((m) => m.report.mac === p.mac);
    assert.ok(mine.every((m) => m.report.ip === p.bind), `${p.mac}: ip`);
    // Exactly the lines it printed, each once (UDP on loopback loses nothing here).
    const texts = mine.filter((m) => m.msgid === "line").map((m) => m.report.text!);
    assert.deepEqual([...texts].sort(), [...p.lines].sort(), `${p.mac}: its syslog lines are not its console lines`);
    assert.equal(mine.filter((m) => m.report.event === "loadDone").length, 1, `${p.mac}: loadDone`);
    const ticks = mine.filter((m) => m.msgid === "status");
    assert.ok(ticks.length > 0, `${p.mac}: no status tick`);
    const files = new Set(ticks.map((m) => m.report.component!.file));
    for (const file of files) {
      const last = ticks.filter((m) => m.report.component!.file === file).at(-1)!.report.component!;
      assert.equal(last.held, last.size, `${p.mac} ${file}: held ${last.held} of ${last.size}`);
      assert.equal(last.done, true, `${p.mac} ${file}: done`);
      assert.equal(mine.filter((m) => m.report.event === "fileDone" && m.report.component?.file === file).length, 1, `${p.mac} ${file}: fileDone`);
    }
  }
  // Per hierarchy (XID): one root, whose SD says so, and every other phone of
  // that model attached below a phone of the fleet.
  const byXid = new Map<string, ParsedSyslog[]>();
  for (const m of messages) if (m.report.component !== undefined) byXid.set(m.report.component.xid, [...(byXid.get(m.report.component.xid) ?? []), m]);
  assert.equal(byXid.size, 6, `hierarchies: ${[...byXid.keys()].join(" ")}`); // 3 files of the tiny load, 2 models
  for (const [xid, ms] of byXid) {
    const roots = new Set(ms.filter((m) => m.report.event === "root" && m.report.component!.role === "root").map((m) => m.report.mac));
    assert.ok(roots.size >= 1, `${xid}: no root`);
    const children = ms.filter((m) => m.report.component!.role === "attached");
    assert.ok(children.length > 0, `${xid}: no child`);
    for (const c of children) {
      assert.ok(ips.has(c.report.component!.parent), `${xid}: parent ${c.report.component!.parent}`);
      assert.ok(c.report.component!.depth >= 1);
    }
    // WAN bytes: the phones that say they fetched this file are the ones
    // the server's own record shows reading it, and a root read it whole.
    const { file, model, size } = ms[0].report.component!;
    const wan = (mac: string) => Math.max(...ms.filter((m) => m.report.mac === mac).map((m) => m.report.component!.wan));
    const fetchers = new Set([...new Set(ms.map((m) => m.report.mac))].filter((mac) => wan(mac) > 0).map((mac) => r.phones.find((p) => p.mac === mac)!.bind));
    const readers = new Set(r.reads.filter((q) => q.file === file && r.phones.find((p) => p.bind === q.client)?.model === model).map((q) => q.client));
    assert.deepEqual([...fetchers].sort(), [...readers].sort(), `${xid}: who fetched ${file}`);
    assert.ok([...roots].some((mac) => wan(mac) >= size), `${xid}: no root read ${file} whole`);
  }
});
