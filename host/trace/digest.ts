// The digest every engine prints (docs/TRACE.md section 4): SHA-256 over the
// kind byte and the observed value of every record that carries an
// expectation, in file order; and the count of outbox records seen.

import { createHash, Hash } from "node:crypto";

export class Observations {
  private readonly hash: Hash = createHash("sha256");
  records = 0;
  cores = 0;
  private readonly kindByte = new Uint8Array(1);

  fold(kind: number, observed: Uint8Array): void {
    this.kindByte[0] = kind;
    this.hash.update(this.kindByte);
    this.hash.update(observed);
  }

  /** Raw bytes already in fold order (a recorder's kept observations). */
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }

  /** Hex of the digest; ends the hash. */
  hex(): string {
    return this.hash.digest("hex");
  }

  bytes(): Uint8Array {
    return this.hash.digest();
  }
}

const scratch = new DataView(new ArrayBuffer(8));

export function u32Bytes(v: number): Uint8Array {
  scratch.setUint32(0, v >>> 0, true);
  return new Uint8Array(scratch.buffer.slice(0, 4));
}

export function f64Bytes(v: number): Uint8Array {
  scratch.setFloat64(0, v, true);
  return new Uint8Array(scratch.buffer.slice(0, 8));
}

/** The digest line every engine prints. */
export const digestLine = (hex: string, records: number) => `digest ${hex} records ${records}`;
