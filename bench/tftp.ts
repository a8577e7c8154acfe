// The TFTP client benchmark: tftpd-hpa serves one ~20 MB file on loopback
// and our client (`pfs tftp get`, run in this process, writing a file) and
// curl (a process, `curl -o`) fetch it in turn, several rounds, at the same
// block sizes. Lockstep TFTP, since tftpd-hpa 5.2 has no windowsize: each
// block costs a round trip through both programs, so this measures the
// per-datagram cost of each client. Prints the median throughputs and the
// ratio ours/curl, and appends the table to bench/results/tftp.md.
//
//   node build/js/bench/tftp.js          (after make build; needs root, tftpd-hpa and curl)
//   import { tftpBench } from "./tftp.js"; await tftpBench();

import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tftpCommand } from "../host/cli/tftp.js";
import { tftpGet } from "../host/tftp/client.js";
import { freeUdpPort } from "../tests/support/ports.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const IN_TFTPD = "/usr/sbin/in.tftpd";
const LOOPBACK = "127.0.0.1";
export const BENCH_FILE_BYTES = 20_000_000;
export const BENCH_ROUNDS = Number(process.env.PFS_TFTP_BENCH_ROUNDS ?? 5);
/** Block sizes compared: RFC 1350's 512 (curl asks for it explicitly), an
 *  Ethernet-sized block as phones use, and a large one. */
const BLKSIZES = [512, 1428, 8192];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

function missingTools(): string | undefined {
  if (!existsSync(IN_TFTPD) || !/tftp-hpa/.test(spawnSync(IN_TFTPD, ["-V"], { encoding: "utf8" }).stdout ?? "")) return "tftpd-hpa is not installed";
  if (spawnSync("sh", ["-c", "command -v curl"]).status !== 0) return "curl is not installed";
  if (process.getuid?.() !== 0) return "tftpd-hpa needs root to start";
  return undefined;
}

async function startTftpdHpa(dir: string): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort(LOOPBACK);
    const child = spawn(IN_TFTPD, ["--foreground", "--address", `${LOOPBACK}:${port}`, "--secure", "--user", "root", "--blocksize", "65464", dir], { stdio: "ignore" });
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      try {
        await tftpGet({ host: LOOPBACK, port, file: "tiny.bin", timeoutSec: 0.1, retries: 1 });
        return { port, child };
      } catch {
        // not up yet
      }
    }
    child.kill("SIGTERM");
  }
  throw new Error("tftpd-hpa did not start");
}

function curl(args: string[]): Promise<{ code: number; ms: number; err: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn("curl", ["-s", "-S", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, ms: performance.now() - t0, err }));
  });
}

async function ours(port: number, blksize: number, out: string): Promise<number> {
  // curl always asks for tsize and blksize (512 by default); so do we.
  const args = ["get", "--server", `${LOOPBACK}:${port}`, "--file", "load.bin", "--out", out, "--tsize", "--blksize", String(blksize)];
  const t0 = performance.now();
  const code = await tftpCommand(args, () => {});
  if (code !== 0) throw new Error(`pfs tftp get failed (${code})`);
  return performance.now() - t0;
}

export async function tftpBench(): Promise<string> {
  const stamp = new Date().toISOString();
  const missing = missingTools();
  if (missing !== undefined) {
    const note = `# TFTP client benchmark, ${stamp}\n\nskipped: ${missing}\n`;
    process.stdout.write(note);
    return note;
  }
  const dir = mkdtempSync(join(tmpdir(), "pfs-tftp-bench-"));
  const served = join(dir, "root");
  mkdirSync(served);
  // World-readable whatever the umask: tftpd-hpa serves nothing else.
  writeFileSync(join(served, "load.bin"), randomBytes(BENCH_FILE_BYTES));
  writeFileSync(join(served, "tiny.bin"), "x");
  for (const f of ["load.bin", "tiny.bin"]) chmodSync(join(served, f), 0o644);
  const want = sha256(join(served, "load.bin"));
  const { port, child } = await startTftpdHpa(served);
  const rows: string[] = [];
  try {
    // What curl costs before its first block: start-up and a one-block file.
    const startupMs: number[] = [];
    for (let i = 0; i < 5; i++) startupMs.push((await curl(["-o", join(dir, "tiny.out"), `tftp://${LOOPBACK}:${port}/tiny.bin`])).ms);
    const startup = median(startupMs);
    process.stdout.write(`TFTP client benchmark: tftpd-hpa on loopback, ${BENCH_FILE_BYTES} bytes, ${BENCH_ROUNDS} rounds; curl start-up ${startup.toFixed(1)} ms\n`);
    for (const blksize of BLKSIZES) {
      const oursMs: number[] = [];
      const curlMs: number[] = [];
      // Round 0 warms up both (our JIT, the page cache) and is not counted.
      for (let round = 0; round <= BENCH_ROUNDS; round++) {
        const oursOut = join(dir, `ours-${blksize}`);
        const curlOut = join(dir, `curl-${blksize}`);
        // Alternate who goes first, so neither always meets a warm cache.
        const runCurl = async () => {
          const r = await curl(["--tftp-blksize", String(blksize), "-o", curlOut, `tftp://${LOOPBACK}:${port}/load.bin`]);
          if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.err}`);
          if (round > 0) curlMs.push(r.ms);
        };
        const runOurs = async () => {
          const ms = await ours(port, blksize, oursOut);
          if (round > 0) oursMs.push(ms);
        };
        if (round % 2 === 0) {
          await runOurs();
          await runCurl();
        } else {
          await runCurl();
          await runOurs();
        }
        if (round === 0 && (sha256(oursOut) !== want || sha256(curlOut) !== want)) throw new Error(`blksize ${blksize}: a client wrote a different file`);
      }
      const mbps = (ms: number) => BENCH_FILE_BYTES / 1e6 / (ms / 1000);
      const o = mbps(median(oursMs));
      const c = mbps(median(curlMs));
      const row = `| ${String(blksize).padStart(7)} | ${o.toFixed(1).padStart(11)} | ${c.toFixed(1).padStart(11)} | ${(o / c).toFixed(2).padStart(9)} | ${oursMs.map((m) => m.toFixed(0)).join(", ")} | ${curlMs.map((m) => m.toFixed(0)).join(", ")} |`;
      rows.push(row);
      process.stdout.write(`blksize ${blksize}: ours ${o.toFixed(1)} MB/s, curl ${c.toFixed(1)} MB/s, ours/curl ${(o / c).toFixed(2)}\n`);
    }
    const table =
      `# TFTP client benchmark, ${stamp}\n\n` +
      `tftpd-hpa 5.2 on loopback serving ${BENCH_FILE_BYTES} bytes, lockstep (no windowsize in tftpd-hpa), tsize asked by both;\n` +
      `median of ${BENCH_ROUNDS} rounds after one warm-up round. Ours is \`pfs tftp get\` run in-process (warm); curl's times\n` +
      `include starting the process` +
      ` (${startup.toFixed(1)} ms for a one-block file). Machine load: ${loadavg().map((l) => l.toFixed(2)).join(" ")}.\n\n` +
      `| blksize | ours (MB/s) | curl (MB/s) | ours/curl | ours (ms) | curl (ms) |\n` +
      `|--------:|------------:|------------:|----------:|:----------|:----------|\n` +
      rows.join("\n") + "\n";
    const results = join(root, "bench/results");
    mkdirSync(results, { recursive: true });
    appendFileSync(join(results, "tftp.md"), table + "\n");
    process.stdout.write(`\n${table}\nappended to bench/results/tftp.md\n`);
    return table;
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await tftpBench();
}
