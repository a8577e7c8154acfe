// Console lines that outside input can cause stay few (issue 10, 5b): a
// flood of drops makes one summary line per interval, not one line per
// drop; other event lines are rationed per kind; every reason the core
// drops an input for has a name (137 = 0x89 printed as a bare number).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as abi from "../../host/core/abi.js";
import { Ev } from "../../host/core/abi.js";
import { formatEvent, malformedReason, MALFORMED_FRAME_BIT, MALFORMED_REASON_NAMES } from "../../host/log/console.js";
import { DropLog, DROP_SUMMARY_INTERVAL_MS, EventBudget, EVENT_LINES_PER_INTERVAL } from "../../host/log/throttle.js";

test("every BAD_ reason the core exports has a name, with and without the frame bit", () => {
  const reasons = Object.entries(abi).filter(([k]) => k.startsWith("BAD_")).map(([, v]) => v as number);
  assert.ok(reasons.length >= 10, `only ${reasons.length} BAD_ numbers exported`);
  for (const r of reasons) {
    assert.ok(MALFORMED_REASON_NAMES.has(r), `reason ${r} has no name`);
    for (const n of [r, r | MALFORMED_FRAME_BIT]) assert.doesNotMatch(malformedReason(n), /\d|unnamed/, `reason ${n}`);
  }
  const line = formatEvent(0, 0x7f000002, 0, Ev.Malformed, 0x80 | abi.BAD_UNEXPECTED, 0x7f000001, 0)![0];
  assert.match(line, /Dropped malformed frame from 127\.0\.0\.1: unexpected frame$/);
  assert.match(malformedReason(0x7f), /reason 127 \(unnamed\)/, "a reason added to the core later still prints");
});

test("200,000 drops in 60 s make one line per interval, and the count adds up", () => {
  const lines: Array<[number, string]> = [];
  const log = new DropLog((at, text) => lines.push([at, text]));
  const DROPS = 200_000;
  const SPAN_MS = 60_000;
  for (let i = 0; i < DROPS; i++) {
    const at = (i * SPAN_MS) / DROPS;
    // Datagrams of every reason, frames, from a handful of sources.
    const reason = (i % 10) + 1 | (i % 7 === 3 ? MALFORMED_FRAME_BIT : 0);
    log.add(at, reason, 0x7f000001 + (i % 5));
    if (i % 1000 === 0) log.flush(at);
  }
  log.flush(SPAN_MS, true);
  const most = Math.ceil(SPAN_MS / DROP_SUMMARY_INTERVAL_MS) + 2;
  assert.ok(lines.length <= most, `${lines.length} lines`);
  for (let i = 1; i < lines.length - 1; i++) assert.ok(lines[i][0] - lines[i - 1][0] >= DROP_SUMMARY_INTERVAL_MS);
  assert.match(lines[0][1], /^Dropped malformed 1 datagram \(truncated 1\) from 127\.0\.0\.1 1; 1 since start$/, "the first drop is said at once");
  assert.match(lines.at(-1)![1], new RegExp(`; ${DROPS} since start$`));
  const counted = lines.reduce((sum, [, text]) => sum + [...text.matchAll(/(\d+) (?:datagram|frame)s?/g)].reduce((s, m) => s + Number(m[1]), 0), 0);
  assert.equal(counted, DROPS);
  assert.doesNotMatch(lines.map(([, t]) => t).join("\n"), /\(unnamed\)/);
});

test("a rotating-source flood keeps the drop log's memory bounded", () => {
  const lines: string[] = [];
  const log = new DropLog((_at, text) => lines.push(text));
  for (let i = 0; i < 100_000; i++) log.add(1 + i * 0.01, 1, 0x0a000000 + i);
  log.flush(10_000_000, true);
  assert.match(lines.at(-1)!, /and \d+\+ more; 100000 since start$/);
});

test("event lines are rationed per kind, and what was held back is said", () => {
  const lines: string[] = [];
  const budget = new EventBudget((_at, text) => lines.push(text));
  let shown = 0;
  for (let i = 0; i < 1000; i++) if (budget.allow(i, Ev.Refused, "Refused")) shown++;
  assert.ok(budget.allow(500, Ev.Joined, "Joined"), "another kind has its own budget");
  assert.equal(shown, EVENT_LINES_PER_INTERVAL);
  budget.flush(DROP_SUMMARY_INTERVAL_MS);
  assert.deepEqual(lines, [`... and ${1000 - EVENT_LINES_PER_INTERVAL} Refused line(s) not shown (more than ${EVENT_LINES_PER_INTERVAL} of a kind in 10 s)`]);
  assert.ok(budget.allow(DROP_SUMMARY_INTERVAL_MS + 1, Ev.Refused, "Refused"), "a new interval, a new budget");
});
