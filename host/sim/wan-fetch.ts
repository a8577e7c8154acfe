// What the simulated WAN knows of one server fetch and of the link: the
// shapes the TFTP and HTTP models (wan-tftp.ts, wan-http.ts) work on.


/** Where a root fetches its load from (issue 13 §1). */
export type WanSource = "tftp" | "http";
export const WAN_SOURCES: WanSource[] = ["tftp", "http"];

export interface WanOptions {
  bitsPerSec: number;
  rttMs: number;
  source: WanSource;
  /** TFTP block size (RFC 2348); 512 without negotiation. */
  blksize: number;
  /** TFTP window (RFC 7440) the root asks and the server grants; 1 = lockstep. */
  window: number;
  /** The WAN budget for the whole subnet, bit/s; 0: no cap. */
  capBitsPerSec: number;
  /** The board's transfers at once, which a root's window cap is split by. */
  fetchesAtOnce: number;
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
  /** The first byte this fetch asks of the server. */
  startPos: number;
  pos: number;
  roundBytes: number;
  /** When the last round began to cross the link (HTTP's ACK clock). */
  lastStartMs: number;
  /** HTTP: the congestion window for the next round, bytes (0: no
   *  connection yet). */
  cwndBytes: number;
  /** Bytes of the last round the core has not taken yet (its ring is full). */
  pending: Uint8Array | null;
  cancelled: boolean;
}

export function startWanFetch(phone: number, gen: number, handle: number, model: number, stream: Uint8Array, listBytes: number, from: number, source: WanSource): WanFetch {
  console.assert(from >= 0 && from <= stream.length && listBytes <= stream.length, "a fetch starts inside its stream");
  // TFTP cannot start mid-file: it asks the list (unless held whole) and
  // the file from 0. HTTP asks `Range: bytes=N-` of whichever it is in.
  const startPos = source === "http" ? from : from >= listBytes ? listBytes : 0;
  return { phone, gen, handle, model, stream, listBytes, from, startPos, pos: startPos, roundBytes: 0, lastStartMs: 0, cwndBytes: 0, pending: null, cancelled: false };
}

/** A round starts a new request: the fetch's first, or the file after its list. */
export function freshRequest(job: WanFetch): boolean {
  return job.pos === job.startPos || job.pos === job.listBytes;
}

/** Where the request the next round belongs to ends: the list, or the file. */
export function requestEnd(job: WanFetch): number {
  return job.pos < job.listBytes ? job.listBytes : job.stream.length;
}

export { WanLink } from "./wan-link.js";
