// Checking a component where it lies in flash, against its manifest entry:
// the block list against the list's SHA-256, every 16 KiB block against its
// list entry, and the whole content against its SHA-256. It reads one block
// at a time, as a phone with little RAM would, and says where it failed.
// The first pass hashes only the whole; the blocks are checked one by one
// (and re-read) only when it does not match.
// A block (or the list) that does not match is read again, up to
// MAX_FLASH_ATTEMPTS reads: a bit flipped on the way from the part heals on
// a second read, a bad bit in the part does not. A match is a SHA-256 match,
// so a read believed is a read that is right. A read that keeps failing is
// "not verified", never an exception: boot must go on to the other slot.

import { createHash } from "node:crypto";
import { BLOCK_BYTES, HASH_BYTES } from "../core/abi.js";
import { sha256 } from "../load/blocklist.js";
import { CarefulDevice, MAX_FLASH_ATTEMPTS } from "./careful-device.js";
import type { FlashDevice } from "./device.js";
import { FlashError } from "./errors.js";
import { sameBytes, type ComponentEntry } from "./manifest.js";

export interface ComponentCheck {
  ok: boolean;
  /** "verified", or what failed first. */
  why: string;
}

/** `slotStartBytes` is the slot's first byte on the device. */
export function checkComponent(dev: FlashDevice, slotStartBytes: number, c: ComponentEntry): ComponentCheck {
  try {
    return checkReads(dev, slotStartBytes + c.offsetBytes, c);
  } catch (e) {
    if (e instanceof FlashError) return { ok: false, why: e.message };
    throw e;
  }
}

function checkReads(dev: FlashDevice, start: number, c: ComponentEntry): ComponentCheck {
  const list = readMatching(dev, start, c.listBytes, c.listSha256);
  if (list === null) return { ok: false, why: "block list does not match its SHA-256" };
  return wholeMatches(dev, start + c.listBytes, c) ? { ok: true, why: "verified" } : checkBlocks(dev, start + c.listBytes, c, list);
}

/** One pass, one block at a time, hashing only the whole content: when it
 *  matches the index's SHA-256 (and the list matched its own), every block
 *  matches the list too, so nothing more is read. Every phone of a site
 *  verifies its load at about the same moment, with the commit's check right
 *  after (docs/FLASH.md U5); a pass that also hashed each block cost twice
 *  the CPU where the machine is busiest. */
function wholeMatches(dev: FlashDevice, start: number, c: ComponentEntry): boolean {
  const whole = createHash("sha256");
  for (let at = 0; at < c.sizeBytes; at += BLOCK_BYTES) whole.update(dev.read(start + at, Math.min(BLOCK_BYTES, c.sizeBytes - at)));
  return sameBytes(new Uint8Array(whole.digest()), c.sha256);
}

/** Only when the whole did not match: block by block against the list, each
 *  read again up to MAX_FLASH_ATTEMPTS (a flipped bit on the way heals), to
 *  say which block is bad, or to find the whole right after all. */
function checkBlocks(dev: FlashDevice, content: number, c: ComponentEntry, list: Uint8Array): ComponentCheck {
  const whole = createHash("sha256");
  for (let k = 0; k * BLOCK_BYTES < c.sizeBytes; k++) {
    const want = list.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES);
    const block = readMatching(dev, content + k * BLOCK_BYTES, Math.min(BLOCK_BYTES, c.sizeBytes - k * BLOCK_BYTES), want);
    if (block === null) return { ok: false, why: `block ${k} does not match the block list` };
    whole.update(block);
  }
  if (!sameBytes(new Uint8Array(whole.digest()), c.sha256)) return { ok: false, why: "content does not match its SHA-256" };
  return { ok: true, why: "verified" };
}

/** The bytes at `offset` if one of up to MAX_FLASH_ATTEMPTS reads hashes to
 *  `want`; null if none does. */
export function readMatching(dev: FlashDevice, offset: number, length: number, want: Uint8Array): Uint8Array | null {
  for (let n = 0; n < MAX_FLASH_ATTEMPTS; n++) {
    const bytes = dev.read(offset, length);
    if (!sameBytes(sha256(bytes), want)) continue;
    if (n > 0 && dev instanceof CarefulDevice) dev.healedRead(`${length} bytes at 0x${offset.toString(16)}`);
    return bytes;
  }
  return null;
}
