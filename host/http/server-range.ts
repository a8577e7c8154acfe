// What `pfs httpd` answers to a Range header (RFC 9110 section 14): one
// byte range, `bytes=N-`, `bytes=N-M` or the suffix `bytes=-K`. A phone asks
// for one range only (the bytes nobody in its tree holds), so a request for
// several ranges is answered with the whole file (200), as the RFC lets a
// server ignore Range; so is a header we cannot parse. Only a range that
// starts at or beyond the end of the file is unsatisfiable (416).

/** The longest Range header read: a single range of two 2^53 numbers is
 *  about 40 characters; anything longer is not one we serve. */
export const RANGE_HEADER_MAX_CHARS = 200;
/** Digits of a byte position: 2^53 has 16; more cannot be a file offset. */
const POSITION_DIGITS_MAX = 16;

export type RangeAnswer =
  /** Send the whole file (no Range, or one we ignore). */
  | { kind: "whole"; why?: string }
  /** Send bytes first..last, inclusive (206). */
  | { kind: "part"; first: number; last: number }
  /** 416, with `Content-Range: bytes *\/size`. */
  | { kind: "unsatisfiable" };

const POSITION = new RegExp(`^\\d{1,${POSITION_DIGITS_MAX}}$`);

function position(text: string): number | undefined {
  const t = text.trim();
  if (!POSITION.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The answer to `header` (undefined: no Range) for a file of `sizeBytes`. */
export function answerRange(header: string | undefined, sizeBytes: number): RangeAnswer {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`file size ${sizeBytes}`);
  if (header === undefined) return { kind: "whole" };
  if (header.length > RANGE_HEADER_MAX_CHARS) return { kind: "whole", why: "Range header too long" };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (m === null) return { kind: "whole", why: "not a bytes range" };
  const specs = m[1].split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (specs.length !== 1) return { kind: "whole", why: specs.length === 0 ? "empty range set" : "several ranges: the whole file instead" };
  const spec = specs[0];
  const dash = spec.indexOf("-");
  if (dash < 0) return { kind: "whole", why: "range without '-'" };
  const firstText = spec.slice(0, dash);
  const lastText = spec.slice(dash + 1);
  if (firstText.trim() === "") {
    // A suffix: the last K bytes (all of them when K >= size).
    const k = position(lastText);
    if (k === undefined) return { kind: "whole", why: "bad suffix length" };
    if (k === 0 || sizeBytes === 0) return { kind: "unsatisfiable" };
    return part(Math.max(0, sizeBytes - k), sizeBytes - 1, sizeBytes);
  }
  const first = position(firstText);
  if (first === undefined) return { kind: "whole", why: "bad first position" };
  let last = sizeBytes - 1;
  if (lastText.trim() !== "") {
    const l = position(lastText);
    // last < first is an invalid range-spec (RFC 9110 14.1.1): ignored.
    if (l === undefined || l < first) return { kind: "whole", why: "bad last position" };
    last = Math.min(l, sizeBytes - 1);
  }
  if (first >= sizeBytes) return { kind: "unsatisfiable" };
  return part(first, last, sizeBytes);
}

function part(first: number, last: number, sizeBytes: number): RangeAnswer {
  if (!(first >= 0 && first <= last && last < sizeBytes)) throw new Error(`range ${first}-${last} of ${sizeBytes}: our own arithmetic is wrong`);
  return { kind: "part", first, last };
}
