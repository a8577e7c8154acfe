// Two kinds of flash failure, typed so that callers never match message text:
// - FlashIoError is what a device throws when one operation fails (an I/O
//   error from the part or the file under it, a disk out of space). It may
//   be transient; the careful device (careful-device.ts) retries it.
// - FlashError is what the store throws when flash cannot hold what an
//   update needs after those retries: the update is over, the running load
//   stays active. Its message starts with "flash:" and is one line.
// A PowerCut (fault-device.ts) is neither: nothing runs after it.

/** The operation a device failed in. */
export type FlashOp = "read" | "program" | "erase";

/** Why an update cannot go on: a read, program or erase that kept failing,
 *  a slot (or the disk under an image) that is full, or a load that does
 *  not read back as verified. */
export type FlashFaultKind = "read" | "write" | "erase" | "full" | "verify";

export class FlashIoError extends Error {
  constructor(readonly op: FlashOp, readonly code: string, readonly detail: string) {
    super(`flash: ${op} failed (${code}): ${detail}`);
    this.name = "FlashIoError";
  }

  /** Out of space: retrying the same write cannot help. */
  get full(): boolean {
    return this.code === "ENOSPC" || this.code === "EDQUOT";
  }
}

export class FlashError extends Error {
  constructor(readonly kind: FlashFaultKind, message: string) {
    super(message.startsWith("flash:") ? message : `flash: ${message}`);
    this.name = "FlashError";
  }
}

/** Error codes of the file system that are a failure of the medium (or of
 *  the space on it), as opposed to a bug of ours (EBADF, EINVAL). */
const MEDIUM_CODES = new Set(["EIO", "ENOSPC", "EDQUOT", "EROFS", "ENXIO", "EFBIG"]);

/** A file-system error during a device operation as a FlashIoError; anything
 *  else is returned as it is. */
export function asFlashIoError(e: unknown, op: FlashOp, detail: string): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && MEDIUM_CODES.has(code) ? new FlashIoError(op, code, detail) : e;
}
