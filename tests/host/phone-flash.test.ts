// The phone process (`pfs phone`) on flash that fails, and through a trial
// that does not come up. Each fault kind once: the phone retries, says so in
// one console line, and finishes; for good: it exits 1 with one line and the
// old load stays active. A trial whose phone cannot read its configuration
// is not confirmed, and the next power-up boots the old load again. Every
// verdict is read back from the image here (`pfs flash ls --json`, the
// server's files), not taken from the phone's lines.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../../host/boards.js";
import { AbStore } from "../../host/flash/ab-store.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, slotFirstSector } from "../../host/flash/layout.js";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { TftpServer } from "../../host/tftp/server.js";
import { assertBootsServerLoad, bootedLoad } from "../support/images.js";

const PFS_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../../../bin/pfs.js");
const layout = boardLayout(loadBoard("third-gen"));
/** Slot B's component sectors (after its manifest's). */
const B = `${slotFirstSector(layout, 1) + layout.manifestSectors}-${slotFirstSector(layout, 1) + layout.slotSectors - 1}`;
const FACTORY = "SCCP41.FACTORY";
const MODEL = "CP-7961G";

interface Ls {
  ok: boolean;
  loadName: string;
  state: string;
  slots: Array<{ slot: string; state: string; why: string }>;
}

function factoryImage(path: string): void {
  const dev = FileDevice.create(path, layout.sectorBytes, layout.totalSectors);
  AbStore.format(dev, layout, { loadName: FACTORY, components: presetFiles(getPreset("tiny")).map((f) => ({ name: f.name, bytes: f.content })) });
  dev.close();
}

interface Run {
  code: number;
  lines: string[];
  stderr: string[];
}

/** One `pfs phone`; `until` kills it with SIGKILL at the first line that matches. */
function phone(mac: string, i: number, tftp: { host: string; port: number }, flash: string, extra: string[] = [], until?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PFS_BIN, "phone", "--mac", mac, "--model", MODEL, "--tftp", `${tftp.host}:${tftp.port}`, "--flash", flash,
      "--bind", `127.0.0.${60 + i}`, "--port", String(18100 + i), "--linger", until === undefined ? "0" : "30", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    const run: Run = { code: -1, lines: [], stderr: [] };
    const take = (into: string[]) => (d: Buffer) => {
      for (const line of d.toString().split("\n")) {
        if (line === "") continue;
        into.push(line);
        if (until !== undefined && until.test(line)) child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", take(run.lines));
    child.stderr.on("data", take(run.stderr));
    child.on("close", (code, signal) => resolve({ ...run, code: code ?? (signal === "SIGKILL" ? 137 : 1) }));
  });
}

const FAULTS: Array<{ spec: string; ok: boolean; line: RegExp }> = [
  { spec: `write:3@${B}`, ok: true, line: /flash: program of \d+ bytes at 0x[0-9a-f]+ failed \(EIO\); took on attempt 2 of 3/ },
  { spec: `write:3x*@${B}`, ok: false, line: /flash image .*: writing \S+ at \d+: program of \d+ bytes at 0x[0-9a-f]+ failed 3 times \(EIO/ },
  { spec: `read:4@${B}`, ok: true, line: /flash: read of \d+ bytes at 0x[0-9a-f]+ failed \(EIO\); took on attempt 2 of 3/ },
  { spec: `read:4x*@${B}`, ok: false, line: /flash image .*: read of \d+ bytes at 0x[0-9a-f]+ failed 3 times \(EIO/ },
  { spec: `flip:2@${B}`, ok: true, line: /flash: the read-back of \d+ bytes at 0x[0-9a-f]+ disagreed, then read as written \(a bit flipped on read\)/ },
  { spec: `erase:1@${B}`, ok: true, line: /flash: erase of sector \d+ did not take: byte \d+ read 0x[0-9a-f]{2}; took on attempt 2 of 3/ },
  { spec: `erase:1x*@${B}`, ok: false, line: /flash image .*: erase of sector \d+ does not take: byte \d+ reads 0x[0-9a-f]{2} after 3 attempts/ },
  { spec: `full:20000@${B}`, ok: false, line: /flash image .*: program of \d+ bytes at 0x[0-9a-f]+: no space left \(ENOSPC\)/ },
];

test("pfs phone on failing flash: a fault once is retried and reported in one line; for good, one line, exit 1, the old load active", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-phone-flash-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const macs = FAULTS.map((_, i) => `001BD4F000${String(i).padStart(2, "0")}`);
  const root = join(dir, "tftp");
  makeTftpRoot({ outDir: root, model: MODEL, preset: "tiny", macs, pfs: { enterprise: false } });
  const server = new TftpServer({ root, host: "127.0.0.1", port: 0 });
  const tftp = await server.start();
  try {
    const runs = await Promise.all(FAULTS.map((f, i) => {
      const img = join(dir, `${i}.img`);
      factoryImage(img);
      return phone(macs[i], i, tftp, img, ["--flash-faults", f.spec]);
    }));
    FAULTS.forEach((f, i) => {
      const r = runs[i];
      const img = join(dir, `${i}.img`);
      const what = `${f.spec}: exit ${r.code}: ${[...r.lines.filter((l) => !/^(DBG|INF) /.test(l)), ...r.stderr].join(" | ")}`;
      const ls = bootedLoad(img) as unknown as Ls;
      if (f.ok) {
        assert.equal(r.code, 0, what);
        const warned = r.lines.filter((l) => / DLoad: flash: /.test(l));
        assert.equal(warned.length, 1, `${what}: one line for the fault`);
        assert.match(warned[0], f.line, what);
        assertBootsServerLoad(img, macs[i], root, f.spec);
        assert.equal(ls.state, "active", `${what}: confirmed`);
      } else {
        assert.equal(r.code, 1, what);
        assert.equal(r.stderr.length, 1, `${what}: one line on stderr`);
        assert.match(r.stderr[0], f.line, what);
        assert.equal(ls.ok, true, what);
        assert.equal(ls.loadName, FACTORY, `${what}: the old load stays active`);
        assert.ok(["bad", "empty"].includes(ls.slots[1].state), `${what}: slot B ${ls.slots[1].state}`);
      }
    });
  } finally {
    await server.stop();
  }
});

test("pfs phone: a trial that cannot come up (its server gives no configuration) is reverted at the next power-up; then it upgrades again and confirms", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-phone-trial-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mac = "001BD4F00100";
  const root = join(dir, "tftp");
  makeTftpRoot({ outDir: root, model: MODEL, preset: "tiny", macs: [mac], pfs: { enterprise: false } });
  const empty = join(dir, "empty");
  mkdirSync(empty);
  const img = join(dir, "phone.img");
  factoryImage(img);
  const good = new TftpServer({ root, host: "127.0.0.1", port: 0 });
  const bare = new TftpServer({ root: empty, host: "127.0.0.1", port: 0 });
  const [g, e] = [await good.start(), await bare.start()];
  try {
    // Upgrade, and lose power while lingering: committed, not yet tried.
    const first = await phone(mac, 20, g, img, [], /verified in flash and active from the next boot, on trial/);
    assert.equal(first.code, 137);
    let ls = bootedLoad(img) as unknown as Ls;
    assert.deepEqual([ls.state, ls.slots.map((s) => s.state)], ["trial", ["confirmed", "trial"]]);
    // Power up where the server has no configuration: the trial boots and does not come up.
    const second = await phone(mac, 21, e, img);
    assert.equal(second.code, 1);
    assert.ok(second.lines.some((l) => /booted SCCP41\.TINY from slot B on trial/.test(l)), second.lines.join("\n"));
    assert.ok(!second.lines.some((l) => /came up on trial/.test(l)));
    assert.equal(second.stderr.length, 1, second.stderr.join("\n"));
    ls = bootedLoad(img) as unknown as Ls;
    assert.equal(ls.loadName, FACTORY, "the next power-up boots the old load");
    assert.deepEqual(ls.slots.map((s) => s.state), ["active", "bad"]);
    assert.match(ls.slots[1].why, /never confirmed: reverted/);
    // Back on a good server: it boots the old load, upgrades again, comes up, confirms.
    const third = await phone(mac, 22, g, img);
    assert.equal(third.code, 0, third.stderr.join("\n"));
    assert.match(third.lines.find((l) => / DLoad: booted /.test(l)) ?? "", /booted SCCP41\.FACTORY from slot A: .*names slot B on trial: booted once and never confirmed \(reverted\)/);
    assert.ok(third.lines.some((l) => /came up on trial .* confirmed in slot B/.test(l)));
    assertBootsServerLoad(img, mac, root);
    assert.equal((bootedLoad(img) as unknown as Ls).state, "active");
  } finally {
    await good.stop();
    await bare.stop();
  }
});
