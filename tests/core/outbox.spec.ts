// A host that does not drain the outbox: records that do not fit are
// dropped whole and counted, what is there stays well-formed, and the core
// carries on once the host drains. A small (1024-byte) outbox in this file.

import * as core from "../../assembly/core";
import { EV_ROOT_AD } from "../../assembly/events";
import { hiers, ROLE_ROOT } from "../../assembly/hierarchy";
import { outboxDropped, outboxUsed } from "../../assembly/outbox";
import { T_ROOT_AD } from "../../assembly/wire";
import {
  acceptJoin, becomeRoot, boot, clear, countDgram, countEvent, dgSolicit, fileXid, now, outboxValid, P1, P2, P3, role,
  runUntil, SELF,
} from "./support";

describe("a full outbox", () => {
  test("drops whole records, counts them, and stays well-formed", () => {
    boot(SELF, 0, 7, 1024);
    becomeRoot();
    acceptJoin(P1, fileXid());
    acceptJoin(P2, fileXid());
    const dropped = outboxDropped;
    const end = now + 20000;
    let over = 0;
    for (let t = now; t < end; t += 50) {
      runUntil(t);
      dgSolicit(P3, fileXid(), 0);
      if (outboxUsed() > 1024) over++;
    }
    expect(over).toBe(0);
    expect(outboxDropped).toBeGreaterThan(dropped);
    expect(outboxValid()).toBe(true);
    expect(role()).toBe(ROLE_ROOT);
  });

  test("after the host drains it, messages get through again", () => {
    boot(SELF, 0, 7, 1024);
    becomeRoot();
    runUntil(now + 60000); // root ads every 2 s fill it
    expect(outboxValid()).toBe(true);
    clear();
    runUntil(core.nextDeadlineMs());
    expect(countDgram(T_ROOT_AD)).toBe(1);
    expect(countEvent(EV_ROOT_AD)).toBe(1);
    expect(hiers[0].role).toBe(ROLE_ROOT);
  });
});
