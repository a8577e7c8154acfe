// A TFTP root for one load and a set of phones, as `pfs loads make` writes
// it: the index `<load>.loads` (sizes and hashes; signed when a key is
// given), each component and its block list `<component>.blk`,
// `XMLDefault.cnf.xml` and one `SEP<MAC>.cnf.xml` per phone with its PFS
// setting resolved from the enterprise default, the common phone profile and
// the device's own page (docs/LOADS.md).

import { KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { phoneModels } from "../boards.js";
import {
  ConfigError, DEFAULT_CONFIG_FILE, defaultLoadEntry, describePfs, LoadServer, parseMac, PfsLevel, resolvePfsLevel,
  sepFileName, writeDefaultConfig, writeDeviceConfig,
} from "./config.js";
import { LoadIndex, loadsKeyId, parseLoads, writeLoads } from "./loads.js";
import { getPreset, presetFiles } from "./presets.js";
import { BLOCK_BYTES } from "../core/abi.js";
import { makeDirs } from "../make-dir.js";

/** The suffix of a component's block-list file. */
export const BLOCK_LIST_SUFFIX = ".blk";
/** Phones one root is written for: more than a subnet holds. */
export const MAX_PHONES = 65_536;
/** The vendor prefix of the deterministic MACs (one of the phone maker's OUIs). */
export const MAC_PREFIX = "001BD4";

export interface PfsSettings {
  enterprise?: boolean;
  commonProfile?: boolean;
  /** Per device (MAC, 12 upper-case hex digits): its own page's setting. */
  devices?: ReadonlyMap<string, boolean>;
}

export interface TftpRootOptions {
  outDir: string;
  /** A phone model the boards define, e.g. "CP-7961G". */
  model: string;
  preset: string;
  /** Default: the preset's load name for the model's family. */
  loadName?: string;
  macs: readonly string[];
  pfs?: PfsSettings;
  loadServer?: LoadServer;
  /** Written as `<logServer>` in every phone's configuration (docs/LOGGING.md). */
  logServer?: LoadServer;
  /** Written as `<httpServer>` in every phone's configuration: the base URL
   *  of an HTTP server holding this root's files (docs/LOADS.md). */
  httpServer?: string;
  /** Written as `<wanKbpsMax>` in every phone's configuration (docs/WAN.md). */
  wanKbpsMax?: number;
  signingKey?: KeyObject;
  signerName?: string;
  timestamp?: Date;
}

export interface TftpPhone {
  mac: string;
  file: string;
  pfs: boolean;
  level: PfsLevel;
}

export interface TftpRootResult {
  loadName: string;
  index: LoadIndex;
  /** Every file written, in the order written, with its size. */
  files: Array<{ name: string; sizeBytes: number }>;
  phones: TftpPhone[];
  keyIdHex?: string;
}

/** N MACs `00:1B:D4:xx:xx:xx`, the last three bytes the phone's number from 1. */
export function deterministicMacs(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PHONES) throw new ConfigError(`a phone count must be a whole number from 1 to ${MAX_PHONES}, not ${count}`);
  return Array.from({ length: count }, (_, i) => MAC_PREFIX + (i + 1).toString(16).toUpperCase().padStart(6, "0"));
}

/** `--macs`: a comma list of MACs, or a count of deterministic ones. */
export function parseMacs(text: string): string[] {
  const t = text.trim();
  if (/^\d{1,6}$/.test(t)) return deterministicMacs(Number(t));
  const macs = t.split(",").map((s) => s.trim()).filter((s) => s !== "").map(parseMac);
  if (macs.length === 0) throw new ConfigError("no MAC addresses given");
  if (macs.length > MAX_PHONES) throw new ConfigError(`${macs.length} MACs; at most ${MAX_PHONES}`);
  const seen = new Set<string>();
  for (const m of macs) {
    if (seen.has(m)) throw new ConfigError(`MAC ${m} is listed twice`);
    seen.add(m);
  }
  return macs;
}

/** The file-name family of a model's loads ("41" for SCCP41...), from its board. */
export function modelFamily(model: string): { family: string; loadPrefix: string } {
  const boards = phoneModels();
  const b = boards.find((x) => x.model?.toUpperCase() === model.trim().toUpperCase());
  if (b === undefined || b.loadPrefix === undefined) {
    throw new ConfigError(`unknown phone model '${model}' (boards define: ${boards.map((x) => x.model).join(", ")})`);
  }
  return { family: b.loadPrefix.replace(/^[A-Z]+/, ""), loadPrefix: b.loadPrefix };
}

export function makeTftpRoot(opts: TftpRootOptions): TftpRootResult {
  const preset = getPreset(opts.preset);
  const { family, loadPrefix } = modelFamily(opts.model);
  const model = phoneModels().find((b) => b.model?.toUpperCase() === opts.model.trim().toUpperCase())!.model!;
  const loadName = opts.loadName ?? preset.loadName.replace(/^[A-Z]+41/, loadPrefix);
  const defaultEntry = defaultLoadEntry(model, loadName);
  if (opts.macs.length === 0) throw new ConfigError("no phones: give at least one MAC");
  const devices = opts.pfs?.devices ?? new Map<string, boolean>();
  const macs = opts.macs.map(parseMac);
  for (const mac of devices.keys()) {
    if (!macs.includes(mac)) throw new ConfigError(`a device setting names ${mac}, which is not one of the phones (${macs.slice(0, 3).join(", ")}${macs.length > 3 ? ", ..." : ""})`);
  }

  const files = presetFiles(preset, family);
  const totalBytes = files.reduce((s, f) => s + f.content.length, 0);
  const comments = [
    ` ${loadName}.loads for ${model}: ${files.length} files, ${totalBytes} bytes (preset ${preset.name})`,
    ` each line: file, size in bytes, SHA-256, SHA-256 of its block list (<file>${BLOCK_LIST_SUFFIX}: the SHA-256 of every ${BLOCK_BYTES}-byte block)`,
  ];
  const indexBytes = writeLoads(
    {
      loadName,
      comments,
      components: files.map((f) => ({ name: f.name, sizeBytes: f.content.length, sha256: f.sha256, listSha256: f.listSha256 })),
    },
    { signingKey: opts.signingKey, signerName: opts.signerName ?? (opts.signingKey ? "pfs loads make" : undefined), timestamp: opts.timestamp },
  );
  const index = parseLoads(indexBytes);

  makeDirs(opts.outDir); // throws MakeDirError: never Node's recursive mkdir, which loops under /proc
  const written: Array<{ name: string; sizeBytes: number }> = [];
  const put = (name: string, data: Uint8Array | string) => {
    writeFileSync(join(opts.outDir, name), data);
    written.push({ name, sizeBytes: typeof data === "string" ? Buffer.byteLength(data) : data.length });
  };
  put(`${loadName}.loads`, indexBytes);
  // The order a root fetches them: each component's block list, then the file.
  for (const f of files) {
    put(f.name + BLOCK_LIST_SUFFIX, f.list);
    put(f.name, f.content);
  }
  put(DEFAULT_CONFIG_FILE, writeDefaultConfig({ loads: [defaultEntry] }));
  const phones: TftpPhone[] = [];
  for (const mac of macs) {
    const { enabled, level } = resolvePfsLevel(opts.pfs?.enterprise, opts.pfs?.commonProfile, devices.get(mac));
    const file = sepFileName(mac);
    put(file, writeDeviceConfig({
      loadInformation: loadName,
      peerFirmwareSharing: enabled,
      loadServer: opts.loadServer,
      logServer: opts.logServer,
      httpServer: opts.httpServer,
      wanKbpsMax: opts.wanKbpsMax,
      pfsNote: describePfs(enabled, level),
    }));
    phones.push({ mac, file, pfs: enabled, level });
  }
  const result: TftpRootResult = { loadName, index, files: written, phones };
  if (opts.signingKey !== undefined) result.keyIdHex = Buffer.from(loadsKeyId(opts.signingKey)).toString("hex");
  return result;
}
