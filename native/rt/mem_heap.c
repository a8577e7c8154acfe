/* Linear memory from the C heap: the native replayer's backend. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "pfs_rt.h"

/* A wasm32 memory has at most 2^16 pages (core spec 1.0, 2.5.5), but
 * wasm-rt.h keeps its size in bytes as a u32, so one page less. realloc
 * failing before that is a refused grow like any other. */
#define HEAP_LIMIT_PAGES 65535u

uint32_t pfs_rt_memory_limit_pages(void) { return HEAP_LIMIT_PAGES; }

void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial_pages, uint32_t max_pages) {
  assert(m != NULL && initial_pages <= HEAP_LIMIT_PAGES);
  m->max_pages = max_pages < HEAP_LIMIT_PAGES ? max_pages : HEAP_LIMIT_PAGES;
  m->pages = 0;
  m->size = 0;
  m->data = NULL;
  /* calloc(0) may return NULL; keep a valid pointer for the bounds maths. */
  size_t bytes = (size_t)initial_pages * PFS_RT_PAGE_BYTES;
  m->data = calloc(bytes > 0 ? bytes : 1, 1);
  if (m->data == NULL) {
    pfs_rt_note_refusal(initial_pages, 0);
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  }
  m->pages = initial_pages;
  m->size = (uint32_t)bytes;
}

/* wasm-rt.h: returns the old page count, or UINT32_MAX when refused. */
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
  assert(m != NULL && m->size == m->pages * (uint64_t)PFS_RT_PAGE_BYTES);
  uint64_t wanted = (uint64_t)m->pages + delta;
  if (wanted > m->max_pages) {
    pfs_rt_note_refusal(wanted > UINT32_MAX ? UINT32_MAX : (uint32_t)wanted, m->max_pages);
    return UINT32_MAX;
  }
  uint32_t old = m->pages;
  if (delta == 0) return old;
  size_t bytes = (size_t)wanted * PFS_RT_PAGE_BYTES;
  uint8_t *grown = realloc(m->data, bytes);
  if (grown == NULL) {
    pfs_rt_note_refusal((uint32_t)wanted, old);
    return UINT32_MAX;
  }
  memset(grown + m->size, 0, bytes - m->size);
  m->data = grown;
  m->pages = (uint32_t)wanted;
  m->size = (uint32_t)bytes;
  return old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *m) {
  assert(m != NULL);
  free(m->data);
  m->data = NULL;
  m->pages = 0;
  m->size = 0;
}
