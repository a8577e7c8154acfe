// Reads a trace file record by record, checking every length against the
// layout (format.ts) before anything trusts it.

import { ABI_VERSION, T_CORE, T_END, T_NEED, T_STATE, T_XID, TRACE_HEADER_BYTES, TRACE_MAGIC_HI, TRACE_MAGIC_LO,
  TRACE_MAX_BODY_BYTES, TRACE_RECORD_HEADER_BYTES, TRACE_STATE_WORDS, TRACE_VERSION } from "../core/abi.js";
import { FIXED_BODY, kindName, TraceFormatError } from "./format.js";

export interface TraceRecord {
  index: number;
  kind: number;
  /** Byte offset of the record's header in the file. */
  at: number;
  body: Uint8Array;
  dv: DataView;
}

export function checkHeader(file: Uint8Array): void {
  if (file.length < TRACE_HEADER_BYTES) throw new TraceFormatError(`not a trace: ${file.length} bytes, shorter than the header`);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint32(0, true) !== TRACE_MAGIC_LO || dv.getUint32(4, true) !== TRACE_MAGIC_HI) throw new TraceFormatError("not a trace: no PFSTRACE magic");
  const version = dv.getUint32(8, true);
  if (version !== TRACE_VERSION) throw new TraceFormatError(`trace version ${version}; this reader knows ${TRACE_VERSION}`);
  const abi = dv.getUint32(12, true);
  if (abi !== ABI_VERSION) throw new TraceFormatError(`trace of ABI version ${abi}; this core is version ${ABI_VERSION}`);
}

/** The variable part a body must have beyond its fixed fields, where the
 *  fixed fields say how long it is. */
function variableBytes(kind: number, dv: DataView): number | null {
  switch (kind) {
    case T_CORE: return 4 * dv.getUint32(0, true);
    case T_NEED: return dv.getUint32(24, true) + dv.getUint32(28, true) + dv.getUint32(32, true);
    case T_XID: return dv.getUint32(4, true) + dv.getUint32(8, true);
    case T_STATE: return 4 * TRACE_STATE_WORDS * dv.getUint32(0, true);
    default: return null;
  }
}

function checkBody(kind: number, index: number, body: Uint8Array, dv: DataView): void {
  const fixed = FIXED_BODY[kind];
  if (fixed === undefined) throw new TraceFormatError(`record ${index}: unknown kind ${kind}`);
  const bad = () => new TraceFormatError(`record ${index} ${kindName(kind)}: body of ${body.length} bytes does not fit its layout`);
  if (body.length < fixed.bytes || (fixed.exact && body.length !== fixed.bytes)) throw bad();
  const v = variableBytes(kind, dv);
  if (v !== null && body.length !== fixed.bytes + v) throw bad();
}

/** Every record of `file`, in order; throws TraceFormatError at the first
 *  that breaks the layout, and when the file does not end with T_END. */
export function* records(file: Uint8Array): Generator<TraceRecord> {
  checkHeader(file);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let at = TRACE_HEADER_BYTES;
  let index = 0;
  for (;;) {
    if (at === file.length) throw new TraceFormatError(`trace cut short: no T_END after ${index} records`);
    if (at + TRACE_RECORD_HEADER_BYTES > file.length) throw new TraceFormatError(`trace cut short in the header of record ${index} (byte ${at})`);
    const kind = dv.getUint8(at);
    if (dv.getUint8(at + 1) !== 0 || dv.getUint16(at + 2, true) !== 0) throw new TraceFormatError(`record ${index}: header bytes 1..3 are not zero`);
    const len = dv.getUint32(at + 4, true);
    if (len > TRACE_MAX_BODY_BYTES) throw new TraceFormatError(`record ${index}: body of ${len} bytes is over the limit of ${TRACE_MAX_BODY_BYTES}`);
    const start = at + TRACE_RECORD_HEADER_BYTES;
    if (start + len > file.length) throw new TraceFormatError(`trace cut short in record ${index} ${kindName(kind)} (needs ${len} bytes at ${start}, file has ${file.length})`);
    const body = file.subarray(start, start + len);
    const bdv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    checkBody(kind, index, body, bdv);
    yield { index, kind, at, body, dv: bdv };
    at = start + len;
    index++;
    if (kind === T_END) {
      if (at !== file.length) throw new TraceFormatError(`${file.length - at} bytes after T_END`);
      return;
    }
  }
}
