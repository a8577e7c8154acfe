import * as core from "../../assembly/core";
import { hiers } from "../../assembly/hierarchy";
import { outboxPush, outboxUsed, outboxDropped, outboxClear } from "../../assembly/outbox";
import { BLOCK_BYTES, transferOf } from "../../assembly/relay";
import { now, P1, P2, runUntil, OUTBOX_BYTES } from "./support";
import {
  ack, autoAck, blockAt, bootRelay, dFrames, dNext, dones, drain, feedServer, fetchHandle, fetches, flashAcked, flashNext,
  joinAt, lastReadHandle, lastReadOff, listBytes, makeFile, offerServer, problems, reads, readsPending, rootRelay, serveRead,
  serverPos, setAutoFlash, setAutoRead, total, unacked, dataBad, dStaged,
} from "./relay-support";

function fillOutbox(free: i32): void {
  let left = <i32>OUTBOX_BYTES - outboxUsed() - free;
  while (left > 0) {
    let len = left - 12;
    if (len > 60000) len = 60000;
    len = len & ~3;
    outboxPush(0, 0, 0, len);
    left -= 12 + len;
  }
}

describe("scratch", () => {
  test("B4 laggard", () => {
    bootRelay();
    makeFile(200000, 50);
    rootRelay();
    setAutoFlash(true);
    const a = joinAt(P1, 0);
    autoAck[a] = true;
    const b = joinAt(P2, 0);
    drain();
    for (let i = 0; i < 200 && offerServer(4096) > 0; i++) {}
    log<u32>(serverPos); log<u32>(dNext[a]); log<u32>(dNext[b]); log<u32>(flashAcked);
    ack(b, unacked(b));
    log<i32>(reads);
    log<u32>(dNext[b]);
    for (let i = 0; i < 200 && offerServer(4096) > 0; i++) {}
    log<u32>(serverPos); log<u32>(total); log<u32>(dNext[a]);
    log<i32>(problems());
  });

  test("B2 lost flash read", () => {
    bootRelay();
    makeFile(40000, 51);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 4096);
    log<i32>(dones);
    const c = joinAt(P1, 0);
    log<i32>(reads);
    serveRead();
    log<i32>(dFrames[c]);
    fillOutbox(10);
    const d0 = outboxDropped;
    core.onWriteDone(now, c, <i32>unacked(c));
    log<u32>(outboxDropped - d0);
    outboxClear();
    drain();
    runUntil(now + 30000);
    drain();
    log<i32>(reads);
    log<i32>(readsPending);
  });

  test("B3 lost fetch", () => {
    bootRelay();
    makeFile(40000, 52);
    log<i32>(-1);
  });

  test("B5 stale read on reused handle", () => {
    bootRelay();
    makeFile(200000, 53);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 4096);
    log<i32>(dones);
    const a = joinAt(P1, blockAt(3));
    log<i32>(reads); log<u32>(lastReadOff);
    // a goes away with its read in flight
    core.onStreamClosed(now, a);
    drain();
    const b = joinAt(P2, blockAt(7));
    log<i32>(b == a ? 1 : 0);
    log<i32>(readsPending);
    serveRead(); // the old read (a's, blockAt(3)) completes, reported under the handle
    log<i32>(dFrames[b]);
    log<i32>(dataBad);
  });

  test("B1 hang", () => {
    bootRelay();
    makeFile(200000, 54);
    rootRelay();
    setAutoFlash(true);
    feedServer(blockAt(6), 4096);
    const c = joinAt(P1, 0);
    log<u32>(unacked(c));
    fillOutbox(100);
    core.onWriteDone(now, c, <i32>unacked(c));
    log<i32>(999);
  });
});
