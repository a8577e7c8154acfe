// A phone given bad files by its own server (issue 10, 5 and 5b): a
// truncated, a 50 MB and an entity-bomb SEP<MAC>.cnf.xml; a .loads with a
// component size of 0, 999999999999999, one byte too many or too few, a
// non-hex hash, a name twice, '../' or an absolute path in a name, a
// block-list hash that is not the server's, a 50 MB index. Each time: exit
// 1 with one line on stderr (no stack trace), the flash image read by the
// test itself still boots the old load verified, and no file anywhere under
// the test's folders changed but the phone's own flash image (and not even
// that when the index is refused before the update starts). The server's
// files contradicting the index end after SERVER_CONTRADICTIONS_MAX tries.

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { caseFolder, entityBomb, indexEditor } from "../support/bad-index.js";
import { SERVER_CONTRADICTIONS_MAX } from "../../host/phone/server-watch.js";
import { TftpServer } from "../../host/tftp/server.js";
import { changedPaths, factoryFlash, FACTORY_LOAD, flashBoots, runPfs, snapshotTree } from "../support/phone-proc.js";

const MAC = "001BD4000001";
const SEP = `SEP${MAC}.cnf.xml`;
const LOAD = "SCCP41.TINY";
const INDEX = `${LOAD}.loads`;
/** The phones' PFS port, one per test process (two runs at once must not
 *  share it); the port test uses PORT + 1. */
const PORT = 20000 + ((process.pid + 7919) % 12000);
/** One contradiction a retry (FETCH_RETRY_MS, 2 s) apart, and the election
 *  before the first fetch: the phone must give up well within this. */
const CONTRADICTION_BOUND_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), "pfs-bad-input-"));
const pristine = join(dir, "pristine");
makeTftpRoot({ outDir: pristine, model: "CP-7961G", preset: "tiny", macs: [MAC], pfs: { enterprise: true } });
after(() => rmSync(dir, { recursive: true, force: true }));

const goodIndex = readFileSync(join(pristine, INDEX));
const { first, editIndex, firstLine } = indexEditor(goodIndex);

interface Case {
  name: string;
  /** The files of the root to replace. */
  files: Record<string, Uint8Array | string>;
  /** What the one stderr line must say. */
  line: RegExp;
  /** The phone may write its flash's inactive slot (the update started). */
  updateStarts?: boolean;
  slow?: boolean;
}

const good = readFileSync(join(pristine, SEP), "utf8");
const CASES: Case[] = [
  { name: "a truncated SEP<MAC>.cnf.xml", files: { [SEP]: good.slice(0, 150) }, line: /SEP001BD4000001\.cnf\.xml from the server cannot be used: the XML ends with <device>, <loadInformation> still open/ },
  { name: "a 50 MB SEP<MAC>.cnf.xml", files: { [SEP]: Buffer.alloc(50_000_000, "<") }, line: /SEP001BD4000001\.cnf\.xml from the server too large: .*is 50000000 bytes \(tsize\); we take at most 1048576$/ },
  { name: "an XML entity bomb", files: { [SEP]: entityBomb() }, line: /cannot be used: holds a <!DOCTYPE declaration; .* refused unread$/ },
  { name: "a component of size 0", files: { [INDEX]: firstLine((f) => [f[0], "0", f[2], f[3]]) }, line: /SCCP41\.TINY\.loads: 'jar41sccp\.tiny\.sbn' has size 0; a component is at least 1 byte; nothing was written/ },
  { name: "a component of size 999999999999999", files: { [INDEX]: firstLine((f) => [f[0], "999999999999999", f[2], f[3]]) }, line: /has size 999999999999999; this phone takes files of at most 16777216 bytes; nothing was written/ },
  { name: "a size with 16 digits", files: { [INDEX]: firstLine((f) => [f[0], "9999999999999999", f[2], f[3]]) }, line: /SCCP41\.TINY\.loads from the server cannot be used: .*at most 15 digits/ },
  { name: "a non-hex hash", files: { [INDEX]: firstLine((f) => [f[0], f[1], "g" + f[2].slice(1), f[3]]) }, line: /the SHA-256 of 'jar41sccp\.tiny\.sbn' must be 64 hex digits/ },
  { name: "a component named twice", files: { [INDEX]: editIndex((t) => t.replace(/^cnu41\.tiny\.sbn /m, `${first.name} `)) }, line: /names 'jar41sccp\.tiny\.sbn' again/ },
  { name: "a name with '../'", files: { [INDEX]: firstLine((f) => ["../../evil.sbn", ...f.slice(1)]) }, line: /the component name '\.\.\/\.\.\/evil\.sbn' is not a plain file name/ },
  { name: "an absolute path as a name", files: { [INDEX]: firstLine((f) => ["/etc/evil.sbn", ...f.slice(1)]) }, line: /the component name '\/etc\/evil\.sbn' is not a plain file name/ },
  { name: "a 50 MB index", files: { [INDEX]: Buffer.concat([goodIndex, Buffer.alloc(50_000_000, "#")]) }, line: /SCCP41\.TINY\.loads from the server too large: .*we take at most 65536$/ },
  {
    name: "a size one byte too large", slow: true, updateStarts: true,
    files: { [INDEX]: firstLine((f) => [f[0], String(first.sizeBytes! + 1), f[2], f[3]]) },
    line: new RegExp(`the server's jar41sccp\\.tiny\\.sbn contradicted SCCP41\\.TINY\\.loads ${SERVER_CONTRADICTIONS_MAX} times \\(last: .* is 25470 bytes on the server \\(tsize\\), not the 25471 expected\\): giving up \\(the old load stays active\\)$`),
  },
  {
    name: "a size one byte too small", slow: true, updateStarts: true,
    files: { [INDEX]: firstLine((f) => [f[0], String(first.sizeBytes! - 1), f[2], f[3]]) },
    line: /contradicted SCCP41\.TINY\.loads \d times \(last: .*not the 25469 expected\): giving up/,
  },
  {
    name: "a block-list hash the server's list does not have", slow: true, updateStarts: true,
    files: { [INDEX]: firstLine((f) => [f[0], f[1], f[2], (f[3][0] === "0" ? "1" : "0") + f[3].slice(1)]) },
    line: /contradicted SCCP41\.TINY\.loads \d times \(last: its block list's SHA-256 is not the index's\): giving up/,
  },
];

describe("a phone given bad files by its server: one line, exit 1, the old load active, nothing written elsewhere", () => {
  let n = 0;
  for (const c of CASES) {
    test(c.name, async (t) => {
      const here = join(dir, `case-${n++}`);
      const { root, cwd, flash, before } = caseFolder(here, pristine, c.files);
      const server = new TftpServer({ root, host: "127.0.0.1", port: 0 });
      const { port } = await server.start();
      let r;
      try {
        r = await runPfs(["phone", "--mac", MAC, "--model", "CP-7961G", "--tftp", `127.0.0.1:${port}`, "--flash", flash,
          "--bind", "127.0.0.2", "--port", String(PORT), "--linger", "0"], { cwd, timeoutMs: 60_000 });
      } finally {
        await server.stop();
      }
      t.diagnostic(`exit ${r.code} in ${r.wallMs.toFixed(0)} ms: ${r.stderr.trim()}`);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /^pfs phone: /);
      assert.match(lines[0], c.line);
      assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, "a stack trace");
      if (c.slow) assert.ok(r.wallMs < CONTRADICTION_BOUND_MS, `${r.wallMs} ms`);
      // What the test reads for itself: the image still boots the old load,
      // and nothing but the image changed (the phone's cwd stays empty).
      assert.deepEqual(flashBoots(flash), { loadName: FACTORY_LOAD, verified: true });
      assert.deepEqual(readdirSync(cwd), []);
      assert.deepEqual(changedPaths(before, snapshotTree(here)), c.updateStarts ? [flash] : []);
    });
  }
});

test("a phone whose port is taken or whose address is not its own: one line, exit 1, and the process ends", async (t) => {
  const { createServer } = await import("node:net");
  const here = join(dir, "sockets");
  mkdirSync(here);
  const flash = join(here, "phone.flash");
  factoryFlash(flash);
  const server = new TftpServer({ root: pristine, host: "127.0.0.1", port: 0 });
  const { port } = await server.start();
  // Someone else holds the phone's TCP port on its address.
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(PORT + 1, "127.0.0.2", () => resolve()));
  try {
    for (const [bind, line] of [["127.0.0.2", new RegExp(`^pfs phone: cannot open the PFS sockets on 127\\.0\\.0\\.2 port ${PORT + 1}: listen EADDRINUSE`)], ["10.255.255.254", /EADDRNOTAVAIL/]] as const) {
      const r = await runPfs(["phone", "--mac", MAC, "--model", "CP-7961G", "--tftp", `127.0.0.1:${port}`, "--flash", flash,
        "--bind", bind, "--port", String(PORT + 1), "--linger", "0"], { timeoutMs: 20_000 });
      t.diagnostic(`--bind ${bind}: exit ${r.code} in ${r.wallMs.toFixed(0)} ms: ${r.stderr.trim()}`);
      assert.equal(r.code, 1, "exited by itself (a leaked socket once kept it alive until killed)");
      assert.ok(r.wallMs < 10_000);
      assert.equal(r.stderr.split("\n").filter((l) => l !== "").length, 1, r.stderr);
      assert.match(r.stderr, line);
      assert.deepEqual(flashBoots(flash), { loadName: FACTORY_LOAD, verified: true });
    }
  } finally {
    squatter.close();
    await server.stop();
  }
});
