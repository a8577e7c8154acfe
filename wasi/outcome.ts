// How a replay ends, and the one line that says why. The record being
// replayed (where) names a difference the way docs/TRACE.md section 5 asks:
// core index and address, record index and kind, the virtual time of an
// input. AssemblyScript has no exceptions: a step that fails records its
// outcome here and returns false, and the loop stops.

import { kindName, timedKind } from "./kinds";
import { addrText, numText } from "./text";

/** Exit codes (docs/TRACE.md): all agreed; a difference; the trace (or a
 *  limit of this engine) kept the replay from running. */
export const EXIT_OK: i32 = 0;
export const EXIT_MISMATCH: i32 = 1;
export const EXIT_BAD: i32 = 2;

/** What the replay is at. */
@final
export class Where {
  file: string = "";
  /** Index of the core in the file; -1 outside a core. */
  core: i32 = -1;
  selfAddr: u32 = 0;
  record: u32 = 0;
  kind: u32 = 0;
  /** The record's own time, when its kind has one (timedKind). */
  nowMs: f64 = 0;
}

export const where = new Where();

let code: i32 = EXIT_OK;
let line: string = "";

export function failed(): bool {
  return code != EXIT_OK;
}

export function exitCode(): i32 {
  return code;
}

export function failureLine(): string {
  return line;
}

/** Clears the outcome before the next file. */
export function resetOutcome(): void {
  code = EXIT_OK;
  line = "";
}

function first(c: i32, text: string): bool {
  assert(c != EXIT_OK);
  if (code == EXIT_OK) {
    code = c;
    line = text;
  }
  return false;
}

/** This core answered otherwise than the recording. Returns false. */
export function mismatch(what: string): bool {
  const who = where.core < 0 ? "" : "core " + where.core.toString() + " (" + addrText(where.selfAddr) + ") ";
  const at = timedKind(where.kind) ? " at " + numText(where.nowMs) + " ms" : "";
  const record = "record " + where.record.toString() + " " + kindName(where.kind);
  return first(EXIT_MISMATCH, "mismatch: " + who + record + at + ": " + what);
}

/** The file is not a whole, well-formed trace. Returns false. */
export function malformed(what: string): bool {
  return first(EXIT_BAD, "pfs-wasi: " + where.file + ": " + what);
}
