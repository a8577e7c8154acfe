/* Linear memory as one static array: a board's backend. The array's size,
 * PFS_RT_STATIC_BYTES, is the board's memory.linearBytes (boards/<board>.json,
 * written to build/boards/<board>/board.h by host/tools/board-header.ts).
 * One memory at a time: a board runs one core. memory.grow past the array
 * is refused (returns -1 as wasm-rt.h specifies), never a fault. */
#include <assert.h>
#include <string.h>

#include "pfs_rt.h"

#ifndef PFS_RT_STATIC_BYTES
#error "PFS_RT_STATIC_BYTES (the board's linear memory) must be defined"
#endif
#if PFS_RT_STATIC_BYTES % 65536 != 0 || PFS_RT_STATIC_BYTES == 0
#error "PFS_RT_STATIC_BYTES must be a whole number of 64 KiB wasm pages"
#endif

#define STATIC_PAGES (PFS_RT_STATIC_BYTES / PFS_RT_PAGE_BYTES)

/* 8-byte alignment: wasm2c loads an f64 or i64 with memcpy, but aligned
 * data keeps those copies single loads on a Cortex-M. */
static uint8_t arena[PFS_RT_STATIC_BYTES] __attribute__((aligned(8)));
static bool arena_taken;

uint32_t pfs_rt_memory_limit_pages(void) { return STATIC_PAGES; }

void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial_pages, uint32_t max_pages) {
  assert(m != NULL);
  assert(!arena_taken && "a board runs one core at a time: free the last one first");
  m->data = arena;
  m->pages = 0;
  m->size = 0;
  m->max_pages = max_pages < STATIC_PAGES ? max_pages : STATIC_PAGES;
  if (initial_pages > STATIC_PAGES) {
    /* The module cannot even start here: a trap the embedder reports as
     * "needs more memory than the board has". */
    pfs_rt_note_refusal(initial_pages, STATIC_PAGES);
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  }
  arena_taken = true;
  /* A fresh instance starts from zeroed memory (core spec 1.0, 4.5.4). */
  memset(arena, 0, sizeof arena);
  m->pages = initial_pages;
  m->size = initial_pages * PFS_RT_PAGE_BYTES;
}

/* wasm-rt.h: returns the old page count, or UINT32_MAX when refused. */
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
  assert(m != NULL && m->data == arena && m->pages <= STATIC_PAGES);
  uint64_t wanted = (uint64_t)m->pages + delta;
  if (wanted > m->max_pages) {
    pfs_rt_note_refusal(wanted > UINT32_MAX ? UINT32_MAX : (uint32_t)wanted, m->max_pages);
    return UINT32_MAX;
  }
  uint32_t old = m->pages;
  /* The pages were zeroed at allocation and never used since. */
  m->pages = (uint32_t)wanted;
  m->size = m->pages * PFS_RT_PAGE_BYTES;
  return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *m) {
  assert(m != NULL);
  if (m->data == arena) arena_taken = false;
  m->data = NULL;
  m->pages = 0;
  m->size = 0;
}
