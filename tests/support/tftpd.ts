// Debian's TFTP servers (and ours, as a process) started on a free loopback
// port for tests and benchmarks: one way to start them, to know they serve,
// and to stop them.

import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tftpGet } from "../../host/tftp/client.js";
import { freeUdpPort } from "./ports.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** Both servers are unpacked from their Debian packages by
 *  tests/support/debian-deps.sh (they conflict as installed packages), so
 *  the tests run the same whichever of them the machine has installed. */
export const IN_TFTPD = join(root, "build/debian/tftpd-hpa/usr/sbin/in.tftpd");
export const ATFTPD = join(root, "build/debian/atftpd/usr/sbin/atftpd");
export const LOOPBACK = "127.0.0.1";
/** How long a server gets to answer its first read before we try another port. */
const START_TIMEOUT_MS = 5000;
/** A port taken between our probe and the server's bind: try this many. */
const START_ATTEMPTS = 3;

export interface RunningTftpd {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Why tftpd-hpa cannot run here, or undefined when it can. */
export function tftpdHpaMissing(): string | undefined {
  if (!existsSync(IN_TFTPD)) return `${IN_TFTPD} not unpacked (tftpd-hpa; tests/support/debian-deps.sh does it as root)`;
  if (!/tftp-hpa/.test(spawnSync(IN_TFTPD, ["-V"], { encoding: "utf8" }).stdout ?? "")) return `${IN_TFTPD} is not tftpd-hpa`;
  if (process.getuid?.() !== 0) return "tftpd-hpa must start as root (it changes user), and we are not root";
  return undefined;
}

/** Why atftpd cannot run here, or undefined when it can. */
export function atftpdMissing(): string | undefined {
  if (!existsSync(ATFTPD)) return `${ATFTPD} not unpacked (tests/support/debian-deps.sh does it as root)`;
  if (process.getuid?.() !== 0) return "atftpd must start as root (it changes user), and we are not root";
  return undefined;
}

/** atftpd's arguments to serve `dir` on loopback:`port` in the foreground. */
export function atftpdArgs(dir: string, extra: string[] = []): (port: number) => string[] {
  return (port) => ["--daemon", "--no-fork", "--port", String(port), "--bind-address", LOOPBACK, "--user", "root", "--group", "root",
    "--logfile", "/dev/null", ...extra, dir];
}

/** tftpd-hpa's arguments to serve `dir` on loopback:`port` in the foreground. */
export function tftpdHpaArgs(dir: string, extra: string[] = []): (port: number) => string[] {
  return (port) => ["--foreground", ...extra, "--address", `${LOOPBACK}:${port}`, "--secure", "--user", "root", dir];
}

/** Starts `cmd args(port)` on a free loopback port and resolves once it
 *  serves `probeFile` (a file in its root); a port taken in the meantime
 *  means another try on another port. */
export async function startTftpd(cmd: string, args: (port: number) => string[], probeFile: string): Promise<RunningTftpd> {
  let lastError = "";
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freeUdpPort(LOOPBACK);
    const child: ChildProcess = spawn(cmd, args(port), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    };
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (performance.now() < deadline && child.exitCode === null) {
      try {
        await tftpGet({ host: LOOPBACK, port, file: probeFile, timeoutSec: 0.1, retries: 2 });
        return { port, child, stop };
      } catch {
        // not listening yet
      }
    }
    await stop();
    lastError = `${cmd} on port ${port} did not serve ${probeFile} (exit ${child.exitCode}): ${stderr.trim()}`;
  }
  throw new Error(lastError);
}
