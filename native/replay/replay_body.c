/* Reading a record's body: its fields, and its bytes straight into core
 * memory. Nothing is read past the body's length. */
#include <assert.h>
#include <string.h>

#include "replay_int.h"

uint32_t le_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int32_t le_i32(const uint8_t *p) { return (int32_t)le_u32(p); }

double le_f64(const uint8_t *p) {
  uint64_t bits = (uint64_t)le_u32(p) | (uint64_t)le_u32(p + TR_U32) << 32;
  double v;
  memcpy(&v, &bits, sizeof v); /* bit for bit, as the host passed it */
  return v;
}

void put_le_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static status cut_short(replay *r) {
  const char *name = replay_kind_name(r->kind);
  return replay_malformed(r, "trace cut short in record %u %s (%u bytes of its body missing)", (unsigned)r->record,
                          name != NULL ? name : "?", (unsigned)r->body_left);
}

status body_read(replay *r, void *dst, uint32_t n) {
  assert(n <= r->body_left && "a handler read past the body its layout check allowed");
  size_t got = r->in->read(r->in->ctx, dst, n);
  assert(got <= n);
  r->body_left -= (uint32_t)got;
  return got == n ? PFS_REPLAY_OK : cut_short(r);
}

status body_into_core(replay *r, uint32_t ptr, uint32_t n, const char *what) {
  assert(n <= r->body_left);
  uint8_t *to = pfs_mem_span(&r->core, ptr, n);
  if (to == NULL) {
    return replay_mismatch(r, "%s [%u, +%u) is outside the core's memory of %u bytes", what, (unsigned)ptr, (unsigned)n,
                           (unsigned)pfs_mem_size(&r->core));
  }
  return body_read(r, to, n);
}

status body_skip_rest(replay *r) {
  while (r->body_left > 0) {
    uint32_t n = r->body_left < REPLAY_CHUNK_BYTES ? r->body_left : REPLAY_CHUNK_BYTES;
    status s = body_read(r, r->chunk, n);
    if (s != PFS_REPLAY_OK) return s;
  }
  return PFS_REPLAY_OK;
}
