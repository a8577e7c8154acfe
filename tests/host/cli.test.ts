// The pfs command as a user runs it: the JSON contract of `pfs sim --json`,
// one-line errors for wrong arguments, help generated from the same
// definitions the parser reads, and the demo's output.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { pfsProgram } from "../../host/cli/main.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const pfs = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/pfs.js"), ...args], { encoding: "utf8", env: { ...process.env, CI: "true" } });
/** Help text with its wrapping undone, to find a description in it. */
const flat = (s: string) => s.replace(/\s+/g, " ");

test("pfs sim --json ends with one JSON object carrying the documented fields", () => {
  const r = pfs("sim", "--phones", "7", "--models", "2", "--files", "2", "--loss", "0.1", "--seed", "9", "--json");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const out = JSON.parse(lines[lines.length - 1]);
  for (const key of ["phones", "live", "seed", "orphans", "maxChildren", "convergedMs", "wallMs", "hierarchies"]) {
    assert.ok(key in out, `missing ${key}`);
  }
  assert.equal(out.phones, 7);
  assert.equal(out.seed, 9);
  assert.equal(out.orphans, 0);
  assert.equal(out.hierarchies.length, 4);
  for (const h of out.hierarchies) {
    for (const key of ["xid", "model", "file", "size", "roots", "maxDepth"]) assert.ok(key in h, `hierarchy missing ${key}`);
    assert.match(h.xid, /^XID[0-9A-F]{8}$/);
    assert.equal(h.roots, 1);
  }
});

test("wrong arguments: one line on stderr naming the command and its help, nothing on stdout, exit 2", () => {
  const cases: Array<[string[], RegExp]> = [
    [["sim", "--phones", "lots"], /^pfs sim: --phones needs a number \(got "lots"\) \(see pfs sim --help\)$/],
    [["sim", "--phones", "0"], /^pfs sim: --phones must be a whole number from 1 to 20000 \(got 0\)/],
    [["sim", "--loss", "1.5"], /^pfs sim: --loss must be a number from 0 to 0\.9 \(got 1\.5\)/],
    [["sim", "--models", "9"], /^pfs sim: --models must be a whole number from 1 to 7/],
    [["sim", "--mode", "direct"], /^pfs sim: --mode needs --load/],
    [["sim", "--bogus"], /^pfs sim: unknown option '--bogus'.* \(see pfs sim --help\)$/],
    [["sim", "--phones"], /^pfs sim: --phones needs a value \(see pfs sim --help\)$/],
    [["sim", "extra"], /^pfs sim: unexpected argument 'extra' \(see pfs sim --help\)$/],
    [["sim", "--mode", "fast", "--load", "tiny"], /^pfs sim: --mode must be one of cut-through, store-and-forward, direct \(got "fast"\)/],
    [["frobnicate"], /^pfs: unknown command 'frobnicate' \(see pfs --help\)$/],
    [["tftp"], /^pfs tftp: a subcommand is needed: get \(see pfs tftp --help\)$/],
    [["tftp", "get", "--file", "x"], /^pfs tftp get: --server is required \(see pfs tftp get --help\)$/],
    [["tftp", "get", "--server", "nohost", "--file", "x"], /^pfs tftp get: --server needs host:port/],
    [["phone", "--mac", "12"], /^pfs phone: --model is required/],
    [["fleet", "--phones", "201"], /^pfs fleet: --phones must be a whole number from 1 to 200 \(got 201\)/],
    [["tftpd", "--root", "/tmp", "--listen", ":6969", "--max-blksize", "4"], /^pfs tftpd: --max-blksize must be a whole number from 8 to 65464 \(got 4\)/],
  ];
  for (const [args, message] of cases) {
    const r = pfs(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: exit ${r.status} ${r.stderr}`);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, `${args.join(" ")}: one line, not ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0], message, args.join(" "));
    assert.equal(r.stdout, "", `${args.join(" ")}: nothing on stdout`);
  }
});

test("a negative number after an option is its value: --phones -3 and --phones=-3 say the same range", () => {
  const spaced = pfs("sim", "--phones", "-3");
  const joined = pfs("sim", "--phones=-3");
  for (const r of [spaced, joined]) {
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "pfs sim: --phones must be a whole number from 1 to 20000 (got -3) (see pfs sim --help)\n");
  }
  const seed = pfs("sim", "--seed", "-1");
  assert.match(seed.stderr, /^pfs sim: --seed must be a whole number from 0 to 4294967295 \(got -1\)/);
});

/** Every command path under the program: ["sim"], ["tftp", "get"], ... */
function commandPaths(cmd: Command, above: string[] = []): Array<{ path: string[]; cmd: Command }> {
  const here = above.length === 0 ? [] : [{ path: above, cmd }];
  return here.concat(cmd.commands.filter((c) => c.name() !== "help").flatMap((c) => commandPaths(c, [...above, c.name()])));
}

test("every option of every command appears in its --help with its description: help and parsing are one definition", () => {
  const program = pfsProgram(() => {});
  const paths = commandPaths(program);
  assert.ok(paths.length >= 18, `${paths.length} commands`);
  for (const { path, cmd } of paths) {
    const r = pfs(...path, "--help");
    assert.equal(r.status, 0, `pfs ${path.join(" ")} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: pfs ${path.join(" ")} `), path.join(" "));
    const help = flat(r.stdout);
    for (const o of cmd.options) {
      assert.ok(o.description.trim().length > 0, `${path.join(" ")} ${o.flags}: no description`);
      assert.ok(help.includes(`${o.flags} ${flat(o.description)}`), `pfs ${path.join(" ")} --help lacks ${o.flags} with "${o.description}"`);
      const defaulted = o.isBoolean() || o.negate || o.mandatory || help.includes(`${flat(o.description)} (default: `) || help.includes("default: ", help.indexOf(o.flags));
      assert.ok(defaulted, `pfs ${path.join(" ")} ${o.flags}: no default shown`);
    }
    // `pfs help X` is the same text.
    if (path.length === 1) assert.equal(pfs("help", path[0]).stdout, r.stdout, `pfs help ${path[0]}`);
  }
});

test("the help texts the issue found wanting: sim, phone, fleet, demo", () => {
  const sim = flat(pfs("sim", "--help").stdout);
  for (const want of ["--load <preset>", "--mode <mode>", "--wan-kbps <w>", "--wan-rtt-ms <r>", "--lan-mbps <l>", "--rogues <k>"]) assert.ok(sim.includes(want), want);
  for (const name of ["--loss", "--dup", "--crash"]) assert.match(sim, new RegExp(`${name} <[a-z]+> [^-]*\\(default: 0\\)`), name);
  const phone = flat(pfs("phone", "--help").stdout);
  assert.match(phone, /--port <p> the PFS port: UDP for election and discovery, TCP for the relay \(default: 4051\)/);
  assert.match(phone, /--tftp-blksize <b> TFTP block size asked of the server \(RFC 2348\) \(default: 1428\)/);
  assert.match(phone, /--tftp-window <n> TFTP windowsize asked/);
  assert.match(phone, /--board <name> the board whose figures size the core and flash/);
  const fleet = flat(pfs("fleet", "--help").stdout);
  assert.match(fleet, /--tftp <host:port> a TFTP server of your own/);
  assert.match(fleet, /--root <dir> a TFTP root to serve/);
  assert.match(fleet, /--verbose print every phone's console lines/);
  // pfs --help and pfs demo --help tell the same story: a real fleet unless --sim.
  assert.match(flat(pfs("--help").stdout), /demo watch a fleet upgrade through PFS: real phone processes on loopback \(--sim: simulated\)/);
  assert.match(flat(pfs("demo", "--help").stdout), /By default a real fleet: N phone processes/);
});

test("pfs alone lists the commands and exits 2; pfs --help exits 0", () => {
  const bare = pfs();
  assert.equal(bare.status, 2);
  assert.match(bare.stdout, /^Usage: pfs/);
  const help = pfs("--help");
  assert.equal(help.status, 0);
  for (const c of ["sim", "sweep", "demo", "phone", "fleet", "loads", "flash", "tftpd", "tftp", "wasi", "boards", "trace"]) assert.match(help.stdout, new RegExp(`\\n  ${c} +\\S`), c);
});

test("pfs demo --sim shows the election, each phone's progress per component, the trees and the totals", () => {
  const r = pfs("demo", "--sim", "--phones", "8", "--seed", "2");
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  assert.match(r.stdout, /TxBdcst ClaimRoot\(tent\): strength=[0-9a-f]{8}/);
  assert.match(r.stdout, /UT:Confirmed root bumping strength/);
  assert.match(r.stdout, /@@@HROOT:XID[0-9A-F]{8} m=CP-79[46]1G ROOT=10\.0\.0\.\d+ \S+/);
  // A first claimant fetches while it claims (assembly/election.ts).
  assert.match(r.stdout, /Tentative root fetching while it claims \(\d+ bytes\)/);
  // Progress tables: a row per phone, a cell per component, ending at 100%.
  assert.match(r.stdout, /progress: KB held checked/);
  assert.match(r.stdout, /10\.0\.0\.1 +CP-79[46]1G +(\s*\d+K +\d+%R?){5}/);
  assert.match(r.stdout, /apps41\.9-4-2ES26\.sbn complete: 3157527 bytes checked and in flash/);
  assert.match(r.stdout, /\(root\)/);
  assert.match(r.stdout, /8 of 8 phones hold the whole load checked/);
  assert.doesNotMatch(r.stdout, /FAILED|error:/);
});
