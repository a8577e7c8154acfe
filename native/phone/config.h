/* The phone's configuration as its TFTP server serves it: SEP<MAC>.cnf.xml
 * (the load to run, PFS on or off, an alternate server for loads) and
 * XMLDefault.cnf.xml (a default load per device type). The same decisions
 * and values as host/load/config.ts; docs/LOADS.md "Configuration files".
 * Parsed with expat; nothing is allocated but expat's own parser state, and
 * the results are plain structs of fixed size. */
#ifndef PFS_PHONE_CONFIG_H
#define PFS_PHONE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* MAX_CONFIG_BYTES in host/load/config.ts: a configuration file is a few
 * KiB; anything over 1 MiB is refused before it is parsed. */
#define PFS_CONFIG_BYTES_MAX (1u << 20)
/* A load name is a plain file name (isPlainName, host/load/loads.ts
 * MAX_NAME_CHARS). config.ts puts no length on <loadInformation>; we refuse
 * a longer one, since no index of that name could exist. */
#define PFS_LOAD_NAME_CHARS_MAX 255u
/* A DNS name is at most 253 characters (RFC 1035 section 2.3.4, as
 * parseLoadServer in config.ts checks). */
#define PFS_HOST_CHARS_MAX 253u
/* The `model` attribute of <loadInformationNNN>: real files carry
 * "Cisco 7961G-GE" and the like; a longer one is refused (config.ts keeps
 * any length; ours must fit a fixed struct). */
#define PFS_XML_MODEL_CHARS_MAX 64u
/* Entries <loadInformationNNN> in XMLDefault.cnf.xml: public files carry a
 * few dozen device types; config.ts has no limit, we refuse more. */
#define PFS_DEFAULT_LOADS_MAX 128u

typedef struct pfs_load_server {
  bool set;
  char host[PFS_HOST_CHARS_MAX + 1];
  /* 0: no port given (the caller uses TFTP's 69). */
  uint16_t port;
} pfs_load_server;

/* What SEP<MAC>.cnf.xml sets. An element missing or empty is "not set". */
typedef struct pfs_device_config {
  bool has_load;
  /* Trimmed, a trailing ".loads" dropped (normalizeLoadName). */
  char load[PFS_LOAD_NAME_CHARS_MAX + 1];
  bool has_pfs;
  bool pfs;
  pfs_load_server load_server;
  /* <logServer>: where the phone sends its syslog (docs/LOGGING.md); the
   * same syntax and limits as <loadServer>; port 0: syslog's 514. */
  pfs_load_server log_server;
} pfs_device_config;

typedef struct pfs_default_load {
  /* The NNN of <loadInformationNNN>: the vendor's device-type number. */
  uint32_t type_code;
  bool has_model;
  char model[PFS_XML_MODEL_CHARS_MAX + 1];
  char load[PFS_LOAD_NAME_CHARS_MAX + 1];
} pfs_default_load;

/* XMLDefault.cnf.xml: the non-empty entries, in file order. */
typedef struct pfs_default_config {
  size_t count;
  pfs_default_load loads[PFS_DEFAULT_LOADS_MAX];
} pfs_default_config;

/* Each parses `len` bytes of XML; `file` names it in errors. On failure
 * returns false with one line in err (the file, the element or the line and
 * column); *out is then unspecified. Refused unread: more than
 * PFS_CONFIG_BYTES_MAX, not UTF-8, empty, any "<!DOCTYPE" or "<!ENTITY". */
bool pfs_config_parse_device(const uint8_t *xml, size_t len, const char *file, pfs_device_config *out, pfs_err *err);
bool pfs_config_parse_default(const uint8_t *xml, size_t len, const char *file, pfs_default_config *out, pfs_err *err);

/* The default load for a phone model ("CP-7961G", or the file's attribute
 * "Cisco 7961"): by its device-type number, else by the model attribute
 * (defaultLoadFor). NULL when there is none. */
const char *pfs_config_default_load(const pfs_default_config *cfg, const char *model);

/* The load a phone of `model` is told to run: its own <loadInformation>,
 * else the XMLDefault entry for its model (configuredLoad). Either config
 * may be NULL. NULL when nothing is configured; *from_device says which. */
const char *pfs_config_configured_load(const pfs_device_config *device, const pfs_default_config *defaults, const char *model,
                                       bool *from_device);

/* upgradeNeeded: true when the configured load differs from the running
 * one (both compared trimmed, without ".loads"); nothing configured: false;
 * nothing running (NULL or empty): true. */
bool pfs_config_upgrade_needed(const char *configured, const char *running);

/* The PFS precedence (resolvePfs): the device page, else the common phone
 * profile, else the enterprise default, else off. Each level is -1 unset,
 * 0 or 1. */
bool pfs_config_resolve_pfs(int enterprise, int common_profile, int device);

#endif
