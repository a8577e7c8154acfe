// The TFTP client benchmark: our client (`pfs tftp get`, run in this
// process, writing a file) and curl (a process, `curl -o`) fetch the same
// ~20 MB file from the same server, in turn, several rounds. Two servers:
//
//  1. tftpd-hpa (Debian's), lockstep since it has no windowsize: each block
//     costs a round trip through both programs, so this measures each
//     client's cost per datagram. Beside them, the "Node floor": the least a
//     Node program can do per block (a bare loop: no checks, no timers, no
//     file), to tell our client's own cost from the runtime's.
//  2. our server (`pfs tftpd`, its own process), which grants windowsize
//     (RFC 7440): our client asks for it, curl cannot (it has no RFC 7440).
//
// Prints the medians and the ratios ours/curl and appends the tables to
// bench/results/tftp.md.
//
//   node build/js/bench/tftp.js          (after make build; needs root, tftpd-hpa and curl)
//   import { tftpBench } from "./tftp.js"; await tftpBench();

import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { makeDirs } from "../host/make-dir.js";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tftpCommand } from "../host/cli/tftp.js";
import { IN_TFTPD, LOOPBACK, RunningTftpd, startTftpd, tftpdHpaArgs, tftpdHpaMissing } from "../tests/support/tftpd.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const PFS_BIN = join(root, "bin/pfs.js");
export const BENCH_FILE_BYTES = 20_000_000;
export const BENCH_ROUNDS = Number(process.env.PFS_TFTP_BENCH_ROUNDS ?? 7);
/** Block sizes compared against tftpd-hpa: RFC 1350's 512 (curl asks for it
 *  explicitly), an Ethernet-sized block as phones use, and a large one. */
const BLKSIZES = [512, 1428, 8192];
/** Against our server: the phones' block size, and a window of this many
 *  blocks per ACK (RFC 7440 section 5 found 16+ worthwhile on a LAN). */
const OURS_BLKSIZE = 1428;
const OURS_WINDOW = 16;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const mbps = (ms: number) => BENCH_FILE_BYTES / 1e6 / (ms / 1000);

function missingTools(): string | undefined {
  if (spawnSync("sh", ["-c", "command -v curl"]).status !== 0) return "curl is not installed";
  return tftpdHpaMissing();
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

/** One client's way to fetch load.bin into `out`, timed. */
type Client = (port: number, out: string) => Promise<number>;

function oursClient(blksize: number, windowsize?: number): Client {
  return async (port, out) => {
    // curl always asks for tsize and blksize (512 by default); so do we.
    const args = ["get", "--server", `${LOOPBACK}:${port}`, "--file", "load.bin", "--out", out, "--tsize", "--blksize", String(blksize)];
    if (windowsize !== undefined) args.push("--windowsize", String(windowsize));
    const t0 = performance.now();
    const code = await tftpCommand(args, () => {});
    if (code !== 0) throw new Error(`pfs tftp get failed (${code})`);
    return performance.now() - t0;
  };
}

function curlClient(blksize: number): Client {
  return async (port, out) => {
    const r = await curl(["--tftp-blksize", String(blksize), "-o", out, `tftp://${LOOPBACK}:${port}/load.bin`]);
    if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.err}`);
    return r.ms;
  };
}

/** The Node floor: a bare lockstep loop on a connected socket, the same
 *  request as the others (blksize, tsize), no checks, no timers; it writes
 *  nothing and keeps nothing, so it is a lower bound, not a client. */
function floorClient(blksize: number): Client {
  return (port) =>
    new Promise((resolve, reject) => {
      const s = dgram.createSocket("udp4");
      const t0 = performance.now();
      let next = 1;
      let connected = false;
      const ack = (block: number) => {
        const a = Buffer.from([0, 4, block >> 8, block & 0xff]);
        if (connected) s.send(a);
        else s.send(a, port, LOOPBACK);
      };
      s.on("error", reject);
      s.on("message", (m, r) => {
        if (m[1] === 6) {
          // OACK: connect to the server's TID, then ACK 0.
          s.connect(r.port, r.address, () => {
            connected = true;
            ack(0);
          });
        } else if (m[1] === 3 && ((m[2] << 8) | m[3]) === (next & 0xffff)) {
          ack(next++ & 0xffff);
          if (m.length - 4 < blksize) {
            s.close();
            resolve(performance.now() - t0);
          }
        } else if (m[1] === 5) reject(new Error(`floor client: server error ${(m[2] << 8) | m[3]}`));
      });
      s.bind(0, LOOPBACK, () => s.send(Buffer.from(`\0\x01load.bin\0octet\0tsize\0${"0"}\0blksize\0${blksize}\0`, "latin1"), port, LOOPBACK));
    });
}

/** Every client once per round, in an order that rotates each round so none
 *  always meets a warm cache; round 0 warms up (JIT, page cache) and checks
 *  what each wrote. Returns each client's times. */
async function rounds(port: number, clients: Array<{ name: string; run: Client; writes: boolean }>, outDir: string, want: string): Promise<number[][]> {
  const times = clients.map(() => [] as number[]);
  for (let round = 0; round <= BENCH_ROUNDS; round++) {
    for (let k = 0; k < clients.length; k++) {
      const i = (k + round) % clients.length;
      const out = join(outDir, `out-${i}`);
      const ms = await clients[i].run(port, out);
      if (round > 0) times[i].push(ms);
      else if (clients[i].writes && sha256(out) !== want) throw new Error(`${clients[i].name} wrote a different file`);
    }
  }
  return times;
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
  // Both clients write to memory when this machine has a tmpfs: the disk's
  // writeback, which varies with whatever else the machine does, is not what
  // is compared (measured: it adds 17-30 ms to either on ext4).
  const outDir = existsSync("/dev/shm") ? mkdtempSync("/dev/shm/pfs-tftp-bench-") : join(dir, "out");
  makeDirs(outDir);
  // World-readable whatever the umask: tftpd-hpa serves nothing else.
  writeFileSync(join(served, "load.bin"), randomBytes(BENCH_FILE_BYTES));
  writeFileSync(join(served, "tiny.bin"), "x");
  for (const f of ["load.bin", "tiny.bin"]) chmodSync(join(served, f), 0o644);
  const want = sha256(join(served, "load.bin"));
  const servers: RunningTftpd[] = [];
  try {
    const hpa = await startTftpd(IN_TFTPD, tftpdHpaArgs(served, ["--blocksize", "65464"]), "tiny.bin");
    servers.push(hpa);
    const oursServer = await startTftpd(process.execPath, (port) => [PFS_BIN, "tftpd", "--root", served, "--listen", `${LOOPBACK}:${port}`], "tiny.bin");
    servers.push(oursServer);
    // What curl costs before its first block: start-up and a one-block file.
    const startupMs: number[] = [];
    for (let i = 0; i < 5; i++) startupMs.push((await curl(["-o", join(outDir, "tiny.out"), `tftp://${LOOPBACK}:${hpa.port}/tiny.bin`])).ms);
    const startup = median(startupMs);
    process.stdout.write(`TFTP client benchmark: ${BENCH_FILE_BYTES} bytes on loopback, ${BENCH_ROUNDS} rounds; curl start-up ${startup.toFixed(1)} ms\n`);

    const hpaRows: string[] = [];
    for (const blksize of BLKSIZES) {
      const [o, c, f] = (
        await rounds(hpa.port, [
          { name: "ours", run: oursClient(blksize), writes: true },
          { name: "curl", run: curlClient(blksize), writes: true },
          { name: "Node floor", run: floorClient(blksize), writes: false },
        ], outDir, want)
      ).map(median);
      hpaRows.push(
        `| ${String(blksize).padStart(7)} | ${mbps(o).toFixed(1).padStart(11)} | ${mbps(c).toFixed(1).padStart(11)} | ${mbps(f).toFixed(1).padStart(10)} | ` +
          `${(c / o).toFixed(2).padStart(9)} | ${((c - startup) / o).toFixed(2).padStart(20)} | ${(f / o).toFixed(2).padStart(10)} |`,
      );
      process.stdout.write(`tftpd-hpa, blksize ${blksize}: ours ${mbps(o).toFixed(1)} MB/s, curl ${mbps(c).toFixed(1)} MB/s, Node floor ${mbps(f).toFixed(1)} MB/s; ours/curl ${(c / o).toFixed(2)}\n`);
    }

    const [lock, win, c] = (
      await rounds(oursServer.port, [
        { name: "ours lockstep", run: oursClient(OURS_BLKSIZE), writes: true },
        { name: `ours windowsize ${OURS_WINDOW}`, run: oursClient(OURS_BLKSIZE, OURS_WINDOW), writes: true },
        { name: "curl", run: curlClient(OURS_BLKSIZE), writes: true },
      ], outDir, want)
    ).map(median);
    const oursServerRows = [
      `| ours, lockstep | ${mbps(lock).toFixed(1)} | ${(c / lock).toFixed(2)} |`,
      `| ours, windowsize ${OURS_WINDOW} | ${mbps(win).toFixed(1)} | ${(c / win).toFixed(2)} |`,
      `| curl (lockstep: no RFC 7440) | ${mbps(c).toFixed(1)} | 1.00 |`,
    ];
    process.stdout.write(`pfs tftpd, blksize ${OURS_BLKSIZE}: ours lockstep ${mbps(lock).toFixed(1)} MB/s, ours windowsize ${OURS_WINDOW} ${mbps(win).toFixed(1)} MB/s, curl ${mbps(c).toFixed(1)} MB/s\n`);

    const table =
      `# TFTP client benchmark, ${stamp}\n\n` +
      `${BENCH_FILE_BYTES} bytes on loopback, tsize asked by every client; median of ${BENCH_ROUNDS} rounds after one warm-up round, the\n` +
      `clients' order rotating each round; files written to ${outDir.startsWith("/dev/shm") ? "tmpfs" : "disk"}. Ours is \`pfs tftp get\` run in-process (warm);\n` +
      `curl's times include starting the process (${startup.toFixed(1)} ms for a one-block file; the column "curl's start-up\n` +
      `excluded" takes it off). Machine load: ${loadavg().map((l) => l.toFixed(2)).join(" ")}.\n\n` +
      `## From tftpd-hpa 5.2 (lockstep: it has no windowsize)\n\n` +
      `Node floor: a bare Node loop ACKing each block on a connected socket (no checks, no timers, no file): what the runtime\n` +
      `itself costs per datagram.\n\n` +
      `| blksize | ours (MB/s) | curl (MB/s) | floor (MB/s) | ours/curl | ours/curl, curl's start-up excluded | ours/floor |\n` +
      `|--------:|------------:|------------:|-------------:|----------:|-------------------------------------:|-----------:|\n` +
      hpaRows.join("\n") + "\n\n" +
      `## From our server (\`pfs tftpd\`, its own process), blksize ${OURS_BLKSIZE}\n\n` +
      `| client | MB/s | ours/curl |\n|:--|--:|--:|\n` +
      oursServerRows.join("\n") + "\n";
    const results = join(root, "bench/results");
    makeDirs(results);
    appendFileSync(join(results, "tftp.md"), table + "\n");
    process.stdout.write(`\n${table}\nappended to bench/results/tftp.md\n`);
    return table;
  } finally {
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await tftpBench();
}
