// Power cuts for the "never bricks" proof, after MCUboot's simulator: wrap a
// device, let k-1 mutating operations (erase, program) through, and cut the
// power during the k-th. That operation may be torn: an erase can leave the
// sector partly erased or full of garbage, a program writes only a prefix of
// its bytes and leaves the byte it stopped in half programmed. The tear is
// drawn from the seed, so a failing k reproduces. From the cut on, every call
// throws PowerCut; the wrapped device then holds what the flash would hold
// when the phone powers up again.

import { Rng } from "../sim/random.js";
import { checkSector, checkSpan, ERASED_BYTE, FlashDevice } from "./device.js";

export class PowerCut extends Error {
  constructor(op: number) {
    super(`power cut (at mutating operation ${op})`);
    this.name = "PowerCut";
  }
}

export interface PowerCutOptions {
  /** The operation the power dies in, counting from 1; Infinity never cuts,
   *  which is how a test counts the operations of a clean run. */
  cutAtOp: number;
  seed: number;
  /** false: the k-th operation completes, then the power dies. */
  tear?: boolean;
}

/** The ways a torn erase leaves a sector (drawn per cut). */
const enum TornErase {
  /** The erase reached only a prefix of the sector. */
  Prefix = 0,
  /** Some bits of every byte went to 1, others kept their old value. */
  PartBits = 1,
  /** Nothing readable: arbitrary bytes. */
  Garbage = 2,
}

export class PowerCutDevice implements FlashDevice {
  readonly sectorBytes: number;
  readonly sectors: number;
  /** Mutating operations attempted, the cut one included. */
  ops = 0;
  cut = false;
  /** What each mutating operation was, for a failing test's message. */
  readonly history: string[] = [];
  private readonly rng: Rng;

  constructor(private readonly inner: FlashDevice, private readonly options: PowerCutOptions) {
    this.sectorBytes = inner.sectorBytes;
    this.sectors = inner.sectors;
    this.rng = Rng.derive(options.seed, "power-cut");
  }

  erase(sector: number): void {
    this.alive();
    checkSector(this, sector);
    if (!this.startOp(`erase sector ${sector}`)) return this.inner.erase(sector);
    if (this.options.tear !== false) this.tornErase(sector);
    else this.inner.erase(sector);
    throw new PowerCut(this.ops);
  }

  program(offset: number, bytes: Uint8Array): void {
    this.alive();
    checkSpan(this, offset, bytes.length, "program");
    if (!this.startOp(`program ${bytes.length} bytes at ${offset}`)) return this.inner.program(offset, bytes);
    if (this.options.tear !== false) this.tornProgram(offset, bytes);
    else this.inner.program(offset, bytes);
    throw new PowerCut(this.ops);
  }

  read(offset: number, length: number): Uint8Array {
    this.alive();
    return this.inner.read(offset, length);
  }

  sync(): void {
    this.alive();
    this.inner.sync?.();
  }

  /** Counts the operation; true when the power dies in it. */
  private startOp(what: string): boolean {
    this.ops++;
    this.history.push(what);
    if (this.ops < this.options.cutAtOp) return false;
    this.cut = true;
    return true;
  }

  private alive(): void {
    if (this.cut) throw new PowerCut(this.ops);
  }

  private tornErase(sector: number): void {
    const start = sector * this.sectorBytes;
    const after = this.inner.read(start, this.sectorBytes);
    const mode = this.rng.int(TornErase.Prefix, TornErase.Garbage) as TornErase;
    if (mode === TornErase.Prefix) after.fill(ERASED_BYTE, 0, this.rng.int(0, this.sectorBytes));
    else for (let i = 0; i < after.length; i++) after[i] = mode === TornErase.PartBits ? after[i] | this.randomByte() : this.randomByte();
    // The inner device can only erase and clear bits: erase, then clear down
    // to the torn contents.
    this.inner.erase(sector);
    this.inner.program(start, after);
  }

  private tornProgram(offset: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const stop = this.rng.int(0, bytes.length - 1);
    const torn = new Uint8Array(bytes.length).fill(ERASED_BYTE);
    torn.set(bytes.subarray(0, stop));
    // The byte it stopped in: only some of its bits were cleared.
    torn[stop] = bytes[stop] | this.randomByte();
    this.inner.program(offset, torn);
  }

  private randomByte(): number {
    return this.rng.u32() & 0xff;
  }
}
