// The roots of a subnet that are still fetching, as this phone hears them:
// every ROOT_AD datagram (docs/PROTOCOL.md section 4.4) carries its sender's
// strength, whose bit 30 (VERIFIED, section 3.3) is clear while that root
// does not yet hold its file: it is then fetching from the load server and
// takes a share of the WAN budget (./budget.ts). A CLAIM (section 4.3) counts
// too, for a shorter while: a first claimant fetches while it claims
// (section 6.3), before it sends any ROOT_AD.

/** docs/PROTOCOL.md 4.1: "PF", version 1. */
const MAGIC = 0x5046;
const VERSION = 1;
const T_CLAIM = 0x02;
const T_ROOT_AD = 0x03;
/** 4.3: header (8), strength (4), ad (1), flags (1). */
const CLAIM_BYTES = 14;
/** 4.4: header (8), strength (4), sizeBytes (4), n (1); candidates follow. */
const ROOT_AD_MIN_BYTES = 17;
const STRENGTH_VERIFIED = 1 << 30;
const STRENGTH_CONFIRMED = 0x8000_0000;

export interface RootAd {
  xid: number;
  strength: number;
  /** A CLAIM, not a ROOT_AD: a tentative root. */
  claim?: boolean;
}

/** A ROOT_AD's xid and strength, or undefined for anything else (other
 *  types, short or foreign datagrams: the core validates the rest). */
export function decodeRootAd(msg: Uint8Array): RootAd | undefined {
  if (msg.length < ROOT_AD_MIN_BYTES) return undefined;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (v.getUint16(0) !== MAGIC || msg[2] !== VERSION || msg[3] !== T_ROOT_AD) return undefined;
  const strength = v.getUint32(8);
  // Section 4.4: a root's strength has bit 31 set; anything else is not a root.
  if ((strength & STRENGTH_CONFIRMED) === 0) return undefined;
  return { xid: v.getUint32(4), strength };
}

/** A CLAIM's xid and strength as a tentative root's, or undefined. */
export function decodeClaim(msg: Uint8Array): RootAd | undefined {
  if (msg.length !== CLAIM_BYTES) return undefined;
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (v.getUint16(0) !== MAGIC || msg[2] !== VERSION || msg[3] !== T_CLAIM) return undefined;
  return { xid: v.getUint32(4), strength: v.getUint32(8), claim: true };
}

/** A claimant repeats its CLAIM every adIntervalMs until it confirms (and
 *  sends ROOT_ADs) or yields (and stops): one heard within this many
 *  intervals counts, one lost datagram included. */
export const CLAIM_HEARD_INTERVALS = 2;

/** A ROOT_AD heard within this many of the board's root-ad intervals counts:
 *  one lost datagram (UDP broadcast) must not double a root's share, and a
 *  root that died or finished stops counting within three. */
export const ROOT_HEARD_INTERVALS = 3;

/** The other phones heard as roots still fetching, across all XIDs: one
 *  phone that is root of several files counts once (its own fetches share
 *  its share). */
export class FetchingRoots {
  /** address -> of which XIDs it is heard fetching, and until when it counts. */
  private readonly heard = new Map<number, Map<number, number>>();

  /** A ROOT_AD counts for `windowMs`, a CLAIM for `claimWindowMs`. */
  constructor(
    private readonly self: number,
    private readonly windowMs: number,
    private readonly claimWindowMs = windowMs,
  ) {
    console.assert(windowMs > 0 && claimWindowMs > 0, "positive windows");
  }

  /** A ROOT_AD from `from`: a verified root no longer fetches that file. */
  hear(from: number, ad: RootAd, nowMs: number): void {
    if (from >>> 0 === this.self >>> 0) return; // our own broadcast, heard back
    let xids = this.heard.get(from);
    if ((ad.strength & STRENGTH_VERIFIED) !== 0) {
      xids?.delete(ad.xid);
      return;
    }
    if (xids === undefined) this.heard.set(from, (xids = new Map()));
    // Until when it counts; a claim never shortens what a ROOT_AD gave.
    const until = nowMs + (ad.claim === true ? this.claimWindowMs : this.windowMs);
    xids.set(ad.xid, Math.max(until, xids.get(ad.xid) ?? -Infinity));
  }

  /** Other phones fetching now (heard within the window). */
  count(nowMs: number): number {
    let n = 0;
    for (const [addr, xids] of this.heard) {
      for (const [xid, until] of xids) if (nowMs > until) xids.delete(xid);
      if (xids.size === 0) this.heard.delete(addr);
      else n++;
    }
    return n;
  }
}
