// core.ts entry points: malformed datagrams and frames are counted, reported
// and change nothing else; stale handles are ignored; the stream reassembler
// copes with frames split across calls and several frames in one call.

import * as core from "../../assembly/core";
import * as stream from "../../assembly/stream";
import { Candidate } from "../../assembly/candidate";
import { EV_CHILD_ADDED, EV_MALFORMED } from "../../assembly/events";
import { hiers, ROLE_DISCOVER, ROLE_JOINING, ROLE_ROOT } from "../../assembly/hierarchy";
import { OUT_CLOSE, OUT_CONNECT, OUT_WRITE } from "../../assembly/outbox";
import { subtreeSize } from "../../assembly/tree";
import { MAX_PENDING_PER_PEER, PENDING_EVICT_MS, PENDING_INBOUND_DIVISOR } from "../../assembly/limits";
import { allocLink, LINK_JOINING, links, pendingInbound } from "../../assembly/link";
import { BAD_COUNT, BAD_FIELD, BAD_LENGTH, BAD_MAGIC, BAD_SHORT, BAD_FRAME_SIZE, encodeRootAd, T_ACCEPT } from "../../assembly/wire";
import { Writer } from "../../assembly/bytes";
import {
  acceptJoin, adCands, becomeRoot, boot, clear, countClose, countEvent, countFrame, countKind, data, deliver,
  encodeJoinAt, encodeUpAt, evA, evN, fileXid, findEvent, findFrame, frJoin, frUp, FILE, INBOX_BYTES, MAX_HIERS, MAX_STREAMS, MODEL, needFile, now, out, P1, P2, P3, P9,
  recordCount, role, runUntil, scratch, SELF, setNow, SIZE,
} from "./support";

const w = new Writer();
const noCands = new StaticArray<Candidate>(0);

/** A ROOT_AD for our file from P1 offering P2's slot, in the inbox; k picks a defect. */
function badRootAd(k: i32): i32 {
  adCands[0].set(P2, 1, 2, 5);
  adCands[1].set(P3, 2, 1, 5);
  const x = w.reset(core.inboxAddr(), <i32>INBOX_BYTES);
  encodeRootAd(x, fileXid(), 0x80000001, SIZE, adCands, 2);
  const len = x.length();
  const inbox = core.inboxAddr();
  if (k == 0) return len - 1; //                                     BAD_SHORT
  if (k == 1) return len + 1; //                                     BAD_LENGTH
  if (k == 2) store<u8>(inbox, 0x00); //                             BAD_MAGIC
  if (k == 3) store<u32>(inbox + 17 + 10, 0); //                     BAD_FIELD: second candidate's address 0
  if (k == 4) store<u8>(inbox, 5, 16); //                            BAD_COUNT: nCand 5
  return len;
}

const reasons: StaticArray<u32> = [BAD_SHORT, BAD_LENGTH, BAD_MAGIC, BAD_FIELD, BAD_COUNT];

/** Copies a frame built at scratch into the inbox and delivers it. */
function deliverScratch(handle: i32, len: i32): void {
  memory.copy(core.inboxAddr(), scratch, <usize>len);
  data(handle, len);
}

describe("malformed datagrams", () => {
  test("are counted, reported with their reason and source, and change nothing", () => {
    boot();
    needFile(0);
    const before = role();
    const deadline = core.nextDeadlineMs();
    expect(before).toBe(ROLE_DISCOVER);
    for (let k = 0; k < 5; k++) {
      clear();
      deliver(P1, badRootAd(k));
      expect(core.malformedDatagrams).toBe(<u32>k + 1);
      const ev = findEvent(EV_MALFORMED);
      expect(ev).not.toBe(0);
      expect(evN(ev)).toBe(reasons[k]);
      expect(evA(ev)).toBe(P1);
      expect(role()).toBe(before);
      expect(core.nextDeadlineMs()).toBe(deadline);
      expect(countKind(OUT_CONNECT)).toBe(0);
    }
    // The same ad intact is acted on: the defects above were what stopped it.
    clear();
    deliver(P1, badRootAd(5));
    expect(core.malformedDatagrams).toBe(5);
    expect(role()).toBe(ROLE_JOINING);
    // The walk starts within JOIN_SPREAD_MS of the ad.
    runUntil(core.nextDeadlineMs());
    expect(countKind(OUT_CONNECT)).toBe(1);
  });

  test("a datagram longer than the inbox (or negative) is counted, not decoded", () => {
    boot();
    needFile(0);
    deliver(P1, <i32>INBOX_BYTES + 1);
    deliver(P1, -1);
    expect(core.malformedDatagrams).toBe(2);
    expect(role()).toBe(ROLE_DISCOVER);
    expect(countKind(OUT_CONNECT)).toBe(0);
  });

  test("a malformed SOLICIT does not make a root answer", () => {
    boot();
    becomeRoot();
    clear();
    const deadline = core.nextDeadlineMs();
    const x = w.reset(core.inboxAddr(), <i32>INBOX_BYTES);
    x.u16(0x5046);
    x.u8(1);
    x.u8(1);
    x.u32(fileXid());
    x.u32(0);
    deliver(P1, x.length() + 1); // one trailing byte
    expect(core.malformedDatagrams).toBe(1);
    expect(core.nextDeadlineMs()).toBe(deadline);
    deliver(P1, x.length()); // the intact one brings the next ad forward
    expect(core.nextDeadlineMs()).toBeLessThan(deadline);
  });
});

describe("stale handles", () => {
  test("data, connect and close on -1, 9999 or a closed handle are counted and ignored", () => {
    boot();
    becomeRoot();
    const h = core.onStreamAccept(0, P1);
    expect(h).toBeGreaterThanOrEqual(0);
    core.onStreamClosed(0, h);
    clear();
    const len = encodeJoinAt(core.inboxAddr(), fileXid());
    data(-1, len);
    data(9999, len);
    data(h, len);
    expect(core.staleHandles).toBe(3);
    core.onStreamConnected(0, -1);
    core.onStreamClosed(0, 9999);
    core.onStreamClosed(0, h);
    expect(core.staleHandles).toBe(6);
    expect(recordCount()).toBe(0);
    expect(hiers[0].childCount()).toBe(0);
    expect(role()).toBe(ROLE_ROOT);
  });
});

describe("need()", () => {
  test("fills the hierarchy table, then -1; bad lengths are -2", () => {
    boot();
    needFile(0); // writes MODEL and FILE to the inbox
    const ml = MODEL.length;
    const fl = FILE.length;
    // the same model with shorter file names: other hierarchies
    for (let k = 1; k < <i32>MAX_HIERS; k++) expect(core.need(0, ml, fl - k, SIZE, 0, 0)).toBe(k);
    expect(core.need(0, ml, fl - <i32>MAX_HIERS, SIZE, 0, 0)).toBe(-1);
    expect(core.need(0, ml, fl - 2, SIZE, 0, 0)).toBe(2); // known: its slot
    expect(core.need(0, 0, fl, SIZE, 0, 0)).toBe(-2);
    expect(core.need(0, ml, 0, SIZE, 0, 0)).toBe(-2);
    expect(core.need(0, ml, <i32>INBOX_BYTES, SIZE, 0, 0)).toBe(-2);
    for (let k = 0; k < <i32>MAX_HIERS; k++) expect(hiers[k].role).toBe(ROLE_DISCOVER);
  });
});

describe("the stream table", () => {
  test("streams that send no JOIN get a share of the table; the oldest gives way after PENDING_EVICT_MS", () => {
    boot();
    becomeRoot();
    clear();
    const share = core.maxPendingInbound();
    expect(share).toBe(<i32>MAX_STREAMS / PENDING_INBOUND_DIVISOR);
    for (let i = 0; i < share; i++) expect(core.onStreamAccept(0, P1 + <u32>i)).toBe(i);
    expect(core.onStreamAccept(0, P9)).toBe(-1); // the share is full, nobody waited long
    expect(recordCount()).toBe(0);
    // A handle for our own tree links is still there.
    expect(allocLink()).toBe(share);
    // Later, a new joiner takes the place of the oldest silent stream.
    setNow(PENDING_EVICT_MS);
    const h = core.onStreamAccept(now, P9);
    // A fresh handle, never the one just closed: that OUT_CLOSE is still in
    // the outbox when the host learns the new handle (sweep seed 907).
    expect(h).toBe(share);
    expect(countClose(0)).toBe(1);
    expect(countClose(h)).toBe(0);
    // A stream that sent its JOIN is a child, no longer pending.
    frJoin(h, fileXid());
    expect(countEvent(EV_CHILD_ADDED)).toBe(1);
    expect(pendingInbound(0)).toBe(share - 1);
  });

  test("at most MAX_PENDING_PER_PEER silent streams from one address", () => {
    boot();
    becomeRoot();
    clear();
    for (let i = 0; i < MAX_PENDING_PER_PEER; i++) expect(core.onStreamAccept(0, P1)).toBeGreaterThanOrEqual(0);
    expect(core.onStreamAccept(0, P1)).toBe(-1);
    expect(core.onStreamAccept(0, P2)).toBeGreaterThanOrEqual(0); // others are not held up
    expect(pendingInbound(P1)).toBe(MAX_PENDING_PER_PEER);
  });

  test("an accept with every handle taken gets -1 and changes nothing", () => {
    boot();
    becomeRoot();
    clear();
    for (let i = 0; i < <i32>MAX_STREAMS; i++) allocOpen(i);
    expect(core.onStreamAccept(0, P9)).toBe(-1);
    expect(recordCount()).toBe(0);
  });
});

/** Takes handle `i` for an outbound join attempt (as the core would). */
function allocOpen(i: i32): void {
  expect(allocLink()).toBe(i);
  links[i].open(LINK_JOINING, P3, 0, now);
}

describe("bad stream frames", () => {
  test("a length prefix of 0 closes the link and is counted", () => {
    boot();
    becomeRoot();
    clear();
    const h = core.onStreamAccept(0, P1);
    store<u16>(core.inboxAddr(), 0);
    data(h, 2);
    expect(stream.malformedFrames).toBe(1);
    expect(countClose(h)).toBe(1);
    const ev = findEvent(EV_MALFORMED);
    expect(evN(ev)).toBe(BAD_FRAME_SIZE | 0x80);
    expect(evA(ev)).toBe(P1);
    data(h, 2); // the link is gone
    expect(core.staleHandles).toBe(1);
  });

  test("a control frame over MAX_FRAME_BYTES closes the link; 256 waits for more", () => {
    boot();
    becomeRoot();
    clear();
    const h = core.onStreamAccept(0, P1);
    store<u16>(core.inboxAddr(), bswap<u16>(256));
    data(h, 2);
    expect(countKind(OUT_CLOSE)).toBe(0);
    // Over 256 is judged once the type is known: only DATA may be longer.
    const g = core.onStreamAccept(0, P2);
    store<u16>(core.inboxAddr(), bswap<u16>(257));
    store<u8>(core.inboxAddr(), 0x14, 2); // UP
    data(g, 3);
    expect(stream.malformedFrames).toBe(1);
    expect(countClose(g)).toBe(1);
    expect(countClose(h)).toBe(0);
  });

  test("a frame not allowed on the link (UP before JOIN) closes it", () => {
    boot();
    becomeRoot();
    clear();
    const h = core.onStreamAccept(0, P1);
    frUp(h, fileXid(), 1, 1, 0, noCands, 0);
    expect(stream.malformedFrames).toBe(1);
    expect(countClose(h)).toBe(1);
  });

  test("a frame for another hierarchy on a child link closes it", () => {
    boot();
    becomeRoot();
    const h = acceptJoin(P1, fileXid());
    expect(hiers[0].childCount()).toBe(1);
    clear();
    frUp(h, fileXid() ^ 1, 1, 1, 0, noCands, 0);
    expect(stream.malformedFrames).toBe(1);
    expect(countClose(h)).toBe(1);
    expect(hiers[0].childCount()).toBe(0);
  });
});

describe("reassembly", () => {
  test("a JOIN delivered one byte at a time is answered once, after its last byte", () => {
    boot();
    becomeRoot();
    clear();
    const h = core.onStreamAccept(0, P1);
    const len = encodeJoinAt(scratch, fileXid());
    for (let i = 0; i < len; i++) {
      store<u8>(core.inboxAddr(), load<u8>(scratch + <usize>i));
      data(h, 1);
      if (i < len - 1) expect(countKind(OUT_WRITE)).toBe(0);
    }
    expect(countFrame(T_ACCEPT, h)).toBe(1);
    expect(out.pathLen).toBe(1);
    expect(out.path[0]).toBe(SELF);
    expect(countEvent(EV_CHILD_ADDED)).toBe(1);
    expect(stream.malformedFrames).toBe(0);
  });

  test("two frames in one call are both handled", () => {
    boot();
    becomeRoot();
    clear();
    const h = core.onStreamAccept(0, P1);
    let len = encodeJoinAt(scratch, fileXid());
    len += encodeUpAt(scratch + <usize>len, fileXid(), 7, 5, 2, noCands, 0);
    deliverScratch(h, len);
    expect(findFrame(T_ACCEPT, h)).not.toBe(0);
    expect(subtreeSize(hiers[0])).toBe(6); // us + the child's 5 from its UP
    expect(hiers[0].children[0] == h || hiers[0].children[1] == h).toBe(true);
  });

  test("a frame and a half, then the rest", () => {
    boot();
    becomeRoot();
    clear();
    const h = core.onStreamAccept(0, P1);
    let len = encodeJoinAt(scratch, fileXid());
    const up = encodeUpAt(scratch + <usize>len, fileXid(), 7, 9, 3, noCands, 0);
    const split = len + up / 2;
    deliverScratch(h, split);
    expect(countFrame(T_ACCEPT, h)).toBe(1);
    expect(subtreeSize(hiers[0])).toBe(2);
    memory.copy(core.inboxAddr(), scratch + <usize>split, <usize>(len + up - split));
    data(h, len + up - split);
    expect(subtreeSize(hiers[0])).toBe(10);
    expect(stream.malformedFrames).toBe(0);
  });

  test("one call longer than the receive buffer carrying many frames", () => {
    boot();
    becomeRoot();
    const h = acceptJoin(P1, fileXid());
    clear();
    let len = 0;
    for (let i = 0; i < 30; i++) len += encodeUpAt(scratch + <usize>len, fileXid(), 7, 100 + <u32>i, 3, noCands, 0);
    expect(len).toBeGreaterThan(258);
    deliverScratch(h, len);
    expect(stream.malformedFrames).toBe(0);
    expect(subtreeSize(hiers[0])).toBe(1 + 129);
  });
});
