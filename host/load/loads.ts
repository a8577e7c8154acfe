// The `.loads` index a phone fetches first: a signed-file header of
// tag-length-value records, then CRLF text naming the component files
// (FACTS.md). Our own indexes add each component's size, SHA-256 and
// block-list SHA-256 on its line, and may carry an Ed25519 signature so that
// the index itself could come from anywhere. The layout, what is signed and
// why are in docs/LOADS.md.
//
// The parser never trusts a length: every record is bounds-checked against
// the file and against the header length (tag 2), and every failure is a
// LoadsError that says what is wrong and at which byte.

import { createHash, createPublicKey, KeyObject, sign, verify } from "node:crypto";

/** Header record tags (FACTS.md). Tag 9 is not among them: like any other
 *  unknown tag it is kept as it is. */
export const TAG = {
  version: 1,
  headerBytes: 2,
  signerId: 3,
  signerName: 4,
  serial: 5,
  caName: 6,
  signatureInfo: 7,
  digestAlgorithm: 8,
  signatureAlgorithm: 10,
  modulus: 11,
  signature: 12,
  padding: 13,
  fileName: 14,
  timestamp: 15,
} as const;

const TAG_NAMES: Record<number, string> = {
  1: "version",
  2: "header length",
  3: "signer id",
  4: "signer name",
  5: "serial",
  6: "CA name",
  7: "signature info",
  8: "digest algorithm",
  10: "signature algorithm",
  11: "modulus",
  12: "signature",
  13: "padding",
  14: "file name",
  15: "timestamp",
};

export const DIGEST_SHA1 = 1;
export const DIGEST_SHA256 = 2;
/** Our value of tag 10 for Ed25519 (RFC 8032). Chosen by this project. */
export const SIG_ED25519 = 0xed;
export const ED25519_SIGNATURE_BYTES = 64;
/** Bytes of a key id: the start of the SHA-256 of the raw 32-byte public key.
 *  A signed index carries it as its serial (tag 5). */
export const KEY_ID_BYTES = 8;
/** Prepended to what is signed, so that a signature over an index can never
 *  pass for a signature over anything else made with the same key. */
export const SIGNING_CONTEXT = "PFS .loads Ed25519 v1\0";

/** A real index is 652 bytes (FACTS.md); anything near this is not one. */
export const MAX_LOADS_BYTES = 65_536;
export const MAX_COMPONENTS = 64;
export const MAX_NAME_CHARS = 255;
export const HASH_BYTES = 32;
/** A component size is at most this many decimal digits (< 2^53). */
const MAX_SIZE_DIGITS = 15;
const RECORD_HEAD_BYTES = 3;
const MAX_RECORD_VALUE_BYTES = 0xffff;

/** File names we accept in an index: no path, no leading dot, nothing a TFTP
 *  server or a file system would read as anything but one name. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** The one rule for a load or component name (a load's name is its index's
 *  file name without .loads): a plain file name of 1 to MAX_NAME_CHARS. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_CHARS && NAME_RE.test(name);
}

/** What isPlainName accepts, in words, for error messages. */
export const PLAIN_NAME_RULE = `letters, digits, '.', '_', '+', '-', starting with a letter or digit, at most ${MAX_NAME_CHARS}`;

export class LoadsError extends Error {
  /** Byte offset in the file where the problem is, when there is one. */
  readonly offset?: number;
  constructor(message: string, offset?: number) {
    super(offset === undefined ? `.loads: ${message}` : `.loads: at byte ${offset}: ${message}`);
    this.name = "LoadsError";
    if (offset !== undefined) this.offset = offset;
  }
}

export interface LoadsRecord {
  tag: number;
  value: Uint8Array;
}

export interface LoadsHeader {
  version: { major: number; minor: number };
  /** The header's length in bytes, as tag 2 says (and the records agree). */
  headerBytes: number;
  signerId?: number;
  signerName?: string;
  serial?: Uint8Array;
  caName?: string;
  signatureInfo?: Uint8Array;
  digestAlgorithm?: number;
  signatureAlgorithm?: number;
  modulus?: Uint8Array;
  signature?: Uint8Array;
  paddingBytes?: number;
  fileName?: string;
  timestamp?: Date;
  /** Records with tags this parser does not know, in file order. */
  unknown: LoadsRecord[];
}

export interface LoadComponent {
  name: string;
  sizeBytes?: number;
  sha256?: Uint8Array;
  listSha256?: Uint8Array;
}

export interface LoadIndex {
  /** The file name without `.loads`: what `<loadInformation>` names. */
  loadName: string;
  header: LoadsHeader;
  /** The text of each `#` line, without the `#`, in order. */
  comments: string[];
  components: LoadComponent[];
  /** The header carries a signature (tag 12), whatever its algorithm. */
  signed: boolean;
}

/** What `writeLoads` takes: a LoadIndex, or only the parts it needs. Tags 2,
 *  10, 11 and 12 are always derived, never copied from `header`. */
export interface LoadIndexInput {
  loadName: string;
  components: LoadComponent[];
  header?: Partial<LoadsHeader>;
  comments?: string[];
  signed?: boolean;
}

export interface WriteLoadsOptions {
  /** An Ed25519 private key: the index is signed with it. */
  signingKey?: KeyObject;
  signerName?: string;
  /** Stored to the second. Default: the header's, else now. */
  timestamp?: Date;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const copy = (b: Uint8Array) => new Uint8Array(b);
const tagName = (tag: number) => `tag ${tag}${TAG_NAMES[tag] ? ` (${TAG_NAMES[tag]})` : ""}`;

/** Parses an index. `fileName` is used only when the header has no file-name
 *  record (tag 14). Throws LoadsError, with what is wrong and where. */
export function parseLoads(bytes: Uint8Array, fileName?: string): LoadIndex {
  return parseDetailed(bytes, fileName).index;
}

interface Parsed {
  index: LoadIndex;
  /** Where the signature's value starts, when there is one. */
  signatureAt?: number;
}

function parseDetailed(bytes: Uint8Array, fileName?: string): Parsed {
  if (!(bytes instanceof Uint8Array)) throw new LoadsError(`expected the file's bytes (a Uint8Array), got ${typeof bytes}`);
  if (bytes.length === 0) throw new LoadsError("the file is empty; an index starts with a header whose first record is the version (tag 1)");
  if (bytes.length > MAX_LOADS_BYTES) {
    throw new LoadsError(`the file is ${bytes.length} bytes; an index is a few hundred (this parser stops at ${MAX_LOADS_BYTES})`);
  }
  const { header, signatureAt } = parseHeader(bytes);
  let name = header.fileName;
  if (name === undefined) {
    if (fileName === undefined) throw new LoadsError("the header has no file-name record (tag 14) and no file name was given");
    name = fileName.replace(/^.*[\\/]/, "");
    checkName(name, "the given file name", undefined);
  }
  const loadName = name.replace(/\.loads$/i, "");
  if (loadName.length === 0) throw new LoadsError(`file name '${name}' has nothing before '.loads'`);
  const { comments, components } = parseText(bytes, header.headerBytes);
  const index: LoadIndex = { loadName, header, comments, components, signed: header.signature !== undefined };
  return signatureAt === undefined ? { index } : { index, signatureAt };
}

function parseHeader(bytes: Uint8Array): { header: LoadsHeader; signatureAt?: number } {
  let headerBytes = -1;
  let pos = 0;
  const records: Array<{ tag: number; at: number; value: Uint8Array }> = [];
  while (headerBytes < 0 || pos < headerBytes) {
    const limit = headerBytes < 0 ? bytes.length : headerBytes;
    if (pos === 0 && bytes[0] !== TAG.version) {
      throw new LoadsError(`found tag ${bytes[0]} where a signed-file header starts with the version record (tag 1): this is not a .loads header`, 0);
    }
    if (pos + RECORD_HEAD_BYTES > limit) {
      if (headerBytes < 0) {
        throw new LoadsError(`the file ends inside a record's tag and length (${limit - pos} of 3 bytes); it is cut short`, pos);
      }
      throw new LoadsError(
        `the header length (tag 2) says the header ends at byte ${headerBytes}, but the records stop ${headerBytes - pos} byte(s) short of it: ` +
          `the header length disagrees with the records`, pos);
    }
    const tag = bytes[pos];
    const len = (bytes[pos + 1] << 8) | bytes[pos + 2];
    const at = pos;
    const valueAt = pos + RECORD_HEAD_BYTES;
    if (valueAt + len > limit) {
      if (headerBytes < 0) {
        throw new LoadsError(`${tagName(tag)} claims ${len} bytes but only ${bytes.length - valueAt} remain in the file`, at);
      }
      throw new LoadsError(
        `${tagName(tag)} of ${len} bytes runs to byte ${valueAt + len}, past the end of the header at byte ${headerBytes} ` +
          `that tag 2 gives: the header length disagrees with the records`, at);
    }
    if (records.length === 1) {
      if (tag !== TAG.headerBytes) throw new LoadsError(`found ${tagName(tag)} where the header-length record (tag 2) must follow the version`, at);
      if (len !== 2) throw new LoadsError(`the header length (tag 2) must be 2 bytes, not ${len}`, at);
      headerBytes = (bytes[valueAt] << 8) | bytes[valueAt + 1];
      if (headerBytes < valueAt + 2) {
        throw new LoadsError(`the header length (tag 2) is ${headerBytes}, shorter than its own first two records (${valueAt + 2} bytes)`, valueAt);
      }
      if (headerBytes > bytes.length) {
        throw new LoadsError(`the header length (tag 2) is ${headerBytes} but the file is only ${bytes.length} bytes: it is cut short`, valueAt);
      }
    }
    records.push({ tag, at, value: bytes.subarray(valueAt, valueAt + len) });
    pos = valueAt + len;
  }

  const header: LoadsHeader = { version: { major: 0, minor: 0 }, headerBytes, unknown: [] };
  const seen = new Map<number, number>();
  let signatureAt: number | undefined;
  for (const r of records) {
    const known = TAG_NAMES[r.tag] !== undefined;
    if (!known) {
      header.unknown.push({ tag: r.tag, value: copy(r.value) });
      continue;
    }
    const before = seen.get(r.tag);
    if (before !== undefined) throw new LoadsError(`${tagName(r.tag)} appears twice (first at byte ${before})`, r.at);
    seen.set(r.tag, r.at);
    const v = r.value;
    switch (r.tag) {
      case TAG.version:
        if (v.length !== 2) throw new LoadsError(`the version (tag 1) must be 2 bytes (major, minor), not ${v.length}`, r.at);
        header.version = { major: v[0], minor: v[1] };
        break;
      case TAG.headerBytes:
        break;
      case TAG.signerId:
        header.signerId = uint(r);
        break;
      case TAG.digestAlgorithm:
        header.digestAlgorithm = uint(r);
        break;
      case TAG.signatureAlgorithm:
        header.signatureAlgorithm = uint(r);
        break;
      case TAG.signerName:
        header.signerName = text(r);
        break;
      case TAG.caName:
        header.caName = text(r);
        break;
      case TAG.fileName: {
        const name = text(r);
        checkName(name, "the file name (tag 14)", r.at);
        header.fileName = name;
        break;
      }
      case TAG.serial:
        header.serial = copy(v);
        break;
      case TAG.signatureInfo:
        header.signatureInfo = copy(v);
        break;
      case TAG.modulus:
        header.modulus = copy(v);
        break;
      case TAG.signature:
        if (v.length === 0) throw new LoadsError("the signature (tag 12) is empty", r.at);
        header.signature = copy(v);
        signatureAt = r.at + RECORD_HEAD_BYTES;
        break;
      case TAG.padding:
        header.paddingBytes = v.length;
        break;
      case TAG.timestamp:
        if (v.length !== 4) throw new LoadsError(`the timestamp (tag 15) must be 4 bytes (seconds since 1970), not ${v.length}`, r.at);
        header.timestamp = new Date((((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0) * 1000);
        break;
    }
  }
  if (header.signatureAlgorithm === SIG_ED25519) {
    if (header.signature === undefined) throw new LoadsError("the signature algorithm (tag 10) is Ed25519 but there is no signature (tag 12)", seen.get(TAG.signatureAlgorithm));
    if (header.signature.length !== ED25519_SIGNATURE_BYTES) {
      throw new LoadsError(`an Ed25519 signature (tag 12) is ${ED25519_SIGNATURE_BYTES} bytes, not ${header.signature.length}`, seen.get(TAG.signature));
    }
  }
  return signatureAt === undefined ? { header } : { header, signatureAt };
}

function uint(r: { tag: number; at: number; value: Uint8Array }): number {
  const v = r.value;
  if (v.length < 1 || v.length > 4) throw new LoadsError(`${tagName(r.tag)} must be a number of 1 to 4 bytes, not ${v.length}`, r.at);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** A text record: printable ASCII; trailing NULs (C-string padding) dropped. */
function text(r: { tag: number; at: number; value: Uint8Array }): string {
  let end = r.value.length;
  while (end > 0 && r.value[end - 1] === 0) end--;
  let s = "";
  for (let i = 0; i < end; i++) {
    const b = r.value[i];
    if (b < 0x20 || b > 0x7e) {
      throw new LoadsError(`${tagName(r.tag)} holds byte 0x${b.toString(16).padStart(2, "0")} at byte ${r.at + RECORD_HEAD_BYTES + i}; text records are printable ASCII`, r.at);
    }
    s += String.fromCharCode(b);
  }
  return s;
}

function checkName(name: string, what: string, offset: number | undefined): void {
  if (!isPlainName(name)) {
    throw new LoadsError(`${what} '${name.slice(0, 80)}' is not a plain file name (${PLAIN_NAME_RULE})`, offset);
  }
}

function parseText(bytes: Uint8Array, start: number): { comments: string[]; components: LoadComponent[] } {
  const comments: string[] = [];
  const components: LoadComponent[] = [];
  const names = new Map<string, number>();
  let lineNo = 0;
  let lineAt = start;
  for (let i = start; i <= bytes.length; i++) {
    const atEnd = i === bytes.length;
    const b = atEnd ? 0x0a : bytes[i];
    if (b === 0x0d) {
      if (i + 1 < bytes.length && bytes[i + 1] !== 0x0a) throw new LoadsError(`a carriage return not followed by a line feed (lines end in CRLF)`, i);
      continue;
    }
    if (b !== 0x0a) {
      if ((b < 0x20 && b !== 0x09) || b > 0x7e) {
        throw new LoadsError(`byte 0x${b.toString(16).padStart(2, "0")} in the text (line ${lineNo + 1}); the text after the header is printable ASCII`, i);
      }
      continue;
    }
    lineNo++;
    let line = "";
    for (let k = lineAt; k < i; k++) if (bytes[k] !== 0x0d) line += String.fromCharCode(bytes[k]);
    const at = lineAt;
    lineAt = i + 1;
    const trimmed = line.trim();
    if (trimmed.length === 0) continue;
    if (trimmed.startsWith("#")) {
      comments.push(line.trimStart().slice(1));
      continue;
    }
    components.push(parseComponentLine(trimmed, lineNo, at, names));
  }
  if (components.length === 0) throw new LoadsError(`the text after the header names no component file`, start);
  return { comments, components };
}

function parseComponentLine(line: string, lineNo: number, at: number, names: Map<string, number>): LoadComponent {
  const where = `line ${lineNo}`;
  const fields = line.split(/[ \t]+/);
  if (fields.length !== 1 && fields.length !== 4) {
    throw new LoadsError(
      `${where} has ${fields.length} fields; a component line is a file name, optionally followed by its size, SHA-256 and block-list SHA-256 (4 fields)`, at);
  }
  const name = fields[0];
  checkName(name, `${where}: the component name`, at);
  const first = names.get(name);
  if (first !== undefined) throw new LoadsError(`${where} names '${name}' again (first on line ${first})`, at);
  if (names.size >= MAX_COMPONENTS) throw new LoadsError(`more than ${MAX_COMPONENTS} components`, at);
  names.set(name, lineNo);
  if (fields.length === 1) return { name };
  const [, size, sha, list] = fields;
  if (!/^\d+$/.test(size) || size.length > MAX_SIZE_DIGITS) {
    throw new LoadsError(`${where}: the size of '${name}' must be a whole number of bytes (at most ${MAX_SIZE_DIGITS} digits), got '${size.slice(0, 20)}'`, at);
  }
  const hash = (h: string, what: string): Uint8Array => {
    if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new LoadsError(`${where}: the ${what} of '${name}' must be 64 hex digits, got '${h.slice(0, 70)}'`, at);
    return new Uint8Array(Buffer.from(h, "hex"));
  };
  return { name, sizeBytes: Number(size), sha256: hash(sha, "SHA-256"), listSha256: hash(list, "block-list SHA-256") };
}

// ---------------------------------------------------------------- writing

/** Writes an index: header records in tag order (version and header length
 *  first), then `#` comments and one line per component, CRLF. Signed when
 *  `opts.signingKey` is given. Throws LoadsError for anything it cannot write
 *  so that `parseLoads` would read it back the same. */
export function writeLoads(index: LoadIndexInput, opts: WriteLoadsOptions = {}): Uint8Array {
  const h = index.header ?? {};
  checkName(index.loadName, "the load name", undefined);
  const fileName = `${index.loadName}.loads`;
  checkName(fileName, "the index's file name", undefined);
  if (h.fileName !== undefined && h.fileName !== fileName) {
    throw new LoadsError(`the header's file name '${h.fileName}' is not the load name plus '.loads' ('${fileName}')`);
  }
  const key = opts.signingKey;
  if (index.signed === true && key === undefined) {
    throw new LoadsError("the index is marked signed but no signing key was given: pass signingKey, or set signed: false to write it unsigned");
  }
  if (key !== undefined && (key.type !== "private" || key.asymmetricKeyType !== "ed25519")) {
    throw new LoadsError(`the signing key must be an Ed25519 private key, not ${key.type} ${key.asymmetricKeyType ?? "(symmetric)"}`);
  }

  const records: LoadsRecord[] = [];
  const add = (tag: number, value: Uint8Array) => {
    if (value.length > MAX_RECORD_VALUE_BYTES) throw new LoadsError(`${tagName(tag)} is ${value.length} bytes; a record holds at most ${MAX_RECORD_VALUE_BYTES}`);
    records.push({ tag, value });
  };
  const version = h.version ?? { major: 1, minor: 0 };
  add(TAG.version, Uint8Array.of(byte(version.major, "version major"), byte(version.minor, "version minor")));
  if (h.signerId !== undefined) add(TAG.signerId, be(h.signerId, 2, "signer id"));
  const signerName = opts.signerName ?? h.signerName;
  if (signerName !== undefined) add(TAG.signerName, ascii(signerName, "signer name"));
  const serial = key !== undefined ? loadsKeyId(key) : h.serial;
  if (serial !== undefined) add(TAG.serial, copy(serial));
  if (h.caName !== undefined) add(TAG.caName, ascii(h.caName, "CA name"));
  if (h.signatureInfo !== undefined) add(TAG.signatureInfo, copy(h.signatureInfo));
  add(TAG.digestAlgorithm, be(h.digestAlgorithm ?? DIGEST_SHA256, 1, "digest algorithm"));
  if (key !== undefined) {
    add(TAG.signatureAlgorithm, Uint8Array.of(SIG_ED25519));
    add(TAG.signature, new Uint8Array(ED25519_SIGNATURE_BYTES));
  }
  if (h.paddingBytes !== undefined) {
    if (!Number.isInteger(h.paddingBytes) || h.paddingBytes < 0 || h.paddingBytes > MAX_RECORD_VALUE_BYTES) {
      throw new LoadsError(`padding must be a whole number of bytes from 0 to ${MAX_RECORD_VALUE_BYTES}, not ${h.paddingBytes}`);
    }
    add(TAG.padding, new Uint8Array(h.paddingBytes));
  }
  add(TAG.fileName, ascii(fileName, "file name"));
  const when = opts.timestamp ?? h.timestamp ?? new Date();
  const seconds = Math.floor(when.getTime() / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 0xffffffff) throw new LoadsError(`the timestamp ${when.toString()} does not fit 4 bytes of seconds since 1970`);
  add(TAG.timestamp, be(seconds, 4, "timestamp"));
  for (const u of h.unknown ?? []) {
    if (TAG_NAMES[u.tag] !== undefined) throw new LoadsError(`an unknown record has tag ${u.tag}, which is ${tagName(u.tag)}: set that field instead`);
    add(byte(u.tag, "unknown tag"), copy(u.value));
  }
  // Version and header length first, as a reader expects; the rest by tag.
  const order = (tag: number) => (tag === TAG.version ? -2 : tag);
  records.sort((a, b) => order(a.tag) - order(b.tag));
  records.splice(1, 0, { tag: TAG.headerBytes, value: new Uint8Array(2) });

  const headerBytes = records.reduce((sum, r) => sum + RECORD_HEAD_BYTES + r.value.length, 0);
  if (headerBytes > 0xffff) throw new LoadsError(`the header would be ${headerBytes} bytes; tag 2 holds at most 65535`);
  records[1].value = Uint8Array.of(headerBytes >> 8, headerBytes & 0xff);

  let body = "";
  for (const c of index.comments ?? []) {
    if (/[^\x20-\x7e\t]/.test(c)) throw new LoadsError(`comment '${c.slice(0, 40)}' holds a character that is not printable ASCII (or a line break)`);
    body += `#${c}\r\n`;
  }
  if (index.components.length === 0) throw new LoadsError("a load needs at least one component");
  if (index.components.length > MAX_COMPONENTS) throw new LoadsError(`${index.components.length} components; at most ${MAX_COMPONENTS}`);
  const names = new Set<string>();
  for (const c of index.components) {
    checkName(c.name, "component name", undefined);
    if (names.has(c.name)) throw new LoadsError(`component '${c.name}' is listed twice`);
    names.add(c.name);
    body += componentLine(c) + "\r\n";
  }

  const total = headerBytes + body.length;
  if (total > MAX_LOADS_BYTES) throw new LoadsError(`the index would be ${total} bytes; at most ${MAX_LOADS_BYTES}`);
  const out = new Uint8Array(total);
  let pos = 0;
  let signatureAt = -1;
  for (const r of records) {
    out[pos] = r.tag;
    out[pos + 1] = r.value.length >> 8;
    out[pos + 2] = r.value.length & 0xff;
    if (r.tag === TAG.signature) signatureAt = pos + RECORD_HEAD_BYTES;
    out.set(r.value, pos + RECORD_HEAD_BYTES);
    pos += RECORD_HEAD_BYTES + r.value.length;
  }
  for (let i = 0; i < body.length; i++) out[pos + i] = body.charCodeAt(i);
  if (key !== undefined) {
    const signature = sign(null, signedMessage(out, signatureAt, ED25519_SIGNATURE_BYTES), key);
    out.set(signature, signatureAt);
  }
  return out;
}

function componentLine(c: LoadComponent): string {
  const has = [c.sizeBytes !== undefined, c.sha256 !== undefined, c.listSha256 !== undefined];
  if (has.every((x) => !x)) return c.name;
  if (!has.every((x) => x)) throw new LoadsError(`component '${c.name}' has some of size, SHA-256 and block-list SHA-256 but not all three`);
  const size = c.sizeBytes!;
  if (!Number.isSafeInteger(size) || size < 0 || String(size).length > MAX_SIZE_DIGITS) {
    throw new LoadsError(`component '${c.name}' has size ${size}; a size is a whole number of bytes below 10^${MAX_SIZE_DIGITS}`);
  }
  for (const [h, what] of [[c.sha256!, "SHA-256"], [c.listSha256!, "block-list SHA-256"]] as const) {
    if (h.length !== HASH_BYTES) throw new LoadsError(`component '${c.name}': its ${what} is ${h.length} bytes, not ${HASH_BYTES}`);
  }
  return `${c.name} ${size} ${hex(c.sha256!)} ${hex(c.listSha256!)}`;
}

function byte(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new LoadsError(`${what} must be a whole number from 0 to 255, not ${n}`);
  return n;
}

function be(n: number, width: number, what: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** (8 * width)) throw new LoadsError(`${what} must be a whole number that fits ${width} byte(s), not ${n}`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = n % 256;
    n = Math.floor(n / 256);
  }
  return out;
}

function ascii(s: string, what: string): Uint8Array {
  if (/[^\x20-\x7e]/.test(s)) throw new LoadsError(`the ${what} '${s.slice(0, 40)}' holds a character that is not printable ASCII`);
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

// ---------------------------------------------------------------- signing

/** What an Ed25519 signature covers: SIGNING_CONTEXT, then the whole file
 *  with the signature's value (the 64 bytes after tag 12's length) zeroed.
 *  Every other byte, the algorithm and key id included, is covered. */
function signedMessage(file: Uint8Array, signatureAt: number, signatureBytes: number): Uint8Array {
  const context = Buffer.from(SIGNING_CONTEXT, "latin1");
  const msg = new Uint8Array(context.length + file.length);
  msg.set(context, 0);
  msg.set(file, context.length);
  msg.fill(0, context.length + signatureAt, context.length + signatureAt + signatureBytes);
  return msg;
}

/** A key's id as a signed index carries it (tag 5): the first KEY_ID_BYTES
 *  of the SHA-256 of the raw 32-byte Ed25519 public key. */
export function loadsKeyId(key: KeyObject): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const jwk = pub.export({ format: "jwk" });
  if (pub.asymmetricKeyType !== "ed25519" || typeof jwk.x !== "string") throw new LoadsError(`not an Ed25519 key (${pub.asymmetricKeyType})`);
  const raw = Buffer.from(jwk.x, "base64url");
  return new Uint8Array(createHash("sha256").update(raw).digest().subarray(0, KEY_ID_BYTES));
}

/** An Ed25519 public key from what a configuration holds: a KeyObject (a
 *  private one gives its public half), a PEM string, or the raw 32 bytes. */
export function loadsPublicKey(key: KeyObject | string | Uint8Array): KeyObject {
  let k: KeyObject;
  try {
    if (key instanceof KeyObject) k = key.type === "private" ? createPublicKey(key) : key;
    else if (typeof key === "string") k = createPublicKey(key);
    else {
      if (key.length !== 32) throw new Error(`a raw Ed25519 public key is 32 bytes, not ${key.length}`);
      k = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(key).toString("base64url") }, format: "jwk" });
    }
  } catch (e) {
    throw new LoadsError(`the configured public key cannot be read: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== "ed25519") throw new LoadsError(`the configured public key is ${k.asymmetricKeyType}, not Ed25519`);
  return k;
}

export type LoadsCheck = { ok: true; index: LoadIndex } | { ok: false; reason: string };

/** Checks an index's Ed25519 signature against a configured key. Never
 *  throws for the file's sake: a file that does not parse, is unsigned,
 *  signed otherwise or with another key gives ok: false and the reason.
 *  Throws LoadsError only when the key itself is unusable. */
export function checkLoadsSignature(bytes: Uint8Array, publicKey: KeyObject | string | Uint8Array): LoadsCheck {
  const key = loadsPublicKey(publicKey);
  let parsed: Parsed;
  try {
    parsed = parseDetailed(bytes, "unnamed.loads");
  } catch (e) {
    if (e instanceof LoadsError) return { ok: false, reason: e.message };
    throw e;
  }
  const { index, signatureAt } = parsed;
  const h = index.header;
  if (h.signature === undefined || signatureAt === undefined) return { ok: false, reason: "the index is not signed" };
  if (h.signatureAlgorithm !== SIG_ED25519) {
    return { ok: false, reason: `the index is signed with algorithm ${h.signatureAlgorithm ?? "(none given)"}, not Ed25519 (tag 10 = ${SIG_ED25519}); only Ed25519 can be checked` };
  }
  const good = verify(null, signedMessage(bytes, signatureAt, h.signature.length), key, h.signature);
  if (good) return { ok: true, index };
  const want = hex(loadsKeyId(key));
  const has = h.serial === undefined ? "no key id" : `key id ${hex(h.serial)}`;
  return { ok: false, reason: `the Ed25519 signature does not match (the index names ${has}; the configured key is ${want})` };
}

/** True only when the index parses and its Ed25519 signature verifies with
 *  the configured key. */
export function verifyLoads(bytes: Uint8Array, publicKey: KeyObject | string | Uint8Array): boolean {
  return checkLoadsSignature(bytes, publicKey).ok;
}
