/* Bookkeeping around each guarded call (embed_guard.h). */
#include "embed_guard.h"

#include <assert.h>
#include <stdio.h>

#include "pfs_rt.h"

bool pfs_guard_enter(pfs_core *c, const char *call) {
  assert(c != NULL && call != NULL);
  assert(pfs_rt_landing == NULL && "a call into the core from inside a call (docs/ABI.md 1: not re-entrant)");
  if (!c->open || c->trap.kind != PFS_TRAP_NONE) return false;
  assert(wasm_rt_call_stack_depth == 0);
  c->trap.call = call;
  pfs_rt_forget_refusal();
  return true;
}

void pfs_guard_leave(pfs_core *c) {
  assert(c != NULL && pfs_rt_landing == &c->landing);
  assert(wasm_rt_call_stack_depth == 0);
  pfs_rt_landing = NULL;
}

void pfs_guard_trapped(pfs_core *c) {
  assert(c != NULL && c->trap.call != NULL);
  /* wasm_rt_trap() cleared the landing; the frames it unwound never ran
   * their FUNC_EPILOGUE, so the depth starts over here. */
  assert(pfs_rt_landing == NULL);
  wasm_rt_call_stack_depth = 0;
  pfs_trap *t = &c->trap;
  t->code = pfs_rt_last_trap();
  pfs_rt_refusal r = pfs_rt_last_refusal();
  if (t->kind == PFS_TRAP_ABORT) return; /* the import wrote its text */
  if (r.wanted_pages != 0 && (t->code == WASM_RT_TRAP_UNREACHABLE || t->code == WASM_RT_TRAP_OOB)) {
    /* AssemblyScript's allocator executes `unreachable` when memory.grow
     * fails; a memory that cannot even be allocated traps out of bounds. */
    t->kind = PFS_TRAP_MEMORY;
    t->wanted_pages = r.wanted_pages;
    t->limit_pages = r.limit_pages;
    /* In KiB: a page is 64 of them, and no %llu is needed (newlib-nano has
     * none) for memories up to 4 GiB. */
    snprintf(t->text, sizeof t->text, "memory.grow to %u pages (%u KiB) refused in %s, the limit is %u pages (%u KiB)",
             (unsigned)r.wanted_pages, (unsigned)r.wanted_pages * (PFS_RT_PAGE_BYTES / 1024u), t->call,
             (unsigned)r.limit_pages, (unsigned)r.limit_pages * (PFS_RT_PAGE_BYTES / 1024u));
    return;
  }
  if (t->kind == PFS_TRAP_NONE) {
    t->kind = PFS_TRAP_WASM;
    snprintf(t->text, sizeof t->text, "%s trapped: %s", t->call, wasm_rt_strerror(t->code));
  }
  assert(t->kind != PFS_TRAP_NONE && t->text[0] != '\0');
}
