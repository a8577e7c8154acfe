// What a fleet's flash images really hold, read back by the tests themselves
// (`pfs flash ls --json` on each image) and compared with the server's own
// files: the load the phone's SEP<MAC>.cnf.xml names, every component of
// that load's index, each component's SHA-256 equal to the file the server
// serves. A phone's own "done" line proves nothing.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDeviceConfig, sepFileName } from "../../host/load/config.js";
import { parseLoads } from "../../host/load/loads.js";

const PFS_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../../../bin/pfs.js");

interface Booted {
  ok: boolean;
  loadName: string;
  components: Array<{ name: string; sha256: string; verified: boolean }>;
}

/** The load `flash` boots, as `pfs flash ls --json` reads it. */
export function bootedLoad(flash: string): Booted {
  const ls = spawnSync(process.execPath, [PFS_BIN, "flash", "ls", "--flash", flash, "--json"], { encoding: "utf8" });
  assert.equal(ls.status, 0, `pfs flash ls ${flash}: ${ls.stdout}${ls.stderr}`);
  return JSON.parse(ls.stdout) as Booted;
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Asserts that the image of the phone `mac` boots, verified, exactly the
 *  load its configuration on the server (`tftpRoot`) names, component by
 *  component against the server's files. */
export function assertBootsServerLoad(flash: string, mac: string, tftpRoot: string, label = mac): void {
  const want = parseDeviceConfig(readFileSync(join(tftpRoot, sepFileName(mac)))).loadInformation;
  assert.ok(want !== undefined, `${label}: the server's config names no load`);
  const index = parseLoads(readFileSync(join(tftpRoot, `${want}.loads`)));
  const b = bootedLoad(flash);
  assert.equal(b.ok, true, `${label} boots a load that verifies`);
  assert.equal(b.loadName, want, `${label} boots the load its configuration names`);
  assert.deepEqual(
    b.components.map((c) => ({ name: c.name, sha256: c.sha256, verified: c.verified })),
    index.components.map((c) => ({ name: c.name, sha256: sha256(join(tftpRoot, c.name)), verified: true })),
    `${label}: every component of the index, byte for byte the server's file`,
  );
}
