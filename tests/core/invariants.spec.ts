// The core checks itself (invariants.ts and the assertions where each table
// changes): every check here is broken on purpose, on a healthy phone, and
// must fire; the healthy phone itself passes them all. Input from the network
// that breaks a rule is not an assertion: it is counted and dropped.

import { checkAll } from "../../assembly/invariants";
import * as core from "../../assembly/core";
import * as stream from "../../assembly/stream";
import { hiers, NO_STREAM } from "../../assembly/hierarchy";
import { LINK_PARENT, links } from "../../assembly/link";
import { outboxBase } from "../../assembly/outbox";
import { commitPayload, rewindTo, transferOf } from "../../assembly/relay";
import { fileXid, frDown, noBest, now, P1, P2, P3, SELF } from "./support";
import {
  attachRelay, blockAt, bootRelay, buildFrames, drain, feedBytes, feedServer, joinAt, makeFile, rootRelay, total, wire,
} from "./relay-support";

const SMALL: u32 = 40000;
const root1: StaticArray<u32> = [P1];
const chain2: StaticArray<u32> = [P1, P2];

// Module state the closures below may touch (AssemblyScript closures cannot
// capture locals).
let child: i32 = -1;
let parent: i32 = -1;

/** A root one block into its fetch, with child P2 served from the ring. */
function rootWithChild(): void {
  bootRelay();
  makeFile(SMALL, 41);
  rootRelay();
  feedServer(blockAt(1) + 500, 700);
  child = joinAt(P2, 0);
  checkAll();
}

/** A phone attached below P1, a block in. */
function attachedPhone(): void {
  bootRelay();
  makeFile(SMALL, 42);
  parent = attachRelay(root1, 1);
  const end = buildFrames(0, 0, blockAt(1), 4096);
  feedBytes(parent, wire, end, 4096);
  checkAll();
}

describe("a healthy phone", () => {
  test("passes every whole-table check as root, child and parent", () => {
    rootWithChild();
    feedServer(total, 1000);
    drain();
    checkAll();
    attachedPhone();
    expect(hiers[0].parent).toBe(parent);
  });

  test("input from the network that breaks a rule is dropped, never asserted", () => {
    attachedPhone();
    // A DOWN whose path holds ourselves: the link goes, nothing fires.
    const cyc: StaticArray<u32> = [P1, SELF, P3];
    frDown(parent, fileXid(), cyc, 3, noBest);
    drain();
    checkAll();
    expect(hiers[0].parent).toBe(NO_STREAM);
    expect(stream.malformedFrames).toBe(0);
  });
});

describe("parent and children agree", () => {
  test("a child position that names a free stream", () => {
    expect(() => {
      rootWithChild();
      links[child].free();
      checkAll();
    }).toThrow();
  });

  test("one stream in both child positions", () => {
    expect(() => {
      rootWithChild();
      hiers[0].children[1] = hiers[0].children[0];
      checkAll();
    }).toThrow();
  });

  test("an attached phone that lost track of its parent link", () => {
    expect(() => {
      attachedPhone();
      hiers[0].parent = NO_STREAM;
      checkAll();
    }).toThrow();
  });

  test("a parent link its hierarchy does not know", () => {
    expect(() => {
      rootWithChild();
      links[core.maxPendingInbound()].open(LINK_PARENT, P3, 0, now);
      checkAll();
    }).toThrow();
  });
});

describe("a phone is never its own ancestor", () => {
  test("our own address in our path", () => {
    expect(() => {
      attachedPhone();
      hiers[0].path[0] = SELF;
      checkAll();
    }).toThrow();
  });
});

describe("the ring and the transfer's offsets", () => {
  test("checked bytes beyond the received ones", () => {
    expect(() => {
      rootWithChild();
      const t = transferOf(hiers[0])!;
      t.verifiedOff = t.recvOff + 1;
      checkAll();
    }).toThrow();
  });

  test("flash confirmed beyond what was asked of it", () => {
    expect(() => {
      rootWithChild();
      const t = transferOf(hiers[0])!;
      t.flashOff = t.flashReqOff + 1;
      checkAll();
    }).toThrow();
  });

  test("the writer more than ringBytes ahead of a consumer tied to the ring", () => {
    expect(() => {
      rootWithChild();
      const t = transferOf(hiers[0])!;
      // The child claims to need a byte the ring has long written over.
      links[child].ringMode = true;
      links[child].sendOff = t.listBytes;
      t.recvOff = t.ringHigh = t.listBytes + 9 * 16384;
      checkAll();
    }).toThrow();
  });

  test("verified bytes never un-verify (kept in the release build)", () => {
    expect(() => {
      rootWithChild();
      const t = transferOf(hiers[0])!;
      rewindTo(t, t.verifiedOff - 1);
    }).toThrow();
  });

  test("received bytes never run past the transfer (kept in the release build)", () => {
    expect(() => {
      rootWithChild();
      const t = transferOf(hiers[0])!;
      commitPayload(hiers[0], t, t.total - t.recvOff + 1, 0);
    }).toThrow();
  });
});

describe("the outbox", () => {
  test("a record whose length runs past the outbox's end", () => {
    expect(() => {
      rootWithChild();
      core.onTimer(now + 1000); // some records in the outbox
      store<u16>(outboxBase(), 0x7ffc, 2);
      checkAll();
    }).toThrow();
  });
});

describe("merging", () => {
  test("a side walk with no attempt in flight and none to come", () => {
    expect(() => {
      rootWithChild();
      hiers[0].sideWalk = true;
      checkAll();
    }).toThrow();
  });
});
