// The root's HTTP load source (docs/LOADS.md, "Loads over HTTP"): when the
// configuration names an `<httpServer>` (or `pfs phone --load-url`), each
// part of a component's server stream (its block list "<file>.blk", then the
// file) is fetched over HTTP from the byte the core asks for, with Range, so
// a successor root costs no WAN byte twice. When HTTP fails (any kind but
// the core abandoning the fetch), or the core finds a block from it that
// fails its check, the phone says so in one line and fetches that component
// over TFTP from then on, from the byte HTTP reached: a server that failed
// once for a file is not asked for it again in this boot (one fallback, one
// line; a flapping server never splits a file across sources more than once).

import { httpGetRange } from "../http/client.js";
import { HttpFetchError } from "../http/errors.js";
import type { Validator } from "../http/response-checks.js";
import { httpLoadUrl } from "../load/config.js";

/** One part of a component's server stream, in the core's coordinates:
 *  the stream is the block list then the file, and `base` is where this
 *  part starts in it. */
export interface StreamPart {
  component: string;
  file: string;
  base: number;
  /** The first stream byte wanted (may lie before base: then from base). */
  from: number;
  /** The stream offset where this part ends. */
  end: number;
}

export class HttpLoadSource {
  /** Components fetched over TFTP from now on. */
  private readonly tftpOnly = new Set<string>();
  /** Components whose HTTP fetch is running now (a CORRUPT from the server
   *  while it runs is the HTTP server's). */
  private readonly active = new Set<string>();
  /** Each file's validator from its first response: held to on every later
   *  request of it (If-Range), across the core's fetches. */
  private readonly validators = new Map<string, Validator>();

  /** `base`: the server's base URL, ending in '/' (parseHttpServer). */
  constructor(readonly base: string, private readonly warn: (text: string) => void) {
    if (!base.endsWith("/")) throw new RangeError(`the HTTP load server's base URL must end with '/': ${base}`);
  }

  /** Whether this component's next fetch goes over HTTP. */
  uses(component: string): boolean {
    return !this.tftpOnly.has(component);
  }

  /** Fetches a part over HTTP into the sink. Returns the stream offset it
   *  reached: `end` when done, less when HTTP failed (the caller fetches
   *  the rest over TFTP). Rethrows when the core abandoned the fetch. */
  async fetchPart(p: StreamPart, sink: (chunk: Uint8Array) => Promise<void>, signal: AbortSignal, onWire: (bytes: number) => void): Promise<number> {
    if (!(p.base <= p.end && p.from <= p.end)) throw new RangeError(`a stream part runs from ${p.base} to ${p.end}; asked from ${p.from}`);
    const url = httpLoadUrl(this.base, p.file);
    let reached = Math.max(p.from, p.base);
    this.active.add(p.component);
    try {
      const r = await httpGetRange({
        url, from: reached - p.base, sizeBytes: p.end - p.base, validator: this.validators.get(p.file), signal, onWire,
        // A server that ignores Range costs what TFTP would: the bytes before
        // `from` are read and dropped. A changed file still fails.
        whole: "skip",
        onData: async (chunk, offset) => {
          if (p.base + offset !== reached) throw new Error(`internal: HTTP chunk at ${p.base + offset}, expected ${reached}`);
          await sink(chunk);
          reached += chunk.length;
        },
      });
      if (r.validator !== undefined) this.validators.set(p.file, r.validator);
      if (reached !== p.end) throw new Error(`internal: an HTTP fetch of ${p.file} ended at ${reached} of ${p.end}`);
      return reached;
    } catch (e) {
      if (signal.aborted || !(e instanceof HttpFetchError) || e.kind === "aborted") throw e;
      this.fallBack(p.component, p.file, e.kind, e.message);
      return reached;
    } finally {
      this.active.delete(p.component);
    }
  }

  /** The core found a block from the server bad (CORRUPT, source 0): when
   *  this component's fetch is over HTTP, the HTTP server sent it, and the
   *  component goes over TFTP. True when it was HTTP's. */
  corrupt(component: string, what: string): boolean {
    if (!this.active.has(component)) return false;
    this.fallBack(component, component, "corrupt", what);
    return true;
  }

  private fallBack(component: string, file: string, kind: string, detail: string): void {
    if (this.tftpOnly.has(component)) return;
    this.tftpOnly.add(component);
    this.warn(`${file} over HTTP failed (${kind}: ${detail}): TFTP for ${component} from now on`);
  }
}
