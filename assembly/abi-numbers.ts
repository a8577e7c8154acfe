// Every number a host shares with the core, re-exported as wasm globals.
// This file is never part of pfs.wasm: `make` compiles it on its own to
// build/abi-numbers.wasm, and host/tools/gen-abi.ts reads the globals' values
// from that module to write host/core/abi.gen.ts (TypeScript) and
// build/gen/pfs_abi.h (C). So the core's own source is the one definition;
// the TypeScript and the C are generated from it, never written by hand.
// Names keep their prefix (OUT_, CFG_, EV_, ROLE_, NEED_, T_, ...): the
// generator groups by it.

export { ABI_VERSION } from "./index";
export {
  CONFIG_WORDS, CFG_NONE,
  CFG_SELF_ADDR, CFG_SEED, CFG_MAX_HIERARCHIES, CFG_MAX_STREAMS, CFG_OUTBOX_BYTES, CFG_INBOX_BYTES,
  CFG_LINGER_MS, CFG_HEARTBEAT_MS, CFG_PEER_TIMEOUT_MS, CFG_AD_INTERVAL_MS, CFG_ROOT_AD_INTERVAL_MS,
  CFG_JOIN_TIMEOUT_MS, CFG_RING_BYTES, CFG_MAX_TRANSFERS, CFG_MAX_FILE_BYTES, CFG_SERVE_BUFFERS, CFG_STAGING_BYTES,
} from "./config";
export {
  OUT_DATAGRAM, OUT_CONNECT, OUT_WRITE, OUT_CLOSE, OUT_EVENT, OUT_FETCH, OUT_FLASH_WRITE, OUT_FLASH_READ,
  OUT_WRITE_REF, BROADCAST_ADDR,
} from "./outbox";
export { OUT_HEADER_BYTES, MAX_CHILDREN, MAX_DEPTH, MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES } from "./limits";
export { NEED_VERIFIED, NEED_DIRECT, NEED_RELAY, NEED_STORE_FORWARD } from "./core";
export {
  EV_SOLICIT, EV_CLAIM, EV_CONFIRMED_ROOT, EV_FETCH, EV_YIELD, EV_JOINED, EV_CHILD_ADDED, EV_CHILD_LOST,
  EV_PARENT_LOST, EV_REFUSED, EV_MOVED, EV_MERGE, EV_MALFORMED, EV_LEFT, EV_ROOT_AD, EV_FILE_DONE, EV_CORRUPT,
  EV_MERGE_FAILED, EV_MERGE_PROVEN, EV_FLASH_FAILED, EVENT_BYTES,
  // The `n` of event MERGE_FAILED: why a claimed root did not prove itself.
  MERGE_SILENT, MERGE_REFUSED, MERGE_NO_BYTES, MERGE_LOST,
  // The `b` of event PARENT_LOST: the phone holds its file and claims instead of re-joining.
  PARENT_LOST_VERIFIED,
} from "./events";
// The rules a host meets at onStreamAccept (docs/ABI.md section 6) and in
// flash failures (section 7.3), and how long a merge is on trial.
export {
  PENDING_INBOUND_DIVISOR, MIN_PENDING_INBOUND, MAX_PENDING_PER_PEER, PENDING_EVICT_MS, FLASH_RETRY_MS,
  MAX_FLASH_FAILURES, MERGE_PROVE_MS, MERGE_BACKOFF_MS,
} from "./limits";
export { ROLE_IDLE, ROLE_DISCOVER, ROLE_CLAIMING, ROLE_ROOT, ROLE_JOINING, ROLE_ATTACHED, ROLE_WAITING } from "./hierarchy";
export { STRENGTH_CONFIRMED, STRENGTH_VERIFIED } from "./strength";
export { BLOCK_BYTES, HASH_BYTES } from "./relay";
export { MAGIC as WIRE_MAGIC, VERSION as WIRE_VERSION } from "./wire";
// Why an input was dropped: the `n` of event MALFORMED (ORed with 0x80 for a
// stream frame) and the hosts' names for it (host/log/console.ts).
export {
  BAD_SHORT, BAD_MAGIC, BAD_VERSION, BAD_TYPE, BAD_COUNT, BAD_LENGTH, BAD_FIELD, BAD_FRAME_SIZE, BAD_UNEXPECTED,
  BAD_OVERSIZE,
} from "./wire";
export {
  TRACE_VERSION, TRACE_MAGIC_LO, TRACE_MAGIC_HI, TRACE_HEADER_BYTES, TRACE_RECORD_HEADER_BYTES, TRACE_MAX_BODY_BYTES,
  T_CORE, T_END_CORE, T_END, T_NEED, T_XID, T_SET_HELD, T_RELEASE, T_DATAGRAM, T_ACCEPT, T_CONNECTED, T_STREAM_DATA,
  T_RX, T_WRITE_DONE, T_FLASH_WRITTEN, T_FLASH_READ, T_CLOSED, T_TIMER, T_DEADLINE, T_DRAIN, T_COUNTERS, T_STATE,
  TRACE_COUNTERS, TRACE_STATE_WORDS, TRACE_VIEW_TAG_BYTES,
} from "./trace-format";
