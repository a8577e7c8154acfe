// Replays one trace file (docs/TRACE.md): the header, then record by record
// with every length checked before anything trusts it, one core after
// another. This module holds one core: each T_CORE boots it again with
// init() (the first time a power-on, then a reboot, which the core makes
// indistinguishable from one; assembly/core.ts coreInit).

import * as pfs from "../assembly/index";
import { CFG_SELF_ADDR } from "../assembly/config";
import {
  T_CORE, T_COUNTERS, T_DEADLINE, T_DRAIN, T_END, T_END_CORE, T_STATE, T_XID, TRACE_HEADER_BYTES, TRACE_MAGIC_HI,
  TRACE_MAGIC_LO, TRACE_MAX_BODY_BYTES, TRACE_RECORD_HEADER_BYTES, TRACE_VERSION,
} from "../assembly/trace-format";
import { counters, deadline, state } from "./checks";
import { digestBegin, digestEnd, digestHex, foldU32, outboxRecords } from "./digest";
import { drain } from "./drain";
import { input, xid } from "./inputs";
import { DIGEST_BYTES, exactBody, fixedBodyBytes, kindName, timedKind } from "./kinds";
import { failed, malformed, mismatch, where } from "./outcome";
import { pendingReset } from "./pending";
import * as R from "./reader";

/** init() refuses a reboot whose table sizes differ from the first boot's
 *  (docs/ABI.md section 2.2). */
const INIT_OTHER_SIZES: i32 = -3;

let cores: u32 = 0;
let inCore = false;
/** Body length of the record being replayed. */
let bodyLen: u32 = 0;
/** Where this replay's digest is, once T_END agreed. */
let mine: usize = 0;
const endDigest = memory.data(<i32>DIGEST_BYTES, 8);

function header(): bool {
  const size = R.fileBytes();
  if (size < <u64>TRACE_HEADER_BYTES) {
    return malformed("not a trace: " + size.toString() + " bytes, shorter than the header");
  }
  const lo = R.readU32();
  const hi = R.readU32();
  if (lo != TRACE_MAGIC_LO || hi != TRACE_MAGIC_HI) return malformed("not a trace: no PFSTRACE magic");
  const version = R.readU32();
  if (version != TRACE_VERSION) {
    return malformed("trace version " + version.toString() + "; this reader knows " + TRACE_VERSION.toString());
  }
  const abi = R.readU32();
  if (abi != pfs.ABI_VERSION) {
    return malformed("trace of ABI version " + abi.toString() + "; this core is version " + pfs.ABI_VERSION.toString());
  }
  return true;
}

function startCore(body: u32): bool {
  if (inCore) return malformed("record " + where.record.toString() + ": T_CORE inside core " + where.core.toString());
  const n = R.readU32();
  const words = <u32>pfs.configWords();
  if (n > words) {
    return malformed("record " + where.record.toString() + ": " + n.toString() + " config words, the core has " + words.toString());
  }
  if (body != <u32>fixedBodyBytes(T_CORE) + 4 * n) return layout(body);
  const cfg = pfs.configPtr();
  for (let i: u32 = 0; i < words; i++) store<u32>(cfg + (<usize>i << 2), i < n ? R.readU32() : 0);
  const exp = R.readI32();
  inCore = true;
  pendingReset();
  where.core = <i32>cores;
  cores++;
  where.selfAddr = load<u32>(cfg + (<usize>CFG_SELF_ADDR << 2));
  const got = pfs.init();
  if (got == INIT_OTHER_SIZES && exp != INIT_OTHER_SIZES) {
    return malformed("record " + where.record.toString() + ": core " + where.core.toString() + " has other table sizes " +
      "than the first core this module booted (init() = -3); this engine boots one core per run and reboots it " +
      "for every T_CORE, which cannot resize it: replay this file alone, or on the v8 engine");
  }
  if (got != exp) return mismatch("init(): expected " + exp.toString() + ", got " + got.toString());
  foldU32(T_CORE, <u32>got);
  return true;
}

function end(): bool {
  if (inCore) return malformed("T_END inside core " + where.core.toString());
  const c = R.readU32();
  const recs = R.readU32();
  R.into(endDigest, <usize>DIGEST_BYTES);
  if (c != cores || recs != outboxRecords) {
    return mismatch("the recording saw " + c.toString() + " cores and " + recs.toString() + " outbox records, this replay " +
      cores.toString() + " and " + outboxRecords.toString());
  }
  mine = digestEnd();
  if (memory.compare(mine, endDigest, <usize>DIGEST_BYTES) != 0) {
    return mismatch("the recording's digest is " + digestHex(endDigest) + ", this replay's " + digestHex(mine));
  }
  return true;
}

function layout(body: u32): bool {
  return malformed("record " + where.record.toString() + " " + kindName(where.kind) + ": body of " + body.toString() +
    " bytes does not fit its layout");
}

/** One record whose header was read and whose body is in the file. */
function step(kind: u32, body: u32): bool {
  const fixed = fixedBodyBytes(kind);
  if (fixed < 0) return malformed("record " + where.record.toString() + ": unknown kind " + kind.toString());
  if (body < <u32>fixed || (exactBody(kind) && body != <u32>fixed)) return layout(body);
  if (kind == T_CORE) return startCore(body);
  if (kind == T_END) return end();
  if (!inCore) return malformed("record " + where.record.toString() + " " + kindName(kind) + " outside any core");
  switch (kind) {
    case T_END_CORE:
      inCore = false;
      where.core = -1;
      return true;
    case T_DEADLINE: return deadline();
    case T_DRAIN: return drain(body);
    case T_COUNTERS: return counters();
    case T_STATE: return state(body);
    case T_XID: return xid(body);
  }
  assert(timedKind(kind));
  where.nowMs = R.readF64();
  return input(kind, where.nowMs, body);
}

/** The next record's header: false at a cut-short end. */
function nextRecord(): bool {
  const at = R.position();
  const size = R.fileBytes();
  if (at == size) return malformed("trace cut short: no T_END after " + where.record.toString() + " records");
  if (at + <u64>TRACE_RECORD_HEADER_BYTES > size) {
    return malformed("trace cut short in the header of record " + where.record.toString() + " (byte " + at.toString() + ")");
  }
  where.kind = <u32>R.readU8();
  R.readU8(); // three bytes of zero (docs/TRACE.md section 1)
  R.readU8();
  R.readU8();
  const len = R.readU32();
  bodyLen = len;
  if (len > TRACE_MAX_BODY_BYTES) {
    return malformed("record " + where.record.toString() + ": body of " + len.toString() + " bytes is over the limit of " +
      TRACE_MAX_BODY_BYTES.toString());
  }
  const start = at + <u64>TRACE_RECORD_HEADER_BYTES;
  if (start + <u64>len > size) {
    return malformed("trace cut short in record " + where.record.toString() + " " + kindName(where.kind) + " (needs " +
      len.toString() + " bytes at " + start.toString() + ", file has " + size.toString() + ")");
  }
  return true;
}

/** Replays the open file: true when every answer agreed up to T_END (then
 *  digestLine() is what to print), false with the outcome set. */
export function replayFile(): bool {
  cores = 0;
  inCore = false;
  mine = 0;
  where.core = -1;
  where.record = 0;
  where.kind = 0;
  digestBegin();
  if (!header()) return false;
  for (;;) {
    if (!nextRecord()) return false;
    const start = R.position();
    const body = bodyLen;
    if (!step(where.kind, body)) return false;
    if (R.readFailed()) {
      return malformed("read error in record " + where.record.toString() + " (WASI errno " + R.readErrno().toString() + ")");
    }
    assert(R.position() == start + <u64>body, "a record's reader took more or less than its body");
    const kind = where.kind;
    where.record++;
    if (kind == T_END) break;
  }
  if (R.position() != R.fileBytes()) return malformed((R.fileBytes() - R.position()).toString() + " bytes after T_END");
  return !failed();
}

/** "digest <64 hex> records <n>", the line every engine prints. */
export function digestLine(): string {
  assert(mine != 0, "no digest before T_END");
  return "digest " + digestHex(mine) + " records " + outboxRecords.toString();
}
