// Shared by the flash tests: a small layout, loads made of preset files, and
// an update written the way the relay writes one: in pieces of any size, in
// any order, list and content mixed.

import { relayFile, sha256, type RelayFile } from "../../host/load/blocklist.js";
import { getPreset, presetBytes, presetFiles } from "../../host/load/presets.js";
import { Rng } from "../../host/sim/random.js";
import type { AbStore, BootResult, FactoryLoad } from "../../host/flash/ab-store.js";
import { makeLayout, slotStartBytes, type Layout } from "../../host/flash/layout.js";
import type { FlashDevice } from "../../host/flash/device.js";

/** Small sectors, so that components span many and tests stay fast. */
export const SMALL_SECTOR_BYTES = 4096;
/** Room for the largest test load: manifest, three tiny components and two bigger ones. */
export const SMALL_SLOT_BYTES = 48 * SMALL_SECTOR_BYTES;

export function smallLayout(): Layout {
  return makeLayout({ sectorBytes: SMALL_SECTOR_BYTES, slotBytes: SMALL_SLOT_BYTES, bootRecordSectors: 2 });
}

export interface TestLoad {
  loadName: string;
  files: RelayFile[];
}

/** The factory load: the "tiny" preset as the 7961 family names it. */
export function factoryLoad(): TestLoad {
  return { loadName: "SCCP41.TINY", files: presetFiles(getPreset("tiny"), "41") };
}

/** A different load: the tiny files under another family (other bytes), and
 *  two bigger synthetic components that span several small sectors. */
export function newLoad(tag = "2"): TestLoad {
  const big = [30_000, 50_000].map((size, i) => relayFile(`big${i}.${tag}.sbn`, presetBytes(`big${i}.${tag}.sbn`, size)));
  return { loadName: `SCCP41.TINY-${tag}`, files: [...presetFiles(getPreset("tiny"), "6" + tag.slice(-1)), ...big] };
}

export function asFactory(load: TestLoad): FactoryLoad {
  return { loadName: load.loadName, components: load.files.map((f) => ({ name: f.name, bytes: f.content })) };
}

export function indexOf(load: TestLoad) {
  return load.files.map((f) => ({ name: f.name, sizeBytes: f.content.length, sha256: f.sha256, listSha256: f.listSha256 }));
}

export interface Piece {
  component: number;
  offset: number;
  bytes: Uint8Array;
}

/** Every component's transfer space cut into pieces of 1..maxBytes, shuffled
 *  across components. */
export function writePlan(load: TestLoad, seed: number, maxBytes = 3000): Piece[] {
  const rng = Rng.derive(seed, "write-plan");
  const pieces: Piece[] = [];
  load.files.forEach((f, component) => {
    for (let offset = 0; offset < f.stream.length;) {
      const n = Math.min(rng.int(1, maxBytes), f.stream.length - offset);
      pieces.push({ component, offset, bytes: f.stream.subarray(offset, offset + n) });
      offset += n;
    }
  });
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [pieces[i], pieces[j]] = [pieces[j], pieces[i]];
  }
  return pieces;
}

/** A whole update: begin, every piece, commit. */
export function runUpdate(store: AbStore, load: TestLoad, plan: Piece[]): void {
  const update = store.beginUpdate(load.loadName, indexOf(load));
  for (const p of plan) update.writeAt(p.component, p.offset, p.bytes);
  update.commit();
}

/** The SHA-256 of each component's content as it lies in the booted slot. */
export function bootedContentHashes(dev: FlashDevice, layout: Layout, b: BootResult): string[] {
  if (b.slot === null || b.manifest === null) return [];
  const start = slotStartBytes(layout, b.slot);
  return b.manifest.components.map((c) => hex(sha256(dev.read(start + c.offsetBytes + c.listBytes, c.sizeBytes))));
}

export function contentHashes(load: TestLoad): string[] {
  return load.files.map((f) => hex(f.sha256));
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

/** Which of the loads the booted slot holds, by name, component names and
 *  content hashes read from flash; null if none exactly. */
export function whichLoad(dev: FlashDevice, layout: Layout, b: BootResult, loads: TestLoad[]): TestLoad | null {
  if (!b.verified || b.manifest === null) return null;
  const names = b.manifest.components.map((c) => c.name).join(",");
  const hashes = bootedContentHashes(dev, layout, b).join(",");
  return loads.find((l) => l.loadName === b.manifest!.loadName && l.files.map((f) => f.name).join(",") === names && contentHashes(l).join(",") === hashes) ?? null;
}
