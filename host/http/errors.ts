// What can go wrong fetching a file over HTTP, as kinds a caller can act on
// (the phone falls back to TFTP on any of them but "aborted"), never as the
// words of a message. docs/LOADS.md ("Loads over HTTP") lists them.

/** Every way an HTTP fetch of a load file fails. */
export const HTTP_ERROR_KINDS = [
  "refused", //       nobody listens there (ECONNREFUSED)
  "network", //       the connection failed otherwise (reset, unreachable, DNS)
  "not-found", //     404 or 410
  "status", //        another status that is neither success nor redirect (403, 416, ...)
  "server-error", //  5xx
  "short-body", //    the body ended before its promised length
  "long-body", //     the body went on past its promised length (cut there)
  "bad-range", //     a 206 whose Content-Range is not the range asked, a size not the index's
  "changed", //       the validator (ETag, Last-Modified) changed within one fetch
  "redirect-loop", // a redirect back to a URL already visited, or too many
  "timeout", //       no connection, no headers or no body byte for too long
  "aborted", //       the caller gave up (its signal): not the server's fault
] as const;

export type HttpErrorKind = (typeof HTTP_ERROR_KINDS)[number];

export class HttpFetchError extends Error {
  override name = "HttpFetchError";
  constructor(readonly kind: HttpErrorKind, message: string, readonly status?: number, options?: ErrorOptions) {
    super(message, options);
  }
}
