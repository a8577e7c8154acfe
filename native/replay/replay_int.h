/* The replayer's state and the helpers its parts share (replay-internal).
 *
 *   replay.c          the file: header, records, framing (T_CORE, T_END...)
 *   replay_body.c     reading a record's body: fields, bytes into memory
 *   replay_inputs.c   the input records (T_NEED ... T_TIMER)
 *   replay_drain.c    T_DRAIN: the normalised outbox, compared in chunks
 *   replay_checks.c   T_DEADLINE, T_COUNTERS, T_STATE, T_END
 *   replay_pending.c  the flash reads a T_DRAIN left pending
 *   replay_report.c   the one line a replay ends with, and the digest */
#ifndef PFS_REPLAY_INT_H
#define PFS_REPLAY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "pfs_core.h"
#include "replay.h"
#include "sha256.h"

/* Field sizes of the trace layout (docs/TRACE.md 1, 2): little-endian
 * u8/u32/i32 and IEEE 754 f64. */
#define TR_U32 4u
#define TR_F64 8u
/* The longest fixed part of any body is T_END's: two u32 and a digest. */
#define FIXED_PART_MAX_BYTES (2u * TR_U32 + PFS_SHA256_DIGEST_BYTES)
/* Bytes of a body or of an outbox compared or skipped at a time. */
#define REPLAY_CHUNK_BYTES 512u
/* Flash reads a trace may leave pending at once (docs/TRACE.md 2: "the C
 * replayer keeps 64"); overflow is a malformed trace. */
#define PENDING_READS_MAX 64u

typedef struct pending_read {
  int32_t handle;
  uint32_t tag;
  uint32_t ptr, len; /* the view in core memory the bytes go to */
  bool used;
} pending_read;

typedef struct replay {
  pfs_reader *in;
  const pfs_replay_options *opts;
  pfs_replay_result *out;
  pfs_core core;
  /* Where we are: the record being replayed and its body. */
  uint32_t record;    /* index in the file, from 0 after the file header */
  uint8_t kind;
  uint32_t body_left; /* bytes of its body not read yet */
  /* The core being replayed. */
  bool in_core;
  uint32_t core_index; /* 0 for the first T_CORE */
  uint32_t self_addr;  /* its config word CFG_SELF_ADDR */
  bool has_now; /* the record is an input with a time (docs/TRACE.md 5) */
  double now;
  /* What every engine folds in (docs/TRACE.md 4). */
  pfs_sha256_ctx digest;
  uint32_t cores, records;
  pending_read pending[PENDING_READS_MAX];
  uint8_t chunk[REPLAY_CHUNK_BYTES];
} replay;

typedef pfs_replay_status status;

/* --- the end line (replay_report.c) --- */
status replay_malformed(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
status replay_mismatch(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* MISMATCH naming the trap (or MALFORMED when the core needs more memory
 * than this host gives) when the core has trapped; else OK. */
status replay_check_trap(replay *r);
const char *replay_kind_name(uint8_t kind);
/* Shortest decimal that reads back as the same double (JS Number style). */
void replay_format_double(double v, char *buf, unsigned room);
void replay_fold(replay *r, uint8_t kind, const void *observed, uint32_t n);
void replay_fold_u32(replay *r, uint8_t kind, uint32_t observed);

/* --- bodies (replay_body.c) --- */
/* Reads the next n bytes of the body; MALFORMED when the file ends. */
status body_read(replay *r, void *dst, uint32_t n);
/* Reads the next n bytes of the body straight into core memory at ptr;
 * MISMATCH when the core's range is outside its memory. `what` names the
 * range in that line. */
status body_into_core(replay *r, uint32_t ptr, uint32_t n, const char *what);
/* Reads and discards the rest of the body. */
status body_skip_rest(replay *r);
uint32_t le_u32(const uint8_t *p);
int32_t le_i32(const uint8_t *p);
double le_f64(const uint8_t *p);
void put_le_u32(uint8_t *p, uint32_t v);

/* --- per kind --- */
/* The fixed part of a kind's body (replay.c's layout table). */
uint32_t replay_fixed_bytes(uint8_t kind);
status replay_input(replay *r);       /* T_NEED ... T_TIMER */
status replay_drain(replay *r);       /* T_DRAIN */
status replay_deadline(replay *r);    /* T_DEADLINE */
status replay_counters(replay *r);    /* T_COUNTERS */
status replay_state(replay *r);       /* T_STATE */
status replay_end(replay *r);         /* T_END */

/* --- pending flash reads (replay_pending.c) --- */
void pending_clear(replay *r);
status pending_note(replay *r, int32_t handle, uint32_t tag, uint32_t ptr, uint32_t len);
/* The pending read with this key, or NULL. */
pending_read *pending_find(replay *r, int32_t handle, uint32_t tag);

#endif
