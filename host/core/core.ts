// Loads pfs.wasm and wraps its ABI for the Node hosts (phone, simulator,
// tests). One compiled module serves any number of instances: each instance
// is one phone's core with its own linear memory.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import {
  CFG, CoreConfig, HASH_BYTES, OUT_CLOSE, OUT_CONNECT, OUT_DATAGRAM, OUT_EVENT, OUT_FETCH, OUT_FLASH_READ, OUT_FLASH_WRITE,
  OUT_HEADER_BYTES, OUT_WRITE, OUT_WRITE_REF,
} from "./abi.js";

/** Sees every call a host makes into one core and what the core answered
 *  (host/trace/recorder.ts writes them to a trace). Each method runs right
 *  after its call; `drain` runs before the sink sees the records. */
export interface CoreTap {
  init(words: Uint32Array, rc: number): void;
  need(nowMs: number, model: Uint8Array, file: Uint8Array, hash: Uint8Array | undefined, size: number, held: number, flags: number, ret: number): void;
  xid(model: Uint8Array, file: Uint8Array, ret: number): void;
  setHeld(nowMs: number, slot: number, held: number, flags: number, ret: number): void;
  release(nowMs: number, slot: number, ret: number): void;
  datagram(nowMs: number, src: number, len: number, written: Uint8Array): void;
  accept(nowMs: number, peer: number, ret: number): void;
  connected(nowMs: number, handle: number): void;
  rx(nowMs: number, handle: number, window: number, bytes: Uint8Array): void;
  writeDone(nowMs: number, handle: number, len: number): void;
  flashWritten(nowMs: number, slot: number, len: number): void;
  /** Runs before the core sees the call: the staging view still holds
   *  exactly what the host put there. */
  flashRead(nowMs: number, handle: number, tag: number, len: number): void;
  closed(nowMs: number, handle: number): void;
  timer(nowMs: number): void;
  deadline(ms: number): void;
  drain(): void;
}

/** What the core asks of its host; byte views are valid only during the call. */
export interface CoreSink {
  datagram(dst: number, bytes: Uint8Array): void;
  connect(handle: number, addr: number): void;
  write(handle: number, bytes: Uint8Array): void;
  close(handle: number): void;
  event(xid: number, code: number, n: number, a: number, b: number): void;
  /** Fetch [from, total) of "<file>.blk" then "<file>" from the server and
   *  feed it to stream `handle` (skipping what comes before `from`). */
  fetch(slot: number, handle: number, from: number, total: number): void;
  /** Write `bytes` (a view of core memory) to flash at `offset` of the
   *  slot's transfer space; report with flashWritten() when done. */
  flashWrite(slot: number, offset: number, bytes: Uint8Array): void;
  /** Read flash at `offset` into `into` (a writable view of core memory);
   *  report with flashRead(handle, tag, n), handing back the record's tag. */
  flashRead(slot: number, offset: number, into: Uint8Array, handle: number, tag: number): void;
  /** Send `bytes` (a view of core memory, zero copy) on stream `handle`;
   *  report with writeDone() once the socket is done with it. */
  writeRef(handle: number, bytes: Uint8Array): void;
}

export interface Exports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  configPtr(): number;
  configWords(): number;
  init(): number;
  inboxPtr(): number;
  inboxBytes(): number;
  xidOf(modelLen: number, fileLen: number): number;
  need(nowMs: number, modelLen: number, fileLen: number, sizeBytes: number, heldBytes: number, flags: number): number;
  rxWindow(handle: number): number;
  rxPtr(): number;
  onStreamRx(nowMs: number, handle: number, len: number): void;
  onWriteDone(nowMs: number, handle: number, len: number): void;
  onFlashWritten(nowMs: number, slot: number, len: number): void;
  onFlashRead(nowMs: number, handle: number, tag: number, len: number): void;
  hierHeld(slot: number): number;
  hierTotal(slot: number): number;
  hierVerified(slot: number): number;
  corruptBlocks(): number;
  refetchedBytes(): number;
  blockBytes(): number;
  setHeld(nowMs: number, slot: number, heldBytes: number, flags: number): number;
  release(nowMs: number, slot: number): number;
  onDatagram(nowMs: number, src: number, len: number): void;
  onStreamAccept(nowMs: number, peer: number): number;
  onStreamConnected(nowMs: number, handle: number): void;
  onStreamData(nowMs: number, handle: number, len: number): number;
  onStreamClosed(nowMs: number, handle: number): void;
  onTimer(nowMs: number): void;
  nextDeadlineMs(): number;
  outboxPtr(): number;
  outboxLen(): number;
  outboxClear(): void;
  hierCapacity(): number;
  hierRole(slot: number): number;
  hierXid(slot: number): number;
  hierStrength(slot: number): number;
  hierDepth(slot: number): number;
  hierParent(slot: number): number;
  hierChild(slot: number, i: number): number;
  hierSubtreeSize(slot: number): number;
  hierSubtreeHeight(slot: number): number;
  hierPathAt(slot: number, i: number): number;
  streamsOpen(): number;
  malformedDatagrams(): number;
  malformedFrames(): number;
  staleHandles(): number;
  outboxDroppedRecords(): number;
  heapMark(): number;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The config block for a board's figures: word CFG[k] = config[k], the
 *  rest 0 (the core's default). */
export function configWordsOf(config: CoreConfig, words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (const [key, index] of Object.entries(CFG)) {
    if (index >= words) throw new Error(`config word ${key} is beyond the core's block`);
    out[index] = (config[key as keyof CoreConfig] ?? 0) >>> 0;
  }
  return out;
}

/** Finds build/pfs.wasm from the source tree or from build/js. */
export function defaultWasmPath(debug = false): string {
  const name = debug ? "pfs.debug.wasm" : "pfs.wasm";
  const candidates = [join(here, "../../build", name), join(here, "../../../build", name), join(here, "../../../../build", name)];
  for (const c of candidates) {
    try {
      readFileSync(c, { flag: "r" });
      return c;
    } catch {
      /* try the next */
    }
  }
  throw new Error(`cannot find ${name}: run 'make' first (looked in ${candidates.join(", ")})`);
}

let cached: WebAssembly.Module | null = null;

export function loadModule(path = process.env.PFS_WASM ?? defaultWasmPath()): WebAssembly.Module {
  if (cached === null) cached = new WebAssembly.Module(readFileSync(path));
  return cached;
}

export class CoreTrap extends Error {}

/** An AssemblyScript string (UTF-16LE, its byte length in the u32 before
 *  it) at `ptr` of core memory; null for 0 or anything out of bounds. */
function asString(memory: WebAssembly.Memory, ptr: number): string | null {
  const bytes = new Uint8Array(memory.buffer);
  if (ptr < 4 || ptr > bytes.length) return null;
  const len = new DataView(memory.buffer).getUint32(ptr - 4, true);
  if (len > 1024 || ptr + len > bytes.length) return null;
  return Buffer.from(bytes.subarray(ptr, ptr + (len & ~1))).toString("utf16le");
}

/** One instance of the core with this host's imports: `env.abort` throws a
 *  CoreTrap, `env.sha256` is Node's OpenSSL (the board's hash engine). */
export function instantiateCore(module: WebAssembly.Module): Exports {
  let x: Exports | null = null;
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(msgPtr: number, filePtr: number, line: number, col: number) {
        // An assertion names its file and line (docs/ABI.md 1.1); the
        // release build's assertions carry no message, the line says which.
        const file = x === null ? null : asString(x.memory, filePtr);
        const msg = x === null ? null : asString(x.memory, msgPtr);
        throw new CoreTrap(`pfs core aborted at ${file ?? "line"}${file === null ? " " : ":"}${line}:${col}${msg === null ? "" : `: ${msg}`}`);
      },
      sha256(ptr: number, len: number, out: number) {
        const mem = new Uint8Array(x!.memory.buffer);
        const digest = createHash("sha256").update(mem.subarray(ptr, ptr + len)).digest();
        mem.set(digest.subarray(0, HASH_BYTES), out);
      },
    },
  });
  x = instance.exports as unknown as Exports;
  return x;
}

const decoder = new TextEncoder();

export class PfsCore {
  readonly x: Exports;
  u8: Uint8Array;
  private dv: DataView;
  private inbox = 0;
  private inboxCap = 0;

  /** Set through the constructor, so a tap sees init() too. */
  readonly tap: CoreTap | null;

  constructor(config: CoreConfig, module: WebAssembly.Module = loadModule(), tap: ((core: PfsCore) => CoreTap | null) | null = null) {
    this.x = instantiateCore(module);
    this.u8 = new Uint8Array(this.x.memory.buffer);
    this.dv = new DataView(this.x.memory.buffer);
    const words = configWordsOf(config, this.x.configWords());
    new Uint32Array(this.x.memory.buffer, this.x.configPtr(), words.length).set(words);
    const rc = this.x.init();
    this.tap = tap === null ? null : tap(this);
    this.tap?.init(words, rc);
    if (rc !== 0) throw new Error(`pfs core init failed (${rc}): check the board figures`);
    this.refreshViews();
    this.inbox = this.x.inboxPtr();
    this.inboxCap = this.x.inboxBytes();
  }

  /** Views go stale if memory ever grows; the core does not grow after init,
   *  but checking costs one compare. */
  private refreshViews(): void {
    if (this.u8.buffer !== this.x.memory.buffer) {
      this.u8 = new Uint8Array(this.x.memory.buffer);
      this.dv = new DataView(this.x.memory.buffer);
    }
  }

  get inboxCapacity(): number {
    return this.inboxCap;
  }

  private put(bytes: Uint8Array): number {
    this.refreshViews();
    const n = Math.min(bytes.length, this.inboxCap);
    this.u8.set(n === bytes.length ? bytes : bytes.subarray(0, n), this.inbox);
    return n;
  }

  private putStrings(model: string, file: string): [number, number] {
    const m = decoder.encode(model);
    const f = decoder.encode(file);
    if (m.length + f.length > this.inboxCap) throw new Error("model and file name too long");
    this.refreshViews();
    this.u8.set(m, this.inbox);
    this.u8.set(f, this.inbox + m.length);
    return [m.length, f.length];
  }

  xidOf(model: string, file: string): number {
    const [ml, fl] = this.putStrings(model, file);
    const ret = this.x.xidOf(ml, fl) >>> 0;
    if (this.tap !== null) this.tap.xid(this.u8.slice(this.inbox, this.inbox + ml), this.u8.slice(this.inbox + ml, this.inbox + ml + fl), ret);
    return ret;
  }

  /** `listSha256`: the SHA-256 of the file's block list, from the index
   *  (with NEED_RELAY). */
  need(nowMs: number, model: string, file: string, sizeBytes: number, heldBytes = 0, flags = 0, listSha256?: Uint8Array): number {
    const [ml, fl] = this.putStrings(model, file);
    if (listSha256 !== undefined) {
      if (listSha256.length !== HASH_BYTES) throw new Error("the block list hash must be 32 bytes");
      if (ml + fl + HASH_BYTES > this.inboxCap) throw new Error("model and file name too long");
      this.u8.set(listSha256, this.inbox + ml + fl);
    }
    const ret = this.x.need(nowMs, ml, fl, sizeBytes >>> 0, heldBytes >>> 0, flags);
    if (this.tap !== null) {
      const at = this.inbox;
      this.tap.need(nowMs, this.u8.slice(at, at + ml), this.u8.slice(at + ml, at + ml + fl),
        listSha256 === undefined ? undefined : this.u8.slice(at + ml + fl, at + ml + fl + HASH_BYTES), sizeBytes >>> 0, heldBytes >>> 0, flags, ret);
    }
    return ret;
  }

  setHeld(nowMs: number, slot: number, heldBytes: number, flags: number): number {
    const ret = this.x.setHeld(nowMs, slot, heldBytes >>> 0, flags);
    this.tap?.setHeld(nowMs, slot, heldBytes >>> 0, flags, ret);
    return ret;
  }

  release(nowMs: number, slot: number): number {
    const ret = this.x.release(nowMs, slot);
    this.tap?.release(nowMs, slot, ret);
    return ret;
  }

  datagram(nowMs: number, src: number, bytes: Uint8Array): void {
    const n = this.put(bytes);
    this.x.onDatagram(nowMs, src >>> 0, bytes.length);
    this.tap?.datagram(nowMs, src >>> 0, bytes.length, n === bytes.length ? bytes : bytes.subarray(0, n));
  }

  accept(nowMs: number, peer: number): number {
    const ret = this.x.onStreamAccept(nowMs, peer >>> 0);
    this.tap?.accept(nowMs, peer >>> 0, ret);
    return ret;
  }

  connected(nowMs: number, handle: number): void {
    this.x.onStreamConnected(nowMs, handle);
    this.tap?.connected(nowMs, handle);
  }

  /** Hands stream bytes to the core straight where it wants them (its ring
   *  or frame buffer); returns how many it took: fewer when its ring is
   *  full, and the rest must be offered again later. */
  streamData(nowMs: number, handle: number, bytes: Uint8Array): number {
    let off = 0;
    while (off < bytes.length) {
      const room = this.x.rxWindow(handle);
      if (room <= 0) break;
      const n = Math.min(room, bytes.length - off);
      this.refreshViews();
      this.u8.set(bytes.subarray(off, off + n), this.x.rxPtr());
      this.x.onStreamRx(nowMs, handle, n);
      this.tap?.rx(nowMs, handle, room, bytes.subarray(off, off + n));
      off += n;
    }
    return off;
  }

  writeDone(nowMs: number, handle: number, len: number): void {
    this.x.onWriteDone(nowMs, handle, len);
    this.tap?.writeDone(nowMs, handle, len);
  }

  flashWritten(nowMs: number, slot: number, len: number): void {
    this.x.onFlashWritten(nowMs, slot, len);
    this.tap?.flashWritten(nowMs, slot, len);
  }

  /** `tag` is the one the OUT_FLASH_READ record carried. */
  flashRead(nowMs: number, handle: number, tag: number, len: number): void {
    this.tap?.flashRead(nowMs, handle, tag >>> 0, len);
    this.x.onFlashRead(nowMs, handle, tag >>> 0, len);
  }

  closed(nowMs: number, handle: number): void {
    this.x.onStreamClosed(nowMs, handle);
    this.tap?.closed(nowMs, handle);
  }

  timer(nowMs: number): void {
    this.x.onTimer(nowMs);
    this.tap?.timer(nowMs);
  }

  nextDeadlineMs(): number {
    const ms = this.x.nextDeadlineMs();
    this.tap?.deadline(ms);
    return ms;
  }

  /** Hands every pending output to `sink`, in order, then empties the outbox. */
  drain(sink: CoreSink): void {
    this.tap?.drain();
    const len = this.x.outboxLen();
    if (len === 0) return;
    this.refreshViews();
    const base = this.x.outboxPtr();
    const dv = this.dv;
    let off = 0;
    while (off + OUT_HEADER_BYTES <= len) {
      const at = base + off;
      const kind = dv.getUint8(at);
      const plen = dv.getUint16(at + 2, true);
      const a = dv.getUint32(at + 4, true);
      const b = dv.getUint32(at + 8, true);
      const p = at + OUT_HEADER_BYTES;
      switch (kind) {
        case OUT_DATAGRAM:
          sink.datagram(a, this.u8.subarray(p, p + plen));
          break;
        case OUT_CONNECT:
          sink.connect(b, a);
          break;
        case OUT_WRITE:
          sink.write(b, this.u8.subarray(p, p + plen));
          break;
        case OUT_CLOSE:
          sink.close(b);
          break;
        case OUT_EVENT:
          sink.event(a, dv.getUint8(p), dv.getUint8(p + 1), dv.getUint32(p + 4, true), dv.getUint32(p + 8, true));
          break;
        case OUT_FETCH:
          sink.fetch(a, b, dv.getUint32(p, true), dv.getUint32(p + 4, true));
          break;
        case OUT_FLASH_WRITE: {
          const ptr = dv.getUint32(p, true);
          sink.flashWrite(a, b, this.u8.subarray(ptr, ptr + dv.getUint32(p + 4, true)));
          break;
        }
        case OUT_FLASH_READ: {
          const ptr = dv.getUint32(p, true);
          sink.flashRead(a, b, this.u8.subarray(ptr, ptr + dv.getUint32(p + 4, true)), dv.getUint32(p + 8, true), dv.getUint32(p + 12, true));
          break;
        }
        case OUT_WRITE_REF: {
          const ptr = dv.getUint32(p, true);
          sink.writeRef(b, this.u8.subarray(ptr, ptr + dv.getUint32(p + 4, true)));
          break;
        }
        default:
          throw new CoreTrap(`unknown outbox record kind ${kind}`);
      }
      off += OUT_HEADER_BYTES + ((plen + 3) & ~3);
    }
    this.x.outboxClear();
  }
}
