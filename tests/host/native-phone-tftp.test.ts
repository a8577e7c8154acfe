// The C phone's TFTP client (native/phone/tftp.c, through pfs-tftp-get)
// against tftpd-hpa, atftpd and our own server: files of 0 bytes, one
// block, a multiple of the blksize and a few MB, at blksize 512, 1428 and
// 1468, compared byte for byte; a missing file; the cap refused on tsize and
// stopped without tsize; a size that is not the one expected. Then against a
// scripted server in this file, for what real servers will not do on
// demand: send no tsize to a file larger than the cap, lose a block, send
// from a stranger's port, stay silent.
// A missing server skips its tests and says why; a missing C toolchain skips
// them all (tests/support/native.ts).

import { after, before, describe, test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TftpServer } from "../../host/tftp/server.js";
import { ensurePhoneTool, ROOT } from "../support/native.js";
import { ATFTPD, atftpdArgs, atftpdMissing, IN_TFTPD, LOOPBACK, RunningTftpd, startTftpd, tftpdHpaArgs, tftpdHpaMissing } from "../support/tftpd.js";

const TOOL = "build/native/phone/pfs-tftp-get";
const toolMissing = ensurePhoneTool(TOOL);
/** A scripted server's timers and the client's, short so the tests are quick. */
const QUICK_TIMEOUT_MS = "150";

// ---- the files served ----

const dir = mkdtempSync(join(tmpdir(), "pfs-phone-tftp-"));
const served = join(dir, "root");
mkdirSync(served, { recursive: true });
/** 0 bytes, exactly one block at each blksize, multiples of each, a few MB. */
const FILES: Record<string, number> = {
  "empty.bin": 0,
  "one512.bin": 512,
  "one1428.bin": 1428,
  "one1468.bin": 1468,
  "many512.bin": 512 * 300,
  "many1428.bin": 1428 * 200,
  "many1468.bin": 1468 * 200,
  "few-mb.bin": 3_000_001,
};
const DATA = new Map<string, Buffer>();
for (const [name, size] of Object.entries(FILES)) {
  const data = randomBytes(size);
  // World-readable whatever the umask: tftpd-hpa serves nothing else.
  writeFileSync(join(served, name), data, { mode: 0o644 });
  chmodSync(join(served, name), 0o644);
  DATA.set(name, data);
}
after(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
let outN = 0;
const outPath = () => join(dir, `out-${++outN}`);

// ---- running the tool ----

interface Ran {
  code: number;
  stderr: string;
}

/** Runs pfs-tftp-get without blocking our event loop (our server and the
 *  scripted ones live in it). */
function get(port: number, file: string, flags: string[]): Promise<Ran> {
  return runTool([LOOPBACK, String(port), file, ...flags]);
}

function runTool(args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, TOOL), args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** Fetches `file` and checks it arrived byte for byte. */
async function expectFile(port: number, file: string, flags: string[]): Promise<void> {
  const out = outPath();
  const r = await get(port, file, [...flags, "--out", out]);
  assert.equal(r.code, 0, `${file} ${flags.join(" ")}: ${r.stderr}`);
  assert.equal(r.stderr, "", "nothing on stderr when it works");
  const got = readFileSync(out);
  assert.equal(got.length, FILES[file], `${file} ${flags.join(" ")}: size`);
  assert.equal(sha256(got), sha256(DATA.get(file)!), `${file} ${flags.join(" ")}: sha256`);
}

/** Fetches and expects exit 1 with one line on stderr matching `pattern`,
 *  and no output file left behind. */
async function expectFailure(port: number, file: string, flags: string[], pattern: RegExp): Promise<string> {
  const out = outPath();
  const r = await get(port, file, [...flags, "--out", out]);
  assert.equal(r.code, 1, `${file} ${flags.join(" ")} should fail: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], pattern);
  assert.ok(!existsSync(out), "a failed transfer leaves no file that looks whole");
  return lines[0];
}

function skipped(t: TestContext, missing: string | null | undefined): boolean {
  if (missing === null || missing === undefined) return false;
  t.skip(missing);
  return true;
}

const BLKSIZES: string[][] = [[], ["--blksize", "512"], ["--blksize", "1428"], ["--blksize", "1468"]];

/** The cases every real server gets. */
function realServerCases(name: string, missing: () => string | undefined, start: () => Promise<{ port: number; stop(): Promise<void> }>) {
  describe(`pfs-tftp-get against ${name}`, () => {
    const why = toolMissing ?? missing();
    let server: { port: number; stop(): Promise<void> } | undefined;
    before(async () => {
      if (why === undefined || why === null) server = await start();
    });
    after(async () => server?.stop());

    for (const flags of BLKSIZES) {
      test(`every file byte for byte with ${flags.join(" ") || "no blksize"}`, async (t) => {
        if (skipped(t, why)) return;
        for (const file of Object.keys(FILES)) await expectFile(server!.port, file, flags);
      });
    }

    test("a file without tsize, bound to 127.0.0.2", async (t) => {
      if (skipped(t, why)) return;
      await expectFile(server!.port, "many1428.bin", ["--no-tsize", "--blksize", "1428", "--bind", "127.0.0.2"]);
    });

    test("a missing file: one line naming it and the server's reason", async (t) => {
      if (skipped(t, why)) return;
      await expectFailure(server!.port, "missing.bin", ["--blksize", "1428"], /'missing\.bin'.*file not found.*error 1/i);
    });

    test("the cap is refused on the tsize, at once", async (t) => {
      if (skipped(t, why)) return;
      const t0 = performance.now();
      await expectFailure(server!.port, "few-mb.bin", ["--cap", "100000"], /'few-mb\.bin' is 3000001 bytes \(tsize\); we take at most 100000/);
      assert.ok(performance.now() - t0 < 2000, "refused before a transfer, not after");
      await expectFile(server!.port, "few-mb.bin", ["--cap", "3000001"]);
    });

    test("a size that is not the one expected fails; the right one passes", async (t) => {
      if (skipped(t, why)) return;
      await expectFailure(server!.port, "many512.bin", ["--expect", "153601"], /not the 153601 expected/);
      await expectFailure(server!.port, "many512.bin", ["--expect", "153599", "--no-tsize"], /runs past 153599 bytes/);
      await expectFailure(server!.port, "many512.bin", ["--expect", "153601", "--no-tsize"], /ends at 153600 bytes on the server, not the 153601 expected/);
      await expectFile(server!.port, "many512.bin", ["--expect", "153600"]);
    });
  });
}

realServerCases("tftpd-hpa", tftpdHpaMissing, () => startTftpd(IN_TFTPD, tftpdHpaArgs(served), "empty.bin"));
realServerCases("atftpd", atftpdMissing, () => startTftpd(ATFTPD, atftpdArgs(served), "empty.bin"));
realServerCases("our server", () => undefined, async () => {
  const server = new TftpServer({ root: served, host: LOOPBACK, port: 0, maxBlksize: 1468 });
  const { port } = await server.start();
  return { port, stop: () => server.stop() };
});

describe("pfs-tftp-get against atftpd --no-tsize", () => {
  const why = toolMissing ?? atftpdMissing();
  let atftpd: RunningTftpd | undefined;
  before(async () => {
    if (why === null || why === undefined) atftpd = await startTftpd(ATFTPD, atftpdArgs(served, ["--no-tsize"]), "empty.bin");
  });
  after(async () => atftpd?.stop());

  test("without tsize the cap stops the transfer at the first block past it", async (t) => {
    if (skipped(t, why)) return;
    await expectFailure(atftpd!.port, "few-mb.bin", ["--cap", "100000", "--blksize", "1428"], /'few-mb\.bin' runs past 100000 bytes, the most we take: stopped/);
    await expectFile(atftpd!.port, "few-mb.bin", ["--cap", "3000001", "--blksize", "1428"]);
  });
});

// ---- a scripted server ----

interface Script {
  data: Buffer;
  /** Blocks not sent the first time they are due (a lost datagram). */
  dropOnce?: number[];
  /** Before sending this block, a stranger (another port) sends a DATA of
   *  the same number with garbage in it. */
  strangerAt?: number;
  /** Never answer at all. */
  silent?: boolean;
  /** Answer with an OACK of this tsize (true or not) before DATA 1. */
  oackTsize?: number;
  /** This block is sent twice, once. */
  duplicateAt?: number;
}

interface Scripted {
  port: number;
  /** DATA datagrams actually sent, retransmissions included. */
  sent: number;
  /** ERROR codes the client sent to the transfer's port. */
  errors: number[];
  /** What the stranger received back (opcode, code). */
  strangerGot: Array<[number, number]>;
  stop(): Promise<void>;
}

const bind = (s: dgram.Socket) => new Promise<void>((resolve) => s.bind(0, LOOPBACK, () => resolve()));
const close = (s: dgram.Socket) => new Promise<void>((resolve) => s.close(() => resolve()));

function dataPacket(block: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(3, 0);
  h.writeUInt16BE(block & 0xffff, 2);
  return Buffer.concat([h, body]);
}

/** A server that ignores every option (plain RFC 1350 at 512 bytes, so no
 *  tsize), lockstep, driven by the client's ACKs: an ACK of the block before
 *  the one due (the client's retransmission) sends that block again. */
async function scripted(script: Script): Promise<Scripted> {
  const listen = dgram.createSocket("udp4");
  const session = dgram.createSocket("udp4");
  const stranger = dgram.createSocket("udp4");
  await Promise.all([bind(listen), bind(session), bind(stranger)]);
  const state: Scripted = { port: listen.address().port, sent: 0, errors: [], strangerGot: [], stop: async () => {
    await Promise.all([close(listen), close(session), close(stranger)]);
  } };
  const dropped = new Set<number>();
  let client: dgram.RemoteInfo | undefined;
  let due = script.oackTsize === undefined ? 1 : 0;
  const blocks = Math.floor(script.data.length / 512) + 1;
  const send = (block: number) => {
    if (client === undefined || block > blocks) return;
    if (block === 0) {
      session.send(Buffer.concat([Buffer.from([0, 6]), Buffer.from(`tsize\0${script.oackTsize}\0`)]), client.port, client.address);
      return;
    }
    const body = script.data.subarray((block - 1) * 512, block * 512);
    if (block === script.strangerAt && !dropped.has(-block)) {
      dropped.add(-block);
      stranger.send(dataPacket(block, Buffer.alloc(body.length, 0x55)), client.port, client.address);
    }
    if (script.dropOnce?.includes(block) && !dropped.has(block)) {
      dropped.add(block);
      return;
    }
    state.sent++;
    session.send(dataPacket(block, body), client.port, client.address);
    if (block === script.duplicateAt && !dropped.has(block)) {
      dropped.add(block);
      session.send(dataPacket(block, body), client.port, client.address);
    }
  };
  listen.on("message", (msg, rinfo) => {
    if (script.silent || msg.readUInt16BE(0) !== 1) return;
    // The first RRQ opens the transfer; a repeat (our DATA 1 was lost) sends it again.
    client = rinfo;
    send(due);
  });
  session.on("message", (msg) => {
    const op = msg.readUInt16BE(0);
    if (op === 5) state.errors.push(msg.readUInt16BE(2));
    if (op !== 4) return;
    const acked = msg.readUInt16BE(2);
    if (acked === (due & 0xffff)) send(++due);
    else if (acked === ((due - 1) & 0xffff)) send(due);
  });
  stranger.on("message", (msg) => state.strangerGot.push([msg.readUInt16BE(0), msg.length >= 4 ? msg.readUInt16BE(2) : -1]));
  return state;
}

describe("pfs-tftp-get against a scripted server", () => {
  const quick = ["--timeout-ms", QUICK_TIMEOUT_MS];
  const file = DATA.get("few-mb.bin")!;
  const small = DATA.get("many512.bin")!;

  /** Runs the tool against a script and checks the bytes it wrote. */
  async function fetchScripted(s: Scripted, data: Buffer, flags: string[]): Promise<void> {
    const out = outPath();
    const r = await get(s.port, "x.bin", [...flags, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(readFileSync(out)), sha256(data), "byte for byte");
  }

  test("a server that ignores the options: the transfer runs at 512 bytes", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: small });
    try {
      await fetchScripted(s, small, ["--blksize", "1468", ...quick]);
      assert.equal(s.sent, small.length / 512 + 1, "each block once, then the empty final block");
    } finally {
      await s.stop();
    }
  });

  test("without tsize the cap stops the transfer near the cap, not at the end of the file", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: file });
    try {
      await expectFailure(s.port, "x.bin", ["--cap", "5000", ...quick], /'x\.bin' runs past 5000 bytes, the most we take: stopped/);
      assert.equal(s.sent, Math.ceil(5000 / 512), "no block after the first past the cap");
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(s.errors, [3], "the server is told: ERROR 3 (RFC 2349)");
    } finally {
      await s.stop();
    }
  });

  test("the first DATA lost once: the client asks again and the file is whole", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: small, dropOnce: [1] });
    try {
      await fetchScripted(s, small, quick);
      assert.equal(s.sent, small.length / 512 + 1, "the lost block was sent again once");
    } finally {
      await s.stop();
    }
  });

  test("a DATA lost mid-transfer: the client's retransmitted ACK brings it back", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: small, dropOnce: [7, 300] });
    try {
      await fetchScripted(s, small, quick);
    } finally {
      await s.stop();
    }
  });

  test("a datagram from a wrong port gets ERROR 5 and changes nothing", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: small, strangerAt: 5 });
    try {
      await fetchScripted(s, small, quick);
      assert.deepEqual(s.strangerGot, [[5, 5]], "the stranger got ERROR 5 (unknown transfer ID)");
      assert.deepEqual(s.errors, [], "the server got no error");
    } finally {
      await s.stop();
    }
  });

  test("a block that comes twice is delivered once", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: small, duplicateAt: 3 });
    try {
      await fetchScripted(s, small, quick);
    } finally {
      await s.stop();
    }
  });

  test("a tsize the blocks contradict fails, either way", async (t) => {
    if (skipped(t, toolMissing)) return;
    for (const [lie, pattern] of [[small.length - 1, /already 153600 bytes, but the server announced tsize 153599/], [small.length + 1, /ended at 153600 bytes, but the server announced tsize 153601/]] as const) {
      const s = await scripted({ data: small, oackTsize: lie });
      try {
        await expectFailure(s.port, "x.bin", quick, pattern);
      } finally {
        await s.stop();
      }
    }
    const s = await scripted({ data: small, oackTsize: small.length });
    try {
      await fetchScripted(s, small, quick);
    } finally {
      await s.stop();
    }
  });

  test("a silent server: a bounded number of retries, then a clear timeout", async (t) => {
    if (skipped(t, toolMissing)) return;
    const s = await scripted({ data: small, silent: true });
    try {
      const t0 = performance.now();
      await expectFailure(s.port, "x.bin", ["--timeout-ms", "50", "--retries", "2"], /timeout reading 'x\.bin' .*no answer to the request after 2 retries/);
      // 50 + 100 + 200 ms of backoff.
      const ms = performance.now() - t0;
      assert.ok(ms >= 340 && ms < 3000, `gave up after ${ms.toFixed(0)} ms`);
    } finally {
      await s.stop();
    }
  });

  test("wrong arguments: a one-line usage error, nothing sent", async (t) => {
    if (skipped(t, toolMissing)) return;
    const bad = [[], [LOOPBACK], [LOOPBACK, "69"], [LOOPBACK, "0", "x.bin"], [LOOPBACK, "69x", "x.bin"],
      [LOOPBACK, "69", "x.bin", "--blksize", "7"], [LOOPBACK, "69", "x.bin", "--blksize", "65465"],
      [LOOPBACK, "69", "x.bin", "--cap"], [LOOPBACK, "69", "x.bin", "--cap", "-1"], [LOOPBACK, "69", "x.bin", "--bogus", "1"]];
    for (const args of bad) {
      const r = await runTool(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, /^usage: pfs-tftp-get HOST PORT FILE/, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
    }
  });
});
