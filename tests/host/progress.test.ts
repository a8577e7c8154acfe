// The phone's live progress bars (host/log/progress.ts): on a terminal, one
// bar per component with percent, KiB, KiB/s and PFS or direct, redrawn in
// place, console lines printed above them whole; on anything else no bars
// at all (the plain lines, held to docs/CONSOLE.md by console-lines.test.ts).
// Judged by the bytes the terminal received, from a fake TTY stream and from
// a real pseudo-terminal (script(1)).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { TtyProgress, ttyProgressFor, type ComponentProgress } from "../../host/log/progress.js";

/** What a person's terminal shows as text: a cursor move up or to the
 *  first column starts a new line, other escape sequences (CSI) go. */
const visible = (s: string) => s.replace(/\x1b\[\d*[AG]/g, "\n").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "\n");

function fakeTty(): { stream: Writable & { isTTY: boolean; columns: number }; text: () => string } {
  let buf = "";
  const stream = Object.assign(new Writable({ write(c, _e, cb) { buf += c.toString(); cb(); } }), { isTTY: true, columns: 120 });
  return { stream, text: () => buf };
}

const comp = (name: string, held: number, size: number, viaPfs: boolean, done = false): ComponentProgress => ({ name, held, size, viaPfs, done });

test("a bar per component with percent, KiB, KiB/s and the way; lines go above the bars, whole", async () => {
  const tty = fakeTty();
  const plain: string[] = [];
  const p = new TtyProgress(tty.stream, (l) => plain.push(l));
  p.log("INF before the bars");
  p.update(0, [comp("jar41.sbn", 0, 102_400, true), comp("cnu41.sbn", 0, 51_200, false)]);
  p.update(1000, [comp("jar41.sbn", 51_200, 102_400, true), comp("cnu41.sbn", 10_240, 51_200, false)]);
  p.log("NOT a line while the bars are live");
  await new Promise((r) => setTimeout(r, 300)); // one redraw (BAR_FPS)
  p.update(2000, [comp("jar41.sbn", 102_400, 102_400, true, true), comp("cnu41.sbn", 51_200, 51_200, false, true)]);
  p.stop();
  p.log("INF after the bars");
  assert.deepEqual(plain, ["INF before the bars", "INF after the bars"], "no bars live: lines print plain, through out");
  const lines = visible(tty.text()).split("\n").map((l) => l.trimEnd());
  assert.ok(lines.includes("NOT a line while the bars are live"), `the line stands alone: ${JSON.stringify(lines)}`);
  // Halfway at 1 s: 51200 bytes in 1000 ms is 50.0 KiB/s.
  assert.ok(lines.some((l) => /^jar41\.sbn .* 50% +50 KiB +50\.0 KiB\/s PFS$/.test(l)), `jar41 halfway: ${JSON.stringify(lines)}`);
  assert.ok(lines.some((l) => /^cnu41\.sbn .* 20% +10 KiB +10\.0 KiB\/s direct$/.test(l)), "cnu41 at a fifth, direct");
  const last = lines.filter((l) => l !== "").slice(-2);
  assert.match(last[0], /^jar41\.sbn .* 100% +100 KiB .* PFS$/);
  assert.match(last[1], /^cnu41\.sbn .* 100% +50 KiB .* direct$/);
  assert.match(tty.text(), /\x1b\[1A/, "bars are redrawn in place (cursor up), not appended");
});

test("no bars on anything that is not a terminal", () => {
  const notTty = Object.assign(new Writable({ write(_c, _e, cb) { cb(); } }), { isTTY: false });
  assert.equal(ttyProgressFor(notTty, () => {}), null);
  assert.throws(() => new TtyProgress(notTty, () => {}), /needs a TTY/);
  assert.ok(ttyProgressFor(fakeTty().stream, () => {}) instanceof TtyProgress);
});

test("on a real pseudo-terminal (script) the bars are drawn; through a pipe nothing is", (t) => {
  const script = spawnSync("script", ["--version"], { encoding: "utf8" });
  if (script.error !== undefined) return t.skip(`script(1) is not installed (util-linux): ${script.error.message}`);
  const mod = fileURLToPath(new URL("../../host/log/progress.js", import.meta.url));
  const prog = `import(${JSON.stringify(mod)}).then(({ ttyProgressFor }) => {
    const p = ttyProgressFor(process.stdout, (l) => console.log(l));
    if (p === null) { console.log("PLAIN"); return; }
    p.update(0, [{ name: "apps41.sbn", held: 0, size: 4096, viaPfs: true, done: false }]);
    p.update(500, [{ name: "apps41.sbn", held: 4096, size: 4096, viaPfs: true, done: true }]);
    p.stop();
  });`;
  const pty = spawnSync("script", ["-qec", `${process.execPath} -e '${prog.replace(/'/g, `'\\''`)}'`, "/dev/null"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(pty.status, 0, `script: ${pty.stderr} ${pty.stdout}`);
  assert.match(visible(pty.stdout), /apps41\.sbn .* 100% +4 KiB .* PFS/, `on a pty: ${JSON.stringify(pty.stdout)}`);
  const pipe = spawnSync(process.execPath, ["-e", prog], { encoding: "utf8", timeout: 60_000 });
  assert.equal(pipe.stdout.trim(), "PLAIN");
});
