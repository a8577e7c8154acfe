/* The RFC 5424 formatter (syslog.h): header, one SD-ELEMENT, the MSG. */
#include "syslog.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net.h"

/* The core's Role numbers 0..6 (host/view/report.ts ROLE_NAMES). */
static const char *const ROLE_NAMES[PFS_SYSLOG_ROLES] = {"idle", "discover", "claiming", "root", "joining", "attached", "waiting"};

/* A bounded writer: once something does not fit, `full` sticks. */
typedef struct out_buf {
  char *p;
  size_t cap, len;
  bool full;
} out_buf;

static void put(out_buf *o, const char *s, size_t n) {
  if (o->full || n > o->cap - o->len) {
    o->full = true;
    return;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static void putf(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out_buf *o, const char *fmt, ...) {
  char tmp[64]; /* numbers and fixed words only */
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  assert(n >= 0 && (size_t)n < sizeof tmp);
  put(o, tmp, (size_t)n);
}

/* The MSG is printable ASCII only (docs/LOGGING.md): any other character
 * becomes one '?', a UTF-8 sequence as one character (as the Node phone's
 * per-character replacement does), so its continuation bytes vanish. */
static void put_ascii(out_buf *o, char c) {
  unsigned char u = (unsigned char)c;
  if (u >= 0x80 && u < 0xc0) return; /* 10xxxxxx: inside a character already replaced */
  char a = u >= 0x20 && u < 0x7f ? c : '?';
  put(o, &a, 1);
}

/* A PARAM-VALUE: '"', '\' and ']' escaped (RFC 5424 section 6.3.3); other
 * bytes as they are (a value is UTF-8, section 6.3.3, as Node writes it). */
static void param(out_buf *o, const char *name, const char *value) {
  putf(o, " %s=\"", name);
  for (const char *c = value != NULL ? value : ""; *c != '\0'; c++) {
    if (*c == '"' || *c == '\\' || *c == ']') put(o, "\\", 1);
    put(o, c, 1);
  }
  put(o, "\"", 1);
}

static void param_u(out_buf *o, const char *name, uint64_t v) {
  char t[24];
  snprintf(t, sizeof t, "%" PRIu64, v);
  param(o, name, t);
}

/* 2026-12-07T02:19:24.412Z (RFC 3339, UTC, milliseconds). */
static void timestamp(out_buf *o, int64_t at_ms) {
  if (at_ms < 0) at_ms = 0;
  time_t s = (time_t)(at_ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  putf(o, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
       (int)(at_ms % 1000));
}

static void component(out_buf *o, const pfs_syslog_comp *c) {
  char t[PFS_ADDR_TEXT_BYTES > 16 ? PFS_ADDR_TEXT_BYTES : 16];
  assert(c->role >= 0 && c->role < PFS_SYSLOG_ROLES);
  snprintf(t, sizeof t, "XID%08" PRIX32, c->xid);
  param(o, "xid", t);
  param(o, "model", c->model);
  param(o, "file", c->file);
  param(o, "role", ROLE_NAMES[c->role]);
  param_u(o, "held", c->held);
  param_u(o, "size", c->size);
  if (c->parent != 0) pfs_addr_format(c->parent, t);
  else t[0] = '\0';
  param(o, "parent", t);
  param_u(o, "depth", c->depth < 0 ? 0u : (uint64_t)c->depth);
  param_u(o, "wan", c->wan);
  param(o, "done", c->done ? "1" : "0");
}

int pfs_syslog_severity(const char *level) {
  static const struct { const char *label; int severity; } map[] = {{"ERR", 3}, {"WRN", 4}, {"NOT", 5}, {"INF", 6}, {"DBG", 7}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    if (strcmp(level, map[i].label) == 0) return map[i].severity;
  }
  return 6;
}

size_t pfs_syslog_format(const pfs_syslog_msg *m, char *out, size_t cap) {
  assert(m->severity >= 0 && m->severity <= 7);
  assert(m->mac != NULL && strlen(m->mac) == 12);
  out_buf o = {.p = out, .cap = cap};
  putf(&o, "<%u>1 ", PFS_SYSLOG_FACILITY * 8u + (unsigned)m->severity);
  timestamp(&o, m->at_epoch_ms);
  putf(&o, " SEP%.12s pfs - %s [" PFS_SYSLOG_SD_ID, m->mac, m->text != NULL ? "line" : "status");
  param(&o, "ip", m->ip);
  param(&o, "load", m->load);
  if (m->comp != NULL) component(&o, m->comp);
  if (m->event != NULL) param(&o, "event", m->event);
  put(&o, "]", 1);
  if (o.full) return 0;
  if (m->text == NULL) return o.len;
  put(&o, " ", 1);
  /* The MSG is cut to what is left: character by character. */
  for (const char *c = m->text; *c != '\0' && !o.full; c++) put_ascii(&o, *c);
  assert(o.len <= cap);
  return o.len;
}
