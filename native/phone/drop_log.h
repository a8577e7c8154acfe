/* Dropped inputs counted and summarized, as the Node phone does
 * (host/log/throttle.ts DropLog): every event MALFORMED is counted by kind
 * (datagram or frame), by reason and by source; the console gets at most
 * one line per DROP_SUMMARY_INTERVAL_MS, the first drop at once, then a
 * summary of everything since when the interval is up:
 *   "Dropped malformed N datagrams and M frames (truncated 7, bad magic 3)
 *    from 127.0.0.1 9, the server 1 and 2 more; T since start"
 * The time is an argument (no clock of its own); the tables are fixed. */
#ifndef PFS_PHONE_DROP_LOG_H
#define PFS_PHONE_DROP_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* throttle.ts DROP_SUMMARY_INTERVAL_MS: an admin sees a flood start at
 * once and its size every 10 s. */
#define DROP_SUMMARY_INTERVAL_MS 10000.0
/* Event MALFORMED's n has this bit set for a stream frame (docs/ABI.md,
 * event 13; console.ts MALFORMED_FRAME_BIT). */
#define DROP_FRAME_BIT 0x80
/* Reason codes counted one by one (n without the frame bit is below 0x80);
 * the core names 10 (assembly/wire.ts BAD_*). */
#define DROP_REASONS_MAX 0x80
/* throttle.ts SOURCES_TRACKED: distinct sources counted per interval; more
 * are counted as "more" (rotating addresses must not grow a table). */
#define DROP_SOURCES_TRACKED 256
/* throttle.ts SOURCES_SHOWN: sources named in a summary, busiest first. */
#define DROP_SOURCES_SHOWN 3

/* Prints one summary line (the phone's: a WRN console line). */
typedef void drop_line_fn(double at_ms, const char *text);

typedef struct drop_source {
  uint32_t addr;
  uint64_t count;
} drop_source;

typedef struct drop_log {
  drop_line_fn *line;
  double interval_ms;
  double last_line_ms;
  bool said; /* a line was printed (last_line_ms means something) */
  uint64_t total; /* since the start */
  uint64_t pending, datagrams, frames;
  uint64_t reasons[DROP_REASONS_MAX];
  uint64_t other_reasons; /* a reason code of DROP_REASONS_MAX or more */
  drop_source sources[DROP_SOURCES_TRACKED];
  uint32_t source_count;
  uint64_t other_sources; /* drops from sources past the table */
} drop_log;

/* line: where summaries go; interval_ms > 0. */
void drop_log_init(drop_log *d, drop_line_fn *line, double interval_ms);
/* One dropped input: reason is the event's n (DROP_FRAME_BIT set for a
 * frame), source the peer's address (0 for a server handle). Prints the
 * summary when the interval is up. */
void drop_log_add(drop_log *d, double now_ms, int reason, uint32_t source);
/* Prints the summary if drops are pending and the interval is up (or,
 * force, at the end: nothing counted goes unsaid). */
void drop_log_flush(drop_log *d, double now_ms, bool force);
/* Forces a flush of d when the process exits (once per d). */
void drop_log_flush_at_exit(drop_log *d);
/* A drop_line_fn: a WRN line on the phone's console. */
void drop_log_console_line(double at_ms, const char *text);

#endif
