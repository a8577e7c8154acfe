// Flash devices behave like NOR: erase to 0xFF per sector, program only clears
// bits (AND), every access bounds-checked; the file device keeps what it holds
// across a reopen; the power-cut device cuts where it is told, tears
// deterministically, and refuses everything afterwards.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FlashDevice } from "../../host/flash/device.js";
import { MemoryDevice } from "../../host/flash/memory-device.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { PowerCut, PowerCutDevice } from "../../host/flash/fault-device.js";

const SECTOR = 512;
const SECTORS = 8;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "pfs-flash-"));
}

/** The semantics every device must have, starting from any contents. */
function nor(dev: FlashDevice): void {
  dev.erase(2);
  assert.deepEqual(dev.read(2 * SECTOR, SECTOR), new Uint8Array(SECTOR).fill(0xff), "erase sets the sector to 0xFF");
  dev.program(2 * SECTOR + 10, Uint8Array.of(0xf0, 0x3c, 0x00));
  assert.deepEqual(dev.read(2 * SECTOR + 9, 5), Uint8Array.of(0xff, 0xf0, 0x3c, 0x00, 0xff), "program writes onto erased bytes");
  dev.program(2 * SECTOR + 10, Uint8Array.of(0x0f, 0xff, 0xff));
  assert.deepEqual(dev.read(2 * SECTOR + 10, 3), Uint8Array.of(0x00, 0x3c, 0x00), "programming again ANDs: bits only go 1 -> 0");
  // A program across a sector boundary, then an erase of one of the two.
  dev.erase(3);
  dev.program(3 * SECTOR + SECTOR - 2, Uint8Array.of(1, 2, 3, 4));
  dev.erase(4);
  assert.deepEqual(dev.read(3 * SECTOR + SECTOR - 2, 4), Uint8Array.of(1, 2, 0xff, 0xff), "erase touches its own sector only");
  const copy = dev.read(2 * SECTOR + 10, 1);
  copy[0] = 0x77;
  assert.equal(dev.read(2 * SECTOR + 10, 1)[0], 0x00, "read returns a copy");

  const bounds: Array<[() => unknown, RegExp]> = [
    [() => dev.erase(-1), /sector -1 is outside 0\.\.7/],
    [() => dev.erase(SECTORS), /sector 8 is outside 0\.\.7/],
    [() => dev.erase(1.5), /sector 1\.5 is outside/],
    [() => dev.program(SECTOR * SECTORS - 2, new Uint8Array(3)), /program of 3 bytes at 4094 is outside the device's 4096 bytes/],
    [() => dev.program(-1, new Uint8Array(1)), /program of 1 bytes at -1 is outside/],
    [() => dev.read(SECTOR * SECTORS, 1), /read of 1 bytes at 4096 is outside/],
    [() => dev.read(0, -1), /read of -1 bytes at 0 is outside/],
  ];
  for (const [call, message] of bounds) assert.throws(call, (e: Error) => e instanceof RangeError && message.test(e.message), String(message));
  // A refused call changed nothing.
  assert.deepEqual(dev.read(2 * SECTOR + 10, 3), Uint8Array.of(0x00, 0x3c, 0x00));
}

test("memory device: NOR erase and program (AND), bounds errors, images", () => {
  const dev = new MemoryDevice(SECTOR, SECTORS);
  assert.deepEqual(dev.read(0, SECTOR * SECTORS), new Uint8Array(SECTOR * SECTORS).fill(0xff), "a new chip is erased");
  nor(dev);
  const again = MemoryDevice.fromImage(SECTOR, dev.image());
  assert.deepEqual(again.image(), dev.image());
  assert.throws(() => MemoryDevice.fromImage(SECTOR, new Uint8Array(SECTOR + 1)), /not whole sectors/);
  assert.throws(() => new MemoryDevice(0, 4), /sectorBytes must be a positive whole number/);
  nor(new MemoryDevice(SECTOR, SECTORS, 0x00));
});

test("file device: sparse image at its full size, NOR semantics, persists across reopen", () => {
  const dir = tempDir();
  try {
    const path = join(dir, "flash.img");
    const sectors = 4096; // 2 MiB: big enough that sparseness shows
    const dev = FileDevice.create(path, SECTOR, sectors);
    assert.equal(statSync(path).size, SECTOR * sectors, "made at its full size");
    assert.ok(statSync(path).blocks * 512 < SECTOR * sectors / 4, "and sparse");
    assert.deepEqual(dev.read(SECTOR, 4), new Uint8Array(4), "a hole reads as 0x00: nothing is erased until erased");
    dev.close();
    assert.throws(() => FileDevice.create(path, SECTOR, sectors), /EEXIST/, "create does not clobber an image");
    assert.throws(() => FileDevice.open(path, SECTOR, sectors + 1), /needs 4097 sectors of 512/, "open checks the geometry");

    const small = join(dir, "small.img");
    const a = FileDevice.create(small, SECTOR, SECTORS);
    nor(a);
    a.program(7 * SECTOR, Uint8Array.of(0xaa)); // over a hole: 0x00 & 0xAA
    a.erase(6);
    a.program(6 * SECTOR + 100, Uint8Array.of(0x12, 0x34));
    a.sync();
    const image = a.read(0, SECTOR * SECTORS);
    a.close();
    assert.throws(() => a.read(0, 1), /closed/);
    const b = FileDevice.open(small, SECTOR, SECTORS);
    assert.deepEqual(b.read(0, SECTOR * SECTORS), image, "a reopened image holds what was written");
    assert.deepEqual(b.read(6 * SECTOR + 99, 4), Uint8Array.of(0xff, 0x12, 0x34, 0xff));
    assert.equal(b.read(7 * SECTOR, 1)[0], 0x00);
    b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("power-cut device: counts operations, cuts in the k-th, tears it deterministically, then refuses everything", () => {
  const script = (dev: FlashDevice) => {
    dev.erase(0);
    dev.program(0, new Uint8Array(300).fill(0x00));
    dev.erase(1);
    dev.program(SECTOR, new Uint8Array(SECTOR).fill(0x5a));
    dev.erase(2);
  };
  const counter = new PowerCutDevice(new MemoryDevice(SECTOR, SECTORS), { cutAtOp: Infinity, seed: 1 });
  script(counter);
  assert.equal(counter.ops, 5);
  assert.equal(counter.cut, false);
  assert.deepEqual(counter.history, ["erase sector 0", "program 300 bytes at 0", "erase sector 1", `program ${SECTOR} bytes at ${SECTOR}`, "erase sector 2"]);

  // A torn program writes a prefix; the byte it stopped in is half done.
  const tornProgram = (seed: number) => {
    const inner = new MemoryDevice(SECTOR, SECTORS, 0x00);
    const dev = new PowerCutDevice(inner, { cutAtOp: 4, seed });
    assert.throws(() => script(dev), PowerCut);
    assert.equal(dev.ops, 4);
    assert.throws(() => dev.read(0, 1), PowerCut, "reads after the cut throw");
    assert.throws(() => dev.erase(5), PowerCut);
    assert.deepEqual(inner.read(0, 300), new Uint8Array(300), "operations before the cut happened");
    const sector1 = inner.read(SECTOR, SECTOR);
    const stop = sector1.findIndex((v) => v !== 0x5a);
    assert.ok(stop >= 0 && stop < SECTOR, "the program did not finish");
    assert.equal(sector1[stop] & 0x5a, 0x5a, "the stopped byte only lost bits it was to clear");
    assert.ok(sector1.subarray(stop + 1).every((v) => v === 0xff), "nothing after it was programmed");
    assert.deepEqual(inner.read(2 * SECTOR, 4), new Uint8Array(4), "nothing after the cut happened");
    return inner.image();
  };
  assert.deepEqual(tornProgram(7), tornProgram(7), "the same seed tears the same way");
  const tears = new Set(Array.from({ length: 8 }, (_, seed) => Buffer.from(tornProgram(seed)).toString("base64")));
  assert.ok(tears.size > 1, "different seeds tear differently");

  // Torn erases: over many seeds, some leave old bytes, some erased, some neither.
  const seen = { old: 0, erased: 0, other: 0 };
  for (let seed = 0; seed < 12; seed++) {
    const inner = new MemoryDevice(SECTOR, SECTORS, 0x00);
    inner.program(SECTOR, new Uint8Array(SECTOR).fill(0x11));
    const dev = new PowerCutDevice(inner, { cutAtOp: 3, seed });
    assert.throws(() => script(dev), PowerCut);
    for (const v of inner.read(SECTOR, SECTOR)) {
      if (v === 0x00) seen.old++;
      else if (v === 0xff) seen.erased++;
      else seen.other++;
    }
  }
  assert.ok(seen.old > 0 && seen.erased > 0 && seen.other > 0, JSON.stringify(seen));

  // Without a tear the k-th operation completes, and still nothing after it.
  const inner = new MemoryDevice(SECTOR, SECTORS, 0x00);
  const clean = new PowerCutDevice(inner, { cutAtOp: 4, seed: 3, tear: false });
  assert.throws(() => script(clean), PowerCut);
  assert.deepEqual(inner.read(SECTOR, SECTOR), new Uint8Array(SECTOR).fill(0x5a));
  assert.deepEqual(inner.read(2 * SECTOR, 4), new Uint8Array(4));
});
