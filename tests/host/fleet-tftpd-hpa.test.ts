// 16 phones of 2 models upgrade through PFS from tftpd-hpa, and tftpd-hpa's
// own log (its syslog lines, caught on /dev/log) shows exactly one read
// request per component per model: no phone but a root contacted the server.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetPhones, runFleetProcesses } from "../../host/phone/fleet.js";
import { makeTftpRoot } from "../../host/load/tftp-root.js";

/** A syslog socket of our own at /dev/log: tftpd-hpa logs only there. */
const SYSLOG_LISTENER = `
import os, socket, sys
path = "/dev/log"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
print("ready", flush=True)
while True:
    data = s.recv(65536)
    print(data.decode("utf-8", "replace"), flush=True)
`;
import { IN_TFTPD, RunningTftpd, startTftpd, tftpdHpaArgs } from "../support/tftpd.js";
import { assertBootsServerLoad } from "../support/images.js";

function whyNot(): string | null {
  if (process.getuid?.() !== 0) return "needs root (to start tftpd-hpa and listen on /dev/log)";
  if (!existsSync(IN_TFTPD)) return "tftpd-hpa is not unpacked (tests/support/debian-deps.sh does it as root)";
  if (spawnSync("python3", ["-c", "pass"]).status !== 0) return "needs python3 to listen on /dev/log";
  if (existsSync("/dev/log")) return "/dev/log belongs to a running syslog: tftpd-hpa's lines cannot be caught here";
  return null;
}

test("16 phones of 2 models upgrade from tftpd-hpa; its log shows one read per component per model", async (t) => {
  const reason = whyNot();
  if (reason !== null) {
    t.skip(reason);
    return;
  }
  const lines: string[] = [];
  const syslog: ChildProcess = spawn("python3", ["-c", SYSLOG_LISTENER], { stdio: ["ignore", "pipe", "inherit"] });
  let tftpd: RunningTftpd | null = null;
  const root = mkdtempSync(join(tmpdir(), "pfs-hpa-"));
  const images = mkdtempSync(join(tmpdir(), "pfs-hpa-images-"));
  try {
    await new Promise<void>((resolve, reject) => {
      syslog.stdout!.on("data", (d: Buffer) => {
        for (const l of d.toString().split("\n")) if (l !== "") lines.push(l);
        if (lines.includes("ready")) resolve();
      });
      syslog.on("exit", () => reject(new Error("the syslog listener stopped")));
    });
    chmodSync(root, 0o755);
    const phones = fleetPhones(16, 2);
    for (const model of ["CP-7961G", "CP-7941G"]) {
      makeTftpRoot({ outDir: root, model, preset: "tiny", macs: phones.filter((p) => p.model === model).map((p) => p.mac), pfs: { enterprise: true } });
    }
    for (const f of readdirSync(root)) chmodSync(join(root, f), 0o644); // tftpd-hpa serves world-readable files only
    // Up once it serves the default config (a read its log shows, not counted below).
    tftpd = await startTftpd(IN_TFTPD, tftpdHpaArgs(root, ["--verbose"]), "XMLDefault.cnf.xml");
    const port = tftpd.port;
    const r = await runFleetProcesses({
      workDir: images, phones: 16, models: 2, load: "tiny", tftp: { host: "127.0.0.1", port }, root, port: 17051, lingerSec: 3, pfs: true,
      tftpWindow: 1, verbose: false, out: () => {},
    });
    assert.deepEqual(r.phones.filter((p) => p.exit !== 0).map((p) => `${p.bind}: ${p.lines.slice(-2).join(" | ")}`), []);
    for (const p of r.phones) assertBootsServerLoad(p.flash, p.mac, root, p.bind);
    await new Promise((res) => setTimeout(res, 300));
    // tftpd-hpa's lines: "RRQ from 127.0.0.5 filename jar41sccp.tiny.sbn".
    const reads = new Map<string, number>();
    for (const l of lines) {
      const m = /RRQ from (\S+) filename (\S+)/.exec(l);
      if (m !== null) reads.set(m[2], (reads.get(m[2]) ?? 0) + 1);
    }
    const components = [...reads.keys()].filter((f) => f.endsWith(".sbn"));
    assert.equal(components.length, 3, `tftpd-hpa logged: ${[...reads.entries()].map(([f, n]) => `${f}=${n}`).join(", ")}`);
    for (const f of components) {
      assert.equal(reads.get(f), 2, `${f} was read ${reads.get(f)} times`);
      assert.equal(reads.get(`${f}.blk`), 2, `${f}.blk`);
    }
    // Every phone read its own configuration and the index itself.
    assert.equal([...reads.keys()].filter((f) => f.startsWith("SEP")).length, 16);
  } finally {
    await tftpd?.stop();
    syslog.kill("SIGTERM");
    rmSync("/dev/log", { force: true });
    rmSync(root, { recursive: true, force: true });
    rmSync(images, { recursive: true, force: true });
  }
});
