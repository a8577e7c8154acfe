// The real fleet under faults: phone processes killed with SIGKILL in the
// middle of a transfer (a root, and a parent with children), and a phone
// hammered with random and mutated datagrams and stream frames while it
// upgrades. Everybody else must finish with the new load checked and active.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFleetProcesses, PhoneRun } from "../../host/phone/fleet.js";
import { Rng } from "../../host/sim/random.js";
import { assertBootsServerLoad } from "../support/images.js";

/** Every phone not killed exited 0 and its image boots exactly the load the
 *  server's files make up (read back here, not taken from the phone). */
function survivorsOk(phones: PhoneRun[], workDir: string): void {
  const bad = phones.filter((p) => !p.killed && p.exit !== 0);
  assert.deepEqual(bad.map((p) => `${p.bind} exit ${p.exit}: ${p.lines.slice(-3).join(" | ")}`), []);
  for (const p of phones) if (!p.killed) assertBootsServerLoad(p.flash, p.mac, join(workDir, "tftp"), p.bind);
}

const workDirFor = (t: { after: (fn: () => void) => void }) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-faults-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test("kill -9 of a root and of a parent mid-transfer: every other phone finishes and verifies", async (t) => {
  const workDir = workDirFor(t);
  // The real load over an emulated WAN, so that transfers last long enough
  // to be cut (about 20 s here).
  const killed: string[] = [];
  let rootKilled = false;
  let parentKilled = false;
  const roots = new Set<string>();
  const r = await runFleetProcesses({
    workDir, phones: 10, models: 1, load: "cp7961-9.4.2", port: 16051, lingerSec: 5, pfs: true, tftpWindow: 8,
    wanKbps: 4000, wanRttMs: 20, verbose: false, out: () => {},
    onLine: (p, line) => {
      if (/@@@HROOT/.test(line)) roots.add(p.bind);
      const progress = / (\d+)% \d+ KB PFS$/.exec(line);
      if (progress === null || Number(progress[1]) < 20 || Number(progress[1]) >= 80) return;
      if (!rootKilled && roots.has(p.bind)) {
        rootKilled = true;
        killed.push(`root ${p.bind}`);
        p.kill();
      } else if (!parentKilled && !roots.has(p.bind) && p.lines.some((l) => /\|child=/.test(l))) {
        parentKilled = true;
        killed.push(`parent ${p.bind}`);
        p.kill();
      }
    },
  });
  assert.ok(rootKilled, "no root was killed mid-transfer");
  assert.ok(parentKilled, "no parent was killed mid-transfer");
  survivorsOk(r.phones, workDir);
  assert.equal(r.phones.filter((p) => p.killed).length, 2, killed.join(", "));
});

test("a phone hammered with random and mutated datagrams and frames still upgrades", async (t) => {
  const workDir = workDirFor(t);
  const rng = new Rng(4051);
  let sent = 0;
  let stop = false;
  const udp = createSocket({ type: "udp4", reuseAddr: true });
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", () => resolve()));
  udp.setBroadcast(true);
  const PORT = 16052;
  // Valid-looking heads to mutate: the datagram header ("PF", version 1) and
  // a JOIN frame's first bytes.
  const head = Uint8Array.from([0x50, 0x46, 0x01, 0x03, 0, 0, 0, 0]);
  const hammer = async () => {
    while (!stop) {
      for (let i = 0; i < 50; i++) {
        const len = rng.int(0, 200);
        const b = new Uint8Array(len);
        for (let k = 0; k < len; k++) b[k] = rng.int(0, 255);
        if (len >= 8 && rng.chance(0.5)) b.set(head.subarray(0, Math.min(8, len)));
        udp.send(b, PORT, rng.chance(0.5) ? "127.0.0.2" : "127.255.255.255");
        sent++;
      }
      if (rng.chance(0.3)) {
        const s = connect({ host: "127.0.0.2", port: PORT, localAddress: "127.0.0.1" });
        s.on("error", () => {});
        const len = rng.int(1, 400);
        const b = new Uint8Array(len);
        for (let k = 0; k < len; k++) b[k] = rng.int(0, 255);
        if (rng.chance(0.5)) b.set([0x00, 0x10, 0x10, 0x50, 0x46, 0x01].slice(0, len));
        s.end(b);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const hammering = hammer();
  const r = await runFleetProcesses({
    workDir, phones: 4, models: 1, load: "tiny", port: PORT, lingerSec: 2, pfs: true, tftpWindow: 1, verbose: false, out: () => {},
    wanKbps: 400, wanRttMs: 20,
  });
  stop = true;
  await hammering;
  udp.close();
  assert.ok(sent >= 2000, `only ${sent} datagrams sent`);
  survivorsOk(r.phones, workDir);
  const target = r.phones.find((p) => p.bind === "127.0.0.2")!;
  assert.ok(target.lines.some((l) => /Dropped malformed/.test(l)), "the target never saw a malformed input");
});
