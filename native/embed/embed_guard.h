/* The guard around every call into generated code (embedder-internal).
 *
 * setjmp() must run in the function that makes the call (C11 7.13.2.1: the
 * jmp_buf is dead once that function returns), so each wrapper expands
 * PFS_GUARDED_CALL itself; the bookkeeping around it is shared here. */
#ifndef PFS_EMBED_GUARD_H
#define PFS_EMBED_GUARD_H

#include <setjmp.h>

#include "pfs_core.h"
#include "pfs_rt.h"

/* Before a call: false (do nothing) when the instance is closed or has
 * trapped. Asserts no call is under way (no re-entry, docs/ABI.md 1). */
bool pfs_guard_enter(pfs_core *c, const char *call);
/* After a call that returned normally. */
void pfs_guard_leave(pfs_core *c);
/* After a trap landed: records what happened (kind, text). */
void pfs_guard_trapped(pfs_core *c);

/* Evaluates `expr` (a call into generated code) as `type`, or `dflt` when
 * the instance cannot be called or the call traps. */
#define PFS_GUARDED_CALL(c, name, type, dflt, expr) \
  do {                                              \
    if (!pfs_guard_enter((c), (name))) return dflt; \
    if (setjmp((c)->landing) != 0) {                \
      pfs_guard_trapped(c);                         \
      return dflt;                                  \
    }                                               \
    pfs_rt_landing = &(c)->landing;                 \
    type r_ = (type)(expr);                         \
    pfs_guard_leave(c);                             \
    return r_;                                      \
  } while (0)

#define PFS_GUARDED_VOID(c, name, expr)          \
  do {                                           \
    if (!pfs_guard_enter((c), (name))) return;   \
    if (setjmp((c)->landing) != 0) {             \
      pfs_guard_trapped(c);                      \
      return;                                    \
    }                                            \
    pfs_rt_landing = &(c)->landing;              \
    expr;                                        \
    pfs_guard_leave(c);                          \
  } while (0)

#endif
