// A flash write that fails (docs/ABI.md 7.3): onFlashWritten with len < 0
// says the writes outstanding from the flash offset failed. The core asks
// for them again, from exactly what was written, after FLASH_RETRY_MS
// (doubling), and after MAX_FLASH_FAILURES in a row gives the file up:
// event FLASH_FAILED with b = 1, then LEFT; never FILE_DONE.

import * as core from "../../assembly/core";
import { EV_FLASH_FAILED, EV_LEFT } from "../../assembly/events";
import { hiers, ROLE_IDLE, ROLE_ROOT } from "../../assembly/hierarchy";
import { FLASH_RETRY_MS, MAX_FLASH_FAILURES } from "../../assembly/limits";
import { countEvent, evA, evB, evN, findEvent, now, P1, runUntil } from "./support";
import {
  blockAt, bootRelay, closes, dones, drain, feedServer, flashAcked, flashDone, flashFail, flashFailA, flashFailB,
  flashFailN, flashFails, flashNext, flashWrites, joinAt, lefts, makeFile, problems, rootRelay, setAutoFlash, total,
} from "./relay-support";

const SMALL: u32 = 40000; // 3 blocks

/** A root that has received and checked the whole file; nothing written yet. */
function rootHolding(): void {
  bootRelay();
  makeFile(SMALL, 21);
  rootRelay();
  feedServer(total, 1000);
  expect(flashNext).toBe(total);
  expect(flashAcked).toBe(0);
}

describe("a flash write that fails", () => {
  test("is asked for again from the flash offset after FLASH_RETRY_MS, not before", () => {
    rootHolding();
    const asked = flashWrites;
    flashFail();
    expect(flashFails).toBe(1);
    expect(flashFailN).toBe(1);
    expect(flashFailA).toBe(0); // nothing was written: from offset 0
    expect(flashFailB).toBe(0); // not given up
    expect(flashWrites).toBe(asked); // the flash gets a rest first
    runUntil(now + FLASH_RETRY_MS - 1);
    expect(flashWrites).toBe(asked);
    runUntil(now + 1);
    drain();
    expect(flashWrites).toBeGreaterThan(asked);
    expect(flashNext).toBe(total); // all of it again, in order from 0 (problems() checks)
    flashDone(total);
    expect(dones).toBe(1);
    expect(hiers[0].verified).toBe(true);
    expect(problems()).toBe(0);
  });

  test("after a partial success only the rest is asked for again; written bytes reset the count", () => {
    rootHolding();
    flashDone(10000);
    flashFail();
    expect(flashFailA).toBe(10000);
    runUntil(now + FLASH_RETRY_MS);
    drain();
    expect(flashNext).toBe(total); // from 10000 on: the model flash checks the offsets
    flashDone(5000); // progress: the next failure is the first of a new run
    flashFail();
    expect(flashFailN).toBe(1);
    runUntil(now + FLASH_RETRY_MS);
    drain();
    flashDone(total);
    expect(dones).toBe(1);
    expect(problems()).toBe(0);
  });

  test("a failure report with nothing outstanding changes nothing", () => {
    rootHolding();
    flashDone(total);
    expect(dones).toBe(1);
    core.onFlashWritten(now, 0, -1);
    expect(countEvent(EV_FLASH_FAILED)).toBe(0);
    drain();
    expect(hiers[0].verified).toBe(true);
  });

  test(`MAX_FLASH_FAILURES (${MAX_FLASH_FAILURES}) in a row give the file up: FLASH_FAILED(b=1), LEFT, never FILE_DONE`, () => {
    rootHolding();
    const child = joinAt(P1, 0);
    for (let i = 1; i < MAX_FLASH_FAILURES; i++) {
      flashFail();
      expect(flashFailN).toBe(<u32>i);
      expect(flashFailB).toBe(0);
      expect(hiers[0].role).toBe(ROLE_ROOT);
      // The backoff doubles: 1, 2, 4 s.
      runUntil(now + FLASH_RETRY_MS * <f64>(1 << (i - 1)));
      drain();
      expect(flashNext).toBe(total);
    }
    core.onFlashWritten(now, 0, -1);
    const ev = findEvent(EV_FLASH_FAILED);
    expect(evN(ev)).toBe(<u32>MAX_FLASH_FAILURES);
    expect(evA(ev)).toBe(0);
    expect(evB(ev)).toBe(1);
    expect(countEvent(EV_LEFT)).toBe(1);
    drain();
    expect(lefts).toBe(1);
    expect(closes[child]).toBe(1); // its child re-joins elsewhere
    expect(hiers[0].role).toBe(ROLE_IDLE);
    setAutoFlash(true);
    runUntil(now + 10000);
    drain();
    expect(dones).toBe(0);
  });
});
