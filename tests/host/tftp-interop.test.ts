// Our TFTP client and server against real ones, all on loopback ports picked
// here: our client against tftpd-hpa and atftpd, our server against curl,
// atftp and tftp-hpa's client; files of 0 bytes, 512 bytes, 5 MB and 33 MiB
// (past the 16-bit block number at blksize 512), each option on and off,
// sha256 compared every time. Then the client and server against scripted
// peers, for what real servers will not do on demand: refuse options, lose
// blocks, send from a stranger's port, go silent, lie about tsize.
// A missing tool skips its tests and says why (tests/support/debian-deps.sh
// installs them on Debian as root).

import { after, before, describe, test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TftpError, TftpGetOptions, tftpGet, tftpGetBuffer } from "../../host/tftp/client.js";
import { TftpServer } from "../../host/tftp/server.js";
import { Packet, decode, encodeAck, encodeData, encodeError, encodeOack, encodeRequest } from "../../host/tftp/packet.js";
import { freeUdpPort } from "../support/ports.js";
import { ATFTPD, atftpdMissing, IN_TFTPD, LOOPBACK, RunningTftpd, startTftpd, tftpdHpaArgs, tftpdHpaMissing } from "../support/tftpd.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** 33 MiB: 67,584 blocks of 512 bytes, past block 65535, and a multiple of
 *  512, so it also ends with an empty block. */
const BIG_BYTES = 33 << 20;

// ---- the files served ----

const dir = mkdtempSync(join(tmpdir(), "pfs-tftp-"));
const served = join(dir, "root");
mkdirSync(join(served, "sub"), { recursive: true });
const FILES: Record<string, number> = { "empty.bin": 0, "exact512.bin": 512, "five.bin": 5_000_000, "big.bin": BIG_BYTES };
const SHA = new Map<string, string>();
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
for (const [name, size] of Object.entries(FILES)) {
  const data = randomBytes(size);
  // World-readable whatever the umask: tftpd-hpa serves nothing else.
  writeFileSync(join(served, name), data, { mode: 0o644 });
  chmodSync(join(served, name), 0o644);
  SHA.set(name, sha256(data));
}
writeFileSync(join(served, "sub/nested.txt"), "nested\n");
chmodSync(join(served, "sub/nested.txt"), 0o644);
SHA.set("sub/nested.txt", sha256(Buffer.from("nested\n")));
writeFileSync(join(dir, "secret.txt"), "outside the root\n");
symlinkSync(join(dir, "secret.txt"), join(served, "escape.lnk"));
const SMALL = ["empty.bin", "exact512.bin", "five.bin"];
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- helpers ----

function which(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

const isRoot = process.getuid?.() === 0;
const hpaMissing = tftpdHpaMissing;
const curlMissing = () => (which("curl") && /tftp/.test(spawnSync("curl", ["-V"], { encoding: "utf8" }).stdout ?? "") ? undefined : "curl with TFTP support not installed");
const atftpMissing = () => (which("atftp") ? undefined : "atftp (the client) not installed");
const tftpHpaMissing = () => (which("tftp") && existsSync("/usr/bin/tftp") ? undefined : "tftp (tftp-hpa's client) not installed");

/** Fetches with our client and returns the result and the sha256 of what
 *  onData delivered, checking offsets are contiguous. */
async function fetch(port: number, file: string, opts: Partial<TftpGetOptions> = {}) {
  const h = createHash("sha256");
  let expect = 0;
  const r = await tftpGet({
    host: LOOPBACK, port, file, ...opts,
    onData: (chunk, offset) => {
      assert.equal(offset, expect, "blocks arrive in order, at the right offsets");
      expect += chunk.length;
      h.update(chunk);
    },
  });
  assert.equal(r.bytes, expect);
  return { ...r, sha: h.digest("hex") };
}

async function expectFile(port: number, file: string, opts: Partial<TftpGetOptions> = {}) {
  const r = await fetch(port, file, opts);
  assert.equal(r.bytes, readFileSize(file), `${file} ${JSON.stringify(opts)}: size`);
  assert.equal(r.sha, SHA.get(file), `${file} ${JSON.stringify(opts)}: sha256`);
  // Servers leave tsize out for an empty file, or send 0 (see options.ts).
  if (opts.tsize) assert.equal(r.tsize ?? (r.bytes === 0 ? 0 : undefined), r.bytes, "tsize negotiated and equal");
  return r;
}

const readFileSize = (file: string) => FILES[file] ?? readFileSync(join(served, file)).length;

async function expectError(p: Promise<unknown>, code: TftpError["code"]): Promise<TftpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TftpError, `a TftpError, not ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected TftpError ${code}`);
}

/** Runs a command without blocking our event loop (our server may be the
 *  other end); resolves with its exit code and output. */
function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

const fileSha = (path: string) => sha256(readFileSync(path));
let outN = 0;
const outPath = () => join(dir, `out-${++outN}`);

/** Skips (with the reason printed) when `missing` says something is missing. */
function skipped(t: TestContext, missing: string | undefined): boolean {
  if (missing === undefined) return false;
  t.skip(missing);
  return true;
}

const CLIENT_OPTIONS: Array<Partial<TftpGetOptions>> = [
  {},
  { blksize: 1428 },
  { tsize: true },
  { timeoutSec: 2 },
  { blksize: 65464, tsize: true },
  { blksize: 1428, windowsize: 8, tsize: true },
];

// ---- our client against real servers ----

describe("our client against tftpd-hpa", () => {
  const missing = hpaMissing();
  let hpa: RunningTftpd | undefined;
  before(async () => {
    if (missing === undefined) hpa = await startTftpd(IN_TFTPD, tftpdHpaArgs(served, ["--blocksize", "65464"]), "empty.bin");
  });
  after(async () => hpa?.stop());

  for (const opts of CLIENT_OPTIONS) {
    test(`0 B, 512 B and 5 MB with ${JSON.stringify(opts)}`, async (t) => {
      if (skipped(t, missing)) return;
      for (const file of SMALL) {
        const r = await expectFile(hpa!.port, file, opts);
        assert.equal(r.blksize, opts.blksize ?? 512);
        // tftpd-hpa 5.2 has no windowsize: it leaves it out of its OACK and
        // the transfer runs lockstep.
        assert.equal(r.windowsize, 1);
      }
    });
  }

  test("33 MiB at blksize 512: the block number rolls over to 0", async (t) => {
    if (skipped(t, missing)) return;
    const t0 = performance.now();
    await expectFile(hpa!.port, "big.bin", { tsize: true });
    t.diagnostic(`33 MiB lockstep at 512 from tftpd-hpa: ${(performance.now() - t0).toFixed(0)} ms`);
  });

  test("a missing file is error 1, a path out of the root is refused", async (t) => {
    if (skipped(t, missing)) return;
    const e = await expectError(tftpGet({ host: LOOPBACK, port: hpa!.port, file: "missing.bin", blksize: 1428 }), 1);
    assert.match(e.message, /file not found/i);
    await assert.rejects(tftpGet({ host: LOOPBACK, port: hpa!.port, file: "../secret.txt" }), (err: unknown) => err instanceof TftpError && (err.code === 1 || err.code === 2));
  });
});

describe("our client against atftpd", () => {
  const missing = atftpdMissing();
  let atftpd: RunningTftpd | undefined;
  const args = (extra: string[]) => (port: number) => ["--daemon", "--no-fork", "--port", String(port), "--bind-address", LOOPBACK, "--user", "root", "--group", "root", "--logfile", "/dev/null", ...extra, served];
  before(async () => {
    if (missing === undefined) atftpd = await startTftpd(ATFTPD, args([]), "empty.bin");
  });
  after(async () => atftpd?.stop());

  for (const opts of [...CLIENT_OPTIONS, { windowsize: 16 }, { blksize: 8192, windowsize: 4, tsize: true, timeoutSec: 3 }]) {
    test(`0 B, 512 B and 5 MB with ${JSON.stringify(opts)}`, async (t) => {
      if (skipped(t, missing)) return;
      for (const file of SMALL) {
        const r = await expectFile(atftpd!.port, file, opts);
        assert.equal(r.blksize, opts.blksize ?? 512);
        assert.equal(r.windowsize, opts.windowsize ?? 1, "atftpd grants windowsize (RFC 7440)");
      }
    });
  }

  test("33 MiB at blksize 512, lockstep and windowed: rollover mid-window", async (t) => {
    if (skipped(t, missing)) return;
    for (const opts of [{}, { windowsize: 16, tsize: true }]) {
      const t0 = performance.now();
      await expectFile(atftpd!.port, "big.bin", opts);
      t.diagnostic(`33 MiB at 512 from atftpd ${JSON.stringify(opts)}: ${(performance.now() - t0).toFixed(0)} ms`);
    }
  });

  test("a missing file is error 1, a path out of the root error 2", async (t) => {
    if (skipped(t, missing)) return;
    await expectError(tftpGet({ host: LOOPBACK, port: atftpd!.port, file: "missing.bin", tsize: true }), 1);
    await expectError(tftpGet({ host: LOOPBACK, port: atftpd!.port, file: "../secret.txt" }), 2);
  });

  test("with every option disabled the server answers DATA 1, and we fall back to plain TFTP", async (t) => {
    if (skipped(t, missing)) return;
    await atftpd!.stop();
    atftpd = await startTftpd(ATFTPD, args(["--no-blksize", "--no-tsize", "--no-timeout", "--no-windowsize", "--no-multicast"]), "empty.bin");
    for (const file of SMALL) {
      const r = await expectFile(atftpd.port, file, { blksize: 1428, windowsize: 8, tsize: false, timeoutSec: 2 });
      assert.deepEqual([r.blksize, r.windowsize, r.tsize], [512, 1, undefined]);
    }
  });
});

// ---- our server against real clients ----

describe("our server against curl, atftp and tftp-hpa's client", () => {
  let server: TftpServer;
  let port = 0;
  const log: string[] = [];
  before(async () => {
    server = new TftpServer({ root: served, host: LOOPBACK, port: 0, log: (l) => log.push(l) });
    port = (await server.start()).port;
  });
  after(async () => server.stop());

  const curlCases: Array<[string, string[]]> = [
    ["curl's defaults (tsize, blksize 512, timeout 6)", []],
    ["--tftp-blksize 1428", ["--tftp-blksize", "1428"]],
    ["--tftp-blksize 65464", ["--tftp-blksize", "65464"]],
    ["--tftp-no-options", ["--tftp-no-options"]],
  ];
  for (const [name, flags] of curlCases) {
    test(`curl ${name}: 0 B, 512 B, 5 MB and a nested path`, async (t) => {
      if (skipped(t, curlMissing())) return;
      for (const file of [...SMALL, "sub/nested.txt"]) {
        const out = outPath();
        // (curl fails on empty files from tftpd-hpa and atftpd, which send
        // "tsize 0"; ours leaves tsize out for them.)
        const r = await run("curl", ["-s", "-S", ...flags, "-o", out, `tftp://${LOOPBACK}:${port}/${file}`]);
        assert.equal(r.code, 0, `curl ${flags.join(" ")} ${file}: ${r.out}`);
        // curl writes no file at all for an empty transfer.
        assert.equal(existsSync(out) ? fileSha(out) : sha256(new Uint8Array(0)), SHA.get(file), `${file} ${flags.join(" ")}`);
      }
    });
  }

  test("curl, 33 MiB at blksize 512: rollover", async (t) => {
    if (skipped(t, curlMissing())) return;
    const out = outPath();
    const t0 = performance.now();
    const r = await run("curl", ["-s", "-S", "-o", out, `tftp://${LOOPBACK}:${port}/big.bin`]);
    t.diagnostic(`33 MiB at 512 to curl: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(r.code, 0, r.out);
    assert.equal(fileSha(out), SHA.get("big.bin"));
  });

  test("curl: a missing file is its exit 68 (TFTP file not found), a path out of the root its exit 69 (TFTP permission)", async (t) => {
    if (skipped(t, curlMissing())) return;
    const r = await run("curl", ["-s", "-S", "-o", outPath(), `tftp://${LOOPBACK}:${port}/missing.bin`]);
    assert.equal(r.code, 68, r.out);
    const escape = await run("curl", ["-s", "-S", "-o", outPath(), `tftp://${LOOPBACK}:${port}/escape.lnk`]);
    assert.equal(escape.code, 69, escape.out);
  });

  const atftpCases: Array<[string, string[]]> = [
    ["no options", []],
    ["blksize 1428", ["--option", "blksize 1428"]],
    ["windowsize 8", ["--option", "windowsize 8"]],
    ["tsize", ["--option", "tsize 0"]],
    ["blksize 1428 windowsize 8", ["--option", "blksize 1428", "--option", "windowsize 8"]],
  ];
  for (const [name, flags] of atftpCases) {
    test(`atftp ${name}: 0 B, 512 B and 5 MB`, async (t) => {
      if (skipped(t, atftpMissing())) return;
      for (const file of SMALL) {
        const out = outPath();
        const r = await run("atftp", [...flags, "--get", "-r", file, "-l", out, LOOPBACK, String(port)]);
        assert.equal(r.code, 0, `atftp ${flags.join(" ")} ${file}: ${r.out}`);
        assert.equal(fileSha(out), SHA.get(file), `${file} ${flags.join(" ")}`);
      }
    });
  }

  test("atftp, 33 MiB windowed at blksize 512: rollover mid-window", async (t) => {
    if (skipped(t, atftpMissing())) return;
    const out = outPath();
    const t0 = performance.now();
    const r = await run("atftp", ["--option", "windowsize 8", "--get", "-r", "big.bin", "-l", out, LOOPBACK, String(port)]);
    t.diagnostic(`33 MiB at 512, window 8, to atftp: ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(r.code, 0, r.out);
    assert.equal(fileSha(out), SHA.get("big.bin"));
  });

  test("atftp: a missing file and a path out of the root are errors it reports", async (t) => {
    if (skipped(t, atftpMissing())) return;
    const r = await run("atftp", ["--get", "-r", "missing.bin", "-l", outPath(), LOOPBACK, String(port)]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /File not found/);
    const up = await run("atftp", ["--get", "-r", "../secret.txt", "-l", outPath(), LOOPBACK, String(port)]);
    assert.notEqual(up.code, 0);
    assert.match(up.out, /outside the served directory/);
  });

  test("tftp-hpa's client (plain RFC 1350): 0 B, 512 B and 5 MB", async (t) => {
    if (skipped(t, tftpHpaMissing())) return;
    for (const file of SMALL) {
      const out = outPath();
      const r = await run("tftp", ["-m", "binary", LOOPBACK, String(port), "-c", "get", file, out]);
      assert.doesNotMatch(r.out, /error|timed out/i, r.out);
      assert.equal(fileSha(out), SHA.get(file), file);
    }
  });

  test("every request is recorded and logged with its outcome", (t) => {
    if (log.length === 0) return t.skip("no client tool ran");
    assert.ok(server.requests.length >= log.length - 1);
    assert.ok(server.requests.some((r) => r.bytes === FILES["five.bin"] && r.error === undefined));
    assert.ok(server.requests.some((r) => r.file === "missing.bin" && /error 1/.test(r.error ?? "")));
    assert.ok(log.some((l) => /RRQ five\.bin .*: 5000000 bytes in/.test(l)), log.slice(0, 3).join("\n"));
  });
});

// ---- our client against our server ----

describe("our client against our server", () => {
  let server: TftpServer;
  let port = 0;
  before(async () => {
    server = new TftpServer({ root: served, host: LOOPBACK, port: 0, maxBlksize: 8192 });
    port = (await server.start()).port;
  });
  after(async () => server.stop());

  test("every option combination, blksize capped by the server", async () => {
    for (const opts of [...CLIENT_OPTIONS, { windowsize: 64, blksize: 512 }, { windowsize: 4, blksize: 8 }]) {
      for (const file of opts.blksize === 8 ? ["empty.bin", "exact512.bin"] : SMALL) {
        const r = await expectFile(port, file, opts);
        assert.equal(r.blksize, Math.min(opts.blksize ?? 512, 8192));
        assert.equal(r.windowsize, opts.windowsize ?? 1);
      }
    }
  });

  test("33 MiB windowed at blksize 512 (rollover mid-window) and lockstep at 8192", async (t) => {
    for (const opts of [{ windowsize: 32, tsize: true }, { blksize: 8192 }]) {
      const t0 = performance.now();
      await expectFile(port, "big.bin", opts);
      t.diagnostic(`33 MiB ${JSON.stringify(opts)} from our server: ${(performance.now() - t0).toFixed(0)} ms`);
    }
  });

  test("names leading out of the root are error 2, whatever the spelling; a leading / is the root", async () => {
    for (const file of ["../secret.txt", "sub/../../secret.txt", "escape.lnk", "/../secret.txt"]) {
      await expectError(tftpGet({ host: LOOPBACK, port, file }), 2);
    }
    await expectFile(port, "sub/nested.txt");
    const r = await fetch(port, "/sub/nested.txt");
    assert.equal(r.sha, SHA.get("sub/nested.txt"));
    await expectError(tftpGet({ host: LOOPBACK, port, file: "sub" }), 2);
    await expectError(tftpGet({ host: LOOPBACK, port, file: "nope/missing.bin" }), 1);
  });

  test("tftpGetBuffer returns the whole file; an abort ends a transfer with 'aborted'", async () => {
    const buf = await tftpGetBuffer({ host: LOOPBACK, port, file: "five.bin", blksize: 1428 });
    assert.equal(sha256(buf), SHA.get("five.bin"));
    const ac = new AbortController();
    let seen = 0;
    const p = tftpGet({ host: LOOPBACK, port, file: "big.bin", signal: ac.signal, onData: (c) => {
      seen += c.length;
      if (seen > 1_000_000) ac.abort();
    } });
    await expectError(p, "aborted");
  });

  test("a consumer that returns a promise holds the transfer; one that throws ends it", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const r = await tftpGet({ host: LOOPBACK, port, file: "five.bin", blksize: 8192, windowsize: 4, onData: async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
    } });
    assert.equal(r.bytes, FILES["five.bin"]);
    assert.equal(maxInFlight, 1, "onData is never called again before its promise settles");
    await assert.rejects(tftpGet({ host: LOOPBACK, port, file: "five.bin", onData: () => {
      throw new Error("disk full");
    } }), /disk full/);
  });

  test("pfs tftpd serves and prints one line per request; pfs tftp get writes the file", async () => {
    const listen = await freeUdpPort(LOOPBACK);
    const child = spawn(process.execPath, [join(root, "bin/pfs.js"), "tftpd", "--root", served, "--listen", `${LOOPBACK}:${listen}`], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 100 && !/serving/.test(out); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const target = outPath();
      const get = await run(process.execPath, [join(root, "bin/pfs.js"), "tftp", "get", "--server", `${LOOPBACK}:${listen}`, "--file", "five.bin", "--out", target, "--blksize", "1428", "--windowsize", "8", "--tsize"]);
      assert.equal(get.code, 0, get.out);
      assert.match(get.out, /five\.bin: 5000000 bytes in .* blksize 1428, windowsize 8, tsize 5000000 checked/);
      assert.equal(fileSha(target), SHA.get("five.bin"));
      const missing = outPath();
      const bad = await run(process.execPath, [join(root, "bin/pfs.js"), "tftp", "get", "--server", `${LOOPBACK}:${listen}`, "--file", "missing.bin", "--out", missing]);
      assert.equal(bad.code, 1);
      assert.match(bad.out, /file not found/);
      assert.equal(existsSync(missing), false, "no file is left behind by a failed fetch");
      for (let i = 0; i < 40 && (out.match(/RRQ/g) ?? []).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.match(out, /RRQ five\.bin \[blksize=1428 tsize=0 windowsize=8\]: 5000000 bytes in [\d.]+ s, blksize 1428 windowsize 8/);
      assert.match(out, /RRQ missing\.bin: error 1: File not found/);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("close", resolve));
    }
    assert.match(out, /stopped after 2 requests/);
  });
});

// ---- scripted peers ----

interface Peer {
  port: number;
  socket: dgram.Socket;
  close(): Promise<void>;
}

/** A UDP socket on loopback that hands every datagram, decoded, to `on`. */
async function peer(on: (p: Packet | undefined, rinfo: dgram.RemoteInfo, self: dgram.Socket) => void, address = LOOPBACK): Promise<Peer> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const d = decode(msg);
    on(d.ok ? d.packet : undefined, rinfo, socket);
  });
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  return { port: socket.address().port, socket, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

/** Lets datagrams already sent on loopback reach their peer in this process. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

const blocksOf = (data: Uint8Array, blksize: number) => {
  const blocks: Uint8Array[] = [];
  for (let at = 0; ; at += blksize) {
    blocks.push(data.subarray(at, Math.min(at + blksize, data.length)));
    if (data.length - at < blksize) return blocks;
  }
};

describe("our client against scripted servers", () => {
  const content = randomBytes(10 * 512 + 100); // 11 blocks at 512

  test("ERROR 8 to the optioned request: asked again without options", async () => {
    const seen: Array<number> = [];
    const blocks = blocksOf(content, 512);
    const s = await peer((p, r, self) => {
      if (p?.op === "rrq") {
        seen.push(p.options.length);
        if (p.options.length > 0) self.send(encodeError(8, "no options here"), r.port, r.address);
        else self.send(encodeData(1, blocks[0]), r.port, r.address);
      } else if (p?.op === "ack" && p.block < blocks.length) self.send(encodeData(p.block + 1, blocks[p.block]), r.port, r.address);
    });
    try {
      const r = await fetch(s.port, "f", { blksize: 1428, tsize: true, timeoutSec: 0.2 });
      assert.deepEqual(seen, [2, 0]);
      assert.equal(r.sha, sha256(content));
      assert.deepEqual([r.blksize, r.windowsize, r.tsize], [512, 1, undefined]);
    } finally {
      await s.close();
    }
  });

  test("an OACK granting more than asked is refused with ERROR 8, then plain TFTP", async () => {
    const got: string[] = [];
    const blocks = blocksOf(content, 512);
    const s = await peer((p, r, self) => {
      got.push(p?.op === "error" ? `error ${p.code}` : (p?.op ?? "garbage"));
      if (p?.op === "rrq") self.send(p.options.length > 0 ? encodeOack([{ name: "blksize", value: "9000" }]) : encodeData(1, blocks[0]), r.port, r.address);
      else if (p?.op === "ack" && p.block < blocks.length) self.send(encodeData(p.block + 1, blocks[p.block]), r.port, r.address);
    });
    try {
      const r = await fetch(s.port, "f", { blksize: 1428, timeoutSec: 0.2 });
      assert.equal(r.sha, sha256(content));
      assert.deepEqual(got.slice(0, 3), ["rrq", "error 8", "rrq"]);
    } finally {
      await s.close();
    }
  });

  test("windowed: a lost block is re-ACKed once and the window resent from there (RFC 7440)", async () => {
    const blocks = blocksOf(content, 512); // 11 blocks, window 4
    const acks: number[] = [];
    let dropped = false;
    const s = await peer((p, r, self) => {
      const sendFrom = (from: number) => {
        for (let b = from; b < from + 4 && b <= blocks.length; b++) {
          if (b === 6 && !dropped) {
            dropped = true; // lose block 6 once, the second of its window
            continue;
          }
          self.send(encodeData(b, blocks[b - 1]), r.port, r.address);
        }
      };
      if (p?.op === "rrq") self.send(encodeOack([{ name: "windowsize", value: "4" }]), r.port, r.address);
      else if (p?.op === "ack") {
        acks.push(p.block);
        if (p.block < blocks.length) sendFrom(p.block + 1);
      }
    });
    try {
      const r = await fetch(s.port, "f", { windowsize: 4, timeoutSec: 5 });
      assert.equal(r.sha, sha256(content));
      await settle(); // the final ACK is on its way to the peer
      // ACK 0 for the OACK, 4 at the end of the first window, 5 once for the
      // gap (7 and 8 arrive behind it and are not ACKed again), then 9 and
      // the final 11.
      assert.deepEqual(acks, [0, 4, 5, 9, 11]);
    } finally {
      await s.close();
    }
  });

  test("lockstep: a repeated block is ACKed again; a block from a stranger's port is refused and changes nothing", async () => {
    const blocks = blocksOf(content, 512);
    const strangerGot: Packet[] = [];
    const stranger = await peer((p) => p && strangerGot.push(p));
    // Connected to our client, the stranger hears the kernel's ICMP port
    // unreachable as ECONNREFUSED: once the server's TID is fixed our socket
    // is connected to it and nothing else reaches it (client.ts, lockPeer).
    const refused = new Promise<string>((resolve) => stranger.socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)));
    let repeated = false;
    const acks: number[] = [];
    const s = await peer((p, r, self) => {
      if (p?.op === "rrq") self.send(encodeData(1, blocks[0]), r.port, r.address);
      else if (p?.op === "ack") {
        acks.push(p.block);
        if (p.block === 1) {
          // Once the server's port is fixed, a stranger offers block 2 first,
          // twice: the second send is where its socket learns of the refusal.
          stranger.socket.connect(r.port, r.address, () => {
            stranger.socket.send(encodeData(2, Buffer.from("evil")));
            setTimeout(() => stranger.socket.send(encodeData(2, Buffer.from("evil"))), 5);
            setTimeout(() => self.send(encodeData(2, blocks[1]), r.port, r.address), 20);
          });
          return;
        }
        if (p.block === 3 && !repeated) {
          repeated = true;
          self.send(encodeData(3, blocks[2]), r.port, r.address); // as if our ACK 3 had not arrived
          return;
        }
        if (p.block < blocks.length) self.send(encodeData(p.block + 1, blocks[p.block]), r.port, r.address);
      }
    });
    try {
      const r = await fetch(s.port, "f", { timeoutSec: 5 });
      assert.equal(r.sha, sha256(content));
      await settle();
      assert.deepEqual(acks, [1, 2, 3, 3, ...Array.from({ length: blocks.length - 3 }, (_, i) => i + 4)]);
      assert.deepEqual(strangerGot, [], "the stranger is sent nothing: no ACK of its block");
      assert.equal(await refused, "ECONNREFUSED");
    } finally {
      await Promise.all([s.close(), stranger.close()]);
    }
  });

  test("before the server answers, a datagram from another host gets ERROR 5 and changes nothing", async () => {
    const blocks = blocksOf(content, 512);
    const strangerGot: Packet[] = [];
    // Another host: 127.0.0.2. (Any port of the server's own host may answer
    // a request, RFC 1350 section 4, so only the host can tell a stranger.)
    const stranger = await peer((p) => p && strangerGot.push(p), "127.0.0.2");
    const s = await peer((p, r, self) => {
      if (p?.op === "rrq") {
        stranger.socket.send(encodeData(1, Buffer.from("evil")), r.port, r.address);
        setTimeout(() => self.send(encodeData(1, blocks[0]), r.port, r.address), 20);
      } else if (p?.op === "ack" && p.block < blocks.length) self.send(encodeData(p.block + 1, blocks[p.block]), r.port, r.address);
    });
    try {
      const r = await fetch(s.port, "f", { timeoutSec: 5 });
      assert.equal(r.sha, sha256(content));
      await settle();
      assert.deepEqual(strangerGot.map((p) => (p.op === "error" ? p.code : p.op)), [5]);
    } finally {
      await Promise.all([s.close(), stranger.close()]);
    }
  });

  test("silence: the request is sent again with exponential backoff, then 'timeout'", async () => {
    const at: number[] = [];
    const s = await peer((p) => p?.op === "rrq" && at.push(performance.now()));
    try {
      const e = await expectError(tftpGet({ host: LOOPBACK, port: s.port, file: "f", timeoutSec: 0.1, retries: 3 }), "timeout");
      assert.match(e.message, /after 3 retries/);
      assert.equal(at.length, 4, "the request and 3 retries");
      // Lower bounds only (a busy machine makes timers late, never early):
      // 100, 200, 400 ms, less a little for delivery jitter.
      const gaps = at.slice(1).map((t, i) => t - at[i]);
      gaps.forEach((g, i) => assert.ok(g >= 0.9 * 100 * 2 ** i, `backoff doubles: ${gaps.map((x) => x.toFixed(0)).join(", ")} ms`));
    } finally {
      await s.close();
    }
  });

  test("a server that stops mid-file never yields a complete transfer", async () => {
    const blocks = blocksOf(content, 512);
    const s = await peer((p, r, self) => {
      if (p?.op === "rrq") self.send(encodeData(1, blocks[0]), r.port, r.address);
      else if (p?.op === "ack" && p.block < 5) self.send(encodeData(p.block + 1, blocks[p.block]), r.port, r.address);
    });
    try {
      let bytes = 0;
      await expectError(tftpGet({ host: LOOPBACK, port: s.port, file: "f", timeoutSec: 0.05, retries: 2, onData: (c) => void (bytes += c.length) }), "timeout");
      assert.equal(bytes, 5 * 512);
    } finally {
      await s.close();
    }
  });

  test("tsize that the data contradicts is an error, as is a block larger than blksize", async () => {
    const blocks = blocksOf(content, 512);
    const lying = await peer((p, r, self) => {
      if (p?.op === "rrq") self.send(encodeOack([{ name: "tsize", value: String(content.length + 1) }]), r.port, r.address);
      else if (p?.op === "ack" && p.block < blocks.length) self.send(encodeData(p.block + 1, blocks[p.block]), r.port, r.address);
    });
    const oversize = await peer((p, r, self) => {
      if (p?.op === "rrq") self.send(encodeData(1, new Uint8Array(600)), r.port, r.address);
    });
    try {
      const e = await expectError(tftpGet({ host: LOOPBACK, port: lying.port, file: "f", tsize: true, timeoutSec: 0.2 }), "size");
      assert.match(e.message, /tsize 5221/);
      await expectError(tftpGet({ host: LOOPBACK, port: oversize.port, file: "f", timeoutSec: 0.2 }), "protocol");
    } finally {
      await Promise.all([lying.close(), oversize.close()]);
    }
  });
});

describe("our server against scripted clients", () => {
  let server: TftpServer;
  let port = 0;
  before(async () => {
    server = new TftpServer({ root: served, host: LOOPBACK, port: 0 });
    port = (await server.start()).port;
  });
  after(async () => server.stop());

  /** A client socket whose datagrams are queued for `next()`. */
  async function client() {
    const queue: Array<{ p: Packet; port: number }> = [];
    const waiters: Array<() => void> = [];
    const c = await peer((p, r) => {
      if (p !== undefined) queue.push({ p, port: r.port });
      waiters.shift()?.();
    });
    const next = async (ms = 2000) => {
      const deadline = performance.now() + ms;
      while (queue.length === 0) {
        if (performance.now() > deadline) throw new Error("nothing received");
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return queue.shift()!;
    };
    const quiet = async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return queue.length === 0;
    };
    return { ...c, next, quiet, send: (pkt: Uint8Array, to = port) => c.socket.send(pkt, to, LOOPBACK) };
  }

  test("WRQ is refused with error 2, other modes with error 4, and duplicate RRQs start one transfer", async () => {
    const c = await client();
    try {
      c.send(encodeRequest("wrq", "upload.bin", "octet"));
      const w = await c.next();
      assert.equal(w.p.op === "error" && w.p.code, 2);
      c.send(encodeRequest("rrq", "exact512.bin", "netascii"));
      const n = await c.next();
      assert.equal(n.p.op === "error" && n.p.code, 4);
      const before = server.requests.length;
      const rrq = encodeRequest("rrq", "exact512.bin", "octet");
      c.send(rrq);
      c.send(rrq);
      const d1 = await c.next();
      assert.equal(d1.p.op === "data" && d1.p.block, 1);
      assert.ok(await c.quiet(100), "one DATA 1, not two");
      c.send(encodeAck(1), d1.port);
      const d2 = await c.next();
      assert.deepEqual(d2.p.op === "data" && [d2.p.block, d2.p.data.length], [2, 0]);
      c.send(encodeAck(2), d2.port);
      assert.equal(server.requests.length, before + 1);
    } finally {
      await c.close();
    }
  });

  test("a stranger's ACK gets ERROR 5; duplicate ACKs in lockstep are ignored (no Sorcerer's Apprentice)", async () => {
    const c = await client();
    const stranger = await client();
    try {
      c.send(encodeRequest("rrq", "five.bin", "octet"));
      const d1 = await c.next();
      stranger.send(encodeAck(1), d1.port);
      const e = await stranger.next();
      assert.equal(e.p.op === "error" && e.p.code, 5);
      c.send(encodeAck(1), d1.port);
      c.send(encodeAck(1), d1.port);
      const d2 = await c.next();
      assert.equal(d2.p.op === "data" && d2.p.block, 2);
      assert.ok(await c.quiet(100), "the duplicate ACK 1 did not send block 2 again");
      c.send(encodeError(0, "enough"), d1.port);
    } finally {
      await Promise.all([c.close(), stranger.close()]);
    }
  });

  test("windowed: an ACK inside the window restarts it after that block; silence resends it after the timeout", async () => {
    const c = await client();
    try {
      c.send(encodeRequest("rrq", "five.bin", "octet", [{ name: "windowsize", value: "4" }, { name: "timeout", value: "1" }]));
      const oack = await c.next();
      assert.deepEqual(oack.p, { op: "oack", options: [{ name: "windowsize", value: "4" }, { name: "timeout", value: "1" }] });
      c.send(encodeAck(0), oack.port);
      const window = async () => {
        const got: number[] = [];
        for (let i = 0; i < 4; i++) {
          const d = await c.next();
          if (d.p.op === "data") got.push(d.p.block);
        }
        return got;
      };
      assert.deepEqual(await window(), [1, 2, 3, 4]);
      c.send(encodeAck(2), oack.port); // as if 3 were lost
      assert.deepEqual(await window(), [3, 4, 5, 6]);
      const t0 = performance.now();
      assert.deepEqual(await window(), [3, 4, 5, 6], "no ACK: the same window again");
      assert.ok(performance.now() - t0 > 800, "after the negotiated 1 s timeout");
      c.send(encodeError(0, "enough"), oack.port);
    } finally {
      await c.close();
    }
  });
});
