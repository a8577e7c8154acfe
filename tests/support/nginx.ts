// Debian's nginx started for a test on a free high loopback port with a
// configuration of its own (everything it writes in a temporary folder:
// pid, error log, access log, temp paths), serving one directory; and its
// own access log read back, so a test judges what nginx sent by nginx's
// word, not by the phones'. One process (master_process off), in the
// foreground (daemon off), stopped with SIGTERM.

import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NGINX = "/usr/sbin/nginx";
export const NGINX_HOST = "127.0.0.1";
/** How long nginx gets to answer its first request before we try another port. */
const START_TIMEOUT_MS = 5000;
/** A port taken between our probe and nginx's bind: try this many. */
const START_ATTEMPTS = 3;
/** How long a SIGTERM'd nginx gets before SIGKILL. */
const STOP_TIMEOUT_MS = 5000;
/** nginx's socket send buffer: a few TCP segments' worth of 16 KiB PFS
 *  blocks, small enough that what nginx logs as sent has nearly all left. */
const SNDBUF_BYTES = 32 << 10;
/** The lowest port we take: "high" ports, clear of any system service. */
const PORT_MIN = 20_000;
const PORT_TRIES = 50;

/** One line of the access log (the `pfs` format below). */
export interface NginxAccess {
  /** When the request ended, ms since the epoch ($msec). */
  atMs: number;
  client: string;
  method: string;
  /** The request URI as sent. */
  uri: string;
  status: number;
  /** Body bytes nginx sent ($body_bytes_sent): for a response cut short,
   *  what went before the cut. */
  bodyBytes: number;
  range?: string;
  ifRange?: string;
}

export interface RunningNginx {
  port: number;
  /** The served directory's URL, ending with "/". */
  url: string;
  /** Its access log as it stands, one entry per request ended. */
  accessLog(): NginxAccess[];
  errorLog(): string;
  stop(): Promise<void>;
}

/** Why nginx cannot run here, or undefined when it can. */
export function nginxMissing(): string | undefined {
  if (!existsSync(NGINX)) return `${NGINX} is not installed (tests/support/debian-deps.sh installs nginx as root)`;
  const v = spawnSync(NGINX, ["-v"], { encoding: "utf8" });
  if (v.status !== 0 || !/nginx\//.test(v.stderr ?? "")) return `${NGINX} -v did not answer as nginx: ${(v.stderr ?? "").trim()}`;
  return undefined;
}

/** Tab-separated, so that no field needs quoting; nginx writes "-" for an
 *  empty variable and escapes anything unprintable as \xHH. */
const LOG_FORMAT = "$msec\\t$remote_addr:$remote_port\\t$request_method\\t$request_uri\\t$status\\t$body_bytes_sent\\t$http_range\\t$http_if_range";

export interface NginxOptions {
  /** nginx's own per-connection rate limit (limit_rate), bytes/s: a
   *  transfer slow enough to be cut mid-file on loopback. Absent: none. */
  limitRateBytesPerSec?: number;
}

function config(dir: string, root: string, port: number, o: NginxOptions): string {
  const t = (name: string) => join(dir, "temp", name);
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} info;
${process.getuid?.() === 0 ? "user root root;" : ""}
events { worker_connections 1024; }
http {
  log_format pfs "${LOG_FORMAT}";
  access_log ${join(dir, "access.log")} pfs;
  client_body_temp_path ${t("body")};
  proxy_temp_path ${t("proxy")};
  fastcgi_temp_path ${t("fastcgi")};
  uwsgi_temp_path ${t("uwsgi")};
  scgi_temp_path ${t("scgi")};
  default_type application/octet-stream;
  sendfile on;
  server {
    # A small send buffer: $body_bytes_sent counts what nginx handed the
    # kernel, so it then stays close to what left (loopback's own buffers
    # grow to megabytes, all "sent" yet lost when the reader is killed).
    listen ${NGINX_HOST}:${port} sndbuf=${SNDBUF_BYTES};
    root ${root};
    location / { ${o.limitRateBytesPerSec !== undefined ? `limit_rate ${Math.round(o.limitRateBytesPerSec)};` : ""} }
  }
}
`;
}

/** A TCP port nobody listens on right now, above PORT_MIN. */
async function freeHighTcpPort(): Promise<number> {
  for (let i = 0; i < PORT_TRIES; i++) {
    const port = PORT_MIN + Math.floor(Math.random() * (65_535 - PORT_MIN));
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, NGINX_HOST, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free TCP port above ${PORT_MIN} after ${PORT_TRIES} tries`);
}

export function parseAccessLog(text: string): NginxAccess[] {
  const out: NginxAccess[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const f = line.split("\t");
    if (f.length !== 8) throw new Error(`nginx access log: not our format: ${line}`);
    const dash = (s: string) => (s === "-" ? undefined : s);
    out.push({
      atMs: Math.round(Number(f[0]) * 1000), client: f[1], method: f[2], uri: f[3], status: Number(f[4]), bodyBytes: Number(f[5]),
      ...(dash(f[6]) !== undefined && { range: f[6] }), ...(dash(f[7]) !== undefined && { ifRange: f[7] }),
    });
  }
  return out;
}

/** Starts nginx serving `root` (resolves once it serves `probeFile`, a
 *  file in it; that request is in the access log like any other). */
export async function startNginx(root: string, probeFile: string, opts: NginxOptions = {}): Promise<RunningNginx> {
  if (opts.limitRateBytesPerSec !== undefined && !(opts.limitRateBytesPerSec >= 1)) throw new RangeError(`limit_rate ${opts.limitRateBytesPerSec}`);
  let lastError = "";
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "pfs-nginx-"));
    mkdirSync(join(dir, "temp"));
    const port = await freeHighTcpPort();
    writeFileSync(join(dir, "nginx.conf"), config(dir, root, port, opts));
    // -e: the error log before the configuration is read (else nginx opens
    // its compiled-in one first); -p: relative paths are ours.
    const child: ChildProcess = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
    // After stop() the logs are what they were when nginx ended (the folder is gone).
    let stopped = false;
    let finalLogs: { access: string; error: string } | undefined;
    const log = (f: "access" | "error") => finalLogs?.[f] ?? read(`${f}.log`);
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(t);
      }
      finalLogs = { access: read("access.log"), error: read("error.log") };
      rmSync(dir, { recursive: true, force: true });
    };
    const url = `http://${NGINX_HOST}:${port}/`;
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (performance.now() < deadline && child.exitCode === null) {
      try {
        const r = await fetch(url + probeFile, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        if (r.status === 200) {
          return { port, url, stop, errorLog: () => log("error"), accessLog: () => parseAccessLog(log("access")) };
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    lastError = `nginx on port ${port} did not serve ${probeFile} (exit ${child.exitCode}): ${stderr.trim()} ${read("error.log").trim().split("\n").slice(-3).join(" | ")}`;
    await stop();
  }
  throw new Error(lastError);
}
