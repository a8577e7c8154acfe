// One phone's boot: read its configuration from the TFTP server, compare the
// load named there with the one it runs, and upgrade when they differ: fetch
// the load's index straight from the server (the one thing it trusts), then
// every component through PFS (or straight from the server when PFS is off)
// into the inactive flash slot, check each one, commit the new load on trial,
// linger to serve late peers, then reboot into it and confirm it once it has
// read its configuration from the server (./boot-flow.ts). Prints console
// lines in the vendor's style.

import { existsSync } from "node:fs";
import { Ev, NEED_DIRECT, NEED_RELAY } from "../core/abi.js";
import { Board, boardMaxTransfers, boardTftpWindowMax, loadBoard } from "../boards.js";
import { AbStore, Update } from "../flash/ab-store.js";
import { FileDevice } from "../flash/file-device.js";
import { IoFaultDevice, type IoFault } from "../flash/io-fault-device.js";
import { boardLayout, Layout, layoutBytes } from "../flash/layout.js";
import { configuredLoad, DeviceConfig, LOG_SERVER_DEFAULT_PORT, sepFileName, upgradeNeeded } from "../load/config.js";
import type { LoadIndex } from "../load/loads.js";
import { clock, formatAddr, formatEvent, xidTag } from "../log/console.js";
import { PhoneLog, reportEventOf, STATUS_CHANGED_MS } from "../log/phone-log.js";
import { DropLog, EventBudget } from "../log/throttle.js";
import type { TtyProgress } from "../log/progress.js";
import { CLIENT_TIMEOUT_DEFAULT_MS, tftpGet, tftpGetBuffer } from "../tftp/client.js";
import { SERVER_TIMEOUT_ASK_SEC, WindowControl } from "../tftp/window.js";
import { WanBudget } from "../wan/budget.js";
import { CLAIM_HEARD_INTERVALS, decodeClaim, decodeRootAd, FetchingRoots, ROOT_HEARD_INTERVALS } from "../wan/root-ads.js";
import { bootLoop, confirmIfTrial, REBOOT, type BootOutcome, type Say } from "./boot-flow.js";
import { ROLE_NAMES, type ComponentState } from "../view/report.js";
import { BoardError, CoreFailure, failureLine, flashError, FlashImageError, flashStep, PhoneError, SocketError, StallError } from "./errors.js";
import { componentsToFetch } from "./index-check.js";
import { PeerHost, PFS_PORT } from "./peer-host.js";
import { ipToU32 } from "./addr.js";
import { FetchFile, readDefaultConfig, readDeviceConfig, readIndex } from "./server-files.js";
import { ServerWatch } from "./server-watch.js";
import { HttpLoadSource, type StreamPart } from "./http-fetch.js";

export interface PhoneOptions {
  mac: string;
  model: string;
  tftp: { host: string; port: number };
  flashPath: string;
  bind: string;
  broadcast: string;
  port: number;
  /** Seconds to serve late peers after the upgrade; undefined: the board's
   *  `core.lingerMs` (10 minutes for third-gen, boards/third-gen.json). */
  lingerSec?: number;
  board: string;
  tftpBlksize: number;
  /** The largest TFTP windowsize asked (RFC 7440), adapted to loss below it
   *  (host/tftp/window.ts); undefined: the board's tftpWindowMax. */
  tftpWindow?: number;
  /** The WAN cap, kbit/s, shared by the subnet's fetching roots
   *  (docs/WAN.md); overrides the configuration's `<wanKbpsMax>`. */
  wanKbpsMax?: number;
  /** When set, the load's index must carry a valid Ed25519 signature by
   *  this key (a public key in PEM); an unsigned or badly signed index stops
   *  the upgrade. */
  loadsKey?: string;
  /** Flash faults to inject under the image (tests: io-fault-device.ts). */
  flashFaults?: IoFault[];
  /** Send every console line and a status tick per component as RFC 5424
   *  syslog over UDP here (docs/LOGGING.md); overrides the config's
   *  `<logServer>`. A server that is down costs nothing. */
  logServer?: { host: string; port: number };
  /** The base URL (ending in '/') of an HTTP load server: roots fetch
   *  components there, TFTP the fallback (./http-fetch.ts); overrides the
   *  config's `<httpServer>`. */
  loadUrl?: string;
  /** Live progress bars on a terminal (host/log/progress.ts) in place of the
   *  plain progress lines; `out` must then print through its log(), so that
   *  lines go above the bars. */
  progress?: TtyProgress;
  out: (line: string) => void;
}

/** Defaults of the options; the linger's is the board's lingerMs (boardLingerSec). */
export const PHONE_DEFAULTS = { port: PFS_PORT, board: "third-gen", tftpBlksize: 1428 };

/** A progress line is printed at every this many percent of a component. */
const PROGRESS_STEP_PERCENT = 10;

/** An upgrade that moves no byte for this long has failed (the core keeps
 *  re-electing and re-joining meanwhile; this is the phone giving up). */
const STALL_LIMIT_MS = 300_000;

// Every failure is a PhoneError subclass (./errors.ts): the CLI prints it as
// one line, by type.
export { PhoneError } from "./errors.js";

interface Component {
  index: number;
  name: string;
  sizeBytes: number;
  listBytes: number;
  slot: number;
  done: boolean;
  lastPercent: number;
  viaPfs: boolean;
  /** Bytes received from the load server for it (block list and file). */
  wanBytes: number;
}

export async function runPhone(opts: PhoneOptions): Promise<number> {
  const started = Date.now();
  // Every console line also goes to the log server (docs/LOGGING.md), once
  // it is known: from the command line now, or from the configuration.
  const log = new PhoneLog(opts.mac, opts.bind);
  if (opts.logServer !== undefined) log.useServer(opts.logServer);
  const o: PhoneOptions = { ...opts, out: (line) => { opts.out(line); log.line(line); } };
  const say = (level: string, text: string) => o.out(`${level} ${clock(Date.now() - started)} DLoad: ${text}`);
  const { board, layout } = phoneBoard(o.board);
  if (!existsSync(o.flashPath)) throw new FlashImageError(`no flash image at ${o.flashPath}: make one with 'pfs flash format --flash ${o.flashPath} --load <name>'`);
  const image = flashStep(o.flashPath, "open", () => FileDevice.open(o.flashPath, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes)));
  const dev = o.flashFaults === undefined ? image : new IoFaultDevice(image, o.flashFaults, hashSeed(o.mac));
  // A flash operation that needed a retry is one line (host/flash/careful-device.ts).
  const store = flashStep(o.flashPath, "open", () => AbStore.open(dev, layout, { report: (line) => say("WRN", line) }));
  // The flash outlives a reboot; each boot starts with the boot loader's power-up.
  try {
    return await bootLoop(store, o.flashPath, say, (booted) => bootOnce(o, { started, say, board, layout, store, booted, log }));
  } catch (e) {
    // The line the CLI prints on stderr, for the log server too.
    log.nextLineAbout(undefined, "failed");
    log.line(`ERR ${clock(Date.now() - started)} DLoad: ${failureLine(e)}`);
    throw e;
  } finally {
    image.close();
    await log.close();
  }
}

interface BootContext {
  started: number;
  say: Say;
  board: ReturnType<typeof loadBoard>;
  layout: ReturnType<typeof boardLayout>;
  store: AbStore;
  booted: ReturnType<AbStore["powerUp"]>;
  log: PhoneLog;
}

/** One boot: configuration, compare, and the upgrade when one is needed;
 *  REBOOT once a new load is committed (it is then booted on trial). */
async function bootOnce(o: PhoneOptions, { started, say, board, layout, store, booted, log }: BootContext): Promise<BootOutcome> {
  const running = booted.verified ? booted.manifest?.loadName : undefined;

  // The configuration comes from our own server: it is trusted. Each file
  // is read whole, capped at its size limit (./server-files.ts).
  const get: FetchFile = ({ host, port }, file, maxBytes) =>
    tftpGetBuffer({ host, port, file, blksize: o.tftpBlksize, tsize: true, localAddress: o.bind, maxBytes });
  const device: DeviceConfig | undefined = await readDeviceConfig(get, o.tftp, o.mac);
  if (device === undefined) say("WRN", `${sepFileName(o.mac)} not found: using XMLDefault.cnf.xml`);
  const defaults = device?.loadInformation === undefined ? await readDefaultConfig(get, o.tftp) : undefined;
  const target = configuredLoad(device, defaults, o.model);
  const configLog = device?.logServer;
  log.useServer(o.logServer ?? (configLog === undefined ? undefined : { host: configLog.host, port: configLog.port ?? LOG_SERVER_DEFAULT_PORT }));
  log.load = target?.loadName ?? "";
  // Reaching the server and reading the configuration is "come up".
  confirmIfTrial(store, o.flashPath, say);
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
  // Whether this phone can take what it describes is decided before
  // anything is written (./index-check.ts).
  const index: LoadIndex = await readIndex(get, loadServer, target.loadName, o.loadsKey, (text) => say("NOT", text));
  const described = componentsToFetch(index, `${target.loadName}.loads`, layout, board.core.maxFileBytes);
  const update: Update = flashStep(o.flashPath, "starting the update", () => store.beginUpdate(target.loadName, described));
  const comps: Component[] = described.map((c, i) => ({
    index: i, name: c.name, sizeBytes: c.sizeBytes!, listBytes: Math.ceil(c.sizeBytes! / 16384) * 32, slot: -1, done: false,
    lastPercent: -PROGRESS_STEP_PERCENT, viaPfs: pfs, wanBytes: 0,
  }));
  const bySlot = new Map<number, Component>();
  const byXid = new Map<number, Component>();
  // What ends the upgrade early, found where it happens (a socket callback,
  // a fetch, a flash write) and acted on by the progress loop below.
  let fatal: PhoneError | null = null;
  /** Ends the progress loop's wait early: a component just completed. */
  let wake: (() => void) | null = null;
  const httpBase = o.loadUrl ?? device?.httpServer;
  const http = httpBase === undefined ? undefined : new HttpLoadSource(httpBase, (text) => say("WRN", text));
  const watch = new ServerWatch(`${target.loadName}.loads`, (text) => say("WRN", text));
  const dbg = (atMs: number, text: string) => o.out(`DBG ${clock(atMs)} DLoad: ${text}`);
  const drops = new DropLog((atMs, text) => o.out(`WRN ${clock(atMs)} DLoad: ${text}`));
  const budget = new EventBudget(dbg);
  const wan = wanPacing(o, board, device?.wanKbpsMax, (text) => say("INF", text));

  const host = new PeerHost({
    bind: o.bind, broadcast: o.broadcast, port: o.port, seed: hashSeed(o.mac), core: coreFigures(board, o.lingerSec),
    log: (line) => say("DBG", line),
    onDatagram: wan.hear,
    onError: (e) => (fatal ??= new CoreFailure(`the core failed: ${e.message} (the old load stays active)`, { cause: e })),
    fetcher: {
      async fetch(slot, from, total, sink, signal) {
        const c = bySlot.get(slot)!;
        say("INF", `${c.name}: fetching from the server at byte ${from}${http?.uses(c.name) ? ` over HTTP from ${http.base}` : ""}`);
        // The block list first ("<file>.blk"), then the file; TFTP cannot
        // start mid-file, so bytes before `from` are read and dropped. Both
        // must be the sizes the index gives (expectBytes), or the server's
        // file is not the one the index describes.
        try {
          if (from < c.listBytes) await fetchPart(c, { component: c.name, file: `${c.name}.blk`, base: 0, from, end: c.listBytes }, sink, signal);
          await fetchPart(c, { component: c.name, file: c.name, base: c.listBytes, from, end: total }, sink, signal);
        } catch (e) {
          watch.fetchFailed(c.name, e);
          throw e;
        }
      },
    },
    flash: {
      write(slot, offset, bytes) {
        try {
          update.writeAt(bySlot.get(slot)!.index, offset, bytes);
        } catch (e) {
          // Not thrown into the core's drain: the upgrade ends, the core waits.
          fatal ??= flashError(o.flashPath, `writing ${bySlot.get(slot)?.name ?? `slot ${slot}`} at ${offset}`, e);
          return new Promise<void>(() => {});
        }
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
      const atMs = Date.now() - started;
      if (code === Ev.FileDone && c !== undefined) {
        c.done = true;
        wake?.();
      }
      // Bad bytes from the HTTP server send the file to TFTP; the TFTP
      // server's are counted against it (./server-watch.ts).
      if (code === Ev.Corrupt && a === 0 && c !== undefined && http?.corrupt(c.name, `block ${b >>> 0 === 0xffffffff ? "list" : b} failed its SHA-256 check`) !== true) watch.corrupt(c.name, b);
      // Drops are counted and summarized (host/log/throttle.ts); every
      // other kind of line is rationed, since peers can provoke them too.
      if (code === Ev.Malformed) return drops.add(atMs, n, a);
      const lines = formatEvent(atMs, host.self, xid, code, n, a, b, c === undefined ? undefined : { model: o.model, file: c.name });
      if (c !== undefined) log.update(xidTag(xid), eventState(code, n, a));
      if (lines === null || code === Ev.RootAd || !budget.allow(atMs, code, Ev[code] ?? `event ${code}`)) return;
      // The event goes with the last line (the @@@HROOT line of a root).
      lines.forEach((l, i) => {
        log.nextLineAbout(c === undefined ? undefined : xidTag(xid), i === lines.length - 1 ? reportEventOf(code, b) : undefined);
        o.out(l);
      });
    },
  });

  /** A part of the server stream over HTTP when the phone has an HTTP
   *  source for it, and whatever HTTP did not deliver over TFTP. */
  async function fetchPart(c: Component, p: StreamPart, sink: (chunk: Uint8Array) => Promise<void>, signal: AbortSignal) {
    // The WAN budget paces HTTP reads as it paces TFTP ACKs (docs/WAN.md).
    const budget = wan.budget;
    const paced = budget === undefined ? sink : async (chunk: Uint8Array) => {
      await budget.pace(chunk.length);
      await sink(chunk);
    };
    const at = http?.uses(c.name) ? await http.fetchPart(p, paced, signal, (n) => (c.wanBytes += n)) : p.from;
    if (at < p.end) await fetchRange(c, p.file, p.base, at, p.end, sink, signal);
  }

  async function fetchRange(c: Component, file: string, base: number, from: number, end: number, sink: (chunk: Uint8Array) => Promise<void>, signal: AbortSignal) {
    await tftpGet({
      host: loadServer.host, port: loadServer.port, file, blksize: o.tftpBlksize, tsize: true,
      window: wan.window, windowsize: wan.budget?.windowCap(o.tftpBlksize, boardMaxTransfers(board), SERVER_TIMEOUT_ASK_SEC * 1000),
      timeoutSec: SERVER_TIMEOUT_ASK_SEC, timeoutMs: CLIENT_TIMEOUT_DEFAULT_MS,
      localAddress: o.bind, signal, expectBytes: end - base,
      onData: async (chunk, offset) => {
        const at = base + offset;
        c.wanBytes += chunk.length;
        // Every byte the WAN carried counts, the skipped ones too.
        await wan.budget?.pace(chunk.length);
        const skip = Math.max(0, Math.min(chunk.length, from - at));
        const upTo = Math.min(chunk.length, end - at);
        if (upTo > skip) await sink(chunk.subarray(skip, upTo));
      },
    });
  }

  try {
    await host.start();
  } catch (e) {
    throw new SocketError(`cannot open the PFS sockets on ${o.bind} port ${o.port}: ${(e as Error).message}`, { cause: e });
  }
  const flushLogs = setInterval(() => {
    drops.flush(Date.now() - started);
    budget.flush(Date.now() - started);
  }, 1000).unref();
  // Status ticks while the phone upgrades and lingers (docs/LOGGING.md).
  const ticks = setInterval(() => {
    for (const c of comps) if (c.slot >= 0) log.update(xidTag(host.core.xidOf(o.model, c.name)), componentState(host, c));
    log.tick(Date.now());
  }, STATUS_CHANGED_MS).unref();
  try {
    for (const c of comps) {
      const flags = NEED_RELAY | (pfs ? 0 : NEED_DIRECT);
      const file = index.components[c.index];
      c.slot = host.call(() => host.core.need(host.now(), o.model, c.name, c.sizeBytes, 0, flags, file.listSha256));
      if (fatal !== null) throw fatal;
      if (c.slot < 0) throw new CoreFailure(`the core could not take ${c.name} (${c.slot}): board figures too small for this load?`);
      bySlot.set(c.slot, c);
      byXid.set(host.core.xidOf(o.model, c.name), c);
      log.track({ xid: xidTag(host.core.xidOf(o.model, c.name)), model: o.model, file: c.name, ...componentState(host, c) });
      // The model beside the XID: a hierarchy is per model and file, so one
      // file has a different XID on each model.
      say("INF", `${xidTag(host.core.xidOf(o.model, c.name))} model=${o.model} need ${c.name} (${c.sizeBytes} bytes) ${pfs ? "through PFS" : "directly from the server"}`);
    }
    // Progress until every component is in flash and checked.
    let lastMoved = Date.now();
    let lastTotal = -1;
    while (comps.some((c) => !c.done)) {
      // Woken at once by the last component's FileDone: every phone of a
      // site commits at about the same moment, and a poll's wait is time the
      // fleet's done includes.
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, PROGRESS_POLL_MS);
      });
      wake = null;
      fatal ??= watch.failure;
      if (fatal !== null) throw fatal;
      const total = comps.reduce((sum, c) => sum + (host.core.x.hierHeld(c.slot) >>> 0), 0);
      if (total !== lastTotal) {
        lastTotal = total;
        lastMoved = Date.now();
      } else if (Date.now() - lastMoved > STALL_LIMIT_MS) {
        throw new StallError(`no progress for ${STALL_LIMIT_MS / 1000} s: giving up (the old load stays active)`);
      }
      if (o.progress !== undefined) {
        o.progress.update(Date.now() - started, comps.map((c) => ({
          name: c.name, held: Math.max(0, (host.core.x.hierHeld(c.slot) >>> 0) - c.listBytes), size: c.sizeBytes, viaPfs: c.viaPfs, done: c.done,
        })));
      } else for (const c of comps) {
        const held = Math.max(0, (host.core.x.hierHeld(c.slot) >>> 0) - c.listBytes);
        const percent = c.done ? 100 : Math.floor((held * 100) / c.sizeBytes);
        if (percent >= c.lastPercent + PROGRESS_STEP_PERCENT || (c.done && c.lastPercent < 100)) {
          c.lastPercent = c.done ? 100 : percent - (percent % PROGRESS_STEP_PERCENT);
          say("INF", `${c.name} ${String(percent).padStart(3)}% ${Math.round(held / 1024)} KB ${c.viaPfs ? "PFS" : "direct"}`);
        }
      }
    }
    o.progress?.stop();
    // commit() reads every component back from flash and checks it against
    // the index (docs/FLASH.md U5), and writes the boot record only if all
    // verify: one check of the load, not one here and one again there.
    flashStep(o.flashPath, "verifying the new load to make it active (the old load stays active)", () => update.commit());
    log.nextLineAbout(undefined, "loadDone");
    say("NOT", `load ${target.loadName} verified in flash and active from the next boot, on trial (${comps.length} components)`);
    // Serve late peers for a while, then boot the new load.
    const lingerSec = o.lingerSec ?? boardLingerSec(board);
    if (lingerSec > 0) {
      say("INF", `lingering ${lingerSec} s to serve peers`);
      await new Promise((r) => setTimeout(r, lingerSec * 1000));
    }
    return REBOOT;
  } finally {
    o.progress?.stop();
    clearInterval(flushLogs);
    clearInterval(ticks);
    log.forget();
    drops.flush(Date.now() - started, true);
    await host.stop();
    // What this phone put on the wire, by type (docs/CONSOLE.md "sent").
    say("DBG", host.sent.line());
  }
}

/** A component as the core sees it now, for the log server. */
function componentState(host: PeerHost, c: Component): Omit<ComponentState, "xid" | "model" | "file"> {
  const parent = host.core.x.hierParent(c.slot) >>> 0;
  return {
    role: ROLE_NAMES[host.core.x.hierRole(c.slot)] ?? "idle",
    // A done file is in flash whole, whatever the core holds of it once its
    // hierarchy is left (hierHeld is 0 then).
    held: c.done ? c.sizeBytes : Math.max(0, (host.core.x.hierHeld(c.slot) >>> 0) - c.listBytes), size: c.sizeBytes,
    parent: parent === 0 ? "" : formatAddr(parent), depth: host.core.x.hierDepth(c.slot), wan: c.wanBytes, done: c.done,
  };
}

/** What a core event says of the component's state, read from the event
 *  itself: the core is not called back while it calls us. */
function eventState(code: number, n: number, a: number): Partial<ComponentState> {
  switch (code) {
    case Ev.ConfirmedRoot:
      return { role: "root", parent: "", depth: 0 };
    case Ev.Joined:
    case Ev.Moved:
      return { role: "attached", parent: formatAddr(a), depth: n };
    case Ev.ParentLost:
      return { role: "joining", parent: "" };
    case Ev.FileDone:
      return { done: true };
    default:
      return {};
  }
}

/** What paces a root's fetches: the TFTP window (the most asked, adapted to
 *  loss) and, under a WAN cap, the budget shared with the other roots heard. */
interface WanPacing {
  window: WindowControl;
  budget: WanBudget | undefined;
  hear: (src: number, msg: Uint8Array) => void;
}

function wanPacing(o: PhoneOptions, board: Board, configKbps: number | undefined, say: (text: string) => void): WanPacing {
  const window = new WindowControl(o.tftpWindow ?? boardTftpWindowMax(board), (c) => say(`TFTP window ${c.from} -> ${c.to} (${c.why})`));
  const kbps = o.wanKbpsMax ?? configKbps;
  if (kbps === undefined) return { window, budget: undefined, hear: () => {} };
  const adMs = board.core.rootAdIntervalMs ?? CORE_DEFAULT_ROOT_AD_MS;
  const roots = new FetchingRoots(ipToU32(o.bind), ROOT_HEARD_INTERVALS * adMs, CLAIM_HEARD_INTERVALS * (board.core.adIntervalMs ?? CORE_DEFAULT_AD_MS));
  say(`WAN budget ${kbps} kbit/s, shared by the roots fetching at once`);
  return {
    window, budget: new WanBudget({ kbpsMax: kbps, roots }),
    hear: (src, msg) => {
      const ad = decodeRootAd(msg) ?? decodeClaim(msg);
      if (ad !== undefined) roots.hear(src, ad, performance.now());
    },
  };
}

/** The core's root-ad interval (assembly/config.ts) for a board that names none. */
const CORE_DEFAULT_ROOT_AD_MS = 2000;
/** How often the progress loop looks at the components (progress lines,
 *  the stall limit) while none completes. */
const PROGRESS_POLL_MS = 200;
/** The core's advertisement interval (assembly/config.ts) for a board that names none. */
const CORE_DEFAULT_AD_MS = 250;

/** The core's default linger (assembly/config.ts) for a board that names none. */
const CORE_DEFAULT_LINGER_MS = 600_000;

/** How long a phone of this board serves late peers after its upgrade: the
 *  board's lingerMs, the same figure its core lingers each file for. */
export function boardLingerSec(board: Board): number {
  const ms = board.core.lingerMs ?? 0;
  return (ms > 0 ? ms : CORE_DEFAULT_LINGER_MS) / 1000;
}

/** The board's core figures, with the core's linger stretched to the
 *  phone's when --linger asks for longer than the board: else the core would
 *  leave its hierarchies (and stop serving) while the phone still lingers.
 *  A shorter --linger needs nothing: the phone stops first. */
export function coreFigures(board: Board, lingerSec: number | undefined): Board["core"] {
  const wantMs = Math.round((lingerSec ?? 0) * 1000);
  return wantMs > boardLingerSec(board) * 1000 ? { ...board.core, lingerMs: wantMs } : board.core;
}

/** The phone's board and its flash layout, or a BoardError. */
function phoneBoard(name: string): { board: Board; layout: Layout } {
  try {
    const board = loadBoard(name);
    return { board, layout: boardLayout(board) };
  } catch (e) {
    throw new BoardError(`--board ${name}: ${(e as Error).message}`, { cause: e });
  }
}

/** A per-phone seed for the core's tie-breaks: its MAC. */
function hashSeed(mac: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < mac.length; i++) h = Math.imul(h ^ mac.charCodeAt(i), 0x01000193);
  return (h >>> 0) || 1;
}
