// The WAN between a root and the distant TFTP server. A fetch reads
// "<file>.blk" (the block list) and then "<file>" with TFTP: after a request
// round trip, each round sends `window` blocks of `blksize` bytes (window 1 is
// RFC 1350's lockstep; more is RFC 7440's windowsize) and waits an RTT for the
// ACK. Concurrent fetches queue for the link in turn (first come, first
// served): a lockstep flow leaves it idle while it waits for its ACK, so a few
// flows do not slow each other; many saturate it and share it. TFTP cannot
// start mid-file, so a fetch that resumes at byte N still pulls the bytes
// before N over the WAN (the host drops them); a root that already holds the
// list skips the ".blk" request.

export interface WanOptions {
  bitsPerSec: number;
  rttMs: number;
  /** TFTP block size (RFC 2348); 512 without negotiation. */
  blksize: number;
  /** TFTP window (RFC 7440); 1 = lockstep. */
  window: number;
}

export interface WanFetch {
  phone: number;
  gen: number;
  handle: number;
  model: number;
  /** The list, then the file: what the server has for this fetch. */
  stream: Uint8Array;
  listBytes: number;
  /** The core wants bytes from here on. */
  from: number;
  pos: number;
  roundBytes: number;
  /** Bytes of the last round the core has not taken yet (its ring is full). */
  pending: Uint8Array | null;
  cancelled: boolean;
}

export function startWanFetch(phone: number, gen: number, handle: number, model: number, stream: Uint8Array, listBytes: number, from: number): WanFetch {
  // Holding the whole list already, the root asks for the file alone.
  const pos = from >= listBytes ? listBytes : 0;
  return { phone, gen, handle, model, stream, listBytes, from, pos, roundBytes: 0, pending: null, cancelled: false };
}

/** The shared link: when it is next free to send. */
export interface WanLink {
  freeAtMs: number;
}

/** Sizes the next round of `job`, started at `nowMs`, and returns when its
 *  last byte reaches the root: a request round trip for a new file, the
 *  wait for the link, the bytes at the link's rate, then the way over. */
export function wanRound(job: WanFetch, wan: WanOptions, link: WanLink, nowMs: number): number {
  const end = job.pos < job.listBytes ? job.listBytes : job.stream.length;
  job.roundBytes = Math.min(wan.window * wan.blksize, end - job.pos);
  // The ACK (or a new RRQ and its option ack) travels to the server first.
  let readyMs = nowMs + wan.rttMs / 2;
  if (job.pos === 0 || job.pos === job.listBytes) readyMs += wan.rttMs;
  const startMs = Math.max(readyMs, link.freeAtMs);
  link.freeAtMs = startMs + (job.roundBytes * 8 * 1000) / wan.bitsPerSec;
  return link.freeAtMs + wan.rttMs / 2;
}

/** What one phone alone needs to fetch `bytes` this way, in ms (the theory
 *  next to the simulated singleMs). */
export function tftpAloneMs(bytes: number, wan: WanOptions): number {
  const rounds = Math.ceil(bytes / (wan.window * wan.blksize));
  return rounds * wan.rttMs + (bytes * 8 * 1000) / wan.bitsPerSec + wan.rttMs;
}
