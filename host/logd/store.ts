// logd's files: one append-only SEP<MAC>.log per phone holding each of its
// messages as received, one a line, and malformed.log holding every datagram
// that is not one of our reports, escaped so that it too is one line and
// loses no byte. Nothing is rewritten or dropped; a phone past the limit
// goes to malformed.log, counted.

import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { makeDirs } from "../make-dir.js";

/** Files one logd keeps: a site has hundreds of phones; the MAC space is
 *  2^48, and a hostile sender must not make us create files without end. */
export const MAX_PHONE_FILES = 20_000;
export const MALFORMED_FILE = "malformed.log";

/** A datagram as one line: printable ASCII but `\` as itself, every other
 *  byte (and `\`) as \xHH. unescapeRaw() gives the bytes back. */
export function escapeRaw(raw: Uint8Array): string {
  let s = "";
  for (const b of raw) s += b >= 0x20 && b <= 0x7e && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  return s;
}

export function unescapeRaw(line: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\" && line[i + 1] === "x" && /^[0-9a-f]{2}$/.test(line.slice(i + 2, i + 4))) {
      out.push(parseInt(line.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(line.charCodeAt(i));
  }
  return Buffer.from(out);
}

export class LogStore {
  private readonly phones = new Set<string>();
  /** Messages written to phone files, and datagrams to malformed.log. */
  stored = 0;
  malformed = 0;

  constructor(readonly dir: string) {
    makeDirs(dir);
  }

  /** A parsed message of phone `mac` (12 upper-case hex), as received. */
  append(mac: string, raw: Buffer): void {
    if (!/^[0-9A-F]{12}$/.test(mac)) throw new Error(`LogStore: MAC '${mac}' is not 12 upper-case hex digits`);
    if (!this.phones.has(mac) && this.phones.size >= MAX_PHONE_FILES) return this.appendMalformed(raw, `more than ${MAX_PHONE_FILES} phones`);
    // The parser refused control characters, so the message is one line as it is.
    if (raw.some((b) => b < 0x20 || b === 0x7f)) throw new Error("LogStore: a parsed message holds a control character");
    this.phones.add(mac);
    appendFileSync(join(this.dir, `SEP${mac}.log`), Buffer.concat([raw, Buffer.from("\n")]));
    this.stored++;
  }

  /** A datagram that is no report: `<reason> <from>` is the caller's note,
   *  kept on the line before the tab; the bytes follow escaped. */
  appendMalformed(raw: Buffer, note: string): void {
    appendFileSync(join(this.dir, MALFORMED_FILE), `${note.replace(/[^\x20-\x7e]|\t/g, "?")}\t${escapeRaw(raw)}\n`);
    this.malformed++;
  }

  phoneCount(): number {
    return this.phones.size;
  }
}
