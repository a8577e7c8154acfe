// Named limits of the core. Everything the core holds is bounded by one of
// these or by a board figure passed to init() (see config.ts). Nothing here
// grows at run time: the tables are sized once in init().

/** Block size of the block list: a protocol constant (docs/PROTOCOL.md §7).
 *  Every block is checked as a whole, so the ring holds whole blocks. */
export const BLOCK_BYTES: u32 = 16384;

/** Children per phone in one hierarchy: the tree is binary (vendor technote). */
export const MAX_CHILDREN: i32 = 2;

/** Deepest tree we can describe. A balanced binary tree of 2^24 phones is 24
 *  deep; a path longer than this is refused at join time. */
export const MAX_DEPTH: i32 = 24;

/** Free-slot candidates one message may carry (ROOT_AD, REFUSE). */
export const MAX_WIRE_CANDIDATES: i32 = 4;

/** Free-slot candidates a phone reports for its subtree (UP summaries). */
export const MAX_SUBTREE_CANDIDATES: i32 = 2;

/** Candidates a joiner keeps while walking towards a free slot. */
export const MAX_JOIN_CANDIDATES: i32 = 8;

/** Addresses a joiner remembers having tried in one round, so a refusal loop
 *  cannot send it back and forth between two full phones. */
export const MAX_TRIED: i32 = 16;

/** Largest control frame on a stream (JOIN/ACCEPT/REFUSE/UP/DOWN). DOWN is
 *  the largest: 1+4+1 + MAX_DEPTH*4 + 10 = 112 bytes; room to spare. */
export const MAX_FRAME_BYTES: i32 = 256;

/** Largest datagram we build or accept: ROOT_AD with MAX_WIRE_CANDIDATES.
 *  Far below a 1472-byte Ethernet UDP payload. */
export const MAX_DATAGRAM_BYTES: i32 = 128;

/** Bytes one outbox record header takes (kind, flags, len, a, b). */
export const OUT_HEADER_BYTES: i32 = 12;

/** Attempts one join walk may make before it starts over with discovery. A
 *  walk descends at most MAX_DEPTH levels; twice that allows for races. */
export const MAX_JOIN_HOPS: i32 = 2 * MAX_DEPTH;

/** Discovery: solicitations per round before a phone claims root itself,
 *  one advertisement interval apart (one: 250 ms of listening). A second
 *  one bought nothing: a root answers a CLAIM as it answers a SOLICIT, and
 *  a claim does not fetch before its Ad 1 (TENTATIVE_FETCH_AD), so a lost
 *  answer costs a claim that yields, no WAN byte. */
export const SOLICITS_PER_ROUND: i32 = 1;

/** Another phone's SOLICIT heard this recently makes ours redundant: the
 *  root's answer is a broadcast that reaches us too. */
export const SOLICIT_SUPPRESS_MS: f64 = 100;

/** Claim advertisements after the first: Ad 1..4 (vendor console log). */
export const CLAIM_ADS: i32 = 4;

/** After yielding to a stronger tentative claim, wait this many advertisement
 *  intervals for it to confirm (its Ad 4 comes 4 intervals after its first
 *  claim, confirmation one later; 6 leave room for one lost advertisement:
 *  1.5 s at the vendor's 250 ms). */
export const CLAIM_WAIT_INTERVALS: f64 = 6;

/** From this Ad on a first claimant is a tentative root (election.ts): it
 *  fetches from the server, and phones that hear the claim join it. At Ad 0
 *  a crowd booted together claims at once (each phone stronger than every
 *  claim it heard so far: about ln N of them, 8 for 1000 phones), and the
 *  claims cross within a LAN's millisecond; by Ad 1, one advertisement
 *  interval later, all but the strongest have yielded. Fetching from Ad 0
 *  instead took 42 server contacts for 5 files of 1000 simulated phones,
 *  and trees built under claimants that then yielded. Waiting costs 250 ms,
 *  0.8 % of a 7961 load at 2 Mbit/s; confirming first (the vendor's way)
 *  costs 1.25 s. */
export const TENTATIVE_FETCH_AD: i32 = 1;

/** A root answers solicitations and foreign claims at most this often: one
 *  broadcast serves every joiner that asked in the meantime. */
export const ROOT_AD_MIN_GAP_MS: f64 = 100;

/** UP/DOWN updates caused by a change go out at most this often per link;
 *  a change then climbs a 10-deep tree in about 200 ms. */
export const UPDATE_MIN_GAP_MS: f64 = 20;

/** Backoff before a joiner whose walk found nothing starts over. */
export const REJOIN_BACKOFF_MS: u32 = 100;
export const REJOIN_JITTER_MS: u32 = 300;

/** Rebalancing: a leaf moves to a free slot at least this many levels above
 *  its own depth. Two keeps the tree within ceil(log2(n+1)) levels below the
 *  root at rest (docs/DESIGN.md) without leaves trading places level by level. */
export const MOVE_MIN_GAIN: i32 = 2;
export const MOVE_JITTER_MS: u32 = 300;
export const MOVE_BACKOFF_MS: u32 = 1000;

/** A link whose heartbeat falls due within heartbeatMs / 4 of a wake-up sends
 *  it at that wake-up (coalescing timers). */
export const HEARTBEAT_EARLY_DIVISOR: f64 = 4;

/** A refused move may follow the refuser's own free slots this many times
 *  before it waits for fresh news from its parent. */
export const MAX_MOVE_HOPS: i32 = 4;

/** Joiners released together by one ROOT_AD start their walks spread over
 *  this long (one advertisement interval). */
export const JOIN_SPREAD_MS: u32 = 250;

/** A root whose server fetch broke tries again this much later. */
export const FETCH_RETRY_MS: f64 = 2000;

// ---------------------------------------------------------------- claims are only claims (merge.ts)

/** A root that merged under a stronger one keeps its server fetch on trial
 *  until the new parent has delivered a checked block beyond the root's own
 *  offset; this long after the ACCEPT, a parent that has not is dropped.
 *  An honest stronger root holds at least as many blocks as we do, so it
 *  needs at most a block or two of its own fetch: about 2 s over lockstep
 *  TFTP at 2000 kbit/s and 80 ms (docs/DESIGN.md, "Forged roots"). */
export const MERGE_PROVE_MS: f64 = 10000;

/** After a merge that cost its fetch something (a JOIN went out, so the
 *  server stream paused) and failed, a root hears no stronger ROOT_AD for
 *  this long, doubled per further such failure in a row: forged ROOT_ADs
 *  whose sources answer TCP (rotating ones too) cost it at most one pause
 *  per backoff. A merge that never got a connection cost nothing and backs
 *  off nothing: the avoid list keeps that source out. */
export const MERGE_BACKOFF_MS: f64 = 10000;
/** The doubling stops here: 10 s << 6 = 640 s, about AVOID_MS. */
export const MAX_MERGE_BACKOFF_SHIFT: i32 = 6;

/** A walk started by a ROOT_AD gives up after this many attempts that
 *  nobody answered (no ACCEPT, no REFUSE that says why): a forged ROOT_AD
 *  lists addresses that never answer, and each costs a join timeout. An
 *  honest walk's first attempt is answered (docs/DESIGN.md). The claimed
 *  root itself is then asked once more before it is struck (tree.ts). */
export const MAX_SILENT_HOPS: i32 = 2;

// ---------------------------------------------------------------- streams nobody joined on (core.ts onStreamAccept)

/** Inbound streams that have not sent their JOIN yet may hold at most
 *  maxStreams / PENDING_INBOUND_DIVISOR handles (at least
 *  MIN_PENDING_INBOUND): the other half stays for tree links (parents,
 *  children, our own joins, server fetches: a phone relaying 5 files holds
 *  about 15), so connections that never send a JOIN cannot take every handle
 *  (docs/ABI.md, onStreamAccept). Half, not less: a new root's first
 *  ROOT_AD brings a crowd of joiners within one JOIN_SPREAD_MS. */
export const PENDING_INBOUND_DIVISOR: i32 = 2;
export const MIN_PENDING_INBOUND: i32 = 2;
/** Not-yet-joined inbound streams from one address. A joiner has one join
 *  attempt in flight per hierarchy, and its walks start spread over
 *  JOIN_SPREAD_MS, so two at once is already rare. */
export const MAX_PENDING_PER_PEER: i32 = 2;
/** With every pending handle taken, the oldest pending stream gives way to
 *  a new one once it has waited this long for its JOIN: an honest joiner
 *  sends JOIN one round trip after its connect, a connection that holds a
 *  handle idle does not. */
export const PENDING_EVICT_MS: f64 = 250;

// ---------------------------------------------------------------- flash writes that fail (relay.ts)

/** A failed flash write is asked for again this much later, doubled per
 *  failure in a row (1, 2, 4, 8 s). */
export const FLASH_RETRY_MS: f64 = 1000;
/** Failed flash writes in a row (no byte written in between) after which
 *  the transfer is given up: event FLASH_FAILED, then LEFT. */
export const MAX_FLASH_FAILURES: i32 = 4;
