// The index is trusted; the server's copy of a component is not. When what
// the server serves contradicts the index (a size other than the index's, a
// block list whose SHA-256 is not the index's, a block that fails its check,
// a file the server does not have), the core drops the bytes and fetches
// again after FETCH_RETRY_MS (assembly/relay.ts), forever: it cannot know
// that the server will never change its mind. The phone can: after
// SERVER_CONTRADICTIONS_MAX contradictions of one component it says so and
// gives up, with the old load still active.

import { TftpError } from "../tftp/client.js";
import { ServerContradictionError } from "./errors.js";

/** Contradictions of one component by the server before the phone gives up.
 *  One could be a file replaced while we read it; three in a row, about
 *  2 s apart (the core's retry), is a server that holds another file. */
export const SERVER_CONTRADICTIONS_MAX = 3;

/** The block index the core reports for the block list (docs/ABI.md, CORRUPT). */
const BLOCK_LIST_INDEX = 0xffffffff;

/** TFTP answers that mean the server holds no such file for us: 1 not
 *  found, 2 access violation. Timeouts and other errors are not counted: a
 *  server that is down may come back, and the stall limit covers that. */
const ABSENT_CODES: ReadonlySet<number> = new Set([1, 2]);

export class ServerWatch {
  private readonly counts = new Map<string, number>();
  /** Set once a component has contradicted the index too often. */
  failure: ServerContradictionError | null = null;

  constructor(
    private readonly indexFile: string,
    private readonly warn: (line: string) => void,
    private readonly limit = SERVER_CONTRADICTIONS_MAX,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the contradiction limit must be a whole number from 1 (got ${limit})`);
  }

  /** A server fetch of `component` (its `.blk` or the file) failed with `e`. */
  fetchFailed(component: string, e: unknown): void {
    if (!(e instanceof TftpError)) return;
    if (e.code === "size" || e.code === "limit") this.count(component, e.message);
    else if (typeof e.code === "number" && ABSENT_CODES.has(e.code)) this.count(component, `the server does not serve it: ${e.message}`);
  }

  /** The core found bytes from the server that fail their check (event
   *  CORRUPT with source 0). */
  corrupt(component: string, block: number): void {
    const what = block >>> 0 === BLOCK_LIST_INDEX ? "its block list's SHA-256 is not the index's" : `its block ${block} fails its SHA-256 from the block list`;
    this.count(component, what);
  }

  private count(component: string, what: string): void {
    if (this.failure !== null) return;
    const n = (this.counts.get(component) ?? 0) + 1;
    this.counts.set(component, n);
    this.warn(`the server's ${component} contradicts ${this.indexFile} (${n} of ${this.limit}): ${what}`);
    if (n < this.limit) return;
    this.failure = new ServerContradictionError(component, n,
      `the server's ${component} contradicted ${this.indexFile} ${n} times (last: ${what}): giving up (the old load stays active)`);
  }
}
