// `pfs demo`: a simulated subnet of phones forming their hierarchies, printed
// as it goes in the vendor's console style, then each tree as it ended up.
// On a terminal it runs at a pace a person can follow; piped, at full speed.

import { MAX_CHILDREN, Role } from "../core/abi.js";
import { clock, formatAddr, formatEvent } from "../log/console.js";
import { Fleet, FleetOptions } from "../sim/fleet.js";
import { addrOf, indexOf, SimPhone } from "../sim/world.js";
import { Ev } from "../core/abi.js";
import { num, parse } from "./args.js";
import { xidName } from "../sim/check.js";

export const DEMO_USAGE = `usage: pfs demo [--phones N] [--seed S] [--fast] [--verbose]
  A simulated subnet: two phone models, two files each, 5% datagram loss,
  one root crashing mid-run and two late joiners. Prints what each phone
  says, then the trees.
  --phones N   phones (default 20)
  --seed S     seed (default 1)
  --fast       do not pace the output
  --verbose    also print solicitations and refused joins`;

/** Events a person watching wants; the rest only with --verbose. */
const QUIET = new Set<number>([Ev.Solicit, Ev.Refused, Ev.RootAd, Ev.ChildLost]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function demoCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parse(argv, {
    phones: { type: "string" }, seed: { type: "string" }, fast: { type: "boolean" }, verbose: { type: "boolean" }, help: { type: "boolean" },
  }, DEMO_USAGE);
  if (values.help) {
    out(DEMO_USAGE);
    return 0;
  }
  const phones = num(values.phones, "phones", 20, DEMO_USAGE);
  const seed = num(values.seed, "seed", 1, DEMO_USAGE);
  const paced = !values.fast && process.stdout.isTTY === true && process.env.CI === undefined;
  let fleet: Fleet | null = null;
  const opts: Partial<FleetOptions> = {
    phones, seed, models: 2, files: 2, loss: 0.05, rootCrashes: 1, restart: 1, late: 2, faultMs: 8000,
    onCrash: (t, phone, rst) => out(`${formatAddr(addrOf(phone)).padEnd(11)} *** ${clock(t)} ${rst ? "process killed: its sockets reset" : "power lost: it goes silent"}`),
    onRestart: (t, phone) => out(`${formatAddr(addrOf(phone)).padEnd(11)} *** ${clock(t)} boots again`),
    observer: (t, phone, xid, code, n, a, b) => {
      if (!values.verbose && QUIET.has(code)) return;
      const h = fleet?.hierarchies.find((x) => x.xid === xid);
      const lines = formatEvent(t, addrOf(phone), xid, code, n, a, b, h);
      if (lines !== null) for (const l of lines) out(`${formatAddr(addrOf(phone)).padEnd(11)} ${l}`);
    },
  };
  out(`PFS demo: ${phones} phones, models CP-7961G and CP-7941G, 2 files each, seed ${seed}`);
  out(`(virtual time; 5% of datagrams lost; a root crashes and comes back; 2 phones boot late)\n`);
  fleet = new Fleet(opts);
  while (!fleet.step()) {
    if (paced) await sleep(20);
  }
  const result = fleet.result();
  out("");
  for (const h of fleet.hierarchies) printTree(fleet.world.phones, h.xid, `${xidName(h.xid)} ${h.model} ${h.file}`, out);
  out(`${result.live} of ${result.phones} phones live, ${result.orphans} orphans, converged at ${result.convergedMs ?? "never"} ms virtual ` +
    `(${result.stats.crashes} crash, ${result.stats.merges} merges, ${result.stats.moves} rebalancing moves)`);
  for (const e of result.errors) out(`error: ${e}`);
  if (!result.ok) out(`FAILED: reproduce with pfs demo --seed ${seed}`);
  return result.ok ? 0 : 1;
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
