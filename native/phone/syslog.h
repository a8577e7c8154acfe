/* One RFC 5424 syslog message of the phone (docs/LOGGING.md): a console
 * line or a status tick, formatted into a caller's fixed buffer. The same
 * bytes as the Node phone's (host/log/), so a log server cannot tell the two
 * phones apart. Pure: no clock, no socket (syslog_out.c sends). */
#ifndef PFS_PHONE_SYSLOG_H
#define PFS_PHONE_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A datagram is at most this long: RFC 5426 section 3.2 says receivers
 * should take 2048 octets, and docs/LOGGING.md fixes it for both phones; a
 * longer MSG is cut to fit. */
#define PFS_SYSLOG_DATAGRAM_BYTES_MAX 2048u
/* Facility local0 (RFC 5424 section 6.2.1, table 1): PRI = 16 * 8 + severity. */
#define PFS_SYSLOG_FACILITY 16u
/* The SD-ID (host/view/report.ts SD_ID): 32473 is the enterprise number
 * RFC 5612 reserves for documentation. */
#define PFS_SYSLOG_SD_ID "pfs@32473"
/* Roles by the core's Role numbers (host/view/report.ts ROLE_NAMES). */
#define PFS_SYSLOG_ROLES 7

/* What a message says of one component (report.ts ComponentState). */
typedef struct pfs_syslog_comp {
  uint32_t xid;
  const char *model, *file;
  int role;        /* 0..PFS_SYSLOG_ROLES-1 */
  uint32_t held;   /* bytes held, the block list excluded */
  uint32_t size;   /* the file's size from the index */
  uint32_t parent; /* IPv4, host order; 0: none */
  int depth;
  uint64_t wan; /* bytes fetched from the load server for the file */
  bool done;
} pfs_syslog_comp;

typedef struct pfs_syslog_msg {
  int severity;         /* RFC 5424: 0..7 */
  int64_t at_epoch_ms;  /* the TIMESTAMP, UTC */
  const char *mac;      /* 12 upper-case hex digits */
  const char *ip, *load;
  const pfs_syslog_comp *comp; /* NULL: not about a component */
  const char *event;    /* report.ts REPORT_EVENTS, or NULL */
  const char *text;     /* the console line; NULL: a status tick */
} pfs_syslog_msg;

/* The severity of a console level label ("ERR" .. "DBG"; report.ts
 * LEVEL_SEVERITY); any other label is information (6). */
int pfs_syslog_severity(const char *level);

/* The message into out[cap] (not NUL-terminated; cap at most
 * PFS_SYSLOG_DATAGRAM_BYTES_MAX is what is sent): its length, the MSG cut
 * to fit, or 0 when even the header and structured data do not fit. */
size_t pfs_syslog_format(const pfs_syslog_msg *m, char *out, size_t cap);

#endif
