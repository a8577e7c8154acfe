// The console lines of both phones against their one specification,
// docs/CONSOLE.md (issue 11). The patterns come from the doc's tables, so
// the doc is the one source: a fleet of Node and C phones (build/native/
// pfs-phone) runs one upgrade, and every line each of them prints must have
// the line's shape and match a documented kind at its documented level; the
// milestones of an upgrade must show on a Node phone and on a C phone both;
// and a doc with a kind taken out leaves lines unmatched (the check fires).

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NATIVE_PHONE_BIN, PhoneRun, runFleetProcesses } from "../../host/phone/fleet.js";
import { ensurePhoneTool, ROOT } from "../support/native.js";

/** One PFS port per test process, below the ephemeral ports (fleet-flood.test.ts). */
const PORT = 20000 + (process.pid % 12000);
const PHONES = 4;
/** A phone's model is its index mod 2 (fleet.ts fleetPhones): model 0 is
 *  phones 0 and 2, Node phones; model 1 is phones 1 and 3, C phones. Each
 *  model has its own root, so a Node phone and a C phone each print the
 *  root's lines. */
const MODELS = 2;
const isNative = (i: number) => i % 2 === 1;
const TEST_TIMEOUT_MS = 60_000;

/** `LVL HH:MM:SS.mmm DLoad: text` (docs/CONSOLE.md, "The line"). */
const LINE_SHAPE = /^(NOT|INF|WRN|ERR|DBG) \d{2}:\d{2}:\d{2}\.\d{3} DLoad: (.*)$/;
const FAILURE_PREFIX = "pfs phone: ";
/** The kinds every upgrade through PFS prints (roots: @@@HROOT). */
const MILESTONES = ["booted", "need", "progress", "file complete", "verified in flash and active", "confirmed"];

interface Kind {
  kind: string;
  level: string;
  pattern: RegExp;
}

/** The rows of the table under `heading` in docs/CONSOLE.md. */
function tableUnder(doc: string, heading: string): Kind[] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/CONSOLE.md has no section "${heading}"`);
  const next = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, next < 0 ? undefined : next);
  const kinds: Kind[] = [];
  for (const row of section.split("\n").filter((l) => l.startsWith("| "))) {
    // Cells end at pipes that are not escaped ("\|" is a pipe of the expression).
    const cells = row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (cells[0] === "Kind" || /^-+$/.test(cells[0])) continue;
    const code = /^`(.*)`$/.exec(cells[2]);
    assert.ok(code !== null, `docs/CONSOLE.md: the pattern of "${cells[0]}" is not one code span: ${cells[2]}`);
    kinds.push({ kind: cells[0], level: cells[1], pattern: new RegExp(`^(?:${code[1].replace(/\\\|/g, "|")})$`) });
  }
  assert.ok(kinds.length > 0, `docs/CONSOLE.md: no rows under "${heading}"`);
  return kinds;
}

const DOC = readFileSync(join(ROOT, "docs/CONSOLE.md"), "utf8");
const LINE_KINDS = tableUnder(DOC, "Line kinds");
const FAILURE_KINDS = tableUnder(DOC, "Failures (stderr)");

/** The kind of one line, or why it has none. */
function kindOf(line: string, kinds: Kind[]): { kind: string } | { unmatched: string } {
  if (line.startsWith(FAILURE_PREFIX)) {
    const k = FAILURE_KINDS.find((f) => f.pattern.test(line));
    return k === undefined ? { unmatched: "undocumented failure line" } : { kind: k.kind };
  }
  const m = LINE_SHAPE.exec(line);
  if (m === null) return { unmatched: "not of the line's shape" };
  const [, level, text] = m;
  const k = kinds.find((c) => c.level === level && c.pattern.test(text));
  if (k !== undefined) return { kind: k.kind };
  const other = kinds.find((c) => c.pattern.test(text));
  return { unmatched: other === undefined ? "no documented pattern" : `kind "${other.kind}" is ${other.level}, not ${level}` };
}

const who = (p: PhoneRun) => `${p.bind} (${p.native ? "C" : "node"})`;

/** Lines of the fleet that match no kind, each with its phone and why. */
function unmatched(phones: PhoneRun[], kinds: Kind[]): string[] {
  const out: string[] = [];
  for (const p of phones) {
    for (const line of p.lines) {
      const k = kindOf(line, kinds);
      if ("unmatched" in k) out.push(`${who(p)}: ${k.unmatched}: ${line}`);
    }
  }
  return out;
}

const work = mkdtempSync(join(tmpdir(), "pfs-console-"));
after(() => rmSync(work, { recursive: true, force: true }));

let fleet: Promise<PhoneRun[]> | undefined;
/** One fleet for every test here: 2 Node and 2 C phones. */
function runOnce(): Promise<PhoneRun[]> {
  fleet ??= runFleetProcesses({
    phones: PHONES, models: MODELS, load: "tiny", port: PORT, lingerSec: 2, pfs: true, tftpWindow: 1,
    verbose: false, out: () => {}, workDir: join(work, "fleet"), native: { bin: NATIVE_PHONE_BIN, phones: isNative },
  }).then((run) => {
    const failed = run.phones.filter((p) => p.exit !== 0).map((p) => `${who(p)} exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`);
    assert.deepEqual(failed, [], "every phone upgrades");
    return run.phones;
  });
  return fleet;
}

test("docs/CONSOLE.md: every kind's pattern compiles and names a level", () => {
  for (const k of LINE_KINDS) assert.match(`${k.level} `, /^(NOT|INF|WRN|ERR|DBG) $/, `kind "${k.kind}": level ${k.level}`);
  for (const name of [...MILESTONES, "root (@@@HROOT)"]) assert.ok(LINE_KINDS.some((k) => k.kind === name), `no kind "${name}"`);
});

test("a fleet of Node and C phones: every console line is a documented kind at its level", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = ensurePhoneTool("build/native/pfs-phone");
  if (reason !== null) return t.skip(reason);
  const phones = await runOnce();
  const lines = phones.reduce((n, p) => n + p.lines.length, 0);
  t.diagnostic(`${lines} lines from ${PHONES} phones`);
  assert.deepEqual(unmatched(phones, LINE_KINDS), [], "lines docs/CONSOLE.md does not describe");
});

test("the milestones of an upgrade show on a Node phone and on a C phone", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = ensurePhoneTool("build/native/pfs-phone");
  if (reason !== null) return t.skip(reason);
  const phones = await runOnce();
  const kindsOf = (p: PhoneRun) => new Set(p.lines.map((l) => kindOf(l, LINE_KINDS)).flatMap((k) => ("kind" in k ? [k.kind] : [])));
  for (const native of [false, true]) {
    const mine = phones.filter((p) => p.native === native);
    for (const p of mine) {
      const seen = kindsOf(p);
      const missing = MILESTONES.filter((m) => !seen.has(m));
      assert.deepEqual(missing, [], `${who(p)} printed no line of these kinds`);
    }
  }
  // Each model's root: a Node phone for model 0, a C phone for model 1.
  const roots = phones.filter((p) => kindsOf(p).has("root (@@@HROOT)"));
  t.diagnostic(`roots: ${roots.map(who).join(", ")}`);
  for (const native of [false, true]) assert.ok(roots.some((p) => p.native === native), `no ${native ? "C" : "Node"} phone printed @@@HROOT`);
});

test("a doc without the \"verified in flash and active\" kind leaves lines of both phones unmatched", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const reason = ensurePhoneTool("build/native/pfs-phone");
  if (reason !== null) return t.skip(reason);
  const phones = await runOnce();
  const broken = LINE_KINDS.filter((k) => k.kind !== "verified in flash and active");
  assert.equal(broken.length, LINE_KINDS.length - 1);
  const left = unmatched(phones, broken);
  assert.ok(left.length >= PHONES, `only ${left.length} lines unmatched`);
  assert.ok(left.every((l) => / verified in flash and active /.test(l)), left.join("\n"));
  for (const native of [false, true]) assert.ok(left.some((l) => l.includes(native ? "(C)" : "(node)")), `no ${native ? "C" : "Node"} line unmatched`);
});
