// Real phone processes whose configurations name an HTTP load server
// (`<httpServer>`, docs/LOADS.md "Loads over HTTP"), made here with
// node:http over the fleet's own TFTP root, with Range. Judged by what the
// servers themselves saw and by the flash images: every image boots the
// server's load, byte for byte; the HTTP server's own log shows each
// component and block list served once per model, whole, and the TFTP server
// none of them. With the HTTP server answering 500 the fleet still finishes,
// every component then read over TFTP once per model, and the roots say so.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFleetProcesses, type FleetRunResult } from "../../host/phone/fleet.js";
import { assertBootsServerLoad } from "../support/images.js";
import { freeUdpPort } from "../support/ports.js";

const PHONES = 6;
const MODELS = 2;
/** A fleet of six on loopback takes seconds; this is only the hang guard. */
const TEST_TIMEOUT_MS = 120_000;

interface Served {
  file: string;
  status: number;
  range?: string;
  /** Body bytes this server wrote (counted by the server, not the phone). */
  bytes: number;
}

/** How the test's HTTP server behaves: serves the files, answers 500 to
 *  everything, or serves components (not block lists) with one byte flipped. */
type Mode = "good" | "500" | "corrupt";
/** The byte a corrupt server flips: within every component's first block. */
const FLIPPED_BYTE = 100;

/** A plain HTTP file server over `dir` with `Range: bytes=N-`, logging every
 *  request, in one of the modes. */
async function fileServer(t: { after: (fn: () => Promise<void>) => void }, dir: string, mode: Mode) {
  const log: Served[] = [];
  const server = createServer((q, r) => {
    const file = decodeURIComponent((q.url ?? "/").slice(1));
    const entry: Served = { file, status: 500, range: q.headers.range, bytes: 0 };
    log.push(entry);
    if (mode === "500" || file.includes("/") || file.startsWith(".")) return (r.writeHead(entry.status), r.end());
    let size: number;
    let mtimeMs: number;
    try {
      ({ size, mtimeMs } = statSync(join(dir, file)));
    } catch {
      return (r.writeHead((entry.status = 404)), r.end());
    }
    const from = Number(/^bytes=(\d+)-$/.exec(q.headers.range ?? "")?.[1] ?? 0);
    const etag = `"${size}-${Math.floor(mtimeMs)}"`;
    entry.status = from > 0 ? 206 : 200;
    r.writeHead(entry.status, { "content-length": String(size - from), etag, ...(from > 0 ? { "content-range": `bytes ${from}-${size - 1}/${size}` } : {}) });
    const body = createReadStream(join(dir, file), { start: from });
    let at = from;
    body.on("data", (chunk) => {
      const b = Buffer.from(chunk as Buffer);
      if (mode === "corrupt" && file.endsWith(".sbn") && at <= FLIPPED_BYTE && FLIPPED_BYTE < at + b.length) b[FLIPPED_BYTE - at] ^= 0xff;
      at += b.length;
      entry.bytes += b.length;
      if (!r.write(b)) body.pause();
    });
    r.on("drain", () => body.resume());
    body.on("end", () => r.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, log };
}

async function fleet(t: { after: (fn: () => Promise<void> | void) => void }, mode: Mode) {
  const workDir = mkdtempSync(join(tmpdir(), "pfs-phone-http-"));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const http = await fileServer(t, join(workDir, "tftp"), mode);
  const r: FleetRunResult = await runFleetProcesses({
    workDir, phones: PHONES, models: MODELS, load: "tiny", port: await freeUdpPort(), lingerSec: 2, pfs: true, tftpWindow: 1,
    verbose: false, out: () => {}, httpServer: http.url,
  });
  assert.deepEqual(r.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind}: ${p.lines.slice(-3).join(" | ")}`), []);
  // Judged by each image against the server's files, not the phone's word.
  for (const p of r.phones) assertBootsServerLoad(p.flash, p.mac, join(workDir, "tftp"), p.bind);
  return { r, http, root: join(workDir, "tftp") };
}

test("a fleet whose configs name an HTTP server fetches every component there, once per model, none over TFTP", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { r, http, root } = await fleet(t, "good");
  const components = [...new Set(http.log.map((e) => e.file).filter((f) => f.endsWith(".sbn")))];
  // Both models are of the 41 family: the same file names, a hierarchy (and
  // a root) per model.
  assert.equal(components.length, 3, `components served: ${components.join(", ")}`);
  for (const f of components) {
    for (const file of [f, `${f}.blk`]) {
      const served = http.log.filter((e) => e.file === file);
      assert.equal(served.length, MODELS, `${file}: ${served.length} HTTP requests`);
      for (const e of served) {
        assert.equal(e.status, 200);
        assert.equal(e.bytes, statSync(join(root, file)).size, `${file}: the whole file, once per model`);
      }
      assert.equal(r.requests.get(file) ?? 0, 0, `${file} read over TFTP too`);
    }
  }
});

test("with the HTTP server answering 500 the fleet finishes over TFTP and its roots say so", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { r, http } = await fleet(t, "500");
  assert.ok(http.log.length > 0, "the phones asked the HTTP server first");
  assert.ok(http.log.every((e) => e.status === 500));
  const components = [...r.requests.keys()].filter((f) => f.endsWith(".sbn"));
  assert.equal(components.length, 3);
  for (const f of components) {
    assert.equal(r.requests.get(f), MODELS, `${f}: TFTP reads`);
    assert.equal(r.requests.get(`${f}.blk`), MODELS, `${f}.blk: TFTP reads`);
  }
  // Each model's root said so, for each component.
  const said = new Set<string>();
  for (const p of r.phones) {
    for (const l of p.lines) {
      const m = /^WRN \S+ DLoad: \S+ over HTTP failed \(server-error: .+\): TFTP for (\S+) from now on$/.exec(l);
      if (m !== null) said.add(`${p.model} ${m[1]}`);
    }
  }
  assert.deepEqual([...said].sort(), [...new Set(r.phones.map((p) => p.model))].flatMap((m) => components.map((f) => `${m} ${f}`)).sort());
});

test("an HTTP server serving a wrong byte: the block is dropped, the component comes over TFTP, no bad byte kept", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // fleet() holds every image to the server's true files.
  const { r, http } = await fleet(t, "corrupt");
  const components = [...new Set(http.log.map((e) => e.file).filter((f) => f.endsWith(".sbn")))];
  assert.equal(components.length, 3);
  for (const f of components) {
    // The block list came over HTTP, right; the file, refetched over TFTP.
    assert.equal(r.requests.get(`${f}.blk`) ?? 0, 0, `${f}.blk over TFTP`);
    assert.equal(r.requests.get(f), MODELS, `${f}: TFTP reads`);
  }
  const corrupt = r.phones.flatMap((p) => p.lines).filter((l) => /^WRN \S+ DLoad: \S+ over HTTP failed \(corrupt: .+\): TFTP for \S+ from now on$/.test(l));
  assert.equal(corrupt.length, 3 * MODELS, corrupt.join(" | "));
});
