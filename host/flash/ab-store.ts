// Two slots and a boot record: a phone keeps the load it runs in one slot and
// writes a new load into the other; only when every component of the new load
// verifies in flash does one boot record write make it the one that boots. A
// power cut at any moment leaves the old load or the new one bootable, never
// neither (docs/FLASH.md argues each step; tests/host/flash-powercut.test.ts
// cuts the power in every single flash operation of an update to check it).
// The new load is committed on trial: the next power-up boots it once
// (powerUp), and it stays only if it confirms itself once it is up (confirm);
// otherwise the power-up after that boots the old load again.
// Every device call goes through a CarefulDevice, which retries what a part
// can fail transiently and throws a FlashError when it will not take.

import { BLOCK_BYTES, HASH_BYTES } from "../core/abi.js";
import { relayFile, sha256 } from "../load/blocklist.js";
import { readRecords, scanBoot, type BootResult, type BootScan } from "./boot.js";
import { CONFIRMED_MARK_AT, encodeRecord, MARK, MARK_BYTES, markSet, MAX_SEQ, RECORD_BYTES, TRIED_MARK_AT } from "./boot-record.js";
import { CarefulDevice, ProgramMismatch, type FlashReport } from "./careful-device.js";
import type { FlashDevice } from "./device.js";
import { FlashError } from "./errors.js";
import { slotStates, type SlotState } from "./slot-state.js";
import { otherSlot, placeComponents, recordSector, slotFirstSector, slotName, slotStartBytes, type Layout, type Slot } from "./layout.js";
import { checkName, encodeManifest, listBytesOf, MAX_COMPONENTS, sameBytes, transferBytesOf, type Manifest } from "./manifest.js";
import { checkComponent, type ComponentCheck } from "./verify.js";

export type { BootResult } from "./boot.js";

/** A component of a new load, as the load's index describes it. */
export interface NewComponent {
  name: string;
  sizeBytes: number;
  sha256: Uint8Array;
  listSha256: Uint8Array;
}

export interface FactoryLoad {
  loadName: string;
  components: Array<{ name: string; bytes: Uint8Array }>;
}

interface UpdatePlan {
  slot: Slot;
  manifest: Manifest;
  encoded: Uint8Array;
}

export interface StoreOptions {
  /** One line per flash operation that needed a retry (careful-device.ts). */
  report?: FlashReport;
}

/** The trial this power-up booted, until it is confirmed. */
interface RunningTrial {
  slot: Slot;
  seq: number;
  sector: number;
}

/** Components are u32 sized in the manifest. */
const MAX_COMPONENT_BYTES = 0xffffffff;

export class AbStore {
  private last: BootResult | null = null;
  /** The record sector the running load was booted from: never overwritten. */
  private keepSector: number | null = null;
  private nextSeq = 1;
  private current: Update | null = null;
  private trial: RunningTrial | null = null;
  /** `dev` behind the retries and checks of a careful driver. */
  private readonly flash: CarefulDevice;

  private constructor(readonly dev: FlashDevice, readonly layout: Layout, options: StoreOptions) {
    this.flash = new CarefulDevice(dev, options.report);
  }

  static open(dev: FlashDevice, layout: Layout, options: StoreOptions = {}): AbStore {
    if (dev.sectorBytes !== layout.sectorBytes) throw new RangeError(`flash: the device's sectors are ${dev.sectorBytes} bytes, the layout's ${layout.sectorBytes}`);
    if (dev.sectors < layout.totalSectors) throw new RangeError(`flash: the layout needs ${layout.totalSectors} sectors, the device has ${dev.sectors}`);
    return new AbStore(dev, layout, options);
  }

  /** Makes a factory image: the load in slot A, committed by the first boot
   *  record. Destroys whatever the flash held, so it is for a blank or
   *  unusable chip; a phone that runs a load gets an update instead. */
  static format(dev: FlashDevice, layout: Layout, factory: FactoryLoad, options: StoreOptions = {}): AbStore {
    const store = AbStore.open(dev, layout, options);
    const files = factory.components.map((c) => relayFile(c.name, c.bytes));
    // Checked before anything is erased: a load that cannot be written must
    // not cost the chip what it held.
    const plan = store.plan(0, 1, factory.loadName, files.map((f) => ({ name: f.name, sizeBytes: f.content.length, sha256: f.sha256, listSha256: f.listSha256 })));
    // No record from an earlier life may outrank or name what follows, and
    // slot B is left holding no manifest.
    for (let i = 0; i < layout.bootRecordSectors; i++) store.flash.erase(recordSector(layout, i));
    for (let s = 0; s < layout.manifestSectors; s++) store.flash.erase(slotFirstSector(layout, 1) + s);
    // The factory load is confirmed from the start: there is nothing older
    // to go back to.
    const update = store.start(plan, false);
    files.forEach((f, i) => {
      // Block by block, as the relay writes.
      update.writeAt(i, 0, f.list);
      for (let at = 0; at < f.content.length; at += BLOCK_BYTES) update.writeAt(i, f.list.length + at, f.content.subarray(at, at + BLOCK_BYTES));
    });
    update.commit();
    return store;
  }

  /** What the boot loader would choose now (host/flash/boot.ts). Reads only:
   *  a trial not yet booted is reported as booting (`trial`), one booted
   *  and not confirmed as passed over. */
  boot(): BootResult {
    return this.scan(false);
  }

  private scan(skipTrials: boolean): BootResult {
    return this.took(scanBoot(this.flash, this.layout, { skipTrials }));
  }

  /** A scan's choice becomes what this store builds on. */
  private took(scan: BootScan): BootResult {
    this.last = scan.result;
    this.keepSector = scan.keepSector;
    this.nextSeq = scan.nextSeq;
    return scan.result;
  }

  /** The boot loader at power-up: what boot() chooses, and when that is a
   *  trial, the one write a power-up makes: the TRIED mark, so that the
   *  next power-up passes the trial over unless it was confirmed. A mark
   *  that will not take means the trial cannot be made safe: it is not
   *  booted at all (the load before it is). */
  powerUp(): BootResult {
    this.trial = null;
    const b = this.boot();
    if (!b.trial) return b;
    assert(this.keepSector !== null && b.slot !== null && b.recordSeq !== null, "a trial boots from a record");
    const sector = this.keepSector;
    if (!this.programMark(sector, TRIED_MARK_AT)) return this.scan(true);
    this.trial = { slot: b.slot, seq: b.recordSeq, sector };
    return b;
  }

  /** The slot this power-up booted on trial, until confirm(); null if none. */
  onTrial(): Slot | null {
    return this.trial?.slot ?? null;
  }

  /** The running trial has come up: programs its CONFIRMED mark, so that
   *  every power-up from now on boots it. Throws a FlashError if the mark
   *  will not take (the next power-up then goes back to the old load). */
  confirm(): BootResult {
    const t = this.trial;
    if (t === null) throw new Error("flash: confirm() without a trial booted by powerUp()");
    if (!this.programMark(t.sector, CONFIRMED_MARK_AT)) throw new FlashError("write", `the CONFIRMED mark of boot record ${t.seq} (sector ${t.sector}) does not take: slot ${slotName(t.slot)} stays on trial`);
    this.trial = null;
    const b = this.boot();
    if (b.slot !== t.slot || !b.verified || b.trial || b.recordSeq !== t.seq) throw new FlashError("verify", `boot record ${t.seq} is confirmed but boot does not choose slot ${slotName(t.slot)}: ${b.reason}`);
    return b;
  }

  /** One mark, onto erased bytes after a record; true if it reads as set.
   *  A program that failed may still have set it (a quorum of its bytes):
   *  what the flash holds decides, as it will at the next power-up. */
  private programMark(sector: number, at: number): boolean {
    const offset = sector * this.layout.sectorBytes + at;
    try {
      this.flash.program(offset, MARK);
    } catch (e) {
      if (!(e instanceof FlashError)) throw e;
    }
    try {
      return markSet(this.flash.read(offset, MARK_BYTES));
    } catch (e) {
      if (e instanceof FlashError) return false;
      throw e;
    }
  }

  /** Each slot's state, for `pfs flash ls` (slot-state.ts). Reads only. */
  slots(): SlotState[] {
    return slotStates(this.flash, this.layout, this.last ?? this.boot());
  }

  /** The load that boots (as of the last boot() or commit), or null. */
  activeLoad(): Manifest | null {
    const b = this.last ?? this.boot();
    return b.verified ? b.manifest : null;
  }

  /** Starts writing a new load into the slot that does not boot (slot A when
   *  nothing names one). Erases and writes only that slot's manifest now;
   *  each component sector is erased when the first write reaches it. A
   *  later beginUpdate abandons this one. */
  beginUpdate(loadName: string, components: NewComponent[]): Update {
    // The other slot holds the load a failed trial goes back to.
    if (this.trial !== null) throw new Error(`flash: slot ${slotName(this.trial.slot)} runs on trial: confirm it before an update`);
    const b = this.boot();
    const target = b.slot === null ? 0 : otherSlot(b.slot);
    return this.start(this.plan(target, this.nextSeq, loadName, components), true);
  }

  /** Checks a new load and lays it out; writes nothing. */
  private plan(slot: Slot, seq: number, loadName: string, components: NewComponent[]): UpdatePlan {
    if (seq > MAX_SEQ) throw new RangeError(`flash: sequence numbers are used up (${seq - 1})`);
    checkName(loadName, "load name");
    if (components.length < 1 || components.length > MAX_COMPONENTS) throw new RangeError(`a load has 1 to ${MAX_COMPONENTS} components (got ${components.length})`);
    const names = new Set<string>();
    for (const c of components) {
      checkName(c.name, "component name");
      if (names.has(c.name)) throw new RangeError(`component '${c.name}' appears twice`);
      names.add(c.name);
      if (!Number.isSafeInteger(c.sizeBytes) || c.sizeBytes < 1 || c.sizeBytes > MAX_COMPONENT_BYTES) throw new RangeError(`component '${c.name}': sizeBytes must be a whole number from 1 to ${MAX_COMPONENT_BYTES} (got ${c.sizeBytes})`);
      if (c.sha256.length !== HASH_BYTES || c.listSha256.length !== HASH_BYTES) throw new RangeError(`component '${c.name}': sha256 and listSha256 must be ${HASH_BYTES} bytes`);
    }
    let offsets: number[];
    try {
      offsets = placeComponents(this.layout, components.map((c) => c.sizeBytes));
    } catch (e) {
      if (e instanceof RangeError) throw new FlashError("full", e.message);
      throw e;
    }
    const manifest: Manifest = {
      loadName, seq,
      components: components.map((c, i) => ({
        name: c.name, sizeBytes: c.sizeBytes, listBytes: listBytesOf(c.sizeBytes), offsetBytes: offsets[i],
        sha256: Uint8Array.from(c.sha256), listSha256: Uint8Array.from(c.listSha256),
      })),
    };
    return { slot, manifest, encoded: encodeManifest(manifest) };
  }

  /** U1 and U2 of docs/FLASH.md: T's manifest, erased and written. */
  private start({ slot, manifest, encoded }: UpdatePlan, trial: boolean): Update {
    this.current?.abandon();
    const first = slotFirstSector(this.layout, slot);
    for (let s = 0; s < this.layout.manifestSectors; s++) this.flash.erase(first + s);
    const at = slotStartBytes(this.layout, slot);
    this.flash.program(at, encoded);
    assert(sameBytes(this.flash.read(at, encoded.length), encoded), `the manifest of slot ${slotName(slot)} reads back as written`);
    const update = new Update(this.flash, this.layout, slot, manifest, encoded, (checks) => this.writeRecord(slot, manifest.seq, encoded, trial, checks));
    this.current = update;
    return update;
  }

  /** The commit point: one record in a sector the running load was not booted
   *  from, after a barrier so the load it names is durable first. */
  private writeRecord(slot: Slot, seq: number, manifestBytes: Uint8Array, trial: boolean, checks: ComponentCheck[]): BootResult {
    const record = encodeRecord({ slot, seq, manifestSha256: sha256(manifestBytes), trial });
    const spare = readRecords(this.flash, this.layout).filter((r) => r.sector !== this.keepSector);
    // An unreadable record first, then the oldest.
    spare.sort((a, b) => (a.record?.seq ?? -1) - (b.record?.seq ?? -1) || a.sector - b.sector);
    const sector = spare[0].sector;
    this.flash.sync();
    this.flash.erase(sector);
    this.flash.program(sector * this.layout.sectorBytes, record);
    this.flash.sync();
    assert(sameBytes(this.flash.read(sector * this.layout.sectorBytes, RECORD_BYTES), record), `boot record ${seq} reads back as written (sector ${sector})`);
    // The boot scan that must now choose T, taking U5's checks of T's
    // components, made a moment ago, instead of reading the load once more;
    // every real boot reads and checks it again.
    const scan = scanBoot(this.flash, this.layout, { checked: { slot, checks } });
    const b = this.took(scan);
    if (b.slot !== slot || !b.verified || b.recordSeq !== seq || b.trial !== trial) throw new FlashError("verify", `boot record ${seq} is written but boot does not choose slot ${slotName(slot)}${trial ? " on trial" : ""}: ${b.reason}`);
    return b;
  }
}

/** One load being written into the inactive slot. Offsets are in a
 *  component's transfer space: [0, listBytes) its block list, then its bytes.
 *  Made by AbStore.beginUpdate. */
export class Update {
  private readonly checks: Array<ComponentCheck | null>;
  /** Sectors of the slot this update has erased (it erases each at most once). */
  private readonly erased: Uint8Array;
  private state: "open" | "committed" | "abandoned" = "open";
  /** The flash failure that ended this update: nothing more is written. */
  private failure: FlashError | null = null;
  private readonly firstSector: number;

  constructor(
    /** Careful: every program reads back as written, or throws. */
    private readonly dev: CarefulDevice,
    private readonly layout: Layout,
    readonly slot: Slot,
    readonly manifest: Manifest,
    private readonly encoded: Uint8Array,
    private readonly commitRecord: (checks: ComponentCheck[]) => BootResult,
  ) {
    this.checks = manifest.components.map(() => null);
    this.erased = new Uint8Array(layout.slotSectors);
    this.firstSector = slotFirstSector(layout, slot);
  }

  /** Writes bytes at an offset of a component's transfer space, in any order;
   *  each byte once. Erases a sector the first time a write reaches it, and
   *  reads back what it wrote: a byte that does not take (written twice with
   *  other bytes, or bad flash) throws. */
  writeAt(component: number, offset: number, bytes: Uint8Array): void {
    this.usable();
    const c = this.entry(component);
    this.span(c.name, offset, bytes.length, transferBytesOf(c.sizeBytes));
    if (bytes.length === 0) return;
    const at = slotStartBytes(this.layout, this.slot) + c.offsetBytes + offset;
    this.checks[component] = null;
    try {
      this.write(c.name, offset, at, bytes);
    } catch (e) {
      if (e instanceof FlashError) this.failure ??= e;
      throw e;
    }
  }

  /** Erases each sector `bytes` reach the first time, then programs them. */
  private write(name: string, offset: number, at: number, bytes: Uint8Array): void {
    const S = this.layout.sectorBytes;
    for (let s = Math.floor(at / S); s <= Math.floor((at + bytes.length - 1) / S); s++) {
      const i = s - this.firstSector;
      // Never outside this slot's component sectors (the manifest's are written once, at the start).
      if (i < this.layout.manifestSectors || i >= this.layout.slotSectors) throw new Error(`flash: internal: a write of ${name} reached sector ${s}, outside slot ${slotName(this.slot)}'s components`);
      if (this.erased[i] === 0) {
        this.dev.erase(s);
        this.erased[i] = 1;
      }
    }
    try {
      // The careful device reads it back until it reads as written.
      this.dev.program(at, bytes);
    } catch (e) {
      if (!(e instanceof ProgramMismatch)) throw e;
      throw new FlashError("write", `flash: ${name} byte ${offset + e.index} reads 0x${hex2(e.got)} after programming 0x${hex2(e.wanted)} (written twice, or a bad cell)`);
    }
  }

  readAt(component: number, offset: number, length: number): Uint8Array {
    const c = this.entry(component);
    this.span(c.name, offset, length, transferBytesOf(c.sizeBytes));
    return this.dev.read(slotStartBytes(this.layout, this.slot) + c.offsetBytes + offset, length);
  }

  /** Re-reads the component from flash and checks its list and content. */
  verify(component: number): boolean {
    const c = this.entry(component);
    const check = checkComponent(this.dev, slotStartBytes(this.layout, this.slot), c);
    this.checks[component] = check;
    return check.ok;
  }

  /** Each component's last verify() since its last write; false if none. */
  verified(): boolean[] {
    return this.checks.map((c) => c?.ok === true);
  }

  /** Verifies every component again from flash, and only if all pass writes
   *  the boot record that makes this slot the one that boots. Throws, and
   *  changes nothing, if any component does not verify. */
  commit(): void {
    this.usable();
    const bad: string[] = [];
    this.manifest.components.forEach((c, i) => {
      if (!this.verify(i)) bad.push(`${c.name}: ${this.checks[i]!.why}`);
    });
    if (!sameBytes(this.dev.read(slotStartBytes(this.layout, this.slot), this.encoded.length), this.encoded)) bad.push("the manifest no longer reads as written");
    if (bad.length > 0) throw new FlashError("verify", `commit refused (slot ${slotName(this.slot)}): ${bad.join("; ")}`);
    this.state = "committed";
    this.commitRecord(this.checks.map((c) => c!));
  }

  /** Made void by a newer beginUpdate on the same store. */
  abandon(): void {
    if (this.state === "open") this.state = "abandoned";
  }

  private usable(): void {
    if (this.state === "committed") throw new Error("flash: this update is committed already");
    if (this.state === "abandoned") throw new Error("flash: this update was abandoned for a newer one");
    if (this.failure !== null) throw new FlashError(this.failure.kind, `this update failed already: ${this.failure.message.replace(/^flash: /, "")}`);
  }

  private entry(component: number) {
    const c = this.manifest.components[component];
    if (!Number.isSafeInteger(component) || c === undefined) throw new RangeError(`flash: no component ${component} (the load has ${this.manifest.components.length})`);
    return c;
  }

  private span(name: string, offset: number, length: number, limit: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > limit) {
      throw new RangeError(`flash: ${length} bytes at ${offset} are outside ${name}'s transfer space of ${limit} bytes`);
    }
  }
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, "0");
}

/** An invariant of this file's own making; failing it is a bug here. */
function assert(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`flash: internal: expected ${what}`);
}
