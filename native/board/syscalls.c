/* The one system call newlib's rdimon cannot do for this image: its _sbrk
 * grows the heap up to the stack pointer, but here the stack sits below the
 * heap (native/board/board.ld), so the heap is [__heap_start, __heap_end).
 * Only stdio's few buffers come from it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern char __heap_start[], __heap_end[];

void *_sbrk(ptrdiff_t incr) {
  static char *top = __heap_start;
  if (incr < 0 ? top + incr < __heap_start : incr > __heap_end - top) {
    errno = ENOMEM;
    return (void *)-1;
  }
  char *old = top;
  top += incr;
  return old;
}
