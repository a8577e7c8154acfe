/* The syslog sender (syslog_out.h). */
#include "syslog_out.h"

#include <assert.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "net.h"

/* Lines kept before the server is known (phone-log.ts MAX_BACKLOG_LINES):
 * a boot prints about ten before its configuration is read. */
#define BACKLOG_LINES_MAX 256u
/* Their bytes, each datagram behind a 2-byte length: 256 lines of the
 * boot's length (under 250 bytes each as datagrams) fit. */
#define BACKLOG_BYTES 65536u
/* A datagram's length fits the 2-byte prefix. */
_Static_assert(PFS_SYSLOG_DATAGRAM_BYTES_MAX <= 0xffffu, "backlog length prefix");

static struct {
  int fd; /* -1: no server (yet, while !decided) */
  bool decided;
  uint8_t backlog[BACKLOG_BYTES];
  size_t backlog_len, backlog_lines;
  struct sockaddr_in to;
  char mac[13], ip[PFS_ADDR_TEXT_BYTES];
  char load[PFS_LOAD_NAME_CHARS_MAX + 1];
  syslog_out_lookup *lookup;
  void *lookup_ctx;
  syslog_out_counts counts;
} out = {.fd = -1};

void syslog_out_identity(const char *mac, const char *ip) {
  assert(strlen(mac) == 12);
  snprintf(out.mac, sizeof out.mac, "%s", mac);
  snprintf(out.ip, sizeof out.ip, "%s", ip);
}

void syslog_out_load(const char *load) { snprintf(out.load, sizeof out.load, "%s", load); }

bool syslog_out_enabled(void) { return out.fd >= 0 || !out.decided; }

void syslog_out_set_lookup(syslog_out_lookup *fn, void *ctx) {
  out.lookup = fn;
  out.lookup_ctx = ctx;
}

/* The source address is the phone's own, so a server that records where a
 * datagram came from sees the phone; a bind that fails leaves the kernel's. */
static void bind_source(int fd) {
  uint32_t self;
  if (!pfs_addr_parse(out.ip, &self)) return;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(self)};
  (void)bind(fd, (const struct sockaddr *)&a, sizeof a);
}

static bool open_socket(const char *host, uint16_t port) {
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
  if (getaddrinfo(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, NULL, &hints, &res) != 0 || res == NULL) return false;
  memcpy(&out.to, res->ai_addr, sizeof out.to);
  freeaddrinfo(res);
  out.to.sin_port = htons(port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bind_source(fd);
  out.fd = fd;
  return true;
}

static void send_dgram(const char *dgram, size_t n) {
  assert(out.fd >= 0 && n <= PFS_SYSLOG_DATAGRAM_BYTES_MAX);
  /* Never blocks (SOCK_NONBLOCK); a full buffer or a refusal is counted. */
  if (n > 0 && sendto(out.fd, dgram, n, 0, (const struct sockaddr *)&out.to, sizeof out.to) == (ssize_t)n) out.counts.sent++;
  else out.counts.failed++;
}

bool syslog_out_use(const char *host, uint16_t port) {
  if (out.decided) return out.fd >= 0;
  out.decided = true;
  bool ok = host != NULL && open_socket(host, port);
  for (size_t at = 0; ok && at + 2 <= out.backlog_len;) {
    size_t n = (size_t)out.backlog[at] | (size_t)out.backlog[at + 1] << 8;
    assert(at + 2 + n <= out.backlog_len);
    send_dgram((const char *)out.backlog + at + 2, n);
    at += 2 + n;
  }
  out.backlog_len = out.backlog_lines = 0;
  return ok;
}

/* A datagram said before the server is known waits, if there is room. */
static void keep(const char *dgram, size_t n) {
  if (n == 0 || out.backlog_lines >= BACKLOG_LINES_MAX || out.backlog_len + 2 + n > BACKLOG_BYTES) {
    out.counts.failed++;
    return;
  }
  out.backlog[out.backlog_len] = (uint8_t)(n & 0xffu);
  out.backlog[out.backlog_len + 1] = (uint8_t)(n >> 8);
  memcpy(out.backlog + out.backlog_len + 2, dgram, n);
  out.backlog_len += 2 + n;
  out.backlog_lines++;
}

static int64_t epoch_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_msg(const pfs_syslog_msg *m) {
  char dgram[PFS_SYSLOG_DATAGRAM_BYTES_MAX];
  size_t n = pfs_syslog_format(m, dgram, sizeof dgram);
  assert(n <= sizeof dgram);
  if (!out.decided) keep(dgram, n);
  else send_dgram(dgram, n);
}

/* The XID a line names ("XID" and 8 upper-case hex digits), or 0. */
static uint32_t xid_named(const char *line) {
  for (const char *p = strstr(line, "XID"); p != NULL; p = strstr(p + 1, "XID")) {
    uint32_t v = 0;
    size_t i = 0;
    for (; i < 8; i++) {
      char c = p[3 + i];
      if (c >= '0' && c <= '9') v = v << 4 | (uint32_t)(c - '0');
      else if (c >= 'A' && c <= 'F') v = v << 4 | (uint32_t)(c - 'A' + 10);
      else break;
    }
    if (i == 8) return v;
  }
  return 0;
}

void syslog_out_line(const char *level, const char *line, uint32_t xid, const char *event) {
  if (!syslog_out_enabled() || out.mac[0] == '\0') return;
  if (xid == 0) xid = xid_named(line);
  pfs_syslog_comp c;
  bool about = xid != 0 && out.lookup != NULL && out.lookup(out.lookup_ctx, xid, &c);
  pfs_syslog_msg m = {.severity = pfs_syslog_severity(level), .at_epoch_ms = epoch_ms(), .mac = out.mac, .ip = out.ip, .load = out.load,
                      .comp = about ? &c : NULL, .event = event, .text = line};
  send_msg(&m);
}

void syslog_out_status(const pfs_syslog_comp *c) {
  /* Ticks are not kept for later (phone-log.ts keeps lines only). */
  if (out.fd < 0 || out.mac[0] == '\0') return;
  pfs_syslog_msg m = {.severity = 6, .at_epoch_ms = epoch_ms(), .mac = out.mac, .ip = out.ip, .load = out.load, .comp = c};
  send_msg(&m);
}

syslog_out_counts syslog_out_count(void) { return out.counts; }
