/* A minimal wasm2c runtime of our own, in place of wabt's wasm-rt-impl.c
 * (which needs <sys/mman.h> and malloc). It implements what wasm2c 1.0.32
 * output calls (the functions declared in /usr/include/wasm-rt.h that
 * build/native/gen/pfs.c uses) and nothing more, on any C99 target:
 *
 *   rt_core.c     traps (longjmp to the embedder's landing), function types
 *   mem_heap.c    linear memory from the C heap (the native replayer)
 *   mem_static.c  linear memory as one static array of PFS_RT_STATIC_BYTES
 *                 (a board: the size comes from boards/<board>.json)
 *
 * The generated code is compiled with WASM_RT_MEMCHECK_SIGNAL_HANDLER=0, so
 * every load and store is bounds-checked in C (wasm-rt.h: "explicit bounds
 * checks") and calls count their depth (WASM_RT_USE_STACK_DEPTH_COUNT).
 *
 * Single-threaded like the core itself (docs/ABI.md 1): one call into one
 * instance at a time, process-wide. */
#ifndef PFS_RT_H
#define PFS_RT_H

#include <setjmp.h>
#include <stdint.h>

#include "wasm-rt.h"

/* WebAssembly core spec 1.0, section 4.2.8: a page is 64 KiB. */
#define PFS_RT_PAGE_BYTES 65536u

/* Where wasm_rt_trap() jumps: the embedder points it at its own jmp_buf
 * right before each call into generated code, and clears it after. A trap
 * with no landing set is a bug of ours and stops the program. */
extern jmp_buf *pfs_rt_landing;
/* The reason of the last trap (the value wasm_rt_trap() was given). */
wasm_rt_trap_t pfs_rt_last_trap(void);

/* What the last refused memory.grow asked for, so a trap that follows it
 * (AssemblyScript's allocator executes `unreachable` when memory cannot
 * grow) can be reported as "needs more memory than this host has". */
typedef struct pfs_rt_refusal {
  uint32_t wanted_pages; /* pages the memory would have had; 0: none */
  uint32_t limit_pages;  /* the most this memory backend gives */
} pfs_rt_refusal;

/* The refusal since the last pfs_rt_forget_refusal(). */
pfs_rt_refusal pfs_rt_last_refusal(void);
void pfs_rt_forget_refusal(void);
/* For the memory backends: note a refused grow. */
void pfs_rt_note_refusal(uint32_t wanted_pages, uint32_t limit_pages);

/* The most pages a memory of this backend can have (static: the array). */
uint32_t pfs_rt_memory_limit_pages(void);

#endif
