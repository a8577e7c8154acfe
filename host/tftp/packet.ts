// TFTP packets: RFC 1350's RRQ, WRQ, DATA, ACK and ERROR, and RFC 2347's
// OACK with option lists on requests. One codec for our client and server.
// Decoding never throws: whatever arrives from the network yields either a
// packet or { ok: false, reason }, and every length is checked against the
// buffer before it is read, so a caller can simply drop garbage.

/** RFC 1350 section 5 (1..5) and RFC 2347 (6). */
export const OPCODE = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 appendix (0..7) and RFC 2347 (8). */
export const ERROR_CODE = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

const ERROR_TEXTS = [
  "not defined",
  "file not found",
  "access violation",
  "disk full or allocation exceeded",
  "illegal TFTP operation",
  "unknown transfer ID",
  "file already exists",
  "no such user",
  "option negotiation refused",
] as const;

/** The RFC's wording for an error code, for messages and logs. */
export function errorText(code: number): string {
  return ERROR_TEXTS[code] ?? `error ${code}`;
}

/** The largest block RFC 2348 allows: 65535 (IP total length) minus 20 (IP),
 *  8 (UDP) and 4 (the TFTP header) is 65503, and the RFC settles on 65464. */
export const DATA_MAX_BYTES = 65464;
/** opcode + block number, before the data (RFC 1350 figure 5-2). */
export const DATA_HEADER_BYTES = 4;
/** No TFTP packet is longer than a DATA packet of the largest block. */
export const PACKET_MAX_BYTES = DATA_HEADER_BYTES + DATA_MAX_BYTES;
/** RFC 2347: a request with its options must fit in 512 octets. We never
 *  send more; we accept up to PACKET_MAX_BYTES, as tftpd-hpa does. */
export const REQUEST_MAX_BYTES = 512;
/** Options in one request or OACK; RFC 2347 sets no number, real clients send
 *  at most five or six (blksize, tsize, timeout, windowsize, utimeout, ...). */
export const OPTIONS_MAX = 32;

export interface TftpOption {
  name: string;
  value: string;
}

export type Packet =
  | { op: "rrq" | "wrq"; file: string; mode: string; options: TftpOption[] }
  | { op: "data"; block: number; data: Uint8Array }
  | { op: "ack"; block: number }
  | { op: "error"; code: number; message: string }
  | { op: "oack"; options: TftpOption[] };

export type Decoded = { ok: true; packet: Packet } | { ok: false; reason: string };

const bad = (reason: string): Decoded => ({ ok: false, reason });

// ---- decoding ----

/** NUL-terminated strings from `start` to the end of `buf` (the tail of a
 *  request or an OACK), or why they are not. */
function cStrings(buf: Uint8Array, start: number, limit: number): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  let at = start;
  while (at < buf.length) {
    const nul = buf.indexOf(0, at);
    if (nul < 0) return "string without its terminating NUL";
    if (out.length === limit) return `more than ${limit} strings`;
    out.push(buf.subarray(at, nul));
    at = nul + 1;
  }
  return out;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
const utf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");

function decodeOptions(parts: Uint8Array[]): TftpOption[] | string {
  if (parts.length % 2 !== 0) return `option '${latin1(parts[parts.length - 1])}' has no value`;
  if (parts.length / 2 > OPTIONS_MAX) return `more than ${OPTIONS_MAX} options`;
  const options: TftpOption[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    // RFC 2347: option names are case-insensitive; we carry them lower-case.
    const name = latin1(parts[i]).toLowerCase();
    if (name.length === 0) return "empty option name";
    options.push({ name, value: latin1(parts[i + 1]) });
  }
  return options;
}

export function decode(buf: Uint8Array): Decoded {
  if (buf.length < 2) return bad(`${buf.length} bytes: too short for an opcode`);
  if (buf.length > PACKET_MAX_BYTES) return bad(`${buf.length} bytes: longer than any TFTP packet (${PACKET_MAX_BYTES})`);
  const opcode = (buf[0] << 8) | buf[1];
  switch (opcode) {
    case OPCODE.RRQ:
    case OPCODE.WRQ: {
      // 2 bytes opcode | filename | 0 | mode | 0 | [name | 0 | value | 0]...
      const parts = cStrings(buf, 2, 2 + 2 * OPTIONS_MAX);
      if (typeof parts === "string") return bad(`request: ${parts}`);
      if (parts.length < 2) return bad("request: needs a file name and a mode");
      if (parts[0].length === 0) return bad("request: empty file name");
      if (parts[1].length === 0) return bad("request: empty mode");
      const options = decodeOptions(parts.slice(2));
      if (typeof options === "string") return bad(`request: ${options}`);
      return {
        ok: true,
        packet: { op: opcode === OPCODE.RRQ ? "rrq" : "wrq", file: utf8(parts[0]), mode: latin1(parts[1]).toLowerCase(), options },
      };
    }
    case OPCODE.DATA:
      if (buf.length < DATA_HEADER_BYTES) return bad(`DATA of ${buf.length} bytes: no block number`);
      // A view, not a copy: the caller owns `buf`.
      return { ok: true, packet: { op: "data", block: (buf[2] << 8) | buf[3], data: buf.subarray(DATA_HEADER_BYTES) } };
    case OPCODE.ACK:
      // Longer ACKs are accepted (Postel): some stacks pad short datagrams.
      if (buf.length < 4) return bad(`ACK of ${buf.length} bytes: no block number`);
      return { ok: true, packet: { op: "ack", block: (buf[2] << 8) | buf[3] } };
    case OPCODE.ERROR: {
      if (buf.length < 4) return bad(`ERROR of ${buf.length} bytes: no error code`);
      // A message without its NUL is taken to the end: losing a server's
      // reason for refusing us would only turn a clear error into a timeout.
      const end = buf.indexOf(0, 4);
      const message = utf8(buf.subarray(4, end < 0 ? buf.length : end));
      return { ok: true, packet: { op: "error", code: (buf[2] << 8) | buf[3], message } };
    }
    case OPCODE.OACK: {
      const parts = cStrings(buf, 2, 2 * OPTIONS_MAX);
      if (typeof parts === "string") return bad(`OACK: ${parts}`);
      const options = decodeOptions(parts);
      if (typeof options === "string") return bad(`OACK: ${options}`);
      return { ok: true, packet: { op: "oack", options } };
    }
    default:
      return bad(`unknown opcode ${opcode}`);
  }
}

// ---- encoding (our own values: a wrong one is a bug, so these throw) ----

function cString(text: string, what: string, encoding: "latin1" | "utf8"): Buffer {
  if (text.includes("\0")) throw new RangeError(`TFTP ${what} must not contain NUL`);
  return Buffer.from(text + "\0", encoding);
}

function withOpcode(opcode: number, parts: Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(opcode, 0);
  return Buffer.concat([head, ...parts]);
}

function optionStrings(options: readonly TftpOption[]): Buffer[] {
  if (options.length > OPTIONS_MAX) throw new RangeError(`more than ${OPTIONS_MAX} TFTP options`);
  return options.flatMap((o) => {
    if (o.name.length === 0) throw new RangeError("empty TFTP option name");
    return [cString(o.name, "option name", "latin1"), cString(o.value, "option value", "latin1")];
  });
}

export function encodeRequest(op: "rrq" | "wrq", file: string, mode: string, options: readonly TftpOption[] = []): Buffer {
  if (file.length === 0) throw new RangeError("empty TFTP file name");
  const pkt = withOpcode(op === "rrq" ? OPCODE.RRQ : OPCODE.WRQ, [
    cString(file, "file name", "utf8"),
    cString(mode, "mode", "latin1"),
    ...optionStrings(options),
  ]);
  if (pkt.length > REQUEST_MAX_BYTES) throw new RangeError(`TFTP request of ${pkt.length} bytes: RFC 2347 allows ${REQUEST_MAX_BYTES}`);
  return pkt;
}

/** Writes opcode 3 and the block number into the first 4 bytes of `pkt`, for
 *  a sender that fills the data itself (no copy of the block). */
export function writeDataHeader(pkt: Uint8Array, block: number): void {
  pkt[0] = 0;
  pkt[1] = OPCODE.DATA;
  pkt[2] = (block >>> 8) & 0xff;
  pkt[3] = block & 0xff;
}

export function encodeData(block: number, data: Uint8Array): Buffer {
  if (data.length > DATA_MAX_BYTES) throw new RangeError(`DATA of ${data.length} bytes: at most ${DATA_MAX_BYTES}`);
  const pkt = Buffer.allocUnsafe(DATA_HEADER_BYTES + data.length);
  writeDataHeader(pkt, block & 0xffff);
  pkt.set(data, DATA_HEADER_BYTES);
  return pkt;
}

export function encodeAck(block: number): Buffer {
  const pkt = Buffer.allocUnsafe(4);
  pkt[0] = 0;
  pkt[1] = OPCODE.ACK;
  pkt.writeUInt16BE(block & 0xffff, 2);
  return pkt;
}

export function encodeError(code: number, message: string): Buffer {
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(code & 0xffff, 0);
  // A peer's text could carry a NUL; ours never should, but cut rather than throw.
  return withOpcode(OPCODE.ERROR, [head, Buffer.from(message.replaceAll("\0", " ") + "\0", "utf8")]);
}

export function encodeOack(options: readonly TftpOption[]): Buffer {
  return withOpcode(OPCODE.OACK, optionStrings(options));
}

/** Block numbers are 16 bits on the wire; transfers count blocks from 1 and
 *  wrap to 0 after 65535, as tftpd-hpa and atftpd do (RFC 1350 sets no rule). */
export const wireBlock = (absolute: number): number => absolute & 0xffff;
