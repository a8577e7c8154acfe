// A whole site on real sockets (`pfs site`): N phone processes, each in its
// own namespace on a bridge of 100 Mbit/s ports, a gateway namespace running
// the delay relay, and our servers in a namespace of their own at the far
// end of a WAN link shaped by tbf (./site-net.ts). One run times first one
// phone of each model alone, fetching directly (PFS off) over the same WAN,
// then the whole fleet through PFS; it reports the fleet's time beside the
// single's and the link's limit, the WAN bytes tbf counted, the servers' own
// read records, and every phone's flash image checked against the server's
// files (./image-check.ts).

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../boards.js";
import { getPreset, presetLoadBytes } from "../load/presets.js";
import { BLOCK_LIST_SUFFIX, makeTftpRoot } from "../load/tftp-root.js";
import { fleetPhones, FleetRunResult, PhoneRun, runFleetProcesses } from "../phone/fleet.js";
import { PFS_PORT } from "../phone/peer-host.js";
import { imageProblem } from "./image-check.js";
import { NsProcess, startInNs } from "./ns-process.js";
import { RELAY_READY_LINE, RelaySpec } from "./relay-main.js";
import { RECORDS_COMMAND, SERVER_READY_LINE, ServerRecords, ServerSpec } from "./server-main.js";
import { makeSiteNet, SiteNet, wanDelta, WanCounters } from "./site-net.js";
import { siteReads, SiteReads } from "./site-reads.js";
import { HEADER_BYTES, WanRateMeter } from "./wan-rate.js";

const here = dirname(fileURLToPath(import.meta.url));
const RELAY_MAIN = join(here, "relay-main.js");
const SERVER_MAIN = join(here, "server-main.js");

export const SITE_SOURCES = ["tftp", "http"] as const;
export type SiteSource = (typeof SITE_SOURCES)[number];
/** The well-known TFTP port, on the server and on the relay. */
export const SITE_TFTP_PORT = 69;
/** The call manager's HTTP port for phone loads (its TFTP service answers
 *  HTTP there too). */
export const SITE_HTTP_PORT = 6970;
/** The component the root-kill run aims at is killed once its root has this
 *  much of it: mid-file, so the successor has something to resume. */
export const KILL_AT_PERCENT = 50;
/** A killed root powers up again this long after (on its own flash). */
const RESTART_AFTER_MS = 2_000;
/** Linux's memory file system (siteTmp below). */
const SITE_TMPFS = "/dev/shm";
/** A phone reads its configuration at boot and again when the new load
 *  comes up on trial (that read is what confirms it). */
export const CONFIG_READS_PER_UPGRADE = 2;
/** Phone i starts i x this many ms after the first, by default. Measured on
 *  a 2-core machine: 60 phone processes started at once starve each other
 *  for seconds while they boot (each loads Node and compiles the core), the
 *  late ones miss the early ones' election, and the file's elections split
 *  (many roots, 2.9 x the load down the WAN over HTTP, 2.0 x over TFTP);
 *  150 ms apart, one root per file and 1.0 x. Real phones each have a CPU of
 *  their own; their boots spread over seconds anyway (DHCP, the config). */
export const SITE_BOOT_GAP_MS = 150;
/** What a phone prints when its new load is in flash and active. */
const DONE_LINE = / DLoad: load \S+ verified in flash and active /;

export interface SiteOptions {
  phones: number;
  models: number;
  /** A preset (host/load/presets.ts). */
  load: string;
  wanKbps: number;
  wanRttMs: number;
  source: SiteSource;
  /** The windowsize the phones ask of the TFTP server. */
  tftpWindow: number;
  lingerSec: number;
  /** Kill the first root of the largest component at KILL_AT_PERCENT. */
  killRoot?: boolean;
  /** Progress lines for a person (stderr with --json). */
  out: (line: string) => void;
  /** Called once the site stands, before the runs (tests probe it). */
  beforeRuns?: (net: SiteNet) => Promise<void>;
  /** Keep the work folder (flash images, root) here instead of a temporary one. */
  workDir?: string;
  /** Every phone's console lines as they come, through `out`. */
  verbose?: boolean;
  /** A WAN budget, kbit/s of payload, written as <wanKbpsMax> in every
   *  phone's configuration (docs/WAN.md); undefined: none. */
  wanKbpsMax?: number;
  /** Phone i starts i x this many ms after the first (SITE_BOOT_GAP_MS). */
  bootGapMs?: number;
}

export interface RunFigures {
  /** From the start of the run to the last phone's load verified in flash. */
  doneMs: number;
  wan: WanCounters;
  /** The highest payload rate down the WAN over any 10 s, from tbf's
   *  counters (./wan-rate.ts), kbit/s; null: a run shorter than that. */
  wanMaxKbps10s: number | null;
  reads: SiteReads;
}

export interface SiteResult {
  phones: number;
  models: number;
  load: string;
  /** One model's load, and all models' loads together. */
  loadBytes: number;
  allLoadsBytes: number;
  wanKbps: number;
  wanRttMs: number;
  source: SiteSource;
  tftpWindow: number;
  wanKbpsMax: number | null;
  /** allLoadsBytes over the WAN's rate, plus one round trip. */
  limitMs: number;
  single: RunFigures;
  fleet: RunFigures;
  /** Files the phones must read besides the load: every phone's
   *  configuration and index, each model's block lists (from the root). */
  metadataBytes: number;
  /** The same for the single run's phones. */
  singleMetadataBytes: number;
  /** What the fleet's load took of the WAN against what one phone alone
   *  took of it (see wanVsSingle). */
  wanVsSingle: number;
  verified: number;
  problems: Array<{ mac: string; bind: string; problem: string }>;
  killed: { mac: string; file: string } | null;
}

/** Where the run keeps the server's root and every phone's flash image: in
 *  memory (tmpfs) where the machine has it. Each real phone has a flash chip
 *  of its own; sixty image files on one disk share its journal and queue
 *  their commits' barriers (fsync, docs/FLASH.md U5 and U7) behind each
 *  other's. Measured: it was not what held the commits (1.2 s of wall for
 *  50 ms of CPU each on tmpfs too, 1.4 s on disk: sixty phones committing
 *  on 2 cores at once), but a rig's disk is not a phone's to share. The
 *  single phone's image lies in the same place, so the two compare. */
function siteTmp(): string {
  return existsSync(SITE_TMPFS) ? SITE_TMPFS : tmpdir();
}

export async function runSite(o: SiteOptions): Promise<SiteResult> {
  const preset = getPreset(o.load);
  const loadBytes = presetLoadBytes(preset);
  const work = o.workDir ?? mkdtempSync(join(siteTmp(), "pfs-site-"));
  const net = makeSiteNet({ phones: o.phones, lanBitsPerSec: Number(loadBoard("third-gen").lanMbps) * 1e6, wanBitsPerSec: o.wanKbps * 1000 });
  let server: NsProcess | undefined;
  let relay: NsProcess | undefined;
  try {
    const root = join(work, "root");
    ({ server, relay } = await startHelpers(net, o, root));
    const records = async () => JSON.parse(await server!.ask(RECORDS_COMMAND, /^\{/)) as ServerRecords;
    await o.beforeRuns?.(net);
    o.out(`site: ${o.phones} phones of ${o.models} model(s) behind ${o.wanKbps} kbit/s, ${o.wanRttMs} ms; load ${o.load} over ${o.source}`);

    const singleMetadata = writeRoot(root, o, net.gateway.addr, o.models, false);
    const single = await timedRun(net, o, root, o.models, false, records);
    o.out(`site: one phone per model alone, directly: ${(single.figures.doneMs / 1000).toFixed(1)} s`);

    const metadata = writeRoot(root, o, net.gateway.addr, o.phones, true);
    const fleet = await timedRun(net, o, root, o.phones, true, records);
    o.out(`site: the fleet through PFS: ${(fleet.figures.doneMs / 1000).toFixed(1)} s`);

    const problems = fleet.run.phones.flatMap((p) => {
      const why = p.exit !== 0 ? `exit ${p.exit}: ${p.lines.slice(-2).join(" | ")}` : imageProblem(p.flash, p.mac, root);
      return why === null ? [] : [{ mac: p.mac, bind: p.bind, problem: why }];
    });
    const allLoadsBytes = loadBytes * o.models;
    return {
      phones: o.phones, models: o.models, load: o.load, loadBytes, allLoadsBytes,
      wanKbps: o.wanKbps, wanRttMs: o.wanRttMs, source: o.source, tftpWindow: o.tftpWindow, wanKbpsMax: o.wanKbpsMax ?? null,
      limitMs: (allLoadsBytes * 8) / o.wanKbps + o.wanRttMs,
      single: single.figures, fleet: fleet.figures,
      metadataBytes: metadata, singleMetadataBytes: singleMetadata,
      wanVsSingle: wanVsSingle(fleet.figures.wan.down.bytes - metadata, single.figures.wan.down.bytes - singleMetadata),
      verified: o.phones - problems.length, problems, killed: fleet.killed,
    };
  } finally {
    await relay?.stop();
    await server?.stop();
    net.teardown();
    if (o.workDir === undefined) rmSync(work, { recursive: true, force: true });
  }
}

async function startHelpers(net: SiteNet, o: SiteOptions, root: string): Promise<{ server: NsProcess; relay: NsProcess }> {
  const gw = net.gateway.addr;
  const srv = net.server.addr;
  const serverSpec: ServerSpec = { root, host: srv, tftpPort: SITE_TFTP_PORT, httpPort: o.source === "http" ? SITE_HTTP_PORT : null };
  // The root must exist before the server resolves it.
  writeRoot(root, o, gw, o.models, false);
  const server = await startInNs(net.exec(net.server.ns), [process.execPath, SERVER_MAIN, JSON.stringify(serverSpec)], new RegExp(`^${SERVER_READY_LINE}$`), "the site's server");
  const relaySpec: RelaySpec = {
    halfRttMs: o.wanRttMs / 2,
    udp: [{ listen: { host: gw, port: SITE_TFTP_PORT }, to: { host: srv, port: SITE_TFTP_PORT } }],
    tcp: o.source === "http" ? [{ listen: { host: gw, port: SITE_HTTP_PORT }, to: { host: srv, port: SITE_HTTP_PORT } }] : [],
  };
  try {
    const relay = await startInNs(net.exec(net.gateway.ns), [process.execPath, RELAY_MAIN, JSON.stringify(relaySpec)], new RegExp(`^${RELAY_READY_LINE}$`), "the delay relay");
    return { server, relay };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/** The fleet's WAN bytes for the load against one phone's per model alone,
 *  each less what its phones read besides the load: both runs pay the same
 *  headers per byte (TCP/IP or UDP/TFTP, Ethernet), so 1.0 is "the WAN
 *  carried the load once", whatever the protocol. The metadata is counted
 *  without its own frames' headers (about 3 % of 131 KB for 60 phones:
 *  0.05 % of the 7961 load). */
function wanVsSingle(fleetLoadBytes: number, singleLoadBytes: number): number {
  console.assert(singleLoadBytes > 0, "the single run read its load over the WAN");
  return fleetLoadBytes / singleLoadBytes;
}

/** The root for the first `phones` of the fleet's MACs, PFS on or off (a
 *  rewrite between runs changes only the phones' configurations). Returns
 *  the bytes those phones must read besides the load itself: each one's
 *  configuration (twice: at boot, and when the new load comes up on trial,
 *  docs/CONSOLE.md "confirmed") and its model's index, and each model's
 *  block lists (once per model through PFS; once per phone directly). */
function writeRoot(root: string, o: SiteOptions, gateway: string, phones: number, pfs: boolean): number {
  const macsOf = fleetPhones(phones, o.models);
  let bytes = 0;
  for (const model of new Set(macsOf.map((p) => p.model))) {
    const macs = macsOf.filter((p) => p.model === model).map((p) => p.mac);
    const r = makeTftpRoot({
      outDir: root, model, preset: o.load, macs, pfs: { enterprise: pfs },
      httpServer: o.source === "http" ? `http://${gateway}:${SITE_HTTP_PORT}/` : undefined,
      wanKbpsMax: o.wanKbpsMax,
    });
    const size = (name: string) => r.files.find((f) => f.name === name)?.sizeBytes ?? 0;
    const configs = r.phones.reduce((sum, p) => sum + size(p.file), 0);
    const blockLists = r.files.filter((f) => f.name.endsWith(BLOCK_LIST_SUFFIX)).reduce((sum, f) => sum + f.sizeBytes, 0);
    console.assert(configs > 0 && blockLists > 0, "a root has configurations and block lists");
    bytes += CONFIG_READS_PER_UPGRADE * configs + macs.length * size(`${r.loadName}.loads`) + (pfs ? 1 : macs.length) * blockLists;
  }
  return bytes;
}

/** One run of `phones` phone processes; its time is from its start to the
 *  last phone's load verified in flash. */
async function timedRun(net: SiteNet, o: SiteOptions, root: string, phones: number, pfs: boolean, records: () => Promise<ServerRecords>):
  Promise<{ figures: RunFigures; run: FleetRunResult; killed: { mac: string; file: string } | null }> {
  const before = await records();
  const wanBefore = net.wanCounters();
  const rate = new WanRateMeter(() => net.wanCounters().down, HEADER_BYTES[o.source]);
  const doneAt = new Map<number, number>();
  const killer = pfs && o.killRoot === true ? rootKiller(o.load) : null;
  let started = performance.now();
  const run = await runFleetProcesses({
    phones, models: o.models, load: o.load, root, tftp: { host: net.gateway.addr, port: SITE_TFTP_PORT },
    port: PFS_PORT, lingerSec: pfs ? o.lingerSec : 0, pfs, tftpWindow: o.tftpWindow, verbose: o.verbose === true, out: o.out,
    workDir: join(dirname(root), pfs ? "fleet" : "single"),
    restartKilledAfterMs: killer === null ? undefined : RESTART_AFTER_MS,
    // Loaded first, then powered on a boot gap apart: the run's time starts
    // as the first powers on.
    powerOn: { gapMs: o.bootGapMs ?? SITE_BOOT_GAP_MS, onPowerOn: () => (started = performance.now()) },
    net: { binds: net.lan.hosts.map((h) => h.addr), broadcast: net.lan.broadcast, wrap: (i) => net.lan.exec(i), serverHost: net.gateway.addr },
    onLine: (p, line) => {
      if (DONE_LINE.test(line) && !doneAt.has(p.index)) doneAt.set(p.index, performance.now() - started);
      killer?.(p, line);
    },
  });
  const wanMaxKbps10s = rate.stop();
  const wan = wanDelta(wanBefore, net.wanCounters());
  const after = await records();
  const doneMs = doneAt.size === phones ? Math.max(...doneAt.values()) : Number.NaN;
  return { figures: { doneMs, wan, wanMaxKbps10s, reads: siteReads(before, after) }, run, killed: killer?.killed() ?? null };
}

/** Kills the first root of the load's largest component once it holds
 *  KILL_AT_PERCENT of it (its progress line says so). */
function rootKiller(load: string): ((p: PhoneRun, line: string) => void) & { killed: () => { mac: string; file: string } | null } {
  const largest = [...getPreset(load).components].sort((a, b) => b.sizeBytes - a.sizeBytes)[0].stem;
  let victim: PhoneRun | null = null;
  let done: { mac: string; file: string } | null = null;
  const fn = (p: PhoneRun, line: string) => {
    if (done !== null) return;
    const root = /@@@HROOT:\S+ m=\S+ ROOT=\S+ (\S+)$/.exec(line);
    if (root !== null && root[1].includes(largest) && victim === null) victim = p;
    const progress = / DLoad: (\S+) +(\d+)% /.exec(line);
    if (victim === p && progress !== null && progress[1].includes(largest) && Number(progress[2]) >= KILL_AT_PERCENT && p.kill()) {
      done = { mac: p.mac, file: progress[1] };
    }
  };
  return Object.assign(fn, { killed: () => done });
}
