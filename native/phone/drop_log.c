/* Drop summaries (drop_log.h), the lines of host/log/throttle.ts DropLog. */
#include "drop_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "net.h"
#include "pfs_abi.h"

/* Room for one summary: ten reasons, three sources and the counts fit in
 * well under half of it. */
#define DROP_LINE_BYTES 1024

/* console.ts MALFORMED_REASON_NAMES: the same words, tests grep them. */
static const char *reason_name(int reason) {
  switch (reason) {
    case PFS_BAD_SHORT: return "truncated";
    case PFS_BAD_MAGIC: return "bad magic";
    case PFS_BAD_VERSION: return "bad version";
    case PFS_BAD_TYPE: return "bad type";
    case PFS_BAD_COUNT: return "bad count";
    case PFS_BAD_LENGTH: return "trailing bytes";
    case PFS_BAD_FIELD: return "bad field";
    case PFS_BAD_FRAME_SIZE: return "bad frame size";
    case PFS_BAD_UNEXPECTED: return "unexpected frame";
    case PFS_BAD_OVERSIZE: return "oversize input";
    default: return NULL;
  }
}

void drop_log_init(drop_log *d, drop_line_fn *line, double interval_ms) {
  assert(d != NULL && line != NULL && interval_ms > 0);
  memset(d, 0, sizeof *d);
  d->line = line;
  d->interval_ms = interval_ms;
}

static bool interval_up(const drop_log *d, double now_ms) { return !d->said || now_ms - d->last_line_ms >= d->interval_ms; }

void drop_log_add(drop_log *d, double now_ms, int reason, uint32_t source) {
  assert(d->line != NULL);
  d->total++;
  d->pending++;
  if ((reason & DROP_FRAME_BIT) != 0) d->frames++;
  else d->datagrams++;
  int code = reason & ~DROP_FRAME_BIT;
  if ((unsigned)code < DROP_REASONS_MAX) d->reasons[code]++;
  else d->other_reasons++;
  uint32_t i = 0;
  while (i < d->source_count && d->sources[i].addr != source) i++;
  if (i < d->source_count) d->sources[i].count++;
  else if (d->source_count < DROP_SOURCES_TRACKED) d->sources[d->source_count++] = (drop_source){.addr = source, .count = 1};
  else d->other_sources++;
  assert(d->source_count <= DROP_SOURCES_TRACKED && d->datagrams + d->frames == d->pending);
  if (interval_up(d, now_ms)) drop_log_flush(d, now_ms, false);
}

/* Appends to a line, never past its room (a full line is cut, not overrun). */
static void put(char *t, size_t room, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *t, size_t room, size_t *at, const char *fmt, ...) {
  if (*at >= room - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t + *at, room - *at, fmt, ap);
  va_end(ap);
  if (n > 0) *at += (size_t)n < room - *at ? (size_t)n : room - *at - 1;
}

/* "datagram", "datagrams": throttle.ts kinds. */
static void put_kinds(const drop_log *d, char *t, size_t room, size_t *at) {
  if (d->datagrams > 0) put(t, room, at, "%" PRIu64 " datagram%s", d->datagrams, d->datagrams == 1 ? "" : "s");
  if (d->datagrams > 0 && d->frames > 0) put(t, room, at, " and ");
  if (d->frames > 0) put(t, room, at, "%" PRIu64 " frame%s", d->frames, d->frames == 1 ? "" : "s");
}

/* Reasons, the most counted first (ties: the lower code first). */
static void put_reasons(const drop_log *d, char *t, size_t room, size_t *at) {
  bool shown[DROP_REASONS_MAX] = {false};
  bool first = true;
  for (;;) {
    int best = -1;
    for (int r = 0; r < DROP_REASONS_MAX; r++) {
      if (!shown[r] && d->reasons[r] > 0 && (best < 0 || d->reasons[r] > d->reasons[best])) best = r;
    }
    if (best < 0) break;
    shown[best] = true;
    const char *name = reason_name(best);
    put(t, room, at, "%s", first ? "" : ", ");
    if (name != NULL) put(t, room, at, "%s %" PRIu64, name, d->reasons[best]);
    else put(t, room, at, "reason %d (unnamed) %" PRIu64, best, d->reasons[best]);
    first = false;
  }
  if (d->other_reasons > 0) put(t, room, at, "%sreasons past %d (unnamed) %" PRIu64, first ? "" : ", ", DROP_REASONS_MAX - 1, d->other_reasons);
}

/* The busiest DROP_SOURCES_SHOWN sources, then how many more. */
static void put_sources(const drop_log *d, char *t, size_t room, size_t *at) {
  bool shown[DROP_SOURCES_TRACKED] = {false};
  uint32_t named = 0;
  put(t, room, at, "from ");
  while (named < DROP_SOURCES_SHOWN && named < d->source_count) {
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < d->source_count; i++) {
      if (!shown[i] && (best == UINT32_MAX || d->sources[i].count > d->sources[best].count)) best = i;
    }
    shown[best] = true;
    char addr[PFS_ADDR_TEXT_BYTES];
    pfs_addr_format(d->sources[best].addr, addr);
    put(t, room, at, "%s%s %" PRIu64, named == 0 ? "" : ", ", d->sources[best].addr == 0 ? "the server" : addr, d->sources[best].count);
    named++;
  }
  uint32_t rest = d->source_count - named + (d->other_sources > 0 ? 1u : 0u);
  if (rest > 0) put(t, room, at, " and %u%s more", (unsigned)rest, d->other_sources > 0 ? "+" : "");
}

void drop_log_flush(drop_log *d, double now_ms, bool force) {
  assert(d->line != NULL);
  if (d->pending == 0 || (!force && !interval_up(d, now_ms))) return;
  char t[DROP_LINE_BYTES];
  size_t at = 0;
  put(t, sizeof t, &at, "Dropped malformed ");
  put_kinds(d, t, sizeof t, &at);
  put(t, sizeof t, &at, " (");
  put_reasons(d, t, sizeof t, &at);
  put(t, sizeof t, &at, ") ");
  put_sources(d, t, sizeof t, &at);
  put(t, sizeof t, &at, "; %" PRIu64 " since start", d->total);
  d->line(now_ms, t);
  d->said = true;
  d->last_line_ms = now_ms;
  d->pending = d->datagrams = d->frames = d->other_reasons = d->other_sources = 0;
  memset(d->reasons, 0, sizeof d->reasons);
  d->source_count = 0;
  assert(d->pending == 0 && d->source_count == 0);
}

/* The one log atexit flushes: a process has one phone. */
static drop_log *at_exit_log;

static void flush_at_exit(void) {
  if (at_exit_log != NULL) drop_log_flush(at_exit_log, con_now_ms(), true);
}

void drop_log_flush_at_exit(drop_log *d) {
  assert(d != NULL && (at_exit_log == NULL || at_exit_log == d));
  if (at_exit_log == d) return;
  at_exit_log = d;
  atexit(flush_at_exit);
}

void drop_log_console_line(double at_ms, const char *text) {
  (void)at_ms; /* con_say stamps its own clock, the same one */
  con_say("WRN", "%s", text);
}
