/* Traps and function types for wasm2c output (see pfs_rt.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pfs_rt.h"

/* Signatures this runtime can tell apart. pfs.wasm registers 31 (the
 * func_types[] array of build/native/gen/pfs.c); more is a fatal error at
 * start-up, never a silent collision. */
#define MAX_FUNC_TYPES 64u
/* Parameters plus results of one signature; pfs.wasm's widest has 7. */
#define MAX_SIGNATURE_VALUES 16u

typedef struct signature {
  uint8_t params, results;
  uint8_t values[MAX_SIGNATURE_VALUES]; /* wasm_rt_type_t, params first */
} signature;

static signature types[MAX_FUNC_TYPES];
static uint32_t type_count;
static pfs_rt_refusal refusal;
static wasm_rt_trap_t last_trap;

jmp_buf *pfs_rt_landing;
/* wasm-rt.h: the depth counter the generated FUNC_PROLOGUE increments. */
uint32_t wasm_rt_call_stack_depth;

static WASM_RT_NO_RETURN void fatal(const char *why) {
  fprintf(stderr, "pfs-rt: %s\n", why);
  exit(3);
}

void wasm_rt_init(void) {}
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) { type_count = 0; }

WASM_RT_NO_RETURN void wasm_rt_trap(wasm_rt_trap_t code) {
  if (code == WASM_RT_TRAP_NONE) fatal("trap with no reason");
  if (pfs_rt_landing == NULL) fatal("trap outside a guarded call");
  jmp_buf *to = pfs_rt_landing;
  pfs_rt_landing = NULL;
  last_trap = code;
  longjmp(*to, (int)code);
}

static bool same(const signature *a, const signature *b) {
  if (a->params != b->params || a->results != b->results) return false;
  for (unsigned i = 0; i < (unsigned)a->params + a->results; i++) {
    if (a->values[i] != b->values[i]) return false;
  }
  return true;
}

/* wasm-rt.h: returns the same index for the same signature. The varargs
 * are wasm_rt_type_t, which the default argument promotions make int
 * (C11 6.5.2.2p6), so they are read as int: reading them as the enum type
 * is what HardFaults where enums are short (arm-none-eabi's default). */
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  if (params + results > MAX_SIGNATURE_VALUES) fatal("function signature wider than MAX_SIGNATURE_VALUES");
  signature s = {(uint8_t)params, (uint8_t)results, {0}};
  va_list args;
  va_start(args, results);
  for (uint32_t i = 0; i < params + results; i++) s.values[i] = (uint8_t)va_arg(args, int);
  va_end(args);
  for (uint32_t i = 0; i < type_count; i++) {
    if (same(&types[i], &s)) return i + 1;
  }
  if (type_count >= MAX_FUNC_TYPES) fatal("more function signatures than MAX_FUNC_TYPES");
  types[type_count++] = s;
  return type_count;
}

wasm_rt_trap_t pfs_rt_last_trap(void) { return last_trap; }
pfs_rt_refusal pfs_rt_last_refusal(void) { return refusal; }
void pfs_rt_forget_refusal(void) { refusal = (pfs_rt_refusal){0, 0}; }
void pfs_rt_note_refusal(uint32_t wanted_pages, uint32_t limit_pages) {
  refusal = (pfs_rt_refusal){wanted_pages, limit_pages};
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
#if !WASM_RT_MERGED_OOB_AND_EXHAUSTION_TRAPS
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
#endif
  }
  return "unknown trap";
}
