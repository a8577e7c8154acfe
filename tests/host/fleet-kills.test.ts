// Power failures on real processes: a fleet of 32 phone processes upgrading
// through PFS while, every 0.7 to 2 s, a phone drawn at random from all 32 is
// killed with SIGKILL if it is still running, and started again on its own
// flash image, whatever the kill left there: a half-written slot, a load
// committed but not yet tried, a trial not yet confirmed. Three phones are
// also killed the moment they print their trial boot, so that some trials
// die before their confirm. It goes on until every phone has exited 0. Then
// every image is read back here, not taken from the phones: each must boot,
// confirmed, exactly the load the server's configuration names, component by
// component equal to the server's files. 0 bricks.
//
// `make test` runs the short version (the tiny load over a 64 kbit/s
// emulated WAN: 16 to 22 kills, 35 to 65 s here). PFS_KILLS_LONG=1
// (`make test-kills`) runs the real 8 MB cp7961-9.4.2 load over 1.5 Mbit/s,
// a kill every 1 to 4 s (27 kills, 90 s here).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFleetProcesses, type PhoneRun } from "../../host/phone/fleet.js";
import { Rng } from "../../host/sim/random.js";
import { assertBootsServerLoad, bootedLoad } from "../support/images.js";

const LONG = process.env.PFS_KILLS_LONG === "1";
const PHONES = 32;
const SETTINGS = LONG
  ? { load: "cp7961-9.4.2", wanKbps: 1500, killEveryMs: [1000, 4000], lingerSec: 5, tftpWindow: 8 }
  : { load: "tiny", wanKbps: 64, killEveryMs: [700, 2000], lingerSec: 4, tftpWindow: 1 };
/** A killed phone is powered up again this long after its process died. */
const RESTART_AFTER_MS = 500;
/** Kills stop after this many (the fleet must then finish on its own). */
const MAX_KILLS = LONG ? 200 : 40;
const SEED = 4051;
/** Phones also killed the moment they print their trial boot, before (or,
 *  the race decides, just after) they confirm it. */
const TRIAL_KILLS = 3;

test(`${PHONES} phone processes, a random one killed with SIGKILL every few seconds and restarted from its flash, all finish; 0 bricks`, { timeout: LONG ? 1_800_000 : 300_000 }, async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), "pfs-kills-test-"));
  t.after(() => rmSync(workDir, { recursive: true, force: true }));
  const rng = new Rng(SEED);
  const killed: string[] = [];
  // The phones as they show up (the fleet hands them out with their lines).
  const phones = new Set<PhoneRun>();
  let stop = false;
  let trialKills = 0;
  // The killer: every so often a phone drawn from all of them, killed if it
  // still runs. Drawn from all, not from those still running, so that every
  // phone meets the same rate of power failures and the last ones are not
  // hunted down.
  const killer = (async () => {
    while (!stop && killed.length < MAX_KILLS) {
      await new Promise((r) => setTimeout(r, rng.int(SETTINGS.killEveryMs[0], SETTINGS.killEveryMs[1])));
      const index = rng.int(0, PHONES - 1);
      const p = [...phones].find((x) => x.index === index);
      if (stop || p === undefined || p.exit !== null) continue;
      const phase = p.lines.at(-1)?.replace(/^\S+ \S+ DLoad: /, "").slice(0, 60) ?? "(starting)";
      if (p.kill()) killed.push(`${p.bind} at ${phase}`);
    }
  })();
  const started = Date.now();
  const r = await runFleetProcesses({
    workDir, phones: PHONES, models: 1, load: SETTINGS.load, port: 18051, lingerSec: SETTINGS.lingerSec, pfs: true,
    tftpWindow: SETTINGS.tftpWindow, wanKbps: SETTINGS.wanKbps, wanRttMs: 20, verbose: false, out: () => {},
    restartKilledAfterMs: RESTART_AFTER_MS,
    onLine: (p, line) => {
      phones.add(p);
      if (trialKills < TRIAL_KILLS && / DLoad: booted \S+ from slot [AB] on trial/.test(line) && p.kill()) {
        trialKills++;
        killed.push(`${p.bind} at its trial boot`);
      }
    },
  }).finally(() => {
    stop = true;
  });
  await killer;
  const wallMs = Date.now() - started;

  assert.ok(killed.length >= 8, `only ${killed.length} kills: ${killed.join("; ")}`);
  const failed = r.phones.filter((p) => p.exit !== 0);
  assert.deepEqual(failed.map((p) => `${p.bind} exit ${p.exit}: ${p.lines.filter((l) => !/^(DBG|INF) /.test(l)).slice(-12).join(" | ")}`), [], "every phone finished");
  // Judged by the images: each boots the server's load, confirmed.
  let bricks = 0;
  for (const p of r.phones) {
    const b = bootedLoad(p.flash) as ReturnType<typeof bootedLoad> & { state?: string };
    if (!b.ok) bricks++;
    assertBootsServerLoad(p.flash, p.mac, join(workDir, "tftp"), p.bind);
    assert.equal(b.state, "active", `${p.bind}: the load is confirmed, not left on trial`);
  }
  assert.equal(bricks, 0);
  const restarts = r.phones.reduce((n, p) => n + p.starts - 1, 0);
  // A revert: a power-up on the old load right after a power-up on trial.
  const reverted = r.phones.reduce((n, p) => {
    const boots = p.lines.filter((l) => / DLoad: booted /.test(l));
    return n + boots.filter((l, i) => i > 0 && / on trial \(/.test(boots[i - 1]) && !/ on trial \(/.test(l) && /never confirmed \(reverted\)/.test(l)).length;
  }, 0);
  const trials = r.phones.reduce((n, p) => n + p.lines.filter((l) => /came up on trial/.test(l)).length, 0);
  assert.equal(restarts, killed.length, "every kill was followed by a restart");
  t.diagnostic(`${PHONES} phones, load ${SETTINGS.load}: ${killed.length} kills, ${restarts} restarts, ${trials} trials confirmed, ${reverted} power-ups reverted a trial; all finished in ${(wallMs / 1000).toFixed(1)} s; ${bricks} bricks`);
  t.diagnostic(`kills: ${killed.join("; ")}`);
});
