// Where things live on a phone's flash (docs/FLASH.md draws it): a few boot
// record sectors, then slot A, then slot B. Each slot starts with its
// manifest's sectors; each component's transfer space (its block list, then
// its bytes: the relay's offset space) follows on a sector boundary of its
// own, so an update can erase a component's sectors without touching another.

import type { Board } from "../boards.js";
import { RECORD_AREA_BYTES, type Slot } from "./boot-record.js";
import { MAX_MANIFEST_BYTES, transferBytesOf } from "./manifest.js";

/** The board's figures (boards/third-gen.json, "flash"). */
export interface FlashFigures {
  sectorBytes: number;
  slotBytes: number;
  bootRecordSectors: number;
}

export interface Layout extends FlashFigures {
  /** Sectors per slot. */
  slotSectors: number;
  /** Sectors at the start of each slot kept for its manifest. */
  manifestSectors: number;
  /** Boot record sectors plus both slots. */
  totalSectors: number;
}

export type { Slot };
export const SLOTS: readonly Slot[] = [0, 1];

/** Fewer than two and a torn record write would leave no record at all. */
export const MIN_BOOT_RECORD_SECTORS = 2;

export function slotName(slot: Slot): "A" | "B" {
  return slot === 0 ? "A" : "B";
}

export function otherSlot(slot: Slot): Slot {
  return slot === 0 ? 1 : 0;
}

export function makeLayout(f: FlashFigures): Layout {
  const whole = (v: number, name: string, min: number) => {
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`flash layout: ${name} must be a whole number from ${min} (got ${v})`);
  };
  // A record sector holds a record and its trial marks.
  whole(f.sectorBytes, "sectorBytes", RECORD_AREA_BYTES);
  whole(f.bootRecordSectors, "bootRecordSectors", MIN_BOOT_RECORD_SECTORS);
  whole(f.slotBytes, "slotBytes", f.sectorBytes);
  if (f.slotBytes % f.sectorBytes !== 0) throw new RangeError(`flash layout: slotBytes (${f.slotBytes}) must be whole sectors of ${f.sectorBytes}`);
  const slotSectors = f.slotBytes / f.sectorBytes;
  const manifestSectors = Math.ceil(MAX_MANIFEST_BYTES / f.sectorBytes);
  if (manifestSectors >= slotSectors) throw new RangeError(`flash layout: a slot of ${f.slotBytes} bytes has no room beside its manifest (${manifestSectors} sectors)`);
  return { sectorBytes: f.sectorBytes, slotBytes: f.slotBytes, bootRecordSectors: f.bootRecordSectors, slotSectors, manifestSectors, totalSectors: f.bootRecordSectors + 2 * slotSectors };
}

/** The layout a board's "flash" figures give. */
export function boardLayout(board: Board): Layout {
  const flash = (board.flash ?? {}) as Partial<FlashFigures>;
  for (const key of ["sectorBytes", "slotBytes", "bootRecordSectors"] as const) {
    if (typeof flash[key] !== "number") throw new Error(`board ${board.name}: "flash" has no ${key}`);
  }
  return makeLayout(flash as FlashFigures);
}

/** The whole device the layout needs, in bytes. */
export function layoutBytes(layout: Layout): number {
  return layout.totalSectors * layout.sectorBytes;
}

/** The sector boot record `i` lives in. */
export function recordSector(layout: Layout, i: number): number {
  return i;
}

export function slotFirstSector(layout: Layout, slot: Slot): number {
  return layout.bootRecordSectors + slot * layout.slotSectors;
}

export function slotStartBytes(layout: Layout, slot: Slot): number {
  return slotFirstSector(layout, slot) * layout.sectorBytes;
}

/** Where each component's transfer space starts within a slot, in bytes:
 *  after the manifest, each on a sector boundary. Throws if they do not fit. */
export function placeComponents(layout: Layout, sizesBytes: readonly number[]): number[] {
  let next = layout.manifestSectors * layout.sectorBytes;
  const offsets = sizesBytes.map((size) => {
    const at = next;
    next += Math.ceil(transferBytesOf(size) / layout.sectorBytes) * layout.sectorBytes;
    return at;
  });
  if (next > layout.slotBytes) {
    throw new RangeError(`flash layout: the load needs ${next} bytes of a slot (manifest and sector-aligned components), the slot has ${layout.slotBytes}`);
  }
  return offsets;
}
