// The decoder of a 206's `Content-Range: bytes FIRST-LAST/TOTAL` (RFC 9110
// §14.4): each number bounded before it is trusted. An unknown total ("*")
// is refused: the phone must hold the server to the index's size.

/** The largest byte offset we take from a server: 2^53 - 1, where a JS
 *  number stops being exact. A load file is far below (the core's own
 *  limit is u32, assembly/limits.ts). */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
/** Digits of MAX_OFFSET: longer numbers are refused before they are read. */
const MAX_DIGITS = 16;

export interface ContentRange {
  first: number;
  last: number;
  total: number;
}

/** The range a header names, or a string saying why it names none. */
export function parseContentRange(header: string | null): ContentRange | string {
  if (header === null) return "no Content-Range";
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(header);
  if (m === null) return `Content-Range '${header.slice(0, 60)}' is not 'bytes FIRST-LAST/TOTAL'`;
  if (m.slice(1).some((d) => d.length > MAX_DIGITS)) return `Content-Range '${header.slice(0, 60)}' has a number over ${MAX_DIGITS} digits`;
  const [first, last, total] = m.slice(1).map(Number);
  if (total > MAX_OFFSET || last >= total || first > last) return `Content-Range '${header.slice(0, 60)}' is not a range within the file`;
  return { first, last, total };
}

/** A Content-Length header as a number, undefined when absent, or a string
 *  saying why it is no length. */
export function parseContentLength(header: string | null): number | undefined | string {
  if (header === null) return undefined;
  const t = header.trim();
  if (!/^\d{1,16}$/.test(t) || Number(t) > MAX_OFFSET) return `Content-Length '${header.slice(0, 40)}' is not a length`;
  return Number(t);
}
