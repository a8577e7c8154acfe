// `pfs flash`: a phone's flash as an image file. `format` makes a factory
// image (a preset load in slot A, committed); `ls` says what would boot: the
// slot, its load, and each component checked from the image, and each slot's
// state (active, trial, confirmed, bad, empty: host/flash/slot-state.ts).

import { existsSync, rmSync } from "node:fs";
import { loadBoard, type Board } from "../boards.js";
import { AbStore, type BootResult } from "../flash/ab-store.js";
import { FlashError } from "../flash/errors.js";
import { FileDevice } from "../flash/file-device.js";
import type { SlotState } from "../flash/slot-state.js";
import { boardLayout, slotName, type Layout } from "../flash/layout.js";
import { NAME_BYTES } from "../flash/manifest.js";
import { isPlainName, PLAIN_NAME_RULE } from "../load/loads.js";
import { getPreset, presetFiles, presetNames } from "../load/presets.js";
import { Command } from "commander";
import { choiceOption, flagOption, onRun, Out, pfsCommand, required, runAlone, textOption, UsageError } from "./args.js";

const DEFAULT_BOARD = "cp-7961g";
const DEFAULT_PRESET = "tiny";

const fail = (message: string): never => {
  throw new UsageError(message);
};

/** A bad value for format. */
const refuse = (message: string): never => {
  throw new UsageError(message);
};

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The family in file names ("41" in jar41sccp...) from the board's load prefix. */
function family(board: Board): string {
  return /(\d\d)$/.exec(board.loadPrefix ?? "")?.[1] ?? "41";
}

function openImage(path: string, layout: Layout): FileDevice {
  try {
    return FileDevice.open(path, layout.sectorBytes, layout.totalSectors);
  } catch (e) {
    return fail(`cannot open flash image ${path}: ${(e as Error).message}`);
  }
}

interface FlashOpts {
  flash: string;
  board: string;
  load?: string;
  preset?: string;
  force?: boolean;
  json?: boolean;
}

const flashFile = () => required(textOption("--flash <file>", "the flash image (boot records, slot A, slot B: docs/FLASH.md)"));
const boardOpt = () => textOption("--board <board>", 'whose "flash" figures give the layout', DEFAULT_BOARD);

export function flashCli(out: Out): Command {
  const flash = pfsCommand("flash", "a phone's A/B flash as an image file: format, ls", out);
  const ls = pfsCommand("ls", "what the next power-up boots, and each slot's state", out)
    .description("The slot the next power-up boots (on trial or not), its load, each component's size, SHA-256 and whether it verifies in the image, and each slot's state: active, trial, confirmed, bad or empty; exits 1 if no load verifies.")
    .addOption(flashFile()).addOption(boardOpt())
    .addOption(flagOption("--json", "print one JSON object"));
  const fmt = pfsCommand("format", "make a factory image", out)
    .description("A factory image: the preset's components as load NAME in slot A, committed (confirmed) by the first boot record; makes FILE (sparse) if missing, and removes it again if the format fails.")
    .addOption(flashFile()).addOption(boardOpt())
    .addOption(required(textOption("--load <name>", `the factory load's name: a load name as in an index (${PLAIN_NAME_RULE}), at most ${NAME_BYTES} bytes`)))
    .addOption(choiceOption("--preset <preset>", "the factory load's files", presetNames(), DEFAULT_PRESET))
    .addOption(flagOption("--force", "format even an image that boots a verified load"));
  onRun<FlashOpts>(ls, (o) => {
    const { layout } = boardOf(o.board);
    return lsImage(o.flash, layout, o.json === true, out);
  });
  onRun<FlashOpts>(fmt, (o) => {
    const { board, layout } = boardOf(o.board);
    return format(o.flash, layout, board, o.load!, o.preset ?? DEFAULT_PRESET, o.force === true, out);
  });
  return flash.addCommand(ls).addCommand(fmt);
}

/** `pfs flash ARGV` in this process. */
export function flashCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(flashCli(out), argv, out);
}

function boardOf(name: string): { board: Board; layout: Layout } {
  try {
    const board = loadBoard(name);
    return { board, layout: boardLayout(board) };
  } catch (e) {
    return fail((e as Error).message);
  }
}

function lsImage(path: string, layout: Layout, json: boolean, out: (line: string) => void): number {
  const dev = openImage(path, layout);
  let b: BootResult;
  let slots: SlotState[];
  try {
    const store = AbStore.open(dev, layout);
    b = store.boot();
    slots = store.slots();
  } finally {
    dev.close();
  }
  const slot = b.slot === null ? null : slotName(b.slot);
  const state = b.verified ? (b.trial ? "trial" : "active") : null;
  const components = (b.manifest?.components ?? []).map((c, i) => ({
    name: c.name, sizeBytes: c.sizeBytes, sha256: hex(c.sha256), listSha256: hex(c.listSha256),
    verified: b.components[i]?.ok === true, why: b.components[i]?.why ?? "not checked",
  }));
  if (json) {
    out(JSON.stringify({ ok: b.verified, slot, state, loadName: b.manifest?.loadName ?? null, seq: b.manifest?.seq ?? null, recordSeq: b.recordSeq, verified: b.verified, reason: b.reason, components, slots }));
    return b.verified ? 0 : 1;
  }
  const load = b.manifest === null ? "no readable manifest" : `${b.manifest.loadName} (seq ${b.manifest.seq})`;
  out(b.verified ? `${path}: slot ${slot} boots ${load}${b.trial ? " once, on trial" : ""}` : `${path}: NO VERIFIED LOAD (${slot === null ? "no boot record" : `slot ${slot}: ${load}`})`);
  out(`  ${b.reason}`);
  const width = Math.max(0, ...components.map((c) => c.name.length));
  for (const c of components) {
    out(`  ${c.name.padEnd(width)} ${String(c.sizeBytes).padStart(9)} bytes  sha256 ${c.sha256}  ${c.verified ? "verified" : `NOT VERIFIED: ${c.why}`}`);
  }
  for (const st of slots) out(`  slot ${st.slot}: ${st.state.padEnd(9)} ${st.loadName ?? "-"}${st.seq === null ? "" : ` (seq ${st.seq})`}: ${st.why}`);
  return b.verified ? 0 : 1;
}

/** The factory load's name: the load-name rule every index and config
 *  follows (host/load/loads.ts), and what a manifest's name field holds. */
function checkLoadName(name: string): void {
  const shown = name.length > 80 ? `${name.slice(0, 80)}...` : name;
  if (!isPlainName(name)) refuse(`--load: '${shown}' (${name.length} characters) is not a load name (${PLAIN_NAME_RULE})`);
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > NAME_BYTES) refuse(`--load: '${shown}' is ${bytes} bytes; a flash manifest holds a load name of at most ${NAME_BYTES}`);
}

function format(path: string, layout: Layout, board: Board, loadName: string, presetName: string, force: boolean, out: (line: string) => void): number {
  checkLoadName(loadName);
  let files;
  try {
    files = presetFiles(getPreset(presetName), family(board));
  } catch (e) {
    return fail((e as Error).message);
  }
  const existed = existsSync(path);
  let dev: FileDevice;
  try {
    dev = existed ? FileDevice.open(path, layout.sectorBytes, layout.totalSectors) : FileDevice.create(path, layout.sectorBytes, layout.totalSectors);
  } catch (e) {
    return fail(`cannot ${existed ? "open" : "create"} flash image ${path}: ${(e as Error).message}`);
  }
  let done = false;
  try {
    if (existed && !force) {
      const b = AbStore.open(dev, layout).boot();
      if (b.verified) fail(`${path} boots ${b.manifest!.loadName} from slot ${slotName(b.slot!)}: use --force to format it anyway`);
    }
    let store: AbStore;
    try {
      store = AbStore.format(dev, layout, { loadName, components: files.map((f) => ({ name: f.name, bytes: f.content })) });
    } catch (e) {
      if (e instanceof RangeError || e instanceof FlashError) refuse((e as Error).message.replace(/^flash: /, ""));
      throw e;
    }
    const m = store.activeLoad()!;
    const bytes = m.components.reduce((sum, c) => sum + c.sizeBytes, 0);
    out(`${path}: formatted (${layout.totalSectors} sectors of ${layout.sectorBytes} bytes): slot A holds ${m.loadName}, ${m.components.length} components, ${bytes} bytes, verified; boot record ${m.seq}`);
    done = true;
  } finally {
    dev.close();
    // A format that failed leaves no image it made behind (an image that was
    // there before stays, whatever it holds now).
    if (!done && !existed) rmSync(path, { force: true });
  }
  return 0;
}
