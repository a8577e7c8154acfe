// `pfs demo`: a simulated subnet of phones forming their hierarchies, printed
// as it goes in the vendor's console style, then each tree as it ended up.
// On a terminal it runs at a pace a person can follow; piped, at full speed.

import { MAX_CHILDREN, Role } from "../core/abi.js";
import { clock, formatAddr, formatEvent } from "../log/console.js";
import { Fleet, FleetOptions } from "../sim/fleet.js";
import { addrOf, indexOf, SimPhone } from "../sim/world.js";
import { Ev } from "../core/abi.js";
import { num, parse } from "./args.js";
import { fleetCommand } from "./fleet.js";
import { presetNames } from "../load/presets.js";
import { xidName } from "../sim/check.js";

export const DEMO_USAGE = `usage: pfs demo [--phones N] [--load PRESET] [--port P]
       pfs demo --sim [--phones N] [--seed S] [--load PRESET] [--fast] [--verbose]
  A real fleet (the default): N phone processes (12) on this machine's loopback,
  two models, each booting from the embedded TFTP server behind an emulated
  WAN (4000 kbit/s, 20 ms RTT, TFTP windowsize 8) and upgrading to the preset
  load (cp7961-9.4.2) through PFS on UDP/TCP port P (4051); every phone's
  console lines are printed as they come, then a table.
  --sim: a fleet upgrade on the simulated subnet instead: two phone models each fetch the five
  components of their load through PFS over a slow WAN (2000 kbit/s, 80 ms
  RTT, TFTP windowsize 16), 2% datagram loss, and the root of one file
  crashing mid-file. Prints what each phone says, each phone's progress per
  component as it goes, then two of the trees and the totals.
  --phones N     phones (default 12)
  --seed S       seed (default 1)
  --load PRESET  ${presetNames().join(", ")} (default cp7961-9.4.2)
  --fast         do not pace the output for a person watching
  --verbose      also print solicitations, refused joins and lost children`;

/** Events a person watching wants; the rest only with --verbose. */
const QUIET = new Set<number>([Ev.Solicit, Ev.Refused, Ev.RootAd, Ev.ChildLost, Ev.Claim, Ev.Yield]);

/** Virtual time between two progress tables. */
const PROGRESS_EVERY_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function demoCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    phones: { type: "string" }, seed: { type: "string" }, load: { type: "string" }, fast: { type: "boolean" },
    verbose: { type: "boolean" }, help: { type: "boolean" }, sim: { type: "boolean" }, port: { type: "string" },
  }, DEMO_USAGE);
  if (values.help) {
    out(DEMO_USAGE);
    return 0;
  }
  if (!values.sim) {
    const phones = num(values.phones, "phones", 12, DEMO_USAGE);
    const load = (values.load as string | undefined) ?? "cp7961-9.4.2";
    out(`PFS demo: ${phones} phone processes on 127.0.0.2 .. 127.0.0.${phones + 1} upgrading to ${load} through PFS`);
    out(`(real sockets; the embedded TFTP server sits behind an emulated WAN of 4000 kbit/s and 20 ms RTT)\n`);
    return fleetCommand([
      "--phones", String(phones), "--models", "2", "--load", load, "--wan-kbps", "4000", "--wan-rtt-ms", "20", "--tftp-window", "8",
      "--linger", "3", "--port", String(num(values.port, "port", 4051, DEMO_USAGE)), "--verbose",
    ], out);
  }
  const phones = num(values.phones, "phones", 12, DEMO_USAGE);
  const seed = num(values.seed, "seed", 1, DEMO_USAGE);
  const load = (values.load as string | undefined) ?? "cp7961-9.4.2";
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
