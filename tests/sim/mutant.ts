// Mutated cores, for tests that must show a check catching a core that
// breaks a promise of its own: a copy of assembly/ with one line changed,
// compiled by asc into a temporary folder (about 2 s). The real source is
// never touched. A mutation whose line is gone fails loudly, naming it, so a
// refactor of the core cannot silently turn a test into a no-op.

import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository, from build/js/tests/sim. */
const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface Mutation {
  /** A file of assembly/. */
  file: string;
  /** The exact text to replace (it must occur once). */
  from: string;
  to: string;
}

export function mutantCore(mutations: Mutation | Mutation[]): WebAssembly.Module {
  const dir = mkdtempSync(join(tmpdir(), "pfs-mutant-"));
  try {
    cpSync(join(root, "assembly"), join(dir, "assembly"), { recursive: true });
    cpSync(join(root, "asconfig.json"), join(dir, "asconfig.json"));
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    for (const m of Array.isArray(mutations) ? mutations : [mutations]) {
      const path = join(dir, "assembly", m.file);
      const text = readFileSync(path, "utf8");
      if (text.split(m.from).length !== 2) throw new Error(`mutation of assembly/${m.file} no longer applies: '${m.from}' must occur exactly once`);
      writeFileSync(path, text.replace(m.from, m.to));
    }
    const out = join(dir, "mutant.wasm");
    execFileSync(join(root, "node_modules/.bin/asc"), ["assembly/index.ts", "--target", "release", "-o", out, "--textFile", join(dir, "mutant.wat")], { cwd: dir, stdio: "pipe" });
    return new WebAssembly.Module(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
