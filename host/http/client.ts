// A load file over HTTP, from a byte on: Node's own fetch (undici), with
// `Range: bytes=N-` when N > 0 and `If-Range` once a validator of this fetch
// is known, so that a root that takes over from a dead one asks only for the
// bytes nobody holds. Nothing the server says is taken on its word: a 206
// must start exactly at N and give the index's size as its total, a 200 must
// be the whole file, lengths must agree with what is received, a body past
// its promise is cut there and fails, and a validator that changes between
// two requests of one fetch fails it (never spliced). The body is streamed
// to the caller chunk by chunk, each awaited (backpressure). Errors are
// HttpFetchError with a kind (./errors.ts). See docs/LOADS.md.

import { parseContentLength, parseContentRange } from "./content-range.js";
import { HttpFetchError } from "./errors.js";
import { nextHop, sameVersion, type Validator, validatorOf } from "./response-checks.js";

/** Redirects followed per request. RFC 1945 §9.3 once advised at most 5
 *  (RFC 9110 §15.4 only says "detect loops"); a load server needs none. */
export const HTTP_REDIRECTS_MAX = 5;
/** From the request to the response's headers: a connection and a server
 *  that answers. 10 s is what a phone's TFTP gives its first packet's
 *  retries in all (host/tftp/client.ts); a WAN of 80 ms RTT needs far less. */
export const HTTP_CONNECT_TIMEOUT_MS = 10_000;
/** No body byte for this long (not counting time the caller takes to take
 *  a chunk): the server or the link stalled. Twice the connect timeout, as
 *  a server may pause while it reads a cold disk. */
export const HTTP_IDLE_TIMEOUT_MS = 20_000;
/** Requests after a connection cut mid-body (or failed under a request)
 *  within one fetch, each resuming with Range and If-Range from the last
 *  byte received. Three in one file is a link or a server that will not
 *  carry it: the caller falls back. */
export const HTTP_RESUMES_MAX = 3;

export interface HttpRangeOptions {
  /** The file's full URL (http: or https:). */
  url: string;
  /** The first byte wanted (0: the whole file). */
  from: number;
  /** The file's size as the index gives it: every answer is held to it. */
  sizeBytes: number;
  /** Each chunk from `from` on, in order, at its offset in the file; the
   *  next chunk waits for the promise. Never a byte past sizeBytes, never a
   *  byte of a response whose headers failed a check. */
  onData: (chunk: Uint8Array, offset: number) => Promise<void>;
  /** A validator an earlier response of this fetch gave (the caller keeps
   *  it across its requests of one file): sent as If-Range, held to. */
  validator?: Validator;
  /** Every body byte off the wire, kept or dropped (the WAN's count). */
  onWire?: (bytes: number) => void;
  /** A 200 (the whole file) to a request for bytes from N > 0 whose
   *  validator is unchanged: "skip" drops the first N bytes and goes on
   *  (what TFTP costs anyway); "fail" fails with bad-range. Default "fail". */
  whole?: "skip" | "fail";
  signal?: AbortSignal;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  resumesMax?: number;
}

export interface HttpRangeResult {
  /** Requests made (redirects not counted). */
  requests: number;
  /** Body bytes received, kept or dropped. */
  wireBytes: number;
  /** The validator the file was served under, if the server gave one. */
  validator?: Validator;
}

/** Where one fetch stands: the next byte the caller gets, and what we know. */
interface FetchState {
  at: number;
  validator?: Validator;
  requests: number;
  wireBytes: number;
}

/** Fetches bytes `from` .. sizeBytes of `url` to onData, or throws an
 *  HttpFetchError; resumes a cut body up to resumesMax times. */
export async function httpGetRange(o: HttpRangeOptions): Promise<HttpRangeResult> {
  if (!Number.isSafeInteger(o.sizeBytes) || o.sizeBytes < 0) throw new RangeError(`sizeBytes must be a whole number from 0 (got ${o.sizeBytes})`);
  if (!Number.isSafeInteger(o.from) || o.from < 0 || o.from > o.sizeBytes) throw new RangeError(`from must be within the file (got ${o.from} of ${o.sizeBytes})`);
  const st: FetchState = { at: o.from, validator: o.validator, requests: 0, wireBytes: 0 };
  if (o.from === o.sizeBytes && o.sizeBytes > 0) return { requests: 0, wireBytes: 0 }; // nothing left to ask for
  // An empty file is still asked for: it must exist.
  if (o.sizeBytes === 0) await oneRequest(o, st);
  const resumesMax = o.resumesMax ?? HTTP_RESUMES_MAX;
  let resumes = 0;
  while (st.at < o.sizeBytes) {
    const before = st.at;
    try {
      await oneRequest(o, st);
    } catch (e) {
      if (!resumable(e, st.at > before) || resumes >= resumesMax) throw e;
      resumes++;
      continue;
    }
    if (st.at <= before && st.at < o.sizeBytes) throw new HttpFetchError("short-body", `${o.url}: a response that moved no byte at ${st.at}`);
  }
  return { requests: st.requests, wireBytes: st.wireBytes, validator: st.validator };
}

/** Whether a failed request is asked again from where it stopped: a body
 *  cut after progress; and a connection that failed under the request
 *  ("network", not "refused"), even before any byte: a kept-alive connection
 *  the server had closed while idle fails the next request on it (undici's
 *  UND_ERR_SOCKET; seen on the site when a successor root asked the rest of
 *  a file), and the next request opens a fresh one. Anything else is the
 *  server's answer. */
function resumable(e: unknown, moved: boolean): boolean {
  if (!(e instanceof HttpFetchError)) return false;
  if (e.kind === "network") return true;
  return (e.kind === "short-body" || e.kind === "timeout") && moved;
}

/** One request (and its redirects): checks the headers, then streams the
 *  body from st.at on, advancing st.at by what the caller took. */
async function oneRequest(o: HttpRangeOptions, st: FetchState): Promise<void> {
  const ac = new AbortController();
  const stop = (e: HttpFetchError) => ac.abort(e);
  const onCallerAbort = () => stop(new HttpFetchError("aborted", `${o.url}: the fetch was abandoned`));
  if (o.signal?.aborted) onCallerAbort();
  o.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const connectMs = o.connectTimeoutMs ?? HTTP_CONNECT_TIMEOUT_MS;
  let timer = setTimeout(() => stop(new HttpFetchError("timeout", `${o.url}: no answer in ${connectMs} ms`)), connectMs);
  try {
    const res = await follow(o.url, st, ac.signal);
    clearTimeout(timer);
    st.requests++;
    const plan = checkHeaders(o, st, res);
    await readBody(o, st, res, plan, ac.signal, (arm) => {
      clearTimeout(timer);
      const idleMs = o.idleTimeoutMs ?? HTTP_IDLE_TIMEOUT_MS;
      if (arm) timer = setTimeout(() => stop(new HttpFetchError("timeout", `${o.url}: no body byte for ${idleMs} ms at ${st.at}`)), idleMs);
    });
  } catch (e) {
    throw ac.signal.aborted && ac.signal.reason instanceof HttpFetchError ? ac.signal.reason : e;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onCallerAbort);
  }
}

/** The request, its redirects followed by hand (a loop or too many is an
 *  error), until an answer that is no redirect. */
async function follow(url: string, st: FetchState, signal: AbortSignal): Promise<Response> {
  const visited = new Set<string>();
  let at = url;
  for (let hop = 0; ; hop++) {
    visited.add(at);
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    if (st.at > 0) headers.range = `bytes=${st.at}-`;
    if (st.at > 0 && st.validator !== undefined) headers["if-range"] = st.validator.value;
    let res: Response;
    try {
      res = await fetch(at, { headers, redirect: "manual", signal });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      const code = (e as { cause?: { code?: string } }).cause?.code;
      throw new HttpFetchError(code === "ECONNREFUSED" ? "refused" : "network", `${at}: ${code ?? (e as Error).message}`, undefined, { cause: e });
    }
    const next = nextHop(at, res);
    if (next === undefined) return res;
    await res.body?.cancel();
    if (visited.has(next)) throw new HttpFetchError("redirect-loop", `${at}: redirects back to ${next}`, res.status);
    if (hop + 1 > HTTP_REDIRECTS_MAX) throw new HttpFetchError("redirect-loop", `${url}: more than ${HTTP_REDIRECTS_MAX} redirects`, res.status);
    at = next;
  }
}

/** What a response's body is, once its headers pass: where it starts in
 *  the file and where it must end. */
interface BodyPlan {
  start: number;
  end: number;
}

/** Holds a response's status and headers to what was asked. */
function checkHeaders(o: HttpRangeOptions, st: FetchState, res: Response): BodyPlan {
  const fail = (kind: HttpFetchError["kind"], why: string): never => {
    void res.body?.cancel();
    throw new HttpFetchError(kind, `${o.url}: ${why}`, res.status);
  };
  if (res.status === 404 || res.status === 410) fail("not-found", `${res.status} ${res.statusText}`);
  if (res.status >= 500) fail("server-error", `${res.status} ${res.statusText}`);
  if (res.status === 416) fail("bad-range", `416: the server will not serve bytes from ${st.at} (the file is not ${o.sizeBytes} bytes?)`);
  if (res.status !== 200 && res.status !== 206) fail("status", `status ${res.status} ${res.statusText}`);
  const encoding = res.headers.get("content-encoding");
  if (encoding !== null && encoding.trim().toLowerCase() !== "identity") fail("status", `Content-Encoding ${encoding.slice(0, 20)}: asked for identity`);
  const validator = validatorOf(res.headers);
  if (st.validator !== undefined && !sameVersion(st.validator, res.headers)) {
    fail("changed", `the file changed on the server within this fetch (${st.validator.kind} ${st.validator.value}, now ${res.headers.get(st.validator.kind)?.slice(0, 60) ?? "none"})`);
  }
  const length = parseContentLength(res.headers.get("content-length"));
  if (typeof length === "string") fail("bad-range", length);
  let plan: BodyPlan;
  if (res.status === 206) {
    const range = parseContentRange(res.headers.get("content-range"));
    if (typeof range === "string") fail("bad-range", range);
    const r = range as Exclude<typeof range, string>;
    if (r.first !== st.at) fail("bad-range", `206 from byte ${r.first}; asked from ${st.at}`);
    if (r.total !== o.sizeBytes) fail("bad-range", `the file is ${r.total} bytes by its Content-Range; the index says ${o.sizeBytes}`);
    plan = { start: r.first, end: r.last + 1 };
  } else {
    // A 200 to a ranged request whose validator still matches (checked
    // above): the server ignored Range. A changed file failed above.
    if (st.at > 0 && (o.whole ?? "fail") === "fail") fail("bad-range", `200 (the whole file) to a request for bytes from ${st.at}`);
    plan = { start: 0, end: o.sizeBytes };
  }
  if (length !== undefined && length !== plan.end - plan.start) fail("bad-range", `Content-Length ${length} for bytes ${plan.start}..${plan.end - 1} (${plan.end - plan.start})`);
  st.validator ??= validator;
  return plan;
}

/** Streams the body to onData: bytes before st.at dropped, bytes past the
 *  plan's end cut (then long-body), a body ending early short-body. */
async function readBody(o: HttpRangeOptions, st: FetchState, res: Response, plan: BodyPlan, signal: AbortSignal, idle: (arm: boolean) => void): Promise<void> {
  if (res.body === null) {
    if (plan.end > plan.start) throw new HttpFetchError("short-body", `${o.url}: no body; ${plan.end - plan.start} bytes promised`, res.status);
    return;
  }
  const reader = res.body.getReader();
  let pos = plan.start;
  try {
    for (;;) {
      idle(true);
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        throw new HttpFetchError("short-body", `${o.url}: the body broke off at byte ${pos} of ${plan.end} (${(e as Error).message})`, res.status, { cause: e });
      }
      idle(false);
      if (next.done) break;
      const chunk = next.value;
      st.wireBytes += chunk.length;
      o.onWire?.(chunk.length);
      const upTo = Math.min(chunk.length, plan.end - pos);
      const skip = Math.max(0, Math.min(upTo, st.at - pos));
      if (upTo > skip) {
        if (signal.aborted) throw signal.reason;
        await o.onData(chunk.subarray(skip, upTo), pos + skip);
        st.at = pos + upTo;
      }
      pos += chunk.length;
      if (pos > plan.end) throw new HttpFetchError("long-body", `${o.url}: the body goes on past byte ${plan.end} (cut there)`, res.status);
    }
  } finally {
    idle(false);
    void reader.cancel().catch(() => {});
  }
  if (pos < plan.end) throw new HttpFetchError("short-body", `${o.url}: the body ended at byte ${pos} of ${plan.end}`, res.status);
  // The caller has every byte the plan promised, and none beyond.
  if (st.at !== plan.end) throw new Error(`internal: the fetch stands at ${st.at} after a body ending at ${plan.end}`);
}
