// `pfs tftp get` against a server that never answers: it says at once whom
// it asks for what and when it will give up, prints each retry as it is
// sent, and fails in one line. What it claims is checked against the silent
// server's own count of the requests it received.

import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPfs } from "../support/phone-proc.js";

const RETRIES = 3;
/** Short, so the test waits 50+100+200+400 ms of silence in all. */
const TIMEOUT_MS = 50;

test("pfs tftp get to a silent server: what it waits for, each retry, then one line; the server saw 1 + retries requests", async (t) => {
  const silent = dgram.createSocket("udp4");
  const requests: Buffer[] = [];
  silent.on("message", (m) => requests.push(m));
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
  const { port } = silent.address();
  const cwd = mkdtempSync(join(tmpdir(), "pfs-tftp-silent-"));
  t.after(() => {
    silent.close();
    rmSync(cwd, { recursive: true, force: true });
  });
  const r = await runPfs(["tftp", "get", "--server", `127.0.0.1:${port}`, "--file", "nothing.bin", "--blksize", "1428",
    "--timeout-ms", String(TIMEOUT_MS), "--retries", String(RETRIES)], { cwd, timeoutMs: 30_000 });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], new RegExp(`^asking 127\\.0\\.0\\.1:${port} for 'nothing\\.bin' \\(options blksize 1428\\); retry after ${TIMEOUT_MS} ms, doubling up to 16000 ms, ${RETRIES} retries: giving up after 0\\.8 s of silence$`));
  const retries = lines.slice(1);
  assert.equal(retries.length, RETRIES, r.stdout);
  retries.forEach((l, i) => assert.match(l, new RegExp(`no answer to the request in ${TIMEOUT_MS << i} ms: retry ${i + 1} of ${RETRIES} \\(request sent again; `)));
  assert.match(retries[RETRIES - 1], /giving up in 400 ms without an answer\)$/);
  assert.equal(r.stderr, `pfs tftp get: timeout reading 'nothing.bin' from 127.0.0.1:${port}: no answer to the request after ${RETRIES} retries\n`);
  // The server's own count: the request and each retry, each a read request for the file.
  assert.equal(requests.length, 1 + RETRIES);
  for (const q of requests) {
    assert.equal(q.readUInt16BE(0), 1, "RRQ");
    assert.equal(q.subarray(2, q.indexOf(0, 2)).toString(), "nothing.bin");
  }
  assert.deepEqual(readdirSync(cwd), [], "no partial file left");
});

test("pfs tftp get --help shows the retries and both timeouts with their defaults", async () => {
  const r = await runPfs(["tftp", "get", "--help"]);
  assert.equal(r.code, 0);
  const help = r.stdout.replace(/\s+/g, " ");
  assert.match(help, /--retries <n> retransmissions without progress before giving up \(default: 5\)/);
  assert.match(help, /--timeout-ms <ms> first retransmission timeout in milliseconds, .* \(default: 1000\)/);
  assert.match(help, /--timeout-sec <s> first retransmission timeout, doubled on each retry; .* \(default: 1, not asked\)/);
});
