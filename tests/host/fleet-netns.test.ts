// Phones on real interfaces, not loopback: five `pfs phone` processes, each
// in its own network namespace with eth0 on a port of one Linux bridge (the
// switch; every port shaped by tbf to the board's 100 Mbit/s, both ways),
// upgrade to the real-sized 7961 load from our TFTP server, which listens in
// this process on its own port of the same bridge. Election broadcasts go to
// the subnet's broadcast address and tree links are TCP between namespaces,
// on the real PFS port. Checked independently of what the phones say about
// themselves:
//   - no phone caught a bad block (honest phones, clean links);
//   - every flash image boots the new load, every component verified
//     (`pfs flash ls --json`), with the SHA-256 of the real component;
//   - the server saw exactly one read of each component and of its block
//     list, from a phone on the LAN, and every phone read its own config;
//   - the switch's counters: every phone's downlink carried at least the
//     load, the phones' uplinks together at least the load for every phone
//     but one (the copies went phone to phone), and the server's uplink
//     less than the load twice.
// Skips, saying why, where namespaces cannot be made (not root, no iproute2).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../../host/boards.js";
import { getPreset, presetFiles, presetLoadBytes } from "../../host/load/presets.js";
import { runFleetProcesses } from "../../host/phone/fleet.js";
import { PFS_PORT } from "../../host/phone/peer-host.js";
import { makeLan, whyNoNetns } from "../support/netns.js";

const PFS_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../../../bin/pfs.js");
const PHONES = 5;
const PRESET = "cp7961-9.4.2";

test("five phones in namespaces on a 100 Mbit/s bridge upgrade through PFS; the server reads each component once", async (t) => {
  const why = whyNoNetns();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const preset = getPreset(PRESET);
  const loadBytes = presetLoadBytes(preset);
  const components = presetFiles(preset, "41");
  const lan = makeLan({ hosts: PHONES, rateBitsPerSec: Number(loadBoard("third-gen").lanMbps) * 1e6, hostPort: true });
  const workDir = mkdtempSync(join(tmpdir(), "pfs-fleet-netns-"));
  try {
    const r = await runFleetProcesses({
      workDir,
      phones: PHONES, models: 1, load: PRESET, port: PFS_PORT, lingerSec: 3, pfs: true, tftpWindow: 1, verbose: false, out: () => {},
      net: { binds: lan.hosts.map((h) => h.addr), broadcast: lan.broadcast, wrap: lan.exec, serverHost: lan.hostAddr! },
    });
    assert.deepEqual(r.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind}: exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`), []);
    // Honest phones on a clean LAN: no block may ever fail its check (one did
    // when a host handed the core bytes that a later read overwrote).
    assert.deepEqual(r.phones.flatMap((p) => p.lines.filter((l) => / failed its SHA-256 check/.test(l)).map((l) => `${p.bind}: ${l}`)), []);

    // What the flash images boot, read back by the CLI.
    for (const p of r.phones) {
      const ls = spawnSync(process.execPath, [PFS_BIN, "flash", "ls", "--flash", p.flash, "--json"], { encoding: "utf8" });
      assert.equal(ls.status, 0, `${p.bind}: pfs flash ls: ${ls.stdout}${ls.stderr}`);
      const b = JSON.parse(ls.stdout) as { ok: boolean; loadName: string; components: Array<{ name: string; sha256: string; verified: boolean }> };
      assert.equal(b.ok, true, `${p.bind} boots a verified load`);
      assert.equal(b.loadName, preset.loadName, `${p.bind} boots the new load`);
      assert.deepEqual(
        b.components.map((c) => ({ name: c.name, sha256: c.sha256, verified: c.verified })),
        components.map((c) => ({ name: c.name, sha256: createHash("sha256").update(c.content).digest("hex"), verified: true })),
        `${p.bind}: every component, exactly`,
      );
      for (const [name, c] of p.components) assert.equal(c.via, "PFS", `${p.bind} ${name}`);
    }

    // One read per component (and block list), from a phone on the LAN.
    const reads = (f: string) => r.requests.get(f) ?? 0;
    for (const c of components) {
      assert.equal(reads(c.name), 1, `${c.name} was read ${reads(c.name)} times`);
      assert.equal(reads(`${c.name}.blk`), 1, `${c.name}.blk was read ${reads(`${c.name}.blk`)} times`);
    }
    const phoneAddrs = new Set(lan.hosts.map((h) => h.addr));
    const strangers = r.reads.filter((q) => !phoneAddrs.has(q.client));
    assert.deepEqual(strangers, [], "every read came from a phone on the LAN");
    for (const p of r.phones) {
      assert.ok(r.reads.some((q) => q.file === `SEP${p.mac}.cnf.xml` && q.client === p.bind), `${p.bind} read its own configuration`);
    }

    // The switch's counters.
    const sent = lan.sentBytes();
    for (const [i, h] of sent.hosts.entries()) assert.ok(h.down >= loadBytes, `${lan.hosts[i].addr}'s downlink carried ${h.down} bytes, less than the load (${loadBytes})`);
    const up = sent.hosts.reduce((sum, h) => sum + h.up, 0);
    assert.ok(up >= (PHONES - 1) * loadBytes, `the phones' uplinks carried ${up} bytes, less than ${PHONES - 1} loads`);
    assert.ok(sent.hostPort!.up < 2 * loadBytes, `the server's uplink carried ${sent.hostPort!.up} bytes: more than one load went out from the server`);
  } finally {
    lan.teardown();
    rmSync(workDir, { recursive: true, force: true });
  }
});
