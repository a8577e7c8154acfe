// T_DRAIN (docs/TRACE.md section 3): the core's outbox in its normal form,
// compared byte for byte with the recording's as it streams past, folded
// into the digest, then cleared. The normal form differs from the outbox in
// one word: a view's address becomes the first TRACE_VIEW_TAG_BYTES of the
// SHA-256 of the view (OUT_FLASH_WRITE, OUT_WRITE_REF) or 0 (OUT_FLASH_READ,
// whose view is noted as pending). Nothing is copied but that word.

import * as pfs from "../assembly/index";
import { OUT_HEADER_BYTES } from "../assembly/limits";
import { OUT_FLASH_READ, OUT_FLASH_WRITE, OUT_WRITE_REF } from "../assembly/outbox";
import { SHA256_DIGEST_BYTES } from "../assembly/sha256-soft";
import { sha256 } from "../assembly/sha256";
import { T_DRAIN, TRACE_VIEW_TAG_BYTES } from "../assembly/trace-format";
import { countRecords, foldBytes, foldU32 } from "./digest";
import { malformed, mismatch } from "./outcome";
import { MAX_PENDING_READS, pendingAdd } from "./pending";
import { memoryBytes } from "./put";
import * as R from "./reader";
import { byteText } from "./text";

/** A view record's payload: u32 ptr, u32 len (docs/ABI.md section 5.1). */
const VIEW_BYTES: u32 = 8;
/** OUT_FLASH_READ adds u32 handle, u32 tag. */
const FLASH_READ_BYTES: u32 = 16;

const word = memory.data(4, 4);
const viewHash = memory.data(<i32>SHA256_DIGEST_BYTES, 8);

function padded(n: u32): u32 {
  return (n + 3) & ~3;
}

function isView(kind: u8): bool {
  return kind == OUT_FLASH_WRITE || kind == OUT_WRITE_REF || kind == OUT_FLASH_READ;
}

/** Names record `rec` of the outbox; only ever built for a failure (the
 *  stub runtime never frees, so nothing on the path of a good replay
 *  allocates). */
function recordText(rec: u32): string {
  return "outbox record " + rec.toString();
}

function viewText(rec: u32, kind: u8): string {
  return recordText(rec) + " (kind " + kind.toString() + ")";
}

/** Pass 1: the records parse and their views lie in memory (else the core
 *  differs: a broken outbox is a difference, not a crash). */
function checkShape(base: usize, len: u32): bool {
  if (<u64>base + <u64>len > memoryBytes()) {
    return mismatch("outbox [" + base.toString() + ", +" + len.toString() + ") is outside memory");
  }
  let off: u32 = 0;
  let rec: u32 = 0;
  while (off < len) {
    if (off + <u32>OUT_HEADER_BYTES > len) {
      return mismatch(recordText(rec) + " at byte " + off.toString() + ": header runs past the end (" + len.toString() + ")");
    }
    const kind = load<u8>(base + off);
    const plen = <u32>load<u16>(base + off, 2);
    const p = off + <u32>OUT_HEADER_BYTES;
    if (p + padded(plen) > len) return mismatch(recordText(rec) + " at byte " + off.toString() + ": payload runs past the end");
    if (isView(kind)) {
      if (plen < VIEW_BYTES) return mismatch(viewText(rec, kind) + ": payload of " + plen.toString() + " bytes holds no view");
      const ptr = load<u32>(base + p);
      const vlen = load<u32>(base + p, 4);
      if (<u64>ptr + <u64>vlen > memoryBytes()) {
        return mismatch(viewText(rec, kind) + ": view [" + ptr.toString() + ", +" + vlen.toString() + ") is outside memory");
      }
      if (kind == OUT_FLASH_READ && plen < FLASH_READ_BYTES) return mismatch(viewText(rec, kind) + ": a flash read without handle and tag");
    }
    off = p + padded(plen);
    rec++;
  }
  return true;
}

/** Compares `n` own bytes at `ptr`, file offset `off` of the body, with the
 *  recording's, as far as the body goes; folds them in. */
function segment(ptr: usize, n: u32, off: u32, body: u32, rec: u32, kind: u8): bool {
  const cmp = off >= body ? 0 : min(n, body - off);
  const d = R.compareNext(ptr, <usize>cmp);
  if (d >= 0) {
    const i = off + <u32>d;
    return mismatch("outbox byte " + i.toString() + " (record " + rec.toString() + ", kind " + kind.toString() + "): expected " +
      byteText(R.diffExpected) + ", got " + byteText(load<u8>(ptr + <usize>d)));
  }
  foldBytes(ptr, <usize>n);
  return true;
}

/** The word that stands for a view's address in the normal form. */
function normalWord(base: usize, p: u32, kind: u8): u32 {
  if (kind == OUT_FLASH_READ) return 0;
  const ptr = <usize>load<u32>(base + p);
  const vlen = <usize>load<u32>(base + p, 4);
  sha256(ptr, vlen, viewHash);
  assert(TRACE_VIEW_TAG_BYTES == 4, "the tag is one word");
  return load<u32>(viewHash); // the digest's first bytes, in its byte order
}

/** Pass 2: normalise, compare and fold record by record. */
function compareAll(base: usize, len: u32, body: u32): bool {
  let off: u32 = 0;
  let rec: u32 = 0;
  while (off < len) {
    const kind = load<u8>(base + off);
    const plen = <u32>load<u16>(base + off, 2);
    const p = off + <u32>OUT_HEADER_BYTES;
    const end = p + padded(plen);
    if (isView(kind)) {
      if (kind == OUT_FLASH_READ) {
        const ok = pendingAdd(load<i32>(base + p, 8), load<u32>(base + p, 12), load<u32>(base + p), load<u32>(base + p, 4));
        if (!ok) return malformed("more than " + MAX_PENDING_READS.toString() + " flash reads pending");
      }
      store<u32>(word, normalWord(base, p, kind));
      if (!segment(base + off, p - off, off, body, rec, kind)) return false;
      if (!segment(word, 4, p, body, rec, kind)) return false;
      if (!segment(base + p + 4, end - p - 4, p + 4, body, rec, kind)) return false;
    } else if (!segment(base + off, end - off, off, body, rec, kind)) return false;
    off = end;
    rec++;
  }
  countRecords(rec);
  return true;
}

export function drain(body: u32): bool {
  const base = pfs.outboxPtr();
  const len = <u32>pfs.outboxLen();
  if (!checkShape(base, len)) return false;
  foldU32(T_DRAIN, len);
  if (!compareAll(base, len, body)) return false;
  if (len != body) return mismatch("outbox of " + len.toString() + " bytes, expected " + body.toString());
  pfs.outboxClear();
  return true;
}
