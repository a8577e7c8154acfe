// The phone's configuration as its TFTP server serves it (FACTS.md):
// `SEP<MAC>.cnf.xml` per phone, with the load it should run
// (`<loadInformation>`) and, under `<vendorConfig>`, Peer Firmware Sharing on
// or off and an alternate server for loads; `XMLDefault.cnf.xml` with a
// default load per model. Readers, writers, the PFS precedence and the
// upgrade decision. See docs/LOADS.md.

import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import { phoneModels } from "../boards.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** A configuration file is a few KiB; refuse anything absurd before parsing. */
export const MAX_CONFIG_BYTES = 1 << 20;

export interface LoadServer {
  host: string;
  port?: number;
}

export interface DeviceConfig {
  /** The load to run (its `.loads` file name without `.loads`); absent when
   *  the element is missing or empty. */
  loadInformation?: string;
  /** `<vendorConfig><peerFirmwareSharing>`; absent when missing or empty. */
  peerFirmwareSharing?: boolean;
  /** `<vendorConfig><loadServer>`: where to fetch loads instead of the
   *  configuration's own TFTP server; absent when missing or empty. */
  loadServer?: LoadServer;
  /** `<vendorConfig><logServer>`: where the phone sends its syslog
   *  (docs/LOGGING.md; port LOG_SERVER_DEFAULT_PORT when none is written);
   *  absent when missing or empty. */
  logServer?: LoadServer;
  /** `<vendorConfig><httpServer>`: the base URL of an HTTP server holding
   *  the same load files (the component's name is appended); the root then
   *  fetches components over HTTP, TFTP its fallback (docs/LOADS.md,
   *  "Loads over HTTP"); absent when missing or empty. */
  httpServer?: string;
  /** `<vendorConfig><wanKbpsMax>`: the cap, kbit/s, on what all the roots
   *  of a subnet fetch from the load server at once (docs/WAN.md); absent
   *  when missing or empty: no cap. */
  wanKbpsMax?: number;
}

/** The largest `<wanKbpsMax>` taken: 10 Gbit/s, above any WAN a site has. */
export const WAN_KBPS_MAX_LIMIT = 10_000_000;

/** A base URL longer than this is no load server's (browsers and servers
 *  commonly take 2,000 characters at least; ours need tens). */
export const MAX_HTTP_SERVER_CHARS = 2048;

/** syslog over UDP's port (RFC 5426 §3.3), for a `<logServer>` without one. */
export const LOG_SERVER_DEFAULT_PORT = 514;

export interface DefaultLoad {
  /** The NNN of `<loadInformationNNN>`: the vendor's device-type number. */
  typeCode: number;
  /** The `model` attribute, as written (e.g. "Cisco 7961"). */
  model?: string;
  loadName: string;
}

export interface DefaultConfig {
  loads: DefaultLoad[];
}

// ------------------------------------------------------------ phone models

export interface PhoneModelInfo {
  /** As the boards and the simulator name it: "CP-7961G". */
  model: string;
  /** The device-type number of `<loadInformationNNN>` in XMLDefault.cnf.xml. */
  typeCode: number;
  /** The `model` attribute real XMLDefault files carry. */
  xmlModel: string;
}

/** The phone models the boards define (boards/*.json) that carry a
 *  device-type number (`deviceTypeCode`, the one public XMLDefault.cnf.xml
 *  files use) and the `model` attribute those files give it (`xmlModel`). */
export function phoneModelList(): readonly PhoneModelInfo[] {
  modelList ??= phoneModels()
    .filter((b) => typeof b.deviceTypeCode === "number" && typeof b.xmlModel === "string")
    .map((b) => ({ model: b.model!, typeCode: b.deviceTypeCode!, xmlModel: b.xmlModel! }));
  return modelList;
}
let modelList: readonly PhoneModelInfo[] | undefined;

export function phoneModelInfo(model: string): PhoneModelInfo | undefined {
  const m = model.trim().toUpperCase();
  return phoneModelList().find((p) => p.model === m || p.xmlModel.toUpperCase() === m);
}

// ------------------------------------------------------------ MACs, names

const MAC_RE = /^[0-9A-F]{12}$/;

/** A MAC as the file name carries it: 12 upper-case hex digits. Accepts
 *  "00:1b:d4:00:00:01", "001B.D400.0001" and the like. */
export function parseMac(text: string): string {
  const mac = text.trim().replace(/[:.-]/g, "").toUpperCase();
  if (!MAC_RE.test(mac)) throw new ConfigError(`'${text}' is not a MAC address (12 hex digits, e.g. 001BD4000001 or 00:1B:D4:00:00:01)`);
  return mac;
}

export function sepFileName(mac: string): string {
  return `SEP${parseMac(mac)}.cnf.xml`;
}

/** The MAC in a `SEP<MAC>.cnf.xml` name, or undefined for any other name. */
export function macOfSepFileName(name: string): string | undefined {
  const m = /^SEP([0-9A-F]{12})\.cnf\.xml$/.exec(name.replace(/^.*[\\/]/, ""));
  return m === null ? undefined : m[1];
}

export const DEFAULT_CONFIG_FILE = "XMLDefault.cnf.xml";

// ------------------------------------------------------------ PFS precedence

/** Where a phone's PFS setting came from, strongest first. */
export type PfsLevel = "device" | "commonProfile" | "enterprise" | "default";

export const PFS_LEVEL_NAMES: Record<PfsLevel, string> = {
  device: "the device's own configuration page",
  commonProfile: "the common phone profile",
  enterprise: "the enterprise phone configuration",
  default: "no level",
};

/** One line for a log or an XML comment: the value and which level set it. */
export function describePfs(enabled: boolean, level: PfsLevel): string {
  if (level === "default") return "peerFirmwareSharing 0: set at no level (device page, common phone profile, enterprise), so off";
  return `peerFirmwareSharing ${enabled ? 1 : 0}: set by ${PFS_LEVEL_NAMES[level]}`;
}

/** PFS for one phone: the device page wins over the common phone profile,
 *  which wins over the enterprise default (FACTS.md, the technote's
 *  "decreasing order of precedence"). Unset everywhere: off. */
export function resolvePfs(enterprise?: boolean, commonProfile?: boolean, device?: boolean): boolean {
  return resolvePfsLevel(enterprise, commonProfile, device).enabled;
}

export function resolvePfsLevel(enterprise?: boolean, commonProfile?: boolean, device?: boolean): { enabled: boolean; level: PfsLevel } {
  if (device !== undefined) return { enabled: device, level: "device" };
  if (commonProfile !== undefined) return { enabled: commonProfile, level: "commonProfile" };
  if (enterprise !== undefined) return { enabled: enterprise, level: "enterprise" };
  return { enabled: false, level: "default" };
}

// ------------------------------------------------------------ upgrade

/** A load name as configurations write it: trimmed, without `.loads`. */
export function normalizeLoadName(name: string): string {
  return name.trim().replace(/\.loads$/i, "");
}

/** The load a phone of `model` is told to run: its own file's
 *  `<loadInformation>`, else the XMLDefault entry for its model. */
export function configuredLoad(
  device: DeviceConfig | undefined,
  defaults: DefaultConfig | undefined,
  model: string,
): { loadName: string; from: "device" | "default" } | undefined {
  const own = device?.loadInformation;
  if (own !== undefined && normalizeLoadName(own) !== "") return { loadName: normalizeLoadName(own), from: "device" };
  const d = defaults === undefined ? undefined : defaultLoadFor(defaults, model);
  return d === undefined ? undefined : { loadName: d, from: "default" };
}

/** A phone upgrades when the configured load differs from the one it runs.
 *  Nothing configured: no upgrade. Nothing running (a blank phone): upgrade. */
export function upgradeNeeded(configured: string | undefined, running: string | undefined): boolean {
  if (configured === undefined || normalizeLoadName(configured) === "") return false;
  if (running === undefined || normalizeLoadName(running) === "") return true;
  return normalizeLoadName(configured) !== normalizeLoadName(running);
}

// ------------------------------------------------------------ reading

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

function decode(xml: string | Uint8Array, file: string): string {
  let text: string;
  if (typeof xml === "string") text = xml;
  else {
    if (xml.length > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: ${xml.length} bytes; a configuration file is at most ${MAX_CONFIG_BYTES}`);
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(xml);
    } catch {
      throw new ConfigError(`${file}: not UTF-8 text`);
    }
  }
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: ${text.length} characters; a configuration file is at most ${MAX_CONFIG_BYTES}`);
  return text.replace(/^\uFEFF/, "");
}

/** Parses well-formed XML into nodes, or says where it is not well formed. */
function parseXml(xml: string | Uint8Array, file: string, rootName: string): XmlNode {
  const text = decode(xml, file);
  if (text.trim() === "") throw new ConfigError(`${file}: empty; expected a <${rootName}> document`);
  // A configuration needs no DTD, and entity declarations are how XML bombs
  // ("billion laughs") and external entities work: refuse them unread.
  const dtd = /<!(DOCTYPE|ENTITY)/i.exec(text);
  if (dtd !== null) throw new ConfigError(`${file}: holds a <!${dtd[1].toUpperCase()} declaration; a configuration file has no DTD or entities, so it is refused unread`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    // The validator reports elements left open as a list in its message.
    const open = /^Invalid '\[(.*)\]' found\.$/s.exec(valid.err.msg);
    if (open !== null) {
      const names = open[1].split(",").map((n) => n.trim().replace(/^"|"$/g, "")).filter((n) => n !== "");
      throw new ConfigError(`${file}: the XML ends with ${names.map((n) => `<${n}>`).join(", ")} still open: the file is cut short or not well formed`);
    }
    throw new ConfigError(`${file}: malformed XML at line ${valid.err.line}, column ${valid.err.col ?? "?"}: ${valid.err.msg}`);
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(text) as XmlNode;
  } catch (e) {
    throw new ConfigError(`${file}: malformed XML: ${(e as Error).message}`);
  }
  const roots = Object.keys(doc).filter((k) => !k.startsWith("?"));
  if (roots.length !== 1) throw new ConfigError(`${file}: expected one root element <${rootName}>, found ${roots.length === 0 ? "none" : roots.map((r) => `<${r}>`).join(", ")}`);
  if (roots[0] !== rootName) throw new ConfigError(`${file}: the root element is <${roots[0]}>; expected <${rootName}>`);
  const root = doc[rootName];
  if (Array.isArray(root)) throw new ConfigError(`${file}: more than one <${rootName}> element`);
  // <device/> or <device>text</device> has no children.
  return typeof root === "object" && root !== null ? (root as XmlNode) : {};
}

/** The text of an element that must appear at most once, or undefined when
 *  it is missing or empty. */
function textOf(parent: XmlNode, name: string, where: string): string | undefined {
  const v = parent[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new ConfigError(`${where}: <${name}> appears ${v.length} times; expected at most once`);
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "object" && v !== null) {
    const node = v as XmlNode;
    const children = Object.keys(node).filter((k) => !k.startsWith("@_") && k !== "#text");
    if (children.length > 0) throw new ConfigError(`${where}: <${name}> holds elements (<${children[0]}>); expected text`);
    const t = node["#text"];
    return typeof t === "string" && t !== "" ? t : undefined;
  }
  return String(v);
}

function childNode(parent: XmlNode, name: string, where: string): XmlNode | undefined {
  const v = parent[name];
  if (v === undefined || v === "") return undefined;
  if (Array.isArray(v)) throw new ConfigError(`${where}: <${name}> appears ${v.length} times; expected at most once`);
  if (typeof v !== "object" || v === null) throw new ConfigError(`${where}: <${name}> holds text ('${String(v).slice(0, 40)}'); expected elements`);
  return v as XmlNode;
}

/** `host` or `host:port`; a bracketed IPv6 address `[::1]:69` too. */
export function parseLoadServer(text: string, where = "loadServer"): LoadServer {
  const s = text.trim();
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(s);
  if (v6 !== null) {
    host = v6[1];
    portText = v6[2];
  } else {
    const parts = s.split(":");
    if (parts.length > 2) throw new ConfigError(`${where}: '${s}' is not host or host:port (write an IPv6 address in brackets: [2001:db8::1]:69)`);
    host = parts[0];
    portText = parts[1];
  }
  if (v6 === null && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$/.test(host)) {
    throw new ConfigError(`${where}: '${host}' is not a host name or IPv4 address`);
  }
  if (host.length > 253) throw new ConfigError(`${where}: the host name is ${host.length} characters; at most 253`);
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new ConfigError(`${where}: port '${portText}' must be a number from 1 to 65535`);
  }
  return { host, port: Number(portText) };
}

/** An HTTP load server's base URL: http: or https:, a host, no user,
 *  query or fragment; returned with a path ending in '/', so that a file
 *  name resolves beneath it (httpLoadUrl). */
export function parseHttpServer(text: string, where = "httpServer"): string {
  const t = text.trim();
  if (t.length > MAX_HTTP_SERVER_CHARS) throw new ConfigError(`${where}: ${t.length} characters; a base URL is at most ${MAX_HTTP_SERVER_CHARS}`);
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    throw new ConfigError(`${where}: '${t.slice(0, 60)}' is not a URL (write it as http://host:port/path/)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ConfigError(`${where}: '${t.slice(0, 60)}' is ${u.protocol}; a load server's URL is http: or https:`);
  if (u.username !== "" || u.password !== "") throw new ConfigError(`${where}: '${t.slice(0, 60)}' holds a user name or password; a phone's configuration is no place for one`);
  if (u.search !== "" || u.hash !== "") throw new ConfigError(`${where}: '${t.slice(0, 60)}' holds a query or fragment; a base URL names a folder`);
  if (!u.pathname.endsWith("/")) u.pathname += "/";
  return u.href;
}

/** Where a load file is on an HTTP load server: its name, escaped, under the base. */
export function httpLoadUrl(base: string, file: string): string {
  if (!base.endsWith("/")) throw new RangeError(`a base URL ends with '/' (parseHttpServer makes it so): ${base}`);
  return new URL(encodeURIComponent(file), base).href;
}

export function formatLoadServer(s: LoadServer): string {
  const host = s.host.includes(":") ? `[${s.host}]` : s.host;
  return s.port === undefined ? host : `${host}:${s.port}`;
}

/** Reads a phone's `SEP<MAC>.cnf.xml`. `file` names it in errors. */
export function parseDeviceConfig(xml: string | Uint8Array, file = "SEP<MAC>.cnf.xml"): DeviceConfig {
  const device = parseXml(xml, file, "device");
  const out: DeviceConfig = {};
  const load = textOf(device, "loadInformation", `${file}: <device>`);
  if (load !== undefined) {
    const name = normalizeLoadName(load);
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) throw new ConfigError(`${file}: <loadInformation> '${load.slice(0, 60)}' is not a load name (a file name without .loads)`);
    out.loadInformation = name;
  }
  const vendor = childNode(device, "vendorConfig", `${file}: <device>`);
  if (vendor !== undefined) {
    const where = `${file}: <vendorConfig>`;
    const pfs = textOf(vendor, "peerFirmwareSharing", where);
    if (pfs !== undefined) {
      if (pfs !== "0" && pfs !== "1") throw new ConfigError(`${where}: <peerFirmwareSharing> must be 0 or 1, not '${pfs.slice(0, 20)}'`);
      out.peerFirmwareSharing = pfs === "1";
    }
    const server = textOf(vendor, "loadServer", where);
    if (server !== undefined) out.loadServer = parseLoadServer(server, `${where}: <loadServer>`);
    const logServer = textOf(vendor, "logServer", where);
    if (logServer !== undefined) out.logServer = parseLoadServer(logServer, `${where}: <logServer>`);
    const httpServer = textOf(vendor, "httpServer", where);
    if (httpServer !== undefined) out.httpServer = parseHttpServer(httpServer, `${where}: <httpServer>`);
    const wan = textOf(vendor, "wanKbpsMax", where);
    if (wan !== undefined) out.wanKbpsMax = parseWanKbpsMax(wan, `${where}: <wanKbpsMax>`);
  }
  return out;
}

/** A WAN cap in kbit/s: a whole number from 1 to WAN_KBPS_MAX_LIMIT. */
export function parseWanKbpsMax(text: string, where: string): number {
  const n = /^[0-9]{1,8}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= WAN_KBPS_MAX_LIMIT)) throw new ConfigError(`${where} must be a whole number of kbit/s from 1 to ${WAN_KBPS_MAX_LIMIT}, not '${text.slice(0, 20)}'`);
  return n;
}

/** Reads `XMLDefault.cnf.xml`: every `<loadInformationNNN model="...">`. */
export function parseDefaultConfig(xml: string | Uint8Array, file = DEFAULT_CONFIG_FILE): DefaultConfig {
  const root = parseXml(xml, file, "Default");
  const loads: DefaultLoad[] = [];
  for (const [key, v] of Object.entries(root)) {
    const m = /^loadInformation(\d{1,6})$/.exec(key);
    if (m === null) continue;
    const where = `${file}: <${key}>`;
    if (Array.isArray(v)) throw new ConfigError(`${where} appears ${v.length} times; one default per device type`);
    let loadText: string | undefined;
    let model: string | undefined;
    if (typeof v === "string") loadText = v;
    else if (typeof v === "object" && v !== null) {
      const node = v as XmlNode;
      const children = Object.keys(node).filter((k) => !k.startsWith("@_") && k !== "#text");
      if (children.length > 0) throw new ConfigError(`${where} holds elements (<${children[0]}>); expected the load name`);
      loadText = typeof node["#text"] === "string" ? node["#text"] : undefined;
      model = typeof node["@_model"] === "string" ? node["@_model"] : undefined;
    }
    if (loadText === undefined || loadText === "") continue; // no default for that type
    const loadName = normalizeLoadName(loadText);
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(loadName)) throw new ConfigError(`${where}: '${loadText.slice(0, 60)}' is not a load name`);
    loads.push(model === undefined ? { typeCode: Number(m[1]), loadName } : { typeCode: Number(m[1]), model, loadName });
  }
  return { loads };
}

/** The default load for a model: by its device-type number when the model is
 *  known, else by the `model` attribute. */
export function defaultLoadFor(cfg: DefaultConfig, model: string): string | undefined {
  const info = phoneModelInfo(model);
  if (info !== undefined) {
    const byCode = cfg.loads.find((l) => l.typeCode === info.typeCode);
    if (byCode !== undefined) return byCode.loadName;
  }
  const m = model.trim().toUpperCase();
  return cfg.loads.find((l) => l.model !== undefined && (l.model.toUpperCase() === m || l.model.toUpperCase() === info?.xmlModel.toUpperCase()))?.loadName;
}

// ------------------------------------------------------------ writing

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: false,
  commentPropName: "#comment",
});

const DECLARATION = { "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" } };

function checkLoadName(name: string, what: string): string {
  const n = normalizeLoadName(name);
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(n)) throw new ConfigError(`${what} '${name}' is not a load name (a file name without .loads)`);
  return n;
}

function checkComment(text: string): string {
  if (text.includes("--") || /[^\x20-\x7e]/.test(text)) throw new ConfigError(`comment '${text.slice(0, 40)}' may not hold '--' or non-printable characters`);
  return ` ${text} `;
}

export interface DeviceConfigOut extends DeviceConfig {
  /** `<deviceProtocol>`; default: SIP when the load name starts with SIP, else SCCP. */
  protocol?: "SCCP" | "SIP";
  /** An XML comment written just before `<peerFirmwareSharing>`: say where
   *  the value came from. */
  pfsNote?: string;
}

/** Writes a `SEP<MAC>.cnf.xml` laid out as real systems lay it out: a
 *  `<device>` root holding `<loadInformation>` and `<vendorConfig>` (which
 *  holds `<peerFirmwareSharing>` and `<loadServer>`). */
export function writeDeviceConfig(cfg: DeviceConfigOut): string {
  const vendor: XmlNode = {};
  if (cfg.pfsNote !== undefined) vendor["#comment"] = checkComment(cfg.pfsNote);
  vendor.peerFirmwareSharing = cfg.peerFirmwareSharing === undefined ? "" : cfg.peerFirmwareSharing ? "1" : "0";
  vendor.loadServer = cfg.loadServer === undefined ? "" : formatLoadServer(parseLoadServer(formatLoadServer(cfg.loadServer)));
  // Written only when set, so configurations without one stay as they were.
  if (cfg.logServer !== undefined) vendor.logServer = formatLoadServer(parseLoadServer(formatLoadServer(cfg.logServer), "logServer"));
  if (cfg.httpServer !== undefined) vendor.httpServer = parseHttpServer(cfg.httpServer);
  if (cfg.wanKbpsMax !== undefined) vendor.wanKbpsMax = String(parseWanKbpsMax(String(cfg.wanKbpsMax), "wanKbpsMax"));
  const load = cfg.loadInformation === undefined ? "" : checkLoadName(cfg.loadInformation, "loadInformation");
  const protocol = cfg.protocol ?? (/^SIP/i.test(load) ? "SIP" : "SCCP");
  const device: XmlNode = {
    fullConfig: "true",
    deviceProtocol: protocol,
    loadInformation: load,
    vendorConfig: vendor,
  };
  return builder.build({ ...DECLARATION, device });
}

/** Writes `XMLDefault.cnf.xml`: one `<loadInformationNNN model="...">` per
 *  default, in device-type order. */
export function writeDefaultConfig(cfg: DefaultConfig): string {
  const root: XmlNode = {};
  const seen = new Set<number>();
  for (const l of [...cfg.loads].sort((a, b) => a.typeCode - b.typeCode)) {
    if (!Number.isInteger(l.typeCode) || l.typeCode < 0 || l.typeCode > 999_999) throw new ConfigError(`device type ${l.typeCode} must be a whole number below 10^6`);
    if (seen.has(l.typeCode)) throw new ConfigError(`two defaults for device type ${l.typeCode}`);
    seen.add(l.typeCode);
    const node: XmlNode = { "#text": checkLoadName(l.loadName, `the default load for device type ${l.typeCode}`) };
    if (l.model !== undefined) {
      if (/[^\x20-\x7e]/.test(l.model)) throw new ConfigError(`model '${l.model}' holds non-printable characters`);
      node["@_model"] = l.model;
    }
    root[`loadInformation${l.typeCode}`] = node;
  }
  return builder.build({ ...DECLARATION, Default: root });
}

/** The XMLDefault entry for a model, from the model table. */
export function defaultLoadEntry(model: string, loadName: string): DefaultLoad {
  const info = phoneModelInfo(model);
  if (info === undefined) throw new ConfigError(`no device-type number known for model '${model}' (known: ${phoneModelList().map((p) => p.model).join(", ")})`);
  return { typeCode: info.typeCode, model: info.xmlModel, loadName: checkLoadName(loadName, "load name") };
}
