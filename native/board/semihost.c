/* Arm semihosting, the few calls the board makes itself (semihost.h). */
#include "semihost.h"

#include <assert.h>

/* The M-profile trap (semihost.h). */
uintptr_t semihost_call(uint32_t op, const void *param) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = param;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void semihost_write0(const char *s) {
  assert(s != NULL);
  semihost_call(SEMIHOST_SYS_WRITE0, s);
}

int semihost_cmdline(char *buf, size_t room) {
  assert(buf != NULL && room > 1);
  /* SYS_GET_CMDLINE: a block of {buffer, length}; the length comes back. */
  struct {
    char *buf;
    uint32_t len;
  } block = {buf, (uint32_t)(room - 1)};
  if (semihost_call(SEMIHOST_SYS_GET_CMDLINE, &block) != 0) return -1;
  if (block.len >= room) return -1;
  buf[block.len] = '\0';
  return (int)block.len;
}

void semihost_exit(int status) {
  /* SYS_EXIT_EXTENDED: {reason, subcode}; an application exit's subcode
   * is its exit status (plain SYS_EXIT cannot carry one on AArch32). */
  uint32_t block[2] = {SEMIHOST_APPLICATION_EXIT, (uint32_t)status};
  semihost_call(SEMIHOST_SYS_EXIT_EXTENDED, block);
  for (;;) {
    /* Not under a debugger: nothing to return to. */
  }
}
