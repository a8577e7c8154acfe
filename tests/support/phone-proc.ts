// A `pfs phone` process for the tests: a factory flash image, the process
// run to its end with its output, exit code, wall time and peak RSS, and the
// checks a test makes for itself afterwards: which load the flash boots, and
// which files under a folder changed.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadBoard } from "../../host/boards.js";
import { AbStore } from "../../host/flash/ab-store.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, layoutBytes } from "../../host/flash/layout.js";
import { getPreset, presetFiles } from "../../host/load/presets.js";

const here = dirname(fileURLToPath(import.meta.url));
export const PFS_BIN = join(here, "../../../../bin/pfs.js");
const RSS_PRELOAD = pathToFileURL(join(here, "rss-report.js")).href;
export const FACTORY_LOAD = "SCCP41.FACTORY";

const layout = () => boardLayout(loadBoard("third-gen"));

/** A flash image holding the factory load (the "tiny" preset), verified. */
export function factoryFlash(path: string): void {
  const l = layout();
  const dev = FileDevice.create(path, l.sectorBytes, Math.ceil(layoutBytes(l) / l.sectorBytes));
  AbStore.format(dev, l, { loadName: FACTORY_LOAD, components: presetFiles(getPreset("tiny")).map((f) => ({ name: f.name, bytes: f.content })) });
  dev.close();
}

/** What the image boots, read by the test itself (not the phone's word). */
export function flashBoots(path: string): { loadName: string | undefined; verified: boolean } {
  const l = layout();
  const dev = FileDevice.open(path, l.sectorBytes, Math.ceil(layoutBytes(l) / l.sectorBytes));
  try {
    const b = AbStore.open(dev, l).boot();
    return { loadName: b.manifest?.loadName, verified: b.verified };
  } finally {
    dev.close();
  }
}

export interface ProcResult {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size in KiB (getrusage), when measured. */
  peakRssKb?: number;
}

/** Runs `pfs <args>` to its end (killed after `timeoutMs`). */
export function runPfs(args: string[], opts: { cwd?: string; timeoutMs?: number; measureRss?: string } = {}): Promise<ProcResult> {
  const started = performance.now();
  const pre = opts.measureRss === undefined ? [] : ["--import", RSS_PRELOAD];
  const env = opts.measureRss === undefined ? process.env : { ...process.env, PFS_RSS_REPORT: opts.measureRss };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...pre, PFS_BIN, ...args], { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      const r: ProcResult = { code: code ?? (signal === null ? 1 : 128), stdout, stderr, wallMs: performance.now() - started };
      if (opts.measureRss !== undefined && existsSync(opts.measureRss)) {
        r.peakRssKb = Number(readFileSync(opts.measureRss, "utf8"));
        rmSync(opts.measureRss);
      }
      resolve(r);
    });
  });
}

/** Every file under `dir` with a hash of its bytes: compare two of these to
 *  see what a process wrote. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.set(p, createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}

/** Paths added, removed or changed between two snapshots. */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, h] of after) if (before.get(p) !== h) out.push(p);
  for (const p of before.keys()) if (!after.has(p)) out.push(p);
  return out.sort();
}
