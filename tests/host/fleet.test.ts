// A real fleet on this machine: 16 `pfs phone` processes on loopback
// (127.0.0.2 .. 127.0.0.17), two models, upgraded from our TFTP server through
// PFS. Each must exit 0 with the new load active in its flash, and the
// server must have seen exactly one read of each component per model: no
// phone but a root went to the server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFleetProcesses } from "../../host/phone/fleet.js";
import { assertBootsServerLoad } from "../support/images.js";

test("16 phones of 2 models upgrade through PFS; the server reads each component once per model", async (t) => {
  const lines: string[] = [];
  const workDir = mkdtempSync(join(tmpdir(), "pfs-fleet-test-"));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const r = await runFleetProcesses({
    workDir, phones: 16, models: 2, load: "tiny", port: 15051, lingerSec: 3, pfs: true, tftpWindow: 1, verbose: false,
    out: (l) => lines.push(l),
  });
  const failed = r.phones.filter((p) => p.exit !== 0);
  assert.deepEqual(failed.map((p) => `${p.bind}: ${p.lines.slice(-3).join(" | ")}`), []);
  for (const p of r.phones) {
    // Judged by the image itself against the server's files, not the phone's word.
    assertBootsServerLoad(p.flash, p.mac, join(workDir, "tftp"), p.bind);
    for (const [name, c] of p.components) {
      assert.equal(c.percent, 100, `${p.bind} ${name}`);
      assert.equal(c.via, "PFS");
    }
  }
  const components = [...r.requests.keys()].filter((f) => f.endsWith(".sbn"));
  assert.equal(components.length, 3);
  for (const f of components) {
    assert.equal(r.requests.get(f), 2, `${f}: ${r.requests.get(f)} reads`);
    assert.equal(r.requests.get(`${f}.blk`), 2, `${f}.blk`);
  }
});

test("with peer firmware sharing off every phone fetches every component itself", async () => {
  const r = await runFleetProcesses({
    phones: 4, models: 1, load: "tiny", port: 15052, lingerSec: 0, pfs: false, tftpWindow: 1, verbose: false, out: () => {},
  });
  assert.deepEqual(r.phones.filter((p) => p.exit !== 0).map((p) => p.lines.slice(-2).join(" | ")), []);
  for (const f of [...r.requests.keys()].filter((x) => x.endsWith(".sbn"))) assert.equal(r.requests.get(f), 4, f);
  for (const p of r.phones) for (const c of p.components.values()) assert.equal(c.via, "direct");
});
