/* The PFS sockets and the accept gate (net.h). */
/* accept4() and SOCK_NONBLOCK are Linux (and BSD) extensions. */
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pfs_abi.h"

/* Connections the kernel queues for us before it drops SYNs. A short queue
 * fills in a few ms of a connection flood, and a real joiner whose SYN is
 * dropped waits 1, 3, 7 s to try again; the kernel caps the figure at
 * net.core.somaxconn. We accept as fast as the queue fills and close what
 * the gate refuses (peer-host.ts LISTEN_BACKLOG). */
#define LISTEN_BACKLOG 4096

bool pfs_addr_parse(const char *text, uint32_t *out) {
  assert(out != NULL);
  struct in_addr a;
  if (text == NULL || inet_pton(AF_INET, text, &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

void pfs_addr_format(uint32_t addr, char out[PFS_ADDR_TEXT_BYTES]) {
  snprintf(out, PFS_ADDR_TEXT_BYTES, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)((addr >> 16) & 255u),
           (unsigned)((addr >> 8) & 255u), (unsigned)(addr & 255u));
}

double pfs_clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static struct sockaddr_in sockaddr_of(uint32_t addr, uint16_t port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(addr);
  sa.sin_port = htons(port);
  return sa;
}

/* A non-blocking socket of `type`, with SO_REUSEADDR when `reuse`, bound to
 * addr:port; -1 with the reason in err. */
static int bound_socket(int type, uint32_t addr, uint16_t port, bool reuse, const char *what, pfs_err *err) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    pfs_fail(err, "%s: socket: %s", what, strerror(errno));
    return -1;
  }
  int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    pfs_fail(err, "%s: SO_REUSEADDR: %s", what, strerror(errno));
    close(fd);
    return -1;
  }
  struct sockaddr_in sa = sockaddr_of(addr, port);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    char text[PFS_ADDR_TEXT_BYTES];
    pfs_addr_format(addr, text);
    pfs_fail(err, "%s: bind %s:%u: %s", what, text, (unsigned)port, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

bool pfs_net_open(pfs_net *n, uint32_t self, uint32_t broadcast, uint16_t port, pfs_err *err) {
  assert(n != NULL);
  n->udp = n->bcast = n->listener = -1;
  n->self = self;
  n->broadcast = broadcast;
  n->port = port;
  /* Both UDP sockets take SO_REUSEADDR, as the Node phones' do (dgram
   * reuseAddr): every socket sharing the broadcast address:port must. */
  n->udp = bound_socket(SOCK_DGRAM, self, port, true, "UDP", err);
  if (n->udp < 0) goto fail;
  int one = 1;
  if (setsockopt(n->udp, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
    pfs_fail(err, "UDP: SO_BROADCAST: %s", strerror(errno));
    goto fail;
  }
  n->bcast = bound_socket(SOCK_DGRAM, broadcast, port, true, "UDP broadcast", err);
  if (n->bcast < 0) goto fail;
  /* SO_REUSEADDR on the listener lets a restarted phone bind again while
   * its old connections sit in TIME_WAIT. */
  n->listener = bound_socket(SOCK_STREAM, self, port, true, "TCP", err);
  if (n->listener < 0) goto fail;
  if (listen(n->listener, LISTEN_BACKLOG) != 0) {
    pfs_fail(err, "TCP: listen: %s", strerror(errno));
    goto fail;
  }
  return true;
fail:
  pfs_net_close(n);
  return false;
}

void pfs_net_close(pfs_net *n) {
  int *fds[] = {&n->udp, &n->bcast, &n->listener};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
    if (*fds[i] >= 0) close(*fds[i]);
    *fds[i] = -1;
  }
}

bool pfs_net_send(const pfs_net *n, uint32_t dst, const void *bytes, size_t len) {
  assert(n != NULL && n->udp >= 0);
  struct sockaddr_in sa = sockaddr_of(dst == PFS_BROADCAST_ADDR ? n->broadcast : dst, n->port);
  return sendto(n->udp, bytes, len, 0, (struct sockaddr *)&sa, sizeof sa) == (ssize_t)len;
}

long pfs_net_recv(int fd, void *buf, size_t room, uint32_t *src) {
  assert(src != NULL);
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  /* MSG_TRUNC: the datagram's real length even when it did not fit, so the
   * core counts an oversize datagram as malformed (docs/ABI.md 4.1). */
  ssize_t r = recvfrom(fd, buf, room, MSG_TRUNC, (struct sockaddr *)&sa, &sl);
  if (r < 0) return -1;
  *src = sa.sin_family == AF_INET ? ntohl(sa.sin_addr.s_addr) : 0;
  return (long)r;
}

/* Frames are small and latency is what the tree waits on (heartbeats, a
 * DATA head then its payload): no Nagle, as the Node host (setNoDelay). */
static void no_delay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int pfs_net_accept(const pfs_net *n, uint32_t *peer) {
  assert(n != NULL && peer != NULL);
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  int fd = accept4(n->listener, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return -1;
  no_delay(fd);
  *peer = sa.sin_family == AF_INET ? ntohl(sa.sin_addr.s_addr) : 0;
  return fd;
}

int pfs_net_connect(const pfs_net *n, uint32_t addr, bool *done) {
  assert(n != NULL && done != NULL);
  *done = false;
  int fd = bound_socket(SOCK_STREAM, n->self, 0, false, "connect", NULL);
  if (fd < 0) return -1;
  no_delay(fd);
  struct sockaddr_in sa = sockaddr_of(addr, n->port);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    *done = true;
    return fd;
  }
  if (errno == EINPROGRESS) return fd;
  close(fd);
  return -1;
}

int pfs_net_connect_result(int fd) {
  int e = 0;
  socklen_t el = sizeof e;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) return errno;
  return e;
}

/* --- the accept gate --- */

void pfs_gate_init(pfs_gate *g, uint32_t max_hierarchies) {
  assert(g != NULL);
  memset(g, 0, sizeof *g);
  uint32_t h = max_hierarchies < 1 ? 1 : max_hierarchies;
  g->open_per_source = h < 2 ? 2 : h;
  g->burst_per_source = 2 * h < 4 ? 4 : 2 * h;
}

static pfs_gate_source *gate_find(pfs_gate *g, uint32_t addr) {
  for (uint32_t i = 0; i < PFS_GATE_SOURCES_MAX; i++) {
    if (g->sources[i].used && g->sources[i].addr == addr) return &g->sources[i];
  }
  return NULL;
}

/* Room for a new source: forget one with nothing open whose bucket would
 * be full again (it loses nothing), else the quietest with nothing open;
 * NULL when every source has streams open. */
static pfs_gate_source *gate_room(pfs_gate *g, double now_ms) {
  double full_after_ms = (double)g->burst_per_source * 1000.0 / PFS_GATE_ACCEPTS_PER_SEC;
  pfs_gate_source *oldest = NULL;
  for (uint32_t i = 0; i < PFS_GATE_SOURCES_MAX; i++) {
    pfs_gate_source *s = &g->sources[i];
    if (!s->used) return s;
    if (s->open != 0) continue;
    if (now_ms - s->refilled_ms >= full_after_ms) return s;
    if (oldest == NULL || s->refilled_ms < oldest->refilled_ms) oldest = s;
  }
  return oldest;
}

pfs_gate_verdict pfs_gate_admit(pfs_gate *g, uint32_t addr, double now_ms) {
  assert(g != NULL);
  pfs_gate_source *s = gate_find(g, addr);
  if (s == NULL) {
    s = gate_room(g, now_ms);
    if (s == NULL) {
      g->refused_too_many_open++;
      return PFS_GATE_TOO_MANY_OPEN;
    }
    *s = (pfs_gate_source){.addr = addr, .open = 0, .tokens = g->burst_per_source, .refilled_ms = now_ms, .used = true};
  }
  double tokens = s->tokens + (now_ms - s->refilled_ms) * PFS_GATE_ACCEPTS_PER_SEC / 1000.0;
  s->tokens = tokens > g->burst_per_source ? g->burst_per_source : tokens;
  s->refilled_ms = now_ms;
  if (s->open >= g->open_per_source) {
    g->refused_too_many_open++;
    return PFS_GATE_TOO_MANY_OPEN;
  }
  if (s->tokens < 1.0) {
    g->refused_too_fast++;
    return PFS_GATE_TOO_FAST;
  }
  s->tokens -= 1.0;
  s->open++;
  return PFS_GATE_OK;
}

void pfs_gate_release(pfs_gate *g, uint32_t addr) {
  pfs_gate_source *s = gate_find(g, addr);
  /* Our own promise: a release only follows an admit that said OK, and a
   * source with streams open is never evicted. */
  assert(s != NULL && s->open > 0);
  if (s != NULL && s->open > 0) s->open--;
}

uint32_t pfs_gate_open_from(const pfs_gate *g, uint32_t addr) {
  for (uint32_t i = 0; i < PFS_GATE_SOURCES_MAX; i++) {
    if (g->sources[i].used && g->sources[i].addr == addr) return g->sources[i].open;
  }
  return 0;
}
