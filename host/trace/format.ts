// The trace file's layout (docs/TRACE.md): the numbers come from the core's
// source (abi.gen.ts); this adds the names and the body sizes every reader
// checks before it trusts a length.

import * as A from "../core/abi.js";

export const KIND_NAMES: Record<number, string> = {
  [A.T_CORE]: "T_CORE", [A.T_END_CORE]: "T_END_CORE", [A.T_END]: "T_END", [A.T_NEED]: "T_NEED", [A.T_XID]: "T_XID",
  [A.T_SET_HELD]: "T_SET_HELD", [A.T_RELEASE]: "T_RELEASE", [A.T_DATAGRAM]: "T_DATAGRAM", [A.T_ACCEPT]: "T_ACCEPT",
  [A.T_CONNECTED]: "T_CONNECTED", [A.T_STREAM_DATA]: "T_STREAM_DATA", [A.T_RX]: "T_RX", [A.T_WRITE_DONE]: "T_WRITE_DONE",
  [A.T_FLASH_WRITTEN]: "T_FLASH_WRITTEN", [A.T_FLASH_READ]: "T_FLASH_READ", [A.T_CLOSED]: "T_CLOSED", [A.T_TIMER]: "T_TIMER",
  [A.T_DEADLINE]: "T_DEADLINE", [A.T_DRAIN]: "T_DRAIN", [A.T_COUNTERS]: "T_COUNTERS", [A.T_STATE]: "T_STATE",
};

/** The fixed part of each kind's body; `exact` kinds have nothing more. */
export const FIXED_BODY: Record<number, { bytes: number; exact: boolean }> = {
  [A.T_CORE]: { bytes: 8, exact: false },
  [A.T_END_CORE]: { bytes: 0, exact: true },
  [A.T_END]: { bytes: 40, exact: true },
  [A.T_NEED]: { bytes: 36, exact: false },
  [A.T_XID]: { bytes: 12, exact: false },
  [A.T_SET_HELD]: { bytes: 24, exact: true },
  [A.T_RELEASE]: { bytes: 16, exact: true },
  [A.T_DATAGRAM]: { bytes: 16, exact: false },
  [A.T_ACCEPT]: { bytes: 16, exact: true },
  [A.T_CONNECTED]: { bytes: 12, exact: true },
  [A.T_STREAM_DATA]: { bytes: 20, exact: false },
  [A.T_RX]: { bytes: 16, exact: false },
  [A.T_WRITE_DONE]: { bytes: 16, exact: true },
  [A.T_FLASH_WRITTEN]: { bytes: 16, exact: true },
  [A.T_FLASH_READ]: { bytes: 20, exact: false },
  [A.T_CLOSED]: { bytes: 12, exact: true },
  [A.T_TIMER]: { bytes: 8, exact: true },
  [A.T_DEADLINE]: { bytes: 8, exact: true },
  [A.T_DRAIN]: { bytes: 0, exact: false },
  [A.T_COUNTERS]: { bytes: 4 * A.TRACE_COUNTERS, exact: true },
  [A.T_STATE]: { bytes: 8, exact: false },
};

export const kindName = (k: number) => KIND_NAMES[k] ?? `kind ${k}`;

/** The file is not a trace, or breaks its own layout. */
export class TraceFormatError extends Error {}

/** The counters of a T_COUNTERS body, in order. */
export const COUNTER_EXPORTS = ["malformedDatagrams", "malformedFrames", "corruptBlocks", "refetchedBytes", "staleHandles", "outboxDroppedRecords"] as const;

export const formatAddr = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
