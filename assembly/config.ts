// Board figures and timers, written by the host into the config block before
// init(). Word indices are part of the ABI (docs/ABI.md); a zero word means
// "use the default" so an old host keeps working when a word is added.

import { BLOCK_BYTES } from "./limits";

export const CONFIG_WORDS: i32 = 32;

export const CFG_SELF_ADDR: i32 = 0;
export const CFG_SEED: i32 = 1;
export const CFG_MAX_HIERARCHIES: i32 = 2;
export const CFG_MAX_STREAMS: i32 = 3;
export const CFG_OUTBOX_BYTES: i32 = 4;
export const CFG_INBOX_BYTES: i32 = 5;
export const CFG_LINGER_MS: i32 = 6;
export const CFG_HEARTBEAT_MS: i32 = 7;
export const CFG_PEER_TIMEOUT_MS: i32 = 8;
export const CFG_AD_INTERVAL_MS: i32 = 9;
export const CFG_ROOT_AD_INTERVAL_MS: i32 = 10;
export const CFG_JOIN_TIMEOUT_MS: i32 = 11;
export const CFG_RING_BYTES: i32 = 12;
export const CFG_MAX_TRANSFERS: i32 = 13;
export const CFG_MAX_FILE_BYTES: i32 = 14;
export const CFG_SERVE_BUFFERS: i32 = 15;
export const CFG_STAGING_BYTES: i32 = 16;

/** The block the host fills; static so it exists before init(). */
export const configWords = new StaticArray<u32>(CONFIG_WORDS);

function word(index: i32, fallback: u32): u32 {
  const v = unchecked(configWords[index]);
  return v == 0 ? fallback : v;
}

// Settled values, read once by init().
export let selfAddr: u32 = 0;
export let seed: u32 = 0;
export let maxHierarchies: i32 = 8;
export let maxStreams: i32 = 32;
export let outboxBytes: i32 = 16384;
export let inboxBytes: i32 = 4096;
/** How long a phone that holds a file keeps serving it (late joiners). */
export let lingerMs: f64 = 600000;
/** Parent<->child keep-alive period on the stream. */
export let heartbeatMs: f64 = 1000;
/** A peer silent this long is gone (3.5 heartbeats: one lost frame is not
 *  enough to break a link, TCP would retransmit it anyway). */
export let peerTimeoutMs: f64 = 3500;
/** Tentative-claim advertisement period: 250 ms in the vendor's console log
 *  (FACTS.md: Ad 1..4 every 250 ms, confirmed ~1.25 s after the first claim). */
export let adIntervalMs: f64 = 250;
/** A confirmed root re-advertises this often, so that two roots (loss, healed
 *  partition) hear each other and merge, and late joiners find the tree. */
export let rootAdIntervalMs: f64 = 2000;
/** A join attempt (connect + JOIN + answer) that takes longer is abandoned. */
export let joinTimeoutMs: f64 = 1500;

/** Reads the block into the settled values: 0 on success, -2 when a figure
 *  is out of bounds, -3 when `rebooting` and a table size would change (the
 *  tables were sized at the first init). On failure nothing changes. */
/** Relay figures (relay.ts). The ring takes whole blocks; maxTransfers may be
 *  0 (election and tree only, no bytes: the tree-only simulator runs). */
export let ringBytes: i32 = 65536;
export let maxTransfers: i32 = 4;
export let maxFileBytes: u32 = 16 << 20;
export let serveBuffers: i32 = 4;
/** Bytes of one staging buffer (a flash read for a child served from
 *  flash): a whole block by default; a small board reads less at a time. */
export let stagingBytes: i32 = <i32>BLOCK_BYTES;
/** The smallest staging buffer: DATA frames much smaller than this waste
 *  the link on headers. */
const MIN_STAGING_BYTES: i32 = 512;
/** Word value meaning "zero" where zero itself would mean "default". */
export const CFG_NONE: u32 = 0xffffffff;

function wordOrNone(index: i32, fallback: u32): u32 {
  const v = unchecked(configWords[index]);
  return v == CFG_NONE ? 0 : v == 0 ? fallback : v;
}

export function settleConfig(rebooting: bool): i32 {
  const self = unchecked(configWords[CFG_SELF_ADDR]);
  const hierarchies = <i32>word(CFG_MAX_HIERARCHIES, 8);
  let streams = <i32>word(CFG_MAX_STREAMS, 0);
  if (streams == 0) streams = hierarchies * 4 + 4;
  const outBytes = <i32>word(CFG_OUTBOX_BYTES, 16384);
  const inBytes = <i32>word(CFG_INBOX_BYTES, 4096);
  const ring = <i32>word(CFG_RING_BYTES, 65536);
  const transfers = <i32>wordOrNone(CFG_MAX_TRANSFERS, 4);
  const fileMax = word(CFG_MAX_FILE_BYTES, 16 << 20);
  const serve = <i32>wordOrNone(CFG_SERVE_BUFFERS, 4);
  const stage = <i32>word(CFG_STAGING_BYTES, BLOCK_BYTES);
  const heartbeat = <f64>word(CFG_HEARTBEAT_MS, 1000);
  const peerTimeout = <f64>word(CFG_PEER_TIMEOUT_MS, 3500);
  // Bounds a host cannot exceed: they keep the tables and buffers sane.
  if (self == 0 || self == 0xffffffff) return -2;
  if (hierarchies < 1 || hierarchies > 64) return -2;
  if (streams < 4 || streams > 1024) return -2;
  if (outBytes < 1024 || outBytes > (1 << 24)) return -2;
  if (inBytes < 256 || inBytes > (1 << 24)) return -2;
  if (heartbeat * 2 > peerTimeout) return -2;
  // The ring holds whole 16 KiB blocks, at least two (one verified block goes
  // on while the next arrives); files up to 1 GiB.
  if (ring < 2 * <i32>BLOCK_BYTES || ring > (1 << 24) || ring % <i32>BLOCK_BYTES != 0) return -2;
  if (transfers < 0 || transfers > 64 || serve < 0 || serve > 64) return -2;
  if (stage < MIN_STAGING_BYTES || stage > <i32>BLOCK_BYTES || stage % 4 != 0) return -2;
  if (fileMax < 1 || fileMax > (1 << 30)) return -2;
  if (rebooting && (hierarchies != maxHierarchies || streams != maxStreams || outBytes != outboxBytes || inBytes != inboxBytes ||
    ring != ringBytes || transfers != maxTransfers || fileMax != maxFileBytes || serve != serveBuffers || stage != stagingBytes)) return -3;
  ringBytes = ring;
  maxTransfers = transfers;
  maxFileBytes = fileMax;
  serveBuffers = serve;
  stagingBytes = stage;
  selfAddr = self;
  seed = unchecked(configWords[CFG_SEED]);
  maxHierarchies = hierarchies;
  maxStreams = streams;
  outboxBytes = outBytes;
  inboxBytes = inBytes;
  lingerMs = <f64>word(CFG_LINGER_MS, 600000);
  heartbeatMs = heartbeat;
  peerTimeoutMs = peerTimeout;
  adIntervalMs = <f64>word(CFG_AD_INTERVAL_MS, 250);
  rootAdIntervalMs = <f64>word(CFG_ROOT_AD_INTERVAL_MS, 2000);
  joinTimeoutMs = <f64>word(CFG_JOIN_TIMEOUT_MS, 1500);
  return 0;
}
