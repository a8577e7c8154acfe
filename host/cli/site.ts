// `pfs site`: a whole site on real sockets, in network namespaces: N phone
// processes on a bridge of 100 Mbit/s ports, our servers behind a WAN link
// shaped by tbf with the round trip held by our relay (host/site/).

import { Command } from "commander";
import { presetNames } from "../load/presets.js";
import { MAX_FLEET_MODELS } from "../phone/fleet.js";
import { SITE_BOOT_GAP_MS, SITE_SOURCES, SiteResult, SiteSource, runSite } from "../site/site.js";
import { whyNoNetns } from "../site/netns.js";
import { choiceOption, flagOption, intOption, numOption, onRun, Out, para, pfsCommand, required, runAlone, textOption } from "./args.js";
import { FLEET_LINGER_SEC } from "./fleet.js";
import { MAX_LINGER_SEC, TFTP_WINDOW_RANGE } from "./phone.js";

/** The LAN's addresses: a /24 with the gateway at .1 and the broadcast at .255. */
const SITE_PHONES_MAX = 250;
/** Below 8 kbit/s a TFTP block takes more than a second: no WAN a site has. */
const WAN_KBPS_RANGE = { min: 8, max: 1_000_000 };
const WAN_RTT_MS_RANGE = { min: 0, max: 10_000 };
/** The windowsize the site's phones ask by default: 32 blocks of 1428
 *  (46 KB) is more than 2 Mbit/s x 80 ms (20 KB) holds, so a window is
 *  still going out when its first ACK comes back. */
const SITE_TFTP_WINDOW = 32;

const ABOUT = `Builds a site in network namespaces (root needed): N 'pfs phone' processes, each
in its own namespace on one Linux bridge of 100 Mbit/s ports; a gateway on that
LAN running our delay relay (TFTP and HTTP, half the round trip held each way);
our servers in their own namespace behind a WAN link shaped by tc tbf to W
both ways. Times one phone of each model alone fetching directly over that WAN,
then the fleet through PFS, and prints doneMs, singleMs, limitMs (the loads
over W, plus one round trip), the WAN bytes tbf counted, the servers' own read
records per file, and every phone's flash image checked against the server's files.`;

interface SiteOpts {
  phones: number;
  models: number;
  load: string;
  wanKbps: number;
  wanRttMs: number;
  source: SiteSource;
  tftpWindow: number;
  linger: number;
  killRoot?: boolean;
  keep?: string;
  json?: boolean;
  verbose?: boolean;
  bootGapMs: number;
  wanKbpsMax?: number;
}

export function siteCli(out: Out): Command {
  const cmd = pfsCommand("site", "a whole site on real sockets: phones in namespaces behind a shaped WAN (root needed)", out)
    .description(para(ABOUT))
    .addOption(required(intOption("--phones <n>", "phone processes, each in its own namespace", { min: 1, max: SITE_PHONES_MAX })))
    .addOption(intOption("--models <m>", "phone models (CP-7961G, CP-7941G, CP-7970G), their loads sharing the WAN", { min: 1, max: MAX_FLEET_MODELS }, 1))
    .addOption(choiceOption("--load <preset>", "the load they upgrade to", presetNames(), "cp7961-9.4.2"))
    .addOption(required(numOption("--wan-kbps <w>", "the WAN's rate, both ways, kbit/s (tc tbf)", WAN_KBPS_RANGE)))
    .addOption(required(numOption("--wan-rtt-ms <r>", "the WAN's round trip, ms (held by our relay, R/2 each way)", WAN_RTT_MS_RANGE)))
    .addOption(choiceOption("--source <how>", "how roots fetch from the server: tftp, or http (the phones' configs name our HTTP server; TFTP stays the fallback)", SITE_SOURCES, "tftp"))
    .addOption(intOption("--tftp-window <n>", "TFTP windowsize the phones ask of the server (RFC 7440; 1: lockstep)", TFTP_WINDOW_RANGE, SITE_TFTP_WINDOW))
    .addOption(numOption("--linger <s>", "seconds each phone serves peers after its upgrade", { min: 0, max: MAX_LINGER_SEC }, FLEET_LINGER_SEC))
    .addOption(flagOption("--kill-root", "kill the first root of the largest component half way through it (it powers up again 2 s later)"))
    .addOption(textOption("--keep <dir>", "keep the flash images and the server's root in DIR", { shown: "a temporary folder, removed at the end" }))
    .addOption(numOption("--wan-kbps-max <kbps>", "a WAN budget for the phones' roots, kbit/s of payload (<wanKbpsMax> in their configurations, docs/WAN.md)", WAN_KBPS_RANGE, { shown: "no cap" }))
    .addOption(numOption("--boot-gap-ms <ms>", "start phone i i x this many ms after the first (60 processes booting at once on a machine of few cores starve each other; docs/SITE.md)", { min: 0, max: 1000 }, SITE_BOOT_GAP_MS))
    .addOption(flagOption("--verbose", "print every phone's console lines as they come"))
    .addOption(flagOption("--json", "stdout is one JSON object at the end with every figure (progress goes to stderr)"));
  return onRun<SiteOpts>(cmd, (o) => siteRun(o, out));
}

export async function siteRun(o: SiteOpts, stdout: Out): Promise<number> {
  const why = whyNoNetns();
  if (why !== null) {
    process.stderr.write(`pfs site: ${why === "needs root to make network namespaces" ? "needs root (it makes network namespaces, veth pairs and tc qdiscs)" : why}\n`);
    return 1;
  }
  const out: Out = o.json ? (line) => process.stderr.write(line + "\n") : stdout;
  const r = await runSite({
    phones: o.phones, models: o.models, load: o.load, wanKbps: o.wanKbps, wanRttMs: o.wanRttMs, source: o.source,
    tftpWindow: o.tftpWindow, lingerSec: o.linger, killRoot: o.killRoot === true, workDir: o.keep, verbose: o.verbose === true, bootGapMs: o.bootGapMs, wanKbpsMax: o.wanKbpsMax, out,
  });
  if (o.json) stdout(JSON.stringify(siteJson(r)));
  else for (const line of siteReport(r)) out(line);
  return r.problems.length === 0 && Number.isFinite(r.fleet.doneMs) ? 0 : 1;
}

/** The figures as one object: what --json prints and the bench reads. */
export function siteJson(r: SiteResult): Record<string, unknown> {
  return {
    ...r, doneMs: r.fleet.doneMs, singleMs: r.single.doneMs, limitMs: r.limitMs,
    wanBytes: r.fleet.wan.down.bytes + r.fleet.wan.up.bytes,
    doneOverSingle: r.fleet.doneMs / r.single.doneMs, wanDownOverLoads: r.fleet.wan.down.bytes / r.allLoadsBytes,
  };
}

export function siteReport(r: SiteResult): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = [
    "",
    `doneMs   ${r.fleet.doneMs.toFixed(0)} (${s(r.fleet.doneMs)}): ${r.phones} phones through PFS`,
    `singleMs ${r.single.doneMs.toFixed(0)} (${s(r.single.doneMs)}): one phone per model alone, directly; done / single = ${(r.fleet.doneMs / r.single.doneMs).toFixed(3)}`,
    `limitMs  ${r.limitMs.toFixed(0)} (${s(r.limitMs)}): ${r.allLoadsBytes} bytes over ${r.wanKbps} kbit/s plus ${r.wanRttMs} ms`,
    `WAN (tbf, Ethernet frames): down ${r.fleet.wan.down.bytes} bytes in ${r.fleet.wan.down.packets} packets (${r.fleet.wan.down.dropped} dropped) = ${(r.fleet.wan.down.bytes / r.allLoadsBytes).toFixed(4)} x the load(s); up ${r.fleet.wan.up.bytes} bytes in ${r.fleet.wan.up.packets} packets`,
    `  besides the load the phones had to read ${r.metadataBytes} bytes (configurations, indexes, block lists)`,
    `  the load over the WAN: ${r.wanVsSingle.toFixed(4)} x what one phone per model alone took (${r.single.wan.down.bytes} bytes, ${r.singleMetadataBytes} besides the load), both less what they read besides it`,
    `  highest payload rate down the WAN over 10 s: ${r.fleet.wanMaxKbps10s ?? "-"} kbit/s${r.wanKbpsMax === null ? "" : ` (budget ${r.wanKbpsMax})`}`,
    "server reads per file (the servers' own records, fleet run):",
  ];
  for (const [file, f] of Object.entries(r.fleet.reads).sort(([a], [b]) => a.localeCompare(b))) {
    if (/^SEP[0-9A-F]{12}\.cnf\.xml$/.test(file)) continue;
    lines.push(`  ${String(f.tftpReads).padStart(4)} tftp ${String(f.httpReads).padStart(4)} http  ${String(f.bytes).padStart(9)} bytes  ${file}`);
  }
  const configs = Object.keys(r.fleet.reads).filter((f) => /^SEP/.test(f)).length;
  lines.push(`  (and ${configs} phones' configurations)`);
  if (r.killed !== null) lines.push(`killed the root ${r.killed.mac} at ${KILL_NOTE} of ${r.killed.file}`);
  for (const p of r.problems) lines.push(`${p.bind} (${p.mac}): ${p.problem}`);
  lines.push(`${r.verified} of ${r.phones} phones verified against the server's files`);
  return lines;
}

const KILL_NOTE = "half way";

/** `pfs site ARGV` in this process. */
export function siteCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(siteCli(out), argv, out);
}
