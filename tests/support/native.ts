// The C builds of native/ for tests: make them when their toolchain is here
// (or say why not, so the test skips with that reason), run them, record
// traces to feed them, and take traces apart and put them back together to
// break them on purpose.

import { spawnSync, SpawnSyncReturns } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { T_CORE, TRACE_HEADER_BYTES, TRACE_RECORD_HEADER_BYTES } from "../../host/core/abi.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const PFS_BIN = join(ROOT, "bin/pfs.js");
export const REPLAY_BIN = join(ROOT, "build/native/pfs-replay");
export const SHA256_BIN = join(ROOT, "build/native/pfs-sha256");
export const BOARD = "mps2-an385";
export const BOARD_ELF = join(ROOT, "build/boards", BOARD, "pfs.elf");
/** A replay on the board under QEMU that takes longer has hung. */
const QEMU_TIMEOUT_MS = 120_000;
/** Room for a child's output: traces are replayed, not printed. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

const built = new Map<string, string | null>();

/** Builds `make replay` (native) or `make board` (board) once per process,
 *  installing the toolchain first where it can; null when built, else why
 *  it cannot be (the test skips, saying so). */
export function ensureNative(kind: "native" | "board"): string | null {
  const known = built.get(kind);
  if (known !== undefined) return known;
  let why: string | null = null;
  // As `make replay` and `make board` do: install what is missing when root
  // with apt, else one line that says what is missing (the skip reason).
  const tools = spawnSync("bash", [join(ROOT, "native/toolchain.sh"), kind], { cwd: ROOT, encoding: "utf8" });
  if (tools.status !== 0) {
    why = tools.stderr.trim().split("\n")[0] || `native/toolchain.sh ${kind} failed`;
  } else {
    const target = kind === "native" ? ["replay"] : ["board", `BOARD=${BOARD}`];
    const make = spawnSync("make", ["--no-print-directory", ...target], { cwd: ROOT, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES });
    if (make.status !== 0) throw new Error(`make ${target.join(" ")} failed:\n${make.stdout}\n${make.stderr}`);
  }
  built.set(kind, why);
  return why;
}

/** Builds one program of the C phone (native/phone/, a `make` target such
 *  as build/native/phone/pfs-flash-tool), installing its toolchain first
 *  where it can; null when built, else why it cannot be (the test skips,
 *  saying so). A failed build is a failure, not a skip. */
export function ensurePhoneTool(target: string): string | null {
  const known = built.get(target);
  if (known !== undefined) return known;
  let why: string | null = null;
  const tools = spawnSync("bash", [join(ROOT, "native/toolchain.sh"), "phone"], { cwd: ROOT, encoding: "utf8" });
  if (tools.status !== 0) {
    why = tools.stderr.trim().split("\n")[0] || "native/toolchain.sh phone failed";
  } else {
    const make = spawnSync("make", ["--no-print-directory", target], { cwd: ROOT, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES });
    if (make.status !== 0) throw new Error(`make ${target} failed:\n${make.stdout}\n${make.stderr}`);
  }
  built.set(target, why);
  return why;
}

export interface Ran {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Every non-empty line, stdout's then stderr's. */
  lines: string[];
}

function ran(r: SpawnSyncReturns<string>): Ran {
  if (r.error !== undefined) throw r.error;
  const lines = [...r.stdout.split("\n"), ...r.stderr.split("\n")].filter((l) => l.trim().length > 0);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, lines };
}

export function runReplay(file: string, extra: string[] = []): Ran {
  return ran(spawnSync(REPLAY_BIN, [...extra, file], { encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES }));
}

/** The board image under QEMU, exactly as docs/TRACE.md's qemu engine runs it. */
export function runQemu(file: string): Ran {
  return ran(spawnSync("qemu-system-arm", ["-M", BOARD, "-nographic", "-monitor", "none", "-serial", "none",
    "-semihosting-config", `enable=on,target=native,arg=pfs-replay,arg=${file}`, "-kernel", BOARD_ELF],
  { encoding: "utf8", timeout: QEMU_TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES }));
}

/** `pfs trace record --out file ...simArgs`; the digest line it printed. */
export function recordTrace(file: string, simArgs: string[]): string {
  const r = spawnSync(process.execPath, [PFS_BIN, "trace", "record", "--out", file, ...simArgs], { cwd: ROOT, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES });
  if (r.status !== 0) throw new Error(`pfs trace record ${simArgs.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  const line = r.stdout.split("\n").find((l) => l.startsWith("digest "));
  if (line === undefined) throw new Error(`pfs trace record printed no digest line:\n${r.stdout}`);
  return line;
}

/** One record of a trace: its kind and body, and where it sat in the file. */
export interface RawRecord {
  kind: number;
  body: Buffer;
  /** Offset of its header in the file it came from. */
  at: number;
}

/** The file header and the records, trusting the file (tests make it). */
export function splitTrace(file: Buffer): { header: Buffer; records: RawRecord[] } {
  const records: RawRecord[] = [];
  let at = TRACE_HEADER_BYTES;
  while (at < file.length) {
    const len = file.readUInt32LE(at + 4);
    records.push({ kind: file[at], body: file.subarray(at + TRACE_RECORD_HEADER_BYTES, at + TRACE_RECORD_HEADER_BYTES + len), at });
    at += TRACE_RECORD_HEADER_BYTES + len;
  }
  return { header: file.subarray(0, TRACE_HEADER_BYTES), records };
}

export function joinTrace(header: Buffer, records: { kind: number; body: Buffer }[]): Buffer {
  const parts: Buffer[] = [header];
  for (const r of records) {
    const h = Buffer.alloc(TRACE_RECORD_HEADER_BYTES);
    h[0] = r.kind;
    h.writeUInt32LE(r.body.length, 4);
    parts.push(h, r.body);
  }
  return Buffer.concat(parts);
}

/** Index of the first record of `kind` after `from` that `ok` accepts. */
export function findRecord(records: RawRecord[], kind: number, ok: (r: RawRecord) => boolean = () => true, from = 0): number {
  const i = records.findIndex((r, j) => j >= from && r.kind === kind && ok(r));
  if (i < 0) throw new Error(`the test trace has no record of kind ${kind} to work on`);
  return i;
}

export const isCore = (r: RawRecord) => r.kind === T_CORE;
