// A fleet of real phone processes on this machine's loopback: each phone is
// a `pfs phone` process bound to its own 127.0.0.N (or, with `net`, on its
// own interface in a network namespace), with its own flash image
// (formatted with a factory load), all booting against one TFTP server (ours,
// in this process, optionally behind an emulated WAN, or one given). Their
// console lines are collected into a live view and a final table.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../boards.js";
import { POWER_ON_READY_LINE } from "./power-on.js";
import { AbStore } from "../flash/ab-store.js";
import { FileDevice } from "../flash/file-device.js";
import { boardLayout, layoutBytes } from "../flash/layout.js";
import { getPreset, presetFiles } from "../load/presets.js";
import { makeTftpRoot } from "../load/tftp-root.js";
import { makeDirs } from "../make-dir.js";
import { TftpServer } from "../tftp/server.js";

const here = dirname(fileURLToPath(import.meta.url));
const PFS_BIN = join(here, "../../../../bin/pfs.js");
/** The C phone, as `make native` builds it. */
export const NATIVE_PHONE_BIN = join(here, "../../../../build/native/pfs-phone");

/** Which `count` of `phones` run the C phone: spread through the fleet
 *  (every other one first), so C and Node phones neighbour each other. */
export function nativeIndices(phones: number, count: number): Set<number> {
  if (!Number.isInteger(count) || count < 0 || count > phones) throw new Error(`--native must be from 0 to the number of phones (${phones})`);
  const order = [...Array.from({ length: phones }, (_, i) => i).filter((i) => i % 2 === 1), ...Array.from({ length: phones }, (_, i) => i).filter((i) => i % 2 === 0)];
  return new Set(order.slice(0, count));
}

/** Phones on one loopback: 127.0.0.2 .. 127.0.0.(N+1). */
export const MAX_FLEET_PROCESSES = 200;

export interface FleetRunOptions {
  phones: number;
  models: number;
  load: string;
  /** Use this TFTP server instead of starting ours. */
  tftp?: { host: string; port: number };
  /** Serve this directory (else a root made from the preset). */
  root?: string;
  wanKbps?: number;
  wanRttMs?: number;
  port: number;
  /** Seconds each phone serves peers after its upgrade (`--linger`). Always
   *  given: a phone's own default is its board's lingerMs (10 minutes for
   *  third-gen), far too long for a fleet on one machine. */
  lingerSec: number;
  pfs: boolean;
  /** `--tftp-window` of every phone; undefined: each phone's board's
   *  tftpWindowMax (the C phone: its own default). */
  tftpWindow?: number;
  /** `--wan-kbps-max` of every Node phone (docs/WAN.md); the C phone has no
   *  WAN budget and is not given it. */
  wanKbpsMax?: number;
  out: (line: string) => void;
  /** Print every phone's lines as they come (else a progress view). */
  verbose: boolean;
  /** Each console line of each phone, as it comes (tests use it to pick
   *  the moment to kill a phone). */
  onLine?: (p: PhoneRun, line: string) => void;
  /** Phones somewhere other than this loopback (tests/support/netns.ts: each
   *  in its own network namespace on a bridge). */
  net?: FleetNet;
  /** Where the flash images and the TFTP root go; the caller owns it and can
   *  read the images afterwards (`pfs flash ls`). Without it the fleet works
   *  in a temporary folder it removes at the end (about 7 MB per phone). */
  workDir?: string;
  /** A phone killed with kill() is started again, on its own flash image,
   *  this long after its process ended (a phone that loses power and comes
   *  back); its exit is then its last run's. Without it a killed phone stays
   *  dead. */
  restartKilledAfterMs?: number;
  /** Which phones are the C phone (native/phone/, `make native`) instead of
   *  `pfs phone`: the same flags, the same flash image, the same server. */
  native?: { bin: string; phones: (index: number) => boolean };
  /** Phone i starts this long after the fleet (tests: who boots first
   *  becomes root, the late ones join its tree). */
  startAfterMs?: (index: number) => number;
  /** Phone i starts once this resolves, when it gives a promise, and
   *  startAfterMs after that (tests: late joiners boot a while after the
   *  first phones finished). */
  startWhen?: (index: number) => Promise<void> | undefined;
  /** Start every (Node) phone's process first, loaded and held (`pfs phone
   *  --power-on stdin`), then power phone i on `gapMs` x i after the first:
   *  on a machine of few cores, N processes starting Node at once starve
   *  each other, which real phones, each with a CPU of its own, do not
   *  (docs/SITE.md). `onPowerOn` is called as the first powers on. Phones
   *  started again after a kill boot at once. */
  powerOn?: { gapMs: number; onPowerOn: () => void };
  /** Every phone sends its syslog here (`--log-server host:port`,
   *  docs/LOGGING.md). */
  logServer?: { host: string; port: number };
  /** Written as `<httpServer>` into the configs the fleet makes (not into a
   *  given root): the base URL of an HTTP server serving the fleet's root
   *  (`<workDir>/tftp`); roots fetch there, TFTP the fallback. */
  httpServer?: string;
}

export interface FleetNet {
  /** Phone i's own address. */
  binds: readonly string[];
  /** The subnet's broadcast address. */
  broadcast: string;
  /** A command prefix that runs phone i where it lives (e.g. `ip netns exec NS`). */
  wrap: (i: number) => string[];
  /** Where our TFTP server listens (an address this process has on that subnet). */
  serverHost: string;
}

export interface PhoneRun {
  index: number;
  mac: string;
  model: string;
  bind: string;
  /** Its flash image (read it with `pfs flash ls`). */
  flash: string;
  exit: number | null;
  ms: number;
  components: Map<string, { percent: number; via: string }>;
  lines: string[];
  /** Kills the phone's process at once (SIGKILL: no goodbye on any socket);
   *  false if it was not running. */
  kill: () => boolean;
  killed: boolean;
  /** Processes started for this phone, and killed. */
  starts: number;
  kills: number;
  /** Its current process's id (tests read /proc/<pid> for its memory and
   *  descriptors). */
  pid?: number;
  /** It runs the C phone (FleetRunOptions.native). */
  native: boolean;
  /** The load its flash booted before, and boots at the end (null: none
   *  verifies), read by the fleet from the image itself. */
  loadBefore?: string;
  loadAfter?: string | null;
}

export interface FleetRunResult {
  phones: PhoneRun[];
  /** Read requests the server saw per file (our server only). */
  requests: Map<string, number>;
  /** Each read request: the file, the client's address and the bytes sent
   *  (0 when it failed; our server only). */
  reads: Array<{ file: string; client: string; bytes: number }>;
  wallMs: number;
}

/** Models a fleet mixes, in order; the 7961 is the technote's phone. */
const MODELS = [{ model: "CP-7961G" }, { model: "CP-7941G" }, { model: "CP-7970G" }];
/** The load every fleet phone's flash starts on. */
export const FACTORY_LOAD_NAME = "SCCP41.FACTORY";
/** How many models a fleet can mix. */
export const MAX_FLEET_MODELS = MODELS.length;

/** The phones of a fleet: their MACs, models and addresses (a TFTP root for
 *  them needs the same MACs). */
export function fleetPhones(phones: number, models: number): Array<{ mac: string; model: string; bind: string }> {
  return Array.from({ length: phones }, (_, i) => ({
    mac: `001BD4${(0x100000 + i).toString(16).toUpperCase().slice(-6)}`,
    model: MODELS[i % Math.min(models, MODELS.length)].model,
    bind: `127.0.0.${i + 2}`,
  }));
}

export async function runFleetProcesses(o: FleetRunOptions): Promise<FleetRunResult> {
  if (!Number.isInteger(o.phones) || o.phones < 1 || o.phones > MAX_FLEET_PROCESSES) throw new Error(`--phones must be from 1 to ${MAX_FLEET_PROCESSES}`);
  if (!Number.isInteger(o.models) || o.models < 1 || o.models > MODELS.length) throw new Error(`--models must be from 1 to ${MODELS.length}`);
  getPreset(o.load); // a clear error for an unknown preset, before anything starts
  if (o.net !== undefined && o.net.binds.length < o.phones) throw new Error(`${o.phones} phones need as many addresses (got ${o.net.binds.length})`);
  if (o.workDir !== undefined) {
    makeDirs(o.workDir);
    return await runIn(o.workDir, o);
  }
  const dir = mkdtempSync(join(tmpdir(), "pfs-fleet-"));
  try {
    return await runIn(dir, o);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runIn(dir: string, o: FleetRunOptions): Promise<FleetRunResult> {
  const started = Date.now();
  const models = MODELS.slice(0, o.models);
  const phones: PhoneRun[] = fleetPhones(o.phones, o.models).map((f, i) => ({
    index: i, ...f, bind: o.net?.binds[i] ?? f.bind, flash: join(dir, `${f.mac}.flash`), exit: null, ms: 0, components: new Map(), lines: [], kill: () => false, killed: false, starts: 0, kills: 0,
    native: o.native?.phones(i) ?? false,
  }));
  // A TFTP root per model family: the load's index and files, and a config
  // per phone with PFS on (or off).
  const root = o.root ?? join(dir, "tftp");
  if (o.root === undefined) {
    for (const m of models) {
      const macs = phones.filter((p) => p.model === m.model).map((p) => p.mac);
      if (macs.length > 0) makeTftpRoot({ outDir: root, model: m.model, preset: o.load, macs, pfs: { enterprise: o.pfs }, httpServer: o.httpServer });
    }
  }
  let server: TftpServer | null = null;
  let tftp = o.tftp;
  if (tftp === undefined) {
    server = new TftpServer({ root, host: o.net?.serverHost ?? "127.0.0.1", port: 0, wanKbps: o.wanKbps, wanRttMs: o.wanRttMs });
    tftp = await server.start();
  }
  // Factory flash images, all on an older load.
  const board = loadBoard("third-gen");
  const layout = boardLayout(board);
  const factory = presetFiles(getPreset("tiny"));
  for (const p of phones) {
    const dev = FileDevice.create(p.flash, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
    AbStore.format(dev, layout, { loadName: FACTORY_LOAD_NAME, components: factory.map((f) => ({ name: f.name, bytes: f.content })) });
  }
  const view = setInterval(() => {
    if (!o.verbose) o.out(progressLine(phones, started));
  }, 2000);
  try {
    const barrier = o.powerOn === undefined ? null : new PowerOnBarrier(phones.filter((p) => !p.native).length, o.powerOn.gapMs, o.powerOn.onPowerOn);
    await Promise.all(phones.map((p) => runOne(p, o, tftp!, p.flash, started, barrier)));
  } finally {
    clearInterval(view);
    await server?.stop();
  }
  for (const p of phones) {
    p.loadBefore = FACTORY_LOAD_NAME;
    p.loadAfter = bootedLoad(p.flash, layout);
  }
  const requests = new Map<string, number>();
  for (const r of server?.requests ?? []) requests.set(r.file, (requests.get(r.file) ?? 0) + 1);
  const reads = (server?.requests ?? []).map((q) => ({ file: q.file, client: q.client.replace(/:\d+$/, ""), bytes: q.bytes ?? 0 }));
  return { phones, requests, reads, wallMs: Date.now() - started };
}

/** Holds the phones that printed POWER_ON_READY_LINE until all `count` have,
 *  then writes each its power-on line, in the order of their index, `gapMs`
 *  apart. */
class PowerOnBarrier {
  private readonly held = new Map<number, NodeJS.WritableStream>();

  constructor(
    private readonly count: number,
    private readonly gapMs: number,
    private readonly onPowerOn: () => void,
  ) {}

  ready(index: number, stdin: NodeJS.WritableStream): void {
    console.assert(!this.held.has(index), "each phone is ready once");
    this.held.set(index, stdin);
    if (this.held.size !== this.count) return;
    this.onPowerOn();
    [...this.held].sort(([a], [b]) => a - b).forEach(([, w], i) => {
      if (i === 0 || this.gapMs === 0) w.write("on\n");
      else setTimeout(() => w.write("on\n"), i * this.gapMs);
    });
  }
}

function runOne(p: PhoneRun, o: FleetRunOptions, tftp: { host: string; port: number }, flash: string, started: number, barrier: PowerOnBarrier | null): Promise<void> {
  const program = p.native ? [o.native!.bin] : [process.execPath, PFS_BIN, "phone"];
  const [cmd, ...args] = [
    ...(o.net?.wrap(p.index) ?? []), ...program, "--mac", p.mac, "--model", p.model, "--tftp", `${tftp.host}:${tftp.port}`, "--flash", flash,
    "--bind", p.bind, "--port", String(o.port), "--linger", String(o.lingerSec),
    ...(o.tftpWindow === undefined ? [] : ["--tftp-window", String(o.tftpWindow)]),
    ...(o.wanKbpsMax === undefined || p.native ? [] : ["--wan-kbps-max", String(o.wanKbpsMax)]),
    ...(o.net === undefined ? [] : ["--broadcast", o.net.broadcast]),
    ...(o.logServer === undefined ? [] : ["--log-server", `${o.logServer.host}:${o.logServer.port}`]),
  ];
  return new Promise((resolve) => {
    const start = () => {
      p.starts++;
      const held = barrier !== null && !p.native && p.starts === 1;
      const child = spawn(cmd, held ? [...args, "--power-on", "stdin"] : args, { stdio: [held ? "pipe" : "ignore", "pipe", "pipe"] });
      p.pid = child.pid;
      let running = true;
      p.kill = () => {
        if (!running) return false;
        running = false;
        p.killed = true;
        p.kills++;
        child.kill("SIGKILL");
        return true;
      };
      let buf = "";
      const take = (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (held && line === POWER_ON_READY_LINE) {
            barrier!.ready(p.index, child.stdin!);
            continue;
          }
          p.lines.push(line);
          if (o.verbose) o.out(`${p.bind.padEnd(12)} ${line}`);
          const m = / DLoad: (\S+) +(\d+)% (\d+) KB (PFS|direct)$/.exec(line);
          if (m !== null) p.components.set(m[1], { percent: Number(m[2]), via: m[4] });
          o.onLine?.(p, line);
        }
      };
      child.stdout!.on("data", take);
      child.stderr!.on("data", take);
      child.on("close", (code, signal) => {
        running = false;
        p.exit = code ?? (signal === "SIGKILL" ? 137 : 1);
        p.ms = Date.now() - started;
        if (signal === "SIGKILL" && o.restartKilledAfterMs !== undefined) {
          // Powered up again on what its flash holds.
          p.exit = null;
          p.lines.push(`(fleet) killed with SIGKILL; starting again from ${flash} in ${o.restartKilledAfterMs} ms`);
          setTimeout(start, o.restartKilledAfterMs);
          return;
        }
        resolve();
      });
    };
    const delayMs = o.startAfterMs?.(p.index) ?? 0;
    const when = o.startWhen?.(p.index);
    if (when !== undefined) void when.then(() => (delayMs > 0 ? setTimeout(start, delayMs) : start()));
    else if (delayMs > 0) setTimeout(start, delayMs);
    else start();
  });
}

/** What a flash image boots (its load's name), or null when nothing verifies. */
function bootedLoad(path: string, layout: ReturnType<typeof boardLayout>): string | null {
  const dev = FileDevice.open(path, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  try {
    const b = AbStore.open(dev, layout).boot();
    return b.verified ? (b.manifest?.loadName ?? null) : null;
  } finally {
    dev.close();
  }
}

function progressLine(phones: PhoneRun[], started: number): string {
  const done = phones.filter((p) => p.exit === 0).length;
  const failed = phones.filter((p) => p.exit !== null && p.exit !== 0).length;
  const percents = phones.map((p) => {
    const c = [...p.components.values()];
    return c.length === 0 ? 0 : Math.floor(c.reduce((a, b) => a + b.percent, 0) / c.length);
  });
  const bar = percents.map((v) => (v >= 100 ? "#" : v >= 50 ? "+" : v > 0 ? "." : " ")).join("");
  return `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s [${bar}] ${done} done, ${failed} failed of ${phones.length}`;
}
