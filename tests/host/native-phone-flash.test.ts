// The C phone's flash (native/phone/flash.h) against the Node host's, on the
// same image files: each host reads what the other wrote as the same boot
// (slot, load, record, each slot's state), a C update boots in Node with the
// files' own SHA-256s, a C trial boots once and reverts without a confirm,
// and damaged images give the same verdict in both, the C tool failing in
// one line on stderr, never a crash. Skips, saying why, when the C phone's
// toolchain is missing and cannot be installed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadBoard } from "../../host/boards.js";
import { AbStore } from "../../host/flash/ab-store.js";
import { encodeRecord } from "../../host/flash/boot-record.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, layoutBytes, slotStartBytes, type Layout } from "../../host/flash/layout.js";
import { encodeManifest, listBytesOf } from "../../host/flash/manifest.js";
import { sha256 } from "../../host/load/blocklist.js";
import { Rng } from "../../host/sim/random.js";
import { asFactory, factoryLoad, newLoad, runUpdate, writePlan, type TestLoad } from "../support/flash.js";
import { ensurePhoneTool, PFS_BIN, ROOT } from "../support/native.js";

const TOOL_TARGET = "build/native/phone/pfs-flash-tool";
const TOOL = join(ROOT, TOOL_TARGET);
/** 4 KiB sectors and 4 MiB slots: small, sparse images, many sectors per load. */
const BOARD = "mcu";
const layout: Layout = boardLayout(loadBoard(BOARD));
const LAYOUT_ARG = ["--layout", `${layout.sectorBytes}:${layout.slotBytes}:${layout.bootRecordSectors}`];

interface Ls {
  ok: boolean;
  slot: string | null;
  state: string | null;
  loadName: string | null;
  seq: number | null;
  recordSeq: number | null;
  verified: boolean;
  onTrial?: string | null;
  reason: string;
  components: Array<{ name: string; sizeBytes: number; sha256: string; listSha256: string; verified: boolean; why: string }>;
  slots: Array<{ slot: string; state: string; loadName: string | null; seq: number | null; recordSeq: number | null; why: string }>;
}

function c(cmd: string, image: string, extra: string[] = []) {
  const r = spawnSync(TOOL, [cmd, image, ...LAYOUT_ARG, ...extra], { encoding: "utf8" });
  if (r.error !== undefined) throw r.error;
  const errLines = r.stderr.split("\n").filter((l) => l.length > 0);
  return { code: r.status, signal: r.signal, json: r.stdout.trim() === "" ? null : (JSON.parse(r.stdout) as Ls), errLines, stderr: r.stderr };
}

function cOk(cmd: string, image: string, extra: string[] = []): Ls {
  const r = c(cmd, image, extra);
  assert.equal(r.code, 0, `pfs-flash-tool ${cmd}: ${r.stderr}`);
  assert.notEqual(r.json, null);
  return r.json!;
}

function nodeLs(image: string): Ls {
  const r = spawnSync(process.execPath, [PFS_BIN, "flash", "ls", "--flash", image, "--board", BOARD, "--json"], { cwd: ROOT, encoding: "utf8" });
  assert.ok(r.status === 0 || r.status === 1, `pfs flash ls: ${r.stderr}`);
  return JSON.parse(r.stdout) as Ls;
}

/** What both hosts must agree on; the slots' keys in one order. */
function same(ls: Ls) {
  const { onTrial: _, ...rest } = ls;
  return { ...rest, slots: ls.slots.map((s) => ({ slot: s.slot, state: s.state, loadName: s.loadName, seq: s.seq, recordSeq: s.recordSeq, why: s.why })) };
}

const states = (ls: Ls) => ls.slots.map((s) => `${s.slot}:${s.state}`).join(" ");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "pfs-native-flash-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A load's components as files named after them, for the C tool. */
function filesOf(dir: string, load: TestLoad): string[] {
  return load.files.map((f) => {
    const path = join(dir, f.name);
    writeFileSync(path, f.content);
    return path;
  });
}

/** A Node factory image (the "tiny" load in slot A), with a Node update on top when asked. */
function nodeImage(dir: string, update: TestLoad | null, name = "node.flash"): string {
  const image = join(dir, name);
  const dev = FileDevice.create(image, layout.sectorBytes, layout.totalSectors);
  try {
    AbStore.format(dev, layout, asFactory(factoryLoad()));
    if (update !== null) runUpdate(AbStore.open(dev, layout), update, writePlan(update, 7));
  } finally {
    dev.close();
  }
  return image;
}

test("C reads a Node image as Node does: the factory load, then a Node update on trial, then its power-up", (t) => {
  const why = ensurePhoneTool(TOOL_TARGET);
  if (why !== null) return t.skip(why);
  const dir = tempDir(t);
  const factory = nodeImage(dir, null);
  assert.deepEqual(same(cOk("ls", factory)), same(nodeLs(factory)));
  assert.equal(cOk("ls", factory).loadName, factoryLoad().loadName);

  const load2 = newLoad("2");
  const updated = nodeImage(dir, load2, "updated.flash");
  const before = cOk("ls", updated);
  assert.deepEqual(same(before), same(nodeLs(updated)));
  assert.equal(before.slot, "B");
  assert.equal(before.state, "trial");
  assert.equal(before.loadName, load2.loadName);
  assert.deepEqual(before.components.map((x) => x.sha256), load2.files.map((f) => hex(f.sha256)));
  assert.equal(states(before), "A:confirmed B:trial");

  // The C power-up boots the Node trial once, and Node then sees the revert to come.
  const up = cOk("boot", updated);
  assert.equal(up.onTrial, "B");
  assert.equal(up.loadName, load2.loadName);
  const after = nodeLs(updated);
  assert.equal(states(after), "A:active B:bad");
  assert.match(after.slots[1].why, /never confirmed: reverted/);
  assert.deepEqual(same(cOk("ls", updated)), same(after));
});

test("a C update of a Node image boots in Node: the load, verified, with the files' SHA-256s", (t) => {
  const why = ensurePhoneTool(TOOL_TARGET);
  if (why !== null) return t.skip(why);
  const dir = tempDir(t);
  const image = nodeImage(dir, null);
  const load2 = newLoad("3");
  // Pieces that do not fall on sectors or blocks.
  const wrote = cOk("write", image, ["--load", load2.loadName, "--piece", "2999", ...filesOf(dir, load2)]);
  assert.equal(wrote.slot, "B");
  assert.equal(wrote.state, "trial");
  const ls = nodeLs(image);
  assert.deepEqual(same(ls), same(wrote));
  assert.equal(ls.loadName, load2.loadName);
  assert.equal(ls.verified, true);
  assert.equal(ls.recordSeq, 2);
  assert.deepEqual(ls.components.map((x) => [x.name, x.sizeBytes, x.sha256, x.verified]),
    load2.files.map((f) => [f.name, f.content.length, createHash("sha256").update(f.content).digest("hex"), true]));
  assert.deepEqual(ls.components.map((x) => x.listSha256), load2.files.map((f) => hex(f.listSha256)));
  assert.equal(states(ls), "A:confirmed B:trial");

  // Node's own phone takes it from there: its power-up boots the trial, and it confirms.
  const dev = FileDevice.open(image, layout.sectorBytes, layout.totalSectors);
  try {
    const store = AbStore.open(dev, layout);
    assert.equal(store.powerUp().manifest?.loadName, load2.loadName);
    assert.equal(store.confirm().trial, false);
  } finally {
    dev.close();
  }
  assert.equal(states(cOk("ls", image)), "A:confirmed B:active");

  // A C format is a Node factory image too.
  const fresh = join(dir, "c.flash");
  const f1 = factoryLoad();
  cOk("format", fresh, ["--load", f1.loadName, ...filesOf(dir, f1)]);
  const nf = nodeLs(fresh);
  assert.equal(nf.state, "active");
  assert.equal(nf.recordSeq, 1);
  assert.equal(readFileSync(fresh).length, layoutBytes(layout));
  assert.deepEqual(same(nf), same(cOk("ls", fresh)));
});

test("a C update reads back through pfs_flash_read_at: each transfer space, open and committed, is the block list and the file", (t) => {
  const why = ensurePhoneTool(TOOL_TARGET);
  if (why !== null) return t.skip(why);
  const dir = tempDir(t);
  const image = nodeImage(dir, null);
  const load2 = newLoad("6");
  const out = join(dir, "space");
  mkdirSync(out);
  // Pieces that fall on no sector, block or list boundary, as the core's reads.
  const read = cOk("read", image, ["--load", load2.loadName, "--piece", "1237", "--out", out, ...filesOf(dir, load2)]);
  assert.equal(read.slot, "B");
  assert.equal(read.state, "trial");
  for (const f of load2.files) {
    const space = readFileSync(join(out, `${f.name}.space`));
    assert.equal(space.length, f.list.length + f.content.length, f.name);
    assert.ok(Buffer.from(f.stream).equals(space), `${f.name}: the block list, then the file`);
  }
  assert.deepEqual(same(nodeLs(image)), same(read));
  // The tool's own refusals (outside the transfer space, a component the load lacks) passed, or it exits 1.
  const bad = c("read", image, ["--load", "X", image]);
  assert.equal(bad.code, 2, "read needs --out");
});

test("a C trial boots once; a second power-up without a confirm goes back to the old load; a confirm keeps it", (t) => {
  const why = ensurePhoneTool(TOOL_TARGET);
  if (why !== null) return t.skip(why);
  const dir = tempDir(t);
  const image = nodeImage(dir, null);
  const old = factoryLoad().loadName;
  const load2 = newLoad("4");
  const files = filesOf(dir, load2);
  cOk("write", image, ["--load", load2.loadName, ...files]);
  const first = cOk("boot", image);
  assert.equal(first.onTrial, "B");
  assert.equal(first.loadName, load2.loadName);
  // Were the power to die now, the old load boots: both hosts say so.
  assert.equal(states(nodeLs(image)), "A:active B:bad");
  const second = cOk("boot", image);
  assert.equal(second.onTrial, null);
  assert.equal(second.slot, "A");
  assert.equal(second.loadName, old);
  assert.match(second.reason, /reverted/);
  const n = nodeLs(image);
  assert.equal(n.loadName, old);
  assert.match(n.slots[1].why, /booted once on trial \(record 2\) and never confirmed: reverted/);
  assert.deepEqual(same(cOk("ls", image)), same(n));
  // Nothing to confirm now: a power-up boots the confirmed old load.
  const none = c("confirm", image);
  assert.equal(none.code, 1);
  assert.equal(none.errLines.length, 1);

  // Again, and this time it comes up: a sequence above everything on the flash, kept.
  const again = cOk("write", image, ["--load", load2.loadName, ...files]);
  assert.equal(again.recordSeq, 3);
  const kept = cOk("confirm", image);
  assert.equal(kept.slot, "B");
  assert.equal(kept.state, "active");
  const k = nodeLs(image);
  assert.equal(k.loadName, load2.loadName);
  assert.equal(states(k), "A:confirmed B:active");
  assert.deepEqual(same(k), same(kept));
});

/** Random bytes at random places of the record sectors and both manifests. */
function corrupt(image: string, seed: number): void {
  const rng = Rng.derive(seed, "native-flash-corrupt");
  const fd = openSync(image, "r+");
  try {
    const places = [0, layout.sectorBytes, slotStartBytes(layout, 0), slotStartBytes(layout, 1)];
    for (const base of places) {
      if (rng.int(0, 3) === 0) continue;
      const bytes = Buffer.from(Array.from({ length: rng.int(1, 48) }, () => rng.int(0, 255)));
      writeSync(fd, bytes, 0, bytes.length, base + rng.int(0, 250));
    }
  } finally {
    closeSync(fd);
  }
}

/** A manifest whose hash matches but whose component lies past the slot's
 *  end, and a record naming it: only the placement check stands between
 *  it and a read outside the slot. */
function hashedButOutside(image: string): void {
  const size = 70_000;
  const m = encodeManifest({ loadName: "EVIL", seq: 9, components: [{ name: "x.sbn", sizeBytes: size, listBytes: listBytesOf(size), offsetBytes: layout.slotBytes - 100, sha256: new Uint8Array(32), listSha256: new Uint8Array(32) }] });
  const r = encodeRecord({ slot: 1, seq: 9, manifestSha256: sha256(m), trial: false });
  const fd = openSync(image, "r+");
  try {
    writeSync(fd, Buffer.alloc(layout.sectorBytes, 0xff), 0, layout.sectorBytes, layout.sectorBytes);
    writeSync(fd, r, 0, r.length, layout.sectorBytes);
    writeSync(fd, m, 0, m.length, slotStartBytes(layout, 1));
  } finally {
    closeSync(fd);
  }
}

test("damaged images: C gives Node's verdict, and fails in one line on stderr, never a crash", (t) => {
  const why = ensurePhoneTool(TOOL_TARGET);
  if (why !== null) return t.skip(why);
  const dir = tempDir(t);
  const good = nodeImage(dir, newLoad("5"));
  const image = join(dir, "damaged.flash");
  let failed = 0;
  for (let seed = 1; seed <= 24; seed++) {
    writeFileSync(image, readFileSync(good));
    corrupt(image, seed);
    const r = c("ls", image);
    assert.equal(r.signal, null, `seed ${seed}: killed by ${r.signal}`);
    const n = nodeLs(image);
    assert.deepEqual(same(r.json!), same(n), `seed ${seed}`);
    if (n.verified) {
      assert.equal(r.code, 0, `seed ${seed}: ${r.stderr}`);
      continue;
    }
    failed++;
    assert.equal(r.code, 1, `seed ${seed}`);
    assert.equal(r.errLines.length, 1, `seed ${seed}: ${r.stderr}`);
    assert.match(r.errLines[0], /^pfs-flash-tool: .*no verified load/);
  }
  assert.ok(failed > 0, "some damage must leave nothing that verifies");

  // A manifest that hashes right but points outside the slot: refused, as in Node.
  writeFileSync(image, readFileSync(good));
  hashedButOutside(image);
  const evil = c("ls", image);
  assert.equal(evil.signal, null);
  assert.deepEqual(same(evil.json!), same(nodeLs(image)));
  assert.match(evil.json!.slots[1].why, /lies outside its place in the slot/);

  // An image of the wrong size, and one that is not there.
  writeFileSync(image, readFileSync(good));
  truncateSync(image, layoutBytes(layout) - 1);
  for (const cmd of ["ls", "boot", "write"]) {
    const r = c(cmd, image, cmd === "write" ? ["--load", "X", image] : []);
    assert.equal(r.code, 1, cmd);
    assert.equal(r.signal, null);
    assert.equal(r.errLines.length, 1, r.stderr);
    assert.match(r.errLines[0], /bytes, but the layout needs/);
  }
  const missing = c("ls", join(dir, "none.flash"));
  assert.equal(missing.code, 1);
  assert.equal(missing.errLines.length, 1);
});
