/* The PFS sockets of one phone (host/phone/peer-host.ts, "open"): UDP bound
 * to the phone's own ADDR:PORT (it sends everything, broadcasts included),
 * a second UDP socket bound to the broadcast address BCAST:PORT with
 * SO_REUSEADDR, so that many phones on one machine (127.0.0.N:4051) all hear
 * 127.255.255.255:4051, and a TCP listener on ADDR:PORT. Outgoing TCP
 * connections are bound to ADDR, so peers see the address the core calls
 * its own. Every socket is non-blocking; the caller polls them.
 *
 * Also here: the accept gate (host/phone/accept-gate.ts), the host's own
 * per-source limits on accepted connections, decided before the core sees
 * a connection. Addresses are IPv4 in host byte order, as the core takes
 * them (docs/ABI.md: `src`, `peer`). */
#ifndef PFS_PHONE_NET_H
#define PFS_PHONE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The PFS port, UDP and TCP (IANA "cppdp"; docs/PROTOCOL.md §2). */
#define PFS_PORT 4051u
/* Room for a dotted quad, NUL included. */
#define PFS_ADDR_TEXT_BYTES 16u

typedef struct pfs_net {
  int udp;      /* bound to self:port; sends unicast and broadcast */
  int bcast;    /* bound to broadcast:port; only receives */
  int listener; /* TCP on self:port */
  uint32_t self;
  uint32_t broadcast;
  uint16_t port;
} pfs_net;

/* "a.b.c.d" to an address; false for anything else. */
bool pfs_addr_parse(const char *text, uint32_t *out);
/* An address as "a.b.c.d" into out (PFS_ADDR_TEXT_BYTES). */
void pfs_addr_format(uint32_t addr, char out[PFS_ADDR_TEXT_BYTES]);

/* Milliseconds of a monotonic clock (CLOCK_MONOTONIC): the core's clock
 * must never go back (docs/ABI.md §11). */
double pfs_clock_ms(void);

/* Opens the three sockets; on failure closes those that were opened and
 * says which one failed and why. */
bool pfs_net_open(pfs_net *n, uint32_t self, uint32_t broadcast, uint16_t port, pfs_err *err);
void pfs_net_close(pfs_net *n);

/* One datagram to dst:port, PFS_BROADCAST_ADDR meaning the broadcast
 * address. UDP may lose it anyway: false only tells the caller it did not
 * leave (the protocol repairs lost datagrams, docs/PROTOCOL.md). */
bool pfs_net_send(const pfs_net *n, uint32_t dst, const void *bytes, size_t len);

/* One datagram from fd into buf: its real length (which may exceed room:
 * then buf holds the first room bytes), or -1 when none is waiting. */
long pfs_net_recv(int fd, void *buf, size_t room, uint32_t *src);

/* One connection waiting on the listener: its socket (non-blocking, no
 * Nagle) and the peer's address, or -1 when none is waiting. */
int pfs_net_accept(const pfs_net *n, uint32_t *peer);

/* Starts a non-blocking connection from self to addr:port. Returns the
 * socket, or -1 when it failed at once. *done tells that it is already
 * established (loopback may do that); otherwise wait until the socket is
 * writable and ask pfs_net_connect_result. */
int pfs_net_connect(const pfs_net *n, uint32_t addr, bool *done);
/* 0 when the connection is up, else the errno that ended it. */
int pfs_net_connect_result(int fd);

/* --- the accept gate (host/phone/accept-gate.ts) --- */

/* Sources remembered at once. A flood from rotating addresses evicts the
 * quiet ones first; a source with streams open is never forgotten. The
 * figure is the Node host's (SOURCES_TRACKED_MAX). */
#define PFS_GATE_SOURCES_MAX 1024u
/* Accepts per second one source earns back (ACCEPTS_PER_SOURCE_PER_SEC). */
#define PFS_GATE_ACCEPTS_PER_SEC 10.0

typedef enum pfs_gate_verdict {
  PFS_GATE_OK = 0,
  PFS_GATE_TOO_MANY_OPEN,
  PFS_GATE_TOO_FAST,
} pfs_gate_verdict;

typedef struct pfs_gate_source {
  uint32_t addr;
  uint32_t open;
  double tokens;
  double refilled_ms;
  bool used;
} pfs_gate_source;

typedef struct pfs_gate {
  /* One stream per hierarchy at once, a burst of two per hierarchy (a join,
   * then a retry or a move): acceptLimits() of the Node host. */
  uint32_t open_per_source;
  uint32_t burst_per_source;
  uint64_t refused_too_many_open;
  uint64_t refused_too_fast;
  pfs_gate_source sources[PFS_GATE_SOURCES_MAX];
} pfs_gate;

void pfs_gate_init(pfs_gate *g, uint32_t max_hierarchies);
/* Whether a connection from addr may reach the core now; OK counts it as
 * open until pfs_gate_release(addr). */
pfs_gate_verdict pfs_gate_admit(pfs_gate *g, uint32_t addr, double now_ms);
/* A connection admitted from addr has closed (its socket, not only the
 * core's link: a half-closed socket still holds a descriptor). */
void pfs_gate_release(pfs_gate *g, uint32_t addr);
uint32_t pfs_gate_open_from(const pfs_gate *g, uint32_t addr);

#endif
