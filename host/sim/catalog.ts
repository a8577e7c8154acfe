// What the simulated fleet upgrades: phone models from boards/, and per model
// a load index plus its components, with the real sizes of the 7941/7961
// load 9.4(2)ES26 SCCP (FACTS.md). Models other than the 7941/7961 reuse those
// sizes under their own file-name prefix: only the names matter to PFS.

import { phoneModels } from "../boards.js";

export interface SimFile {
  name: string;
  sizeBytes: number;
}

export interface SimModel {
  model: string;
  board: string;
  /** File-name family: "41" for the 7941/7961 (SCCP41...). */
  family: string;
  files: SimFile[];
}

/** The 7961 first: it is the technote's phone. */
const PREFERRED = ["cp-7961g", "cp-7941g", "cp-7911g", "cp-7970g", "cp-7906g", "cp-7931g", "cp-7971g"];

/** Real component sizes in bytes (FACTS.md), in the order a phone fetches
 *  them after the index: jar, cnu, apps, dsp, cvm. */
export const COMPONENTS_9_4_2 = [
  { stem: "jar41sccp", sizeBytes: 1_630_052 },
  { stem: "cnu41", sizeBytes: 556_833 },
  { stem: "apps41", sizeBytes: 3_157_527 },
  { stem: "dsp41", sizeBytes: 562_693 },
  { stem: "cvm41sccp", sizeBytes: 2_219_477 },
];
/** A real signed .loads index is 652 bytes (FACTS.md). */
export const LOADS_INDEX_BYTES = 652;

export const MAX_SIM_MODELS = 7;
export const MAX_SIM_FILES = 16;

export function simCatalog(models: number, files: number): SimModel[] {
  if (!Number.isInteger(models) || models < 1 || models > MAX_SIM_MODELS) {
    throw new Error(`--models must be a whole number from 1 to ${MAX_SIM_MODELS}`);
  }
  if (!Number.isInteger(files) || files < 1 || files > MAX_SIM_FILES) {
    throw new Error(`--files must be a whole number from 1 to ${MAX_SIM_FILES}`);
  }
  const boards = phoneModels();
  const ordered = PREFERRED.map((n) => boards.find((b) => b.name === n)).filter((b) => b !== undefined);
  for (const b of boards) if (!ordered.includes(b)) ordered.push(b);
  return ordered.slice(0, models).map((b) => {
    const prefix = b.loadPrefix ?? "LOAD";
    const family = prefix.replace(/^SCCP/, "");
    const list: SimFile[] = [{ name: `${prefix}.9-4-2SR2-2S.loads`, sizeBytes: LOADS_INDEX_BYTES }];
    for (const c of COMPONENTS_9_4_2) {
      list.push({ name: `${c.stem.replace("41", family)}.9-4-2ES26.sbn`, sizeBytes: c.sizeBytes });
    }
    for (let i = list.length; i < files; i++) list.push({ name: `extra${i}.${family}.sbn`, sizeBytes: 1 << 20 });
    return { model: b.model!, board: b.name, family, files: list.slice(0, files) };
  });
}
