/* The phone's syslog sender (docs/LOGGING.md; host/log/phone-log.ts and
 * syslog-sender.ts are the Node twin): every console line, and the status
 * ticks of the upgrade, as RFC 5424 over UDP to the log server. Lines said
 * before the server is known (it may come with the configuration) wait in
 * a fixed backlog and go out once it is. Fire and forget: a non-blocking
 * socket, a failed send counted and ignored; no server: nothing sent. One
 * per process. */
#ifndef PFS_PHONE_SYSLOG_OUT_H
#define PFS_PHONE_SYSLOG_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "syslog.h"

/* Who the phone is: its MAC (12 upper-case hex) and PFS address; kept. */
void syslog_out_identity(const char *mac, const char *ip);
/* The load the phone upgrades to (copied; "" before the config is read). */
void syslog_out_load(const char *load);
/* Decides the server: host:port (a name is resolved once, IPv4), or none
 * (host NULL). The first call decides (--log-server before <logServer>),
 * and the backlog is sent or dropped; later calls are ignored. False when
 * the socket cannot be had: nothing is sent then, and nothing else fails. */
bool syslog_out_use(const char *host, uint16_t port);
bool syslog_out_enabled(void);

/* Who knows a component's state by its XID (phone_upgrade.c): fills *c and
 * returns true for a component of this phone's load. */
typedef bool syslog_out_lookup(void *ctx, uint32_t xid, pfs_syslog_comp *c);
void syslog_out_set_lookup(syslog_out_lookup *fn, void *ctx);

/* One console line as printed (no newline), about component xid (0: the
 * one whose XID the line names, if any) and an event (NULL: none). */
void syslog_out_line(const char *level, const char *line, uint32_t xid, const char *event);
/* A status tick of one component. */
void syslog_out_status(const pfs_syslog_comp *c);

/* Datagrams sent, and those lost (sendto failed, did not fit, or the
 * backlog was full). */
typedef struct syslog_out_counts {
  uint64_t sent, failed;
} syslog_out_counts;
syslog_out_counts syslog_out_count(void);

#endif
