// What the boot loader does at power-up, reading only: take the newest valid
// boot record whose slot holds exactly the manifest it names (by SHA-256)
// with every component verified, passing over a trial record that was booted
// once and never confirmed; else the next record; else any slot whose own
// manifest verifies, newest first, a reverted trial last. docs/FLASH.md
// argues why this finds the old or the new load after a power cut anywhere
// in an update, its trial or its confirmation. (Writing the TRIED mark when
// it boots a trial is AbStore.powerUp's, not this file's.)

import { CONFIRMED_MARK_AT, decodeRecord, MARK_BYTES, markSet, RECORD_BYTES, TRIED_MARK_AT, type BootRecord } from "./boot-record.js";
import { CarefulDevice, MAX_FLASH_ATTEMPTS } from "./careful-device.js";
import type { FlashDevice } from "./device.js";
import { FlashError } from "./errors.js";
import { recordSector, slotName, slotStartBytes, SLOTS, type Layout, type Slot } from "./layout.js";
import { decodeManifest, MAX_MANIFEST_BYTES, sameBytes, type Decoded, type Manifest } from "./manifest.js";
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
  /** The record is a trial not yet booted: a power-up boots it once. */
  trial: boolean;
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

/** A record as the boot loader weighs it: confirmed (written confirmed, or a
 *  trial with its CONFIRMED mark), a trial to boot once, or a trial booted
 *  once and never confirmed, which is passed over. */
export type RecordState = "confirmed" | "trial" | "reverted";

export interface RecordRead {
  sector: number;
  record: BootRecord | null;
  state: RecordState | null;
  /** "valid", or why not. */
  why: string;
}

export interface SlotManifest {
  manifest: Manifest | null;
  /** The hash a boot record names the manifest by. */
  sha256: Uint8Array | null;
  why: string;
}

export interface ScanOptions {
  /** Treat a trial not yet booted as reverted: for a power-up that could not
   *  program the TRIED mark, and so must not boot the trial at all. */
  skipTrials?: boolean;
  /** One slot's components as checked a moment ago (the commit's own check,
   *  docs/FLASH.md U5): taken as they are, not read again. */
  checked?: { slot: Slot; checks: ComponentCheck[] };
}

/** A decode that fails is read again, up to MAX_FLASH_ATTEMPTS reads: a bit
 *  flipped on a read must not make the boot loader pass a record over. A
 *  read that keeps failing is a record or manifest that is not there. */
function readDecoded<T>(dev: FlashDevice, offset: number, length: number, decode: (b: Uint8Array) => Decoded<T>): Decoded<T> {
  let d: Decoded<T> = { ok: false, why: "not read" };
  for (let n = 0; n < MAX_FLASH_ATTEMPTS; n++) {
    try {
      d = decode(dev.read(offset, length));
    } catch (e) {
      if (!(e instanceof FlashError)) throw e;
      d = { ok: false, why: e.message };
    }
    if (!d.ok) continue;
    if (n > 0 && dev instanceof CarefulDevice) dev.healedRead(`${length} bytes at 0x${offset.toString(16)}`);
    break;
  }
  return d;
}

function markAt(dev: FlashDevice, offset: number): boolean {
  try {
    return markSet(dev.read(offset, MARK_BYTES));
  } catch (e) {
    // An unreadable mark counts as set: toward the old load, which verified.
    if (e instanceof FlashError) return true;
    throw e;
  }
}

export function readRecords(dev: FlashDevice, layout: Layout, options: ScanOptions = {}): RecordRead[] {
  const out: RecordRead[] = [];
  for (let i = 0; i < layout.bootRecordSectors; i++) {
    const sector = recordSector(layout, i);
    const at = sector * layout.sectorBytes;
    const d = readDecoded(dev, at, RECORD_BYTES, decodeRecord);
    if (!d.ok) {
      out.push({ sector, record: null, state: null, why: d.why });
      continue;
    }
    if (!d.value.trial || markAt(dev, at + CONFIRMED_MARK_AT)) out.push({ sector, record: d.value, state: "confirmed", why: "valid" });
    else if (markAt(dev, at + TRIED_MARK_AT)) out.push({ sector, record: d.value, state: "reverted", why: "booted once and never confirmed (reverted)" });
    else if (options.skipTrials === true) out.push({ sector, record: d.value, state: "reverted", why: "not booted: its TRIED mark does not take, so its trial could not be undone" });
    else out.push({ sector, record: d.value, state: "trial", why: "valid" });
  }
  return out;
}

export function readManifest(dev: FlashDevice, layout: Layout, slot: Slot): SlotManifest {
  const area = layout.manifestSectors * layout.sectorBytes;
  const limits = { slotBytes: layout.slotBytes, firstComponentBytes: area };
  const d = readDecoded(dev, slotStartBytes(layout, slot), Math.min(area, MAX_MANIFEST_BYTES), (b) => decodeManifest(b, limits));
  return d.ok ? { manifest: d.value.manifest, sha256: d.value.sha256, why: "valid" } : { manifest: null, sha256: null, why: d.why };
}

type ValidRecord = RecordRead & { record: BootRecord; state: RecordState };

export function scanBoot(dev: FlashDevice, layout: Layout, options: ScanOptions = {}): BootScan {
  const records = readRecords(dev, layout, options);
  const valid = records.filter((r) => r.record !== null) as ValidRecord[];
  valid.sort((a, b) => b.record.seq - a.record.seq || a.sector - b.sector);
  const manifests = SLOTS.map((s) => readManifest(dev, layout, s));
  const nextSeq = 1 + Math.max(0, ...valid.map((r) => r.record.seq), ...manifests.map((m) => m.manifest?.seq ?? 0));

  // Each slot's components are read at most once per scan.
  const checks = new Map<Slot, ComponentCheck[]>();
  if (options.checked !== undefined) checks.set(options.checked.slot, options.checked.checks);
  const checked = (s: Slot, m: Manifest) => {
    if (!checks.has(s)) checks.set(s, m.components.map((c) => checkComponent(dev, slotStartBytes(layout, s), c)));
    return checks.get(s)!;
  };
  const firstBad = (s: Slot, m: Manifest): string | null => {
    const i = checked(s, m).findIndex((c) => !c.ok);
    return i < 0 ? null : `${m.components[i].name}: ${checked(s, m)[i].why}`;
  };
  const passed: string[] = [];
  const boots = (slot: Slot, m: Manifest, record: ValidRecord | null, why: string): BootScan => ({
    result: {
      slot, manifest: m, verified: true, recordSeq: record?.record.seq ?? null, trial: record?.state === "trial", components: checked(slot, m),
      reason: passed.length === 0 ? why : `${why}; passed over: ${passed.join("; ")}`,
    },
    keepSector: record?.sector ?? null,
    nextSeq,
  });

  for (const r of valid) {
    const s = r.record.slot;
    const { manifest: m, sha256, why } = manifests[s];
    const named = `boot record ${r.record.seq} (sector ${r.sector}) names slot ${slotName(s)}${r.state === "trial" ? " on trial" : ""}`;
    if (r.state === "reverted") passed.push(`boot record ${r.record.seq} (sector ${r.sector}) names slot ${slotName(s)} on trial: ${r.why}`);
    else if (m === null) passed.push(`${named}: ${why}`);
    else if (!sameBytes(sha256!, r.record.manifestSha256)) passed.push(`${named}, which now holds another manifest`);
    else {
      const bad = firstBad(s, m);
      if (bad === null) return boots(s, m, r, `${named}; every component verifies`);
      passed.push(`${named}: ${bad}`);
    }
  }
  // Last resort, only when damage outside any update has hit every record
  // that could boot: a slot's own manifest. A trial that was reverted comes
  // after any other slot, then the highest sequence number.
  const reverted = (s: Slot) => valid.some((r) => r.state === "reverted" && r.record.slot === s && manifests[s].sha256 !== null && sameBytes(manifests[s].sha256!, r.record.manifestSha256));
  const named = (s: Slot) => valid.some((r) => r.record.slot === s);
  const rank = (s: Slot) => (reverted(s) ? 0 : 2 ** 32) + (manifests[s].manifest?.seq ?? -1);
  for (const s of [...SLOTS].sort((a, b) => rank(b) - rank(a))) {
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
      slot, manifest, verified: false, recordSeq: valid[0]?.record.seq ?? null, trial: false,
      reason: `no slot holds a verified load: ${passed.join("; ")}`,
      components: slot !== null && manifest !== null ? checked(slot, manifest) : [],
    },
    keepSector: null,
    nextSeq,
  };
}
