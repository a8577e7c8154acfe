/* The TFTP read client of tftp.h: one socket (one TID) per request, lockstep,
 * the same rules as host/tftp/client.ts (docs/TFTP.md "Client"). */
#include "tftp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* RFC 1350 section 5 opcodes, RFC 2347 OACK. */
enum { OP_RRQ = 1, OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5, OP_OACK = 6 };
/* RFC 1350 appendix error codes, RFC 2347 code 8. */
enum { E_UNDEF = 0, E_NOT_FOUND = 1, E_ACCESS = 2, E_DISK_FULL = 3, E_ILLEGAL = 4, E_UNKNOWN_TID = 5, E_OPTION = 8 };
/* Of a server's ERROR text we keep this much: the line must hold a path too. */
#define SERVER_TEXT_MAX 200u
/* RFC 2347 option values are decimals; more digits than this are not a size
 * we take (as host/tftp/options.ts, which allows 16). */
#define DECIMAL_DIGITS_MAX 16u

static const char *const ERROR_TEXTS[] = {
  "not defined", "file not found", "access violation", "disk full or allocation exceeded",
  "illegal TFTP operation", "unknown transfer ID", "file already exists", "no such user",
  "option negotiation refused",
};

static const char *error_text(unsigned code) {
  return code < sizeof ERROR_TEXTS / sizeof ERROR_TEXTS[0] ? ERROR_TEXTS[code] : "unknown error code";
}

const char *pfs_tftp_failure_name(pfs_tftp_failure f) {
  static const char *const names[] = {"none", "not-found", "access", "server", "too-large", "size", "timeout", "protocol", "local"};
  return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

uint64_t pfs_tftp_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void pfs_tftp_opts_init(pfs_tftp_opts *o) {
  memset(o, 0, sizeof *o);
  o->port = 69;
  o->tsize = true;
  o->timeout_ms = PFS_TFTP_TIMEOUT_DEFAULT_MS;
  o->retries = PFS_TFTP_RETRIES_DEFAULT;
  o->max_bytes = PFS_TFTP_NO_LIMIT;
  o->expect_bytes = PFS_TFTP_NO_LIMIT;
}

static unsigned get_u16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static void put_u16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* ---- sending ---- */

/* A lost datagram is what TFTP's timer is for, so a full send queue is not an
 * error; anything else is (false, errno set). */
static bool send_to(const pfs_tftp *t, const void *buf, size_t len, const struct sockaddr_in *to) {
  ssize_t n = sendto(t->fd, buf, len, 0, (const struct sockaddr *)to, sizeof *to);
  if (n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) return true;
  return false;
}

static void send_error(const pfs_tftp *t, unsigned code, const char *text, const struct sockaddr_in *to) {
  uint8_t pkt[4 + SERVER_TEXT_MAX + 1];
  size_t len = strnlen(text, SERVER_TEXT_MAX);
  put_u16(pkt, OP_ERROR);
  put_u16(pkt + 2, code);
  memcpy(pkt + 4, text, len);
  pkt[4 + len] = 0;
  (void)send_to(t, pkt, 4 + len + 1, to); /* best effort: we are stopping anyway */
}

/* ACKs block (mod 2^16) and keeps it as what a timeout sends again. */
static void send_ack(pfs_tftp *t, uint32_t block) {
  put_u16(t->last, OP_ACK);
  put_u16(t->last + 2, block & 0xffffu);
  t->last_len = 4;
  (void)send_to(t, t->last, t->last_len, &t->server);
}

/* ---- ending ---- */

static void close_fd(pfs_tftp *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  t->phase = PFS_TFTP_PHASE_END;
}

/* Tells the server (once its TID is known) and closes; the caller has put
 * the reason in err, and `why` is its kind. code < 0: nothing is sent. */
static pfs_tftp_status stop(pfs_tftp *t, int code, pfs_tftp_failure why, const pfs_err *err) {
  t->failure = why;
  if (code >= 0 && t->tid_known && t->fd >= 0) send_error(t, (unsigned)code, err != NULL ? err->text : "", &t->server);
  close_fd(t);
  return PFS_TFTP_FAILED;
}

void pfs_tftp_cancel(pfs_tftp *t) {
  if (t->fd < 0) return;
  pfs_err why;
  snprintf(why.text, sizeof why.text, "transfer cancelled");
  (void)stop(t, E_UNDEF, PFS_TFTP_FAIL_LOCAL, &why);
}

/* ---- starting ---- */

/* RRQ "file" "octet" [blksize N] [tsize 0] into t->last (RFC 1350 figure
 * 5-1, RFC 2347 figure 1). */
static bool build_request(pfs_tftp *t, bool with_options, pfs_err *err) {
  const pfs_tftp_opts *o = &t->opts;
  char opts[64] = "";
  size_t olen = 0;
  if (with_options && o->blksize != 0) olen += (size_t)snprintf(opts + olen, sizeof opts - olen, "blksize%c%u%c", 0, o->blksize, 0);
  if (with_options && o->tsize) olen += (size_t)snprintf(opts + olen, sizeof opts - olen, "tsize%c0%c", 0, 0);
  size_t flen = strlen(o->file);
  size_t len = 2 + flen + 1 + sizeof "octet" + olen;
  if (flen == 0 || len > PFS_TFTP_REQUEST_MAX) return pfs_fail(err, "'%.200s': a file name of %zu bytes does not fit in a TFTP request", o->file, flen);
  put_u16(t->last, OP_RRQ);
  memcpy(t->last + 2, o->file, flen + 1);
  memcpy(t->last + 2 + flen + 1, "octet", sizeof "octet");
  memcpy(t->last + 2 + flen + 1 + sizeof "octet", opts, olen);
  t->last_len = len;
  t->asked_options = olen > 0;
  return true;
}

/* A fresh socket (a new TID, RFC 1350 section 4) and the request sent. */
static bool request(pfs_tftp *t, bool with_options, uint64_t now_ms, pfs_err *err) {
  if (!build_request(t, with_options, err)) return false;
  t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (t->fd < 0) return pfs_fail(err, "tftp: socket: %s", strerror(errno));
  struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
  if (t->opts.local_addr != NULL && inet_pton(AF_INET, t->opts.local_addr, &local.sin_addr) != 1) {
    close_fd(t);
    return pfs_fail(err, "tftp: local address '%.64s' is not a numeric IPv4 address", t->opts.local_addr);
  }
  if (bind(t->fd, (struct sockaddr *)&local, sizeof local) != 0) {
    int e = errno;
    close_fd(t);
    return pfs_fail(err, "tftp: bind %.64s: %s", t->opts.local_addr != NULL ? t->opts.local_addr : "0.0.0.0", strerror(e));
  }
  if (!send_to(t, t->last, t->last_len, &t->server)) {
    int e = errno;
    close_fd(t);
    return pfs_fail(err, "tftp: sending the request for '%.200s': %s", t->opts.file, strerror(e));
  }
  t->phase = PFS_TFTP_PHASE_REQUEST;
  t->tid_known = false;
  t->blksize = PFS_TFTP_BLKSIZE_DEFAULT;
  t->has_tsize = false;
  t->next = 1;
  t->bytes = 0;
  t->retries_left = t->opts.retries;
  t->timeout_ms = t->opts.timeout_ms;
  t->deadline_ms = now_ms + t->timeout_ms;
  return true;
}

/* request(), its failure one of our side. */
static bool send_request(pfs_tftp *t, bool with_options, uint64_t now_ms, pfs_err *err) {
  if (request(t, with_options, now_ms, err)) return true;
  t->failure = PFS_TFTP_FAIL_LOCAL;
  return false;
}

/* The checks of pfs_tftp_start before anything is opened. */
static bool start_opts(pfs_tftp *t, const pfs_tftp_opts *o, pfs_err *err) {
  if (o->file == NULL || o->host == NULL || o->deliver == NULL) return pfs_fail(err, "tftp: no file, host or deliver callback given");
  if (o->blksize != 0 && (o->blksize < PFS_TFTP_BLKSIZE_MIN || o->blksize > PFS_TFTP_BLKSIZE_MAX)) {
    return pfs_fail(err, "tftp: blksize %u is outside %u..%u (RFC 2348)", o->blksize, PFS_TFTP_BLKSIZE_MIN, PFS_TFTP_BLKSIZE_MAX);
  }
  if (o->port == 0) return pfs_fail(err, "tftp: port 0");
  t->server.sin_family = AF_INET;
  t->server.sin_port = htons(o->port);
  if (inet_pton(AF_INET, o->host, &t->server.sin_addr) != 1) return pfs_fail(err, "tftp: server '%.64s' is not a numeric IPv4 address", o->host);
  return true;
}

bool pfs_tftp_start(pfs_tftp *t, const pfs_tftp_opts *o, uint64_t now_ms, pfs_err *err) {
  memset(t, 0, offsetof(pfs_tftp, pkt)); /* the receive buffer needs no zeroing */
  t->fd = -1;
  t->phase = PFS_TFTP_PHASE_END;
  t->opts = *o;
  if (t->opts.timeout_ms == 0) t->opts.timeout_ms = PFS_TFTP_TIMEOUT_DEFAULT_MS;
  if (!start_opts(t, o, err)) {
    t->failure = PFS_TFTP_FAIL_LOCAL;
    return false;
  }
  return send_request(t, true, now_ms, err);
}

int pfs_tftp_fd(const pfs_tftp *t) { return t->fd; }

uint64_t pfs_tftp_deadline_ms(const pfs_tftp *t) { return t->deadline_ms; }

/* ---- receiving ---- */

static void progress(pfs_tftp *t, uint64_t now_ms) {
  t->retries_left = t->opts.retries;
  t->timeout_ms = t->opts.timeout_ms;
  t->deadline_ms = now_ms + t->timeout_ms;
}

static void peer_text(const struct sockaddr_in *a, char *out, size_t cap) {
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
  snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
}

/* RFC 2347: a server that cannot take our options says so with ERROR 8;
 * pre-RFC 2347 servers send 0 or 4 for a request they cannot parse. One
 * more request without options, as host/tftp/client.ts does. */
static bool fallback_code(unsigned code) { return code == E_OPTION || code == E_UNDEF || code == E_ILLEGAL; }

static pfs_tftp_status on_error(pfs_tftp *t, size_t n, const struct sockaddr_in *from, uint64_t now_ms, pfs_err *err) {
  unsigned code = n >= 4 ? get_u16(t->pkt + 2) : E_UNDEF;
  if (t->phase == PFS_TFTP_PHASE_REQUEST && t->asked_options && fallback_code(code)) {
    close_fd(t);
    return send_request(t, false, now_ms, err) ? PFS_TFTP_RUNNING : PFS_TFTP_FAILED;
  }
  /* The message up to its NUL or the end (docs/TFTP.md: a missing NUL is
   * forgiven), made printable so the error stays one line. */
  char text[SERVER_TEXT_MAX + 1];
  size_t len = 0;
  for (size_t i = 4; i < n && t->pkt[i] != 0 && len < SERVER_TEXT_MAX; i++) {
    uint8_t c = t->pkt[i];
    text[len++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  text[len] = 0;
  char peer[32];
  peer_text(from, peer, sizeof peer);
  pfs_fail(err, "'%.200s': %s%s%s (error %u from %s)", t->opts.file, error_text(code), len > 0 ? ": " : "", text, code, peer);
  t->server_code = code;
  pfs_tftp_failure why = code == E_NOT_FOUND ? PFS_TFTP_FAIL_NOT_FOUND : code == E_ACCESS ? PFS_TFTP_FAIL_ACCESS : PFS_TFTP_FAIL_SERVER;
  return stop(t, -1, why, err); /* an ERROR is never answered */
}

/* A plain decimal of RFC 2347, no sign, at most DECIMAL_DIGITS_MAX digits. */
static bool parse_decimal(const char *s, uint64_t *out) {
  size_t len = strlen(s);
  if (len == 0 || len > DECIMAL_DIGITS_MAX) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return true;
}

/* Reads the OACK's name/value pairs into t; false with the reason when we
 * cannot accept it: an option we did not ask, one twice, a blksize larger
 * than asked, a value that is not a decimal, strings without their NUL. */
static bool accept_oack(pfs_tftp *t, size_t n, pfs_err *err) {
  const char *p = (const char *)t->pkt + 2, *end = (const char *)t->pkt + n;
  bool seen_blksize = false, seen_tsize = false;
  while (p < end) {
    const char *name = p, *name_end = memchr(name, 0, (size_t)(end - name));
    if (name_end == NULL) return pfs_fail(err, "OACK option name without its NUL");
    const char *value = name_end + 1;
    const char *value_end = value < end ? memchr(value, 0, (size_t)(end - value)) : NULL;
    if (value_end == NULL) return pfs_fail(err, "OACK option '%.32s' without a value", name);
    uint64_t v = 0;
    if (!parse_decimal(value, &v)) return pfs_fail(err, "OACK option '%.32s' has value '%.32s', not a decimal", name, value);
    if (strcasecmp(name, "blksize") == 0 && t->opts.blksize != 0 && !seen_blksize) {
      if (v < PFS_TFTP_BLKSIZE_MIN || v > t->opts.blksize) return pfs_fail(err, "OACK blksize %llu, we asked %u", (unsigned long long)v, t->opts.blksize);
      t->blksize = (unsigned)v;
      seen_blksize = true;
    } else if (strcasecmp(name, "tsize") == 0 && t->opts.tsize && !seen_tsize) {
      t->tsize = v;
      t->has_tsize = seen_tsize = true;
    } else {
      return pfs_fail(err, "OACK option '%.32s' was not asked (or came twice)", name);
    }
    p = value_end + 1;
  }
  return true;
}

/* The OACK's tsize against the caller's limits (RFC 2349: a client may
 * decline the size with ERROR 3). */
static pfs_tftp_status announced_size_fits(pfs_tftp *t, pfs_err *err) {
  const pfs_tftp_opts *o = &t->opts;
  if (!t->has_tsize) return PFS_TFTP_RUNNING;
  if (o->max_bytes != PFS_TFTP_NO_LIMIT && t->tsize > o->max_bytes) {
    pfs_fail(err, "'%.200s' is %llu bytes (tsize); we take at most %llu", o->file, (unsigned long long)t->tsize, (unsigned long long)o->max_bytes);
    return stop(t, E_DISK_FULL, PFS_TFTP_FAIL_TOO_LARGE, err);
  }
  if (o->expect_bytes != PFS_TFTP_NO_LIMIT && t->tsize != o->expect_bytes) {
    pfs_fail(err, "'%.200s' is %llu bytes on the server (tsize), not the %llu expected", o->file, (unsigned long long)t->tsize,
             (unsigned long long)o->expect_bytes);
    return stop(t, E_UNDEF, PFS_TFTP_FAIL_SIZE, err);
  }
  return PFS_TFTP_RUNNING;
}

static pfs_tftp_status on_oack(pfs_tftp *t, size_t n, const struct sockaddr_in *from, uint64_t now_ms, pfs_err *err) {
  if (t->phase == PFS_TFTP_PHASE_DATA) {
    /* The OACK again before block 1: our ACK 0 was lost. */
    if (t->next == 1) send_ack(t, 0);
    return PFS_TFTP_RUNNING;
  }
  if (!t->asked_options) return PFS_TFTP_RUNNING; /* nonsense to a plain request: dropped */
  t->server.sin_port = from->sin_port;
  t->tid_known = true;
  pfs_err why;
  if (!accept_oack(t, n, &why)) {
    /* RFC 2347: a client that does not accept the OACK sends ERROR 8. */
    send_error(t, E_OPTION, why.text, &t->server);
    close_fd(t);
    return send_request(t, false, now_ms, err) ? PFS_TFTP_RUNNING : PFS_TFTP_FAILED;
  }
  if (announced_size_fits(t, err) != PFS_TFTP_RUNNING) return PFS_TFTP_FAILED;
  t->phase = PFS_TFTP_PHASE_DATA;
  progress(t, now_ms);
  send_ack(t, 0);
  return PFS_TFTP_RUNNING;
}

/* The bytes so far against tsize and the caller's limits, checked on every
 * block, before it is delivered: for servers that send no tsize or lie. */
static pfs_tftp_status received_size_fits(pfs_tftp *t, bool last, pfs_err *err) {
  const pfs_tftp_opts *o = &t->opts;
  unsigned long long b = (unsigned long long)t->bytes;
  if (t->has_tsize && (t->bytes > t->tsize || (last && t->bytes != t->tsize))) {
    pfs_fail(err, "'%.200s': %s %llu bytes, but the server announced tsize %llu", o->file, last ? "ended at" : "already", b, (unsigned long long)t->tsize);
    return stop(t, E_UNDEF, PFS_TFTP_FAIL_SIZE, err);
  }
  if (o->max_bytes != PFS_TFTP_NO_LIMIT && t->bytes > o->max_bytes) {
    pfs_fail(err, "'%.200s' runs past %llu bytes, the most we take: stopped", o->file, (unsigned long long)o->max_bytes);
    return stop(t, E_DISK_FULL, PFS_TFTP_FAIL_TOO_LARGE, err);
  }
  if (o->expect_bytes != PFS_TFTP_NO_LIMIT && (t->bytes > o->expect_bytes || (last && t->bytes != o->expect_bytes))) {
    if (last) pfs_fail(err, "'%.200s' ends at %llu bytes on the server, not the %llu expected", o->file, b, (unsigned long long)o->expect_bytes);
    else pfs_fail(err, "'%.200s' runs past %llu bytes on the server, not the size expected", o->file, (unsigned long long)o->expect_bytes);
    return stop(t, E_UNDEF, PFS_TFTP_FAIL_SIZE, err);
  }
  return PFS_TFTP_RUNNING;
}

static pfs_tftp_status on_data(pfs_tftp *t, size_t n, const struct sockaddr_in *from, uint64_t now_ms, pfs_err *err) {
  unsigned block = get_u16(t->pkt + 2);
  if (t->phase == PFS_TFTP_PHASE_REQUEST) {
    if (block != 1) return PFS_TFTP_RUNNING;
    /* No OACK: the server ignored our options (RFC 2347), plain RFC 1350. */
    t->server.sin_port = from->sin_port;
    t->tid_known = true;
    t->phase = PFS_TFTP_PHASE_DATA;
  }
  if (block != (t->next & 0xffffu)) {
    /* Lockstep: the previous block again means our ACK was lost; re-ACK it,
     * deliver nothing. Servers ignore duplicate ACKs (RFC 1123 4.2.3.1), so
     * this cannot start the Sorcerer's Apprentice. Others are dropped. */
    if (block == ((t->next - 1) & 0xffffu)) send_ack(t, t->next - 1);
    return PFS_TFTP_RUNNING;
  }
  size_t len = n - PFS_TFTP_HEADER_BYTES;
  if (len > t->blksize) {
    pfs_fail(err, "'%.200s': block %u has %zu bytes, more than the blksize %u", t->opts.file, block, len, t->blksize);
    return stop(t, E_ILLEGAL, PFS_TFTP_FAIL_PROTOCOL, err);
  }
  uint64_t offset = t->bytes;
  bool last = len < t->blksize;
  t->bytes += len;
  if (received_size_fits(t, last, err) != PFS_TFTP_RUNNING) return PFS_TFTP_FAILED;
  if (!t->opts.deliver(t->opts.ctx, t->pkt + PFS_TFTP_HEADER_BYTES, len, offset, err)) return stop(t, E_UNDEF, PFS_TFTP_FAIL_LOCAL, err);
  t->next++;
  progress(t, now_ms);
  /* The final ACK only once the consumer has the last block: if it failed,
   * the server must not log a complete transfer. */
  send_ack(t, t->next - 1);
  if (!last) return PFS_TFTP_RUNNING;
  /* No dally (RFC 1350 section 6): a poll() phone would have to keep the
   * socket for seconds after the file is whole; should our final ACK be
   * lost, the server times out on a transfer we already have. */
  close_fd(t);
  return PFS_TFTP_DONE;
}

/* RFC 1350 section 4: a packet from another TID gets ERROR 5 and changes
 * nothing; an ERROR is never answered (two confused hosts would bounce
 * errors forever). */
static bool stranger(const pfs_tftp *t, size_t n, const struct sockaddr_in *from) {
  bool ours = from->sin_addr.s_addr == t->server.sin_addr.s_addr && (!t->tid_known || from->sin_port == t->server.sin_port);
  if (ours) return false;
  if (!(n >= 2 && get_u16(t->pkt) == OP_ERROR)) send_error(t, E_UNKNOWN_TID, error_text(E_UNKNOWN_TID), from);
  return true;
}

static pfs_tftp_status on_packet(pfs_tftp *t, size_t n, const struct sockaddr_in *from, uint64_t now_ms, pfs_err *err) {
  if (stranger(t, n, from)) return PFS_TFTP_RUNNING;
  if (n < PFS_TFTP_HEADER_BYTES && !(n >= 2 && get_u16(t->pkt) == OP_OACK)) return PFS_TFTP_RUNNING; /* garbage: the timer recovers */
  switch (get_u16(t->pkt)) {
  case OP_DATA: return on_data(t, n, from, now_ms, err);
  case OP_OACK: return on_oack(t, n, from, now_ms, err);
  case OP_ERROR: return on_error(t, n, from, now_ms, err);
  default: return PFS_TFTP_RUNNING; /* requests and ACKs have no place in a read */
  }
}

pfs_tftp_status pfs_tftp_readable(pfs_tftp *t, uint64_t now_ms, pfs_err *err) {
  if (t->phase == PFS_TFTP_PHASE_END) return PFS_TFTP_RUNNING;
  for (unsigned i = 0; i < PFS_TFTP_BURST_MAX && t->fd >= 0; i++) {
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(t->fd, t->pkt, sizeof t->pkt, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      pfs_fail(err, "tftp: receiving '%.200s': %s", t->opts.file, strerror(errno));
      return stop(t, -1, PFS_TFTP_FAIL_LOCAL, err);
    }
    if (flen < sizeof from || from.sin_family != AF_INET) continue;
    pfs_tftp_status s = on_packet(t, (size_t)n, &from, now_ms, err);
    if (s != PFS_TFTP_RUNNING) return s;
  }
  return PFS_TFTP_RUNNING;
}

pfs_tftp_status pfs_tftp_timeout(pfs_tftp *t, uint64_t now_ms, pfs_err *err) {
  if (t->phase == PFS_TFTP_PHASE_END || now_ms < t->deadline_ms) return PFS_TFTP_RUNNING;
  if (t->retries_left == 0) {
    char peer[32];
    peer_text(&t->server, peer, sizeof peer);
    if (t->phase == PFS_TFTP_PHASE_REQUEST) {
      pfs_fail(err, "timeout reading '%.200s' from %s: no answer to the request after %u retries", t->opts.file, peer, t->opts.retries);
    } else {
      pfs_fail(err, "timeout reading '%.200s' from %s: no block %u (%llu bytes received) after %u retries", t->opts.file, peer, t->next,
               (unsigned long long)t->bytes, t->opts.retries);
    }
    return stop(t, E_UNDEF, PFS_TFTP_FAIL_TIMEOUT, err);
  }
  t->retries_left--;
  t->timeout_ms = t->timeout_ms * 2 < PFS_TFTP_BACKOFF_MAX_MS ? t->timeout_ms * 2 : PFS_TFTP_BACKOFF_MAX_MS;
  /* Lost DATA and a lost ACK look alike from here: the last ACK (or the
   * request) again covers both. */
  (void)send_to(t, t->last, t->last_len, &t->server);
  t->deadline_ms = now_ms + t->timeout_ms;
  return PFS_TFTP_RUNNING;
}

/* ---- blocking wrappers ---- */

bool pfs_tftp_run(const pfs_tftp_opts *o, uint64_t *bytes, pfs_tftp_failure *failure, pfs_err *err) {
  static pfs_tftp t; /* 64 KiB of receive buffer: not on the stack; one thread */
  pfs_tftp_failure ignored;
  if (failure == NULL) failure = &ignored;
  *failure = PFS_TFTP_FAIL_NONE;
  if (!pfs_tftp_start(&t, o, pfs_tftp_now_ms(), err)) {
    *failure = t.failure;
    return false;
  }
  pfs_tftp_status s = PFS_TFTP_RUNNING;
  while (s == PFS_TFTP_RUNNING) {
    uint64_t now = pfs_tftp_now_ms();
    uint64_t wait = t.deadline_ms > now ? t.deadline_ms - now : 0;
    struct pollfd p = { .fd = t.fd, .events = POLLIN };
    int r = poll(&p, 1, (int)wait);
    if (r < 0 && errno != EINTR) {
      pfs_fail(err, "tftp: poll: %s", strerror(errno));
      pfs_tftp_cancel(&t);
      *failure = PFS_TFTP_FAIL_LOCAL;
      return false;
    }
    now = pfs_tftp_now_ms();
    if (r > 0) s = pfs_tftp_readable(&t, now, err);
    if (s == PFS_TFTP_RUNNING) s = pfs_tftp_timeout(&t, now, err);
  }
  if (bytes != NULL) *bytes = t.bytes;
  if (s != PFS_TFTP_DONE) *failure = t.failure;
  return s == PFS_TFTP_DONE;
}

bool pfs_tftp_get(const pfs_tftp_opts *o, uint64_t *bytes, pfs_err *err) { return pfs_tftp_run(o, bytes, NULL, err); }

struct into_buffer {
  uint8_t *buf;
  size_t cap;
};

static bool copy_chunk(void *ctx, const uint8_t *chunk, size_t len, uint64_t offset, pfs_err *err) {
  struct into_buffer *b = ctx;
  /* max_bytes already stops the transfer first; this guards our promise. */
  if (offset > b->cap || len > b->cap - offset) return pfs_fail(err, "tftp: block at %llu past the buffer of %zu bytes", (unsigned long long)offset, b->cap);
  memcpy(b->buf + offset, chunk, len);
  return true;
}

bool pfs_tftp_get_buffer(const pfs_tftp_opts *o, uint8_t *buf, size_t cap, size_t *len, pfs_tftp_failure *failure,
                         pfs_err *err) {
  pfs_tftp_opts mine = *o;
  struct into_buffer b = { buf, cap };
  if ((uint64_t)cap < mine.max_bytes) mine.max_bytes = cap;
  mine.deliver = copy_chunk;
  mine.ctx = &b;
  uint64_t bytes = 0;
  if (!pfs_tftp_run(&mine, &bytes, failure, err)) return false;
  *len = (size_t)bytes;
  return true;
}
