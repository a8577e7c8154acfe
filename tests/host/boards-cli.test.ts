// pfs boards and pfs trace as a user runs them: the measured figures, a board
// over its budget refused in one line, and wrong arguments named in one line
// without a stack trace.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const pfs = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(root, "bin/pfs.js"), ...args], { encoding: "utf8", env: { ...process.env, ...env } });
const oneLine = (s: string) => s.trim().split("\n")[0];

test("pfs boards --json: every board's memory after init(); the microcontroller boards within their pages and budget", () => {
  const r = pfs(["boards", "--quick", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const an385 = rows.find((b) => b.board === "mps2-an385");
  assert.ok(an385 !== undefined);
  assert.ok(an385.heapBytes <= an385.linearBytes && an385.linearBytes <= an385.budgetBytes, JSON.stringify(an385));
  assert.ok(an385.budgetBytes <= 256 * 1024);
  const phone = rows.find((b) => b.board === "cp-7961g");
  assert.ok(phone.heapBytes > an385.heapBytes);
  for (const b of rows) assert.ok(b.wasmBytes > 10_000 && b.heapBytes > 0 && b.pages >= 2, JSON.stringify(b));
});

test("pfs boards: a board whose core outgrows its memory is refused in one line, exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-boards-"));
  try {
    writeFileSync(join(dir, "too-small.json"), JSON.stringify({
      name: "too-small", core: { maxHierarchies: 4, maxStreams: 16, ringBytes: 65536, maxTransfers: 2, maxFileBytes: 1 << 20 },
      memory: { linearBytes: 65536, budgetBytes: 262144 },
    }));
    writeFileSync(join(dir, "over-budget.json"), JSON.stringify({ name: "over-budget", inherits: "too-small", memory: { linearBytes: 524288 } }));
    const small = pfs(["boards", "--quick", "too-small"], { PFS_BOARDS_DIR: dir });
    assert.equal(small.status, 1, small.stdout);
    assert.match(oneLine(small.stderr), /^pfs boards: board too-small: the core needs \d+ bytes after init\(\), over memory\.linearBytes 65536$/);
    assert.doesNotMatch(small.stderr, /at .*\.js/);
    const over = pfs(["boards", "--quick", "over-budget"], { PFS_BOARDS_DIR: dir });
    assert.equal(over.status, 1);
    assert.match(oneLine(over.stderr), /memory\.linearBytes 524288 is over memory\.budgetBytes 262144/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("wrong arguments to boards, sim --board and trace: one line, exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["boards", "nope"], /^pfs boards: no board 'nope'.* \(see pfs boards --help\)$/],
    [["sim", "--board", "nope"], /^pfs sim: --board must be one of: /],
    [["trace"], /^pfs trace: a subcommand is needed: record, replay \(see pfs trace --help\)$/],
    [["trace", "replay"], /^pfs trace replay: missing required argument 'file'/],
    [["trace", "replay", "a", "b"], /^pfs trace replay: unexpected argument 'b'/],
    [["trace", "replay", "/nonexistent.trace"], /^pfs trace replay: no such trace/],
    [["trace", "replay", "/etc/hostname", "--engine", "v9"], /^pfs trace replay: --engine must be one of v8, wasi, native, qemu/],
    [["trace", "replay", "/etc/hostname"], /^pfs: \/etc\/hostname: not a trace/],
    [["trace", "record"], /^pfs trace record: --out is required/],
    [["trace", "record", "--out", "/tmp/x.trace", "--only", "a,b"], /^pfs trace record: --only needs phone indices/],
  ];
  for (const [args, want] of cases) {
    const r = pfs(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: one line: ${r.stderr}`);
    assert.match(oneLine(r.stderr), want, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace for ${args.join(" ")}`);
  }
});
