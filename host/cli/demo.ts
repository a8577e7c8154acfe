// `pfs demo`: a fleet upgrade to watch. By default real phone processes on
// loopback (pfs fleet with the demo's settings); with --sim a simulated subnet
// of phones forming their hierarchies, printed as it goes in the vendor's
// console style, then each tree as it ended up. On a terminal the simulated
// one runs at a pace a person can follow; piped, at full speed.

import { MAX_CHILDREN, Role } from "../core/abi.js";
import { clock, formatAddr, formatEvent } from "../log/console.js";
import { Fleet, FleetOptions, MAX_FLEET_PHONES } from "../sim/fleet.js";
import { addrOf, indexOf, SimPhone } from "../sim/world.js";
import { Ev } from "../core/abi.js";
import { Command } from "commander";
import { choiceOption, flagOption, intOption, onRun, Out, pfsCommand, runAlone , para } from "./args.js";
import { fleetRun } from "./fleet.js";
import { MAX_FLEET_PROCESSES } from "../phone/fleet.js";
import { PFS_PORT } from "../phone/peer-host.js";
import { presetNames } from "../load/presets.js";
import { xidName } from "../sim/check.js";

const ABOUT = `By default a real fleet: N phone processes on this machine's loopback, two
models, each booting from the embedded TFTP server behind an emulated WAN
(4000 kbit/s, 20 ms RTT, TFTP windowsize 8) and upgrading to the preset load
through PFS on UDP/TCP port P; every phone's console lines are printed as they
come, then a table.

With --sim, the same upgrade on the simulated subnet instead: two phone models
each fetch the components of their load through PFS over a slow WAN (2000
kbit/s, 80 ms RTT, TFTP windowsize 16), 2% datagram loss, and the root of one
file crashing mid-file. Prints what each phone says, each phone's progress per
component as it goes, then two of the trees and the totals.`;

const DEMO_LOAD = "cp7961-9.4.2";
const DEMO_PHONES = 12;
/** Seconds a demo phone lingers: the demo is watched, not waited for. */
const DEMO_LINGER_SEC = 3;

interface DemoOpts {
  phones: number;
  seed: number;
  load: string;
  port: number;
  sim?: boolean;
  fast?: boolean;
  verbose?: boolean;
}

export function demoCli(out: Out): Command {
  const cmd = pfsCommand("demo", "watch a fleet upgrade through PFS: real phone processes on loopback (--sim: simulated)", out)
    .description(para(ABOUT))
    .addOption(flagOption("--sim", "the simulated subnet instead of real phone processes"))
    .addOption(intOption("--phones <n>", `phones (a real fleet: at most ${MAX_FLEET_PROCESSES})`, { min: 1, max: MAX_FLEET_PHONES }, DEMO_PHONES))
    .addOption(choiceOption("--load <preset>", "the load they upgrade to", presetNames(), DEMO_LOAD))
    .addOption(intOption("--port <p>", "the PFS port (real fleet)", { min: 1, max: 65535 }, PFS_PORT))
    .addOption(intOption("--seed <s>", "the simulation's seed (--sim)", { min: 0, max: 0xffffffff }, 1))
    .addOption(flagOption("--fast", "--sim: do not pace the output for a person watching"))
    .addOption(flagOption("--verbose", "--sim: also print solicitations, refused joins and lost children"));
  return onRun<DemoOpts>(cmd, (o) => demoRun(o, out));
}

/** `pfs demo ARGV` in this process. */
export function demoCommand(argv: string[], out: Out): Promise<number> {
  return runAlone(demoCli(out), argv, out);
}

/** Events a person watching wants; the rest only with --verbose. */
const QUIET = new Set<number>([Ev.Solicit, Ev.Refused, Ev.RootAd, Ev.ChildLost, Ev.Claim, Ev.Yield]);

/** Virtual time between two progress tables. */
const PROGRESS_EVERY_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function demoRun(values: DemoOpts, out: Out): Promise<number> {
  const { phones, load } = values;
  if (!values.sim) {
    out(`PFS demo: ${phones} phone processes on 127.0.0.2 .. 127.0.0.${phones + 1} upgrading to ${load} through PFS`);
    out(`(real sockets; the embedded TFTP server sits behind an emulated WAN of 4000 kbit/s and 20 ms RTT)\n`);
    return fleetRun({
      phones, models: 2, load, wanKbps: 4000, wanRttMs: 20, tftpWindow: 8, linger: DEMO_LINGER_SEC, port: values.port, pfs: true, verbose: true,
    }, out);
  }
  const seed = values.seed;
  const paced = !values.fast && process.stdout.isTTY === true && process.env.CI === undefined;
  let fleet: Fleet | null = null;
  const who = (phone: number) => formatAddr(addrOf(phone)).padEnd(11);
  const opts: Partial<FleetOptions> = {
    phones, seed, models: 2, load, wanKbps: 2000, wanRttMs: 80, lanMbps: 100, tftpWindow: 16,
    loss: 0.02, interiorCrashes: 1, restart: 1, faultMs: 15_000,
    onCrash: (t, phone, rst) => out(`${who(phone)} *** ${clock(t)} ${rst ? "process killed: its sockets reset" : "power lost: it goes silent"}`),
    onRestart: (t, phone) => out(`${who(phone)} *** ${clock(t)} boots again`),
    observer: (t, phone, xid, code, n, a, b) => {
      if (!values.verbose && QUIET.has(code) && !(code === Ev.Claim && n === 0)) return;
      const h = fleet?.hierarchies.find((x) => x.xid === xid);
      const lines = formatEvent(t, addrOf(phone), xid, code, n, a, b, h);
      if (lines !== null) for (const l of lines) out(`${who(phone)} ${l}`);
    },
  };
  out(`PFS demo: ${phones} phones (CP-7961G and CP-7941G) upgrading to ${load} through PFS, seed ${seed}`);
  out(`(virtual time; WAN 2000 kbit/s 80 ms RTT; 2% of datagrams lost; a parent crashes mid-file: its children resume elsewhere)\n`);
  fleet = new Fleet(opts);
  let nextTable = PROGRESS_EVERY_MS;
  while (!fleet.step()) {
    if (fleet.world.nowMs >= nextTable) {
      printProgress(fleet, out);
      nextTable += PROGRESS_EVERY_MS;
    }
    if (paced) await sleep(5);
  }
  const result = fleet.result();
  printProgress(fleet, out);
  out("");
  for (const h of fleet.hierarchies.slice(0, 2)) printTree(fleet.world.phones, h.xid, `${xidName(h.xid)} ${h.model} ${h.file}`, out);
  const x = result.relay!;
  const loads = fleet.catalog.length;
  out(`${x.verified} of ${result.live} phones hold the whole load checked, done at ${((x.doneMs ?? 0) / 1000).toFixed(1)} s virtual.`);
  out(`The WAN carried ${x.wanBytes} bytes: ${(x.wanBytes / x.loadBytes).toFixed(3)} loads of ${x.loadBytes} bytes for ${loads} models; ` +
    `its own limit for that is ${((loads * x.limitMs) / 1000).toFixed(1)} s, and one phone alone takes ${(x.singleMs / 1000).toFixed(1)} s for one load.`);
  out(`${x.serverContacts} phones went to the server, each a root (${result.hierarchies.length} hierarchies); ${result.stats.crashes} crash, ` +
    `${x.refetchedBytes} bytes sent twice, ${x.corruptBlocks} bad blocks caught.`);
  for (const e of result.errors) out(`error: ${e}`);
  if (!result.ok) out(`FAILED: reproduce with pfs demo --seed ${seed}`);
  return result.ok ? 0 : 1;
}

/** One line per phone: how much of each component it holds checked. */
function printProgress(fleet: Fleet, out: (line: string) => void): void {
  const comps = fleet.catalog[0].files.map((f) => f.name.split(".")[0].replace(/\d.*$/, ""));
  out(`\n--- ${clock(fleet.world.nowMs)} progress: KB held checked, percent (R: this phone is the root, fed by the server)`);
  out(`  ${"phone".padEnd(11)} ${"model".padEnd(9)} ${comps.map((c) => c.padStart(13)).join("")}`);
  for (const p of fleet.world.phones) {
    if (!p.alive || p.core === null) {
      out(`  ${formatAddr(p.addr).padEnd(11)} (down)`);
      continue;
    }
    const cells = fleet.catalog[p.model].files.map((f) => {
      const xid = p.core!.xidOf(fleet.catalog[p.model].model, f.name);
      const slot = p.slots.get(xid);
      if (slot === undefined) return "-".padStart(13);
      const x = p.core!.x;
      const listBytes = (x.hierTotal(slot) >>> 0) - f.sizeBytes;
      const held = Math.max(0, (x.hierHeld(slot) >>> 0) - listBytes);
      const pct = x.hierVerified(slot) === 1 ? 100 : Math.floor((held * 100) / f.sizeBytes);
      const root = x.hierRole(slot) === Role.Root ? "R" : " ";
      return `${String(Math.round(held / 1024)).padStart(5)}K ${String(pct).padStart(3)}%${root}`.padStart(13);
    });
    out(`  ${formatAddr(p.addr).padEnd(11)} ${fleet.catalog[p.model].model.padEnd(9)} ${cells.join("")}`);
  }
  out("");
}

function printTree(phones: SimPhone[], xid: number, title: string, out: (line: string) => void): void {
  const slotOf = (p: SimPhone) => (p.alive && p.core !== null ? p.slots.get(xid) : undefined);
  const root = phones.find((p) => {
    const s = slotOf(p);
    return s !== undefined && p.core!.x.hierRole(s) === Role.Root;
  });
  const members = phones.filter((p) => slotOf(p) !== undefined).length;
  out(`${title}: ${members} phones`);
  if (root === undefined) {
    out("  (no root)");
    return;
  }
  const walk = (p: SimPhone, prefix: string, last: boolean, top: boolean, depth: number) => {
    const s = slotOf(p)!;
    out(`  ${prefix}${top ? "" : last ? "└─ " : "├─ "}${formatAddr(p.addr)}${top ? " (root)" : ""}`);
    if (depth > 64) return;
    const kids: SimPhone[] = [];
    for (let i = 0; i < MAX_CHILDREN; i++) {
      const c = p.core!.x.hierChild(s, i) >>> 0;
      if (c !== 0) kids.push(phones[indexOf(c)]);
    }
    kids.forEach((k, i) => walk(k, top ? "" : prefix + (last ? "   " : "│  "), i === kids.length - 1, false, depth + 1));
  };
  walk(root, "", true, true, 0);
  out("");
}
