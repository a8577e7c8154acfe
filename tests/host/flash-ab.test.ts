// The A/B store: a factory image boots; an update written in any order
// verifies and commits into the other slot; a bad byte makes commit refuse;
// the running slot is never written during an update; boot falls back when
// the active slot or the newest boot record is damaged. And `pfs flash`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AbStore } from "../../host/flash/ab-store.js";
import type { FlashDevice } from "../../host/flash/device.js";
import { MemoryDevice } from "../../host/flash/memory-device.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, slotStartBytes, type Layout } from "../../host/flash/layout.js";
import type { Manifest } from "../../host/flash/manifest.js";
import { loadBoard } from "../../host/boards.js";
import { asFactory, contentHashes, factoryLoad, indexOf, newLoad, runUpdate, smallLayout, whichLoad, writePlan, type TestLoad } from "../support/flash.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const pfs = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin/pfs.js"), ...args], { encoding: "utf8" });

function freshDevice(layout: Layout): MemoryDevice {
  return new MemoryDevice(layout.sectorBytes, layout.totalSectors);
}

function formatted(): { dev: MemoryDevice; layout: Layout; store: AbStore; factory: TestLoad } {
  const layout = smallLayout();
  const dev = freshDevice(layout);
  const factory = factoryLoad();
  const store = AbStore.format(dev, layout, asFactory(factory));
  return { dev, layout, store, factory };
}

/** Clears a bit, as a bad cell or a stray write would: the lowest set bit
 *  of the first byte from `offset` on that has one. */
function clearBit(dev: FlashDevice, offset: number): void {
  let at = offset;
  while (dev.read(at, 1)[0] === 0) at++;
  const v = dev.read(at, 1)[0];
  dev.program(at, Uint8Array.of(v & (v - 1)));
}

/** Damages byte `at` of a component's content in a slot. */
function damage(dev: FlashDevice, layout: Layout, slot: 0 | 1, m: Manifest, component: number, at: number): void {
  const c = m.components[component];
  clearBit(dev, slotStartBytes(layout, slot) + c.offsetBytes + c.listBytes + at);
}

test("a formatted image boots its factory load from slot A", () => {
  const { dev, layout, store, factory } = formatted();
  const b = store.boot();
  assert.equal(b.slot, 0);
  assert.equal(b.verified, true, b.reason);
  assert.equal(b.recordSeq, 1);
  assert.equal(whichLoad(dev, layout, b, [factory]), factory);
  assert.deepEqual(b.components.map((c) => c.ok), [true, true, true]);
  assert.equal(AbStore.open(dev, layout).activeLoad()!.loadName, "SCCP41.TINY");
  // The same on a chip that starts all zeros (as a sparse image file reads).
  const zeros = new MemoryDevice(layout.sectorBytes, layout.totalSectors, 0x00);
  assert.equal(AbStore.format(zeros, layout, asFactory(factory)).boot().verified, true);
  // A load that cannot be written is refused before anything is erased.
  const image = dev.image();
  assert.throws(() => AbStore.format(dev, layout, { ...asFactory(factory), loadName: "L".repeat(65) }), /load name 'L+' must be 1 to 64 bytes/);
  assert.throws(() => AbStore.format(dev, layout, { loadName: "L", components: [{ name: "big", bytes: new Uint8Array(layout.slotBytes) }] }), /the slot has/);
  assert.deepEqual(dev.image(), image);
});

test("an update written in random order verifies and commits into the other slot; the next goes back", () => {
  const { dev, layout, store, factory } = formatted();
  const load2 = newLoad("2");
  const update = store.beginUpdate(load2.loadName, indexOf(load2));
  assert.equal(update.slot, 1, "the inactive slot");
  assert.deepEqual(update.verified(), [false, false, false, false, false]);
  const plan = writePlan(load2, 11);
  plan.forEach((p, i) => {
    update.writeAt(p.component, p.offset, p.bytes);
    if (i === Math.floor(plan.length / 2)) assert.equal(store.boot().slot, 0, "mid-update, the old load still boots");
  });
  // readAt serves children from flash: list then content, one offset space.
  const f = load2.files[3];
  assert.deepEqual(update.readAt(3, 0, f.list.length), f.list);
  assert.deepEqual(update.readAt(3, f.list.length + 100, 50), f.content.subarray(100, 150));
  assert.deepEqual(load2.files.map((_, i) => update.verify(i)), [true, true, true, true, true]);
  assert.deepEqual(update.verified(), [true, true, true, true, true]);
  assert.equal(store.activeLoad()!.loadName, factory.loadName, "not active before commit");
  update.commit();
  assert.equal(store.activeLoad()!.loadName, load2.loadName);
  const after = AbStore.open(dev, layout).boot();
  assert.equal(after.slot, 1);
  assert.equal(after.recordSeq, 2);
  assert.equal(whichLoad(dev, layout, after, [factory, load2]), load2);
  assert.throws(() => update.writeAt(0, 0, new Uint8Array(1)), /committed already/);

  // The next update goes to slot A, and its record to the other sector.
  const load3 = newLoad("3");
  runUpdate(store, load3, writePlan(load3, 12));
  const third = AbStore.open(dev, layout).boot();
  assert.equal(third.slot, 0);
  assert.equal(third.recordSeq, 3);
  assert.equal(whichLoad(dev, layout, third, [load2, load3]), load3);
});

/** A device that counts the bytes read from one range (a slot's components). */
class CountingDevice extends MemoryDevice {
  readBytes = 0;
  range = { from: 0, to: 0 };
  override read(offset: number, length: number): Uint8Array {
    this.readBytes += Math.max(0, Math.min(offset + length, this.range.to) - Math.max(offset, this.range.from));
    return super.read(offset, length);
  }
}

test("a clean commit reads the new load from flash once", () => {
  const layout = smallLayout();
  const dev = new CountingDevice(layout.sectorBytes, layout.totalSectors);
  const store = AbStore.format(dev, layout, asFactory(factoryLoad()));
  const load2 = newLoad("2");
  const update = store.beginUpdate(load2.loadName, indexOf(load2));
  for (const p of writePlan(load2, 9)) update.writeAt(p.component, p.offset, p.bytes);
  const cs = update.manifest.components;
  const content = cs.reduce((sum, c) => sum + c.sizeBytes, 0);
  dev.range = { from: slotStartBytes(layout, 1) + cs[0].offsetBytes + cs[0].listBytes, to: slotStartBytes(layout, 1) + cs[cs.length - 1].offsetBytes + cs[cs.length - 1].listBytes + cs[cs.length - 1].sizeBytes };
  dev.readBytes = 0;
  update.commit();
  // Every content byte once (lists lie between and count too, small).
  const lists = cs.slice(1).reduce((sum, c) => sum + c.listBytes, 0);
  assert.ok(dev.readBytes >= content && dev.readBytes <= content + lists, `commit read ${dev.readBytes} bytes of ${content} (+ ${lists} of lists): once, not again for its boot check`);
  assert.equal(AbStore.open(dev, layout).boot().slot, 1);
});

test("a corrupted byte in the new slot makes commit refuse, and the old load still boots", () => {
  for (const where of ["content", "list"] as const) {
    const { dev, layout, store, factory } = formatted();
    const load2 = newLoad("2");
    const update = store.beginUpdate(load2.loadName, indexOf(load2));
    for (const p of writePlan(load2, 5)) update.writeAt(p.component, p.offset, p.bytes);
    assert.ok(update.verify(4));
    // A bit flips in flash after the write was read back (bad cell, or a rogue write).
    const c = update.manifest.components[4];
    clearBit(dev, slotStartBytes(layout, 1) + c.offsetBytes + (where === "list" ? 40 : c.listBytes + 20_000));
    assert.throws(() => update.commit(), new RegExp(`commit refused \\(slot B\\): big1\\.2\\.sbn: ${where === "list" ? "block list does not match" : "block 1 does not match the block list"}`));
    assert.deepEqual(update.verified(), [true, true, true, true, false]);
    const b = AbStore.open(dev, layout).boot();
    assert.equal(b.slot, 0);
    assert.equal(whichLoad(dev, layout, b, [factory]), factory);
  }
});

test("writes outside a component, to a missing component, or over other bytes throw", () => {
  const { store } = formatted();
  const load2 = newLoad("2");
  const update = store.beginUpdate(load2.loadName, indexOf(load2));
  const size = load2.files[1].stream.length;
  assert.throws(() => update.writeAt(1, size - 1, new Uint8Array(2)), /2 bytes at \d+ are outside cnu62\.tiny\.sbn's transfer space of \d+ bytes/);
  assert.throws(() => update.writeAt(5, 0, new Uint8Array(1)), /no component 5 \(the load has 5\)/);
  assert.throws(() => update.readAt(0, -1, 1), /outside/);
  update.writeAt(1, 0, Uint8Array.of(0x0f));
  update.writeAt(1, 0, Uint8Array.of(0x0f)); // the same byte again is harmless
  assert.throws(() => update.writeAt(1, 0, Uint8Array.of(0xf0)), /cnu62\.tiny\.sbn byte 0 reads 0x00 after programming 0xf0/);
  assert.throws(() => store.beginUpdate("x", []), /1 to 16 components/);
  assert.throws(() => store.beginUpdate("x".repeat(65), indexOf(load2)), /load name/);
  const huge = [{ ...indexOf(load2)[0], sizeBytes: 10 * 1024 * 1024 }];
  assert.throws(() => store.beginUpdate("x", huge), /the slot has \d+/);
  const again = store.beginUpdate(load2.loadName, indexOf(load2));
  assert.throws(() => update.writeAt(0, 0, new Uint8Array(1)), /abandoned/);
  assert.equal(again.slot, 1);
});

/** Wraps a device and records every sector an erase or program touches. */
class Spy implements FlashDevice {
  readonly touched = new Set<number>();
  constructor(private readonly inner: FlashDevice) {}
  get sectorBytes() { return this.inner.sectorBytes; }
  get sectors() { return this.inner.sectors; }
  erase(sector: number) { this.touched.add(sector); this.inner.erase(sector); }
  program(offset: number, bytes: Uint8Array) {
    for (let s = Math.floor(offset / this.sectorBytes); s * this.sectorBytes < offset + bytes.length; s++) this.touched.add(s);
    this.inner.program(offset, bytes);
  }
  read(offset: number, length: number) { return this.inner.read(offset, length); }
}

test("the active slot is byte-for-byte untouched during an update; commit writes one record sector", () => {
  const { dev, layout, factory } = formatted();
  const spy = new Spy(dev);
  const store = AbStore.open(spy, layout);
  const slotA = () => dev.read(slotStartBytes(layout, 0), layout.slotBytes);
  const recordsBefore = dev.read(0, layout.bootRecordSectors * layout.sectorBytes);
  const before = slotA();
  const load2 = newLoad("2");
  const update = store.beginUpdate(load2.loadName, indexOf(load2));
  for (const p of writePlan(load2, 3)) update.writeAt(p.component, p.offset, p.bytes);
  assert.deepEqual(slotA(), before, "slot A before commit");
  assert.deepEqual(dev.read(0, layout.bootRecordSectors * layout.sectorBytes), recordsBefore, "the boot records before commit");
  const firstB = layout.bootRecordSectors + layout.slotSectors;
  assert.ok([...spy.touched].every((s) => s >= firstB), "only slot B's sectors were erased or programmed");
  spy.touched.clear();
  update.commit();
  assert.deepEqual([...spy.touched], [1], "commit wrote the spare record sector only");
  assert.deepEqual(slotA(), before, "slot A after commit");
  assert.equal(whichLoad(dev, layout, AbStore.open(dev, layout).boot(), [factory, load2]), load2);
});

test("boot falls back: a damaged active slot, a damaged manifest, a damaged newest record", () => {
  const cases: Array<[string, (dev: MemoryDevice, layout: Layout, store: AbStore) => void, RegExp]> = [
    ["a component", (dev, layout, store) => damage(dev, layout, 1, store.boot().manifest!, 2, 777), /boot record 2 \(sector 1\) names slot B on trial: apps62\.tiny\.sbn: block 0 does not match the block list/],
    ["the manifest", (dev, layout) => dev.program(slotStartBytes(layout, 1) + 20, Uint8Array.of(0)), /names slot B on trial: manifest hash does not match/],
    ["the newest record", (dev, layout) => dev.program(layout.sectorBytes + 50, Uint8Array.of(0)), /^boot record 1 \(sector 0\) names slot A; every component verifies$/],
    ["the newest record, erased", (dev) => dev.erase(1), /^boot record 1 \(sector 0\) names slot A/],
  ];
  for (const [what, hurt, reason] of cases) {
    const { dev, layout, store, factory } = formatted();
    const load2 = newLoad("2");
    runUpdate(store, load2, writePlan(load2, 9));
    assert.equal(store.boot().slot, 1);
    hurt(dev, layout, store);
    const b = AbStore.open(dev, layout).boot();
    assert.equal(b.slot, 0, what);
    assert.equal(b.verified, true, what);
    assert.match(b.reason, reason, what);
    assert.equal(whichLoad(dev, layout, b, [factory, load2]), factory, what);
  }

  // With the older record gone too, the slot's own manifest still boots it.
  {
    const { dev, layout, store, factory } = formatted();
    const load2 = newLoad("2");
    runUpdate(store, load2, writePlan(load2, 9));
    damage(dev, layout, 1, store.boot().manifest!, 0, 5);
    dev.erase(0);
    const b = AbStore.open(dev, layout).boot();
    assert.equal(b.slot, 0);
    assert.equal(b.recordSeq, null);
    assert.match(b.reason, /no boot record names a verified load; slot A's own manifest \(seq 1\) verifies/);
    assert.equal(whichLoad(dev, layout, b, [factory]), factory);
    // An update now goes to the damaged slot B, never the running A; its
    // record goes to a sector that names nothing that boots.
    const again = AbStore.open(dev, layout);
    const load3 = newLoad("3");
    const before = dev.read(slotStartBytes(layout, 0), layout.slotBytes);
    runUpdate(again, load3, writePlan(load3, 2));
    assert.deepEqual(dev.read(slotStartBytes(layout, 0), layout.slotBytes), before);
    const c = AbStore.open(dev, layout).boot();
    assert.equal(c.slot, 1);
    assert.equal(c.recordSeq, 3, "one more than anything on the flash");
    assert.equal(whichLoad(dev, layout, c, [load3]), load3);
  }

  // Both slots bad: nothing boots, and boot says why.
  {
    const { dev, layout, store } = formatted();
    damage(dev, layout, 0, store.boot().manifest!, 1, 0);
    const b = AbStore.open(dev, layout).boot();
    assert.equal(b.verified, false);
    assert.equal(b.slot, 0);
    assert.deepEqual(b.components.map((c) => c.ok), [true, false, true]);
    assert.match(b.reason, /no slot holds a verified load: boot record 1 \(sector 0\) names slot A: cnu41\.tiny\.sbn: block 0/);
    assert.equal(AbStore.open(dev, layout).activeLoad(), null);
  }
});

test("pfs flash format makes a sparse image that ls shows booting; ls reports damage; format refuses a working image", () => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-flash-cli-"));
  try {
    const img = join(dir, "phone.img");
    const f = pfs("flash", "format", "--flash", img, "--load", "SCCP41.FACTORY");
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, /formatted \(514 sectors of 65536 bytes\): slot A holds SCCP41\.FACTORY, 3 components, 83506 bytes, verified; boot record 1/);
    assert.equal(statSync(img).size, 514 * 65536);
    assert.ok(statSync(img).blocks * 512 < 2 * 1024 * 1024, "sparse");

    const ls = pfs("flash", "ls", "--flash", img, "--json");
    assert.equal(ls.status, 0, ls.stderr);
    const out = JSON.parse(ls.stdout.trim().split("\n").pop()!);
    assert.equal(out.slot, "A");
    assert.equal(out.loadName, "SCCP41.FACTORY");
    assert.equal(out.verified, true);
    assert.deepEqual(out.components.map((c: { name: string }) => c.name), factoryLoad().files.map((x) => x.name));
    assert.deepEqual(out.components.map((c: { sha256: string }) => c.sha256), contentHashes(factoryLoad()));
    assert.ok(out.components.every((c: { verified: boolean }) => c.verified));
    const text = pfs("flash", "ls", "--flash", img);
    assert.match(text.stdout, /slot A boots SCCP41\.FACTORY \(seq 1\)/);
    assert.match(text.stdout, /apps41\.tiny\.sbn +49336 bytes +sha256 [0-9a-f]{64} +verified/);

    const again = pfs("flash", "format", "--flash", img, "--load", "X");
    assert.equal(again.status, 2);
    assert.match(again.stderr, /boots SCCP41\.FACTORY from slot A: use --force/);
    const forced = pfs("flash", "format", "--flash", img, "--load", "SCCP41.OTHER", "--force");
    assert.equal(forced.status, 0, forced.stderr);

    const bad: Array<[string[], RegExp]> = [
      [["flash", "ls"], /^pfs flash ls: --flash is required/],
      [["flash", "ls", "--flash", join(dir, "none.img")], /cannot open flash image .*ENOENT/],
      [["flash", "frob", "--flash", img], /^pfs flash: unknown command 'frob'/],
      [["flash", "format", "--flash", img], /^pfs flash format: --load is required/],
      [["flash", "format", "--flash", join(dir, "b.img"), "--load", "L", "--preset", "huge"], /--preset must be one of cp7961-9\.4\.2, .*\(got "huge"\)/],
      [["flash", "ls", "--flash", img, "--board", "nope"], /board nope not found/],
    ];
    for (const [args, message] of bad) {
      const r = pfs(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: one line`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pfs flash ls exits 1 and says what failed when no load verifies", () => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-flash-cli-"));
  try {
    const img = join(dir, "phone.img");
    const f = pfs("flash", "format", "--flash", img, "--load", "L");
    assert.equal(f.status, 0, f.stderr);
    // Damage the first component's first content byte on disk.
    const layout = boardLayout(loadBoard("cp-7961g"));
    const dev = FileDevice.open(img, layout.sectorBytes, layout.totalSectors);
    const m = AbStore.open(dev, layout).boot().manifest!;
    const at = slotStartBytes(layout, 0) + m.components[0].offsetBytes + m.components[0].listBytes;
    dev.program(at, Uint8Array.of(dev.read(at, 1)[0] ^ 0xff));
    dev.close();
    const r = pfs("flash", "ls", "--flash", img, "--json");
    assert.equal(r.status, 1, r.stderr);
    const out = JSON.parse(r.stdout.trim());
    assert.equal(out.verified, false);
    assert.deepEqual(out.components.map((c: { verified: boolean }) => c.verified), [false, true, true]);
    assert.match(out.components[0].why, /block 0 does not match/);
    const text = pfs("flash", "ls", "--flash", img);
    assert.match(text.stdout, /NO VERIFIED LOAD .*\n.*\n.*NOT VERIFIED: block 0/, text.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pfs flash format takes a load name by the one load-name rule, in one line, exit 2, leaving no image behind", () => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-flash-cli-"));
  try {
    const bad: Array<[string, RegExp]> = [
      ["bogus load/../!!", /^pfs flash format: --load: 'bogus load\/\.\.\/!!' \(16 characters\) is not a load name \(letters, digits, '\.', '_', '\+', '-', starting with a letter or digit, at most 255\) \(see pfs flash format --help\)\n$/],
      ["", /^pfs flash format: --load: '' \(0 characters\) is not a load name/],
      ["L".repeat(300), /^pfs flash format: --load: 'L{80}\.\.\.' \(300 characters\) is not a load name/],
      [".hidden", /is not a load name/],
      ["L".repeat(65), /^pfs flash format: --load: 'L{65}' is 65 bytes; a flash manifest holds a load name of at most 64 \(see pfs flash format --help\)\n$/],
    ];
    for (const [name, message] of bad) {
      const img = join(dir, "x.img");
      const r = pfs("flash", "format", "--flash", img, "--load", name);
      assert.equal(r.status, 2, `'${name}': exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.equal(r.stderr.trim().split("\n").length, 1, `'${name}': one line`);
      assert.equal(existsSync(img), false, `'${name}': no image left behind`);
    }
    // A format that fails after the image was made (the preset does not fit
    // the board's slot) removes the image it made.
    const img = join(dir, "small.img");
    const r = pfs("flash", "format", "--flash", img, "--load", "SCCP41.BIG", "--board", "mcu", "--preset", "cp7961-9.4.2");
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^pfs flash format: flash layout: the load needs \d+ bytes of a slot .*, the slot has 4194304 \(see pfs flash format --help\)\n$/);
    assert.equal(existsSync(img), false, "the image it made is gone");
    // A name the rule takes is taken; ls shows both slots' states.
    const ok = join(dir, "ok.img");
    assert.equal(pfs("flash", "format", "--flash", ok, "--load", "SCCP41.9-4-2SR2+x_y").status, 0);
    const ls = JSON.parse(pfs("flash", "ls", "--flash", ok, "--json").stdout);
    assert.equal(ls.state, "active");
    assert.deepEqual(ls.slots.map((s: { slot: string; state: string }) => `${s.slot}:${s.state}`), ["A:active", "B:empty"]);
    assert.match(pfs("flash", "ls", "--flash", ok).stdout, /slot A: active +SCCP41\.9-4-2SR2\+x_y \(seq 1\): the next power-up boots it\n  slot B: empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
