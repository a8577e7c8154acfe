// `pfs loads make`: writes a TFTP root for one load and its phones (the
// index, the components and their block lists, XMLDefault.cnf.xml and one
// SEP<MAC>.cnf.xml per phone). The layouts are in docs/LOADS.md.

import { createPrivateKey, KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { phoneModels } from "../boards.js";
import { ConfigError, describePfs, PFS_LEVEL_NAMES, PfsLevel, parseHttpServer, parseMac, WAN_KBPS_MAX_LIMIT } from "../load/config.js";
import { getPreset, presetNames } from "../load/presets.js";
import { MakeDirError } from "../make-dir.js";
import { BLOCK_LIST_SUFFIX, makeTftpRoot, MAC_PREFIX, MAX_PHONES, modelFamily, parseMacs, TftpRootResult } from "../load/tftp-root.js";
import { Command } from "commander";
import { hostPortOption, HostPort, intOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError , para } from "./args.js";

const DEFAULT_MODEL = "CP-7961G";
const DEFAULT_PRESET = "cp7961-9.4.2";
/** Phones listed one by one in the summary; beyond this, counts. */
const LIST_PHONES = 16;

function models(): string {
  try {
    return phoneModels().map((b) => b.model).join(", ");
  } catch {
    return DEFAULT_MODEL;
  }
}

const ABOUT = `Writes a TFTP root for one load: <load>.loads (each file's size, SHA-256 and
block-list SHA-256; signed with Ed25519 when --sign-key is given), every
component with its block list <component>${BLOCK_LIST_SUFFIX}, XMLDefault.cnf.xml, and a
SEP<MAC>.cnf.xml per phone whose Peer Firmware Sharing setting is resolved:
the device's own page, else the common phone profile, else the enterprise
default, else off.`;

const fail = (message: string): never => {
  throw new UsageError(message);
};

interface MakeOpts {
  out: string;
  macs: string;
  model: string;
  load?: string;
  preset: string;
  pfsEnterprise?: string;
  pfsProfile?: string;
  pfsDevice?: string;
  signKey?: string;
  logServer?: HostPort;
  wanKbpsMax?: number;
  httpServer?: string;
}

export function loadsCli(out: Out): Command {
  const loads = pfsCommand("loads", "write a TFTP root: a load's index, files and phone configs", out);
  const make = pfsCommand("make", "write a TFTP root for one load and its phones", out)
    .description(para(ABOUT))
    .addOption(required(textOption("--out <dir>", "where to write (made if missing; files of the same names are replaced)")))
    .addOption(required(textOption("--macs <macs>", `a comma list of MACs (001BD4000001 or 00:1B:D4:00:00:01), or a count N (1..${MAX_PHONES}) for ${MAC_PREFIX}000001, ${MAC_PREFIX}000002, ...`)))
    .addOption(textOption("--model <model>", `phone model: ${models()}`, DEFAULT_MODEL))
    .addOption(textOption("--load <name>", "load name: the .loads file name without .loads", { shown: "the preset's" }))
    .addOption(textOption("--preset <preset>", `the component files: ${presetNames().join(", ")}`, DEFAULT_PRESET))
    .addOption(textOption("--pfs-enterprise <0|1>", "PFS in the enterprise phone configuration", { shown: "not set there" }))
    .addOption(textOption("--pfs-profile <0|1>", "PFS in the common phone profile", { shown: "not set there" }))
    .addOption(textOption("--pfs-device <list>", "PFS on devices' own pages: MAC=0|1, comma separated", { shown: "none" }))
    .addOption(textOption("--sign-key <pem>", "an Ed25519 private key in PEM (openssl genpkey -algorithm ed25519 -out key.pem)", { shown: "unsigned" }))
    .addOption(hostPortOption("--log-server <host:port>", "written as <logServer> in every phone's configuration: where it sends its syslog (docs/LOGGING.md)", { defaultPort: 514, dflt: { shown: "none" } }))
    .addOption(textOption("--http-server <url>", "written as <httpServer> in every phone's configuration: the base URL of an HTTP server holding these files; roots fetch over HTTP, TFTP the fallback (docs/LOADS.md)", { shown: "none" }))
    .addOption(intOption("--wan-kbps-max <kbps>", "written as <wanKbpsMax> in every phone's configuration: the cap on what the subnet's roots fetch at once (docs/WAN.md)", { min: 1, max: WAN_KBPS_MAX_LIMIT }, { shown: "no cap" }));
  onRun<MakeOpts>(make, (o) => makeRun(o, out));
  return loads.addCommand(make);
}

/** `pfs loads ARGV` in this process. */
function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== "0" && value !== "1") fail(`--${name} must be 0 (off) or 1 (on), not '${value}'`);
  return value === "1";
}

function deviceSettings(value: string | undefined): Map<string, boolean> {
  const out = new Map<string, boolean>();
  if (value === undefined) return out;
  for (const item of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const eq = item.lastIndexOf("=");
    if (eq < 0) fail(`--pfs-device: '${item}' needs the form MAC=0 or MAC=1`);
    let mac = "";
    try {
      mac = parseMac(item.slice(0, eq));
    } catch (e) {
      fail(`--pfs-device: ${(e as Error).message}`);
    }
    const v = item.slice(eq + 1).trim();
    if (v !== "0" && v !== "1") fail(`--pfs-device: '${item}': the setting must be 0 or 1, not '${v}'`);
    if (out.has(mac)) fail(`--pfs-device: ${mac} is given twice`);
    out.set(mac, v === "1");
  }
  return out;
}

function httpServer(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return parseHttpServer(url, "--http-server");
  } catch (e) {
    return fail((e as Error).message);
  }
}

function signingKey(path: string | undefined): KeyObject | undefined {
  if (path === undefined) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    return fail(`--sign-key: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    return fail(`--sign-key: '${path}' holds no private key in PEM (${(e as Error).message}); make one with: openssl genpkey -algorithm ed25519 -out key.pem`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    fail(`--sign-key: '${path}' holds a ${key.asymmetricKeyType} key; .loads indexes are signed with Ed25519 (openssl genpkey -algorithm ed25519 -out key.pem)`);
  }
  return key;
}

/** SOURCE_DATE_EPOCH (reproducible builds) fixes the index's timestamp. */
function timestamp(): Date {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d{1,10}$/.test(epoch)) return new Date(Number(epoch) * 1000);
  return new Date();
}

function makeRun(values: MakeOpts, out: Out): number {
  const outDir = values.out;
  if (outDir.trim() === "") fail("--out needs the folder to write the TFTP root into");
  const macsText = values.macs;
  let macs: string[] = [];
  try {
    macs = parseMacs(macsText!);
  } catch (e) {
    fail(`--macs: ${(e as Error).message}`);
  }
  const model = values.model;
  try {
    modelFamily(model);
  } catch (e) {
    fail(`--model: ${(e as Error).message}`);
  }
  const presetName = values.preset;
  try {
    getPreset(presetName);
  } catch (e) {
    fail(`--preset: ${(e as Error).message}`);
  }
  const load = values.load;
  if (load !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._+-]{0,248}$/.test(load.replace(/\.loads$/i, ""))) {
    fail(`--load: '${load}' is not a load name (letters, digits, '.', '_', '+', '-'; e.g. SCCP41.9-4-2SR2-2S)`);
  }
  const enterprise = flag(values.pfsEnterprise, "pfs-enterprise");
  const commonProfile = flag(values.pfsProfile, "pfs-profile");
  const devices = deviceSettings(values.pfsDevice);
  for (const mac of devices.keys()) {
    if (!macs.includes(mac)) fail(`--pfs-device: ${mac} is not one of the phones given by --macs (${macs.slice(0, 3).join(", ")}${macs.length > 3 ? ", ..." : ""})`);
  }
  const key = signingKey(values.signKey);
  const http = httpServer(values.httpServer);

  let result: TftpRootResult;
  try {
    result = makeTftpRoot({
      outDir: outDir!, model, preset: presetName, loadName: load?.replace(/\.loads$/i, ""), macs,
      pfs: { enterprise, commonProfile, devices }, signingKey: key, timestamp: timestamp(), logServer: values.logServer,
      wanKbpsMax: values.wanKbpsMax,
      httpServer: http,
    });
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.message);
    if (e instanceof MakeDirError) {
      process.stderr.write(`pfs loads make: ${e.message}\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (typeof err.code === "string") {
      process.stderr.write(`pfs loads make: cannot write the TFTP root in '${outDir}': ${err.message}\n`);
      return 1;
    }
    throw e;
  }
  report(result, outDir!, out);
  return 0;
}

function report(r: TftpRootResult, outDir: string, out: (line: string) => void): void {
  const size = (name: string) => r.files.find((f) => f.name === name)?.sizeBytes ?? 0;
  const total = r.files.reduce((s, f) => s + f.sizeBytes, 0);
  out(`wrote ${r.files.length} files (${total} bytes) to ${outDir}`);
  const indexName = `${r.loadName}.loads`;
  out(`  ${indexName}: ${size(indexName)} bytes, ${r.index.components.length} components, ` +
    (r.keyIdHex === undefined ? "unsigned" : `signed with Ed25519 key id ${r.keyIdHex}`));
  for (const c of r.index.components) {
    out(`  ${c.name}${BLOCK_LIST_SUFFIX} ${size(c.name + BLOCK_LIST_SUFFIX)} bytes, then ${c.name} ${c.sizeBytes} bytes`);
  }
  out(`  XMLDefault.cnf.xml: the default load for the model is ${r.loadName}`);
  const on = r.phones.filter((p) => p.pfs).length;
  out(`  ${r.phones.length} SEP<MAC>.cnf.xml: PFS on for ${on}, off for ${r.phones.length - on}`);
  const byLevel = new Map<PfsLevel, number>();
  for (const p of r.phones) byLevel.set(p.level, (byLevel.get(p.level) ?? 0) + 1);
  for (const [level, n] of byLevel) out(`    ${n} decided by ${level === "default" ? "no level (off)" : PFS_LEVEL_NAMES[level]}`);
  // Every phone when few; else those whose own page decided.
  const shown = r.phones.length <= LIST_PHONES ? r.phones : r.phones.filter((p) => p.level === "device");
  for (const p of shown.slice(0, LIST_PHONES)) out(`    ${p.file}: ${describePfs(p.pfs, p.level)}`);
  if (shown.length > LIST_PHONES) out(`    ... and ${shown.length - LIST_PHONES} more set on their own page`);
}
