/* pfs-embed-test: the embedder's own checks, run by
 * tests/host/native-embed.test.ts. Prints "ok <name>" per check and exits 0,
 * or "FAIL <name>: ..." and exits 1. It exercises what a trace cannot
 * reach: the trap paths of the two imports and what a trapped instance
 * does afterwards. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "embed_guard.h"
#include "pfs_core.h"

/* An AssemblyScript string: u32 byte length, then UTF-16LE (docs/ABI.md
 * 1.1). Written here into the inbox, which is ours between calls. */
#define AS_LENGTH_BYTES 4u

static int failures;

static void check(bool ok, const char *name, const char *detail) {
  if (ok) {
    printf("ok %s\n", name);
  } else {
    printf("FAIL %s: %s\n", name, detail);
    failures++;
  }
}

static uint32_t put_as_string(pfs_core *c, uint32_t at, const char *ascii) {
  uint32_t n = (uint32_t)strlen(ascii);
  pfs_mem_store_u32(c, at, 2 * n);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t unit[2] = {(uint8_t)ascii[i], 0};
    pfs_mem_write(c, at + AS_LENGTH_BYTES + 2 * i, unit, sizeof unit);
  }
  return at + AS_LENGTH_BYTES;
}

static void call_abort(pfs_core *c, uint32_t msg, uint32_t file) {
  PFS_GUARDED_VOID(c, "abortTest", Z_envZ_abort(&c->env, msg, file, 12u, 34u));
}

static void call_sha256(pfs_core *c, uint32_t ptr, uint32_t len, uint32_t out) {
  PFS_GUARDED_VOID(c, "sha256Test", Z_envZ_sha256(&c->env, ptr, len, out));
}

static bool open_ready(pfs_core *c) {
  if (!pfs_core_open(c)) return false;
  pfs_mem_store_u32(c, pfs_configPtr(c) + 4u * PFS_CFG_SELF_ADDR, 0x0a000001u);
  return pfs_init(c) == 0;
}

int main(void) {
  static pfs_core c; /* zeroed: pfs_core_trap() is safe before open */
  check(open_ready(&c) && pfs_abiVersion(&c) == (int32_t)PFS_ABI_VERSION, "open and init", pfs_core_trap(&c)->text);
  check(isinf(pfs_nextDeadlineMs(&c)), "an idle core has no deadline", "deadline is finite");
  check(!pfs_mem_in(&c, pfs_mem_size(&c) - 3u, 4u) && pfs_mem_span(&c, UINT32_MAX, 2u) == NULL &&
            !pfs_mem_store_u32(&c, pfs_mem_size(&c), 1u),
        "memory access past the end is refused", "an out-of-range access was allowed");

  uint32_t inbox = pfs_inboxPtr(&c);
  call_abort(&c, put_as_string(&c, inbox, "boom"), put_as_string(&c, inbox + 64u, "f.ts"));
  const pfs_trap *t = pfs_core_trap(&c);
  check(t->kind == PFS_TRAP_ABORT && strcmp(t->text, "abort in abortTest: boom at f.ts:12:34") == 0, "env.abort is a trap report",
        t->text);
  check(pfs_abiVersion(&c) == 0 && pfs_init(&c) == 0, "a trapped instance answers 0", "it answered");
  pfs_core_close(&c);

  check(open_ready(&c), "a fresh instance after a trap", pfs_core_trap(&c)->text);
  call_abort(&c, UINT32_MAX - 1u, 0u);
  check(pfs_core_trap(&c)->kind == PFS_TRAP_ABORT && strstr(pfs_core_trap(&c)->text, ": ? at ?:12:34") != NULL,
        "env.abort with unreadable strings", pfs_core_trap(&c)->text);
  pfs_core_close(&c);

  check(open_ready(&c), "another fresh instance", pfs_core_trap(&c)->text);
  call_sha256(&c, pfs_mem_size(&c) - 10u, 100u, 0u);
  t = pfs_core_trap(&c);
  check(t->kind == PFS_TRAP_WASM && t->code == WASM_RT_TRAP_OOB && strstr(t->text, "outside memory") != NULL,
        "env.sha256 outside memory traps, touching nothing", t->text);
  pfs_core_close(&c);

  check(open_ready(&c), "sha256 in bounds", pfs_core_trap(&c)->text);
  call_sha256(&c, inbox, 0u, inbox); /* SHA-256 of nothing, written over itself */
  uint32_t w0 = 0;
  check(!pfs_core_trapped(&c) && pfs_mem_load_u32(&c, inbox, &w0) && w0 == 0x42c4b0e3u,
        "env.sha256 of 0 bytes writes e3b0c442...", "wrong digest");
  pfs_core_close(&c);
  return failures == 0 ? 0 : 1;
}
