// TFTP option negotiation (RFC 2347): what a client asks for, what a server
// grants, and whether a server's OACK is one a client may accept. The
// options: blksize (RFC 2348), tsize and timeout (RFC 2349), windowsize
// (RFC 7440). Values on the wire are decimal strings; anything that is not a
// plain decimal within range is treated as absent, never thrown on.

import { TftpOption } from "./packet.js";

/** RFC 1350: without negotiation every block but the last is 512 bytes. */
export const BLKSIZE_DEFAULT_BYTES = 512;
/** RFC 2348 section 2: "between 8 and 65464 octets, inclusive". */
export const BLKSIZE_MIN_BYTES = 8;
export const BLKSIZE_MAX_BYTES = 65464;
/** RFC 2349 section 2: "between 1 and 255 seconds, inclusive". */
export const TIMEOUT_MIN_SEC = 1;
export const TIMEOUT_MAX_SEC = 255;
/** RFC 7440 section 3: "between 1 and 65535 blocks, inclusive"; 1 is
 *  RFC 1350's lockstep. */
export const WINDOWSIZE_MIN = 1;
export const WINDOWSIZE_MAX = 65535;
/** RFC 2349 sets no bound on tsize; ours is what a JS number counts exactly. */
export const TSIZE_MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** Digits we read at most: a longer number is out of every range above. */
const DECIMAL_MAX_DIGITS = 16;

/** What a transfer runs with once negotiation is over. */
export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** The sender's retransmission timeout, when agreed (RFC 2349). */
  timeoutSec?: number;
  /** The file's size in bytes, when the server told it (RFC 2349). */
  tsize?: number;
}

/** A transfer with no options acknowledged (none asked, or the server
 *  ignored them and answered with DATA 1). */
export const NOT_NEGOTIATED: Readonly<Negotiated> = { blksize: BLKSIZE_DEFAULT_BYTES, windowsize: 1 };

/** A plain unsigned decimal in [min, max], or undefined: no sign, no spaces,
 *  no exponent, no hex. */
export function parseDecimal(value: string, min: number, max: number): number | undefined {
  if (value.length === 0 || value.length > DECIMAL_MAX_DIGITS || !/^[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be a whole number from ${min} to ${max} (got ${value})`);
}

export interface ClientWants {
  blksize?: number;
  windowsize?: number;
  /** Ask for the file's size (RFC 2349: "tsize 0" in a read request). */
  tsize?: boolean;
  /** Asked as the `timeout` option when a whole number of seconds in range. */
  timeoutSec?: number;
}

/** The options a read request carries. A value out of its RFC's range is the
 *  caller's mistake and throws a RangeError. */
export function requestOptions(w: ClientWants): TftpOption[] {
  const options: TftpOption[] = [];
  if (w.blksize !== undefined) {
    checkRange("blksize", w.blksize, BLKSIZE_MIN_BYTES, BLKSIZE_MAX_BYTES);
    options.push({ name: "blksize", value: String(w.blksize) });
  }
  if (w.tsize === true) options.push({ name: "tsize", value: "0" });
  if (w.timeoutSec !== undefined && Number.isInteger(w.timeoutSec) && w.timeoutSec >= TIMEOUT_MIN_SEC && w.timeoutSec <= TIMEOUT_MAX_SEC) {
    options.push({ name: "timeout", value: String(w.timeoutSec) });
  }
  if (w.windowsize !== undefined) {
    checkRange("windowsize", w.windowsize, WINDOWSIZE_MIN, WINDOWSIZE_MAX);
    options.push({ name: "windowsize", value: String(w.windowsize) });
  }
  return options;
}

export interface ServerLimits {
  /** The largest block this server sends (at most BLKSIZE_MAX_BYTES). */
  maxBlksize: number;
  /** The most bytes one transfer may have in flight: windowsize is cut to
   *  this over the blksize granted (at least 1). */
  windowMaxBytes: number;
  /** Size of the file being read, for tsize. */
  fileBytes: number;
}

/** What a server grants for a read request's options: the OACK to send
 *  (empty: send DATA 1 straight away, RFC 2347) and the transfer's terms.
 *  Options it does not know, repeats, and values out of range are left out
 *  of the OACK, which RFC 2347 allows ("the server may ignore it"). */
export function grantOptions(requested: readonly TftpOption[], limits: ServerLimits): { oack: TftpOption[]; negotiated: Negotiated } {
  const negotiated: Negotiated = { ...NOT_NEGOTIATED };
  const granted: string[] = [];
  for (const { name, value } of requested) {
    if (granted.includes(name)) continue;
    switch (name) {
      case "blksize": {
        const asked = parseDecimal(value, BLKSIZE_MIN_BYTES, Number.MAX_SAFE_INTEGER);
        if (asked === undefined) continue;
        // RFC 2348: a larger value than we support is answered with ours.
        negotiated.blksize = Math.min(asked, limits.maxBlksize, BLKSIZE_MAX_BYTES);
        break;
      }
      case "tsize":
        // RFC 2349: a read request carries 0; the OACK carries the size. Not
        // for an empty file: curl (7.88, tftp.c) takes "tsize 0" in an OACK
        // for an illegal operation and gives up; left out, it costs a client
        // nothing, since the empty DATA 1 says the size as well.
        if (parseDecimal(value, 0, TSIZE_MAX_BYTES) === undefined || limits.fileBytes === 0) continue;
        negotiated.tsize = limits.fileBytes;
        break;
      case "timeout": {
        // RFC 2349: accepted as asked or not at all.
        const sec = parseDecimal(value, TIMEOUT_MIN_SEC, TIMEOUT_MAX_SEC);
        if (sec === undefined) continue;
        negotiated.timeoutSec = sec;
        break;
      }
      case "windowsize": {
        const asked = parseDecimal(value, WINDOWSIZE_MIN, WINDOWSIZE_MAX);
        if (asked === undefined) continue;
        negotiated.windowsize = asked;
        break;
      }
      default:
        continue;
    }
    granted.push(name);
  }
  // RFC 7440 section 3: the server may answer with a smaller window; ours is
  // bounded in bytes, so it depends on the block size granted above.
  const windowCap = Math.max(WINDOWSIZE_MIN, Math.floor(limits.windowMaxBytes / negotiated.blksize));
  negotiated.windowsize = Math.min(negotiated.windowsize, windowCap);
  const values: Record<string, number | undefined> = {
    blksize: negotiated.blksize,
    tsize: negotiated.tsize,
    timeout: negotiated.timeoutSec,
    windowsize: negotiated.windowsize,
  };
  return { oack: granted.map((name) => ({ name, value: String(values[name]) })), negotiated };
}

/** Checks a server's OACK against what we asked (RFC 2347: it may only
 *  answer options we sent; RFC 2348 and 7440: blksize and windowsize no
 *  larger than asked; RFC 2349: timeout exactly as asked). */
export function acceptOack(requested: readonly TftpOption[], oack: readonly TftpOption[]): { ok: true; negotiated: Negotiated } | { ok: false; reason: string } {
  const asked = new Map(requested.map((o) => [o.name, o.value]));
  const negotiated: Negotiated = { ...NOT_NEGOTIATED };
  const seen = new Set<string>();
  const no = (reason: string) => ({ ok: false as const, reason });
  for (const { name, value } of oack) {
    const mine = asked.get(name);
    if (mine === undefined) return no(`OACK has '${name}', which we did not ask for`);
    if (seen.has(name)) return no(`OACK has '${name}' twice`);
    seen.add(name);
    switch (name) {
      case "blksize": {
        const n = parseDecimal(value, BLKSIZE_MIN_BYTES, Number(mine));
        if (n === undefined) return no(`OACK blksize '${value}' is not from ${BLKSIZE_MIN_BYTES} to the ${mine} we asked`);
        negotiated.blksize = n;
        break;
      }
      case "windowsize": {
        const n = parseDecimal(value, WINDOWSIZE_MIN, Number(mine));
        if (n === undefined) return no(`OACK windowsize '${value}' is not from ${WINDOWSIZE_MIN} to the ${mine} we asked`);
        negotiated.windowsize = n;
        break;
      }
      case "tsize": {
        const n = parseDecimal(value, 0, TSIZE_MAX_BYTES);
        if (n === undefined) return no(`OACK tsize '${value}' is not a size`);
        negotiated.tsize = n;
        break;
      }
      case "timeout": {
        const n = parseDecimal(value, TIMEOUT_MIN_SEC, TIMEOUT_MAX_SEC);
        if (n === undefined || n !== Number(mine)) return no(`OACK timeout '${value}' differs from the ${mine} we asked`);
        negotiated.timeoutSec = n;
        break;
      }
      default:
        // We never ask for anything else, so `mine` was undefined above.
        return no(`OACK has unknown option '${name}'`);
    }
  }
  return { ok: true, negotiated };
}
