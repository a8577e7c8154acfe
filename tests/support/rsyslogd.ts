// Debian's rsyslogd as a test's log server: started on a free loopback UDP
// port with a configuration of our own (imudp only: no imuxsock, so no
// /dev/log, no imklog, nothing written under /var), writing every message it
// receives to two files in the test's folder: the datagram exactly as
// received (raw.log, %rawmsg%) and as rsyslog itself parsed it back into RFC
// 5424 (parsed.log, its RSYSLOG_SyslogProtocol23Format). A test then reads
// the server's own files, not our program's word.

import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freeUdpPort } from "./ports.js";

export const RSYSLOGD = "/usr/sbin/rsyslogd";
/** The probe that tells rsyslogd is listening: its HOSTNAME, kept out of lines(). */
const PROBE_HOST = "pfs-test-probe";
/** Tries at a port another process took first; then it is not a race. */
const START_ATTEMPTS = 3;
/** Probes before giving up on one start (one every PROBE_EVERY_MS): rsyslogd
 *  starts in well under a second; this allows a loaded test machine 20 s. */
const PROBE_TRIES = 200;
const PROBE_EVERY_MS = 100;

export interface RunningRsyslogd {
  port: number;
  /** Every datagram, as received, one per line. */
  rawFile: string;
  /** Every message as rsyslog parsed it (RFC 5424 again). */
  parsedFile: string;
  /** The raw lines so far, the probes left out. */
  lines(): string[];
  /** The parsed lines so far, the probes left out. */
  parsed(): string[];
  stop(): Promise<void>;
}

/** Why rsyslogd cannot run here, or null. */
export function rsyslogdMissing(): string | null {
  if (!existsSync(RSYSLOGD)) return `${RSYSLOGD} is not installed (tests/support/debian-deps.sh installs Debian's rsyslog)`;
  if (!existsSync("/usr/lib/x86_64-linux-gnu/rsyslog/imudp.so") && !existsSync("/usr/lib/rsyslog/imudp.so")) return "rsyslog's imudp module is missing";
  return null;
}

function config(dir: string, port: number): string {
  return `global(workDirectory="${dir}" maxMessageSize="8k")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${port}")
template(name="pfsRaw" type="string" string="%rawmsg%\\n")
action(type="omfile" file="${join(dir, "raw.log")}" template="pfsRaw")
action(type="omfile" file="${join(dir, "parsed.log")}" template="RSYSLOG_SyslogProtocol23Format")
`;
}

const readLines = (file: string) =>
  existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && !l.includes(PROBE_HOST)) : [];

/** Starts rsyslogd writing into `dir` (the caller's, removed by the caller);
 *  a string says why it cannot (the test skips with it). */
export async function startRsyslogd(dir: string): Promise<RunningRsyslogd | string> {
  const missing = rsyslogdMissing();
  if (missing !== null) return missing;
  let last = "";
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freeUdpPort();
    const conf = join(dir, "rsyslog.conf");
    writeFileSync(conf, config(dir, port));
    const child = spawn(RSYSLOGD, ["-n", "-f", conf, "-i", join(dir, "rsyslogd.pid")], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    if (await probe(port, join(dir, "raw.log"), child)) return handle(dir, port, child);
    last = output.trim().split("\n").slice(-2).join(" | ");
    await stopChild(child);
  }
  throw new Error(`rsyslogd did not start on a loopback UDP port after ${START_ATTEMPTS} tries: ${last}`);
}

/** Sends probes until one is in the raw file; false if rsyslogd exits or never writes it. */
async function probe(port: number, rawFile: string, child: ChildProcess): Promise<boolean> {
  const s = createSocket("udp4");
  try {
    for (let i = 0; i < PROBE_TRIES; i++) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      s.send(`<134>1 2026-01-01T00:00:00.000Z ${PROBE_HOST} probe - probe - ready?`, port, "127.0.0.1");
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
      if (existsSync(rawFile) && readFileSync(rawFile, "utf8").includes(PROBE_HOST)) return true;
    }
    return false;
  } finally {
    s.close();
  }
}

function handle(dir: string, port: number, child: ChildProcess): RunningRsyslogd {
  const rawFile = join(dir, "raw.log");
  const parsedFile = join(dir, "parsed.log");
  return { port, rawFile, parsedFile, lines: () => readLines(rawFile), parsed: () => readLines(parsedFile), stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
