/* pfs-replay: the native trace replayer (docs/TRACE.md).
 *
 *   pfs-replay [--stack] FILE      FILE "-" reads stdin
 *
 * Prints "digest <hex> records <n>" on stdout and exits 0; or prints the
 * first difference "mismatch: ..." on stdout and exits 1; or "pfs-replay:
 * ..." on stderr and exits 2 for a malformed, cut-short or unrunnable
 * trace. With --stack the replay runs on a thread whose stack was painted
 * first, and a last line "stack <bytes>" gives the deepest C stack the
 * replay (the core inside it) used. */
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "replay.h"
#include "stack_probe.h"

/* stdio's buffer for the trace: large reads go past it, into core memory. */
#define READ_BUFFER_BYTES (64u * 1024u)
/* The replay thread's stack for --stack: far more than a core needs
 * (the board gives it boards/mcu.json image.stackBytes). */
#define REPLAY_THREAD_STACK_BYTES (8u * 1024u * 1024u)
#define EXIT_USAGE 2

typedef struct job {
  FILE *f;
  pfs_replay_result res;
  uintptr_t entry; /* the thread's frame at entry: where its use starts */
} job;

static void *run(void *arg) {
  job *j = arg;
  j->entry = (uintptr_t)__builtin_frame_address(0);
  pfs_reader in = pfs_reader_stdio(j->f);
  pfs_replay_run(&in, NULL, &j->res);
  return NULL;
}

/* Runs the job on a painted stack; the high-water in bytes, or 0. */
static size_t run_measured(job *j) {
  uint32_t *stack = aligned_alloc(64, REPLAY_THREAD_STACK_BYTES);
  if (stack == NULL) return 0;
  uint32_t *top = stack + REPLAY_THREAD_STACK_BYTES / sizeof *stack;
  stack_paint(stack, top);
  pthread_attr_t attr;
  pthread_t t;
  size_t used = 0;
  if (pthread_attr_init(&attr) == 0 && pthread_attr_setstack(&attr, stack, REPLAY_THREAD_STACK_BYTES) == 0 &&
      pthread_create(&t, &attr, run, j) == 0) {
    pthread_join(t, NULL);
    uintptr_t deepest = stack_deepest(stack, top);
    assert(deepest <= j->entry && j->entry < (uintptr_t)top);
    used = j->entry - deepest;
  } else {
    run(j);
  }
  pthread_attr_destroy(&attr);
  free(stack);
  return used;
}

int main(int argc, char **argv) {
  bool stack = argc == 3 && strcmp(argv[1], "--stack") == 0;
  if (argc != 2 + (stack ? 1 : 0)) {
    fprintf(stderr, "usage: pfs-replay [--stack] FILE\n");
    return EXIT_USAGE;
  }
  const char *path = argv[argc - 1];
  static job j;
  static char buffer[READ_BUFFER_BYTES];
  j.f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (j.f == NULL) {
    fprintf(stderr, "pfs-replay: cannot open %s\n", path);
    return PFS_REPLAY_MALFORMED;
  }
  setvbuf(j.f, buffer, _IOFBF, sizeof buffer);
  size_t used = 0;
  if (stack) {
    used = run_measured(&j);
  } else {
    run(&j);
  }
  fprintf(j.res.status == PFS_REPLAY_MALFORMED ? stderr : stdout, "%s\n", j.res.line);
  if (stack) printf("stack %zu\n", used);
  return (int)j.res.status;
}
