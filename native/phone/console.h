/* The phone's console lines, as the Node phone prints them
 * (host/log/console.ts, host/phone/phone.ts): "LVL hh:mm:ss.mmm DLoad: text"
 * on stdout, the clock counting from the process's start. Tests and fleet
 * tools parse some of them (" need <file> ... through PFS", progress lines,
 * "verified in flash and active"): the words must stay the Node ones. */
#ifndef PFS_PHONE_CONSOLE_H
#define PFS_PHONE_CONSOLE_H

#include <stdint.h>

/* Names the clock's zero: call once at start. */
void con_start(void);
/* Milliseconds since con_start. */
double con_now_ms(void);
/* One line at level ("NOT", "INF", "WRN", "ERR", "DBG"). */
void con_say(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, about component xid (0: none) and a watcher's event (NULL:
 * none), which the line's syslog message carries (docs/LOGGING.md). */
void con_say_about(uint32_t xid, const char *event, const char *level, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The failure main.c prints on stderr, told the log server only, as a
 * console line with the event "failed" (docs/LOGGING.md). */
void con_tell_failure(const char *text);

/* What an event line names (the Node host's HierarchyNames); NULL file for
 * an event of a hierarchy this phone did not ask for. */
typedef struct con_names {
  const char *model;
  const char *file;
} con_names;

/* One core event as console lines (formatEvent); ROOT_AD and MALFORMED
 * are left to the caller (too chatty: MALFORMED is counted instead). */
void con_event(double at_ms, uint32_t self, uint32_t xid, int code, int n, uint32_t a, uint32_t b, const con_names *names);

#endif
