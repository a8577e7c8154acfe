// One phone's boot: read its configuration from the TFTP server, compare the
// load named there with the one it runs, and upgrade when they differ: fetch
// the load's index straight from the server (the one thing it trusts), then
// every component through PFS (or straight from the server when PFS is off)
// into the inactive flash slot, check each one, make the new load active,
// and linger to serve late peers. Prints console lines in the vendor's style.

import { existsSync } from "node:fs";
import { Ev, NEED_DIRECT, NEED_RELAY } from "../core/abi.js";
import { loadBoard } from "../boards.js";
import { AbStore, Update } from "../flash/ab-store.js";
import { FileDevice } from "../flash/file-device.js";
import { boardLayout, layoutBytes } from "../flash/layout.js";
import { configuredLoad, DeviceConfig, parseDefaultConfig, parseDeviceConfig, sepFileName, upgradeNeeded } from "../load/config.js";
import { checkLoadsSignature, LoadIndex, parseLoads } from "../load/loads.js";
import { clock, formatEvent, xidTag } from "../log/console.js";
import { tftpGet, tftpGetBuffer, TftpError } from "../tftp/client.js";
import { PeerHost, PFS_PORT } from "./peer-host.js";

export interface PhoneOptions {
  mac: string;
  model: string;
  tftp: { host: string; port: number };
  flashPath: string;
  bind: string;
  broadcast: string;
  port: number;
  lingerSec: number;
  board: string;
  tftpBlksize: number;
  tftpWindow: number;
  /** When set, the load's index must carry a valid Ed25519 signature by
   *  this key (a public key in PEM); an unsigned or badly signed index stops
   *  the upgrade. */
  loadsKey?: string;
  out: (line: string) => void;
}

export const PHONE_DEFAULTS = { port: PFS_PORT, lingerSec: 30, board: "third-gen", tftpBlksize: 1428, tftpWindow: 1 };

/** A progress line is printed at every this many percent of a component. */
const PROGRESS_STEP_PERCENT = 10;

/** An upgrade that moves no byte for this long has failed (the core keeps
 *  re-electing and re-joining meanwhile; this is the phone giving up). */
const STALL_LIMIT_MS = 300_000;

export class PhoneError extends Error {}

interface Component {
  index: number;
  name: string;
  sizeBytes: number;
  listBytes: number;
  slot: number;
  done: boolean;
  lastPercent: number;
  viaPfs: boolean;
}

export async function runPhone(o: PhoneOptions): Promise<number> {
  const started = Date.now();
  const say = (level: string, text: string) => o.out(`${level} ${clock(Date.now() - started)} DLoad: ${text}`);
  const board = loadBoard(o.board);
  const layout = boardLayout(board);
  if (!existsSync(o.flashPath)) throw new PhoneError(`no flash image at ${o.flashPath}: make one with 'pfs flash format --flash ${o.flashPath} --load <name>'`);
  const dev = FileDevice.open(o.flashPath, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  const store = AbStore.open(dev, layout);
  const booted = store.boot();
  const running = booted.verified ? booted.manifest?.loadName : undefined;
  say("NOT", `booted ${running ?? "(no verified load)"} from slot ${booted.slot === null ? "-" : "AB"[booted.slot]}: ${booted.reason}`);

  // The configuration comes from our own server: it is trusted.
  const get = (host: string, port: number, file: string) => tftpGetBuffer({ host, port, file, blksize: o.tftpBlksize, tsize: true, localAddress: o.bind });
  let device: DeviceConfig | undefined;
  try {
    device = parseDeviceConfig(await get(o.tftp.host, o.tftp.port, sepFileName(o.mac)), sepFileName(o.mac));
  } catch (e) {
    if (!(e instanceof TftpError && e.code === 1)) throw e;
    say("WRN", `${sepFileName(o.mac)} not found: using XMLDefault.cnf.xml`);
  }
  const defaults = device?.loadInformation === undefined
    ? parseDefaultConfig(await get(o.tftp.host, o.tftp.port, "XMLDefault.cnf.xml"))
    : undefined;
  const target = configuredLoad(device, defaults, o.model);
  if (target === undefined || !upgradeNeeded(target.loadName, running)) {
    say("NOT", `load ${target?.loadName ?? "(none configured)"}: no upgrade needed`);
    return 0;
  }
  const pfs = device?.peerFirmwareSharing ?? false;
  const loadServer = device?.loadServer === undefined
    ? o.tftp
    : { host: device.loadServer.host, port: device.loadServer.port ?? o.tftp.port };
  say("NOT", `upgrade ${running ?? "(none)"} -> ${target.loadName} (from ${target.from}); peer firmware sharing ${pfs ? "on" : "off"}`);

  // The index also comes straight from the server: it says what is right.
  const indexBytes = await get(loadServer.host, loadServer.port, `${target.loadName}.loads`);
  if (o.loadsKey !== undefined) {
    const check = checkLoadsSignature(indexBytes, o.loadsKey);
    if (!check.ok) throw new PhoneError(`${target.loadName}.loads: its signature does not verify with the configured key: ${check.reason}`);
    say("NOT", `${target.loadName}.loads: signature verified`);
  }
  const index: LoadIndex = parseLoads(indexBytes);
  const described = index.components.filter((c) => c.sizeBytes !== undefined && c.sha256 !== undefined && c.listSha256 !== undefined);
  if (described.length !== index.components.length || described.length === 0) {
    throw new PhoneError(`${target.loadName}.loads does not give every component's size and hashes: it cannot be checked`);
  }
  const update: Update = store.beginUpdate(target.loadName, described.map((c) => ({
    name: c.name, sizeBytes: c.sizeBytes!, sha256: c.sha256!, listSha256: c.listSha256!,
  })));
  const comps: Component[] = described.map((c, i) => ({
    index: i, name: c.name, sizeBytes: c.sizeBytes!, listBytes: Math.ceil(c.sizeBytes! / 16384) * 32, slot: -1, done: false,
    lastPercent: -PROGRESS_STEP_PERCENT, viaPfs: pfs,
  }));
  const bySlot = new Map<number, Component>();
  const byXid = new Map<number, Component>();

  const host = new PeerHost({
    bind: o.bind, broadcast: o.broadcast, port: o.port, seed: hashSeed(o.mac), core: board.core,
    log: (line) => say("DBG", line),
    fetcher: {
      async fetch(slot, from, total, sink, signal) {
        const c = bySlot.get(slot)!;
        say("INF", `${c.name}: fetching from the server at byte ${from}`);
        // The block list first ("<file>.blk"), then the file; TFTP cannot
        // start mid-file, so bytes before `from` are read and dropped.
        if (from < c.listBytes) await fetchRange(`${c.name}.blk`, 0, from, c.listBytes, sink, signal);
        await fetchRange(c.name, c.listBytes, from, total, sink, signal);
      },
    },
    flash: {
      write(slot, offset, bytes) {
        update.writeAt(bySlot.get(slot)!.index, offset, bytes);
      },
      read(slot, offset, into) {
        try {
          into.set(update.readAt(bySlot.get(slot)!.index, offset, into.length));
          return into.length;
        } catch {
          return 0;
        }
      },
    },
    onEvent(xid, code, n, a, b) {
      const c = byXid.get(xid);
      const lines = formatEvent(Date.now() - started, host.self, xid, code, n, a, b, c === undefined ? undefined : { model: o.model, file: c.name });
      if (lines !== null && code !== Ev.RootAd) for (const l of lines) o.out(l);
      if (code === Ev.FileDone && c !== undefined) c.done = true;
    },
  });

  async function fetchRange(file: string, base: number, from: number, end: number, sink: (chunk: Uint8Array) => Promise<void>, signal: AbortSignal) {
    await tftpGet({
      host: loadServer.host, port: loadServer.port, file, blksize: o.tftpBlksize, windowsize: o.tftpWindow, tsize: true,
      localAddress: o.bind, signal,
      onData: async (chunk, offset) => {
        const at = base + offset;
        const skip = Math.max(0, Math.min(chunk.length, from - at));
        const upTo = Math.min(chunk.length, end - at);
        if (upTo > skip) await sink(chunk.subarray(skip, upTo));
      },
    });
  }

  await host.start();
  try {
    for (const c of comps) {
      const flags = NEED_RELAY | (pfs ? 0 : NEED_DIRECT);
      const file = index.components[c.index];
      c.slot = host.call(() => host.core.need(host.now(), o.model, c.name, c.sizeBytes, 0, flags, file.listSha256));
      if (c.slot < 0) throw new PhoneError(`the core could not take ${c.name} (${c.slot}): board figures too small for this load?`);
      bySlot.set(c.slot, c);
      byXid.set(host.core.xidOf(o.model, c.name), c);
      say("INF", `${xidTag(host.core.xidOf(o.model, c.name))} need ${c.name} (${c.sizeBytes} bytes) ${pfs ? "through PFS" : "directly from the server"}`);
    }
    // Progress until every component is in flash and checked.
    let lastMoved = Date.now();
    let lastTotal = -1;
    while (comps.some((c) => !c.done)) {
      await new Promise((r) => setTimeout(r, 200));
      const total = comps.reduce((sum, c) => sum + (host.core.x.hierHeld(c.slot) >>> 0), 0);
      if (total !== lastTotal) {
        lastTotal = total;
        lastMoved = Date.now();
      } else if (Date.now() - lastMoved > STALL_LIMIT_MS) {
        throw new PhoneError(`no progress for ${STALL_LIMIT_MS / 1000} s: giving up (the old load stays active)`);
      }
      for (const c of comps) {
        const held = Math.max(0, (host.core.x.hierHeld(c.slot) >>> 0) - c.listBytes);
        const percent = c.done ? 100 : Math.floor((held * 100) / c.sizeBytes);
        if (percent >= c.lastPercent + PROGRESS_STEP_PERCENT || (c.done && c.lastPercent < 100)) {
          c.lastPercent = c.done ? 100 : percent - (percent % PROGRESS_STEP_PERCENT);
          say("INF", `${c.name} ${String(percent).padStart(3)}% ${Math.round(held / 1024)} KB ${c.viaPfs ? "PFS" : "direct"}`);
        }
      }
    }
    for (const c of comps) {
      if (!update.verify(c.index)) throw new PhoneError(`${c.name} does not verify in flash after the transfer`);
    }
    update.commit();
    say("NOT", `load ${target.loadName} verified in flash and active (${comps.length} components)`);
    // Serve late peers for a while, then leave.
    if (o.lingerSec > 0) {
      say("INF", `lingering ${o.lingerSec} s to serve peers`);
      await new Promise((r) => setTimeout(r, o.lingerSec * 1000));
    }
    return 0;
  } finally {
    await host.stop();
  }
}

/** A per-phone seed for the core's tie-breaks: its MAC. */
function hashSeed(mac: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < mac.length; i++) h = Math.imul(h ^ mac.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}
