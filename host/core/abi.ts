// Numbers shared with the core (assembly/): outbox record kinds, event codes,
// roles, config word indices. docs/ABI.md is the reference; a test checks the
// core's view of the few that it can report.

export const OUT_HEADER_BYTES = 12;
export const OUT_DATAGRAM = 1;
export const OUT_CONNECT = 2;
export const OUT_WRITE = 3;
export const OUT_CLOSE = 4;
export const OUT_EVENT = 5;
export const OUT_FETCH = 6;
export const OUT_FLASH_WRITE = 7;
export const OUT_FLASH_READ = 8;
export const OUT_WRITE_REF = 9;

export const BROADCAST_ADDR = 0xffffffff;

export const CFG = {
  selfAddr: 0,
  seed: 1,
  maxHierarchies: 2,
  maxStreams: 3,
  outboxBytes: 4,
  inboxBytes: 5,
  lingerMs: 6,
  heartbeatMs: 7,
  peerTimeoutMs: 8,
  adIntervalMs: 9,
  rootAdIntervalMs: 10,
  joinTimeoutMs: 11,
  ringBytes: 12,
  maxTransfers: 13,
  maxFileBytes: 14,
  serveBuffers: 15,
} as const;

/** A config word of this value means zero where zero means "default". */
export const CFG_NONE = 0xffffffff;

export type CoreConfig = { [K in keyof typeof CFG]?: number };

export const NEED_VERIFIED = 1;
export const NEED_DIRECT = 2;
export const NEED_RELAY = 4;
export const NEED_STORE_FORWARD = 8;

/** The block list's block size (a protocol constant) and hash size. */
export const BLOCK_BYTES = 16384;
export const HASH_BYTES = 32;

export enum Role {
  Idle = 0,
  Discover = 1,
  Claiming = 2,
  Root = 3,
  Joining = 4,
  Attached = 5,
}

export enum Ev {
  Solicit = 1,
  Claim = 2,
  ConfirmedRoot = 3,
  Fetch = 4,
  Yield = 5,
  Joined = 6,
  ChildAdded = 7,
  ChildLost = 8,
  ParentLost = 9,
  Refused = 10,
  Moved = 11,
  Merge = 12,
  Malformed = 13,
  Left = 14,
  RootAd = 15,
  FileDone = 16,
  Corrupt = 17,
}

export const STRENGTH_CONFIRMED = 0x80000000;
export const STRENGTH_VERIFIED = 0x40000000;
export const MAX_CHILDREN = 2;
