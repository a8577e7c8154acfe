// Who may open a stream to this phone, decided by the host before the core
// sees the connection. A peer is one IPv4 source address. Two limits:
//   - streams open at once from one source: an honest peer has at most one
//     link (or join attempt) to us per hierarchy it shares with us;
//   - accepts from one source per second, a token bucket: an honest peer
//     joins once per file and again after a repair, not thousands of times.
// A connection over either limit is closed at once, unread, and never
// reaches the core: 500 connections re-opened as fast as they close from
// one address (385,338 connects in 60 s) once held the core's stream table
// and delayed real joins by up to 36 s. The core keeps its own reserve for
// tree links (docs/ABI.md, onStreamAccept); this is the host's part.

/** Sources remembered at once. A flood from rotating addresses evicts the
 *  quiet ones first; a source with streams open is never forgotten. */
export const SOURCES_TRACKED_MAX = 1024;
/** Accepts per second one source earns back, sustained. */
export const ACCEPTS_PER_SOURCE_PER_SEC = 10;

export interface AcceptLimits {
  /** Streams open at once from one source. */
  openPerSource: number;
  /** Accepts one source may make in a burst (the bucket's depth). */
  burstPerSource: number;
  /** Accepts per second a source earns back. */
  perSecond: number;
}

/** The limits for a core of `maxHierarchies`: one stream per hierarchy at
 *  once, a burst of two per hierarchy (a join, then a retry or a move). */
export function acceptLimits(maxHierarchies: number): AcceptLimits {
  const h = Math.max(1, Math.floor(maxHierarchies));
  return { openPerSource: Math.max(2, h), burstPerSource: Math.max(4, 2 * h), perSecond: ACCEPTS_PER_SOURCE_PER_SEC };
}

interface Source {
  open: number;
  tokens: number;
  refilledMs: number;
}

export type GateVerdict = "ok" | "too-many-open" | "too-fast";

export class AcceptGate {
  private readonly sources = new Map<number, Source>();
  /** Connections refused, by reason, since the start. */
  readonly refused = { tooManyOpen: 0, tooFast: 0 };

  constructor(private readonly limits: AcceptLimits) {
    if (!(limits.openPerSource >= 1 && limits.burstPerSource >= 1 && limits.perSecond > 0)) throw new RangeError("accept limits must be positive");
  }

  /** Whether a connection from `addr` may be handed to the core now; "ok"
   *  counts it as open until release(addr). */
  admit(addr: number, nowMs: number): GateVerdict {
    const s = this.source(addr, nowMs);
    s.tokens = Math.min(this.limits.burstPerSource, s.tokens + ((nowMs - s.refilledMs) * this.limits.perSecond) / 1000);
    s.refilledMs = nowMs;
    if (s.open >= this.limits.openPerSource) {
      this.refused.tooManyOpen++;
      return "too-many-open";
    }
    if (s.tokens < 1) {
      this.refused.tooFast++;
      return "too-fast";
    }
    s.tokens -= 1;
    s.open++;
    return "ok";
  }

  /** A connection admitted from `addr` has closed (its socket, not only the
   *  core's link: a half-closed socket still holds a descriptor). */
  release(addr: number): void {
    const s = this.sources.get(addr);
    if (s === undefined || s.open === 0) throw new Error(`accept gate: release of ${addr >>> 0} with nothing open`);
    s.open--;
  }

  openFrom(addr: number): number {
    return this.sources.get(addr)?.open ?? 0;
  }

  private source(addr: number, nowMs: number): Source {
    let s = this.sources.get(addr);
    if (s !== undefined) return s;
    if (this.sources.size >= SOURCES_TRACKED_MAX) this.evict(nowMs);
    s = { open: 0, tokens: this.limits.burstPerSource, refilledMs: nowMs };
    this.sources.set(addr, s);
    return s;
  }

  /** Forgets sources with nothing open whose bucket would be full again:
   *  they lose nothing by being forgotten. Failing that, any with nothing
   *  open (oldest first): a fresh bucket is what a new source gets anyway. */
  private evict(nowMs: number): void {
    const fullAfterMs = (this.limits.burstPerSource * 1000) / this.limits.perSecond;
    for (const [addr, s] of this.sources) if (s.open === 0 && nowMs - s.refilledMs >= fullAfterMs) this.sources.delete(addr);
    if (this.sources.size < SOURCES_TRACKED_MAX) return;
    for (const [addr, s] of this.sources) {
      if (s.open !== 0) continue;
      this.sources.delete(addr);
      if (this.sources.size < SOURCES_TRACKED_MAX) return;
    }
  }
}
