// Whether a phone of the site really holds its new load, judged from its
// flash image and the server's files, not from what the phone printed: the
// image boots, verified, the load the phone's SEP<MAC>.cnf.xml on the server
// names, and every component of that load's index is there, checked in
// flash, with the SHA-256 of the very file the server serves.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadBoard } from "../boards.js";
import { AbStore } from "../flash/ab-store.js";
import { FileDevice } from "../flash/file-device.js";
import { boardLayout, layoutBytes } from "../flash/layout.js";
import { parseDeviceConfig, sepFileName } from "../load/config.js";
import { parseLoads } from "../load/loads.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** null when the image holds exactly the server's load, else why not. */
export function imageProblem(flash: string, mac: string, root: string, board = "third-gen"): string | null {
  const want = parseDeviceConfig(readFileSync(join(root, sepFileName(mac)))).loadInformation;
  if (want === undefined) return "the server's configuration names no load";
  const index = parseLoads(readFileSync(join(root, `${want}.loads`)));
  const layout = boardLayout(loadBoard(board));
  const dev = FileDevice.open(flash, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  let b;
  try {
    b = AbStore.open(dev, layout).boot();
  } finally {
    dev.close();
  }
  if (!b.verified || b.manifest === null || b.manifest === undefined) return `boots no verified load (${b.reason})`;
  if (b.manifest.loadName !== want) return `boots ${b.manifest.loadName}, not ${want}`;
  const have = b.manifest.components;
  if (have.length !== index.components.length) return `holds ${have.length} components, the index ${index.components.length}`;
  for (const [i, c] of index.components.entries()) {
    const mine = have[i];
    if (mine.name !== c.name) return `component ${i} is ${mine.name}, not ${c.name}`;
    if (b.components[i]?.ok !== true) return `${c.name} does not verify in flash (${b.components[i]?.why ?? "not checked"})`;
    const served = createHash("sha256").update(readFileSync(join(root, c.name))).digest("hex");
    if (hex(mine.sha256) !== served) return `${c.name} is not the server's file`;
  }
  return null;
}
