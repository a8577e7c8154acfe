// Small readers of an HTTP response for the load client (./client.ts): where
// a redirect points, and the validator a file is served under (RFC 9110
// §8.8: a strong ETag, else Last-Modified), so that If-Range can hold a
// resumed request to the same file.

/** A validator as If-Range takes it back. */
export interface Validator {
  kind: "etag" | "last-modified";
  value: string;
}

/** An ETag or date longer than this is no validator we keep (nginx's are
 *  about 20 characters; RFC 9110 sets no limit, so we set one). */
const MAX_VALIDATOR_CHARS = 200;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The absolute URL a redirect sends us to, or undefined for an answer that
 *  is no redirect. A redirect without a usable Location is answered as is
 *  (the status check then fails it). */
export function nextHop(from: string, res: Response): string | undefined {
  if (!REDIRECTS.has(res.status)) return undefined;
  const location = res.headers.get("location");
  if (location === null) return undefined;
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    return undefined;
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") return undefined;
  next.hash = "";
  return next.href;
}

/** The response's validator: a strong ETag (If-Range takes no weak one,
 *  RFC 9110 §13.1.5), else Last-Modified; undefined when it gives neither. */
export function validatorOf(headers: Headers): Validator | undefined {
  const etag = headers.get("etag")?.trim();
  if (etag !== undefined && etag !== "" && etag.length <= MAX_VALIDATOR_CHARS && !etag.startsWith("W/")) return { kind: "etag", value: etag };
  const modified = headers.get("last-modified")?.trim();
  if (modified !== undefined && modified !== "" && modified.length <= MAX_VALIDATOR_CHARS) return { kind: "last-modified", value: modified };
  return undefined;
}

/** Whether a later response names the same version of the file as the
 *  validator an earlier one gave: the same header, the same value. A
 *  response that no longer gives it is another version as far as we can
 *  tell: never spliced. */
export function sameVersion(known: Validator, headers: Headers): boolean {
  return headers.get(known.kind)?.trim() === known.value;
}
