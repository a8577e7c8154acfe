// A slot's manifest: what load the slot holds and how to check every byte of
// it. It is written first in an update, protected by its own SHA-256 (a torn
// or AND-ed write of it fails the check), and named by hash in the boot
// record, so a record can only ever commit exactly the manifest it was
// written for. Byte layout in docs/FLASH.md.

import { BLOCK_BYTES, HASH_BYTES } from "../core/abi.js";
import { sha256 } from "../load/blocklist.js";

export interface ComponentEntry {
  name: string;
  sizeBytes: number;
  /** The block list's length: transfer offsets below it are the list. */
  listBytes: number;
  /** Where the component's transfer space starts, from the slot's start. */
  offsetBytes: number;
  sha256: Uint8Array;
  listSha256: Uint8Array;
}

export interface Manifest {
  loadName: string;
  /** The boot record sequence number that commits this load. */
  seq: number;
  components: ComponentEntry[];
}

/** A load of the third generation has five components; room for three times that. */
export const MAX_COMPONENTS = 16;
/** Longest load or component name, UTF-8 (the longest of the 7961 load is 23: cvm41sccp.9-4-2ES26.sbn). */
export const NAME_BYTES = 64;

const MAGIC = 0x4d534650; // "PFSM" read as a little-endian u32
const VERSION = 1;
const HEADER_BYTES = 16 + NAME_BYTES;
const ENTRY_BYTES = NAME_BYTES + 4 + 4 + HASH_BYTES + HASH_BYTES;

/** The block list's length for a file: one hash per started 16 KiB block. */
export function listBytesOf(sizeBytes: number): number {
  return Math.ceil(sizeBytes / BLOCK_BYTES) * HASH_BYTES;
}

/** The relay's offset space for a file: its block list, then its bytes. */
export function transferBytesOf(sizeBytes: number): number {
  return listBytesOf(sizeBytes) + sizeBytes;
}

export function manifestBytes(components: number): number {
  return HEADER_BYTES + components * ENTRY_BYTES + HASH_BYTES;
}

export const MAX_MANIFEST_BYTES = manifestBytes(MAX_COMPONENTS);

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throws unless `name` fits a name field: 1..NAME_BYTES of UTF-8, no NUL. */
export function checkName(name: string, what: string): void {
  const n = utf8.encode(name).length;
  if (n === 0 || n > NAME_BYTES || name.includes("\0")) throw new RangeError(`${what} '${name}' must be 1 to ${NAME_BYTES} bytes of UTF-8 without NUL (it is ${n})`);
}

function putName(out: Uint8Array, at: number, name: string): void {
  out.set(utf8.encode(name), at); // the rest of the field stays zero
}

function getName(bytes: Uint8Array, at: number): string | null {
  const field = bytes.subarray(at, at + NAME_BYTES);
  const end = field.indexOf(0);
  const len = end < 0 ? NAME_BYTES : end;
  if (len === 0 || field.subarray(len).some((b) => b !== 0)) return null;
  try {
    return fromUtf8.decode(field.subarray(0, len));
  } catch {
    return null;
  }
}

export function encodeManifest(m: Manifest): Uint8Array {
  const n = m.components.length;
  if (n < 1 || n > MAX_COMPONENTS) throw new RangeError(`a load has 1 to ${MAX_COMPONENTS} components (got ${n})`);
  checkName(m.loadName, "load name");
  const out = new Uint8Array(manifestBytes(n));
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint16(4, VERSION, true);
  v.setUint16(6, n, true);
  v.setUint32(8, m.seq, true);
  v.setUint32(12, out.length, true);
  putName(out, 16, m.loadName);
  m.components.forEach((c, i) => {
    const at = HEADER_BYTES + i * ENTRY_BYTES;
    checkName(c.name, "component name");
    putName(out, at, c.name);
    v.setUint32(at + NAME_BYTES, c.sizeBytes, true);
    v.setUint32(at + NAME_BYTES + 4, c.offsetBytes, true);
    out.set(c.sha256, at + NAME_BYTES + 8);
    out.set(c.listSha256, at + NAME_BYTES + 8 + HASH_BYTES);
  });
  out.set(sha256(out.subarray(0, out.length - HASH_BYTES)), out.length - HASH_BYTES);
  return out;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; why: string };

/** Reads a manifest from the start of a slot's manifest sectors. Trusts
 *  nothing until the hash matches: a length read from a torn header only
 *  decides how much to hash. It also checks that every component lies inside
 *  the slot, after the manifest's sectors, in order, without overlap. */
export function decodeManifest(bytes: Uint8Array, limits: { slotBytes: number; firstComponentBytes: number }): Decoded<{ manifest: Manifest; sha256: Uint8Array; bytes: Uint8Array }> {
  if (bytes.length < manifestBytes(1)) return { ok: false, why: "manifest area too short" };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return { ok: false, why: "no manifest (bad magic)" };
  if (v.getUint16(4, true) !== VERSION) return { ok: false, why: `manifest version ${v.getUint16(4, true)} unknown` };
  const n = v.getUint16(6, true);
  const length = v.getUint32(12, true);
  if (n < 1 || n > MAX_COMPONENTS || length !== manifestBytes(n) || length > bytes.length) return { ok: false, why: "manifest header damaged" };
  const body = bytes.subarray(0, length - HASH_BYTES);
  const hash = bytes.subarray(length - HASH_BYTES, length);
  if (!sameBytes(sha256(body), hash)) return { ok: false, why: "manifest hash does not match (torn or damaged)" };
  const loadName = getName(bytes, 16);
  if (loadName === null) return { ok: false, why: "manifest load name malformed" };
  const components: ComponentEntry[] = [];
  let next = limits.firstComponentBytes;
  for (let i = 0; i < n; i++) {
    const at = HEADER_BYTES + i * ENTRY_BYTES;
    const name = getName(bytes, at);
    const sizeBytes = v.getUint32(at + NAME_BYTES, true);
    const offsetBytes = v.getUint32(at + NAME_BYTES + 4, true);
    const listBytes = listBytesOf(sizeBytes);
    if (name === null || sizeBytes === 0) return { ok: false, why: `manifest component ${i} malformed` };
    if (offsetBytes < next || offsetBytes + listBytes + sizeBytes > limits.slotBytes) return { ok: false, why: `manifest component ${name} lies outside its place in the slot` };
    next = offsetBytes + listBytes + sizeBytes;
    components.push({
      name, sizeBytes, listBytes, offsetBytes,
      sha256: bytes.slice(at + NAME_BYTES + 8, at + NAME_BYTES + 8 + HASH_BYTES),
      listSha256: bytes.slice(at + NAME_BYTES + 8 + HASH_BYTES, at + NAME_BYTES + 8 + 2 * HASH_BYTES),
    });
  }
  const encoded = bytes.slice(0, length);
  return { ok: true, value: { manifest: { loadName, seq: v.getUint32(8, true), components }, sha256: sha256(encoded), bytes: encoded } };
}
