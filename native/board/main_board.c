/* The board's replayer: QEMU runs it as
 *
 *   qemu-system-arm -M mps2-an385 -nographic \
 *     -semihosting-config enable=on,target=native,arg=pfs-replay,arg=FILE \
 *     -kernel build/boards/mps2-an385/pfs.elf
 *
 * It reads FILE through newlib's stdio over semihosting, prints the same
 * line as the native replayer ("digest <hex> records <n>", or the first
 * "mismatch: ...", or "pfs-replay: ..."), then "stack <bytes>", the
 * deepest the stack went, and exits with the same status (replay.h). */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "board_main.h"
#include "reader.h"
#include "replay.h"
#include "semihost.h"
#include "stack_probe.h"

/* The command line: "pfs-replay FILE" and room for a long path. */
#define CMDLINE_MAX_BYTES 512u
/* stdio's buffer for the trace: big reads bypass it, into core memory;
 * every refill is one semihosting call. */
#define READ_BUFFER_BYTES 4096u
#define EXIT_CANNOT_RUN 2

extern void initialise_monitor_handles(void); /* newlib rdimon */
extern uint32_t __stack_bottom[], __stack_top[];

/* The FILE argument in the command line (the word after the first), or
 * NULL. Paths with spaces cannot pass through QEMU's arg= list anyway. */
static const char *file_argument(char *line) {
  char *space = strchr(line, ' ');
  if (space == NULL) return NULL;
  char *file = space + 1;
  while (*file == ' ') file++;
  char *end = strchr(file, ' ');
  if (end != NULL) *end = '\0';
  return *file != '\0' ? file : NULL;
}

int board_main(void) {
  static char cmdline[CMDLINE_MAX_BYTES];
  static char buffer[READ_BUFFER_BYTES];
  static pfs_replay_result res;
  initialise_monitor_handles();
  const char *path = semihost_cmdline(cmdline, sizeof cmdline) < 0 ? NULL : file_argument(cmdline);
  if (path == NULL) {
    printf("pfs-replay: no trace named: run with -semihosting-config enable=on,arg=pfs-replay,arg=FILE\n");
    return EXIT_CANNOT_RUN;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    printf("pfs-replay: cannot open %s through semihosting\n", path);
    return EXIT_CANNOT_RUN;
  }
  setvbuf(f, buffer, _IOFBF, sizeof buffer);
  pfs_reader in = pfs_reader_stdio(f);
  const pfs_replay_options opts = {
      "board " PFS_BOARD_NAME " (memory.linearBytes " PFS_BOARD_LINEAR_BYTES_TEXT ")",
  };
  pfs_replay_run(&in, &opts, &res);
  fclose(f);
  /* One console under semihosting: every line goes to stdout. */
  printf("%s\n", res.line);
  uintptr_t deepest = stack_deepest(__stack_bottom, __stack_top);
  printf("stack %u\n", (unsigned)((uintptr_t)__stack_top - deepest));
  if (deepest == (uintptr_t)__stack_bottom) printf("pfs-replay: the stack overflowed image.stackBytes\n");
  fflush(stdout);
  return deepest == (uintptr_t)__stack_bottom ? EXIT_CANNOT_RUN : (int)res.status;
}
