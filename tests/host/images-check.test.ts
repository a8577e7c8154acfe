// The check the fleet tests judge by (tests/support/images.ts) fires when a
// phone did not really upgrade: an image still on its factory load, and an
// image whose component differs by one byte from the server's file.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoard } from "../../host/boards.js";
import { AbStore } from "../../host/flash/ab-store.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, layoutBytes } from "../../host/flash/layout.js";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { assertBootsServerLoad } from "../support/images.js";

const MAC = "001BD4100000";

function imageWith(path: string, loadName: string, files: Array<{ name: string; content: Uint8Array }>): void {
  const layout = boardLayout(loadBoard("third-gen"));
  const dev = FileDevice.create(path, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  AbStore.format(dev, layout, { loadName, components: files.map((f) => ({ name: f.name, bytes: f.content })) });
}

test("the image check passes for the served load and fires for a factory load or one changed byte", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-images-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "tftp");
  makeTftpRoot({ outDir: root, model: "CP-7961G", preset: "tiny", macs: [MAC], pfs: { enterprise: true } });
  const files = presetFiles(getPreset("tiny"));
  const good = join(dir, "good.flash");
  imageWith(good, getPreset("tiny").loadName, files);
  assertBootsServerLoad(good, MAC, root);
  const factory = join(dir, "factory.flash");
  imageWith(factory, "SCCP41.FACTORY", files);
  assert.throws(() => assertBootsServerLoad(factory, MAC, root), /boots the load its configuration names/);
  const changed = files.map((f, i) => (i === 1 ? { ...f, content: Uint8Array.from(f.content, (b, j) => (j === 100 ? b ^ 1 : b)) } : f));
  const bad = join(dir, "bad.flash");
  imageWith(bad, getPreset("tiny").loadName, changed);
  assert.throws(() => assertBootsServerLoad(bad, MAC, root), /byte for byte the server's file/);
});
