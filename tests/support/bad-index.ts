// Hostile server files for the phones' bad-input tests (Node and C phones):
// a good `.loads` index edited after its header, an XML entity bomb, and a
// folder per case.

import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseLoads } from "../../host/load/loads.js";
import { factoryFlash, snapshotTree } from "./phone-proc.js";

/** Edits of a good index: its text after the header (the header's length
 *  field covers the header only, so the text may change length), or the
 *  fields of its first component's line. */
export function indexEditor(goodIndex: Buffer) {
  const first = parseLoads(goodIndex).components[0];
  const editIndex = (edit: (text: string) => string): Buffer => {
    const at = parseLoads(goodIndex).header.headerBytes;
    const text = edit(goodIndex.subarray(at).toString("latin1"));
    return Buffer.concat([goodIndex.subarray(0, at), Buffer.from(text, "latin1")]);
  };
  const firstLine = (edit: (fields: string[]) => string[]) => editIndex((text) => text.replace(
    new RegExp(`^${first.name.replace(/\./g, "\\.")} .*$`, "m"), (line) => edit(line.split(" ")).join(" ")));
  return { first, editIndex, firstLine };
}

/** A billion laughs: ten entities of ten each, nine deep (10^9 'lol's). */
export function entityBomb(): string {
  let decl = '<!ENTITY lol0 "lol">';
  for (let i = 1; i < 10; i++) decl += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
  return `<?xml version="1.0"?>\n<!DOCTYPE device [${decl}]>\n<device><loadInformation>&lol9;</loadInformation></device>\n`;
}

/** One bad-input case's folder: the server's root (a copy of `pristine`
 *  with `files` replaced), an empty working directory for the phone, its
 *  factory flash image, and a snapshot of it all to tell later what the
 *  phone changed. */
export function caseFolder(here: string, pristine: string, files: Record<string, Uint8Array | string>) {
  const root = join(here, "root");
  const cwd = join(here, "cwd");
  cpSync(pristine, root, { recursive: true });
  mkdirSync(cwd);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
  const flash = join(here, "phone.flash");
  factoryFlash(flash);
  return { root, cwd, flash, before: snapshotTree(here) };
}
