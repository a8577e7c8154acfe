// The ABI of pfs.wasm: every export a host may call. docs/ABI.md describes
// each one; this file only forwards to the modules that do the work.

import * as cfg from "./config";
import * as core from "./core";
import { hiers, ROLE_IDLE } from "./hierarchy";
import { MAX_CHILDREN, MAX_DEPTH } from "./limits";
import { links, LINK_FREE } from "./link";
import { outboxBase, outboxClear as clear, outboxDropped, outboxUsed } from "./outbox";
import { subtreeHeight, subtreeSize } from "./tree";
import * as relay from "./relay";
import * as stream from "./stream";
import { debugCheck } from "./invariants";

export const ABI_VERSION: u32 = 1;

// ---- set-up
export function abiVersion(): u32 { return ABI_VERSION; }
export function configPtr(): usize { return changetype<usize>(cfg.configWords); }
export function configWords(): i32 { return cfg.CONFIG_WORDS; }
export function init(): i32 {
  const rc = core.coreInit();
  if (rc == 0) debugCheck();
  return rc;
}
export function inboxPtr(): usize { return core.inboxAddr(); }
export function inboxBytes(): i32 { return core.isReady() ? cfg.inboxBytes : 0; }

// ---- inputs (each ends with the debug build's whole-table check)
export function xidOf(modelLen: i32, fileLen: i32): u32 { return core.xidOf(modelLen, fileLen); }
export function need(nowMs: f64, modelLen: i32, fileLen: i32, sizeBytes: u32, heldBytes: u32, flags: u32): i32 {
  const slot = core.need(nowMs, modelLen, fileLen, sizeBytes, heldBytes, flags);
  if (core.isReady()) debugCheck();
  return slot;
}
export function setHeld(nowMs: f64, slot: i32, heldBytes: u32, flags: u32): i32 {
  const rc = core.setHeld(nowMs, slot, heldBytes, flags);
  debugCheck();
  return rc;
}
export function release(nowMs: f64, slot: i32): i32 {
  const rc = core.release(nowMs, slot);
  debugCheck();
  return rc;
}
export function onDatagram(nowMs: f64, src: u32, len: i32): void {
  core.onDatagram(nowMs, src, len);
  debugCheck();
}
export function onStreamAccept(nowMs: f64, peer: u32): i32 {
  const handle = core.onStreamAccept(nowMs, peer);
  debugCheck();
  return handle;
}
export function onStreamConnected(nowMs: f64, handle: i32): void {
  core.onStreamConnected(nowMs, handle);
  debugCheck();
}
export function onStreamData(nowMs: f64, handle: i32, len: i32): i32 {
  const took = core.onStreamData(nowMs, handle, len);
  debugCheck();
  return took;
}
export function rxWindow(handle: i32): i32 { return core.rxWindow(handle); }
export function rxPtr(): usize { return stream.windowPtr(); }
export function onStreamRx(nowMs: f64, handle: i32, len: i32): void {
  core.onStreamRx(nowMs, handle, len);
  debugCheck();
}
export function onWriteDone(nowMs: f64, handle: i32, len: i32): void {
  core.onWriteDone(nowMs, handle, len);
  debugCheck();
}
export function onFlashWritten(nowMs: f64, slot: i32, len: i32): void {
  core.onFlashWritten(nowMs, slot, len);
  debugCheck();
}
export function onFlashRead(nowMs: f64, handle: i32, tag: u32, len: i32): void {
  core.onFlashRead(nowMs, handle, tag, len);
  debugCheck();
}
export function onStreamClosed(nowMs: f64, handle: i32): void {
  core.onStreamClosed(nowMs, handle);
  debugCheck();
}
export function onTimer(nowMs: f64): void {
  core.onTimer(nowMs);
  debugCheck();
}

// ---- outputs
export function nextDeadlineMs(): f64 { return core.nextDeadlineMs(); }
export function outboxPtr(): usize { return outboxBase(); }
export function outboxLen(): i32 { return outboxUsed(); }
export function outboxClear(): void { clear(); }

// ---- state, for logs, tests and the simulator's checkers
export function hierCapacity(): i32 { return hiers.length; }
export function hierRole(slot: i32): i32 { return <u32>slot < <u32>hiers.length ? <i32>unchecked(hiers[slot]).role : -1; }
export function hierXid(slot: i32): u32 { return <u32>slot < <u32>hiers.length ? unchecked(hiers[slot]).xid : 0; }
export function hierStrength(slot: i32): u32 {
  if (<u32>slot >= <u32>hiers.length) return 0;
  const h = unchecked(hiers[slot]);
  return h.role == ROLE_IDLE ? 0 : h.strength();
}
export function hierDepth(slot: i32): i32 { return <u32>slot < <u32>hiers.length ? unchecked(hiers[slot]).depth() : -1; }
/** Address of our parent, 0 when we have none. */
export function hierParent(slot: i32): u32 {
  if (<u32>slot >= <u32>hiers.length) return 0;
  const p = unchecked(hiers[slot]).parent;
  return p < 0 ? 0 : unchecked(links[p]).peer;
}
/** Address of child `i` (0 or 1), 0 when that slot is empty. */
export function hierChild(slot: i32, i: i32): u32 {
  if (<u32>slot >= <u32>hiers.length || <u32>i >= <u32>MAX_CHILDREN) return 0;
  const c = unchecked(unchecked(hiers[slot]).children[i]);
  return c < 0 ? 0 : unchecked(links[c]).peer;
}
export function hierSubtreeSize(slot: i32): u32 { return <u32>slot < <u32>hiers.length ? subtreeSize(unchecked(hiers[slot])) : 0; }
export function hierSubtreeHeight(slot: i32): u32 { return <u32>slot < <u32>hiers.length ? subtreeHeight(unchecked(hiers[slot])) : 0; }
/** Ancestor `i` of our path (0 = the root). */
export function hierPathAt(slot: i32, i: i32): u32 {
  if (<u32>slot >= <u32>hiers.length || <u32>i >= <u32>MAX_DEPTH) return 0;
  const h = unchecked(hiers[slot]);
  return i < h.pathLen ? unchecked(h.path[i]) : 0;
}
/** Bytes held checked, in the transfer's offset space (list, then file). */
export function hierHeld(slot: i32): u32 { return <u32>slot < <u32>hiers.length ? relay.heldOffset(unchecked(hiers[slot])) : 0; }
/** The transfer's whole length: block list plus file. */
export function hierTotal(slot: i32): u32 {
  if (<u32>slot >= <u32>hiers.length) return 0;
  const size = unchecked(hiers[slot]).sizeBytes;
  return relay.listBytesFor(size) + size;
}
/** 1 once the whole file is checked and in flash (or was from the start). */
export function hierVerified(slot: i32): i32 { return <u32>slot < <u32>hiers.length && unchecked(hiers[slot]).verified ? 1 : 0; }
export function blockBytes(): u32 { return relay.BLOCK_BYTES; }
export function streamsOpen(): i32 {
  let n = 0;
  for (let i = 0; i < links.length; i++) if (unchecked(links[i]).kind != LINK_FREE) n++;
  return n;
}

// ---- counters
export function malformedDatagrams(): u32 { return core.malformedDatagrams; }
export function malformedFrames(): u32 { return stream.malformedFrames; }
export function corruptBlocks(): u32 { return relay.corruptBlocks; }
export function refetchedBytes(): u32 { return stream.refetchedBytes; }
export function staleHandles(): u32 { return core.staleHandles; }
export function outboxDroppedRecords(): u32 { return outboxDropped; }

/** Allocates a 1-byte block and returns its address: two marks around a
 *  workload differ by one block exactly when the workload allocated nothing. */
export function heapMark(): usize { return heap.alloc(1); }
