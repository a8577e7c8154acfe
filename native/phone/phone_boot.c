/* One phone's boots (host/phone/boot-flow.ts, phone.ts bootOnce): power up,
 * read the configuration from the server, confirm a trial, compare, read
 * and check the index, begin the update, hand over to phone_upgrade. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "pfs_abi.h"
#include "console.h"
#include "phone.h"
#include "syslog_out.h"
#include "tftp.h"

/* boot-flow.ts MAX_BOOTS_PER_RUN: the factory load, the upgraded one, and
 * one more for a configuration that changed its mind meanwhile. */
#define PHONE_BOOTS_MAX 4
/* The core's lingerMs when the board leaves it 0 (assembly/config.ts). */
#define CORE_LINGER_MS_DEFAULT 600000u
/* syslog over UDP's port (RFC 5426 section 3.3), for a <logServer> without one. */
#define SYSLOG_PORT 514u
/* config.ts DEFAULT_CONFIG_FILE. */
#define DEFAULT_CONFIG_FILE "XMLDefault.cnf.xml"

enum boot_outcome { BOOT_FAILED = -1, BOOT_DONE = 0, BOOT_REBOOT = 1 };

/* Buffers for the files read whole: static, one boot at a time. */
static uint8_t file_buf[PFS_CONFIG_BYTES_MAX > PFS_LOADS_BYTES_MAX ? PFS_CONFIG_BYTES_MAX : PFS_LOADS_BYTES_MAX];
static uint8_t verify_scratch[PFS_LOADS_VERIFY_SCRATCH_BYTES];
static pfs_default_config defaults;
static pfs_loads_index index_of_load;

uint32_t phone_seed(const char *mac) {
  uint32_t h = 0x811c9dc5u; /* FNV-1a, as hashSeed */
  for (const char *c = mac; *c != '\0'; c++) h = (h ^ (uint8_t)*c) * 0x01000193u;
  return h != 0 ? h : 1u;
}

/* A failed read of a server file as host/phone/errors.ts serverFileError says it;
 * *absent for TFTP error 1 (file not found). */
static bool get_file(const phone_opts *o, const char *host, uint16_t port, const char *file, size_t cap, size_t *len, bool *absent,
                     pfs_err *err) {
  pfs_tftp_opts t;
  pfs_tftp_opts_init(&t);
  t.host = host;
  t.port = port;
  t.file = file;
  t.local_addr = o->bind;
  t.blksize = o->blksize;
  t.tsize = true;
  t.max_bytes = cap;
  pfs_err why = {{0}};
  pfs_tftp_failure failure = PFS_TFTP_FAIL_NONE;
  if (absent != NULL) *absent = false;
  if (pfs_tftp_get_buffer(&t, file_buf, cap, len, &failure, &why)) return true;
  bool not_found = failure == PFS_TFTP_FAIL_NOT_FOUND, too_large = failure == PFS_TFTP_FAIL_TOO_LARGE;
  if (not_found && absent != NULL) *absent = true;
  return pfs_fail(err, "%s from the server %s: %s", file, not_found ? "not found" : too_large ? "too large" : "could not be fetched", why.text);
}

/* A parser's error without its leading "<file>: ", as serverFileError. */
static bool unusable(const char *file, const pfs_err *why, pfs_err *err) {
  const char *inner = why->text;
  size_t n = strlen(file);
  if (strncmp(inner, file, n) == 0 && strncmp(inner + n, ": ", 2) == 0) inner += n + 2;
  else if (strncmp(inner, ".loads: ", 8) == 0) inner += 8;
  return pfs_fail(err, "%s from the server cannot be used: %s", file, inner);
}

/* SEP<MAC>.cnf.xml, then XMLDefault.cnf.xml when it names no load: the
 * load configured, or NULL; false on a failure. */
static bool read_config(const phone_opts *o, pfs_device_config *dev, bool *has_dev, const char **target, bool *from_device,
                        pfs_err *err) {
  char file[32];
  snprintf(file, sizeof file, "SEP%s.cnf.xml", o->mac);
  size_t len = 0;
  bool absent = false;
  pfs_err why = {{0}};
  *has_dev = get_file(o, o->tftp_host, o->tftp_port, file, PFS_CONFIG_BYTES_MAX, &len, &absent, err);
  if (!*has_dev && !absent) return false;
  if (*has_dev && !pfs_config_parse_device(file_buf, len, file, dev, &why)) return unusable(file, &why, err);
  if (!*has_dev) con_say("WRN", "%s not found: using XMLDefault.cnf.xml", file);
  bool use_defaults = !*has_dev || !dev->has_load;
  if (use_defaults) {
    if (!get_file(o, o->tftp_host, o->tftp_port, DEFAULT_CONFIG_FILE, PFS_CONFIG_BYTES_MAX, &len, NULL, err)) return false;
    if (!pfs_config_parse_default(file_buf, len, DEFAULT_CONFIG_FILE, &defaults, &why)) return unusable(DEFAULT_CONFIG_FILE, &why, err);
  }
  *target = pfs_config_configured_load(*has_dev ? dev : NULL, use_defaults ? &defaults : NULL, o->model, from_device);
  return true;
}

/* confirmIfTrial: reaching the server and reading the configuration is
 * "come up". */
static bool confirm_if_trial(phone *ph, pfs_err *err) {
  if (pfs_flash_on_trial(ph->flash) < 0) return true;
  static pfs_flash_boot b;
  pfs_err why = {{0}};
  if (!pfs_flash_confirm(ph->flash, &b, &why)) return pfs_fail(err, "flash image %s: confirming the trial load: %s", ph->o->flash_path, why.text);
  con_say("NOT", "load %s came up on trial (its configuration read from the server): confirmed in slot %s",
          b.has_manifest ? b.manifest.load_name : "undefined", pfs_flash_slot_name(b.slot));
  return true;
}

/* readIndex and componentsToFetch: the index from the load server, its
 * signature checked first when the phone has a key. */
static bool read_index(phone *ph, const char *host, uint16_t port, const char *load, pfs_err *err) {
  char file[PFS_LOAD_NAME_CHARS_MAX + 8];
  snprintf(file, sizeof file, "%s.loads", load);
  size_t len = 0;
  if (!get_file(ph->o, host, port, file, PFS_LOADS_BYTES_MAX, &len, NULL, err)) return false;
  pfs_err why = {{0}};
  if (ph->o->loads_key != NULL) {
    if (!pfs_loads_verify(file_buf, len, ph->o->loads_key, ph->o->loads_key_len, verify_scratch, sizeof verify_scratch, &why)) {
      return pfs_fail(err, "%s: its signature does not verify with the configured key: %s", file, why.text);
    }
    con_say("NOT", "%s: signature verified", file);
  }
  if (!pfs_loads_parse(file_buf, len, file, &index_of_load, &why)) return unusable(file, &why, err);
  uint32_t max_file = ph->board->words[PFS_CFG_MAX_FILE_BYTES];
  if (!pfs_loads_check_fetchable(&index_of_load, file, max_file != 0 ? max_file : PFS_LOADS_FILE_BYTES_DEFAULT, &why)) {
    return pfs_fail(err, "%s", why.text);
  }
  return true;
}

/* U0-U2 for the index's components (all checked fetchable). */
static bool begin_update(phone *ph, const char *load, pfs_err *err) {
  static pfs_flash_new_component c[PFS_LOADS_COMPONENTS_MAX];
  const pfs_loads_index *ix = &index_of_load;
  if (ix->component_count > PFS_FLASH_MAX_COMPONENTS) {
    return pfs_fail(err, "%s.loads: it names %zu components; the flash keeps at most %u; nothing was written (the old load stays active)", load,
                    ix->component_count, PFS_FLASH_MAX_COMPONENTS);
  }
  for (size_t i = 0; i < ix->component_count; i++) {
    c[i].name = ix->components[i].name;
    c[i].size_bytes = (uint32_t)ix->components[i].size_bytes;
    memcpy(c[i].sha256, ix->components[i].sha256, PFS_FLASH_HASH_BYTES);
    memcpy(c[i].list_sha256, ix->components[i].list_sha256, PFS_FLASH_HASH_BYTES);
  }
  pfs_err why = {{0}};
  if (!pfs_flash_begin_update(ph->flash, load, c, (uint32_t)ix->component_count, &why)) {
    return pfs_fail(err, "flash image %s: starting the update: %s", ph->o->flash_path, why.text);
  }
  return true;
}

/* The load server: the configuration's <loadServer>, else the TFTP one. */
static void load_server(const phone_opts *o, const pfs_device_config *dev, bool has_dev, const char **host, uint16_t *port) {
  *host = o->tftp_host;
  *port = o->tftp_port;
  if (!has_dev || !dev->load_server.set) return;
  *host = strcmp(dev->load_server.host, "localhost") == 0 ? "127.0.0.1" : dev->load_server.host;
  if (dev->load_server.port != 0) *port = dev->load_server.port;
}

static enum boot_outcome boot_once(phone *ph, const pfs_flash_boot *booted, pfs_err *err) {
  const char *running = booted->verified && booted->has_manifest ? booted->manifest.load_name : NULL;
  static pfs_device_config dev;
  bool has_dev = false, from_device = false;
  const char *target = NULL;
  if (!read_config(ph->o, &dev, &has_dev, &target, &from_device, err)) return BOOT_FAILED;
  syslog_out_load(target != NULL ? target : "");
  /* The configuration's <logServer>, or none: the lines so far go out or
   * away. --log-server decided first and wins (a second decision is ignored). */
  if (has_dev && dev.log_server.set) syslog_out_use(dev.log_server.host, dev.log_server.port != 0 ? dev.log_server.port : SYSLOG_PORT);
  else syslog_out_use(NULL, 0);
  if (!confirm_if_trial(ph, err)) return BOOT_FAILED;
  if (target == NULL || !pfs_config_upgrade_needed(target, running)) {
    con_say("NOT", "load %s: no upgrade needed", target != NULL ? target : "(none configured)");
    return BOOT_DONE;
  }
  char load[PFS_LOAD_NAME_CHARS_MAX + 1];
  snprintf(load, sizeof load, "%s", target); /* target points into buffers the next read reuses */
  bool pfs = has_dev && dev.has_pfs && dev.pfs;
  const char *host;
  uint16_t port;
  load_server(ph->o, &dev, has_dev, &host, &port);
  con_say("NOT", "upgrade %s -> %s (from %s); peer firmware sharing %s", running != NULL ? running : "(none)", load,
          from_device ? "device" : "default", pfs ? "on" : "off");
  if (!read_index(ph, host, port, load, err) || !begin_update(ph, load, err)) return BOOT_FAILED;
  if (!phone_upgrade(ph, &index_of_load, pfs, host, port, err)) return BOOT_FAILED;
  return BOOT_REBOOT;
}

/* powerUpLine of boot-flow.ts. */
static void say_power_up(const pfs_flash_boot *b) {
  const char *load = b->verified && b->has_manifest ? b->manifest.load_name : "(no verified load)";
  con_say("NOT", "booted %s from slot %s%s: %s", load, pfs_flash_slot_name(b->slot),
          b->trial ? " on trial (it must come up to be kept)" : "", b->reason);
}

static bool open_image(phone *ph, pfs_err *err) {
  const char *path = ph->o->flash_path;
  if (access(path, F_OK) != 0) {
    return pfs_fail(err, "no flash image at %s: make one with 'pfs flash format --flash %s --load <name>'", path, path);
  }
  pfs_err why = {{0}};
  ph->flash = pfs_flash_open(path, &ph->layout, &why);
  if (ph->flash == NULL) return pfs_fail(err, "flash image %s: open: %s", path, why.text);
  return true;
}

/* The options as this board runs them: the linger is the board's unless
 * --linger gave one; the log server of --log-server opened at once. */
static void board_opts(const pfs_board_row *board, const phone_opts *given, phone_opts *o) {
  *o = *given;
  if (o->linger_s < 0) {
    uint32_t ms = board->words[PFS_CFG_LINGER_MS];
    o->linger_s = (ms != 0 ? ms : CORE_LINGER_MS_DEFAULT) / 1000.0;
  }
  syslog_out_identity(o->mac, o->bind);
  if (o->log_host != NULL) syslog_out_use(o->log_host, o->log_port);
}

bool phone_run(const phone_opts *given, pfs_err *err) {
  static phone_opts opts;
  const phone_opts *o = &opts;
  phone ph = {.o = o};
  if (!board_find(given->board, &ph.board, &ph.layout, err)) return false;
  board_opts(ph.board, given, &opts);
  bool ok = open_image(&ph, err);
  static pfs_flash_boot booted;
  enum boot_outcome out = BOOT_FAILED;
  for (int n = 1; ok && n <= PHONE_BOOTS_MAX; n++) {
    pfs_flash_power_up(ph.flash, &booted);
    say_power_up(&booted);
    out = boot_once(&ph, &booted, err);
    if (out != BOOT_REBOOT) break;
    if (n < PHONE_BOOTS_MAX) con_say("NOT", "rebooting into the new load (boot %d of at most %d)", n + 1, PHONE_BOOTS_MAX);
  }
  if (ok && out == BOOT_REBOOT) {
    pfs_fail(err, "rebooted %d times in one run, each into another new load: stopping (the last one is committed on trial)", PHONE_BOOTS_MAX);
  }
  pfs_err why = {{0}};
  bool closed = pfs_flash_close(ph.flash, &why);
  if (ok && out == BOOT_DONE && !closed) return pfs_fail(err, "flash image %s: close: %s", o->flash_path, why.text);
  return ok && out == BOOT_DONE;
}
