// Core events as console lines in the vendor's style (technote and FACTS.md:
// "NOT 02:19:24.412095 DLoad: @@@HROOT:XID080027F8 ..."). The core emits
// binary event records; this is the only place they become text.

import { Ev } from "../core/abi.js";

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
const MALFORMED_REASONS = ["?", "truncated", "bad magic", "bad version", "bad type", "bad count", "trailing bytes", "bad field", "bad frame size"];

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
        ? [line("NF ", `${x} TxBdcst ClaimRoot(tent): strength=${hex8(a)}`)]
        : [line("INF", `${x} TxBdcst Ad ${n}: ClaimRoot(tent)`)];
    case Ev.ConfirmedRoot:
      return [
        line("NOT", "UT:Confirmed root bumping strength"),
        line("NOT", `@@@HROOT:${x} m=${names?.model ?? "?"} ROOT=${formatAddr(self)} ${names?.file ?? ""}`.trimEnd()),
      ];
    case Ev.Fetch:
      return [line("INF", `${x} Root sending TFTP XfrCmd on ROOT_WAITING (${a} bytes)`)];
    case Ev.Yield:
      return [line("INF", `${x} Yield to ${n === 1 ? "root" : "stronger claim"} ${formatAddr(a)} strength=${hex8(b)}`)];
    case Ev.Joined:
      return [line("INF", `${x} Joined parent=${formatAddr(a)} depth=${n}`)];
    case Ev.ChildAdded:
      return [line("NOT", `${x} |child=${formatAddr(a)} children=${n} FULL=${n >= 2 ? 1 : 0}`)];
    case Ev.ChildLost:
      return [line("NOT", `${x} |child lost ${formatAddr(a)} children=${n}`)];
    case Ev.ParentLost:
      return [line("ERR", `${x} Parent ${formatAddr(a)} lost at depth ${n}: re-joining`)];
    case Ev.Refused:
      return [line("DBG", `${x} Refused by ${formatAddr(a)}: ${REFUSE_REASONS[n] ?? n}, ${b} candidates`)];
    case Ev.Moved:
      return [line("INF", `${x} Moved up: parent=${formatAddr(a)} depth=${n}`)];
    case Ev.Merge:
      return [line("NOT", `${x} Second root: merging under ${formatAddr(a)} strength=${hex8(b)}`)];
    case Ev.Malformed:
      return [line("WRN", `Dropped malformed ${n & 0x80 ? "frame" : "datagram"} from ${formatAddr(a)}: ${MALFORMED_REASONS[n & 0x7f] ?? n}`)];
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
