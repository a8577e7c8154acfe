/* The trace file (docs/TRACE.md 1): its header, the record framing, the
 * layout check of every body before anything trusts a length, and the
 * records that frame the cores (T_CORE, T_END_CORE). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "replay_int.h"

/* Kinds are 1..PFS_T_STATE (assembly/trace-format.ts). */
#define KIND_LIMIT (PFS_T_STATE + 1u)

/* The fixed part of each kind's body (docs/TRACE.md 2); an `exact` kind
 * has nothing more. Zero-size entries are kinds that do not exist. */
typedef struct layout {
  uint32_t fixed;
  bool exact;
  bool known;
} layout;

static const layout LAYOUTS[KIND_LIMIT] = {
    [PFS_T_CORE] = {TR_U32 + TR_U32, false, true},                 /* n, (words), exp */
    [PFS_T_END_CORE] = {0, true, true},
    [PFS_T_END] = {2 * TR_U32 + PFS_SHA256_DIGEST_BYTES, true, true},
    [PFS_T_NEED] = {TR_F64 + 7 * TR_U32, false, true},             /* now exp size held flags 3 lengths */
    [PFS_T_XID] = {3 * TR_U32, false, true},
    [PFS_T_SET_HELD] = {TR_F64 + 4 * TR_U32, true, true},
    [PFS_T_RELEASE] = {TR_F64 + 2 * TR_U32, true, true},
    [PFS_T_DATAGRAM] = {TR_F64 + 2 * TR_U32, false, true},
    [PFS_T_ACCEPT] = {TR_F64 + 2 * TR_U32, true, true},
    [PFS_T_CONNECTED] = {TR_F64 + TR_U32, true, true},
    [PFS_T_STREAM_DATA] = {TR_F64 + 3 * TR_U32, false, true},
    [PFS_T_RX] = {TR_F64 + 2 * TR_U32, false, true},
    [PFS_T_WRITE_DONE] = {TR_F64 + 2 * TR_U32, true, true},
    [PFS_T_FLASH_WRITTEN] = {TR_F64 + 2 * TR_U32, true, true},
    [PFS_T_FLASH_READ] = {TR_F64 + 3 * TR_U32, false, true},
    [PFS_T_CLOSED] = {TR_F64 + TR_U32, true, true},
    [PFS_T_TIMER] = {TR_F64, true, true},
    [PFS_T_DEADLINE] = {TR_F64, true, true},
    [PFS_T_DRAIN] = {0, false, true},
    [PFS_T_COUNTERS] = {PFS_TRACE_COUNTERS * TR_U32, true, true},
    [PFS_T_STATE] = {TR_U32 + TR_U32, false, true},                /* n, (slots), streamsOpen */
};

uint32_t replay_fixed_bytes(uint8_t kind) {
  assert(kind < KIND_LIMIT && LAYOUTS[kind].known);
  return LAYOUTS[kind].fixed;
}

static status check_file_header(replay *r) {
  uint8_t h[PFS_TRACE_HEADER_BYTES];
  size_t got = r->in->read(r->in->ctx, h, sizeof h);
  if (got < sizeof h) return replay_malformed(r, "not a trace: %u bytes, shorter than the header", (unsigned)got);
  if (le_u32(h) != PFS_TRACE_MAGIC_LO || le_u32(h + TR_U32) != PFS_TRACE_MAGIC_HI) {
    return replay_malformed(r, "not a trace: no PFSTRACE magic");
  }
  uint32_t version = le_u32(h + 2 * TR_U32), abi = le_u32(h + 3 * TR_U32);
  if (version != PFS_TRACE_VERSION) {
    return replay_malformed(r, "trace version %u; this reader knows %u", (unsigned)version, PFS_TRACE_VERSION);
  }
  if (abi != PFS_ABI_VERSION) {
    return replay_malformed(r, "trace of ABI version %u; this core is version %u", (unsigned)abi, PFS_ABI_VERSION);
  }
  return PFS_REPLAY_OK;
}

/* Reads record r->record's header; sets kind and body_left after checking
 * them against the layout and against where we are (inside a core or not). */
static status next_record(replay *r) {
  uint8_t h[PFS_TRACE_RECORD_HEADER_BYTES];
  size_t got = r->in->read(r->in->ctx, h, sizeof h);
  r->kind = 0;
  r->body_left = 0;
  r->has_now = false;
  if (got == 0) return replay_malformed(r, "trace cut short: no T_END after %u records", (unsigned)r->record);
  if (got < sizeof h) {
    return replay_malformed(r, "trace cut short in the header of record %u", (unsigned)r->record);
  }
  uint8_t kind = h[0];
  uint32_t len = le_u32(h + TR_U32);
  if (kind >= KIND_LIMIT || !LAYOUTS[kind].known) {
    return replay_malformed(r, "record %u: unknown kind %u", (unsigned)r->record, (unsigned)kind);
  }
  if (h[1] != 0 || h[2] != 0 || h[3] != 0) {
    return replay_malformed(r, "record %u %s: header bytes 1..3 are not zero", (unsigned)r->record, replay_kind_name(kind));
  }
  if (len > PFS_TRACE_MAX_BODY_BYTES) {
    return replay_malformed(r, "record %u: body of %u bytes is over the limit of %u", (unsigned)r->record,
                            (unsigned)len, PFS_TRACE_MAX_BODY_BYTES);
  }
  const layout *l = &LAYOUTS[kind];
  if (len < l->fixed || (l->exact && len != l->fixed)) {
    return replay_malformed(r, "record %u %s: body of %u bytes does not fit its layout", (unsigned)r->record,
                            replay_kind_name(kind), (unsigned)len);
  }
  bool framing = kind == PFS_T_CORE || kind == PFS_T_END;
  if (r->in_core && framing) {
    return replay_malformed(r, "record %u %s inside core %u (no T_END_CORE)", (unsigned)r->record,
                            replay_kind_name(kind), (unsigned)r->core_index);
  }
  if (!r->in_core && !framing) {
    return replay_malformed(r, "record %u %s outside a core", (unsigned)r->record, replay_kind_name(kind));
  }
  r->kind = kind;
  r->body_left = len;
  return PFS_REPLAY_OK;
}

/* words[0..n) of the config block, the rest 0 (docs/TRACE.md 2, T_CORE). */
static status write_config(replay *r, uint32_t n) {
  uint32_t words = (uint32_t)pfs_configWords(&r->core), base = pfs_configPtr(&r->core);
  if (n > words) return replay_malformed(r, "T_CORE sets %u config words; the core has %u", (unsigned)n, (unsigned)words);
  for (uint32_t i = 0; i < words; i++) {
    uint8_t w[TR_U32] = {0};
    if (i < n) {
      status s = body_read(r, w, TR_U32);
      if (s != PFS_REPLAY_OK) return s;
    }
    if (i == PFS_CFG_SELF_ADDR) r->self_addr = le_u32(w);
    if (!pfs_mem_store_u32(&r->core, base + i * TR_U32, le_u32(w))) {
      return replay_mismatch(r, "config word %u at %u is outside the core's memory", (unsigned)i, (unsigned)base);
    }
  }
  return replay_check_trap(r);
}

/* T_CORE: u32 n; u32 words[n]; i32 exp. A fresh instance, memory and all. */
static status replay_core(replay *r) {
  uint8_t f[TR_U32];
  status s = body_read(r, f, TR_U32);
  if (s != PFS_REPLAY_OK) return s;
  uint32_t n = le_u32(f);
  if ((uint64_t)n * TR_U32 + 2 * TR_U32 != (uint64_t)r->body_left + TR_U32) {
    return replay_malformed(r, "record %u T_CORE: body does not fit its layout (%u config words)", (unsigned)r->record,
                            (unsigned)n);
  }
  r->core_index = r->cores++;
  r->self_addr = 0;
  r->in_core = true;
  pending_clear(r);
  if (!pfs_core_open(&r->core)) return replay_check_trap(r);
  if ((uint32_t)pfs_abiVersion(&r->core) != PFS_ABI_VERSION) {
    return replay_malformed(r, "this core reports ABI version %d, its header %u", (int)pfs_abiVersion(&r->core),
                            PFS_ABI_VERSION);
  }
  if ((s = write_config(r, n)) != PFS_REPLAY_OK) return s;
  if ((s = body_read(r, f, TR_U32)) != PFS_REPLAY_OK) return s;
  int32_t got = pfs_init(&r->core), exp = le_i32(f);
  if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
  if (got != exp) return replay_mismatch(r, "init() returned %d, expected %d", (int)got, (int)exp);
  replay_fold_u32(r, PFS_T_CORE, (uint32_t)got);
  return PFS_REPLAY_OK;
}

static status replay_end_core(replay *r) {
  assert(r->in_core && r->body_left == 0);
  pfs_core_close(&r->core);
  r->in_core = false;
  return PFS_REPLAY_OK;
}

static status dispatch(replay *r) {
  switch (r->kind) {
    case PFS_T_CORE: return replay_core(r);
    case PFS_T_END_CORE: return replay_end_core(r);
    case PFS_T_END: return replay_end(r);
    case PFS_T_DEADLINE: return replay_deadline(r);
    case PFS_T_DRAIN: return replay_drain(r);
    case PFS_T_COUNTERS: return replay_counters(r);
    case PFS_T_STATE: return replay_state(r);
    default: return replay_input(r);
  }
}

static status after_end(replay *r) {
  uint32_t extra = 0;
  size_t got;
  while ((got = r->in->read(r->in->ctx, r->chunk, sizeof r->chunk)) > 0) extra += (uint32_t)got;
  if (extra > 0) return replay_malformed(r, "%u bytes after T_END", (unsigned)extra);
  return PFS_REPLAY_OK;
}

pfs_replay_status pfs_replay_run(pfs_reader *in, const pfs_replay_options *opts, pfs_replay_result *out) {
  /* Static, not on the stack: the stack figure is then the core's, and a
   * board's small stack holds no replay state. One replay at a time. */
  static replay r;
  static bool running;
  assert(in != NULL && out != NULL && !running);
  running = true;
  memset(&r, 0, sizeof r);
  memset(out, 0, sizeof *out);
  r.in = in;
  r.opts = opts;
  r.out = out;
  pfs_sha256_init(&r.digest);
  status s = check_file_header(&r);
  while (s == PFS_REPLAY_OK) {
    if ((s = next_record(&r)) != PFS_REPLAY_OK) break;
    if ((s = dispatch(&r)) != PFS_REPLAY_OK) break;
    assert(r.body_left == 0 && "a handler left part of its body unread");
    if (r.kind == PFS_T_END) {
      s = after_end(&r);
      break;
    }
    r.record++;
  }
  if (r.in_core) pfs_core_close(&r.core);
  out->cores = r.cores;
  out->records = r.records;
  out->status = s;
  running = false;
  return s;
}
