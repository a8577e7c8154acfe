/* The one line a replay ends with (docs/TRACE.md 5), and the digest. */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfs_rt.h"
#include "replay_int.h"

/* A double needs at most 17 significant digits to read back exactly
 * (IEEE 754-2008, 5.12.2: 9 + 8 for binary64). */
#define DOUBLE_MAX_DIGITS 17
/* Integers below this print without an exponent, as JavaScript does up to
 * 1e21; ours stay far below (milliseconds of a run). */
#define PLAIN_INTEGER_LIMIT 1e15

const char *replay_kind_name(uint8_t kind) {
  switch (kind) {
    case PFS_T_CORE: return "T_CORE";
    case PFS_T_END_CORE: return "T_END_CORE";
    case PFS_T_END: return "T_END";
    case PFS_T_NEED: return "T_NEED";
    case PFS_T_XID: return "T_XID";
    case PFS_T_SET_HELD: return "T_SET_HELD";
    case PFS_T_RELEASE: return "T_RELEASE";
    case PFS_T_DATAGRAM: return "T_DATAGRAM";
    case PFS_T_ACCEPT: return "T_ACCEPT";
    case PFS_T_CONNECTED: return "T_CONNECTED";
    case PFS_T_STREAM_DATA: return "T_STREAM_DATA";
    case PFS_T_RX: return "T_RX";
    case PFS_T_WRITE_DONE: return "T_WRITE_DONE";
    case PFS_T_FLASH_WRITTEN: return "T_FLASH_WRITTEN";
    case PFS_T_FLASH_READ: return "T_FLASH_READ";
    case PFS_T_CLOSED: return "T_CLOSED";
    case PFS_T_TIMER: return "T_TIMER";
    case PFS_T_DEADLINE: return "T_DEADLINE";
    case PFS_T_DRAIN: return "T_DRAIN";
    case PFS_T_COUNTERS: return "T_COUNTERS";
    case PFS_T_STATE: return "T_STATE";
    default: return NULL;
  }
}

void replay_format_double(double v, char *buf, unsigned room) {
  assert(buf != NULL && room >= 32);
  if (isnan(v)) {
    snprintf(buf, room, "NaN");
  } else if (isinf(v)) {
    snprintf(buf, room, v > 0 ? "Infinity" : "-Infinity");
  } else if (v == floor(v) && fabs(v) < PLAIN_INTEGER_LIMIT) {
    snprintf(buf, room, "%.0f", v);
  } else {
    for (int digits = 1; digits <= DOUBLE_MAX_DIGITS; digits++) {
      snprintf(buf, room, "%.*g", digits, v);
      if (strtod(buf, NULL) == v) break;
    }
  }
}

/* n after appending to buf (never past room - 1: snprintf counts what it
 * would have written). */
static unsigned clamp(unsigned n, unsigned room) { return n < room ? n : room - 1u; }

/* "core K (a.b.c.d) record R T_NAME at T ms", or less where it has none. */
static unsigned where(const replay *r, char *buf, unsigned room) {
  assert(room > 1);
  unsigned n = 0;
  if (r->in_core || r->kind == PFS_T_CORE) {
    uint32_t a = r->self_addr;
    n = clamp(n + (unsigned)snprintf(buf, room, "core %u (%u.%u.%u.%u) ", (unsigned)r->core_index,
                                     (unsigned)(a >> 24), (unsigned)(a >> 16 & 255u), (unsigned)(a >> 8 & 255u),
                                     (unsigned)(a & 255u)),
              room);
  }
  const char *name = replay_kind_name(r->kind);
  n = clamp(n + (unsigned)snprintf(buf + n, room - n, "record %u %s", (unsigned)r->record, name != NULL ? name : "?"),
            room);
  if (r->has_now) {
    char t[40];
    replay_format_double(r->now, t, sizeof t);
    n = clamp(n + (unsigned)snprintf(buf + n, room - n, " at %s ms", t), room);
  }
  return n;
}

static status finish(replay *r, status s, const char *head, const char *fmt, va_list ap) {
  char *line = r->out->line;
  const unsigned room = PFS_REPLAY_LINE_BYTES;
  unsigned n = clamp((unsigned)snprintf(line, room, "%s", head), room);
  if (s == PFS_REPLAY_MISMATCH) {
    n += where(r, line + n, room - n);
    n = clamp(n + (unsigned)snprintf(line + n, room - n, ": "), room);
  }
  vsnprintf(line + n, room - n, fmt, ap);
  r->out->status = s;
  return s;
}

status replay_malformed(replay *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  status s = finish(r, PFS_REPLAY_MALFORMED, "pfs-replay: ", fmt, ap);
  va_end(ap);
  return s;
}

status replay_mismatch(replay *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  status s = finish(r, PFS_REPLAY_MISMATCH, "mismatch: ", fmt, ap);
  va_end(ap);
  return s;
}

status replay_check_trap(replay *r) {
  if (!pfs_core_trapped(&r->core)) return PFS_REPLAY_OK;
  const pfs_trap *t = pfs_core_trap(&r->core);
  if (t->kind == PFS_TRAP_MEMORY) {
    char at[PFS_REPLAY_LINE_BYTES / 2];
    where(r, at, sizeof at);
    const char *owner = r->opts != NULL && r->opts->memory_owner != NULL ? r->opts->memory_owner : "this host";
    return replay_malformed(r, "%s: the core needs more linear memory than %s has: %s", at, owner, t->text);
  }
  return replay_mismatch(r, "core trapped: %s", t->text);
}

void replay_fold(replay *r, uint8_t kind, const void *observed, uint32_t n) {
  pfs_sha256_update(&r->digest, &kind, 1);
  pfs_sha256_update(&r->digest, observed, n);
}

void replay_fold_u32(replay *r, uint8_t kind, uint32_t observed) {
  uint8_t le[TR_U32];
  put_le_u32(le, observed);
  replay_fold(r, kind, le, TR_U32);
}
