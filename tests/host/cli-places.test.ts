// Commands given places the file system will not give them (issue 10, 5):
// `pfs loads make --out /proc/pfs-root` once spun at 96 % CPU for ever in
// Node's recursive mkdir. Every such command must end quickly with one line
// and a non-zero exit, and makeDirs must make what can be made.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDirs, MakeDirError } from "../../host/make-dir.js";
import { TftpServer } from "../../host/tftp/server.js";
import { runPfs } from "../support/phone-proc.js";

/** A refusal is a few system calls and a Node start: well under this. */
const QUICK_MS = 5000;

const dir = mkdtempSync(join(tmpdir(), "pfs-places-"));
writeFileSync(join(dir, "a-file"), "x");
writeFileSync(join(dir, "served.txt"), "served\n");
after(() => rmSync(dir, { recursive: true, force: true }));

test("makeDirs makes nested folders, accepts existing ones, and refuses the impossible by type", () => {
  const deep = join(dir, "a", "b", "c");
  assert.equal(makeDirs(deep), deep);
  assert.ok(statSync(deep).isDirectory());
  assert.equal(makeDirs(deep), deep);
  for (const [path, code] of [["/proc/pfs-root", "ENOENT"], ["/proc/self/x/y", "ENOENT"], [join(dir, "a-file", "sub"), "EEXIST"]] as const) {
    assert.throws(() => makeDirs(path), (e: unknown) => e instanceof MakeDirError && e.code === code, path);
  }
});

test("commands given impossible places end at once with one line", async (t) => {
  const server = new TftpServer({ root: dir, host: "127.0.0.1", port: 0 });
  const { port } = await server.start();
  try {
    const cases: Array<[string[], RegExp]> = [
      [["loads", "make", "--out", "/proc/pfs-root", "--macs", "2"], /^pfs loads make: cannot make the folder '\/proc\/pfs-root': .*\(ENOENT\)$/],
      [["loads", "make", "--out", "/proc/self/x/y", "--macs", "2"], /^pfs loads make: cannot make the folder '\/proc\/self\/x' \(for '\/proc\/self\/x\/y'\)/],
      [["loads", "make", "--out", join(dir, "a-file", "root"), "--macs", "2"], /it exists and is not a folder \(EEXIST\)$/],
      [["fleet", "--phones", "1", "--keep", "/proc/pfs-keep"], /^pfs fleet: cannot make the folder '\/proc\/pfs-keep'/],
      [["tftp", "get", "--server", `127.0.0.1:${port}`, "--file", "served.txt", "--out", "/proc/pfs-got"], /^pfs tftp: cannot open '\/proc\/pfs-got\.part-\d+': ENOENT$/],
      [["trace", "record", "--out", "/proc/pfs.trace", "--phones", "2"], /^pfs trace: cannot open '\/proc\/pfs\.trace': ENOENT$/],
    ];
    for (const [args, line] of cases) {
      const r = await runPfs(args, { timeoutMs: 20_000 });
      t.diagnostic(`pfs ${args.join(" ")}: exit ${r.code} in ${r.wallMs.toFixed(0)} ms: ${r.stderr.trim()}`);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(r.wallMs < QUICK_MS, `${args.join(" ")}: ${r.wallMs} ms`);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], line);
    }
  } finally {
    await server.stop();
  }
});
