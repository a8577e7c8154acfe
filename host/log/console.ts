// Core events as console lines in the vendor's style (technote and FACTS.md:
// "NOT 02:19:24.412095 DLoad: @@@HROOT:XID080027F8 ..."). The core emits
// binary event records; this is the only place they become text.

import {
  BAD_COUNT, BAD_FIELD, BAD_FRAME_SIZE, BAD_LENGTH, BAD_MAGIC, BAD_OVERSIZE, BAD_SHORT, BAD_TYPE, BAD_UNEXPECTED, BAD_VERSION, Ev,
  PARENT_LOST_VERIFIED,
} from "../core/abi.js";

export interface HierarchyNames {
  model: string;
  file: string;
}

export function formatAddr(addr: number): string {
  addr >>>= 0;
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

export const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");
export const xidTag = (xid: number): string => `XID${hex8(xid).toUpperCase()}`;

/** hh:mm:ss.mmm of a millisecond clock. */
export function clock(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  const h = Math.floor(t / 3_600_000) % 24;
  const m = Math.floor(t / 60_000) % 60;
  const s = Math.floor(t / 1000) % 60;
  const frac = t % 1000;
  const p2 = (v: number) => String(v).padStart(2, "0");
  return `${p2(h)}:${p2(m)}:${p2(s)}.${String(frac).padStart(3, "0")}`;
}

const REFUSE_REASONS = ["?", "FULL", "NOT_MEMBER", "CYCLE", "TOO_DEEP"];
/** The n of event MERGE_FAILED (assembly/events.ts MERGE_*). */
const MERGE_FAILURES = ["?", "no answer", "refused", "delivered nothing", "link lost"];
/** Event MALFORMED's n has this bit set for a stream frame, clear for a
 *  datagram (docs/ABI.md, event 13; assembly/stream.ts). */
export const MALFORMED_FRAME_BIT = 0x80;

/** A name for every reason the core drops an input for (assembly/wire.ts
 *  BAD_*, generated into abi.gen.ts); tests check that none is missing. */
export const MALFORMED_REASON_NAMES: ReadonlyMap<number, string> = new Map([
  [BAD_SHORT, "truncated"],
  [BAD_MAGIC, "bad magic"],
  [BAD_VERSION, "bad version"],
  [BAD_TYPE, "bad type"],
  [BAD_COUNT, "bad count"],
  [BAD_LENGTH, "trailing bytes"],
  [BAD_FIELD, "bad field"],
  [BAD_FRAME_SIZE, "bad frame size"],
  [BAD_UNEXPECTED, "unexpected frame"],
  [BAD_OVERSIZE, "oversize input"],
]);

/** The name of a MALFORMED reason (with or without the frame bit); one the
 *  core added since this host was built still says what it is. */
export function malformedReason(n: number): string {
  const reason = n & ~MALFORMED_FRAME_BIT;
  return MALFORMED_REASON_NAMES.get(reason) ?? `reason ${reason} (unnamed)`;
}

/** Formats one event; null for events too chatty for a console. `self` is the
 *  phone's own address (ROOT= in the @@@HROOT line). */
export function formatEvent(
  atMs: number, self: number, xid: number, code: number, n: number, a: number, b: number, names?: HierarchyNames,
): string[] | null {
  const at = clock(atMs);
  const x = xidTag(xid);
  const line = (level: string, text: string) => `${level} ${at} DLoad: ${text}`;
  switch (code) {
    case Ev.Solicit:
      return [line("DBG", `${x} TxBdcst Solicit ${n + 1}: strength=${hex8(a)}`)];
    case Ev.Claim:
      return n === 0
        ? [line("INF", `${x} TxBdcst ClaimRoot(tent): strength=${hex8(a)}`)]
        : [line("INF", `${x} TxBdcst Ad ${n}: ClaimRoot(tent)`)];
    case Ev.ConfirmedRoot:
      return [
        line("NOT", "UT:Confirmed root bumping strength"),
        line("NOT", `@@@HROOT:${x} m=${names?.model ?? "?"} ROOT=${formatAddr(self)} ${names?.file ?? ""}`.trimEnd()),
      ];
    case Ev.Fetch:
      // n = 1: a first claimant fetching while it claims (assembly/election.ts).
      return [line("INF", n === 1 ? `${x} Tentative root fetching while it claims (${a} bytes)` : `${x} Root sending TFTP XfrCmd on ROOT_WAITING (${a} bytes)`)];
    case Ev.Yield:
      return [line("INF", `${x} Yield to ${n === 1 ? "root" : "stronger claim"} ${formatAddr(a)} strength=${hex8(b)}`)];
    case Ev.Joined:
      return [line("INF", `${x} Joined parent=${formatAddr(a)} depth=${n}`)];
    case Ev.ChildAdded:
      return [line("NOT", `${x} |child=${formatAddr(a)} children=${n} FULL=${n >= 2 ? 1 : 0}`)];
    case Ev.ChildLost:
      return [line("NOT", `${x} |child lost ${formatAddr(a)} children=${n}`)];
    case Ev.ParentLost:
      // A phone holding its file needs nothing more: its parent ending its
      // linger is no error, and it claims the root instead of re-joining.
      return b === PARENT_LOST_VERIFIED
        ? [line("INF", `${x} Parent ${formatAddr(a)} gone at depth ${n}, file complete: not re-joining, claiming root to serve late peers`)]
        : [line("ERR", `${x} Parent ${formatAddr(a)} lost at depth ${n}: re-joining`)];
    case Ev.Refused:
      return [line("DBG", `${x} Refused by ${formatAddr(a)}: ${REFUSE_REASONS[n] ?? n}, ${b} candidates`)];
    case Ev.Moved:
      return [line("INF", `${x} Moved up: parent=${formatAddr(a)} depth=${n}`)];
    case Ev.Merge:
      return [line("NOT", `${x} Second root: trying to merge under ${formatAddr(a)} strength=${hex8(b)} (keeping the fetch until it delivers)`)];
    case Ev.MergeProven:
      return [line("NOT", `${x} Merged: parent ${formatAddr(a)} delivers checked bytes, server fetch closed`)];
    case Ev.MergeFailed:
      return [line("WRN", `${x} Merge under ${formatAddr(a)} failed (${MERGE_FAILURES[n] ?? n}): still root${b > 0 ? `, no merge for ${b} ms` : ""}, source avoided`)];
    case Ev.FlashFailed:
      return [line("ERR", `${x} Flash writes from offset ${a} failed (${n} in a row): ${b === 1 ? "file given up" : "retrying"}`)];
    case Ev.Malformed:
      return [line("WRN", `Dropped malformed ${n & MALFORMED_FRAME_BIT ? "frame" : "datagram"} from ${formatAddr(a)}: ${malformedReason(n)}`)];
    case Ev.Left:
      return [line("INF", `${x} Left the hierarchy`)];
    case Ev.RootAd:
      return null;
    case Ev.FileDone:
      return [line("NOT", `${x} ${names?.file ?? "file"} complete: ${a} bytes checked and in flash${b > 0 ? ` (${b} bytes discarded on the way)` : ""}`)];
    case Ev.Corrupt:
      return [line("ERR", `${x} ${b === 0xffffffff ? "block list" : `block ${b}`} from ${a === 0 ? "the server" : formatAddr(a)} failed its SHA-256 check: dropped, source avoided`)];
    default:
      return [line("DBG", `${x} event ${code} n=${n} a=${hex8(a)} b=${hex8(b)}`)];
  }
}
