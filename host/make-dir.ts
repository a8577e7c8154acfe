// Making a folder and its parents, with an end. Node's own
// mkdirSync(path, { recursive: true }) (Node 20) loops for ever on a path
// under /proc: mkdir("/proc/x") says ENOENT, so it makes the parent, whose
// mkdir says EEXIST, so it tries the child again... (`pfs loads make --out
// /proc/pfs-root` spun at 96 % CPU for ten minutes). This walks the path once,
// top down, one mkdir per missing component, and fails with the component
// and the reason.

import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** A folder that cannot be made: `path` is the one that failed, `code` the
 *  system's error code (ENOENT, EACCES, ENOTDIR, EROFS, ...). */
export class MakeDirError extends Error {
  override name = "MakeDirError";
  constructor(readonly path: string, readonly code: string, message: string) {
    super(message);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: "this file system does not let folders be made there",
  EACCES: "permission denied",
  EPERM: "not permitted",
  EROFS: "the file system is read-only",
  ENOTDIR: "a part of the path is a file, not a folder",
  ENOSPC: "no space left",
  EEXIST: "it exists and is not a folder",
};

/** Makes `path` and any missing parents; returns the absolute path. Throws
 *  MakeDirError, never loops: each component is tried once. */
export function makeDirs(path: string): string {
  const target = resolve(path);
  const chain: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    chain.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain.reverse()) {
    if (isDir(p)) continue;
    let code: string | undefined;
    try {
      mkdirSync(p);
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code ?? "EIO";
    }
    // Made, or made by someone else meanwhile (EEXIST): only a folder we can
    // stat counts, whatever mkdir said.
    if (isDir(p)) continue;
    code ??= "ENOTDIR";
    throw new MakeDirError(p, code, `cannot make the folder '${p}'${p === target ? "" : ` (for '${target}')`}: ${REASONS[code] ?? "failed"} (${code})`);
  }
  return target;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
