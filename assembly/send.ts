// Builds datagrams and stream frames in place in the outbox: reserve a record
// at the largest size, encode through a Writer, trim to what was written.

import { Writer } from "./bytes";
import { MAX_DATAGRAM_BYTES, MAX_FRAME_BYTES } from "./limits";
import { outboxDropLast, outboxPush, outboxTrimLast, OUT_CLOSE, OUT_CONNECT, OUT_DATAGRAM, OUT_WRITE } from "./outbox";
import { FRAME_LEN_BYTES } from "./wire";

const writer = new Writer();
let payload: usize = 0;
let reserved: i32 = 0;

function begin(kind: u8, a: u32, b: u32, bytes: i32): Writer {
  payload = outboxPush(kind, a, b, bytes);
  reserved = bytes;
  if (payload == 0) return writer.reset(0, -1);
  return writer.reset(payload, bytes);
}

/** Starts a datagram to `dst` (BROADCAST_ADDR for the subnet). */
export function beginDatagram(dst: u32): Writer {
  return begin(OUT_DATAGRAM, dst, 0, MAX_DATAGRAM_BYTES);
}

/** Starts a frame on stream `handle`. */
export function beginFrameOn(handle: i32): Writer {
  return begin(OUT_WRITE, 0, <u32>handle, MAX_FRAME_BYTES + FRAME_LEN_BYTES);
}

/** Completes what begin* started; false if it could not be sent. */
export function finish(w: Writer): bool {
  if (payload == 0) return false;
  if (!w.ok) {
    outboxDropLast(payload, reserved);
    payload = 0;
    return false;
  }
  outboxTrimLast(payload, reserved, w.length());
  payload = 0;
  return true;
}

export function requestConnect(handle: i32, addr: u32): void {
  outboxPush(OUT_CONNECT, addr, <u32>handle, 0);
}

export function requestClose(handle: i32): void {
  outboxPush(OUT_CLOSE, 0, <u32>handle, 0);
}
