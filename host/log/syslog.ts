// A PhoneReport as an RFC 5424 syslog message and back (docs/LOGGING.md).
// The formatter writes exactly one shape; the parser reads any message RFC
// 5424 allows, bounds every field as §6 does, and then insists on ours: the
// app `pfs`, a `SEP<MAC>` host, MSGID `line` or `status`, and one SD-ELEMENT
// `pfs@32473` with well-formed values. Anything else is a SyslogParseError
// carrying the reason; nothing else is ever thrown, whatever the bytes.

import { LEVEL_SEVERITY, REPORT_EVENTS, ROLE_NAMES, SD_ID, type ComponentState, type Level, type PhoneReport, type ReportEvent, type RoleName } from "../view/report.js";

/** A datagram's largest size: RFC 5426 §3.2 says receivers SHOULD take 2048
 *  bytes, so a sender that stays within it is read everywhere. */
export const MAX_DATAGRAM_BYTES = 2048;
/** local0 (RFC 5424 §6.2.1, table 1): the facility sites give appliances. */
export const FACILITY_LOCAL0 = 16;
/** A status tick is not a console line: it goes out as informational. */
export const STATUS_SEVERITY = LEVEL_SEVERITY.INF;
/** PRIVAL is at most 191 (facility 23 * 8 + severity 7, RFC 5424 §6.2.1). */
export const MAX_PRI = 191;
/** RFC 5424 §6: HOSTNAME 1*255, APP-NAME 1*48, PROCID 1*128, MSGID 1*32, SD-NAME 1*32. */
export const MAX_HOSTNAME_CHARS = 255;
export const MAX_APP_NAME_CHARS = 48;
export const MAX_PROCID_CHARS = 128;
export const MAX_MSGID_CHARS = 32;
export const MAX_SD_NAME_CHARS = 32;
/** Our own bound on a PARAM-VALUE (RFC 5424 sets none): a file or load name
 *  is far shorter, and a value this long cannot fit a datagram twice. */
export const MAX_PARAM_VALUE_CHARS = 1024;
/** The largest byte count a value may state: exact in a double. */
const MAX_COUNT_DIGITS = 15;

export const APP_NAME = "pfs";
export type MsgId = "line" | "status";
const MSG_IDS: readonly string[] = ["line", "status"];

/** Why a datagram is not one of our reports; `reason` is one line. */
export class SyslogParseError extends Error {
  constructor(readonly reason: string) {
    super(`not a pfs syslog message: ${reason}`);
    this.name = "SyslogParseError";
  }
}

// ------------------------------------------------------------ formatting

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped with a backslash. */
export function escapeParamValue(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** A console line made safe for MSG: printable ASCII only (a control
 *  character would split the line in a log file). */
function asciiMsg(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

/** The SD params in their fixed order (docs/LOGGING.md). */
function sdParams(r: PhoneReport): Array<[string, string]> {
  const p: Array<[string, string]> = [["ip", r.ip], ["load", r.load]];
  const c = r.component;
  if (c !== undefined) {
    p.push(["xid", c.xid], ["model", c.model], ["file", c.file], ["role", c.role], ["held", String(c.held)], ["size", String(c.size)],
      ["parent", c.parent], ["depth", String(c.depth)], ["wan", String(c.wan)], ["done", c.done ? "1" : "0"]);
  }
  if (r.event !== undefined) p.push(["event", r.event]);
  return p;
}

/** One report as one RFC 5424 message, at most MAX_DATAGRAM_BYTES long (a
 *  longer console line is cut). A `status` tick has no MSG part. */
export function formatSyslog(r: PhoneReport, msgid: MsgId): string {
  if (!/^[0-9A-F]{12}$/.test(r.mac)) throw new Error(`formatSyslog: MAC '${r.mac}' is not 12 upper-case hex digits`);
  if (msgid === "line" && r.text === undefined) throw new Error("formatSyslog: a line report needs its text");
  const severity = msgid === "line" ? LEVEL_SEVERITY[r.level ?? "INF"] : STATUS_SEVERITY;
  const pri = FACILITY_LOCAL0 * 8 + severity;
  const sd = `[${SD_ID}${sdParams(r).map(([k, v]) => ` ${k}="${escapeParamValue(v)}"`).join("")}]`;
  const head = `<${pri}>1 ${new Date(r.atMs).toISOString()} SEP${r.mac} ${APP_NAME} - ${msgid} ${sd}`;
  if (Buffer.byteLength(head) > MAX_DATAGRAM_BYTES - 1) throw new Error(`formatSyslog: header and structured data alone are ${Buffer.byteLength(head)} bytes`);
  if (msgid === "status") return head;
  const room = MAX_DATAGRAM_BYTES - Buffer.byteLength(head) - 1;
  const out = `${head} ${asciiMsg(r.text!).slice(0, room)}`;
  if (Buffer.byteLength(out) > MAX_DATAGRAM_BYTES) throw new Error("formatSyslog: postcondition: message over the datagram limit");
  return out;
}

// ------------------------------------------------------------ parsing

/** A cursor over the message: every read is bounds-checked. */
class Reader {
  pos = 0;
  constructor(readonly s: string) {}
  peek(): string {
    return this.pos < this.s.length ? this.s[this.pos] : "";
  }
  expect(c: string, what: string): void {
    if (this.peek() !== c) throw new SyslogParseError(`expected ${what} at character ${this.pos}`);
    this.pos++;
  }
  /** A header field: 1..max PRINTUSASCII characters up to the next space. */
  field(name: string, max: number): string {
    const start = this.pos;
    while (this.pos < this.s.length && this.s[this.pos] !== " ") {
      const code = this.s.charCodeAt(this.pos);
      if (code < 33 || code > 126) throw new SyslogParseError(`${name} holds a character that is not printable US-ASCII (code ${code})`);
      if (this.pos - start >= max) throw new SyslogParseError(`${name} is longer than ${max} characters`);
      this.pos++;
    }
    if (this.pos === start) throw new SyslogParseError(`${name} is empty`);
    const v = this.s.slice(start, this.pos);
    this.expect(" ", `a space after ${name}`);
    return v;
  }
}

function parsePri(rd: Reader): number {
  rd.expect("<", "'<' opening PRI");
  const m = /^(0|[1-9][0-9]{0,2})>/.exec(rd.s.slice(rd.pos, rd.pos + 4));
  if (m === null) throw new SyslogParseError("PRI is not 1 to 3 digits closed by '>'");
  const pri = Number(m[1]);
  if (pri > MAX_PRI) throw new SyslogParseError(`PRI ${pri} is over ${MAX_PRI}`);
  rd.pos += m[0].length;
  return pri;
}

/** RFC 3339 as RFC 5424 §6.2.3 restricts it (no leap second, at most 6
 *  fraction digits); the NILVALUE is refused: a report needs its time. */
function parseTimestamp(t: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|([+-])(\d{2}):(\d{2}))$/.exec(t);
  if (m === null) throw new SyslogParseError(`TIMESTAMP '${t.slice(0, 40)}' is not an RFC 3339 time`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) throw new SyslogParseError(`TIMESTAMP '${t}' is out of range`);
  const fracMs = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  let offsetMin = 0;
  if (m[8] !== "Z") {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw new SyslogParseError(`TIMESTAMP offset in '${t}' is out of range`);
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) + fracMs - offsetMin * 60_000;
}

function sdName(rd: Reader, what: string): string {
  const start = rd.pos;
  while (rd.pos < rd.s.length && !" =]\"".includes(rd.s[rd.pos])) {
    const code = rd.s.charCodeAt(rd.pos);
    if (code < 33 || code > 126) throw new SyslogParseError(`${what} holds a character that is not printable US-ASCII`);
    if (rd.pos - start >= MAX_SD_NAME_CHARS) throw new SyslogParseError(`${what} is longer than ${MAX_SD_NAME_CHARS} characters`);
    rd.pos++;
  }
  if (rd.pos === start) throw new SyslogParseError(`${what} is empty`);
  return rd.s.slice(start, rd.pos);
}

function paramValue(rd: Reader): string {
  rd.expect('"', "'\"' opening a PARAM-VALUE");
  let v = "";
  for (;;) {
    if (rd.pos >= rd.s.length) throw new SyslogParseError("a PARAM-VALUE is not closed");
    const c = rd.s[rd.pos++];
    if (c === '"') return v;
    if (c === "]") throw new SyslogParseError("an unescaped ']' inside a PARAM-VALUE");
    // §6.3.3: a backslash before any other character is itself.
    if (c === "\\" && rd.pos < rd.s.length && "\"\\]".includes(rd.s[rd.pos])) v += rd.s[rd.pos++];
    else v += c;
    if (v.length > MAX_PARAM_VALUE_CHARS) throw new SyslogParseError(`a PARAM-VALUE is longer than ${MAX_PARAM_VALUE_CHARS} characters`);
  }
}

/** STRUCTURED-DATA: the NILVALUE or SD-ELEMENTs; every SD-ID once (§6.3.2). */
function parseSd(rd: Reader): Map<string, Map<string, string>> {
  const elements = new Map<string, Map<string, string>>();
  if (rd.peek() === "-") {
    rd.pos++;
    return elements;
  }
  if (rd.peek() !== "[") throw new SyslogParseError("STRUCTURED-DATA is neither '-' nor '['");
  while (rd.peek() === "[") {
    rd.pos++;
    const id = sdName(rd, "an SD-ID");
    if (elements.has(id)) throw new SyslogParseError(`SD-ID ${id} appears twice`);
    const params = new Map<string, string>();
    while (rd.peek() === " ") {
      rd.pos++;
      const name = sdName(rd, "a PARAM-NAME");
      rd.expect("=", `'=' after ${name}`);
      if (params.has(name)) throw new SyslogParseError(`param ${name} appears twice in ${id}`);
      params.set(name, paramValue(rd));
    }
    rd.expect("]", `']' closing ${id}`);
    elements.set(id, params);
  }
  return elements;
}

export interface ParsedSyslog {
  report: PhoneReport;
  msgid: MsgId;
}

/** Parses one datagram (bytes as received, or its text). */
export function parseSyslog(input: string | Uint8Array): ParsedSyslog {
  try {
    return parseChecked(input);
  } catch (e) {
    if (e instanceof SyslogParseError) throw e;
    // A bug of ours must not pass for the sender's fault, nor escape as another type.
    throw new SyslogParseError(`internal parser error: ${(e as Error)?.message ?? String(e)}`);
  }
}

function decodeText(input: string | Uint8Array): string {
  const bytes = typeof input === "string" ? Buffer.byteLength(input) : input.length;
  if (bytes > MAX_DATAGRAM_BYTES) throw new SyslogParseError(`${bytes} bytes; at most ${MAX_DATAGRAM_BYTES}`);
  if (typeof input === "string") return input;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    throw new SyslogParseError("not UTF-8 text");
  }
}

function parseChecked(input: string | Uint8Array): ParsedSyslog {
  const text = decodeText(input);
  // A report is one line of a log file (host/logd/store.ts); ours never hold
  // a control character (asciiMsg), so one that does is not ours.
  const control = /[\x00-\x1f\x7f]/.exec(text);
  if (control !== null) throw new SyslogParseError(`holds control character ${control[0].charCodeAt(0)} at ${control.index}`);
  const rd = new Reader(text);
  const pri = parsePri(rd);
  rd.expect("1", "VERSION 1");
  rd.expect(" ", "a space after VERSION");
  const timestamp = rd.field("TIMESTAMP", 32);
  const hostname = rd.field("HOSTNAME", MAX_HOSTNAME_CHARS);
  const app = rd.field("APP-NAME", MAX_APP_NAME_CHARS);
  rd.field("PROCID", MAX_PROCID_CHARS);
  const msgid = rd.field("MSGID", MAX_MSGID_CHARS);
  const sd = parseSd(rd);
  let msg: string | undefined;
  if (rd.pos < rd.s.length) {
    rd.expect(" ", "a space before MSG");
    msg = rd.s.slice(rd.pos).replace(/^\uFEFF/, "");
  }
  const mac = /^SEP([0-9A-F]{12})$/.exec(hostname)?.[1];
  if (mac === undefined) throw new SyslogParseError(`HOSTNAME '${hostname.slice(0, 40)}' is not SEP and 12 upper-case hex digits`);
  if (app !== APP_NAME) throw new SyslogParseError(`APP-NAME '${app}' is not ${APP_NAME}`);
  if (!MSG_IDS.includes(msgid)) throw new SyslogParseError(`MSGID '${msgid}' is neither line nor status`);
  const ours = sd.get(SD_ID);
  if (ours === undefined) throw new SyslogParseError(`no [${SD_ID} ...] element`);
  const report = reportOf(ours, parseTimestamp(timestamp), mac);
  if (msgid === "line") {
    if (msg === undefined || msg === "") throw new SyslogParseError("a line message without its MSG");
    const level = levelOf(pri & 7);
    if (level === undefined) throw new SyslogParseError(`severity ${pri & 7} is none of the console's levels`);
    report.level = level;
    report.text = msg;
  }
  return { report, msgid: msgid as MsgId };
}

function levelOf(severity: number): Level | undefined {
  return (Object.keys(LEVEL_SEVERITY) as Level[]).find((l) => LEVEL_SEVERITY[l] === severity);
}

function need(p: Map<string, string>, name: string): string {
  const v = p.get(name);
  if (v === undefined) throw new SyslogParseError(`param ${name} is missing`);
  return v;
}

function count(p: Map<string, string>, name: string): number {
  const v = need(p, name);
  if (!new RegExp(`^(0|[1-9][0-9]{0,${MAX_COUNT_DIGITS - 1}})$`).test(v)) throw new SyslogParseError(`param ${name}="${v.slice(0, 20)}" is not a count`);
  return Number(v);
}

function ipv4(v: string, name: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (m === null || m.slice(1).some((o) => Number(o) > 255 || (o.length > 1 && o[0] === "0"))) {
    throw new SyslogParseError(`param ${name}="${v.slice(0, 20)}" is not a dotted IPv4 address`);
  }
  return v;
}

function reportOf(p: Map<string, string>, atMs: number, mac: string): PhoneReport {
  const report: PhoneReport = { atMs, mac, ip: ipv4(need(p, "ip"), "ip"), load: need(p, "load") };
  if (p.has("xid")) report.component = componentOf(p);
  const event = p.get("event");
  if (event !== undefined) {
    if (!(REPORT_EVENTS as readonly string[]).includes(event)) throw new SyslogParseError(`event '${event.slice(0, 20)}' is not one of ${REPORT_EVENTS.join(", ")}`);
    report.event = event as ReportEvent;
  }
  return report;
}

function componentOf(p: Map<string, string>): ComponentState {
  const xid = need(p, "xid");
  if (!/^XID[0-9A-F]{8}$/.test(xid)) throw new SyslogParseError(`xid '${xid.slice(0, 20)}' is not XID and 8 upper-case hex digits`);
  const role = need(p, "role");
  if (!(ROLE_NAMES as readonly string[]).includes(role)) throw new SyslogParseError(`role '${role.slice(0, 20)}' is not one of ${ROLE_NAMES.join(", ")}`);
  const parent = need(p, "parent");
  const done = need(p, "done");
  if (done !== "0" && done !== "1") throw new SyslogParseError(`done="${done.slice(0, 20)}" is neither 0 nor 1`);
  return {
    xid, model: need(p, "model"), file: need(p, "file"), role: role as RoleName,
    held: count(p, "held"), size: count(p, "size"), parent: parent === "" ? "" : ipv4(parent, "parent"),
    depth: count(p, "depth"), wan: count(p, "wan"), done: done === "1",
  };
}
