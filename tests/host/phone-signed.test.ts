// A phone configured with a public key accepts only a load whose index that
// key signed: with the right key it upgrades, with another it refuses and
// keeps its old load active.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../../host/boards.js";
import { AbStore } from "../../host/flash/ab-store.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, layoutBytes } from "../../host/flash/layout.js";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { TftpServer } from "../../host/tftp/server.js";

const PFS_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../../../bin/pfs.js");
const MAC = "001BD4000001";

function factoryFlash(path: string): void {
  const layout = boardLayout(loadBoard("third-gen"));
  const dev = FileDevice.create(path, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  AbStore.format(dev, layout, { loadName: "SCCP41.FACTORY", components: presetFiles(getPreset("tiny")).map((f) => ({ name: f.name, bytes: f.content })) });
}

function phone(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PFS_BIN, "phone", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

test("a signed index is required when the phone has a key", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-signed-"));
  const signer = generateKeyPairSync("ed25519");
  const other = generateKeyPairSync("ed25519");
  writeFileSync(join(dir, "good.pem"), signer.publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(join(dir, "other.pem"), other.publicKey.export({ type: "spki", format: "pem" }));
  const root = join(dir, "root");
  makeTftpRoot({ outDir: root, model: "CP-7961G", preset: "tiny", macs: [MAC], pfs: { enterprise: true }, signingKey: signer.privateKey });
  const server = new TftpServer({ root, host: "127.0.0.1", port: 0 });
  const { port } = await server.start();
  try {
    const common = ["--mac", MAC, "--model", "CP-7961G", "--tftp", `127.0.0.1:${port}`, "--bind", "127.0.0.2", "--port", "18051", "--linger", "0"];
    // The wrong key: refused, nothing changes in flash.
    factoryFlash(join(dir, "a.flash"));
    const bad = await phone([...common, "--flash", join(dir, "a.flash"), "--loads-key", join(dir, "other.pem")]);
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /signature does not verify with the configured key/);
    const store = AbStore.open(FileDevice.open(join(dir, "a.flash"), 65536, 514), boardLayout(loadBoard("third-gen")));
    assert.equal(store.boot().manifest?.loadName, "SCCP41.FACTORY");
    // The right key: upgraded.
    factoryFlash(join(dir, "b.flash"));
    const good = await phone([...common, "--flash", join(dir, "b.flash"), "--loads-key", join(dir, "good.pem")]);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /signature verified/);
    assert.match(good.out, /verified in flash and active/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
