// What the boot loader does at power-up, reading only: take the newest valid
// boot record whose slot holds exactly the manifest it names (by SHA-256)
// with every component verified; else the next record; else any slot whose
// own manifest verifies, newest first. docs/FLASH.md argues why this finds
// the old or the new load after a power cut anywhere in an update.

import { decodeRecord, RECORD_BYTES, type BootRecord } from "./boot-record.js";
import type { FlashDevice } from "./device.js";
import { recordSector, slotName, slotStartBytes, SLOTS, type Layout, type Slot } from "./layout.js";
import { decodeManifest, MAX_MANIFEST_BYTES, sameBytes, type Manifest } from "./manifest.js";
import { checkComponent, type ComponentCheck } from "./verify.js";

export interface BootResult {
  /** The slot that boots; when nothing verifies, the slot the newest valid
   *  boot record names (null if there is none). */
  slot: Slot | null;
  manifest: Manifest | null;
  /** Every component of `manifest` verified in flash. */
  verified: boolean;
  /** Which record or rule chose the slot, and what was passed over. */
  reason: string;
  /** The boot record that named the slot; null when none did. */
  recordSeq: number | null;
  /** One per component of `manifest`. */
  components: ComponentCheck[];
}

/** What the store needs besides the result to write safely afterwards. */
export interface BootScan {
  result: BootResult;
  /** The record sector the result was booted from: never to be overwritten
   *  while that load runs. Null when no record chose it. */
  keepSector: number | null;
  /** One more than any sequence number on the flash, record or manifest. */
  nextSeq: number;
}

export interface RecordRead {
  sector: number;
  record: BootRecord | null;
  /** "valid", or why not. */
  why: string;
}

export interface SlotManifest {
  manifest: Manifest | null;
  /** The hash a boot record names the manifest by. */
  sha256: Uint8Array | null;
  why: string;
}

export function readRecords(dev: FlashDevice, layout: Layout): RecordRead[] {
  const out: RecordRead[] = [];
  for (let i = 0; i < layout.bootRecordSectors; i++) {
    const sector = recordSector(layout, i);
    const d = decodeRecord(dev.read(sector * layout.sectorBytes, RECORD_BYTES));
    out.push(d.ok ? { sector, record: d.value, why: "valid" } : { sector, record: null, why: d.why });
  }
  return out;
}

export function readManifest(dev: FlashDevice, layout: Layout, slot: Slot): SlotManifest {
  const area = layout.manifestSectors * layout.sectorBytes;
  const d = decodeManifest(dev.read(slotStartBytes(layout, slot), Math.min(area, MAX_MANIFEST_BYTES)), { slotBytes: layout.slotBytes, firstComponentBytes: area });
  return d.ok ? { manifest: d.value.manifest, sha256: d.value.sha256, why: "valid" } : { manifest: null, sha256: null, why: d.why };
}

export function scanBoot(dev: FlashDevice, layout: Layout): BootScan {
  const records = readRecords(dev, layout);
  const valid = records.filter((r) => r.record !== null) as Array<RecordRead & { record: BootRecord }>;
  valid.sort((a, b) => b.record.seq - a.record.seq || a.sector - b.sector);
  const manifests = SLOTS.map((s) => readManifest(dev, layout, s));
  const nextSeq = 1 + Math.max(0, ...valid.map((r) => r.record.seq), ...manifests.map((m) => m.manifest?.seq ?? 0));

  // Each slot's components are read at most once per scan.
  const checks = new Map<Slot, ComponentCheck[]>();
  const checked = (s: Slot, m: Manifest) => {
    if (!checks.has(s)) checks.set(s, m.components.map((c) => checkComponent(dev, slotStartBytes(layout, s), c)));
    return checks.get(s)!;
  };
  const firstBad = (s: Slot, m: Manifest): string | null => {
    const i = checked(s, m).findIndex((c) => !c.ok);
    return i < 0 ? null : `${m.components[i].name}: ${checked(s, m)[i].why}`;
  };
  const passed: string[] = [];
  const boots = (slot: Slot, m: Manifest, record: (RecordRead & { record: BootRecord }) | null, why: string): BootScan => ({
    result: {
      slot, manifest: m, verified: true, recordSeq: record?.record.seq ?? null, components: checked(slot, m),
      reason: passed.length === 0 ? why : `${why}; passed over: ${passed.join("; ")}`,
    },
    keepSector: record?.sector ?? null,
    nextSeq,
  });

  for (const r of valid) {
    const s = r.record.slot;
    const { manifest: m, sha256, why } = manifests[s];
    const named = `boot record ${r.record.seq} (sector ${r.sector}) names slot ${slotName(s)}`;
    if (m === null) passed.push(`${named}: ${why}`);
    else if (!sameBytes(sha256!, r.record.manifestSha256)) passed.push(`${named}, which now holds another manifest`);
    else {
      const bad = firstBad(s, m);
      if (bad === null) return boots(s, m, r, `${named}; every component verifies`);
      passed.push(`${named}: ${bad}`);
    }
  }
  const named = (s: Slot) => valid.some((r) => r.record.slot === s);
  const bySeq = [...SLOTS].sort((a, b) => (manifests[b].manifest?.seq ?? -1) - (manifests[a].manifest?.seq ?? -1));
  for (const s of bySeq) {
    const m = manifests[s].manifest;
    if (m === null) {
      if (!named(s)) passed.push(`slot ${slotName(s)}: ${manifests[s].why}`);
      continue;
    }
    const bad = firstBad(s, m);
    if (bad === null) return boots(s, m, null, `no boot record names a verified load; slot ${slotName(s)}'s own manifest (seq ${m.seq}) verifies`);
    if (!named(s)) passed.push(`slot ${slotName(s)} (seq ${m.seq}): ${bad}`);
  }

  // Nothing boots: report the slot the newest record names, as it is.
  if (valid.length === 0) passed.unshift(`no valid boot record (${records.map((r) => `sector ${r.sector}: ${r.why}`).join(", ")})`);
  const slot = valid.length > 0 ? valid[0].record.slot : null;
  const manifest = slot === null ? null : manifests[slot].manifest;
  return {
    result: {
      slot, manifest, verified: false, recordSeq: valid[0]?.record.seq ?? null,
      reason: `no slot holds a verified load: ${passed.join("; ")}`,
      components: slot !== null && manifest !== null ? checked(slot, manifest) : [],
    },
    keepSector: null,
    nextSeq,
  };
}
