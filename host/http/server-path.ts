// The file an HTTP request names, under the served root or refused. The
// request target is decoded once (percent-escapes, RFC 3986); what it names
// must then stay under the root, by its name and, after symlinks, by its
// real path. A target we cannot read as a path (not origin-form, a broken
// escape, a NUL) is a bad request (400); a name that leads outside, or that
// is not a regular file, is simply not found (404): the server says no more
// about what lies outside.

import { realpath } from "node:fs/promises";
import path from "node:path";

/** The longest request target read: a TFTP root's names are short
 *  (`SEP<MAC>.cnf.xml`, `jar41sccp.9-4-2ES26.sbn.blk`), and Node's own limit
 *  on the header block (16 KiB) is far above any we serve. */
export const TARGET_MAX_CHARS = 1024;

export type Target = { ok: true; name: string } | { ok: false; status: 400 | 404; why: string };
export type Located = { ok: true; path: string } | { ok: false; status: 404; why: string };

/** The file name a request target asks for, relative to the root (no
 *  leading "/"), or why it cannot be one. */
export function targetName(url: string | undefined): Target {
  if (url === undefined || url === "") return { ok: false, status: 400, why: "no request target" };
  if (url.length > TARGET_MAX_CHARS) return { ok: false, status: 400, why: "request target too long" };
  // Origin-form only (RFC 9112 3.2.1): "/path[?query]"; a proxy's absolute
  // form or "*" is not for a file server.
  if (!url.startsWith("/")) return { ok: false, status: 400, why: "not an origin-form target" };
  const rawPath = url.split(/[?#]/, 1)[0];
  let name: string;
  try {
    name = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, status: 400, why: "bad percent-escape" };
  }
  if (name.includes("\0")) return { ok: false, status: 400, why: "NUL in the path" };
  // Backslashes are ordinary characters on Linux, but a name with one is
  // never ours and is a classic way round a check on other systems.
  if (name.includes("\\")) return { ok: false, status: 404, why: "backslash in the path" };
  const segments = name.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) return { ok: false, status: 404, why: "path leads outside the served directory" };
  if (segments.length === 0) return { ok: false, status: 404, why: "no file named (no directory listings)" };
  return { ok: true, name: segments.join("/") };
}

const within = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/** The real path of `name` under `rootReal` (itself a real path). */
export async function locateUnder(rootReal: string, name: string): Promise<Located> {
  const full = path.resolve(rootReal, name);
  if (!within(rootReal, full) || full === rootReal) return { ok: false, status: 404, why: "path leads outside the served directory" };
  let real: string;
  try {
    real = await realpath(full);
  } catch (e) {
    return { ok: false, status: 404, why: `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  if (!within(rootReal, real) || real === rootReal) return { ok: false, status: 404, why: "a symlink leads outside the served directory" };
  return { ok: true, path: real };
}
