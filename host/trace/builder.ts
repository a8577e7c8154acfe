// A growing byte buffer for writing trace records: little-endian fields into
// chunks of CHUNK_BYTES, big payloads (receive windows, 16 KiB blocks) kept
// as their own copies, so recording a relay costs one copy per byte.

/** Size of one chunk of small fields. */
const CHUNK_BYTES = 64 * 1024;
/** Payloads at least this long are stored as their own chunk. */
const OWN_CHUNK_BYTES = 4096;

export class ByteBuilder {
  private readonly done: Uint8Array[] = [];
  private cur = new Uint8Array(CHUNK_BYTES);
  private dv = new DataView(this.cur.buffer);
  private at = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  private room(n: number): void {
    if (this.at + n <= this.cur.length) return;
    this.flush();
    if (n > this.cur.length) this.cur = new Uint8Array(n);
    this.dv = new DataView(this.cur.buffer);
  }

  private flush(): void {
    if (this.at > 0) this.done.push(this.cur.subarray(0, this.at));
    this.cur = new Uint8Array(CHUNK_BYTES);
    this.dv = new DataView(this.cur.buffer);
    this.at = 0;
  }

  u8(v: number): this {
    this.room(1);
    this.cur[this.at++] = v;
    this.total += 1;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.dv.setUint32(this.at, v >>> 0, true);
    this.at += 4;
    this.total += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.dv.setInt32(this.at, v | 0, true);
    this.at += 4;
    this.total += 4;
    return this;
  }

  f64(v: number): this {
    this.room(8);
    this.dv.setFloat64(this.at, v, true);
    this.at += 8;
    this.total += 8;
    return this;
  }

  /** Copies `b` (the caller may reuse its memory afterwards). */
  bytes(b: Uint8Array): this {
    if (b.length >= OWN_CHUNK_BYTES) {
      this.flush();
      this.done.push(b.slice());
    } else {
      this.room(b.length);
      this.cur.set(b, this.at);
      this.at += b.length;
    }
    this.total += b.length;
    return this;
  }

  /** Everything written, in order; the builder is empty afterwards. */
  take(): Uint8Array[] {
    this.flush();
    const out = this.done.splice(0);
    this.total = 0;
    return out;
  }
}
