// A rogue behaviour (issue 10, 5b: "Forged roots stall the upgrade"):
// forgers broadcast a ROOT_AD with strength ffffffff and no candidates (17
// bytes) for every XID of the fleet, once per root advertisement interval,
// from addresses that are no phone's and never answer TCP. With `rotate`,
// every datagram comes from an address never used before, so an avoid list
// keyed on addresses cannot catch them. The cores must take a strength as a
// claim only (assembly/merge.ts): the fleet finishes in about the time it
// takes without forgers.

import { WIRE_MAGIC, WIRE_VERSION } from "../core/abi.js";
import type { World } from "./world.js";

/** Forger k speaks from 10.0.240.1 + k: above every phone's address
 *  (10.0.0.1 + i, MAX_FLEET_PHONES 20,000). */
export const FORGER_ADDR_BASE = 0x0a00_f001; // 10.0.240.1
/** Rotating sources count up from 10.1.0.1, one address per datagram. */
export const ROTATING_ADDR_BASE = 0x0a01_0001;
/** As often as an honest root advertises (rootAdIntervalMs), the issue's
 *  "five 17-byte datagrams every 2 s" for a five-file load. */
export const FORGE_INTERVAL_MS = 2000;
/** The strength a forger claims: the highest there is. */
export const FORGED_STRENGTH = 0xffffffff;

export interface ForgerStats {
  /** ROOT_ADs forged (one per XID per forger per interval). */
  forgedAds: number;
}

/** The ROOT_AD datagram type (docs/PROTOCOL.md 4.1). */
const ROOT_AD_TYPE = 0x03;

/** A 17-byte ROOT_AD (docs/PROTOCOL.md 4.4) with no candidates. */
export function forgedRootAd(xid: number, strength = FORGED_STRENGTH, sizeBytes = 0): Uint8Array {
  const b = new Uint8Array(17);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, WIRE_MAGIC);
  b[2] = WIRE_VERSION;
  b[3] = ROOT_AD_TYPE;
  dv.setUint32(4, xid >>> 0);
  dv.setUint32(8, strength >>> 0);
  dv.setUint32(12, sizeBytes >>> 0);
  b[16] = 0;
  return b;
}

/** Starts `count` forgers on `world`, each at its own phase of the
 *  interval (from `phaseRandom`, 0..1), forging for the XIDs `xids()` names
 *  at each tick, until `untilMs`. */
export function startForgers(world: World, count: number, rotate: boolean, xids: () => number[], phaseRandom: () => number,
  untilMs = Infinity): ForgerStats {
  const stats: ForgerStats = { forgedAds: 0 };
  let next = ROTATING_ADDR_BASE;
  for (let k = 0; k < count; k++) {
    const fixed = (FORGER_ADDR_BASE + k) >>> 0;
    const tick = (atMs: number): void => {
      if (atMs > untilMs) return;
      world.at(atMs, () => {
        for (const xid of xids()) {
          world.forgeDatagram(rotate ? (next++ >>> 0) : fixed, forgedRootAd(xid));
          stats.forgedAds++;
        }
        tick(atMs + FORGE_INTERVAL_MS);
      });
    };
    tick(phaseRandom() * FORGE_INTERVAL_MS);
  }
  return stats;
}
