/* The trace replayer (docs/TRACE.md): feeds a recorded trace into fresh
 * wasm2c instances of pfs.wasm and compares every answer with what the
 * recording saw. It reads the trace as a stream through a pfs_reader with
 * fixed, small buffers: input bytes go straight into core memory after
 * bounds checks, outboxes are compared chunk by chunk, nothing grows with
 * the trace.
 *
 *   pfs_reader in = pfs_reader_stdio(f);
 *   pfs_replay_result res;
 *   switch (pfs_replay_run(&in, NULL, &res)) { ... }   then print res.line
 *
 * Exit statuses (docs/TRACE.md): 0 every answer agreed; 1 the first
 * difference (a core trap is one), res.line is "mismatch: ..."; 2 the trace
 * is malformed or cut short, or cannot run here (a core that needs more
 * memory than this host gives), res.line is "pfs-replay: ...". */
#ifndef PFS_REPLAY_H
#define PFS_REPLAY_H

#include <stdint.h>

#include "reader.h"
#include "sha256.h"

/* Room for the one line a replay ends with, NUL included. */
#define PFS_REPLAY_LINE_BYTES 400u

typedef enum pfs_replay_status {
  PFS_REPLAY_OK = 0,
  PFS_REPLAY_MISMATCH = 1,
  PFS_REPLAY_MALFORMED = 2,
} pfs_replay_status;

typedef struct pfs_replay_options {
  /* Says whose memory ran out in a "needs more memory" line, e.g.
   * "board mps2-an385 (memory.linearBytes 131072)"; NULL: "this host". */
  const char *memory_owner;
} pfs_replay_options;

typedef struct pfs_replay_result {
  pfs_replay_status status;
  uint8_t digest[PFS_SHA256_DIGEST_BYTES]; /* docs/TRACE.md 4, when OK */
  uint32_t records;                        /* outbox records of all T_DRAINs */
  uint32_t cores;                          /* T_COREs replayed */
  char line[PFS_REPLAY_LINE_BYTES];        /* OK: "digest <hex> records <n>" */
} pfs_replay_result;

/* Replays the whole trace from `in`; opts may be NULL. */
pfs_replay_status pfs_replay_run(pfs_reader *in, const pfs_replay_options *opts, pfs_replay_result *out);

#endif
