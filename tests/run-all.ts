// `make test`: runs every suite, shows its own output, and closes with one
// line for the whole run: "N passed, N failed, N skipped". A suite that did
// not run (compile error, crash, no tests found) counts as a failure, and
// skipped tests are counted and named, never folded into the passes.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

interface Tally {
  suite: string;
  passed: number;
  failed: number;
  skipped: number;
  note?: string;
}

function run(cmd: string, args: string[], echo: (s: string) => void, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...env } });
    let output = "";
    const take = (d: Buffer) => {
      const s = d.toString();
      output += s;
      echo(s);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** as-pect prints huge lines when a compile fails; keep the console readable. */
const echoClipped = (s: string) => {
  for (const line of s.split("\n")) if (line.length > 0 || s.endsWith("\n")) process.stdout.write((line.length > 400 ? line.slice(0, 400) + " [...]" : line) + "\n");
};

async function coreSuite(): Promise<Tally> {
  const { code, output } = await run("npx", ["--no-install", "asp", "--config", "as-pect.config.js", "--no-logo", "--summary"], echoClipped);
  const text = stripAnsi(output);
  const m = /\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/.exec(text);
  if (m === null) return { suite: "core (as-pect)", passed: 0, failed: 1, skipped: 0, note: `as-pect did not report (exit ${code})` };
  const passed = Number(m[1]);
  const total = Number(m[2]);
  // xtest'd tests show per file as "Todo: N".
  const skipped = [...text.matchAll(/Todo: (\d+)/g)].reduce((sum, t) => sum + Number(t[1]), 0);
  const failed = total - passed + (code !== 0 && total === passed ? 1 : 0);
  return { suite: "core (as-pect)", passed, failed, skipped };
}

function testFiles(dir: string): string[] {
  const abs = join(root, "build/js/tests", dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).filter((f) => f.endsWith(".test.js")).sort().map((f) => join(abs, f));
}

async function nodeSuite(name: string, dir: string, env: Record<string, string> = {}): Promise<Tally> {
  const files = testFiles(dir);
  if (files.length === 0) return { suite: name, passed: 0, failed: 0, skipped: 0, note: "no test files" };
  const tapDir = mkdtempSync(join(tmpdir(), "pfs-test-"));
  const tap = join(tapDir, "report.tap");
  const { code } = await run(process.execPath, [
    "--test", "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tap}`, ...files,
  ], (s) => process.stdout.write(s), env);
  const report = existsSync(tap) ? readFileSync(tap, "utf8") : "";
  rmSync(tapDir, { recursive: true, force: true });
  const count = (key: string) => Number(new RegExp(`^# ${key} (\\d+)$`, "m").exec(report)?.[1] ?? "0");
  const passed = count("pass");
  let failed = count("fail") + count("cancelled");
  const skipped = count("skipped") + count("todo");
  if (code !== 0 && failed === 0) failed = 1; // it crashed outside any test
  for (const line of report.split("\n")) {
    const s = /^\s*ok \d+ - (.*) # SKIP(.*)$/.exec(line);
    if (s !== null) process.stdout.write(`skipped: ${s[1]} —${s[2]}\n`);
  }
  return { suite: name, passed, failed, skipped };
}

const tallies: Tally[] = [];
tallies.push(await coreSuite());
// Every simulator run uses the debug core, whose whole-table invariant checks
// are on (a failed one fails the run and names its seed); tests that compare
// it with the release core, or need the release one, say so themselves.
// About 2.5x the release suite's time (3 min 46 s against 1 min 30 s here).
tallies.push(await nodeSuite("simulator", "sim", { PFS_SIM_CORE: process.env.PFS_SIM_CORE ?? "debug" }));
tallies.push(await nodeSuite("host", "host"));

let passed = 0;
let failed = 0;
let skipped = 0;
process.stdout.write("\nsuite results:\n");
for (const t of tallies) {
  passed += t.passed;
  failed += t.failed;
  skipped += t.skipped;
  process.stdout.write(`  ${t.suite.padEnd(16)} ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${t.note ? ` (${t.note})` : ""}\n`);
}
if (passed + failed === 0) failed = 1;
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 ? 1 : 0;
