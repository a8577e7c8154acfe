// Checking a component where it lies in flash, against its manifest entry:
// the block list against the list's SHA-256, every 16 KiB block against its
// list entry, and the whole content against its SHA-256. It reads one block
// at a time, as a phone with little RAM would, and says where it failed.

import { createHash } from "node:crypto";
import { BLOCK_BYTES, HASH_BYTES } from "../core/abi.js";
import { sha256 } from "../load/blocklist.js";
import type { FlashDevice } from "./device.js";
import { sameBytes, type ComponentEntry } from "./manifest.js";

export interface ComponentCheck {
  ok: boolean;
  /** "verified", or what failed first. */
  why: string;
}

/** `slotStartBytes` is the slot's first byte on the device. */
export function checkComponent(dev: FlashDevice, slotStartBytes: number, c: ComponentEntry): ComponentCheck {
  const start = slotStartBytes + c.offsetBytes;
  const list = dev.read(start, c.listBytes);
  if (!sameBytes(sha256(list), c.listSha256)) return { ok: false, why: "block list does not match its SHA-256" };
  const whole = createHash("sha256");
  for (let k = 0; k * BLOCK_BYTES < c.sizeBytes; k++) {
    const block = dev.read(start + c.listBytes + k * BLOCK_BYTES, Math.min(BLOCK_BYTES, c.sizeBytes - k * BLOCK_BYTES));
    if (!sameBytes(sha256(block), list.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES))) return { ok: false, why: `block ${k} does not match the block list` };
    whole.update(block);
  }
  if (!sameBytes(new Uint8Array(whole.digest()), c.sha256)) return { ok: false, why: "content does not match its SHA-256" };
  return { ok: true, why: "verified" };
}
