// The pfs command as a user runs it: the JSON contract of `pfs sim --json`,
// clear errors for wrong arguments, and the demo's output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const pfs = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/pfs.js"), ...args], { encoding: "utf8", env: { ...process.env, CI: "true" } });

test("pfs sim --json ends with one JSON object carrying the documented fields", () => {
  const r = pfs("sim", "--phones", "7", "--models", "2", "--files", "2", "--loss", "0.1", "--seed", "9", "--json");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const out = JSON.parse(lines[lines.length - 1]);
  for (const key of ["phones", "live", "seed", "orphans", "maxChildren", "convergedMs", "wallMs", "hierarchies"]) {
    assert.ok(key in out, `missing ${key}`);
  }
  assert.equal(out.phones, 7);
  assert.equal(out.seed, 9);
  assert.equal(out.orphans, 0);
  assert.equal(out.hierarchies.length, 4);
  for (const h of out.hierarchies) {
    for (const key of ["xid", "model", "file", "size", "roots", "maxDepth"]) assert.ok(key in h, `hierarchy missing ${key}`);
    assert.match(h.xid, /^XID[0-9A-F]{8}$/);
    assert.equal(h.roots, 1);
  }
});

test("wrong arguments say what is wrong and exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["sim", "--phones", "lots"], /--phones needs a number/],
    [["sim", "--phones", "0"], /--phones must be a whole number from 1/],
    [["sim", "--loss", "1.5"], /--loss must be a fraction from 0 to 1/],
    [["sim", "--models", "9"], /--models must be a whole number from 1 to 7/],
    [["sim", "--bogus"], /Unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = pfs(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: exit ${r.status}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.match(r.stderr, /usage: pfs/, `${args.join(" ")} shows the usage`);
  }
});

test("pfs demo --sim shows the election, each phone's progress per component, the trees and the totals", () => {
  const r = pfs("demo", "--sim", "--phones", "8", "--seed", "2");
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  assert.match(r.stdout, /TxBdcst ClaimRoot\(tent\): strength=[0-9a-f]{8}/);
  assert.match(r.stdout, /UT:Confirmed root bumping strength/);
  assert.match(r.stdout, /@@@HROOT:XID[0-9A-F]{8} m=CP-79[46]1G ROOT=10\.0\.0\.\d+ \S+/);
  assert.match(r.stdout, /Root sending TFTP XfrCmd/);
  // Progress tables: a row per phone, a cell per component, ending at 100%.
  assert.match(r.stdout, /progress: KB held checked/);
  assert.match(r.stdout, /10\.0\.0\.1 +CP-79[46]1G +(\s*\d+K +\d+%R?){5}/);
  assert.match(r.stdout, /apps41\.9-4-2ES26\.sbn complete: 3157527 bytes checked and in flash/);
  assert.match(r.stdout, /\(root\)/);
  assert.match(r.stdout, /8 of 8 phones hold the whole load checked/);
  assert.doesNotMatch(r.stdout, /FAILED|error:/);
});
