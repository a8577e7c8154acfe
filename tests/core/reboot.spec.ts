// coreInit() called again: a reboot with the same sizes forgets every
// hierarchy, stream and counter; a reboot the core refuses (other sizes, a
// bad config) must leave the running configuration as it was.

import * as cfg from "../../assembly/config";
import * as core from "../../assembly/core";
import * as stream from "../../assembly/stream";
import { hiers, ROLE_IDLE, ROLE_ROOT } from "../../assembly/hierarchy";
import { LINK_FREE, links } from "../../assembly/link";
import { outboxUsed } from "../../assembly/outbox";
import { acceptJoin, becomeRoot, boot, deliver, fileXid, INBOX_BYTES, P1, role, SELF } from "./support";

function openLinks(): i32 {
  let n = 0;
  for (let i = 0; i < links.length; i++) if (links[i].kind != LINK_FREE) n++;
  return n;
}

describe("reboot", () => {
  test("with the same sizes: everything forgotten", () => {
    boot();
    becomeRoot();
    acceptJoin(P1, fileXid());
    deliver(P1, 3); // one malformed datagram
    expect(role()).toBe(ROLE_ROOT);
    expect(openLinks()).toBe(1);
    expect(core.malformedDatagrams).toBe(1);
    expect(core.coreInit()).toBe(0);
    for (let i = 0; i < hiers.length; i++) expect(hiers[i].role).toBe(ROLE_IDLE);
    expect(openLinks()).toBe(0);
    expect(outboxUsed()).toBe(0);
    expect(core.malformedDatagrams).toBe(0);
    expect(core.nextDeadlineMs()).toBe(Infinity);
  });

  // Regression: a refused reboot once left the new (refused) figures in
  // effect, so a larger inbox size let stream data read past the real inbox.
  test("a refused reboot leaves the old configuration in effect", () => {
    boot();
    const h = core.onStreamAccept(0, P1);
    cfg.configWords[cfg.CFG_INBOX_BYTES] = INBOX_BYTES * 2;
    expect(core.coreInit()).toBe(-3);
    expect(cfg.inboxBytes).toBe(<i32>INBOX_BYTES);
    // More than the real inbox holds is refused: counted, and the link closed.
    core.onStreamData(0, h, <i32>INBOX_BYTES + 904);
    expect(stream.malformedFrames).toBe(1);
    expect(core.staleHandles).toBe(0);
    cfg.configWords[cfg.CFG_INBOX_BYTES] = INBOX_BYTES;
    cfg.configWords[cfg.CFG_SELF_ADDR] = 0;
    expect(core.coreInit()).toBe(-2);
    expect(cfg.selfAddr).toBe(SELF);
  });

  // Last in the file: with the bug above, a refused reboot leaves the
  // config words it refused in effect, so a later boot() would fail.
  test("with other sizes: refused (-3)", () => {
    boot();
    cfg.configWords[cfg.CFG_INBOX_BYTES] = INBOX_BYTES * 2;
    expect(core.coreInit()).toBe(-3);
  });
});
