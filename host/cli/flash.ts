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
import { parse, UsageError } from "./args.js";

const DEFAULT_BOARD = "cp-7961g";
const DEFAULT_PRESET = "tiny";

export const FLASH_USAGE = `usage: pfs flash ls --flash FILE [--board BOARD] [--json]
       pfs flash format --flash FILE --load NAME [--preset PRESET] [--board BOARD] [--force]
  ls       the slot the next power-up boots (on trial or not), its load, each
           component's size, SHA-256 and whether it verifies in the image,
           and each slot's state: active, trial, confirmed, bad or empty;
           exits 1 if no load verifies
  format   a factory image: the preset's components as load NAME in slot A,
           committed (confirmed) by the first boot record; makes FILE (sparse)
           if missing, and removes it again if the format fails
  --flash FILE     the flash image (boot records, slot A, slot B: docs/FLASH.md)
  --board BOARD    whose "flash" figures give the layout (default ${DEFAULT_BOARD})
  --load NAME      the factory load's name: a load name as in an index (${PLAIN_NAME_RULE}),
                   at most ${NAME_BYTES} bytes
  --preset PRESET  the factory load's files: ${presetNames().join(", ")} (default ${DEFAULT_PRESET})
  --force          format even an image that boots a verified load
  --json           ls prints one JSON object`;

const fail = (message: string): never => {
  throw new UsageError(`${message}\n\n${FLASH_USAGE}`);
};

/** A bad value rather than a bad command line: one line, no usage. */
const refuse = (message: string): never => {
  throw new UsageError(`flash format: ${message}`);
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

export function flashCommand(argv: string[], out: (line: string) => void): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    out(FLASH_USAGE);
    return sub === undefined ? 2 : 0;
  }
  const { values } = parse(rest, {
    flash: { type: "string" }, board: { type: "string" }, load: { type: "string" }, preset: { type: "string" },
    force: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean" },
  }, FLASH_USAGE);
  if (values.help) {
    out(FLASH_USAGE);
    return 0;
  }
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const path = str(values.flash) ?? fail("--flash FILE is needed");
  let board: Board;
  let layout: Layout;
  try {
    board = loadBoard(str(values.board) ?? DEFAULT_BOARD);
    layout = boardLayout(board);
  } catch (e) {
    return fail((e as Error).message);
  }
  switch (sub) {
    case "ls":
      return ls(path, layout, values.json === true, out);
    case "format":
      return format(path, layout, board, str(values.load) ?? fail("--load NAME is needed"), str(values.preset) ?? DEFAULT_PRESET, values.force === true, out);
    default:
      return fail(`unknown flash command '${sub}'`);
  }
}

function ls(path: string, layout: Layout, json: boolean, out: (line: string) => void): number {
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
