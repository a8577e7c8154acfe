// Finding a file through WASI: the runtime hands the command preopened
// directories (fd 3 upward, WASI preview1 fd_prestat_get) and every path is
// opened relative to one of them. A path names the preopen it lies in: "."
// (wasmtime --dir=.) holds relative paths; "/a/b" holds "/a/b/..."; the
// longest such name wins. node:wasi in host/wasi/run.ts preopens each trace's
// directory under its own absolute name, so guest and host paths agree.

import {
  errno, fd, fd_prestat_dir_name, fd_prestat_get, lookupflags, path_open, prestat, prestat_dir, preopentype, rights,
} from "bindings/wasi_snapshot_preview1";

/** The first fd a runtime may preopen (0..2 are stdin, stdout, stderr). */
const FIRST_PREOPEN_FD: u32 = 3;
/** Preopens looked at; more are ignored (a command line names a few). */
const MAX_PREOPENS: i32 = 64;
/** The longest preopen name read (PATH_MAX of Linux, limits.h). */
const MAX_PREOPEN_NAME_BYTES: usize = 4096;

const prestatBuf = memory.data(16, 8);
const nameBuf = memory.data(<i32>MAX_PREOPEN_NAME_BYTES);
const openedFd = memory.data(4, 4);

const names: string[] = [];
const fds: u32[] = [];
let scanned = false;

/** Reads the runtime's preopened directories once. */
function scan(): void {
  if (scanned) return;
  scanned = true;
  for (let i = 0; i < MAX_PREOPENS; i++) {
    const dirFd = FIRST_PREOPEN_FD + <u32>i;
    if (fd_prestat_get(dirFd, changetype<prestat>(prestatBuf)) != errno.SUCCESS) break; // BADF: no more preopens
    const p = changetype<prestat_dir>(prestatBuf);
    if (p.type != preopentype.DIR) continue;
    const len = p.name_len;
    if (len > MAX_PREOPEN_NAME_BYTES) continue;
    if (fd_prestat_dir_name(dirFd, nameBuf, len) != errno.SUCCESS) continue;
    // Some runtimes count a terminating NUL in the name.
    let n = len;
    while (n > 0 && load<u8>(nameBuf + n - 1) == 0) n--;
    names.push(String.UTF8.decodeUnsafe(nameBuf, n));
    fds.push(dirFd);
  }
  assert(names.length == fds.length);
}

/** "a/b/" -> "a/b"; "./x" -> "x"; "/" stays. */
function trimDir(name: string): string {
  let s = name;
  while (s.length > 1 && s.endsWith("/")) s = s.substring(0, s.length - 1);
  return s;
}

function dropDotSlash(path: string): string {
  let s = path;
  while (s.startsWith("./")) s = s.substring(2);
  return s;
}

/** The part of `path` below preopen `name`, or null when it is not below it. */
function below(name: string, path: string): string | null {
  const dir = trimDir(name);
  if (dir == "." || dir == "./") return path.startsWith("/") ? null : dropDotSlash(path);
  if (dir == "/") return path.startsWith("/") ? path.substring(1) : null;
  const d = dropDotSlash(dir);
  const p = dropDotSlash(path);
  return p.startsWith(d + "/") ? p.substring(d.length + 1) : null;
}

/** Why the last openRead failed (a WASI errno, or NOT_PREOPENED). */
export let openError: u32 = 0;
/** openError when no preopened directory holds the path. */
export const NOT_PREOPENED: u32 = 0x10000;

/** Opens `path` for reading; the fd, or -1 (openError says why). */
export function openRead(path: string): i32 {
  scan();
  let best = -1;
  let bestLen = -1;
  let rel = "";
  for (let i = 0; i < names.length; i++) {
    const r = below(names[i], path);
    if (r != null && names[i].length > bestLen) {
      best = i;
      bestLen = names[i].length;
      rel = r;
    }
  }
  if (best < 0 || rel.length == 0) {
    openError = NOT_PREOPENED;
    return -1;
  }
  const bytes = String.UTF8.encode(rel);
  const base: u64 = rights.FD_READ | rights.FD_SEEK | rights.FD_TELL | rights.FD_FILESTAT_GET;
  const err = path_open(fds[best], lookupflags.SYMLINK_FOLLOW, changetype<usize>(bytes), <usize>bytes.byteLength,
    0, base, 0, 0, openedFd);
  if (err != errno.SUCCESS) {
    openError = err;
    return -1;
  }
  return <i32>load<fd>(openedFd);
}

/** Words for why a file did not open. */
export function openErrorText(err: u32): string {
  if (err == NOT_PREOPENED) return "no preopened directory holds it (give the runtime the directory, e.g. wasmtime --dir=.)";
  switch (<u16>err) {
    case errno.NOENT: return "no such file";
    case errno.ISDIR: return "a directory, not a trace";
    case errno.ACCES: case errno.NOTCAPABLE: case errno.PERM: return "not allowed to read it";
  }
  return "cannot open it (WASI errno " + err.toString() + ")";
}
