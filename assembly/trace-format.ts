// The trace file's numbers (docs/TRACE.md): record kinds and sizes. A trace
// is everything a core received in a run, call by call, with what it answered
// (return values, outbox records, deadlines, counters); replayers on every
// engine feed it back and compare. These numbers are the one source for the
// TypeScript recorder, the WASI replayer (AssemblyScript, which imports this
// file) and the C replayer (build/gen/pfs_abi.h, generated from it).
// Nothing in pfs.wasm itself imports this file.

export const TRACE_VERSION: u32 = 1;
/** "PFSTRACE" read as two little-endian words. */
export const TRACE_MAGIC_LO: u32 = 0x54534650; // "PFST"
export const TRACE_MAGIC_HI: u32 = 0x45434152; // "RACE"
/** Magic (8), trace version (4), the core's ABI version (4). */
export const TRACE_HEADER_BYTES: i32 = 16;
/** Every record: u8 kind, u8 0, u16 0, u32 body length. */
export const TRACE_RECORD_HEADER_BYTES: i32 = 8;
/** No body is longer: the largest is a receive window of the largest ring
 *  the config allows (16 MiB, config.ts) plus its fixed fields. */
export const TRACE_MAX_BODY_BYTES: u32 = (1 << 24) + 64;

// Framing of the file.
export const T_CORE: u8 = 1; //          a fresh core: config words, init()'s result
export const T_END_CORE: u8 = 2; //      that core is done
export const T_END: u8 = 3; //           the file is done: cores, outbox records, digest

// Inputs: one per exported call a host makes (docs/ABI.md section 3.2).
export const T_NEED: u8 = 4;
export const T_XID: u8 = 5;
export const T_SET_HELD: u8 = 6;
export const T_RELEASE: u8 = 7;
export const T_DATAGRAM: u8 = 8;
export const T_ACCEPT: u8 = 9;
export const T_CONNECTED: u8 = 10;
export const T_STREAM_DATA: u8 = 11;
export const T_RX: u8 = 12; //           rxWindow(), the bytes put at rxPtr(), onStreamRx()
export const T_WRITE_DONE: u8 = 13;
export const T_FLASH_WRITTEN: u8 = 14;
export const T_FLASH_READ: u8 = 15; //   the bytes put in the staging view, onFlashRead()
export const T_CLOSED: u8 = 16;
export const T_TIMER: u8 = 17;

// Outputs the host read: compared, and folded into the digest.
export const T_DEADLINE: u8 = 18; //     nextDeadlineMs()
export const T_DRAIN: u8 = 19; //        the outbox, normalised, then outboxClear()
export const T_COUNTERS: u8 = 20; //     the six counters, whenever one changed
export const T_STATE: u8 = 21; //        every hierarchy slot's state, at the end of a core

/** Counters in a T_COUNTERS body, in this order: malformedDatagrams,
 *  malformedFrames, corruptBlocks, refetchedBytes, staleHandles,
 *  outboxDroppedRecords. */
export const TRACE_COUNTERS: i32 = 6;
/** Words per slot in a T_STATE body: role, xid, strength, depth, parent,
 *  child 0, child 1, held, total, verified, subtree size, subtree height. */
export const TRACE_STATE_WORDS: i32 = 12;
/** Bytes of the SHA-256 prefix that stands for a view's address in a
 *  normalised outbox record (OUT_FLASH_WRITE, OUT_WRITE_REF). */
export const TRACE_VIEW_TAG_BYTES: i32 = 4;
