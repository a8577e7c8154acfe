// A real-socket fleet whose configurations name nginx (Debian's, started
// here on a free high loopback port with its own configuration) as the HTTP
// load server, judged by nginx's own access log:
//  a. the root of a component is killed with SIGKILL mid-file (and powered
//     up again): the fleet finishes, every image boots the server's load,
//     and nginx sent each component's bytes at most 1.01 x its size in all
//     (the successor asked with Range for what nobody held), none of them
//     over TFTP;
//  b. nginx is down (stopped before the fleet starts): the phones say HTTP
//     was refused and the fleet finishes over TFTP from our server, whose
//     own record shows each component read whole.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFleetProcesses, type PhoneRun } from "../../host/phone/fleet.js";
import { getPreset } from "../../host/load/presets.js";
import { assertBootsServerLoad } from "../support/images.js";
import { nginxMissing, startNginx, type NginxAccess } from "../support/nginx.js";
import { freeUdpPort } from "../support/ports.js";

const LOAD = "cp7961-9.4.2";
const PHONES = 8;
/** nginx's rate per connection: the 3 MB component takes about 3 s, long
 *  enough to kill its root mid-file on loopback. */
const LIMIT_RATE_BYTES_PER_SEC = 1 << 20;
/** The component whose root is killed, and between which percentages. */
const VICTIM = "apps41.9-4-2ES26.sbn";
const KILL_FROM_PERCENT = 25;
const KILL_TO_PERCENT = 75;
/** The issue's bound: what nginx sends of a component, in all. */
const WAN_BYTES_MAX_RATIO = 1.01;
const PROBE = "probe.txt";

const components = getPreset(LOAD).components.map((c) => ({ file: c.stem, sizeBytes: c.sizeBytes }));

function workDirFor(t: { after: (fn: () => void | Promise<void>) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "pfs-nginx-test-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The fleet writes its root here (runFleetProcesses: <workDir>/tftp);
  // nginx serves it from before, so that its URL can go into the configs.
  mkdirSync(join(dir, "tftp"));
  writeFileSync(join(dir, "tftp", PROBE), "nginx is up\n");
  return dir;
}

function allFinished(phones: PhoneRun[], workDir: string): void {
  const bad = phones.filter((p) => p.exit !== 0);
  assert.deepEqual(bad.map((p) => `${p.bind} exit ${p.exit}: ${p.lines.filter((l) => !/^DBG /.test(l)).slice(-4).join(" | ")}`), []);
  for (const p of phones) assertBootsServerLoad(p.flash, p.mac, join(workDir, "tftp"), p.bind);
}

/** Body bytes nginx sent per file, from its access log. */
function sentPerFile(log: NginxAccess[]): Map<string, number> {
  const sent = new Map<string, number>();
  for (const e of log) {
    const file = e.uri.replace(/^\//, "").split("?")[0];
    if (e.method === "GET") sent.set(file, (sent.get(file) ?? 0) + e.bodyBytes);
  }
  return sent;
}

test("nginx as the HTTP load server, the root killed mid-file: the fleet finishes; nginx's log shows each component sent at most 1.01 x its size", { timeout: 300_000 }, async (t) => {
  const why = nginxMissing();
  if (why !== undefined) return t.skip(why);
  const workDir = workDirFor(t);
  const nginx = await startNginx(join(workDir, "tftp"), PROBE, { limitRateBytesPerSec: LIMIT_RATE_BYTES_PER_SEC });
  t.after(() => nginx.stop());
  // Who fetches which component from the server: "<file>: fetching from the
  // server at byte N over HTTP from <url>".
  const fetching = new Map<string, string>();
  let killed: string | undefined;
  const r = await runFleetProcesses({
    workDir, phones: PHONES, models: 1, load: LOAD, port: await freeUdpPort(), lingerSec: 5, pfs: true, tftpWindow: 8,
    httpServer: nginx.url, restartKilledAfterMs: 500, verbose: false, out: () => {},
    onLine: (p, line) => {
      const f = / (\S+): fetching from the server at byte \d+ over HTTP from /.exec(line);
      if (f !== null) fetching.set(f[1], p.bind);
      const m = / DLoad: (\S+) +(\d+)% \d+ KB (?:PFS|direct)$/.exec(line);
      if (killed !== undefined || m === null || m[1] !== VICTIM || fetching.get(VICTIM) !== p.bind) return;
      const percent = Number(m[2]);
      if (percent >= KILL_FROM_PERCENT && percent < KILL_TO_PERCENT && p.kill()) killed = `${p.bind} at ${percent}% of ${VICTIM}`;
    },
  });
  assert.ok(killed !== undefined, `the root of ${VICTIM} was never seen mid-file (fetchers: ${[...fetching].map(([f, b]) => `${f}=${b}`).join(", ")})`);
  allFinished(r.phones, workDir);

  const log = nginx.accessLog();
  const sent = sentPerFile(log);
  // What nginx logged, first: a failure below is read against it.
  t.diagnostic(`killed ${killed}; nginx: ${log.filter((e) => e.uri !== `/${PROBE}`).map((e) => `${e.client} ${e.uri.slice(1)} ${e.status} ${e.range ?? "whole"} ${e.bodyBytes} B`).join("; ")}`);
  for (const c of components) {
    const bytes = sent.get(c.file) ?? 0;
    assert.ok(bytes >= c.sizeBytes, `${c.file}: nginx sent ${bytes} of ${c.sizeBytes} bytes: the load came over HTTP`);
    assert.ok(bytes <= WAN_BYTES_MAX_RATIO * c.sizeBytes, `${c.file}: nginx sent ${bytes} bytes, ${(bytes / c.sizeBytes).toFixed(4)} x its size ${c.sizeBytes}`);
  }
  // The successor resumed: a request for the victim from a byte past 0.
  const victim = log.filter((e) => e.uri === `/${VICTIM}`);
  assert.ok(victim.some((e) => e.range !== undefined && /^bytes=[1-9]\d*-/.test(e.range) && e.status === 206), `${VICTIM}'s requests: ${victim.map((e) => `${e.status} ${e.range ?? "whole"} ${e.bodyBytes}`).join("; ")}`);
  // And nothing of a component came over TFTP.
  const tftp = r.reads.filter((x) => components.some((c) => c.file === x.file) && x.bytes > 0);
  assert.deepEqual(tftp, [], "no component over TFTP");
  t.diagnostic(`nginx sent ${components.map((c) => `${c.file} ${((sent.get(c.file) ?? 0) / c.sizeBytes).toFixed(4)}x`).join(", ")}`);
});

test("nginx down before the fleet starts: the phones say HTTP was refused and the fleet finishes over TFTP", { timeout: 300_000 }, async (t) => {
  const why = nginxMissing();
  if (why !== undefined) return t.skip(why);
  const workDir = workDirFor(t);
  const nginx = await startNginx(join(workDir, "tftp"), PROBE);
  const url = nginx.url;
  await nginx.stop();
  const r = await runFleetProcesses({
    workDir, phones: PHONES, models: 1, load: "tiny", port: await freeUdpPort(), lingerSec: 3, pfs: true, tftpWindow: 8,
    httpServer: url, verbose: false, out: () => {},
  });
  allFinished(r.phones, workDir);
  const refused = r.phones.flatMap((p) => p.lines.filter((l) => / over HTTP failed \(refused: /.test(l)));
  assert.ok(refused.length > 0, "a root said HTTP was refused");
  // Our TFTP server's own record: each component read whole at least once.
  for (const c of getPreset("tiny").components) {
    const whole = r.reads.filter((x) => x.file === c.stem && x.bytes === c.sizeBytes);
    assert.ok(whole.length >= 1, `${c.stem}: TFTP reads ${JSON.stringify(r.reads.filter((x) => x.file === c.stem))}`);
  }
  // nginx served nothing but the probe before it went down.
  assert.deepEqual(nginx.accessLog().map((e) => e.uri), [`/${PROBE}`]);
  t.diagnostic(`${refused.length} refusal lines, e.g. ${refused[0]}`);
});
