/* The C embedder of pfs.wasm: the core compiled to C by wasm2c, with its
 * two imports in plain C, one instance per phone, a guarded call per
 * export and bounds-checked access to the core's memory. This is the API a
 * C host (a phone, a replayer, a board) is written against; it knows
 * nothing of sockets, files or clocks. docs/ABI.md says what every call
 * means; this header says how C reaches it.
 *
 * Life cycle (docs/ABI.md 2):
 *
 *   pfs_core core;
 *   if (!pfs_core_open(&core)) ...        fresh instance: memory, globals,
 *                                         start function
 *   pfs_mem_store_u32(&core, pfs_configPtr(&core) + 4 * PFS_CFG_SELF_ADDR, addr);
 *   if (pfs_init(&core) != 0) ...
 *   loop: pfs_onDatagram(&core, now, src, len); walk the outbox; ...
 *   pfs_core_close(&core);                frees the memory
 *
 * Calls. Every export X is pfs_X(core, args...), with the wasm types of
 * docs/ABI.md 3 as int32_t / uint32_t / double. A call that traps (the
 * core's env.abort, `unreachable`, an out-of-bounds access, call stack
 * exhaustion, memory that cannot grow) returns 0 and leaves the instance
 * trapped: from then on every call returns 0 and does nothing, and
 * pfs_core_trap() says what happened in one line. A trapped instance is
 * unusable (docs/ABI.md 1.1): close it and open a new one.
 *
 * Memory. The pfs_mem_* accessors check every range against the memory's
 * current size and refuse (false / NULL) rather than touch anything outside
 * it. A pointer from pfs_mem_span() is valid until the next call into the
 * core (memory may move when it grows, docs/ABI.md 1.3).
 *
 * Constants (record kinds, config words, flags) come from the generated
 * build/gen/pfs_abi.h, included here, never from hand-copied numbers.
 *
 * Threads: like the core (docs/ABI.md 1), not re-entrant; one call into one
 * instance at a time in the whole process (the trap landing is global). A
 * board has memory for one instance at a time. */
#ifndef PFS_CORE_H
#define PFS_CORE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "pfs.h"      /* wasm2c output: Z_pfs_instance_t, Z_pfsZ_* */
#include "pfs_abi.h"  /* generated from assembly/abi-numbers.ts */

/* Room for one line of trap report, NUL included. */
#define PFS_TRAP_TEXT_BYTES 200u

typedef enum pfs_trap_kind {
  PFS_TRAP_NONE = 0,
  PFS_TRAP_WASM,   /* a wasm trap: unreachable, out of bounds, ... */
  PFS_TRAP_ABORT,  /* the core called env.abort (docs/ABI.md 1.1) */
  PFS_TRAP_MEMORY, /* memory.grow was refused, then the core trapped:
                      it needs more memory than this host gives */
} pfs_trap_kind;

typedef struct pfs_trap {
  pfs_trap_kind kind;
  wasm_rt_trap_t code;          /* the wasm trap behind it */
  const char *call;             /* the export that trapped */
  uint32_t wanted_pages;        /* PFS_TRAP_MEMORY: pages asked for */
  uint32_t limit_pages;         /* PFS_TRAP_MEMORY: pages available */
  char text[PFS_TRAP_TEXT_BYTES]; /* one line, no newline */
} pfs_trap;

/* wasm2c passes this to the imports; it leads back to the core. */
struct Z_env_instance_t {
  struct pfs_core *core;
};

/* One instance. The fields are the embedder's: use the functions. */
typedef struct pfs_core {
  Z_pfs_instance_t wasm;
  struct Z_env_instance_t env;
  jmp_buf landing;
  pfs_trap trap;
  bool open;
} pfs_core;

/* --- life cycle (pfs_core.c) --- */

/* A fresh instance: new zeroed memory, the module's data and globals, its
 * start function run. false when that trapped (then see pfs_core_trap;
 * pfs_core_close is still needed). */
bool pfs_core_open(pfs_core *c);
/* Frees the instance's memory; c may be opened again. */
void pfs_core_close(pfs_core *c);
bool pfs_core_trapped(const pfs_core *c);
/* Why it trapped (kind PFS_TRAP_NONE when it did not). */
const pfs_trap *pfs_core_trap(const pfs_core *c);

/* --- memory (pfs_mem.c) --- */

uint32_t pfs_mem_size(const pfs_core *c);
/* [ptr, ptr + len) lies inside memory (len 0 at ptr == size is inside). */
bool pfs_mem_in(const pfs_core *c, uint32_t ptr, uint32_t len);
/* The bytes [ptr, ptr + len), or NULL when outside memory. */
uint8_t *pfs_mem_span(pfs_core *c, uint32_t ptr, uint32_t len);
bool pfs_mem_read(const pfs_core *c, uint32_t ptr, void *dst, uint32_t len);
bool pfs_mem_write(pfs_core *c, uint32_t ptr, const void *src, uint32_t len);
/* Little-endian u32 (docs/ABI.md conventions); false outside memory. */
bool pfs_mem_load_u32(const pfs_core *c, uint32_t ptr, uint32_t *out);
bool pfs_mem_store_u32(pfs_core *c, uint32_t ptr, uint32_t value);

/* --- calls, one per export (pfs_calls.c; docs/ABI.md 3) --- */

int32_t pfs_abiVersion(pfs_core *c);
uint32_t pfs_configPtr(pfs_core *c);
int32_t pfs_configWords(pfs_core *c);
int32_t pfs_init(pfs_core *c);
uint32_t pfs_inboxPtr(pfs_core *c);
int32_t pfs_inboxBytes(pfs_core *c);

uint32_t pfs_xidOf(pfs_core *c, int32_t modelLen, int32_t fileLen);
int32_t pfs_need(pfs_core *c, double nowMs, int32_t modelLen, int32_t fileLen, uint32_t sizeBytes, uint32_t heldBytes,
                 uint32_t flags);
int32_t pfs_setHeld(pfs_core *c, double nowMs, int32_t slot, uint32_t heldBytes, uint32_t flags);
int32_t pfs_release(pfs_core *c, double nowMs, int32_t slot);
void pfs_onDatagram(pfs_core *c, double nowMs, uint32_t src, int32_t len);
int32_t pfs_onStreamAccept(pfs_core *c, double nowMs, uint32_t peer);
void pfs_onStreamConnected(pfs_core *c, double nowMs, int32_t handle);
int32_t pfs_onStreamData(pfs_core *c, double nowMs, int32_t handle, int32_t len);
int32_t pfs_rxWindow(pfs_core *c, int32_t handle);
uint32_t pfs_rxPtr(pfs_core *c);
void pfs_onStreamRx(pfs_core *c, double nowMs, int32_t handle, int32_t len);
void pfs_onWriteDone(pfs_core *c, double nowMs, int32_t handle, int32_t len);
void pfs_onFlashWritten(pfs_core *c, double nowMs, int32_t slot, int32_t len);
void pfs_onFlashRead(pfs_core *c, double nowMs, int32_t handle, uint32_t tag, int32_t len);
void pfs_onStreamClosed(pfs_core *c, double nowMs, int32_t handle);
void pfs_onTimer(pfs_core *c, double nowMs);

double pfs_nextDeadlineMs(pfs_core *c);
uint32_t pfs_outboxPtr(pfs_core *c);
int32_t pfs_outboxLen(pfs_core *c);
void pfs_outboxClear(pfs_core *c);

int32_t pfs_hierCapacity(pfs_core *c);
int32_t pfs_hierRole(pfs_core *c, int32_t slot);
uint32_t pfs_hierXid(pfs_core *c, int32_t slot);
uint32_t pfs_hierStrength(pfs_core *c, int32_t slot);
int32_t pfs_hierDepth(pfs_core *c, int32_t slot);
uint32_t pfs_hierParent(pfs_core *c, int32_t slot);
uint32_t pfs_hierChild(pfs_core *c, int32_t slot, int32_t i);
uint32_t pfs_hierSubtreeSize(pfs_core *c, int32_t slot);
uint32_t pfs_hierSubtreeHeight(pfs_core *c, int32_t slot);
uint32_t pfs_hierPathAt(pfs_core *c, int32_t slot, int32_t i);
uint32_t pfs_hierHeld(pfs_core *c, int32_t slot);
uint32_t pfs_hierTotal(pfs_core *c, int32_t slot);
int32_t pfs_hierVerified(pfs_core *c, int32_t slot);
uint32_t pfs_blockBytes(pfs_core *c);
int32_t pfs_streamsOpen(pfs_core *c);
uint32_t pfs_malformedDatagrams(pfs_core *c);
uint32_t pfs_malformedFrames(pfs_core *c);
uint32_t pfs_staleHandles(pfs_core *c);
uint32_t pfs_outboxDroppedRecords(pfs_core *c);
uint32_t pfs_corruptBlocks(pfs_core *c);
uint32_t pfs_refetchedBytes(pfs_core *c);
int32_t pfs_heapMark(pfs_core *c);

#endif
