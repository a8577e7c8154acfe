/* The records that only compare: T_DEADLINE, T_COUNTERS, T_STATE, T_END
 * (docs/TRACE.md 2 and 4). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "replay_int.h"

typedef uint32_t (*counter_fn)(pfs_core *);
typedef struct counter {
  const char *name;
  counter_fn read;
} counter;

/* docs/TRACE.md 2, T_COUNTERS: this order. */
static const counter COUNTERS[] = {
    {"malformedDatagrams", pfs_malformedDatagrams}, {"malformedFrames", pfs_malformedFrames},
    {"corruptBlocks", pfs_corruptBlocks},           {"refetchedBytes", pfs_refetchedBytes},
    {"staleHandles", pfs_staleHandles},             {"outboxDroppedRecords", pfs_outboxDroppedRecords},
};
_Static_assert(sizeof COUNTERS / sizeof COUNTERS[0] == PFS_TRACE_COUNTERS, "T_COUNTERS lists every counter");

/* docs/TRACE.md 2, T_STATE: the words of one slot, in this order. */
static const char *const STATE_NAMES[] = {
    "hierRole", "hierXid",      "hierStrength", "hierDepth",    "hierParent",      "hierChild(0)",
    "hierChild(1)", "hierHeld", "hierTotal",    "hierVerified", "hierSubtreeSize", "hierSubtreeHeight",
};
_Static_assert(sizeof STATE_NAMES / sizeof STATE_NAMES[0] == PFS_TRACE_STATE_WORDS, "T_STATE lists every word");

static void slot_state(pfs_core *c, int32_t s, uint32_t w[PFS_TRACE_STATE_WORDS]) {
  uint32_t v[PFS_TRACE_STATE_WORDS] = {
      (uint32_t)pfs_hierRole(c, s),     pfs_hierXid(c, s),   pfs_hierStrength(c, s),
      (uint32_t)pfs_hierDepth(c, s),    pfs_hierParent(c, s), pfs_hierChild(c, s, 0),
      pfs_hierChild(c, s, 1),           pfs_hierHeld(c, s),  pfs_hierTotal(c, s),
      (uint32_t)pfs_hierVerified(c, s), pfs_hierSubtreeSize(c, s), pfs_hierSubtreeHeight(c, s),
  };
  memcpy(w, v, sizeof v);
}

status replay_deadline(replay *r) {
  uint8_t f[TR_F64];
  status s = body_read(r, f, TR_F64);
  if (s != PFS_REPLAY_OK) return s;
  double got = pfs_nextDeadlineMs(&r->core), exp = le_f64(f);
  if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
  uint8_t g[TR_F64];
  memcpy(g, &got, sizeof g); /* wasm and both our targets are little-endian */
  if (memcmp(g, f, TR_F64) != 0) {
    char a[40], b[40];
    replay_format_double(got, a, sizeof a);
    replay_format_double(exp, b, sizeof b);
    return replay_mismatch(r, "nextDeadlineMs() is %s, expected %s", a, b);
  }
  replay_fold(r, PFS_T_DEADLINE, g, TR_F64);
  return PFS_REPLAY_OK;
}

status replay_counters(replay *r) {
  uint8_t f[PFS_TRACE_COUNTERS * TR_U32], g[PFS_TRACE_COUNTERS * TR_U32];
  status s = body_read(r, f, sizeof f);
  if (s != PFS_REPLAY_OK) return s;
  for (unsigned i = 0; i < PFS_TRACE_COUNTERS; i++) {
    uint32_t got = COUNTERS[i].read(&r->core), exp = le_u32(f + i * TR_U32);
    if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
    if (got != exp) return replay_mismatch(r, "%s() is %u, expected %u", COUNTERS[i].name, (unsigned)got, (unsigned)exp);
    put_le_u32(g + i * TR_U32, got);
  }
  replay_fold(r, PFS_T_COUNTERS, g, sizeof g);
  return PFS_REPLAY_OK;
}

/* T_STATE: u32 n; per slot u32 exp[TRACE_STATE_WORDS]; u32 streamsOpen.
 * Read and compared one slot at a time. */
status replay_state(replay *r) {
  uint8_t f[PFS_TRACE_STATE_WORDS * TR_U32];
  status s = body_read(r, f, TR_U32);
  if (s != PFS_REPLAY_OK) return s;
  uint32_t n = le_u32(f);
  if ((uint64_t)n * sizeof f + TR_U32 != r->body_left) {
    return replay_malformed(r, "record %u T_STATE: body does not fit its layout (%u slots)", (unsigned)r->record,
                            (unsigned)n);
  }
  int32_t cap = pfs_hierCapacity(&r->core);
  if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
  if ((uint32_t)cap != n) return replay_mismatch(r, "hierCapacity() is %d, expected %u", (int)cap, (unsigned)n);
  replay_fold_u32(r, PFS_T_STATE, n); /* the kind byte, then the body as observed */
  for (uint32_t slot = 0; slot < n; slot++) {
    if ((s = body_read(r, f, sizeof f)) != PFS_REPLAY_OK) return s;
    uint32_t w[PFS_TRACE_STATE_WORDS];
    slot_state(&r->core, (int32_t)slot, w);
    if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
    for (unsigned i = 0; i < PFS_TRACE_STATE_WORDS; i++) {
      uint32_t exp = le_u32(f + i * TR_U32);
      if (w[i] != exp) {
        return replay_mismatch(r, "slot %u %s is %u (0x%x), expected %u (0x%x)", (unsigned)slot, STATE_NAMES[i],
                               (unsigned)w[i], (unsigned)w[i], (unsigned)exp, (unsigned)exp);
      }
    }
    pfs_sha256_update(&r->digest, f, sizeof f);
  }
  if ((s = body_read(r, f, TR_U32)) != PFS_REPLAY_OK) return s;
  int32_t open = pfs_streamsOpen(&r->core);
  if ((s = replay_check_trap(r)) != PFS_REPLAY_OK) return s;
  if ((uint32_t)open != le_u32(f)) return replay_mismatch(r, "streamsOpen() is %d, expected %u", (int)open, (unsigned)le_u32(f));
  pfs_sha256_update(&r->digest, f, TR_U32);
  return PFS_REPLAY_OK;
}

static void hex(const uint8_t *d, char *out) {
  static const char DIGITS[] = "0123456789abcdef";
  for (unsigned i = 0; i < PFS_SHA256_DIGEST_BYTES; i++) {
    out[2 * i] = DIGITS[d[i] >> 4];
    out[2 * i + 1] = DIGITS[d[i] & 15u];
  }
  out[2 * PFS_SHA256_DIGEST_BYTES] = '\0';
}

/* T_END: u32 cores; u32 records; u8 digest[32]. */
status replay_end(replay *r) {
  uint8_t f[FIXED_PART_MAX_BYTES];
  status s = body_read(r, f, sizeof f);
  if (s != PFS_REPLAY_OK) return s;
  uint32_t cores = le_u32(f), records = le_u32(f + TR_U32);
  if (cores != r->cores) return replay_mismatch(r, "%u cores replayed, expected %u", (unsigned)r->cores, (unsigned)cores);
  if (records != r->records) {
    return replay_mismatch(r, "%u outbox records, expected %u", (unsigned)r->records, (unsigned)records);
  }
  pfs_sha256_final(&r->digest, r->out->digest);
  char got[2 * PFS_SHA256_DIGEST_BYTES + 1], exp[2 * PFS_SHA256_DIGEST_BYTES + 1];
  hex(r->out->digest, got);
  hex(f + 2 * TR_U32, exp);
  if (strcmp(got, exp) != 0) return replay_mismatch(r, "digest %s, expected %s", got, exp);
  snprintf(r->out->line, PFS_REPLAY_LINE_BYTES, "digest %s records %u", got, (unsigned)r->records);
  return PFS_REPLAY_OK;
}
