// relay.ts through the core: firmware bytes from the server to a root, from
// a root to its children as DATA frames, and from a parent into a child.
//
// One transfer is one offset space: the block list [0, listBytes) (SHA-256
// of every 16 KiB block), then the file [listBytes, total). The tests build
// a file (40000 bytes = 3 blocks: 16384 + 16384 + 7232; or 200000 bytes = 13
// blocks, more than the 8-block ring of these boots), hash its blocks and its
// list with the host's SHA-256 (the same env.sha256 the core imports), and
// pass the list hash to need() after the model and file names.
//
// A model host (relay-support.ts) drains the outbox after every call and
// checks every relay record as it goes: flash writes in order with the right
// bytes, each DATA head followed by the view of its payload with the right
// bytes, contiguous per child, and flash reads only of what is written.
// `problems()` counts broken rules and must stay 0 everywhere.
//
//   1. a root fetches list + file from the server and writes it to flash;
//   2. bad bytes from the server (a block, the list) never reach flash;
//   3. a root serves a child from its resume offset, list first from 0,
//      with a bounded number of bytes in flight;
//   4. backpressure: a full ring closes the receive window; late joiners are
//      served from flash;
//   5. a child takes DATA only at its next byte, and drops and avoids a
//      parent that sends a bad block;
//   6. store-and-forward serves nothing before the file is whole in flash;
//   7. a whole relay allocates nothing after init.
// Regression tests for bugs found while writing these close the file.

import * as core from "../../assembly/core";
import { Candidate } from "../../assembly/candidate";
import { hiers, NO_STREAM, ROLE_ATTACHED, ROLE_CLAIMING, ROLE_JOINING, ROLE_DISCOVER, ROLE_ROOT } from "../../assembly/hierarchy";
import { FETCH_RETRY_MS, SOLICITS_PER_ROUND } from "../../assembly/limits";
import { LINK_CHILD, LINK_SERVER, links } from "../../assembly/link";
import { outboxClear, outboxDropped, OUT_WRITE_REF } from "../../assembly/outbox";
import { BLOCK_BYTES, CHILD_INFLIGHT_BYTES, heldOffset } from "../../assembly/relay";
import { DATA_HEADER_BYTES, REFUSE_FULL } from "../../assembly/wire";
import {
  adCands, dgClaim, dgRootAd, fileXid, frAccept, frDown, frRefuse, now, P1, P2, P3, P9, recB, recKind, recLen, recPayload, runUntil, step,
} from "./support";
import {
  ack, attachRelay, autoAck, blockAt, bootRelay, buildFrames, capture, captureLen, closes, connects, corruptA,
  corruptB, corrupts, dFirst, dFirstLen, dFirstSeq, dFrames, dNext, dones, doneA, doneB, doneSeq, drain,
  dropReads, dSent, dStaged, feedBytes, feedBytesZeroCopy, feedServer, fetches, fetchFrom, fetchHandle,
  fetchSlot, fetchTotal, fillHeapHoles, fillOutbox, findDataHead, flashAcked, flashDone, flashNext, flashSlot,
  flashWrites, joinAt, joins, lastConnectAddr, lastConnectHandle, lastJoinOffset, lastReadHandle, lastReadLen,
  lastReadOff, linkOpen, listBytes, makeFile, malformed, needRelay, NONE, fileSize, offerServer, parentLost, problems,
  reads, readsPending, recNext, RING_BYTES, rootRelay, sameAsStream, serveRead, serverPos, setAutoFlash,
  setAutoRead, setCapture, total, unacked, viewsIntact, wire,
} from "./relay-support";

const SMALL: u32 = 40000; //  3 blocks: fits the ring
const LARGE: u32 = 200000; // 13 blocks: more than the ring (8)

const root1: StaticArray<u32> = [P1];
const chain2: StaticArray<u32> = [P1, P2];
const newChain: StaticArray<u32> = [P1, P3];
const refusal = new StaticArray<Candidate>(2);
refusal[0] = new Candidate();
refusal[1] = new Candidate();

/** Reports every flash write asked for, as often as new ones come. */
function flashAll(): void {
  for (let i = 0; i < 100 && flashAcked < flashNext; i++) flashDone(flashNext - flashAcked);
}

// ---------------------------------------------------------------- 1. server to flash

describe("a relay root: server to flash", () => {
  test("fetches list + file from 0 and writes the checked stream to flash in order, zero-copy", () => {
    bootRelay();
    makeFile(SMALL, 1);
    expect(listBytes).toBe(96);
    expect(total).toBe(40096);
    const slot = rootRelay();
    expect(fetches).toBe(1);
    expect(fetchSlot).toBe(<u32>slot);
    expect(fetchFrom).toBe(0);
    expect(fetchTotal).toBe(total);
    expect(links[fetchHandle].kind).toBe(LINK_SERVER);
    expect(hiers[0].server).toBe(fetchHandle);

    // 777-byte pieces: windows straddle the list's end and every block end.
    expect(feedServer(total, 777)).toBe(total);
    expect(problems()).toBe(0);
    expect(flashNext).toBe(total); // flash writes cover [0, total) in order, bytes checked
    expect(flashSlot).toBe(slot);
    expect(flashWrites).toBeGreaterThanOrEqual(4); // the list and three blocks
    expect(corrupts).toBe(0);
    expect(dones).toBe(0); // nothing reported written yet
    expect(hiers[0].verified).toBe(false);
    expect(core.rxWindow(fetchHandle)).toBe(0); // the whole stream is in

    // Flash reports in uneven pieces; done only with the last byte.
    flashDone(10000);
    flashDone(30000);
    expect(dones).toBe(0);
    expect(hiers[0].verified).toBe(false);
    flashDone(total - 40000);
    expect(dones).toBe(1);
    expect(doneA).toBe(SMALL);
    expect(doneB).toBe(0);
    expect(hiers[0].verified).toBe(true);
    expect(heldOffset(hiers[0])).toBe(total);
    expect(problems()).toBe(0);
  });

  test("the same through onStreamData: every offered byte taken, the file done once", () => {
    bootRelay();
    makeFile(SMALL, 2);
    rootRelay();
    setAutoFlash(true);
    while (serverPos < total) {
      const want = total - serverPos < 3000 ? total - serverPos : 3000;
      expect(offerServer(want)).toBe(<i32>want);
    }
    expect(problems()).toBe(0);
    expect(flashNext).toBe(total);
    expect(dones).toBe(1);
    expect(doneA).toBe(SMALL);
    expect(doneB).toBe(0);
    expect(hiers[0].verified).toBe(true);
    expect(malformed).toBe(0);
  });

  test("flash reports beyond what was asked for count only what was asked for", () => {
    bootRelay();
    makeFile(SMALL, 15);
    rootRelay();
    feedServer(blockAt(1), 1000); // the list and block 0: asked for, not written
    expect(flashNext).toBe(blockAt(1));
    core.onFlashWritten(now, 0, 1000000); // a host bug: more than was asked for
    drain();
    feedServer(total, 1000);
    expect(flashNext).toBe(total);
    expect(dones).toBe(0); // blocks 1 and 2 are not in flash yet
    expect(hiers[0].verified).toBe(false);
    flashDone(total);
    expect(dones).toBe(1);
    expect(problems()).toBe(0);
  });
});

// ---------------------------------------------------------------- 2. bad bytes from the server

describe("a relay root: bad bytes from the server", () => {
  test("a bad byte in block 1: EV_CORRUPT(block 1), block 1 never reaches flash, held stays at the end of block 0, the fetch closed", () => {
    bootRelay();
    makeFile(SMALL, 3);
    rootRelay();
    setAutoFlash(true);
    const server = fetchHandle;
    feedServer(total, 1000, blockAt(1) + 5000);
    expect(problems()).toBe(0); // what reached flash is the real stream
    expect(corrupts).toBe(1);
    expect(corruptB).toBe(1);
    expect(corruptA).toBe(0); // the server
    expect(flashNext).toBe(blockAt(1)); // the list and block 0, nothing of block 1
    expect(heldOffset(hiers[0])).toBe(blockAt(1));
    expect(closes[server]).toBe(1);
    expect(linkOpen(server)).toBe(false);
    expect(hiers[0].server).toBe(NO_STREAM);
    expect(dones).toBe(0);
    expect(hiers[0].verified).toBe(false);
  });

  test("after a corrupt block the fetch is retried from the held offset and completes, counting the discarded bytes", () => {
    bootRelay();
    makeFile(SMALL, 4);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 1000, blockAt(1) + 5000);
    expect(corrupts).toBe(1);
    const fedBefore = serverPos; // the host fed up to here before the close
    runUntil(now + FETCH_RETRY_MS);
    drain();
    expect(fetches).toBe(2);
    expect(fetchFrom).toBe(blockAt(1)); // resumes at its checked bytes
    expect(fetchTotal).toBe(total);
    expect(feedServer(total, 1000)).toBe(total - blockAt(1));
    expect(problems()).toBe(0);
    expect(corrupts).toBe(1);
    expect(dones).toBe(1);
    expect(doneA).toBe(SMALL);
    expect(doneB).toBe(fedBefore - blockAt(1)); // the bad block and what followed it in the same piece
    expect(hiers[0].verified).toBe(true);
  });

  test("a bad block list: EV_CORRUPT(0xffffffff), nothing written to flash, the fetch closed and retried from 0", () => {
    bootRelay();
    makeFile(SMALL, 5);
    rootRelay();
    setAutoFlash(true);
    const server = fetchHandle;
    feedServer(total, 1000, 40);
    expect(corrupts).toBe(1);
    expect(corruptB).toBe(0xffffffff);
    expect(corruptA).toBe(0);
    expect(flashWrites).toBe(0);
    expect(flashNext).toBe(0);
    expect(heldOffset(hiers[0])).toBe(0);
    expect(closes[server]).toBe(1);
    expect(hiers[0].server).toBe(NO_STREAM);
    runUntil(now + FETCH_RETRY_MS);
    drain();
    expect(fetches).toBe(2);
    expect(fetchFrom).toBe(0);
    expect(feedServer(total, 1000)).toBe(total);
    expect(dones).toBe(1);
    expect(problems()).toBe(0);
  });
});

// ---------------------------------------------------------------- 3. a root serving a child

describe("a relay root serving a child", () => {
  test("a child joining mid-transfer gets DATA from exactly its resume offset, never past the checked bytes", () => {
    bootRelay();
    makeFile(LARGE, 7);
    rootRelay();
    setAutoFlash(true);
    feedServer(blockAt(5) + 100, 4096); // blocks 0..4 checked, 100 bytes of block 5 not yet
    expect(heldOffset(hiers[0])).toBe(blockAt(5));
    const c = joinAt(P1, blockAt(2), false);
    expect(links[c].kind).toBe(LINK_CHILD);
    // The first DATA: a 7-byte head at the resume offset, then the view of
    // its payload (zero copy), showing the stream's bytes.
    const head = findDataHead(c);
    expect(head).not.toBe(0);
    expect(recLen(head)).toBe(DATA_HEADER_BYTES);
    expect(bswap<u16>(load<u16>(recPayload(head)))).toBe(<u16>(5 + BLOCK_BYTES));
    expect(bswap<u32>(load<u32>(recPayload(head), 3))).toBe(blockAt(2));
    const ref = recNext(head);
    expect(recKind(ref)).toBe(OUT_WRITE_REF);
    expect(recB(ref)).toBe(<u32>c);
    expect(load<u32>(recPayload(ref), 4)).toBe(BLOCK_BYTES);
    expect(sameAsStream(<usize>load<u32>(recPayload(ref)), blockAt(2), BLOCK_BYTES)).toBe(true);
    drain();
    expect(problems()).toBe(0); // every head followed by its view, right bytes
    expect(dFrames[c]).toBeGreaterThan(0);
    expect(dFirst[c]).toBe(blockAt(2));
    expect(dFirstLen[c]).toBe(BLOCK_BYTES);
    expect(dNext[c]).toBe(blockAt(5)); // all it can have: checked bytes only
    expect(dSent[c]).toBe(3 * BLOCK_BYTES);

    autoAck[c] = true;
    ack(c, unacked(c));
    expect(feedServer(total, 4096)).toBe(total - (blockAt(5) + 100));
    expect(problems()).toBe(0);
    expect(dNext[c]).toBe(total);
    expect(dSent[c]).toBe(total - blockAt(2));
    expect(dones).toBe(1);
  });

  test("a child asking from 0 gets the block list first, then the file", () => {
    bootRelay();
    makeFile(SMALL, 8);
    rootRelay();
    setAutoFlash(true);
    feedServer(blockAt(2), 1000);
    const c = joinAt(P1, 0);
    expect(problems()).toBe(0);
    expect(dFirst[c]).toBe(0);
    expect(dFirstLen[c]).toBe(listBytes); // the list as its own frame, bytes checked
    expect(dNext[c]).toBe(blockAt(2));
    autoAck[c] = true;
    ack(c, unacked(c));
    feedServer(total, 1000);
    expect(problems()).toBe(0);
    expect(dNext[c]).toBe(total);
  });

  test("a child joining before the list is in gets nothing until the list is checked", () => {
    bootRelay();
    makeFile(SMALL, 9);
    rootRelay();
    const c = joinAt(P1, 0);
    feedServer(listBytes - 1, 1000);
    expect(dFrames[c]).toBe(0);
    feedServer(blockAt(1) - 1, 1000); // the list, and all but one byte of block 0
    expect(dFrames[c]).toBe(1);
    expect(dNext[c]).toBe(listBytes);
    feedServer(blockAt(1), 1000);
    expect(dNext[c]).toBe(blockAt(1));
    expect(problems()).toBe(0);
  });

  test("bytes in flight to one child are bounded until onWriteDone, which lets more go", () => {
    bootRelay();
    makeFile(LARGE, 10);
    rootRelay();
    setAutoFlash(true);
    feedServer(blockAt(7), 4096); // 7 blocks checked, all still in the 8-block ring
    const c = joinAt(P1, 0);
    expect(problems()).toBe(0);
    expect(dNext[c]).toBeLessThan(blockAt(7)); // held back though more is checked
    expect(unacked(c)).toBeGreaterThan(0);
    // The core checks the bound before each chunk (of at most a block), so
    // it may pass it by less than one chunk.
    expect(unacked(c)).toBeGreaterThanOrEqual(CHILD_INFLIGHT_BYTES);
    expect(unacked(c)).toBeLessThan(CHILD_INFLIGHT_BYTES + BLOCK_BYTES);
    const before = dNext[c];

    // Nothing more goes while nothing is reported written...
    feedServer(blockAt(8), 4096);
    expect(dNext[c]).toBe(before);
    // ...a partial report of the first view lets nothing through yet...
    ack(c, 10);
    expect(dNext[c]).toBe(before);
    // ...a whole block reported lets the next one go.
    ack(c, listBytes + BLOCK_BYTES - 10);
    expect(dNext[c]).toBeGreaterThan(before);
    expect(unacked(c)).toBeLessThan(CHILD_INFLIGHT_BYTES + BLOCK_BYTES);
    expect(problems()).toBe(0);

    autoAck[c] = true;
    ack(c, unacked(c));
    feedServer(total, 4096);
    expect(dNext[c]).toBe(total);
    expect(problems()).toBe(0);
  });
});

// ---------------------------------------------------------------- 4. backpressure

describe("backpressure", () => {
  test("a child that never reports its writes and a silent flash fill the ring: window 0, onStreamData takes less", () => {
    bootRelay();
    makeFile(LARGE, 11);
    rootRelay();
    const c = joinAt(P1, 0);
    let last = 4096;
    for (let i = 0; i < 200 && last == 4096; i++) last = offerServer(4096);
    expect(last).toBeLessThan(4096); // the core took less than it was offered
    expect(core.rxWindow(fetchHandle)).toBe(0);
    expect(offerServer(4096)).toBe(0);
    expect(serverPos).toBe(listBytes + RING_BYTES); // exactly a ring of file bytes
    expect(serverPos).toBeLessThan(total);
    expect(problems()).toBe(0);
    expect(unacked(c)).toBeLessThan(CHILD_INFLIGHT_BYTES + BLOCK_BYTES);
    expect(viewsIntact(c)).toBe(true); // nothing written over the views it holds
  });

  test("the ring stays shut while a stuck child's views are out, even with flash caught up; it opens once they are written", () => {
    bootRelay();
    makeFile(LARGE, 12);
    rootRelay();
    setAutoRead(true);
    const c = joinAt(P1, 0);
    for (let i = 0; i < 200 && offerServer(4096) > 0; i++) {}
    expect(core.rxWindow(fetchHandle)).toBe(0);
    flashAll();
    expect(flashAcked).toBe(serverPos); // flash holds everything received
    // Opening the ring now would overwrite bytes the host is still sending.
    expect(core.rxWindow(fetchHandle)).toBe(0);
    expect(viewsIntact(c)).toBe(true);
    const sentBefore = dNext[c];

    ack(c, unacked(c));
    expect(dNext[c]).toBeGreaterThan(sentBefore); // the child goes on
    expect(core.rxWindow(fetchHandle)).toBeGreaterThan(0); // and the ring opens again
    expect(offerServer(4096)).toBeGreaterThan(0);
    expect(viewsIntact(c)).toBe(true);
    expect(problems()).toBe(0);
  });

  test("a late joiner behind the ring is served from flash at exactly its offset and does not hold the ring", () => {
    bootRelay();
    makeFile(LARGE, 13);
    rootRelay();
    setAutoFlash(true);
    const a = joinAt(P1, 0);
    autoAck[a] = true;
    drain();
    feedServer(blockAt(10), 4096); // the ring holds blocks 2..9 now
    expect(dNext[a]).toBe(blockAt(10));
    const b = joinAt(P2, blockAt(1));
    expect(reads).toBe(1);
    expect(lastReadHandle).toBe(b);
    expect(lastReadOff).toBe(blockAt(1));
    expect(lastReadLen).toBe(BLOCK_BYTES);
    expect(dFrames[b]).toBe(0); // nothing until flash has been read
    expect(serveRead()).toBe(true);
    expect(dFrames[b]).toBe(1);
    expect(dFirst[b]).toBe(blockAt(1));
    expect(dStaged[b]).toBe(1); // the view is the buffer flash was read into
    expect(problems()).toBe(0);

    // b reports nothing: the rest of the file still flows past it.
    expect(feedServer(total, 4096)).toBe(total - blockAt(10));
    expect(dNext[a]).toBe(total);
    expect(dones).toBe(1);
    expect(dFrames[b]).toBe(1);

    // b catches up from flash once it reports its writes.
    setAutoRead(true);
    autoAck[b] = true;
    ack(b, unacked(b));
    for (let i = 0; i < 100 && dNext[b] < total; i++) {
      runUntil(now + 100);
      drain();
    }
    expect(dNext[b]).toBe(total);
    expect(problems()).toBe(0);
  });

  test("a child resuming from 0 after the ring moved on gets the list, then flash reads", () => {
    bootRelay();
    makeFile(LARGE, 14);
    rootRelay();
    setAutoFlash(true);
    feedServer(blockAt(10), 4096);
    const c = joinAt(P2, 0);
    expect(dFirst[c]).toBe(0);
    expect(dFirstLen[c]).toBe(listBytes);
    expect(reads).toBe(1);
    expect(lastReadHandle).toBe(c);
    expect(lastReadOff).toBe(listBytes);
    expect(problems()).toBe(0);
  });

  test("a host that drops the flash read of a dead handle (ABI 5.3): the next child on that handle gets the right bytes", () => {
    bootRelay();
    makeFile(LARGE, 17);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 4096);
    expect(dones).toBe(1); // children are served from flash
    const a = joinAt(P1, blockAt(3));
    expect(readsPending).toBe(1);
    core.onStreamClosed(now, a); // a leaves with its read in flight...
    dropReads(a); // ...which the host finishes but reports no more
    drain();
    const b = joinAt(P2, blockAt(7));
    expect(b).toBe(a); // the lowest free handle again, and the same staging buffer
    expect(lastReadHandle).toBe(b);
    expect(lastReadOff).toBe(blockAt(7));
    expect(serveRead()).toBe(true);
    expect(dFirst[b]).toBe(blockAt(7));
    expect(problems()).toBe(0);
  });

  test("children that leave with a flash read in flight give their staging buffers back", () => {
    bootRelay();
    makeFile(LARGE, 16);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 4096);
    expect(dones).toBe(1); // from now on every child is served from flash
    for (let i = 0; i < 6; i++) { // more children than staging buffers (4)
      const c = joinAt(P1, 0);
      expect(reads).toBe(i + 1);
      expect(lastReadHandle).toBe(c);
      core.onStreamClosed(now, c);
      dropReads(c);
      drain();
    }
    const c = joinAt(P2, blockAt(3));
    expect(lastReadHandle).toBe(c);
    expect(lastReadOff).toBe(blockAt(3));
    expect(serveRead()).toBe(true);
    expect(dFirst[c]).toBe(blockAt(3));
    expect(problems()).toBe(0);
  });
});

// ---------------------------------------------------------------- 5. a relay child

/** A fresh child below P1 (the root) with NEED_RELAY; returns the parent handle. */
function child(size: u32, seed: u32): i32 {
  bootRelay();
  makeFile(size, seed);
  return attachRelay(root1, 1);
}

describe("a relay child", () => {
  test("a DATA frame ahead of its next byte closes the parent link (malformed)", () => {
    const p = child(SMALL, 20);
    const end = buildFrames(0, 0, listBytes, BLOCK_BYTES, NONE, 32);
    feedBytes(p, wire, end, 4096);
    expect(closes[p]).toBe(1);
    expect(linkOpen(p)).toBe(false);
    expect(malformed).toBe(1);
    expect(hiers[0].parent).toBe(NO_STREAM);
    expect(flashWrites).toBe(0);
  });

  test("a DATA frame repeating bytes it holds closes the parent link", () => {
    const p = child(SMALL, 21);
    let end = buildFrames(0, 0, listBytes, BLOCK_BYTES);
    end = buildFrames(end, 0, listBytes, BLOCK_BYTES); // the list again
    feedBytes(p, wire, end, 4096);
    expect(closes[p]).toBe(1);
    expect(malformed).toBe(1);
    expect(heldOffset(hiers[0])).toBe(listBytes); // the first copy was good
  });

  test("a DATA frame skipping bytes closes the parent link", () => {
    const p = child(SMALL, 22);
    let end = buildFrames(0, 0, listBytes, BLOCK_BYTES);
    end = buildFrames(end, listBytes + 1, blockAt(1), BLOCK_BYTES);
    feedBytes(p, wire, end, 4096);
    expect(closes[p]).toBe(1);
    expect(malformed).toBe(1);
  });

  test("a DATA frame running past the end of the transfer closes the parent link", () => {
    const p = child(SMALL, 28);
    setAutoFlash(true);
    let end = buildFrames(0, 0, blockAt(2), BLOCK_BYTES);
    end = buildFrames(end, blockAt(2), blockAt(3), BLOCK_BYTES); // 16384 bytes where 7232 remain
    feedBytes(p, wire, end, 4096);
    expect(closes[p]).toBe(1);
    expect(malformed).toBe(1);
    expect(heldOffset(hiers[0])).toBe(blockAt(2));
    expect(dones).toBe(0);
  });

  test("a DATA frame from a child (not our parent) closes that child's link", () => {
    bootRelay();
    makeFile(SMALL, 29);
    rootRelay();
    const c = joinAt(P1, 0);
    const end = buildFrames(0, 0, listBytes, BLOCK_BYTES);
    feedBytes(c, wire, end, 4096);
    expect(closes[c]).toBe(1);
    expect(malformed).toBe(1);
    expect(heldOffset(hiers[0])).toBe(0);
  });

  test("frames at the right offsets fill it (any split): flash gets the stream, EV_FILE_DONE, verified", () => {
    const p = child(SMALL, 23);
    setAutoFlash(true);
    const end = buildFrames(0, 0, total, 5000); // frames not aligned with blocks
    expect(feedBytes(p, wire, end, 1234)).toBe(end);
    expect(problems()).toBe(0);
    expect(closes[p]).toBe(0);
    expect(malformed).toBe(0);
    expect(flashNext).toBe(total);
    expect(dones).toBe(1);
    expect(doneA).toBe(SMALL);
    expect(doneB).toBe(0);
    expect(hiers[0].verified).toBe(true);
    expect(hiers[0].role).toBe(ROLE_ATTACHED);
  });

  test("the same zero-copy, with frames of a whole block", () => {
    const p = child(SMALL, 24);
    setAutoFlash(true);
    let end = buildFrames(0, 0, listBytes, BLOCK_BYTES);
    end = buildFrames(end, listBytes, total, BLOCK_BYTES);
    expect(feedBytesZeroCopy(p, wire, end, 3000)).toBe(end);
    expect(problems()).toBe(0);
    expect(closes[p]).toBe(0);
    expect(flashNext).toBe(total);
    expect(dones).toBe(1);
    expect(hiers[0].verified).toBe(true);
  });

  test("a corrupt block: EV_CORRUPT from the parent, the link dropped, the parent avoided, resume at its last good block", () => {
    bootRelay();
    makeFile(SMALL, 25);
    const p = attachRelay(chain2, 2); // parent P2, grandparent (root) P1
    const connects0 = connects;
    const joins0 = joins;
    setAutoFlash(true);
    const end = buildFrames(0, 0, total, BLOCK_BYTES, blockAt(1) + 77);
    feedBytes(p, wire, end, 4096);
    expect(problems()).toBe(0);
    expect(corrupts).toBe(1);
    expect(corruptA).toBe(P2);
    expect(corruptB).toBe(1);
    expect(closes[p]).toBe(1);
    expect(malformed).toBe(0);
    expect(parentLost).toBe(1);
    expect(flashNext).toBe(blockAt(1)); // block 1 never reached flash
    expect(heldOffset(hiers[0])).toBe(blockAt(1));

    // The repair goes to the grandparent, resuming at the held offset...
    expect(connects).toBe(connects0 + 1);
    expect(lastConnectAddr).toBe(P1);
    const g = lastConnectHandle;
    core.onStreamConnected(now, g);
    drain();
    expect(joins).toBe(joins0 + 1);
    expect(lastJoinOffset).toBe(blockAt(1));
    // ...which is full and points at P2 (the best slot) and P3: not P2.
    refusal[0].set(P2, 2, 2, 0x80000000);
    refusal[1].set(P3, 2, 1, 5);
    frRefuse(g, fileXid(), REFUSE_FULL, refusal, 2);
    drain();
    expect(connects).toBe(connects0 + 2);
    expect(lastConnectAddr).toBe(P3);

    // P3 accepts and sends from the resume offset on: the file completes.
    const q = lastConnectHandle;
    core.onStreamConnected(now, q);
    drain();
    expect(lastJoinOffset).toBe(blockAt(1));
    frAccept(q, fileXid(), newChain, 2);
    drain();
    expect(hiers[0].role).toBe(ROLE_ATTACHED);
    const end2 = buildFrames(0, blockAt(1), total, BLOCK_BYTES);
    expect(feedBytes(q, wire, end2, 4096)).toBe(end2);
    expect(problems()).toBe(0);
    expect(dones).toBe(1);
    expect(doneB).toBeGreaterThanOrEqual(BLOCK_BYTES); // the bad block was discarded
    expect(hiers[0].verified).toBe(true);
  });

  test("a corrupt block list from the parent: EV_CORRUPT(0xffffffff), nothing written, the parent dropped", () => {
    const p = child(SMALL, 26);
    setAutoFlash(true);
    const end = buildFrames(0, 0, total, BLOCK_BYTES, 3);
    feedBytes(p, wire, end, 4096);
    expect(corrupts).toBe(1);
    expect(corruptA).toBe(P1);
    expect(corruptB).toBe(0xffffffff);
    expect(closes[p]).toBe(1);
    expect(flashWrites).toBe(0);
    expect(heldOffset(hiers[0])).toBe(0);
  });
});

// ---------------------------------------------------------------- 6. store and forward

describe("store and forward", () => {
  test("a child gets nothing until the whole file is checked and in flash, then all of it through flash reads", () => {
    bootRelay();
    makeFile(SMALL, 30);
    rootRelay(core.NEED_STORE_FORWARD);
    const c = joinAt(P1, 0);
    autoAck[c] = true;
    expect(feedServer(total, 1000)).toBe(total);
    expect(heldOffset(hiers[0])).toBe(total); // all checked...
    expect(flashNext).toBe(total);
    expect(dFrames[c]).toBe(0); // ...but not in flash yet: nothing for the child
    expect(reads).toBe(0);
    flashDone(total - 1);
    expect(dFrames[c]).toBe(0);
    expect(reads).toBe(0);
    expect(dones).toBe(0);
    flashDone(1);
    expect(dones).toBe(1);
    expect(reads).toBe(1); // now it is served, from flash
    expect(lastReadHandle).toBe(c);
    expect(lastReadOff).toBe(0);
    expect(dFrames[c]).toBe(0);
    setAutoRead(true);
    drain();
    for (let i = 0; i < 100 && dNext[c] < total; i++) {
      runUntil(now + 100);
      drain();
    }
    expect(dNext[c]).toBe(total);
    expect(dFirst[c]).toBe(0);
    expect(dFirstSeq[c]).toBeGreaterThan(doneSeq); // no DATA before EV_FILE_DONE
    expect(dStaged[c]).toBe(dFrames[c]); // every view was a flash-read buffer
    expect(readsPending).toBe(0);
    expect(problems()).toBe(0);
  });

  test("a store-and-forward child of a receiving root: no ring views even when it joins at the ring's bytes", () => {
    bootRelay();
    makeFile(LARGE, 31);
    rootRelay(core.NEED_STORE_FORWARD);
    setAutoFlash(true);
    feedServer(blockAt(3), 4096);
    const c = joinAt(P1, blockAt(1));
    expect(dFrames[c]).toBe(0);
    expect(reads).toBe(0);
    feedServer(total, 4096);
    expect(dones).toBe(1);
    setAutoRead(true);
    autoAck[c] = true;
    drain();
    for (let i = 0; i < 100 && dNext[c] < total; i++) {
      runUntil(now + 100);
      drain();
    }
    expect(dFirst[c]).toBe(blockAt(1));
    expect(dNext[c]).toBe(total);
    expect(dStaged[c]).toBe(dFrames[c]);
    expect(problems()).toBe(0);
  });
});

// ---------------------------------------------------------------- 7. allocation

let rootDone: i32 = 0;
let childDone: i32 = 0;
let relayProblems: i32 = 0;
let relayedBytes: u32 = 0;
let sink: Uint8Array | null = null;

/** Server -> root -> child: a root fetches the file and serves child P1 (its
 *  DATA frames captured as sent); then the phone reboots as a child below P1
 *  and is fed exactly those frames. No expect() in here: it allocates. */
function relayOnce(): void {
  bootRelay();
  makeFile(SMALL, 40);
  rootRelay();
  setAutoFlash(true);
  const c = joinAt(P1, 0);
  autoAck[c] = true;
  setCapture(c);
  feedServer(total, 1500);
  for (let i = 0; i < 10 && dNext[c] != total; i++) {
    runUntil(now + 100);
    drain();
  }
  rootDone = dones;
  relayProblems = problems();
  const framed = captureLen;
  relayedBytes = dNext[c];

  bootRelay();
  const p = attachRelay(root1, 1);
  setAutoFlash(true);
  feedBytes(p, capture, framed, 4096);
  childDone = dones;
  relayProblems += problems();
}

describe("allocation", () => {
  test("a whole relay (server -> root -> child via frames) allocates nothing after init", () => {
    relayOnce(); // warm-up, and the relay itself works
    expect(rootDone).toBe(1);
    expect(relayedBytes).toBe(total);
    expect(childDone).toBe(1);
    expect(relayProblems).toBe(0);
    fillHeapHoles();
    const a = heap.alloc(1);
    const b = heap.alloc(1);
    relayOnce();
    relayOnce();
    const c = heap.alloc(1);
    // the control: the same measurement around one small allocation
    const d = heap.alloc(1);
    sink = new Uint8Array(8);
    const e = heap.alloc(1);
    expect(b - a).toBeGreaterThan(0);
    expect(c - b).toBe(b - a);
    expect(e - d).not.toBe(b - a);
    expect(sink).not.toBeNull();
    expect(rootDone).toBe(1);
    expect(childDone).toBe(1);
    expect(relayProblems).toBe(0);
  });
});

// ---------------------------------------------------------------- regressions
// Bugs these tests found in the core; each test failed (or hung) before its fix.

describe("regressions", () => {
  // A slow child (views always in flight) was never detached, so the whole
  // subtree and the fetch ran at its pace.
  test("a slow child is detached from a full ring and served from flash; its sibling and the stream go on", () => {
    bootRelay();
    makeFile(LARGE, 60);
    rootRelay();
    setAutoFlash(true);
    const a = joinAt(P1, 0);
    autoAck[a] = true; // A is fast
    const b = joinAt(P2, 0); // B reports nothing for now
    for (let i = 0; i < 200 && offerServer(4096) > 0; i++) {}
    expect(core.rxWindow(fetchHandle)).toBe(0); // the ring is full, B holds it
    expect(serverPos).toBe(listBytes + RING_BYTES);
    expect(flashAcked).toBe(serverPos); // B's next bytes are in flash
    expect(dNext[b]).toBeLessThan(flashAcked);
    ack(b, unacked(b)); // B is slow, not dead
    expect(reads).toBeGreaterThan(0); // B goes on from flash
    expect(lastReadHandle).toBe(b);
    for (let i = 0; i < 200 && offerServer(4096) > 0; i++) {}
    expect(serverPos).toBe(total); // B no longer holds the stream back...
    expect(dNext[a]).toBe(total); // ...nor its sibling
    expect(problems()).toBe(0);
  });

  // Regression: serveChild() once spun forever when the outbox had no room
  // for a DATA head and its view. Now the pair waits for room, whole.
  test("a full outbox does not hang a root that serves a child", () => {
    bootRelay();
    makeFile(LARGE, 62);
    rootRelay();
    setAutoFlash(true);
    feedServer(blockAt(6), 4096);
    const c = joinAt(P1, 0);
    const sent = dNext[c];
    fillOutbox(100);
    const dropped = outboxDropped;
    core.onWriteDone(now, c, <i32>unacked(c)); // once spun here for good
    // Nothing was half-emitted or lost: the next chunk waits for room.
    expect(outboxDropped).toBe(dropped);
    outboxClear();
    ack(c, 0);
    runUntil(now + 100);
    drain();
    expect(dNext[c]).toBeGreaterThan(sent);
  });

  // An OUT_FLASH_READ that did not fit left the child waiting for good.
  test("a dropped OUT_FLASH_READ is asked for again", () => {
    bootRelay();
    makeFile(SMALL, 63);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 4096);
    const c = joinAt(P1, 0);
    expect(reads).toBe(1);
    serveRead(); // the list, through a staging buffer
    expect(dFrames[c]).toBe(1);
    fillOutbox(12); // no room for the next read
    const dropped = outboxDropped;
    core.onWriteDone(now, c, <i32>unacked(c)); // frees the buffer: the next read is due
    expect(outboxDropped).toBe(dropped + 1);
    outboxClear();
    runUntil(now + 3000); // heartbeats wake the core; the link stays up
    drain();
    expect(linkOpen(c)).toBe(true);
    expect(reads).toBe(2);
  });

  // An OUT_FETCH that did not fit left the root without a source for good.
  // The tentative fetch is asked with the first claim (election.ts); one
  // the outbox had no room for is asked again when the claim confirms.
  test("a dropped OUT_FETCH is asked for again", () => {
    bootRelay();
    makeFile(SMALL, 64);
    needRelay(now);
    for (let i = 0; i < 100 && !(hiers[0].role == ROLE_DISCOVER && hiers[0].solicits == SOLICITS_PER_ROUND); i++) step();
    drain();
    fillOutbox(64); // room for the claim and its event, not the fetch
    const dropped = outboxDropped;
    step(); // claims
    expect(hiers[0].role).toBe(ROLE_CLAIMING);
    expect(outboxDropped).toBeGreaterThan(dropped);
    drain();
    expect(fetches).toBe(0);
    runUntil(now + 60000);
    drain();
    expect(hiers[0].role).toBe(ROLE_ROOT);
    expect(fetches).toBe(1);
  });

  test("a claimant fetches while it claims, and gives the fetch up when it yields", () => {
    becomeTentativeRoot();
    // A claim that holds more than our nothing wins: we join it instead.
    dgClaim(P1, fileXid(), 0x00011234, 2);
    expect(hiers[0].role).toBe(ROLE_JOINING);
    expect(hiers[0].server).toBe(NO_STREAM);
  });

  test("a tentative root that hears a root joins it and ends its fetch", () => {
    becomeTentativeRoot();
    // A root that answered late (its SOLICIT's answer lost, or slow).
    dgRootAd(P9, fileXid(), 0x80001234, adCands, 0);
    expect(hiers[0].role).toBe(ROLE_JOINING);
    expect(hiers[0].server).toBe(NO_STREAM);
  });

  // A leaf that moves up must not read its old parent while its JOIN (with
  // the offset it holds) is out: bytes taken from the old parent meanwhile
  // made the new parent's first DATA frame look like a gap, and the phone
  // dropped its new parent as malformed.
  test("a moving leaf stops reading its old parent; the new one resumes it exactly", () => {
    bootRelay();
    makeFile(SMALL, 64);
    setAutoFlash(true);
    const chain: StaticArray<u32> = [P1, P2, P3];
    const old = attachRelay(chain, 3); // depth 3, parent P3
    let end = buildFrames(0, 0, blockAt(1), BLOCK_BYTES);
    expect(feedBytes(old, wire, end, 4096)).toBe(end);
    const held = heldOffset(hiers[0]);
    expect(held).toBe(blockAt(1));
    // The parent tells it of a free slot two levels up: it moves there.
    const best = new Candidate();
    best.set(P9, 1, 1, 7);
    frDown(old, fileXid(), chain, 3, best);
    drain();
    for (let i = 0; i < 20 && lastConnectAddr != P9; i++) {
      step();
      drain();
    }
    expect(lastConnectAddr).toBe(P9);
    const mover = lastConnectHandle;
    core.onStreamConnected(now, mover);
    drain();
    expect(lastJoinOffset).toBe(held);
    // The old parent goes on sending: nothing more is taken from it now.
    end = buildFrames(0, blockAt(1), blockAt(2), BLOCK_BYTES);
    expect(feedBytes(old, wire, end, 4096)).toBe(0);
    // Accepted below P9: the old link closes and the new parent resumes it.
    const up: StaticArray<u32> = [P9];
    frAccept(mover, fileXid(), up, 1);
    drain();
    expect(linkOpen(old)).toBe(false);
    end = buildFrames(0, held, total, BLOCK_BYTES);
    expect(feedBytes(mover, wire, end, 4096)).toBe(end);
    flashAll();
    expect(malformed).toBe(0);
    expect(dones).toBe(1);
    expect(problems()).toBe(0);
  });

  // A server stream that ended with everything received while flash was still
  // writing made the root ask for the whole file again FETCH_RETRY_MS later.
  test("a root that has received everything does not fetch again while flash catches up", () => {
    bootRelay();
    makeFile(SMALL, 65);
    rootRelay();
    feedServer(total, 4096);
    expect(heldOffset(hiers[0])).toBe(total);
    const before = fetches;
    core.onStreamClosed(now, fetchHandle); // the host's TFTP transfer ended
    drain();
    runUntil(now + FETCH_RETRY_MS * 3);
    drain();
    expect(fetches).toBe(before);
    flashAll();
    expect(dones).toBe(1);
  });

  // A child whose ring was full for longer than the peer timeout read
  // nothing from its parent (heartbeats included) and dropped it as dead.
  test("a child held up by its own slow flash keeps its parent", () => {
    bootRelay();
    makeFile(LARGE, 66);
    const p = attachRelay(root1, 1); // flash never reports: the ring fills
    const end = buildFrames(0, 0, total, BLOCK_BYTES);
    const took = feedBytes(p, wire, end, 4096);
    expect(took).toBeLessThan(end);
    runUntil(now + 10000); // far past the 3.5 s peer timeout
    drain();
    expect(linkOpen(p)).toBe(true);
    expect(parentLost).toBe(0);
    // Flash catches up: the rest flows and the file completes.
    setAutoFlash(true);
    flashAll();
    feedBytes(p, wire + <usize>took, end - took, 4096);
    flashAll();
    expect(dones).toBe(1);
    expect(problems()).toBe(0);
  });

  // A flash read that fails made the core ask for the same read at once.
  test("a child whose flash read fails is dropped (it re-joins elsewhere)", () => {
    bootRelay();
    makeFile(SMALL, 67);
    rootRelay();
    setAutoFlash(true);
    feedServer(total, 4096);
    flashAll();
    const c = joinAt(P1, blockAt(1)); // the ring is gone: served from flash
    expect(lastReadHandle).toBe(c);
    const askedBefore = reads;
    core.onFlashRead(now, c, links[c].gen, 0);
    drain();
    expect(linkOpen(c)).toBe(false);
    expect(reads).toBe(askedBefore);
  });

  // A DATA frame too short to hold an offset read its offset from the next
  // frame's bytes before it failed.
  test("a DATA frame shorter than its offset is a frame-size error at once", () => {
    const p = child(SMALL, 68);
    store<u16>(core.inboxAddr(), bswap<u16>(3));
    store<u8>(core.inboxAddr(), 0x15, 2);
    core.onStreamData(now, p, 3);
    drain();
    expect(malformed).toBe(1);
    expect(linkOpen(p)).toBe(false);
  });

  // need() again for a file being relayed is idempotent, and setHeld() after
  // the file is done once un-verified it (the phone stopped serving).
  test("need() again leaves a relayed file as it is; a finished file stays verified", () => {
    bootRelay();
    makeFile(SMALL, 69);
    const slot = rootRelay();
    needRelay(now);
    expect(hiers[slot].sizeBytes).toBe(fileSize);
    // and a finished file stays verified whatever setHeld() says after
    setAutoFlash(true);
    feedServer(total, 4096);
    flashAll();
    expect(hiers[slot].verified).toBe(true);
    core.setHeld(now, slot, 0, 0);
    expect(hiers[slot].verified).toBe(true);
  });
});

/** A lone phone claims, and from its Ad 1 fetches as a tentative root
 *  (not at Ad 0, where rival claims may still cross ours). */
function becomeTentativeRoot(): void {
  bootRelay();
  makeFile(SMALL, 64);
  needRelay(now);
  for (let i = 0; i < 100 && hiers[0].role != ROLE_CLAIMING; i++) step();
  drain();
  expect(fetches).toBe(0);
  step(); // Ad 1
  drain();
  expect(fetches).toBe(1);
  expect(hiers[0].server).not.toBe(NO_STREAM);
}
