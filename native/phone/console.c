/* Console lines in the vendor's style (console.h). */
#include "console.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "net.h"
#include "pfs_abi.h"
#include "syslog_out.h"

/* Room for one line: a reason from the flash or a server fits. */
#define CON_LINE_BYTES 2048

static double started_ms;

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void con_start(void) { started_ms = mono_ms(); }
double con_now_ms(void) { return mono_ms() - started_ms; }

/* hh:mm:ss.mmm of a millisecond clock (console.ts clock). */
static void clock_text(double ms, char out[16]) {
  unsigned long t = ms < 0 ? 0ul : (unsigned long)ms;
  snprintf(out, 16, "%02lu:%02lu:%02lu.%03lu", (t / 3600000ul) % 24ul, (t / 60000ul) % 60ul, (t / 1000ul) % 60ul, t % 1000ul);
}

/* One line on stdout, and the same line to the log server (syslog_out.h),
 * about component xid (0: none) and an event (NULL: none). */
static void line_about(double at_ms, const char *level, const char *text, uint32_t xid, const char *event) {
  char at[16], line[CON_LINE_BYTES + 32]; /* the level, the clock and "DLoad: " */
  clock_text(at_ms, at);
  snprintf(line, sizeof line, "%s %s DLoad: %s", level, at, text);
  printf("%s\n", line);
  syslog_out_line(level, line, xid, event);
}

static void vsay(uint32_t xid, const char *event, const char *level, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void vsay(uint32_t xid, const char *event, const char *level, const char *fmt, va_list ap) {
  char text[CON_LINE_BYTES];
  vsnprintf(text, sizeof text, fmt, ap);
  line_about(con_now_ms(), level, text, xid, event);
}

void con_say(const char *level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(0, NULL, level, fmt, ap);
  va_end(ap);
}

void con_say_about(uint32_t xid, const char *event, const char *level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(xid, event, level, fmt, ap);
  va_end(ap);
}

void con_tell_failure(const char *text) {
  char at[16], line[CON_LINE_BYTES + 32];
  clock_text(con_now_ms(), at);
  snprintf(line, sizeof line, "ERR %s DLoad: %s", at, text);
  syslog_out_line("ERR", line, 0, "failed");
}

/* The event a watcher shows for an event code (host/view/report.ts
 * REPORT_EVENTS, docs/LOGGING.md), or NULL. */
static const char *report_event(int code, uint32_t b) {
  /* A phone whose file is complete losing its parent: no news (phone-log.ts). */
  if (code == PFS_EV_PARENT_LOST && b == PFS_PARENT_LOST_VERIFIED) return NULL;
  switch (code) {
    case PFS_EV_CONFIRMED_ROOT: return "root";
    case PFS_EV_JOINED: case PFS_EV_MOVED: return "joined";
    case PFS_EV_PARENT_LOST: return "parentLost";
    case PFS_EV_CORRUPT: return "corrupt";
    case PFS_EV_MERGE_FAILED: return "avoided";
    case PFS_EV_FILE_DONE: return "fileDone";
    default: return NULL;
  }
}

/* A reason's name, or its number when this host has none (console.ts:
 * `REFUSE_REASONS[n] ?? n`); `num` holds the number's text. */
static const char *reason_or_number(const char *const *names, int count, int n, char num[16]) {
  if (n >= 0 && n < count) return names[n];
  snprintf(num, 16, "%d", n);
  return num;
}

static const char *refuse_reason(int n, char num[16]) {
  static const char *const names[] = {"?", "FULL", "NOT_MEMBER", "CYCLE", "TOO_DEEP"};
  return reason_or_number(names, 5, n, num);
}

static const char *merge_failure(int n, char num[16]) {
  static const char *const names[] = {"?", "no answer", "refused", "delivered nothing", "link lost"};
  return reason_or_number(names, 5, n, num);
}

/* Events about the tree: who joined whom (formatEvent, first half). */
static bool tree_event(char *t, size_t room, const char *x, int code, int n, const char *ad, uint32_t b) {
  char num[16];
  switch (code) {
    case PFS_EV_YIELD: snprintf(t, room, "%s Yield to %s %s strength=%08x", x, n == 1 ? "root" : "stronger claim", ad, (unsigned)b); return true;
    case PFS_EV_JOINED: snprintf(t, room, "%s Joined parent=%s depth=%d", x, ad, n); return true;
    case PFS_EV_REFUSED: snprintf(t, room, "%s Refused by %s: %s, %u candidates", x, ad, refuse_reason(n, num), (unsigned)b); return true;
    case PFS_EV_MOVED: snprintf(t, room, "%s Moved up: parent=%s depth=%d", x, ad, n); return true;
    case PFS_EV_MERGE:
      snprintf(t, room, "%s Second root: trying to merge under %s strength=%08x (keeping the fetch until it delivers)", x, ad, (unsigned)b);
      return true;
    case PFS_EV_MERGE_PROVEN: snprintf(t, room, "%s Merged: parent %s delivers checked bytes, server fetch closed", x, ad); return true;
    default: return false;
  }
}

static const char *level_of(int code) {
  switch (code) {
    case PFS_EV_SOLICIT: case PFS_EV_REFUSED: return "DBG";
    case PFS_EV_CHILD_ADDED: case PFS_EV_CHILD_LOST: case PFS_EV_MERGE: case PFS_EV_MERGE_PROVEN: case PFS_EV_FILE_DONE: return "NOT";
    case PFS_EV_PARENT_LOST: case PFS_EV_FLASH_FAILED: case PFS_EV_CORRUPT: return "ERR";
    case PFS_EV_MERGE_FAILED: return "WRN";
    case PFS_EV_CLAIM: case PFS_EV_FETCH: case PFS_EV_YIELD: case PFS_EV_JOINED: case PFS_EV_MOVED: case PFS_EV_LEFT: return "INF";
    default: return "DBG"; /* an event this host has no line for (formatEvent's default) */
  }
}

void con_event(double at_ms, uint32_t self, uint32_t xid, int code, int n, uint32_t a, uint32_t b, const con_names *names) {
  char x[16], ad[PFS_ADDR_TEXT_BYTES], me[PFS_ADDR_TEXT_BYTES], t[CON_LINE_BYTES];
  snprintf(x, sizeof x, "XID%08X", (unsigned)xid);
  pfs_addr_format(a, ad);
  pfs_addr_format(self, me);
  const char *file = names != NULL && names->file != NULL ? names->file : NULL;
  const char *ev = report_event(code, b);
  if (tree_event(t, sizeof t, x, code, n, ad, b)) {
    line_about(at_ms, level_of(code), t, xid, ev);
    return;
  }
  switch (code) {
    case PFS_EV_ROOT_AD: case PFS_EV_MALFORMED: return;
    case PFS_EV_SOLICIT: snprintf(t, sizeof t, "%s TxBdcst Solicit %d: strength=%08x", x, n + 1, (unsigned)a); break;
    case PFS_EV_CLAIM:
      if (n == 0) {
        snprintf(t, sizeof t, "%s TxBdcst ClaimRoot(tent): strength=%08x", x, (unsigned)a);
        line_about(at_ms, "INF", t, xid, NULL);
        return;
      }
      snprintf(t, sizeof t, "%s TxBdcst Ad %d: ClaimRoot(tent)", x, n);
      break;
    case PFS_EV_CONFIRMED_ROOT:
      line_about(at_ms, "NOT", "UT:Confirmed root bumping strength", xid, NULL);
      snprintf(t, sizeof t, "@@@HROOT:%s m=%s ROOT=%s%s%s", x, names != NULL && names->model != NULL ? names->model : "?", me,
               file != NULL ? " " : "", file != NULL ? file : "");
      line_about(at_ms, "NOT", t, xid, ev);
      return;
    case PFS_EV_FETCH: snprintf(t, sizeof t, n == 1 ? "%s Tentative root fetching while it claims (%u bytes)" : "%s Root sending TFTP XfrCmd on ROOT_WAITING (%u bytes)", x, (unsigned)a); break;
    case PFS_EV_CHILD_ADDED: snprintf(t, sizeof t, "%s |child=%s children=%d FULL=%d", x, ad, n, n >= 2 ? 1 : 0); break;
    case PFS_EV_CHILD_LOST: snprintf(t, sizeof t, "%s |child lost %s children=%d", x, ad, n); break;
    case PFS_EV_PARENT_LOST:
      /* A phone holding its file claims the root instead (console.ts): no error. */
      if (b == PFS_PARENT_LOST_VERIFIED) {
        snprintf(t, sizeof t, "%s Parent %s gone at depth %d, file complete: not re-joining, claiming root to serve late peers", x, ad, n);
        line_about(at_ms, "INF", t, xid, ev);
        return;
      }
      snprintf(t, sizeof t, "%s Parent %s lost at depth %d: re-joining", x, ad, n);
      break;
    case PFS_EV_MERGE_FAILED:
      {
        char wait[48] = "", num[16];
        if (b > 0) snprintf(wait, sizeof wait, ", no merge for %u ms", (unsigned)b);
        snprintf(t, sizeof t, "%s Merge under %s failed (%s): still root%s, source avoided", x, ad, merge_failure(n, num), wait);
      }
      break;
    case PFS_EV_FLASH_FAILED:
      snprintf(t, sizeof t, "%s Flash writes from offset %u failed (%d in a row): %s", x, (unsigned)a, n, b == 1 ? "file given up" : "retrying");
      break;
    case PFS_EV_LEFT: snprintf(t, sizeof t, "%s Left the hierarchy", x); break;
    case PFS_EV_FILE_DONE:
      if (b > 0) snprintf(t, sizeof t, "%s %s complete: %u bytes checked and in flash (%u bytes discarded on the way)", x, file != NULL ? file : "file", (unsigned)a, (unsigned)b);
      else snprintf(t, sizeof t, "%s %s complete: %u bytes checked and in flash", x, file != NULL ? file : "file", (unsigned)a);
      break;
    case PFS_EV_CORRUPT: {
      char blk[32];
      if (b == 0xffffffffu) snprintf(blk, sizeof blk, "block list");
      else snprintf(blk, sizeof blk, "block %u", (unsigned)b);
      snprintf(t, sizeof t, "%s %s from %s failed its SHA-256 check: dropped, source avoided", x, blk, a == 0 ? "the server" : ad);
      break;
    }
    default: snprintf(t, sizeof t, "%s event %d n=%d a=%08x b=%08x", x, code, n, (unsigned)a, (unsigned)b); break;
  }
  line_about(at_ms, level_of(code), t, xid, ev);
}
