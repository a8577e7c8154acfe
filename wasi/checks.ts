// The output records a host reads without calling an input (docs/TRACE.md
// section 2): the next deadline, the six counters, every slot's state. Each
// is compared word for word and folded into the digest as observed.

import * as pfs from "../assembly/index";
import { T_COUNTERS, T_DEADLINE, T_STATE, TRACE_COUNTERS, TRACE_STATE_WORDS } from "../assembly/trace-format";
import { foldF64, foldKind, foldU32, foldWord } from "./digest";
import { fixedBodyBytes, kindName, WORD_BYTES } from "./kinds";
import { malformed, mismatch, where } from "./outcome";
import * as R from "./reader";
import { numText } from "./text";

export function deadline(): bool {
  const exp = R.readF64();
  const got = pfs.nextDeadlineMs();
  // Bit for bit: Infinity, and the exact double the recording saw.
  if (reinterpret<u64>(got) != reinterpret<u64>(exp)) {
    return mismatch("expected deadline " + numText(exp) + ", got " + numText(got));
  }
  foldF64(T_DEADLINE, got);
  return true;
}

function counterName(i: i32): string {
  switch (i) {
    case 0: return "malformedDatagrams";
    case 1: return "malformedFrames";
    case 2: return "corruptBlocks";
    case 3: return "refetchedBytes";
    case 4: return "staleHandles";
    case 5: return "outboxDroppedRecords";
  }
  return "?";
}

/** Counter `i` in T_COUNTERS order. */
function counter(i: i32): u32 {
  switch (i) {
    case 0: return pfs.malformedDatagrams();
    case 1: return pfs.malformedFrames();
    case 2: return pfs.corruptBlocks();
    case 3: return pfs.refetchedBytes();
    case 4: return pfs.staleHandles();
    case 5: return pfs.outboxDroppedRecords();
  }
  assert(false, "no such counter");
  return 0;
}

export function counters(): bool {
  assert(TRACE_COUNTERS == 6, "counter() knows six counters");
  foldKind(T_COUNTERS);
  for (let i = 0; i < TRACE_COUNTERS; i++) {
    const exp = R.readU32();
    const got = counter(i);
    if (got != exp) {
      return mismatch("counter " + i.toString() + " (" + counterName(i) + "): expected " + exp.toString() + ", got " +
        got.toString());
    }
    foldWord(got);
  }
  return true;
}

const STATE_NAMES = [
  "hierRole", "hierXid", "hierStrength", "hierDepth", "hierParent", "hierChild(0)", "hierChild(1)", "hierHeld",
  "hierTotal", "hierVerified", "hierSubtreeSize", "hierSubtreeHeight",
];

/** Word `w` of slot `s` in T_STATE order. */
function slotWord(s: i32, w: i32): u32 {
  switch (w) {
    case 0: return <u32>pfs.hierRole(s);
    case 1: return pfs.hierXid(s);
    case 2: return pfs.hierStrength(s);
    case 3: return <u32>pfs.hierDepth(s);
    case 4: return pfs.hierParent(s);
    case 5: return pfs.hierChild(s, 0);
    case 6: return pfs.hierChild(s, 1);
    case 7: return pfs.hierHeld(s);
    case 8: return pfs.hierTotal(s);
    case 9: return <u32>pfs.hierVerified(s);
    case 10: return pfs.hierSubtreeSize(s);
    case 11: return pfs.hierSubtreeHeight(s);
  }
  assert(false, "no such state word");
  return 0;
}

export function state(body: u32): bool {
  assert(STATE_NAMES.length == TRACE_STATE_WORDS);
  const n = R.readU32();
  const words = <u64>n * <u64>TRACE_STATE_WORDS;
  if (<u64>fixedBodyBytes(T_STATE) + words * <u64>WORD_BYTES != <u64>body) {
    return malformed("record " + where.record.toString() + " " + kindName(T_STATE) + ": body of " + body.toString() +
      " bytes does not fit its layout");
  }
  const slots = pfs.hierCapacity();
  if (n != <u32>slots) return mismatch(slots.toString() + " hierarchy slots, expected " + n.toString());
  foldU32(T_STATE, n);
  for (let s = 0; s < slots; s++) {
    for (let w = 0; w < TRACE_STATE_WORDS; w++) {
      const exp = R.readU32();
      const got = slotWord(s, w);
      if (got != exp) {
        return mismatch("slot " + s.toString() + " " + STATE_NAMES[w] + ": expected " + exp.toString() + ", got " +
          got.toString());
      }
      foldWord(got);
    }
  }
  const exp = R.readU32();
  const got = <u32>pfs.streamsOpen();
  if (got != exp) return mismatch("streamsOpen: expected " + exp.toString() + ", got " + got.toString());
  foldWord(got);
  return true;
}
