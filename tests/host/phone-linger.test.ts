// How long a real phone lingers after its upgrade (issue 12, section 5):
// without --linger, its board's core.lingerMs (read here from the board file
// itself: 10 minutes for third-gen), not a fixed figure; --linger overrides
// it. The phone without --linger is killed once it said so: nobody waits
// ten minutes in a test.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadBoard } from "../../host/boards.js";
import { coreFigures } from "../../host/phone/phone.js";
import { AbStore } from "../../host/flash/ab-store.js";
import { FileDevice } from "../../host/flash/file-device.js";
import { boardLayout, layoutBytes } from "../../host/flash/layout.js";
import { getPreset, presetFiles } from "../../host/load/presets.js";
import { makeTftpRoot } from "../../host/load/tftp-root.js";
import { TftpServer } from "../../host/tftp/server.js";
import { freeUdpPort } from "../support/ports.js";

const PFS_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../../../bin/pfs.js");
const MAC = "001BD4000071";
const BOARD = "third-gen";
const LINGERING = /^INF \S+ DLoad: lingering (\S+) s to serve peers$/;
const TEST_TIMEOUT_MS = 60_000;

function factoryFlash(path: string): void {
  const layout = boardLayout(loadBoard(BOARD));
  const dev = FileDevice.create(path, layout.sectorBytes, Math.ceil(layoutBytes(layout) / layout.sectorBytes));
  AbStore.format(dev, layout, { loadName: "SCCP41.FACTORY", components: presetFiles(getPreset("tiny")).map((f) => ({ name: f.name, bytes: f.content })) });
}

/** Runs a phone until it exits, or kills it at its lingering line when
 *  `killAtLinger`; returns its exit code (null when killed) and lines. */
function phone(args: string[], killAtLinger: boolean): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PFS_BIN, "phone", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    let buf = "";
    const take = (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (killAtLinger && LINGERING.test(line)) child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code) => resolve({ code, lines }));
  });
}

test("a phone lingers its board's lingerMs by default, and --linger seconds when given", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "pfs-linger-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  makeTftpRoot({ outDir: root, model: "CP-7961G", preset: "tiny", macs: [MAC], pfs: { enterprise: true } });
  const server = new TftpServer({ root, host: "127.0.0.1", port: 0 });
  const { port } = await server.start();
  t.after(() => server.stop());
  const common = ["--mac", MAC, "--model", "CP-7961G", "--tftp", `127.0.0.1:${port}`, "--bind", "127.0.0.2", "--board", BOARD];

  const boardMs = loadBoard(BOARD).core.lingerMs;
  assert.ok(boardMs !== undefined && boardMs > 0, `board ${BOARD} names no lingerMs`);
  factoryFlash(join(dir, "a.flash"));
  const byBoard = await phone([...common, "--port", String(await freeUdpPort()), "--flash", join(dir, "a.flash")], true);
  const said = byBoard.lines.map((l) => LINGERING.exec(l)).find((m) => m !== null);
  assert.ok(said !== undefined, `no lingering line: ${byBoard.lines.slice(-3).join(" | ")}`);
  assert.equal(Number(said[1]), boardMs / 1000);

  factoryFlash(join(dir, "b.flash"));
  const given = await phone([...common, "--port", String(await freeUdpPort()), "--flash", join(dir, "b.flash"), "--linger", "0.5"], false);
  assert.equal(given.code, 0, given.lines.slice(-3).join(" | "));
  assert.ok(given.lines.some((l) => LINGERING.exec(l)?.[1] === "0.5"), given.lines.filter((l) => / lingering /.test(l)).join(" | "));
});

test("a --linger longer than the board's stretches the core's linger too (else it would stop serving first); a shorter one leaves the board's", () => {
  const board = loadBoard(BOARD);
  const boardMs = board.core.lingerMs!;
  assert.equal(coreFigures(board, boardMs / 1000 + 60).lingerMs, boardMs + 60_000);
  assert.equal(coreFigures(board, 5).lingerMs, boardMs);
  assert.equal(coreFigures(board, undefined).lingerMs, boardMs);
  // Nothing else of the board's figures changes.
  assert.deepEqual({ ...coreFigures(board, boardMs / 1000 + 60), lingerMs: boardMs }, board.core);
});
