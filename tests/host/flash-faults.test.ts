// Flash that fails, on both devices (in memory and an image file): a write
// that fails, a read that fails, a bit flipped on read, an erase that does
// not take, a full device and a full slot, each once (the store retries and
// the update succeeds, with one line saying what happened) and for good (the
// update fails with a typed FlashError and the old load keeps booting).
// Every verdict is read back from the flash here, through a device without
// faults: the store's own word is not taken.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AbStore } from "../../host/flash/ab-store.js";
import { MAX_FLASH_ATTEMPTS } from "../../host/flash/careful-device.js";
import type { FlashDevice } from "../../host/flash/device.js";
import { asFlashIoError, FlashError, FlashIoError, type FlashFaultKind } from "../../host/flash/errors.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { IoFaultDevice, parseIoFaults, type IoFault } from "../../host/flash/io-fault-device.js";
import { slotFirstSector, slotStartBytes } from "../../host/flash/layout.js";
import { MemoryDevice } from "../../host/flash/memory-device.js";
import { asFactory, factoryLoad, indexOf, newLoad, smallLayout, whichLoad, writePlan } from "../support/flash.js";

const layout = smallLayout();
const factory = factoryLoad();
const load2 = newLoad("2");
const plan = writePlan(load2, 8);
/** Slot B's component sectors: where the update writes its load. */
const B_COMPONENTS = { first: slotFirstSector(layout, 1) + layout.manifestSectors, last: slotFirstSector(layout, 1) + layout.slotSectors - 1 };

/** Counts the reads of a clean update that touch B's components, to aim a
 *  read fault at one phase (the writes' read-backs, or the verify). */
class ReadCounter implements FlashDevice {
  reads = 0;
  constructor(private readonly inner: FlashDevice) {}
  get sectorBytes() { return this.inner.sectorBytes; }
  get sectors() { return this.inner.sectors; }
  erase(s: number) { this.inner.erase(s); }
  program(o: number, b: Uint8Array) { this.inner.program(o, b); }
  read(o: number, n: number) {
    if (Math.floor(o / layout.sectorBytes) >= B_COMPONENTS.first) this.reads++;
    return this.inner.read(o, n);
  }
}

/** Writes load2 over `dev` (the factory image); throws what the store throws. */
function update(dev: FlashDevice, lines: string[]): void {
  const store = AbStore.open(dev, layout, { report: (l) => lines.push(l) });
  store.powerUp();
  const u = store.beginUpdate(load2.loadName, indexOf(load2));
  for (const p of plan) u.writeAt(p.component, p.offset, p.bytes);
  u.commit();
}

/** Reads before the verify phase of a clean update: the next read of B's
 *  components is the verify's first. */
function readsBeforeVerify(): number {
  const dev = new ReadCounter(formattedMemory());
  const store = AbStore.open(dev, layout);
  const u = store.beginUpdate(load2.loadName, indexOf(load2));
  for (const p of plan) u.writeAt(p.component, p.offset, p.bytes);
  return dev.reads;
}

/** A chip that reads 0x00 where nothing was erased (as a sparse image file
 *  does), so that an erase that does not take shows. */
function formattedMemory(): MemoryDevice {
  const dev = new MemoryDevice(layout.sectorBytes, layout.totalSectors, 0x00);
  AbStore.format(dev, layout, asFactory(factory));
  return dev;
}

interface Case {
  name: string;
  faults: IoFault[];
  /** null: the update succeeds; else the FlashError kinds it may end in. */
  fails: FlashFaultKind[] | null;
  /** What the one report line of a fault that passed says. */
  line?: RegExp;
}

const inB = { sectors: B_COMPONENTS };
const verifyRead = readsBeforeVerify() + 1;
const CASES: Case[] = [
  { name: "a write that fails once", faults: [{ kind: "write", at: 3, times: 1, ...inB }], fails: null, line: /program of \d+ bytes at 0x[0-9a-f]+ failed \(EIO\); took on attempt 2 of 3/ },
  { name: "a write that always fails", faults: [{ kind: "write", at: 3, times: Infinity, ...inB }], fails: ["write"] },
  { name: "a read that fails once", faults: [{ kind: "read", at: 4, times: 1, ...inB }], fails: null, line: /read of \d+ bytes at 0x[0-9a-f]+ failed \(EIO\); took on attempt 2 of 3/ },
  { name: "reads that always fail", faults: [{ kind: "read", at: 4, times: Infinity, ...inB }], fails: ["read", "erase", "write", "verify"] },
  { name: "a bit flipped reading back a write", faults: [{ kind: "flip", at: 2, times: 1, ...inB }], fails: null, line: /read-back of \d+ bytes at 0x[0-9a-f]+ disagreed, then read as written \(a bit flipped on read\)/ },
  { name: "a bit flipped in the verify's read", faults: [{ kind: "flip", at: verifyRead, times: 1, ...inB }], fails: null, line: /did not match its hash on a first read and did on reading again/ },
  { name: "a bit flipped in every verify read", faults: [{ kind: "flip", at: verifyRead, times: Infinity, ...inB }], fails: ["verify"] },
  { name: "an erase that does not take once", faults: [{ kind: "erase", at: 2, times: 1, ...inB }], fails: null, line: /erase of sector \d+ did not take: byte \d+ read 0x[0-9a-f]{2}; took on attempt 2 of 3/ },
  { name: "an erase that never takes", faults: [{ kind: "erase", at: 2, times: Infinity, ...inB }], fails: ["erase"] },
  { name: "a device that fills up mid-update", faults: [{ kind: "full", at: 40_000, times: 1, ...inB }], fails: ["full"] },
];

/** The factory image on a device of the given kind; `reopen` gives the same
 *  flash through a fresh device without faults, to judge by. */
function devices(kind: "memory" | "file", dir: string, name: string): { dev: FlashDevice; reopen: () => FlashDevice; done: () => void } {
  if (kind === "memory") {
    const dev = formattedMemory();
    return { dev, reopen: () => dev, done: () => {} };
  }
  const path = join(dir, `${name.replace(/\W+/g, "-")}.img`);
  const dev = FileDevice.create(path, layout.sectorBytes, layout.totalSectors);
  AbStore.format(dev, layout, asFactory(factory));
  let again: FileDevice | null = null;
  return {
    dev,
    reopen: () => {
      dev.close();
      again = FileDevice.open(path, layout.sectorBytes, layout.totalSectors);
      return again;
    },
    done: () => (again ?? dev).close(),
  };
}

for (const kind of ["memory", "file"] as const) {
  test(`${kind} device: each fault once is retried and reported; for good, the update fails typed and the old load boots`, () => {
    const dir = mkdtempSync(join(tmpdir(), "pfs-flash-faults-"));
    try {
      for (const c of CASES) {
        const { dev, reopen, done } = devices(kind, dir, c.name);
        const slotA = dev.read(0, slotStartBytes(layout, 1));
        const faulty = new IoFaultDevice(dev, c.faults, 7);
        const lines: string[] = [];
        let error: unknown = null;
        try {
          update(faulty, lines);
        } catch (e) {
          error = e;
        }
        const what = `${kind}: ${c.name} (${faulty.history.join("; ")})`;
        assert.ok(Object.values(faulty.injected).some((n) => n > 0), `${what}: the fault never fired`);
        const clean = reopen();
        const b = AbStore.open(clean, layout).boot();
        if (c.fails === null) {
          assert.equal(error, null, `${what}: ${(error as Error)?.message}`);
          assert.equal(lines.length, 1, `${what}: one line for one fault: ${lines.join(" | ")}`);
          assert.match(lines[0], c.line!, what);
          assert.equal(whichLoad(clean, layout, b, [load2]), load2, `${what}: the new load, read back, boots: ${b.reason}`);
          assert.equal(b.trial, true);
        } else {
          assert.ok(error instanceof FlashError, `${what}: a FlashError, not ${String(error)}`);
          assert.ok(c.fails.includes(error.kind), `${what}: kind ${error.kind}: ${error.message}`);
          assert.match(error.message, /^flash: /);
          assert.ok(!error.message.includes("\n"), "one line");
          assert.equal(whichLoad(clean, layout, b, [factory]), factory, `${what}: the old load still boots: ${b.reason}`);
          assert.ok(["bad", "empty"].includes(AbStore.open(clean, layout).slots()[1].state), `${what}: slot B is not made active`);
        }
        assert.deepEqual(clean.read(0, slotStartBytes(layout, 1)).subarray(layout.bootRecordSectors * layout.sectorBytes), slotA.subarray(layout.bootRecordSectors * layout.sectorBytes), `${what}: slot A untouched`);
        done();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a load larger than the slot is refused as 'full' before anything is written", () => {
  const dev = formattedMemory();
  const before = dev.image();
  const huge = [{ ...indexOf(load2)[0], sizeBytes: layout.slotBytes }];
  const store = AbStore.open(dev, layout);
  assert.throws(() => store.beginUpdate("SCCP41.HUGE", huge), (e: Error) => e instanceof FlashError && e.kind === "full" && /the slot has \d+/.test(e.message));
  assert.deepEqual(dev.image(), before, "not a byte written");
});

test("an update that failed writes nothing more; a bit lost in flash after its read-back is never activated", () => {
  const dev = formattedMemory();
  const faulty = new IoFaultDevice(dev, [{ kind: "erase", at: 1, times: Infinity, sectors: B_COMPONENTS }]);
  const store = AbStore.open(faulty, layout);
  const u = store.beginUpdate(load2.loadName, indexOf(load2));
  assert.throws(() => u.writeAt(0, 0, plan[0].bytes.subarray(0, 1)), (e: Error) => e instanceof FlashError && e.kind === "erase");
  const erases = faulty.injected.erase;
  assert.equal(erases, MAX_FLASH_ATTEMPTS);
  assert.throws(() => u.writeAt(1, 0, new Uint8Array(1)), /this update failed already: erase of sector \d+ does not take/);
  assert.equal(faulty.injected.erase, erases, "no flash operation after the failure");
  assert.throws(() => u.commit(), /failed already/);

  // A stuck bit (every read of one byte shows a bit cleared) after the
  // write read back fine: verify and commit refuse, the old load boots.
  const dev2 = formattedMemory();
  const store2 = AbStore.open(dev2, layout);
  const u2 = store2.beginUpdate(load2.loadName, indexOf(load2));
  for (const p of plan) u2.writeAt(p.component, p.offset, p.bytes);
  const c = u2.manifest.components[2];
  let at = slotStartBytes(layout, 1) + c.offsetBytes + c.listBytes + 100;
  while (dev2.read(at, 1)[0] === 0) at++;
  const v = dev2.read(at, 1)[0];
  dev2.program(at, Uint8Array.of(v & (v - 1)));
  assert.throws(() => u2.commit(), (e: Error) => e instanceof FlashError && e.kind === "verify");
  assert.equal(whichLoad(dev2, layout, AbStore.open(dev2, layout).boot(), [factory]), factory);
});

test("fault specs parse as documented; file-system errors of the medium become FlashIoError", () => {
  assert.deepEqual(parseIoFaults("write:3,flip:10x2@258-513,erase:1x*,full:100000"), [
    { kind: "write", at: 3, times: 1 },
    { kind: "flip", at: 10, times: 2, sectors: { first: 258, last: 513 } },
    { kind: "erase", at: 1, times: Infinity },
    { kind: "full", at: 100000, times: 1 },
  ]);
  assert.deepEqual(parseIoFaults(""), []);
  for (const bad of ["wrong:1", "write", "write:0", "read:1x0", "flip:2@9-3"]) assert.throws(() => parseIoFaults(bad), RangeError, bad);
  const eio = Object.assign(new Error("i/o"), { code: "EIO" });
  const enospc = Object.assign(new Error("full"), { code: "ENOSPC" });
  const ebadf = Object.assign(new Error("bug"), { code: "EBADF" });
  assert.ok(asFlashIoError(eio, "read", "x") instanceof FlashIoError);
  assert.equal((asFlashIoError(enospc, "program", "x") as FlashIoError).full, true);
  assert.equal(asFlashIoError(ebadf, "read", "x"), ebadf, "a bug of ours stays what it is");
});
