// Preset loads with deterministic contents, for the simulator, tests and
// `pfs loads make`. `cp7961-9.4.2` has the five real component sizes of the
// 7941/7961 load 9.4(2)ES26 SCCP (FACTS.md: 8,126,582 bytes in all), fetched
// in the order a phone fetches them. The bytes are a seeded pseudo-random
// stream (xorshift32), so every run and every host makes the same files.

import { relayFile, RelayFile } from "./blocklist.js";

export interface PresetComponent {
  stem: string;
  sizeBytes: number;
}

export interface Preset {
  name: string;
  loadName: string;
  components: PresetComponent[];
}

export const PRESETS: Record<string, Preset> = {
  "cp7961-9.4.2": {
    name: "cp7961-9.4.2",
    loadName: "SCCP41.9-4-2SR2-2S",
    components: [
      { stem: "jar41sccp.9-4-2ES26.sbn", sizeBytes: 1_630_052 },
      { stem: "cnu41.9-4-2ES26.sbn", sizeBytes: 556_833 },
      { stem: "apps41.9-4-2ES26.sbn", sizeBytes: 3_157_527 },
      { stem: "dsp41.9-4-2ES26.sbn", sizeBytes: 562_693 },
      { stem: "cvm41sccp.9-4-2ES26.sbn", sizeBytes: 2_219_477 },
    ],
  },
  /** A microcontroller phone's load (boards/mcu.json): five components,
   *  each within the board's 1 MiB maxFileBytes, 1.25 MiB in all. The sizes
   *  are ours (no public figure exists for such a prototype): a bootloader,
   *  the application, DSP code, UI assets and a tone/locale table. */
  "mcu-1.0": {
    name: "mcu-1.0",
    loadName: "SCCP41.MCU-1-0",
    components: [
      { stem: "boot41.mcu-1-0.bin", sizeBytes: 49_152 },
      { stem: "app41.mcu-1-0.bin", sizeBytes: 655_360 },
      { stem: "dsp41.mcu-1-0.bin", sizeBytes: 262_144 },
      { stem: "ui41.mcu-1-0.bin", sizeBytes: 327_680 },
      { stem: "tones41.mcu-1-0.bin", sizeBytes: 16_384 },
    ],
  },
  /** A small load for quick tests and the demo: same shape, 1/64 the size. */
  "tiny": {
    name: "tiny",
    loadName: "SCCP41.TINY",
    components: [
      { stem: "jar41sccp.tiny.sbn", sizeBytes: 25_470 },
      { stem: "cnu41.tiny.sbn", sizeBytes: 8_700 },
      { stem: "apps41.tiny.sbn", sizeBytes: 49_336 },
    ],
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (p === undefined) throw new Error(`unknown load preset '${name}' (try one of: ${presetNames().join(", ")})`);
  return p;
}

/** Deterministic bytes for a file name (xorshift32 seeded by FNV-1a). */
export function presetBytes(name: string, sizeBytes: number): Uint8Array {
  let s = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) s = Math.imul(s ^ name.charCodeAt(i), 0x01000193);
  s = (s >>> 0) || 1;
  const words = new Uint32Array(Math.ceil(sizeBytes / 4));
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s >>> 0;
  }
  return new Uint8Array(words.buffer, 0, sizeBytes);
}

/** A preset's components for one model, renamed with its file-name family
 *  (the 7941/7961 family is "41"). */
export function presetFiles(preset: Preset, family = "41"): RelayFile[] {
  return preset.components.map((c) => {
    const name = c.stem.replace("41", family);
    return relayFile(name, presetBytes(name, c.sizeBytes));
  });
}

export function presetLoadBytes(preset: Preset): number {
  return preset.components.reduce((sum, c) => sum + c.sizeBytes, 0);
}
