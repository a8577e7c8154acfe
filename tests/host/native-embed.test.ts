// The C embedder's trap paths (native/embed/embed_test.c, built by `make
// replay` as build/native/pfs-embed-test): env.abort becomes a one-line
// report naming the export, message and place; env.sha256 outside memory
// traps without touching anything; a trapped instance answers 0 and a fresh
// one works; accesses past the end of memory are refused. What a trace
// cannot reach. Skips, saying why, when the native toolchain is missing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureNative, ROOT } from "../support/native.js";

test("the C embedder reports traps of both imports and recovers with a fresh instance", (t) => {
  const why = ensureNative("native");
  if (why !== null) return t.skip(why);
  const r = spawnSync(join(ROOT, "build/native/pfs-embed-test"), { encoding: "utf8" });
  assert.equal(r.signal, null);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(lines.filter((l) => !l.startsWith("ok ")), [], r.stdout + r.stderr);
  assert.equal(r.status, 0);
  assert.ok(lines.length >= 10, `only ${lines.length} checks ran`);
});
