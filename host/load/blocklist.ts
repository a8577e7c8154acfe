// The block list of a file: the SHA-256 of every 16 KiB block, in order. Its
// own SHA-256 goes in the load's index, which a phone takes only from its
// server; the list itself may then come from any peer (docs/DESIGN.md).

import { createHash } from "node:crypto";
import { BLOCK_BYTES, HASH_BYTES } from "../core/abi.js";

export function blockList(content: Uint8Array): Uint8Array {
  const blocks = Math.ceil(content.length / BLOCK_BYTES);
  const list = new Uint8Array(blocks * HASH_BYTES);
  for (let k = 0; k < blocks; k++) {
    const block = content.subarray(k * BLOCK_BYTES, Math.min(content.length, (k + 1) * BLOCK_BYTES));
    list.set(createHash("sha256").update(block).digest(), k * HASH_BYTES);
  }
  return list;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** A file ready to relay: its bytes, block list, and the hashes the index
 *  carries. `stream` is what travels: the list, then the file. */
export interface RelayFile {
  name: string;
  content: Uint8Array;
  list: Uint8Array;
  listSha256: Uint8Array;
  sha256: Uint8Array;
  stream: Uint8Array;
}

export function relayFile(name: string, content: Uint8Array): RelayFile {
  const list = blockList(content);
  const stream = new Uint8Array(list.length + content.length);
  stream.set(list, 0);
  stream.set(content, list.length);
  return { name, content, list, listSha256: sha256(list), sha256: sha256(content), stream };
}
