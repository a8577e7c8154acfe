// What the core's own assertions cost (docs/DESIGN.md, "The core checks
// itself"). One simulator run is recorded as a trace (docs/TRACE.md); its
// inputs are then fed, call for call, into fresh cores of each build:
//   release      build/pfs.wasm: asc -O3z + wasm-opt, assertions kept
//   no-assert    the same source and flags with --noAssert
//   debug        build/pfs.debug.wasm: every whole-table check as well
// The loop does what a host must and nothing more (inbox copies, flash-read
// views, outboxClear), so the time is the core's (and the host's SHA-256
// it calls). Runs alternate between the builds; the CPU time of each is
// taken, and the median and the fastest reported: this machine is shared.
//
//   make bench-asserts, or: node build/js/bench/core-asserts.js [--runs N]
// Two runs: 16 phones relaying the mcu-1.0 load (22.6 MB through the cores,
// every block hashed: the relay's throughput) on the microcontroller
// board's figures, and 200 phones electing and building trees for 3 files
// under 20 % loss (no bytes: the control path alone, where assertions weigh
// most).

import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as A from "../host/core/abi.js";
import { defaultWasmPath, Exports, instantiateCore } from "../host/core/core.js";
import { runFleet, FleetOptions } from "../host/sim/fleet.js";
import { records, TraceRecord } from "../host/trace/reader.js";
import { TraceRecorder } from "../host/trace/recorder.js";
import { replayV8 } from "../host/trace/replay-v8.js";

const RUNS: Array<Partial<FleetOptions>> = [
  { phones: 16, load: "mcu-1.0", board: "mps2-an385", seed: 1 },
  { phones: 200, files: 3, loss: 0.2, seed: 7 },
];

/** Feeds every input of the trace into fresh cores of `module`; returns the
 *  CPU time it took, ms (CPU, not wall: other processes on this shared
 *  machine then cost nothing). */
function feed(recs: TraceRecord[], module: WebAssembly.Module): number {
  const t0 = process.cpuUsage();
  let x: Exports | null = null;
  // OUT_FLASH_READ views by handle/tag: where a T_FLASH_READ's bytes go.
  const reads = new Map<string, number>();
  for (const r of recs) {
    const d = r.dv;
    if (r.kind === A.T_CORE) {
      x = instantiateCore(module);
      const n = d.getUint32(0, true);
      const words = new Uint32Array(x.configWords());
      for (let i = 0; i < n; i++) words[i] = d.getUint32(4 + 4 * i, true);
      new Uint32Array(x.memory.buffer, x.configPtr(), words.length).set(words);
      x.init();
      reads.clear();
      continue;
    }
    if (x === null) continue;
    const now = r.body.length >= 8 ? d.getFloat64(0, true) : 0;
    const mem = () => new Uint8Array(x!.memory.buffer);
    switch (r.kind) {
      case A.T_NEED: {
        const m = d.getUint32(24, true), f = d.getUint32(28, true), h = d.getUint32(32, true);
        mem().set(r.body.subarray(36, 36 + m + f + h), x.inboxPtr());
        x.need(now, m, f, d.getUint32(12, true), d.getUint32(16, true), d.getUint32(20, true));
        break;
      }
      case A.T_XID:
        mem().set(r.body.subarray(12), x.inboxPtr());
        x.xidOf(d.getUint32(4, true), d.getUint32(8, true));
        break;
      case A.T_SET_HELD: x.setHeld(now, d.getInt32(12, true), d.getUint32(16, true), d.getUint32(20, true)); break;
      case A.T_RELEASE: x.release(now, d.getInt32(12, true)); break;
      case A.T_DATAGRAM:
        mem().set(r.body.subarray(16, 16 + Math.min(r.body.length - 16, x.inboxBytes())), x.inboxPtr());
        x.onDatagram(now, d.getUint32(8, true), d.getInt32(12, true));
        break;
      case A.T_ACCEPT: x.onStreamAccept(now, d.getUint32(12, true)); break;
      case A.T_CONNECTED: x.onStreamConnected(now, d.getInt32(8, true)); break;
      case A.T_STREAM_DATA:
        mem().set(r.body.subarray(20), x.inboxPtr());
        x.onStreamData(now, d.getInt32(12, true), d.getInt32(16, true));
        break;
      case A.T_RX: {
        const h = d.getInt32(12, true);
        x.rxWindow(h);
        mem().set(r.body.subarray(16), x.rxPtr());
        x.onStreamRx(now, h, r.body.length - 16);
        break;
      }
      case A.T_WRITE_DONE: x.onWriteDone(now, d.getInt32(8, true), d.getInt32(12, true)); break;
      case A.T_FLASH_WRITTEN: x.onFlashWritten(now, d.getInt32(8, true), d.getInt32(12, true)); break;
      case A.T_FLASH_READ: {
        const h = d.getInt32(8, true), tag = d.getUint32(12, true);
        const ptr = reads.get(`${h}/${tag}`);
        if (ptr !== undefined && r.body.length > 20) mem().set(r.body.subarray(20), ptr);
        x.onFlashRead(now, h, tag, d.getInt32(16, true));
        break;
      }
      case A.T_CLOSED: x.onStreamClosed(now, d.getInt32(8, true)); break;
      case A.T_TIMER: x.onTimer(now); break;
      case A.T_DEADLINE: x.nextDeadlineMs(); break;
      case A.T_DRAIN: {
        // The host's walk: only the flash reads matter for what comes next.
        const base = x.outboxPtr(), len = x.outboxLen();
        const dv = new DataView(x.memory.buffer);
        for (let off = 0; off + A.OUT_HEADER_BYTES <= len;) {
          const at = base + off;
          const plen = dv.getUint16(at + 2, true);
          if (dv.getUint8(at) === A.OUT_FLASH_READ) {
            const p = at + A.OUT_HEADER_BYTES;
            reads.set(`${dv.getUint32(p + 8, true)}/${dv.getUint32(p + 12, true)}`, dv.getUint32(p, true));
          }
          off += A.OUT_HEADER_BYTES + ((plen + 3) & ~3);
        }
        x.outboxClear();
        break;
      }
      case A.T_END_CORE: x = null; break;
      default: break;
    }
  }
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function main(argv: string[]): void {
  const at = argv.indexOf("--runs");
  const runs = at >= 0 ? Number(argv[at + 1]) : 15;
  for (const run of RUNS) measure(run, runs);
}

function measure(run: Partial<FleetOptions>, runs: number): void {
  const dir = mkdtempSync(join(tmpdir(), "pfs-core-asserts-"));
  try {
    const tracer = new TraceRecorder();
    const r = runFleet({ ...run, tracer });
    if (!r.ok) throw new Error(`the recorded run failed: ${r.errors.join("; ")}`);
    const file = join(dir, "run.trace");
    const sum = tracer.write(file);
    const bytes = readFileSync(file);
    const recs = [...records(bytes)];
    const builds: Array<[string, string]> = [
      ["release", defaultWasmPath()],
      ["no-assert", defaultWasmPath().replace(/pfs\.wasm$/, "pfs.noassert.wasm")],
      ["debug", defaultWasmPath(true)],
    ];
    const modules = builds.map(([name, path]) => [name, new WebAssembly.Module(readFileSync(path))] as const);
    // Both release builds must answer exactly as recorded: assertions change nothing.
    for (const [name, m] of modules) {
      const got = replayV8(bytes, m);
      if (got.digest !== sum.digest) throw new Error(`${name} replays to ${got.digest}, the recording is ${sum.digest}`);
    }
    const times = new Map<string, number[]>(modules.map(([n]) => [n, []]));
    // V8 tiers a module up as it runs: a few rounds first that count for
    // nothing, then rounds in a rotating order (no build always goes first).
    for (let i = 0; i < 3; i++) for (const [, m] of modules) feed(recs, m);
    for (let i = 0; i < runs; i++) {
      for (let k = 0; k < modules.length; k++) {
        const [name, m] = modules[(i + k) % modules.length];
        times.get(name)!.push(feed(recs, m));
      }
    }
    const baseTimes = times.get("no-assert")!;
    const baseMin = Math.min(...baseTimes);
    console.log(`\ntrace: ${JSON.stringify(run)}, ${recs.length} records, ${sum.records} outbox records, ${bytes.length} bytes; ${runs} rounds`);
    // Each round's builds ran back to back under the same load of the
    // machine: the median of the per-round ratios is the steadiest figure.
    console.log("| build | median CPU ms | fastest CPU ms | vs no-assert, median of per-round ratios | vs no-assert, fastest |");
    console.log("|---|--:|--:|--:|--:|");
    for (const [name] of modules) {
      const t = times.get(name)!;
      const ratio = median(t.map((ms, i) => ms / baseTimes[i]));
      const min = Math.min(...t);
      console.log(`| ${name} | ${median(t).toFixed(1)} | ${min.toFixed(1)} | ${((ratio - 1) * 100).toFixed(1)} % | ${((min / baseMin - 1) * 100).toFixed(1)} % |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2));
