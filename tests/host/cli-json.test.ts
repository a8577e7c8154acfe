// `pfs phone --json` and `pfs fleet --json`: stdout is one JSON object and
// nothing else; what it says is checked against what the test reads itself:
// the flash images (which load they boot) and its own TFTP server's log.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { TftpServer } from "../../host/tftp/server.js";
import { FACTORY_LOAD, factoryFlash, flashBoots, runPfs } from "../support/phone-proc.js";
import { freeUdpPort } from "../support/ports.js";

const MAC = "001BD4000001";

test("pfs phone --json: one object on stdout whose loads, outcome and components match the image and the server's log", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-phone-json-"));
  const root = join(dir, "root");
  const made = makeTftpRoot({ outDir: root, model: "CP-7961G", preset: "tiny", macs: [MAC], pfs: { enterprise: false } });
  const server = new TftpServer({ root, host: "127.0.0.1", port: 0 });
  const { port } = await server.start();
  t.after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const flash = join(dir, "p.flash");
  factoryFlash(flash);
  const pfsPort = await freeUdpPort();
  const r = await runPfs(["phone", "--mac", MAC, "--model", "CP-7961G", "--tftp", `127.0.0.1:${port}`, "--flash", flash,
    "--bind", "127.0.0.2", "--port", String(pfsPort), "--linger", "0", "--json"], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout); // the whole of stdout: one object, no console lines
  assert.match(r.stderr, /DLoad: /, "console lines went to stderr");
  const booted = flashBoots(flash);
  assert.equal(booted.verified, true);
  assert.deepEqual({ mac: out.mac, ip: out.ip, model: out.model, loadBefore: out.loadBefore, loadAfter: out.loadAfter, exit: out.exit, outcome: out.outcome },
    { mac: MAC, ip: "127.0.0.2", model: "CP-7961G", loadBefore: FACTORY_LOAD, loadAfter: booted.loadName, exit: 0, outcome: "upgraded" });
  // PFS off: every component straight from the server, as its log shows.
  const names = made.index.components.map((c) => c.name).sort();
  assert.deepEqual(Object.keys(out.components).sort(), names);
  for (const n of names) {
    assert.deepEqual([out.components[n].percent, out.components[n].via], [100, "direct"], n);
    assert.equal(server.requests.filter((q) => q.file === n).length, 1, `${n} read once`);
  }
  assert.ok(out.seconds > 0);
});

test("pfs fleet --json: per phone the same facts and the totals; a status line per phone on stderr", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-fleet-json-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pfsPort = await freeUdpPort();
  const r = await runPfs(["fleet", "--phones", "3", "--linger", "1", "--port", String(pfsPort), "--keep", dir, "--json"], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.ok, out.phones, out.upgraded, out.failed], [true, 3, 3, 0]);
  assert.equal(out.perPhone.length, 3);
  let serverBytes = 0;
  for (const p of out.perPhone) {
    // The image the fleet kept boots what the object says.
    const booted = flashBoots(join(dir, `${p.mac}.flash`));
    assert.equal(p.loadAfter, booted.loadName, p.mac);
    assert.equal(p.loadBefore, FACTORY_LOAD);
    assert.equal(p.outcome, "upgraded");
    assert.equal(Object.keys(p.components).length, 3, p.mac);
    serverBytes += p.serverBytes;
    // Its status line: MAC, address, result, seconds, how.
    assert.match(r.stderr, new RegExp(`^${p.mac} ${p.ip.replace(/\./g, "\\.")} +CP-7961G +node upgraded to ${p.loadAfter} +\\d+\\.\\d s  3 via PFS; \\d+ bytes from the server`, "m"));
  }
  assert.equal(out.serverBytes, serverBytes, "the totals add up");
  // One model: each component read once from the server, whoever was root.
  for (const [file, n] of Object.entries(out.serverReads)) if (file.endsWith(".sbn")) assert.equal(n, 1, file);
});
