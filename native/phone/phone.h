/* The C phone (build/native/pfs-phone): what main.c hands the boot, and
 * what the boot hands the upgrade. Mirrors host/phone/phone.ts: phone_boot.c
 * is bootLoop/bootOnce up to the index, phone_upgrade.c the transfer. */
#ifndef PFS_PHONE_PHONE_H
#define PFS_PHONE_PHONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "err.h"
#include "flash.h"
#include "loads.h"

/* A MAC is 12 hex digits (host/cli/phone.ts). */
#define PHONE_MAC_CHARS 12u

typedef struct phone_opts {
  char mac[PHONE_MAC_CHARS + 1]; /* upper case, separators dropped */
  const char *model;
  const char *tftp_host; /* numeric IPv4 */
  uint16_t tftp_port;
  const char *flash_path;
  const char *bind, *broadcast;
  uint16_t port;
  double linger_s; /* negative: the board's lingerMs */
  const char *log_host; /* --log-server (numeric IPv4), or NULL: the config's <logServer> */
  uint16_t log_port;
  const char *board;
  unsigned blksize;
  const char *loads_key; /* PEM text, or NULL */
  size_t loads_key_len;
} phone_opts;

typedef struct phone {
  const phone_opts *o;
  const pfs_board_row *board;
  pfs_flash_layout layout;
  pfs_flash *flash;
  int image_fd; /* the image opened again, read-only: the core's flash reads */
} phone;

/* Boots until a boot ends without a reboot: 0, or false with one line. */
bool phone_run(const phone_opts *o, pfs_err *err);

/* The transfer of an index's components into the open update and its
 * commit; false with one line (the old load still active). */
bool phone_upgrade(phone *ph, const pfs_loads_index *index, bool pfs, const char *host, uint16_t port, pfs_err *err);

/* host/phone/phone.ts hashSeed: the core's tie-break seed from the MAC. */
uint32_t phone_seed(const char *mac);

#endif
