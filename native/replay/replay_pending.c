/* The flash reads a T_DRAIN left pending, keyed by (handle, tag); a newer
 * read with the same key replaces the older (docs/TRACE.md 2). A fixed
 * table of PENDING_READS_MAX: more than maxStreams reads cannot be pending
 * in a well-formed trace, so overflow means a malformed one. */
#include <assert.h>
#include <string.h>

#include "replay_int.h"

void pending_clear(replay *r) { memset(r->pending, 0, sizeof r->pending); }

pending_read *pending_find(replay *r, int32_t handle, uint32_t tag) {
  for (unsigned i = 0; i < PENDING_READS_MAX; i++) {
    pending_read *p = &r->pending[i];
    if (p->used && p->handle == handle && p->tag == tag) return p;
  }
  return NULL;
}

status pending_note(replay *r, int32_t handle, uint32_t tag, uint32_t ptr, uint32_t len) {
  assert(pfs_mem_in(&r->core, ptr, len) && "the drain checks every view first");
  pending_read *p = pending_find(r, handle, tag);
  for (unsigned i = 0; p == NULL && i < PENDING_READS_MAX; i++) {
    if (!r->pending[i].used) p = &r->pending[i];
  }
  if (p == NULL) {
    return replay_malformed(r, "record %u T_DRAIN: more than %u flash reads pending at once", (unsigned)r->record,
                            PENDING_READS_MAX);
  }
  *p = (pending_read){handle, tag, ptr, len, true};
  return PFS_REPLAY_OK;
}
