// The host's per-source limits on accepted connections (host/phone/
// accept-gate.ts): streams open at once, a token bucket of accepts, and a
// bounded memory of sources under a flood from rotating addresses.

import { test } from "node:test";
import assert from "node:assert/strict";
import { AcceptGate, acceptLimits, ACCEPTS_PER_SOURCE_PER_SEC, SOURCES_TRACKED_MAX } from "../../host/phone/accept-gate.js";

const A = 0x7f000001;
const B = 0x7f000002;

test("one source: at most openPerSource open, and a burst then the sustained rate", () => {
  const limits = acceptLimits(8);
  assert.deepEqual(limits, { openPerSource: 8, burstPerSource: 16, perSecond: ACCEPTS_PER_SOURCE_PER_SEC });
  const gate = new AcceptGate(limits);
  for (let i = 0; i < 8; i++) assert.equal(gate.admit(A, 0), "ok");
  assert.equal(gate.admit(A, 0), "too-many-open");
  assert.equal(gate.admit(B, 0), "ok", "another source has its own limits");
  // The bucket: with room to stay open, 16 at once, then 10 a second.
  const bucket = new AcceptGate({ openPerSource: 1000, burstPerSource: 16, perSecond: 10 });
  let ok = 0;
  for (let i = 0; i < 100; i++) if (bucket.admit(A, 0) === "ok") ok++;
  assert.equal(ok, 16);
  assert.equal(bucket.refused.tooFast, 84);
  assert.equal(bucket.admit(A, 50), "too-fast", "half a token after 50 ms");
  assert.equal(bucket.admit(A, 100), "ok", "one token after 100 ms");
  ok = 0;
  for (let t = 200; t <= 10_100; t += 10) if (bucket.admit(A, t) === "ok") ok++;
  assert.ok(ok >= 99 && ok <= 101, `${ok} accepts in 10 s`);
});

test("a flood from rotating sources keeps at most SOURCES_TRACKED_MAX, and never forgets one with streams open", () => {
  const gate = new AcceptGate(acceptLimits(8));
  assert.equal(gate.admit(A, 0), "ok");
  for (let i = 0; i < 5 * SOURCES_TRACKED_MAX; i++) {
    const src = 0x0a000000 + i;
    assert.equal(gate.admit(src, i), "ok");
    gate.release(src);
  }
  assert.equal(gate.openFrom(A), 1, "the source with a stream open is still known");
  gate.release(A);
  assert.throws(() => gate.release(A), /nothing open/);
});
