// The files a phone reads whole from its own server before an upgrade: its
// configuration (SEP<MAC>.cnf.xml, else XMLDefault.cnf.xml) and the load's
// index (<load>.loads). Each is read with its size limit as the TFTP cap, so
// a server that serves 50 MB where a few KiB belong costs a refusal, not
// 50 MB of memory; every failure is a ServerFileError that names the file.

import {
  DEFAULT_CONFIG_FILE, DefaultConfig, DeviceConfig, MAX_CONFIG_BYTES, parseDefaultConfig, parseDeviceConfig, sepFileName,
} from "../load/config.js";
import { checkLoadsSignature, LoadIndex, MAX_LOADS_BYTES, parseLoads } from "../load/loads.js";
import { TftpError } from "../tftp/client.js";
import { IndexRefusedError, serverFileError } from "./errors.js";

export interface Server {
  host: string;
  port: number;
}

/** Reads one file whole, refusing (TftpError "limit") past maxBytes. */
export type FetchFile = (server: Server, file: string, maxBytes: number) => Promise<Uint8Array>;

async function fetchWhole(fetch: FetchFile, server: Server, file: string, maxBytes: number): Promise<Uint8Array> {
  try {
    return await fetch(server, file, maxBytes);
  } catch (e) {
    throw serverFileError(file, e);
  }
}

/** The phone's own configuration, or undefined when the server has none
 *  (the phone then reads XMLDefault.cnf.xml). */
export async function readDeviceConfig(fetch: FetchFile, server: Server, mac: string): Promise<DeviceConfig | undefined> {
  const file = sepFileName(mac);
  let bytes: Uint8Array;
  try {
    bytes = await fetch(server, file, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof TftpError && e.code === 1) return undefined;
    throw serverFileError(file, e);
  }
  try {
    return parseDeviceConfig(bytes, file);
  } catch (e) {
    throw serverFileError(file, e);
  }
}

export async function readDefaultConfig(fetch: FetchFile, server: Server): Promise<DefaultConfig> {
  const bytes = await fetchWhole(fetch, server, DEFAULT_CONFIG_FILE, MAX_CONFIG_BYTES);
  try {
    return parseDefaultConfig(bytes, DEFAULT_CONFIG_FILE);
  } catch (e) {
    throw serverFileError(DEFAULT_CONFIG_FILE, e);
  }
}

/** The load's index, its signature checked when the phone has a key. */
export async function readIndex(fetch: FetchFile, server: Server, loadName: string, loadsKey: string | undefined, note: (text: string) => void): Promise<LoadIndex> {
  const file = `${loadName}.loads`;
  const bytes = await fetchWhole(fetch, server, file, MAX_LOADS_BYTES);
  if (loadsKey !== undefined) {
    let check: ReturnType<typeof checkLoadsSignature>;
    try {
      check = checkLoadsSignature(bytes, loadsKey);
    } catch (e) {
      throw new IndexRefusedError(`${file}: the configured key cannot be used: ${(e as Error).message}`, { cause: e });
    }
    if (!check.ok) throw new IndexRefusedError(`${file}: its signature does not verify with the configured key: ${check.reason}`);
    note(`${file}: signature verified`);
  }
  try {
    return parseLoads(bytes, file);
  } catch (e) {
    throw serverFileError(file, e);
  }
}
