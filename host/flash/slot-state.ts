// Each slot's state as `pfs flash ls` shows it, from what the image holds
// (docs/FLASH.md, "Trial boot"): which slot the next power-up boots and
// whether on trial, which holds the confirmed load a trial falls back to,
// and which holds nothing a power-up would boot, and why. Reads only.

import { readManifest, readRecords, type BootResult, type RecordRead } from "./boot.js";
import type { FlashDevice } from "./device.js";
import { slotName, slotStartBytes, SLOTS, type Layout, type Slot } from "./layout.js";
import { sameBytes } from "./manifest.js";
import { checkComponent } from "./verify.js";

/**
 * - active: the next power-up boots it, confirmed.
 * - trial: the next power-up boots it once, on trial.
 * - confirmed: a confirmed load that does not boot now: what a trial of the
 *   other slot falls back to.
 * - bad: a load that does not verify, a trial booted once and never
 *   confirmed (reverted), or a load no boot record commits (an update that
 *   did not finish).
 * - empty: no valid manifest.
 */
export type SlotStateName = "active" | "trial" | "confirmed" | "bad" | "empty";

export interface SlotState {
  slot: "A" | "B";
  state: SlotStateName;
  loadName: string | null;
  /** The manifest's sequence number. */
  seq: number | null;
  /** The newest valid boot record naming this slot's manifest. */
  recordSeq: number | null;
  why: string;
}

/** `boot` is what AbStore.boot() chose on the same flash. */
export function slotStates(dev: FlashDevice, layout: Layout, boot: BootResult): SlotState[] {
  const records = readRecords(dev, layout).filter((r) => r.record !== null);
  records.sort((a, b) => b.record!.seq - a.record!.seq);
  return SLOTS.map((s) => slotState(dev, layout, boot, s, records));
}

function slotState(dev: FlashDevice, layout: Layout, boot: BootResult, s: Slot, records: RecordRead[]): SlotState {
  const { manifest: m, sha256, why } = readManifest(dev, layout, s);
  const base = { slot: slotName(s), loadName: m?.loadName ?? null, seq: m?.seq ?? null };
  if (m === null || sha256 === null) return { ...base, state: "empty", recordSeq: null, why };
  const r = records.find((x) => x.record!.slot === s && sameBytes(x.record!.manifestSha256, sha256)) ?? null;
  const recordSeq = r?.record?.seq ?? null;
  if (boot.verified && boot.slot === s) {
    return { ...base, recordSeq: boot.recordSeq, state: boot.trial ? "trial" : "active", why: boot.trial ? "the next power-up boots it once, on trial" : "the next power-up boots it" };
  }
  const bad = m.components.map((c) => ({ c, check: checkComponent(dev, slotStartBytes(layout, s), c) })).find((x) => !x.check.ok);
  if (bad !== undefined) return { ...base, recordSeq, state: "bad", why: `${bad.c.name}: ${bad.check.why}` };
  if (r === null) return { ...base, recordSeq, state: "bad", why: "verifies, but no boot record commits it (an update that did not finish)" };
  if (r.state === "reverted") return { ...base, recordSeq, state: "bad", why: `booted once on trial (record ${recordSeq}) and never confirmed: reverted` };
  if (r.state === "trial") return { ...base, recordSeq, state: "bad", why: `on trial (record ${recordSeq}), but a newer record boots` };
  return { ...base, recordSeq, state: "confirmed", why: "confirmed; the other slot boots" };
}
