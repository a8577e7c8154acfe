// Board and phone-model definitions are data (boards/*.json), chained with
// "inherits" the way TinyGo chains its targets: a model lists only what
// differs from its family. This module resolves the chain.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CoreConfig } from "./core/abi.js";

export interface Board {
  name: string;
  description?: string;
  model?: string;
  loadPrefix?: string;
  /** The device-type number of `<loadInformationNNN>` in XMLDefault.cnf.xml. */
  deviceTypeCode?: number;
  /** The `model` attribute XMLDefault.cnf.xml files carry ("Cisco 7961"). */
  xmlModel?: string;
  core: CoreConfig;
  [key: string]: unknown;
}

/** A board that names no tftpWindowMax fetches in lockstep (RFC 1350). */
const TFTP_WINDOW_DEFAULT = 1;
/** RFC 7440 section 3: windowsize is 1 to 65535. */
const TFTP_WINDOW_LIMIT = 65535;

/** The largest TFTP windowsize the board's root asks (boards/third-gen.json
 *  says why its figure is what it is). */
export function boardTftpWindowMax(board: Board): number {
  const w = board.tftpWindowMax ?? TFTP_WINDOW_DEFAULT;
  if (typeof w !== "number" || !Number.isInteger(w) || w < 1 || w > TFTP_WINDOW_LIMIT) {
    throw new Error(`board ${board.name}: tftpWindowMax must be a whole number from 1 to ${TFTP_WINDOW_LIMIT} (RFC 7440)`);
  }
  return w;
}

/** assembly/config.ts: the transfers a core runs at once when its board
 *  names none (issue 14 generates such numbers from the core). */
const CORE_DEFAULT_TRANSFERS = 4;

/** The server fetches a phone of this board may run at once: what a WAN
 *  budget splits a root's TFTP window by (host/wan/budget.ts). */
export function boardMaxTransfers(board: Board): number {
  return board.core.maxTransfers ?? CORE_DEFAULT_TRANSFERS;
}

/** A chain longer than this is a loop or a mistake. */
const MAX_INHERIT_DEPTH = 8;

function boardsDir(): string {
  // A folder of one's own boards (tests; a port in progress) may stand in.
  const own = process.env.PFS_BOARDS_DIR;
  if (own !== undefined && own !== "") return own;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const c of [join(here, "../boards"), join(here, "../../boards"), join(here, "../../../boards")]) {
    try {
      // The data folder holds board files; build/boards (board images,
      // `make board`) is on the way up from build/js and holds none.
      if (readdirSync(c).some((f) => f.endsWith(".json"))) return c;
    } catch {
      /* next */
    }
  }
  throw new Error("cannot find the boards/ folder");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(base[k]) ? merge(base[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

export function loadBoard(name: string, dir = boardsDir()): Board {
  let raw: Record<string, unknown> = {};
  const chain: string[] = [];
  let next: string | undefined = name;
  while (next !== undefined) {
    if (chain.length >= MAX_INHERIT_DEPTH || chain.includes(next)) {
      throw new Error(`board ${name}: inherits chain too long or looping (${chain.join(" -> ")})`);
    }
    chain.push(next);
    let text: string;
    try {
      text = readFileSync(join(dir, `${next}.json`), "utf8");
    } catch {
      throw new Error(`board ${next} not found in ${dir} (try one of: ${listBoards(dir).join(", ")})`);
    }
    const data = JSON.parse(text) as Record<string, unknown>;
    raw = merge(data, raw);
    next = typeof data.inherits === "string" ? data.inherits : undefined;
  }
  delete raw.inherits;
  if (!isObject(raw.core)) throw new Error(`board ${name}: no "core" figures in its chain`);
  return raw as unknown as Board;
}

export function listBoards(dir = boardsDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Every phone model the boards define, in a stable order. */
export function phoneModels(dir = boardsDir()): Board[] {
  return listBoards(dir)
    .map((n) => loadBoard(n, dir))
    .filter((b) => typeof b.model === "string")
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
