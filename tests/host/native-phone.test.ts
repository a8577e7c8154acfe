// The C phone (build/native/pfs-phone) against our TFTP server: it upgrades
// the tiny load through PFS (alone, it becomes root and fetches) and
// directly, its image judged by the server's files and by Node's
// `pfs flash ls`; wrong arguments are one line. Skipped, saying why, when the
// C toolchain cannot be installed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { TftpServer } from "../../host/tftp/server.js";
import { assertBootsServerLoad } from "../support/images.js";
import { ensurePhoneTool } from "../support/native.js";
import { factoryFlash, PFS_BIN } from "../support/phone-proc.js";

const BIN = "build/native/pfs-phone";
const MODEL = "CP-7961G";

interface Run { code: number; out: string[]; err: string[] }

function native(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(killer);
      const lines = (s: string) => s.split("\n").filter((l) => l !== "");
      resolve({ code: code ?? 137, out: lines(out), err: lines(err) });
    });
  });
}

function flashLs(img: string): { ok: boolean; loadName: string; state: string } {
  const r = spawnSync(process.execPath, [PFS_BIN, "flash", "ls", "--flash", img, "--json"], { encoding: "utf8" });
  return JSON.parse(r.stdout);
}

async function upgradeOnce(t: { after: (fn: () => void) => void }, pfs: boolean, i: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "pfs-native-phone-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mac = `001BD4C0000${i}`;
  const root = join(dir, "tftp");
  makeTftpRoot({ outDir: root, model: MODEL, preset: "tiny", macs: [mac], pfs: { enterprise: pfs } });
  const server = new TftpServer({ root, host: "127.0.0.1", port: 0 });
  const tftp = await server.start();
  try {
    const img = join(dir, "phone.img");
    factoryFlash(img);
    const args = ["--mac", mac, "--model", MODEL, "--tftp", `127.0.0.1:${tftp.port}`, "--flash", img, "--bind", `127.0.0.${70 + i}`,
      "--port", String(18300 + i), "--linger", "0"];
    const r = await native(args);
    const what = `exit ${r.code}: ${[...r.out.filter((l) => !/^DBG /.test(l)), ...r.err].join("\n")}`;
    assert.equal(r.code, 0, what);
    assert.ok(r.out.some((l) => new RegExp(` need \\S+ \\(\\d+ bytes\\) ${pfs ? "through PFS" : "directly from the server"}$`).test(l)), what);
    assert.ok(r.out.some((l) => /verified in flash and active from the next boot/.test(l)), what);
    // Alone, it roots every file: confirmed, or (a fast server) done as a
    // tentative root before its confirmation is due.
    if (pfs) assert.ok(r.out.some((l) => /@@@HROOT:|Tentative root fetching while it claims/.test(l)), `${what}: it became root`);
    assertBootsServerLoad(img, mac, root);
    const ls = flashLs(img);
    assert.equal(ls.ok, true);
    assert.equal(ls.state, "active", "confirmed after the in-process reboot");
    const again = await native(args);
    assert.equal(again.code, 0, again.err.join("\n"));
    assert.ok(again.out.some((l) => /: no upgrade needed$/.test(l)), again.out.join("\n"));
  } finally {
    await server.stop();
  }
}

test("native phone: upgrades the tiny load through PFS from our TFTP server, then needs no upgrade", async (t) => {
  const why = ensurePhoneTool(BIN);
  if (why !== null) return t.skip(why);
  await upgradeOnce(t, true, 1);
});

test("native phone: PFS off, directly from the server", async (t) => {
  const why = ensurePhoneTool(BIN);
  if (why !== null) return t.skip(why);
  await upgradeOnce(t, false, 2);
});

test("native phone: wrong arguments are one line and the usage, exit 2", async (t) => {
  const why = ensurePhoneTool(BIN);
  if (why !== null) return t.skip(why);
  for (const args of [["--mac", "12"], ["--bogus", "1"], ["--mac", "001BD4C00009", "--model", MODEL, "--flash", "x"]]) {
    const r = await native(args, 10_000);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err[0], /^pfs-phone: /, args.join(" "));
    assert.match(r.err.join("\n"), /usage: pfs-phone/);
  }
});
