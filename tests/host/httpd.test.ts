// `pfs httpd`'s server against curl: ranges (206 with Content-Range, the
// bytes themselves compared with the file), 416, If-Range with a stale
// validator giving the whole file, HEAD, path escapes refused, and the
// server's own request log agreeing with what curl received. Then the WAN:
// a paced response takes at least its bits over the rate (a lower bound the
// pacer must hold, never an upper one), two at once at least the sum of both
// (one shared bucket), and the RTT at least once per request.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpServer } from "../../host/http/server.js";
import { HTTP_WAN_BURST_BYTES, wireBytes } from "../../host/http/server-pacer.js";

const FILE_BYTES = 300_000;
const dir = mkdtempSync(join(tmpdir(), "pfs-httpd-test-"));
const root = join(dir, "root");
mkdirSync(root);
const content = randomBytes(FILE_BYTES);
writeFileSync(join(root, "load.sbn"), content);
writeFileSync(join(dir, "secret.txt"), "outside the root\n");
symlinkSync(join(dir, "secret.txt"), join(root, "link.txt"));
const servers: HttpServer[] = [];
let base = "";
let server: HttpServer;

function curlMissing(): string | undefined {
  return spawnSync("curl", ["--version"]).status === 0 ? undefined : "curl is not installed (tests/support/debian-deps.sh installs it as root)";
}

interface CurlResult {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** curl with `args` on `url`: status, headers (lower-case names), body. No
 *  proxy from the environment: the server is on loopback. Asynchronous: the
 *  server answers from this very process. */
async function curl(url: string, args: string[] = []): Promise<CurlResult> {
  const headerFile = join(dir, `h-${randomBytes(4).toString("hex")}`);
  const child = spawn("curl", ["-q", "-s", "--noproxy", "*", "-D", headerFile, ...args, url], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => chunks.push(d));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  const r = { status: code, stdout: Buffer.concat(chunks) };
  assert.equal(r.status, 0, `curl ${args.join(" ")} ${url}: exit ${r.status} ${stderr}`);
  const lines = readFileSync(headerFile, "latin1").split("\r\n");
  rmSync(headerFile);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1]);
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
  }
  return { status, headers, body: r.stdout };
}

async function serve(wanKbps = 0, wanRttMs = 0): Promise<{ server: HttpServer; base: string }> {
  const s = new HttpServer({ root, host: "127.0.0.1", port: 0, wanKbps, wanRttMs });
  servers.push(s);
  const { port } = await s.start();
  return { server: s, base: `http://127.0.0.1:${port}/` };
}

/** The server's record of the last request it ended, once it has. */
async function lastRecord(s: HttpServer) {
  await new Promise((r) => setTimeout(r, 20));
  return s.requests[s.requests.length - 1];
}

before(async () => {
  ({ server, base } = await serve());
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test("whole file, HEAD, and the request log's bytes", async (t) => {
  const why = curlMissing();
  if (why !== undefined) return t.skip(why);
  const whole = await curl(base + "load.sbn");
  assert.equal(whole.status, 200);
  assert.ok(whole.body.equals(content), "the body is the file");
  assert.equal(whole.headers.get("content-length"), String(FILE_BYTES));
  assert.equal(whole.headers.get("accept-ranges"), "bytes");
  assert.match(whole.headers.get("etag") ?? "", /^"[0-9a-f]+-[0-9a-f]+"$/, "a strong ETag");
  const rec = await lastRecord(server);
  assert.deepEqual([rec.method, rec.file, rec.status, rec.bytes], ["GET", "load.sbn", 200, FILE_BYTES]);

  const head = await curl(base + "load.sbn", ["-I"]);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(FILE_BYTES));
  assert.equal(head.headers.get("etag"), whole.headers.get("etag"));
  const headRec = await lastRecord(server);
  assert.deepEqual([headRec.method, headRec.status, headRec.bytes], ["HEAD", 200, 0]);
});

test("ranges: N-M, N-, suffix; 206 with Content-Range and exactly those bytes; 416 beyond the end; several ranges get the whole file", async (t) => {
  const why = curlMissing();
  if (why !== undefined) return t.skip(why);
  const cases: Array<[string, number, number]> = [["1000-1999", 1000, 1999], ["299990-", 299990, FILE_BYTES - 1], ["-10", FILE_BYTES - 10, FILE_BYTES - 1], ["5-9999999", 5, FILE_BYTES - 1]];
  for (const [range, first, last] of cases) {
    const r = await curl(base + "load.sbn", ["-r", range]);
    assert.equal(r.status, 206, range);
    assert.equal(r.headers.get("content-range"), `bytes ${first}-${last}/${FILE_BYTES}`, range);
    assert.ok(r.body.equals(content.subarray(first, last + 1)), `${range}: the bytes of the file`);
    const rec = await lastRecord(server);
    assert.deepEqual([rec.range, rec.status, rec.bytes], [`bytes=${range}`, 206, last - first + 1], range);
  }
  for (const range of [`${FILE_BYTES}-`, `${FILE_BYTES + 5}-${FILE_BYTES + 9}`]) {
    const r = await curl(base + "load.sbn", ["-r", range]);
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get("content-range"), `bytes */${FILE_BYTES}`);
    assert.equal((await lastRecord(server)).bytes, 0);
  }
  const multi = await curl(base + "load.sbn", ["-r", "0-9,100-109"]);
  assert.equal(multi.status, 200);
  assert.ok(multi.body.equals(content));
});

test("If-Range: the matching ETag gets the range, a stale ETag or date the whole file", async (t) => {
  const why = curlMissing();
  if (why !== undefined) return t.skip(why);
  const file = join(root, "changing.sbn");
  writeFileSync(file, content);
  const old = new Date(Date.now() - 60_000);
  utimesSync(file, old, old);
  const first = await curl(base + "changing.sbn", ["-r", "0-99"]);
  const etag = first.headers.get("etag")!;
  const lastModified = first.headers.get("last-modified")!;
  const same = await curl(base + "changing.sbn", ["-r", "100-199", "-H", `If-Range: ${etag}`]);
  assert.equal(same.status, 206);
  assert.ok(same.body.equals(content.subarray(100, 200)));
  const byDate = await curl(base + "changing.sbn", ["-r", "100-199", "-H", `If-Range: ${lastModified}`]);
  assert.equal(byDate.status, 206, "a date a minute old is a strong validator");
  // The file changes on the server: same size, new bytes, new mtime.
  const changed = randomBytes(FILE_BYTES);
  writeFileSync(file, changed);
  for (const validator of [etag, lastModified, `W/${etag}`]) {
    const r = await curl(base + "changing.sbn", ["-r", "100-199", "-H", `If-Range: ${validator}`]);
    assert.equal(r.status, 200, `If-Range ${validator}: stale, so the whole file`);
    assert.ok(r.body.equals(changed), "the new file, whole, not a splice");
    assert.notEqual(r.headers.get("etag"), etag);
    assert.equal((await lastRecord(server)).bytes, FILE_BYTES);
  }
});

test("paths outside the root, encoded tricks, NUL, symlinks out, directories and other methods are refused", async (t) => {
  const why = curlMissing();
  if (why !== undefined) return t.skip(why);
  const cases: Array<[string, number]> = [
    ["../secret.txt", 404], ["..%2fsecret.txt", 404], ["%2e%2e/secret.txt", 404], ["%2E%2E%2Fsecret.txt", 404], ["a/../../secret.txt", 404],
    ["%252e%252e/secret.txt", 404], ["..%5csecret.txt", 404], ["link.txt", 404], ["", 404], ["load.sbn%00.txt", 400], ["%zz", 400],
    [encodeURIComponent(join(dir, "secret.txt")), 404], ["missing.sbn", 404],
  ];
  for (const [path, status] of cases) {
    const r = await curl(base + path, ["--path-as-is"]);
    assert.equal(r.status, status, `/${path}`);
    assert.ok(!r.body.toString().includes("outside the root"), `/${path}: nothing from outside`);
    const rec = await lastRecord(server);
    assert.deepEqual([rec.status, rec.bytes, rec.file], [status, 0, undefined], `/${path}`);
  }
  const post = await curl(base + "load.sbn", ["-X", "POST", "-d", "x"]);
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
});

test("WAN: a paced response takes at least its bits over the rate; two at once share one bucket; each request pays the RTT", async (t) => {
  const why = curlMissing();
  if (why !== undefined) return t.skip(why);
  const kbps = 8000;
  const rttMs = 60;
  const paced = await serve(kbps, rttMs);
  const bytes = 200_000;
  const floorMs = (payload: number) => (wireBytes(payload) * 8 - HTTP_WAN_BURST_BYTES * 8) / kbps + rttMs;
  const t0 = performance.now();
  const one = await curl(paced.base + "load.sbn", ["-r", `0-${bytes - 1}`]);
  const oneMs = performance.now() - t0;
  assert.equal(one.body.length, bytes);
  assert.ok(oneMs >= floorMs(bytes), `${oneMs.toFixed(0)} ms: at least ${floorMs(bytes).toFixed(0)} ms at ${kbps} kbit/s and ${rttMs} ms RTT`);

  // Two at once through one bucket: together no faster than the link.
  const t1 = performance.now();
  const both = await Promise.all([fetchBytes(paced.base + "load.sbn"), fetchBytes(paced.base + "load.sbn")]);
  const bothMs = performance.now() - t1;
  assert.deepEqual(both, [FILE_BYTES, FILE_BYTES]);
  const bothFloor = floorMs(2 * FILE_BYTES);
  assert.ok(bothMs >= bothFloor, `two at once ${bothMs.toFixed(0)} ms: at least ${bothFloor.toFixed(0)} ms through one bucket`);
  const sent = paced.server.requests.filter((r) => r.status === 200).reduce((n, r) => n + r.bytes, 0);
  assert.equal(sent, 2 * FILE_BYTES, "the server's log: both whole");

  // A refusal still pays the round trip.
  const t2 = performance.now();
  assert.equal((await curl(paced.base + "missing.sbn")).status, 404);
  assert.ok(performance.now() - t2 >= rttMs);
  t.diagnostic(`at ${kbps} kbit/s, ${rttMs} ms: one response ${((bytes * 8) / oneMs).toFixed(0)} kbit/s of payload (${((bytes * 8) / oneMs / kbps).toFixed(2)} of the rate); two at once ${((2 * FILE_BYTES * 8) / bothMs).toFixed(0)} kbit/s together`);
});

async function fetchBytes(url: string): Promise<number> {
  const r = await fetch(url);
  return (await r.arrayBuffer()).byteLength;
}
