/* Instances, the two imports and trap reports (pfs_core.h). */
#include "pfs_core.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "embed_guard.h"
#include "pfs_rt.h"
#include "sha256.h"

/* An AssemblyScript string's byte length is the u32 right before it
 * (docs/ABI.md 1.1); its text is UTF-16LE. */
#define AS_STRING_LENGTH_OFFSET 4u
#define UTF16_UNIT_BYTES 2u
/* Characters of the abort message and file name kept in a report. */
#define ABORT_TEXT_CHARS 80u

static bool module_ready;

bool pfs_core_open(pfs_core *c) {
  assert(c != NULL);
  memset(c, 0, sizeof *c);
  c->env.core = c;
  c->open = true;
  if (!module_ready) {
    wasm_rt_init();
    Z_pfs_init_module();
    module_ready = true;
  }
  if (!pfs_guard_enter(c, "instantiate")) return false;
  if (setjmp(c->landing) != 0) {
    pfs_guard_trapped(c);
    return false;
  }
  pfs_rt_landing = &c->landing;
  Z_pfs_instantiate(&c->wasm, &c->env);
  pfs_guard_leave(c);
  assert(c->wasm.w2c_memory.size >= PFS_RT_PAGE_BYTES);
  return true;
}

void pfs_core_close(pfs_core *c) {
  assert(c != NULL);
  assert(pfs_rt_landing == NULL && "close from inside a call");
  if (!c->open) return;
  Z_pfs_free(&c->wasm);
  c->open = false;
}

bool pfs_core_trapped(const pfs_core *c) { return c->trap.kind != PFS_TRAP_NONE; }
const pfs_trap *pfs_core_trap(const pfs_core *c) { return &c->trap; }

/* An AssemblyScript string from core memory as printable ASCII, at most
 * ABORT_TEXT_CHARS; "?" for what cannot be read or shown. */
static void as_string(const pfs_core *c, uint32_t ptr, char *out, size_t room) {
  assert(out != NULL && room > 1);
  uint32_t bytes = 0;
  out[0] = '\0';
  if (ptr < AS_STRING_LENGTH_OFFSET || !pfs_mem_load_u32(c, ptr - AS_STRING_LENGTH_OFFSET, &bytes) ||
      !pfs_mem_in(c, ptr, bytes)) {
    snprintf(out, room, "?");
    return;
  }
  size_t n = 0;
  for (uint32_t i = 0; i + 1 < bytes && n + 1 < room && n < ABORT_TEXT_CHARS; i += UTF16_UNIT_BYTES) {
    uint8_t lo = c->wasm.w2c_memory.data[ptr + i], hi = c->wasm.w2c_memory.data[ptr + i + 1];
    out[n++] = (hi == 0 && lo >= 0x20 && lo < 0x7f) ? (char)lo : '?';
  }
  out[n] = '\0';
}

/* env.abort(msg, file, line, column): report it and do not resume
 * (docs/ABI.md 1.1). */
void Z_envZ_abort(struct Z_env_instance_t *env, u32 msg, u32 file, u32 line, u32 column) {
  pfs_core *c = env->core;
  assert(c != NULL && c->env.core == c);
  char m[ABORT_TEXT_CHARS + 1], f[ABORT_TEXT_CHARS + 1];
  as_string(c, msg, m, sizeof m);
  as_string(c, file, f, sizeof f);
  c->trap.kind = PFS_TRAP_ABORT;
  snprintf(c->trap.text, sizeof c->trap.text, "abort in %s: %s at %s:%u:%u", c->trap.call, m, f, (unsigned)line, (unsigned)column);
  wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

/* env.sha256(ptr, len, out): the digest of core memory [ptr, ptr + len)
 * into [out, out + 32) (docs/ABI.md 1.2). A range outside memory traps:
 * the core promised never to ask for one. */
void Z_envZ_sha256(struct Z_env_instance_t *env, u32 ptr, u32 len, u32 out) {
  pfs_core *c = env->core;
  assert(c != NULL && c->env.core == c);
  uint8_t *data = pfs_mem_span(c, ptr, len);
  uint8_t *digest = pfs_mem_span(c, out, PFS_SHA256_DIGEST_BYTES);
  if (data == NULL || digest == NULL) {
    c->trap.kind = PFS_TRAP_WASM;
    snprintf(c->trap.text, sizeof c->trap.text, "env.sha256 asked for [%u, +%u) -> %u, outside memory of %u bytes",
             (unsigned)ptr, (unsigned)len, (unsigned)out, (unsigned)pfs_mem_size(c));
    wasm_rt_trap(WASM_RT_TRAP_OOB);
  }
  /* pfs_sha256 writes the digest only at the very end, so out may overlap
   * the input. */
  pfs_sha256(data, len, digest);
}
