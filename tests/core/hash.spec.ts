// hash.ts: FNV-1a 32 against published vectors, and the hierarchy id is the
// hash of model, a zero byte, and file name, as xidOf() computes it.

import * as core from "../../assembly/core";
import { fnv1a, hierarchyId } from "../../assembly/hash";
import { boot, FILE, fileXid, MODEL } from "./support";

const buf = heap.alloc(256);

function put(at: usize, s: string): i32 {
  for (let i = 0; i < s.length; i++) store<u8>(at + <usize>i, <u8>s.charCodeAt(i));
  return s.length;
}

describe("hash", () => {
  test("FNV-1a 32 vectors", () => {
    expect(fnv1a(0x811c9dc5, buf, 0)).toBe(0x811c9dc5);
    expect(fnv1a(0x811c9dc5, buf, put(buf, "a"))).toBe(0xe40c292c);
    expect(fnv1a(0x811c9dc5, buf, put(buf, "foobar"))).toBe(0xbf9cf968);
  });

  test("the hierarchy id hashes model, a zero byte, and the file name", () => {
    const ml = put(buf, MODEL);
    store<u8>(buf + <usize>ml, 0);
    const fl = put(buf + <usize>ml + 1, FILE);
    const whole = fnv1a(0x811c9dc5, buf, ml + 1 + fl);
    expect(hierarchyId(buf, ml, buf + <usize>ml + 1, fl)).toBe(whole);
    expect(fileXid()).toBe(whole);
    // another file of the same model is another hierarchy
    expect(hierarchyId(buf, ml, buf + <usize>ml + 1, fl - 1)).not.toBe(whole);
  });

  test("xidOf() hashes what the host wrote to the inbox", () => {
    boot();
    const inbox = core.inboxAddr();
    const ml = put(inbox, MODEL);
    const fl = put(inbox + <usize>ml, FILE);
    expect(core.xidOf(ml, fl)).toBe(fileXid());
    expect(core.xidOf(-1, fl)).toBe(0);
    expect(core.xidOf(4096, 1)).toBe(0);
  });
});
