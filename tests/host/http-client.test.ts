// The HTTP load client (host/http/client.ts) against a hostile server made
// here with node:http: each route misbehaves one way (a wrong Content-Range,
// a 200 to a ranged request, a body too long or too short, an ETag that
// changes between two ranged requests, a redirect loop, 404, 500, headers
// and then silence), and nobody listens on another port. Each must fail
// with its own kind, and what the caller received is judged against the
// file itself: always a run of the true bytes from where it asked, never a
// byte past what the server promised. The server's own request log says
// what was asked (Range, If-Range).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { HTTP_RESUMES_MAX, httpGetRange, type HttpRangeOptions } from "../../host/http/client.js";
import { HttpFetchError, type HttpErrorKind } from "../../host/http/errors.js";

const SIZE = 100_000;
/** The file: bytes no two runs of which repeat soon, so a misplaced run shows. */
const FILE = Uint8Array.from({ length: SIZE }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
/** Where a resuming test starts. */
const N = 40_000;
/** The hostile routes cut their bodies here. */
const CUT = 10_000;

interface Logged {
  url: string;
  range?: string;
  ifRange?: string;
}

type Route = (q: IncomingMessage, r: ServerResponse, nth: number) => void;

/** Bytes from..end-1 with a 206 as a good server sends them. */
function send206(r: ServerResponse, from: number, etag: string, end = SIZE): void {
  r.writeHead(206, { "content-range": `bytes ${from}-${end - 1}/${SIZE}`, "content-length": String(end - from), etag });
  r.end(FILE.subarray(from, end));
}

/** The start of a `Range: bytes=N-` header, 0 without one. */
const rangeStart = (q: IncomingMessage): number => Number(/^bytes=(\d+)-$/.exec(q.headers.range ?? "")?.[1] ?? 0);

const ROUTES: Record<string, Route> = {
  "/good": (q, r) => (q.headers.range === undefined ? (r.writeHead(200, { "content-length": String(SIZE), etag: '"v1"' }), r.end(FILE)) : send206(r, rangeStart(q), '"v1"')),
  "/wrong-start": (q, r) => send206(r, rangeStart(q) + 1, '"v1"'),
  "/wrong-total": (q, r) => {
    const from = rangeStart(q);
    r.writeHead(206, { "content-range": `bytes ${from}-${SIZE - 1}/${SIZE + 5}`, "content-length": String(SIZE - from) });
    r.end(FILE.subarray(from));
  },
  "/wrong-length": (q, r) => {
    const from = rangeStart(q);
    r.writeHead(206, { "content-range": `bytes ${from}-${SIZE - 1}/${SIZE}`, "content-length": String(SIZE - from - 1) });
    r.end(FILE.subarray(from, SIZE - 1));
  },
  "/whole": (_q, r) => {
    r.writeHead(200, { "content-length": String(SIZE), etag: '"v1"' });
    r.end(FILE);
  },
  // Chunked (no length): the body itself goes on past the file's size.
  "/too-long": (_q, r) => {
    r.writeHead(200, { etag: '"v1"' });
    r.write(FILE);
    r.end(new Uint8Array(5_000).fill(0xee));
  },
  // Every response promises the rest and stops after CUT bytes.
  "/too-short": (q, r) => {
    const from = rangeStart(q);
    r.writeHead(from === 0 ? 200 : 206, { "content-length": String(SIZE - from), etag: '"v1"', ...(from === 0 ? {} : { "content-range": `bytes ${from}-${SIZE - 1}/${SIZE}` }) });
    r.write(FILE.subarray(from, from + CUT), () => r.destroy());
  },
  // The first response is cut; the rest are whole: a resume that works.
  "/cut-once": (q, r, nth) => {
    if (nth > 1) return send206(r, rangeStart(q), '"v1"');
    r.writeHead(200, { "content-length": String(SIZE), etag: '"v1"' });
    r.write(FILE.subarray(0, CUT), () => r.destroy());
  },
  // Cut, and the file has another ETag by the next request (a server that
  // ignores If-Range and serves its new file's range).
  "/changed": (q, r, nth) => {
    if (nth > 1) return send206(r, rangeStart(q), '"v2"');
    r.writeHead(200, { "content-length": String(SIZE), etag: '"v1"' });
    r.write(FILE.subarray(0, CUT), () => r.destroy());
  },
  // The first request's connection is closed under it, no byte answered
  // (a kept-alive connection the server had closed); then a good server.
  "/reset-once": (q, r, nth) => (nth > 1 ? send206(r, rangeStart(q), '"v1"') : q.socket.destroy()),
  "/reset-always": (q) => q.socket.destroy(),
  "/loop-a": (_q, r) => (r.writeHead(302, { location: "/loop-b" }), r.end()),
  "/loop-b": (_q, r) => (r.writeHead(302, { location: "/loop-a" }), r.end()),
  "/redirect-once": (_q, r) => (r.writeHead(301, { location: "/good" }), r.end()),
  "/not-found": (_q, r) => (r.writeHead(404), r.end("no such file")),
  "/broken": (_q, r) => (r.writeHead(500), r.end("oops")),
  // Headers, some bytes, then nothing, the connection left open.
  "/stall": (_q, r) => {
    r.writeHead(200, { "content-length": String(SIZE) });
    r.write(FILE.subarray(0, CUT));
  },
};

async function hostileServer(t: { after: (fn: () => Promise<void> | void) => void }) {
  const log: Logged[] = [];
  const counts = new Map<string, number>();
  const server = createServer((q, r) => {
    const path = (q.url ?? "/").replace(/^\/\d+/, ""); // "/7/cut-once": a fresh counter per test
    log.push({ url: q.url ?? "", range: q.headers.range, ifRange: q.headers["if-range"] as string | undefined });
    const nth = (counts.get(q.url ?? "") ?? 0) + 1;
    counts.set(q.url ?? "", nth);
    const route = ROUTES[path];
    if (route === undefined) return (r.writeHead(404), r.end());
    route(q, r, nth);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log };
}

/** Runs a fetch, collecting what the caller gets at which offset. */
async function fetchInto(o: Omit<HttpRangeOptions, "onData" | "sizeBytes"> & { sizeBytes?: number }) {
  const got: Array<{ offset: number; bytes: Uint8Array }> = [];
  let error: unknown;
  try {
    await httpGetRange({ sizeBytes: SIZE, ...o, onData: async (chunk, offset) => void got.push({ offset, bytes: Uint8Array.from(chunk) }) });
  } catch (e) {
    error = e;
  }
  // Whatever came, it is the file's own bytes, contiguous from `from`.
  let at = o.from;
  for (const g of got) {
    assert.equal(g.offset, at, "chunks are contiguous");
    assert.ok(at + g.bytes.length <= SIZE, "never a byte past the file");
    assert.deepEqual(g.bytes, FILE.subarray(at, at + g.bytes.length), `the bytes at ${at} are the file's`);
    at += g.bytes.length;
  }
  return { received: at - o.from, error };
}

function assertKind(error: unknown, kind: HttpErrorKind): void {
  assert.ok(error instanceof HttpFetchError, `expected an HttpFetchError (${kind}), got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
}

let serial = 0;
/** A URL of the route unique to this call (the server counts per URL). */
const at = (base: string, route: string) => `${base}/${++serial}${route}`;

test("a good server: the whole file, and a resume from N asks Range bytes=N- and gets exactly the rest", async (t) => {
  const s = await hostileServer(t);
  const whole = await fetchInto({ url: at(s.base, "/good"), from: 0 });
  assert.equal(whole.error, undefined);
  assert.equal(whole.received, SIZE);
  const resumed = await fetchInto({ url: at(s.base, "/good"), from: N });
  assert.equal(resumed.error, undefined);
  assert.equal(resumed.received, SIZE - N);
  assert.equal(s.log[0].range, undefined, "no Range for the whole file");
  assert.equal(s.log[1].range, `bytes=${N}-`);
});

test("a body cut once is resumed with Range and If-Range of the first response's ETag", async (t) => {
  const s = await hostileServer(t);
  const r = await fetchInto({ url: at(s.base, "/cut-once"), from: 0 });
  assert.equal(r.error, undefined);
  assert.equal(r.received, SIZE);
  assert.equal(s.log.length, 2);
  assert.equal(s.log[1].range, `bytes=${CUT}-`);
  assert.equal(s.log[1].ifRange, '"v1"');
});

test("a 206 that starts elsewhere, or names another total, or another length, is bad-range with no byte taken", async (t) => {
  const s = await hostileServer(t);
  for (const route of ["/wrong-start", "/wrong-total", "/wrong-length"]) {
    const r = await fetchInto({ url: at(s.base, route), from: N });
    assertKind(r.error, "bad-range");
    assert.equal(r.received, 0, route);
  }
});

test("a 200 to a ranged request fails bad-range by default; with whole: skip the first N bytes are dropped", async (t) => {
  const s = await hostileServer(t);
  const strict = await fetchInto({ url: at(s.base, "/whole"), from: N });
  assertKind(strict.error, "bad-range");
  assert.equal(strict.received, 0);
  let wire = 0;
  const skip = await fetchInto({ url: at(s.base, "/whole"), from: N, whole: "skip", onWire: (n) => (wire += n) });
  assert.equal(skip.error, undefined);
  assert.equal(skip.received, SIZE - N);
  assert.equal(wire, SIZE, "the dropped bytes are counted off the wire");
});

test("a body longer than the file is cut at the file's end and fails long-body", async (t) => {
  const s = await hostileServer(t);
  const r = await fetchInto({ url: at(s.base, "/too-long"), from: 0 });
  assertKind(r.error, "long-body");
  assert.ok(r.received <= SIZE);
});

test("a body shorter than its Content-Length is resumed, and fails short-body when every response is short", async (t) => {
  const s = await hostileServer(t);
  const once = await fetchInto({ url: at(s.base, "/too-short"), from: 0, resumesMax: 0 });
  assertKind(once.error, "short-body");
  assert.equal(once.received, CUT);
  const r = await fetchInto({ url: at(s.base, "/too-short"), from: 0, resumesMax: 3 });
  assertKind(r.error, "short-body");
  assert.equal(r.received, 4 * CUT, "one first request and three resumes, each CUT bytes");
});

test("a connection closed under a request is asked again from the same byte; one that always closes fails network", async (t) => {
  const { base, log } = await hostileServer(t);
  const once = await fetchInto({ url: at(base, "/reset-once"), from: N });
  assert.equal(once.error, undefined, String(once.error));
  assert.equal(once.received, SIZE - N);
  assert.deepEqual(log.map((l) => l.range), [`bytes=${N}-`, `bytes=${N}-`], "the retry asks from the same byte");
  const always = await fetchInto({ url: at(base, "/reset-always"), from: 0 });
  assertKind(always.error, "network");
  assert.equal(log.length, 2 + 1 + HTTP_RESUMES_MAX, "the first request and HTTP_RESUMES_MAX more, then the error");
});

test("an ETag that changes between two ranged requests of one fetch fails changed: never spliced", async (t) => {
  const s = await hostileServer(t);
  const r = await fetchInto({ url: at(s.base, "/changed"), from: 0 });
  assertKind(r.error, "changed");
  assert.equal(r.received, CUT, "only the first version's bytes");
  // A validator known from an earlier fetch is held to as well.
  const later = await fetchInto({ url: at(s.base, "/good"), from: N, validator: { kind: "etag", value: '"v0"' } });
  assertKind(later.error, "changed");
  assert.equal(later.received, 0);
  assert.equal(s.log.at(-1)?.ifRange, '"v0"');
});

test("redirects: one is followed, a loop fails redirect-loop", async (t) => {
  const s = await hostileServer(t);
  const once = await fetchInto({ url: `${s.base}/redirect-once`, from: 0 });
  assert.equal(once.error, undefined);
  assert.equal(once.received, SIZE);
  const loop = await fetchInto({ url: `${s.base}/loop-a`, from: 0 });
  assertKind(loop.error, "redirect-loop");
  assert.equal(loop.received, 0);
});

test("404 is not-found, 500 server-error, a closed port refused, silence timeout", async (t) => {
  const s = await hostileServer(t);
  assertKind((await fetchInto({ url: at(s.base, "/not-found"), from: 0 })).error, "not-found");
  assertKind((await fetchInto({ url: at(s.base, "/broken"), from: N })).error, "server-error");
  // A port that was free a moment ago: nobody listens there.
  const tcp = createTcpServer();
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  const port = (tcp.address() as AddressInfo).port;
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
  assertKind((await fetchInto({ url: `http://127.0.0.1:${port}/x`, from: 0 })).error, "refused");
  const stall = await fetchInto({ url: at(s.base, "/stall"), from: 0, idleTimeoutMs: 300, resumesMax: 0 });
  assertKind(stall.error, "timeout");
  assert.equal(stall.received, CUT);
});

test("the caller's abort is aborted, not a server failure", async (t) => {
  const s = await hostileServer(t);
  const ac = new AbortController();
  let got = 0;
  const p = httpGetRange({
    url: at(s.base, "/stall"), from: 0, sizeBytes: SIZE, signal: ac.signal,
    onData: async (c) => {
      got += c.length;
      ac.abort();
    },
  });
  await assert.rejects(p, (e: unknown) => e instanceof HttpFetchError && e.kind === "aborted");
  assert.ok(got <= CUT);
});
