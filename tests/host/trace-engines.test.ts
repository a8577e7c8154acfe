// The same core, bit for bit, on every engine (issue: the core off V8):
// three traces recorded from the simulator with the microcontroller board's
// figures (an election under loss, a relay with a root crash, a rogue peer
// whose bad blocks are caught) replay through `pfs trace replay` on V8, the
// WASI command, the wasm2c build for this machine and the Cortex-M3 image
// under QEMU, and every engine prints the recorder's own digest line.
// An engine whose toolchain this machine cannot have is skipped, saying why.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOARD, ensureNative, PFS_BIN, recordTrace, ROOT } from "../support/native.js";

const dir = mkdtempSync(join(tmpdir(), "pfs-engines-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const TRACES: Array<{ name: string; args: string[] }> = [
  { name: "election under loss", args: ["--phones", "16", "--loss", "0.2", "--seed", "3"] },
  { name: "relay with a root crash", args: ["--phones", "8", "--load", "tiny", "--root-crashes", "1", "--restart", "1", "--seed", "1"] },
  { name: "rogue peer", args: ["--phones", "8", "--load", "tiny", "--rogues", "1", "--seed", "14"] }, // a seed whose rogue gets to relay
];

const recorded = TRACES.map((t, i) => {
  const file = join(dir, `t${i}.trace`);
  const digest = recordTrace(file, [...t.args, "--board", BOARD]);
  return { ...t, file, digest };
});

function replay(engine: string, file: string): { code: number | null; line: string; all: string } {
  const r = spawnSync(process.execPath, [PFS_BIN, "trace", "replay", file, "--engine", engine], { encoding: "utf8", cwd: ROOT, maxBuffer: 1 << 24 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("digest ")) ?? "";
  return { code: r.status, line, all: r.stdout + r.stderr };
}

test("the rogue trace caught bad blocks, so counters change mid-run", () => {
  const r = spawnSync(process.execPath, [PFS_BIN, "sim", ...TRACES[2].args, "--board", BOARD, "--json"], { encoding: "utf8" });
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.ok(out.corruptBlocks > 0, `corruptBlocks ${out.corruptBlocks}`);
});

const engines: Array<{ engine: string; why: () => string | null }> = [
  { engine: "v8", why: () => null },
  { engine: "wasi", why: () => (existsSync(join(ROOT, "build/pfs.wasi.wasm")) ? null : "build/pfs.wasi.wasm is not built (make wasi)") },
  { engine: "native", why: () => ensureNative("native") },
  { engine: "qemu", why: () => ensureNative("board") },
];

for (const { engine, why } of engines) {
  test(`${engine}: every trace replays to the recorder's digest line`, (t) => {
    const reason = why();
    if (reason !== null) return t.skip(reason);
    for (const tr of recorded) {
      const r = replay(engine, tr.file);
      assert.equal(r.code, 0, `${tr.name} on ${engine}: ${r.all}`);
      assert.equal(r.line, tr.digest, `${tr.name} on ${engine}`);
    }
  });
}
