// What can stop a phone's boot, as types: the CLI prints any of them as one
// line and exits non-zero, and tests tell them apart by class, never by the
// words of a message. Each wraps the error underneath (`cause`) so nothing is
// lost; the line says what failed and that the old load stays active where
// that is so.

import { ConfigError } from "../load/config.js";
import { LoadsError } from "../load/loads.js";
import { TftpError } from "../tftp/client.js";

/** Anything that ends a phone's boot; `message` is the one line to print. */
export class PhoneError extends Error {
  override name = "PhoneError";
}

/** A file from the phone's own server could not be fetched or read: its
 *  configuration or the load's index (TFTP failure, over its size limit,
 *  malformed, unsafe). */
export class ServerFileError extends PhoneError {
  override name = "ServerFileError";
  constructor(readonly file: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The index parses but names a load this phone cannot take (a component
 *  of size 0 or larger than a flash slot or the core's file limit, sizes or
 *  hashes missing, a signature that does not verify). Nothing is written. */
export class IndexRefusedError extends PhoneError {
  override name = "IndexRefusedError";
}

/** The server's copy of a component contradicts the index (its size, its
 *  block list's hash, a block's hash), again and again: the index is
 *  trusted, so the server's file is wrong and the phone gives up. */
export class ServerContradictionError extends PhoneError {
  override name = "ServerContradictionError";
  constructor(readonly component: string, readonly attempts: number, message: string) {
    super(message);
  }
}

/** The phone's flash image cannot be opened, read or written (whatever the
 *  flash layer threw, host/flash/errors.ts, is its cause). */
export class FlashImageError extends PhoneError {
  override name = "FlashImageError";
}

/** The phone's sockets: its address or port cannot be bound. */
export class SocketError extends PhoneError {
  override name = "SocketError";
}

/** The board named for the phone is unknown or its figures unusable. */
export class BoardError extends PhoneError {
  override name = "BoardError";
}

/** No byte moved for the stall limit. */
export class StallError extends PhoneError {
  override name = "StallError";
}

/** The core trapped or refused what the host gave it: a bug, said in one
 *  line like the rest. */
export class CoreFailure extends PhoneError {
  override name = "CoreFailure";
}

const detail = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A failure to fetch or read one of the server's files, as a ServerFileError
 *  whose line names the file and what went wrong. Errors of other kinds are
 *  bugs and are passed through unchanged. */
export function serverFileError(file: string, e: unknown): unknown {
  if (e instanceof PhoneError) return e;
  if (e instanceof TftpError) {
    const what = e.code === "limit" ? "too large" : e.code === 1 ? "not found" : "could not be fetched";
    return new ServerFileError(file, `${file} from the server ${what}: ${e.message}`, { cause: e });
  }
  if (e instanceof ConfigError || e instanceof LoadsError) {
    // Their messages may name the file already ("x.cnf.xml: ...", ".loads: ...").
    const inner = e.message.replace(/^\.loads: /, "").replace(`${file}: `, "");
    return new ServerFileError(file, `${file} from the server cannot be used: ${inner}`, { cause: e });
  }
  return e;
}

/** An error from the flash layer as a FlashImageError naming the image and
 *  the step. */
export function flashError(path: string, what: string, e: unknown): PhoneError {
  if (e instanceof PhoneError) return e;
  return new FlashImageError(`flash image ${path}: ${what}: ${detail(e).replace(/^flash: /, "")}`, { cause: e });
}

/** One line for any failure: a PhoneError's own message; anything else is a
 *  bug of ours, named with its type and the first place in our code it
 *  came from, so a report of that one line is enough to find it. */
export function failureLine(e: unknown): string {
  // A message that runs over lines still prints as one.
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ");
  if (e instanceof PhoneError) return oneLine(e.message);
  if (e instanceof TftpError || e instanceof ConfigError || e instanceof LoadsError) return oneLine(e.message);
  if (!(e instanceof Error)) return `internal error: ${oneLine(String(e))}`;
  const where = /\(?(file:\/\/[^\s)]*?([^/\s)]+:\d+):\d+)\)?/.exec(e.stack?.split("\n").slice(1).join("\n") ?? "")?.[2];
  return `internal error (a bug, please report this line): ${e.name}: ${oneLine(e.message)}${where === undefined ? "" : ` at ${where}`}`;
}

/** Runs one flash step; whatever it throws becomes a FlashImageError. */
export function flashStep<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw flashError(path, what, e);
  }
}
