/* The host of one PFS core on real sockets (peer.h). The shape follows
 * host/phone/peer-host.ts; the rules it keeps are docs/ABI.md §5 and §6:
 * records acted on in order, no call into the core while they are walked
 * (follow-ups wait in per-stream and per-slot flags), handles bound to
 * sockets by generation so a late notification never reaches a reused
 * handle, views reported only once the kernel has their bytes. */
#include "peer.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"
/* --- limits --- */

/* Slots this host keeps flash reports for: the core's own bound on
 * maxHierarchies (docs/ABI.md §2.1, word 2). */
#define PFS_PEER_SLOTS_MAX 64u
/* Stream handles: the core's bound on maxStreams (word 3). */
#define PFS_PEER_STREAMS_MAX 1024u
/* The core's maxHierarchies when word 2 is 0 (docs/ABI.md §2.1). */
#define PFS_DEFAULT_HIERARCHIES 8u
/* After the core closes a stream we send what it queued and a FIN, and
 * wait this long for the peer's FIN before closing: a peer that never
 * closes its side must not hold a descriptor for ever (peer-host.ts
 * CLOSE_LINGER_MS). */
#define PFS_PEER_CLOSE_LINGER_MS 2000.0
/* Sockets held at once, open and lingering, per stream handle: the Node
 * host's MAX_CONNECTIONS_PER_STREAM. Accepts beyond are closed at once. */
#define PFS_PEER_CONNECTIONS_PER_STREAM 2u
/* Pieces of a stream's send queue. A child served from the ring holds at
 * most ringBytes of views (docs/ABI.md §7.5) and the core issues up to 8
 * views per child per pump; a view is never smaller than a TCP read that
 * fed it, so 512 pieces cover a 64 KiB ring fed 128 bytes at a time. A
 * queue that still overflows belongs to a peer that stopped reading: the
 * stream is closed. */
#define PFS_STREAM_SEGS_MAX 512u
/* Copied bytes (control frames, DATA heads) queued per stream: 31 full-size
 * control frames (258 bytes, docs/ABI.md §5.1), far more than the core
 * writes between two heartbeats. */
#define PFS_STREAM_COPY_BYTES 8192u
/* iovecs per writev(): POSIX guarantees at least 16 (_XOPEN_IOV_MAX). */
#define PFS_WRITEV_IOVS 16
/* Work done per socket per turn of the loop, so one busy socket cannot
 * starve the others. */
#define PFS_READS_PER_TURN 16
#define PFS_DATAGRAMS_PER_TURN 64
#define PFS_ACCEPTS_PER_TURN 64
/* Report passes per settle; each either reports something or stops. Work
 * left over makes the next poll() return at once. */
#define PFS_SETTLE_ROUNDS 16
/* The longest poll() sleeps: lingering closes and the caller's own
 * sockets are looked at at least this often. */
#define PFS_PEER_POLL_MAX_MS 1000
/* pfs_peer_need's own answer: the names (and hash) exceed the inbox. */
#define PFS_PEER_NAMES_TOO_LONG (-4)

/* --- state --- */

typedef enum pfs_stream_state {
  STREAM_FREE = 0,
  STREAM_CONNECTING, /* OUT_CONNECT issued, not yet established */
  STREAM_OPEN,       /* a TCP link the core owns */
  STREAM_FETCH,      /* a server fetch (the phone's fetcher) */
  STREAM_DEAD,       /* the core owns the handle, our socket is gone:
                        onStreamClosed is due */
} pfs_stream_state;

/* One piece of a send queue: a view of core memory (ref) or copied bytes
 * in the stream's copy ring. */
typedef struct pfs_seg {
  uint32_t at; /* core address (ref) or copy ring offset */
  uint32_t len;
  uint32_t sent;
  bool ref;
} pfs_seg;

typedef struct pfs_stream {
  pfs_stream_state state;
  int fd;
  uint32_t gen; /* bumped at every bind: late news of an old socket is dropped */
  uint32_t gate_addr;
  bool gated; /* admitted by the gate: release it when the socket closes */
  uint32_t fetch_id;
  bool fetch_blocked;
  pfs_seg *segs; /* ring of PFS_STREAM_SEGS_MAX */
  uint32_t seg_head, seg_count;
  uint8_t *copy; /* ring of PFS_STREAM_COPY_BYTES */
  uint32_t copy_head, copy_used;
  /* Follow-ups, reported after the walk (docs/ABI.md §5.2 rule 3). */
  bool due_closed, due_connected, due_read;
  uint32_t read_tag, read_len;
  uint32_t done_bytes;
} pfs_stream;

/* A socket the core closed: flushed, FIN sent, waiting for the peer's. */
typedef struct pfs_closing {
  int fd;
  uint32_t gate_addr;
  bool gated;
  double until_ms;
} pfs_closing;

typedef enum pfs_poll_kind { POLL_UDP, POLL_BCAST, POLL_LISTEN, POLL_STREAM, POLL_CLOSING } pfs_poll_kind;
typedef struct pfs_poll_ref {
  pfs_poll_kind kind;
  uint32_t index;
  uint32_t gen; /* of the stream when polled: a rebound handle is not it */
} pfs_poll_ref;

struct pfs_peer {
  pfs_core core;
  pfs_net net;
  pfs_gate gate;
  pfs_peer_io io;
  uint32_t words[PFS_CONFIG_WORDS];
  double origin_ms;
  uint32_t inbox, inbox_bytes, slots, max_streams, closings_max;
  pfs_stream *streams;
  pfs_closing *closings;
  pfs_poll_ref *pollmap;
  uint32_t flash_ok[PFS_PEER_SLOTS_MAX];
  bool flash_bad[PFS_PEER_SLOTS_MAX];
  uint32_t next_fetch_id;
  pfs_peer_stats stats;
};

static void peer_log(pfs_peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void peer_drain(pfs_peer *p);
static void peer_settle(pfs_peer *p);
static void stream_forget(pfs_peer *p, pfs_stream *s);

/* --- time and traps --- */

double pfs_peer_now(const pfs_peer *p) { return pfs_clock_ms() - p->origin_ms; }
pfs_core *pfs_peer_core(pfs_peer *p) { return &p->core; }
pfs_peer_stats pfs_peer_stats_of(const pfs_peer *p) { return p->stats; }

bool pfs_peer_failed(const pfs_peer *p, pfs_err *err) {
  if (!pfs_core_trapped(&p->core)) return false;
  pfs_fail(err, "pfs core: %s", pfs_core_trap(&p->core)->text);
  return true;
}

void peer_log(pfs_peer *p, const char *fmt, ...) {
  if (p->io.log == NULL) return;
  char line[PFS_ERR_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  p->io.log(p->io.ctx, line);
}

/* --- open and close --- */

/* The core's own default when word 3 is 0 (docs/ABI.md §2.1). */
static uint32_t streams_of(const uint32_t *words) {
  uint32_t h = words[PFS_CFG_MAX_HIERARCHIES] != 0 ? words[PFS_CFG_MAX_HIERARCHIES] : PFS_DEFAULT_HIERARCHIES;
  return words[PFS_CFG_MAX_STREAMS] != 0 ? words[PFS_CFG_MAX_STREAMS] : h * 4u + 4u;
}

static bool core_start(pfs_peer *p, const pfs_peer_config *cfg, pfs_err *err) {
  if (!pfs_core_open(&p->core)) return pfs_fail(err, "pfs core: %s", pfs_core_trap(&p->core)->text);
  if (pfs_abiVersion(&p->core) != (int32_t)PFS_ABI_VERSION) return pfs_fail(err, "pfs core: ABI version is not %u", PFS_ABI_VERSION);
  if (pfs_configWords(&p->core) != (int32_t)PFS_CONFIG_WORDS) return pfs_fail(err, "pfs core: config block is not %u words", PFS_CONFIG_WORDS);
  uint32_t at = pfs_configPtr(&p->core);
  for (uint32_t i = 0; i < PFS_CONFIG_WORDS; i++) {
    uint32_t w = i == PFS_CFG_SELF_ADDR ? cfg->self : cfg->words[i];
    if (!pfs_mem_store_u32(&p->core, at + 4u * i, w)) return pfs_fail(err, "pfs core: config block outside memory");
  }
  int32_t rc = pfs_init(&p->core);
  if (pfs_core_trapped(&p->core)) return pfs_fail(err, "pfs core: %s", pfs_core_trap(&p->core)->text);
  if (rc != 0) return pfs_fail(err, "pfs core: init failed (%d): a board figure is out of bounds", (int)rc);
  p->inbox = pfs_inboxPtr(&p->core);
  p->inbox_bytes = (uint32_t)pfs_inboxBytes(&p->core);
  p->slots = (uint32_t)pfs_hierCapacity(&p->core);
  if (p->slots > PFS_PEER_SLOTS_MAX) return pfs_fail(err, "pfs core: %u slots, this host keeps %u", p->slots, PFS_PEER_SLOTS_MAX);
  return true;
}

static bool tables_alloc(pfs_peer *p, pfs_err *err) {
  p->max_streams = streams_of(p->words);
  if (p->max_streams > PFS_PEER_STREAMS_MAX) return pfs_fail(err, "maxStreams %u is over %u", p->max_streams, PFS_PEER_STREAMS_MAX);
  p->closings_max = PFS_PEER_CONNECTIONS_PER_STREAM * p->max_streams;
  p->streams = calloc(p->max_streams, sizeof *p->streams);
  p->closings = calloc(p->closings_max, sizeof *p->closings);
  p->pollmap = calloc((size_t)pfs_peer_poll_room(p), sizeof *p->pollmap);
  if (p->streams == NULL || p->closings == NULL || p->pollmap == NULL) return pfs_fail(err, "out of memory for the stream tables");
  for (uint32_t h = 0; h < p->max_streams; h++) {
    pfs_stream *s = &p->streams[h];
    s->fd = -1;
    s->segs = calloc(PFS_STREAM_SEGS_MAX, sizeof *s->segs);
    s->copy = malloc(PFS_STREAM_COPY_BYTES);
    if (s->segs == NULL || s->copy == NULL) return pfs_fail(err, "out of memory for the send queues");
  }
  for (uint32_t i = 0; i < p->closings_max; i++) p->closings[i].fd = -1;
  return true;
}

pfs_peer *pfs_peer_open(const pfs_peer_config *cfg, const pfs_peer_io *io, pfs_err *err) {
  assert(cfg != NULL && io != NULL);
  if (cfg->self == 0 || cfg->self == PFS_BROADCAST_ADDR) {
    pfs_fail(err, "the phone's address must be a unicast address");
    return NULL;
  }
  pfs_peer *p = calloc(1, sizeof *p);
  if (p == NULL) {
    pfs_fail(err, "out of memory for the peer");
    return NULL;
  }
  p->io = *io;
  p->net.udp = p->net.bcast = p->net.listener = -1;
  memcpy(p->words, cfg->words, sizeof p->words);
  p->origin_ms = pfs_clock_ms();
  if (!tables_alloc(p, err) || !core_start(p, cfg, err) ||
      !pfs_net_open(&p->net, cfg->self, cfg->broadcast, cfg->port, err)) {
    pfs_peer_close(p);
    return NULL;
  }
  pfs_gate_init(&p->gate, p->slots);
  char self[PFS_ADDR_TEXT_BYTES], bc[PFS_ADDR_TEXT_BYTES];
  pfs_addr_format(cfg->self, self);
  pfs_addr_format(cfg->broadcast, bc);
  peer_log(p, "+++ Listening on peer TCP port %u at %s, UDP %s and %s", (unsigned)cfg->port, self, self, bc);
  return p;
}

void pfs_peer_close(pfs_peer *p) {
  if (p == NULL) return;
  if (p->streams != NULL) {
    for (uint32_t h = 0; h < p->max_streams; h++) {
      pfs_stream *s = &p->streams[h];
      if (s->state == STREAM_FETCH && p->io.fetch_stop != NULL) p->io.fetch_stop(p->io.ctx, s->fetch_id);
      if (s->fd >= 0) close(s->fd);
      free(s->segs);
      free(s->copy);
    }
  }
  if (p->closings != NULL) {
    for (uint32_t i = 0; i < p->closings_max; i++) {
      if (p->closings[i].fd >= 0) close(p->closings[i].fd);
    }
  }
  pfs_net_close(&p->net);
  pfs_core_close(&p->core);
  free(p->streams);
  free(p->closings);
  free(p->pollmap);
  free(p);
}

/* --- inputs the phone makes --- */

int pfs_peer_need(pfs_peer *p, const char *model, const char *file, uint32_t size_bytes, uint32_t held_bytes,
                  uint32_t flags, const uint8_t *list_sha256) {
  size_t ml = strlen(model), fl = strlen(file);
  size_t extra = list_sha256 != NULL ? PFS_HASH_BYTES : 0u;
  if (ml + fl + extra > p->inbox_bytes) return PFS_PEER_NAMES_TOO_LONG;
  if (!pfs_mem_write(&p->core, p->inbox, model, (uint32_t)ml) ||
      !pfs_mem_write(&p->core, p->inbox + (uint32_t)ml, file, (uint32_t)fl) ||
      (list_sha256 != NULL && !pfs_mem_write(&p->core, p->inbox + (uint32_t)(ml + fl), list_sha256, PFS_HASH_BYTES))) {
    return PFS_PEER_NAMES_TOO_LONG;
  }
  int32_t slot = pfs_need(&p->core, pfs_peer_now(p), (int32_t)ml, (int32_t)fl, size_bytes, held_bytes, flags);
  peer_settle(p);
  return slot;
}

int pfs_peer_release(pfs_peer *p, int slot) {
  int32_t rc = pfs_release(&p->core, pfs_peer_now(p), slot);
  peer_settle(p);
  return rc;
}

int pfs_peer_set_held(pfs_peer *p, int slot, uint32_t held_bytes, uint32_t flags) {
  int32_t rc = pfs_setHeld(&p->core, pfs_peer_now(p), slot, held_bytes, flags);
  peer_settle(p);
  return rc;
}

/* --- server fetches --- */

static pfs_stream *fetch_of(pfs_peer *p, uint32_t id, uint32_t *handle) {
  if (id == 0) return NULL;
  for (uint32_t h = 0; h < p->max_streams; h++) {
    if (p->streams[h].state == STREAM_FETCH && p->streams[h].fetch_id == id) {
      *handle = h;
      return &p->streams[h];
    }
  }
  return NULL;
}

uint32_t pfs_peer_fetch_data(pfs_peer *p, uint32_t id, const uint8_t *bytes, uint32_t len) {
  uint32_t h = 0, took = 0;
  pfs_stream *s = fetch_of(p, id, &h);
  if (s == NULL) return 0;
  uint32_t gen = s->gen;
  while (took < len) {
    int32_t w = pfs_rxWindow(&p->core, (int32_t)h);
    if (w <= 0) break;
    uint32_t n = len - took < (uint32_t)w ? len - took : (uint32_t)w;
    if (!pfs_mem_write(&p->core, pfs_rxPtr(&p->core), bytes + took, n)) break;
    pfs_onStreamRx(&p->core, pfs_peer_now(p), (int32_t)h, (int32_t)n);
    peer_drain(p);
    took += n;
    /* The stream ended during the call: the rest is moot (ABI §3.2). */
    if (s->state != STREAM_FETCH || s->gen != gen) {
      took = len;
      break;
    }
  }
  if (took < len && s->state == STREAM_FETCH && s->gen == gen) s->fetch_blocked = true;
  peer_settle(p);
  return took;
}

uint32_t pfs_peer_fetch_window(pfs_peer *p, uint32_t id) {
  uint32_t h = 0;
  if (fetch_of(p, id, &h) == NULL) return 0;
  int32_t w = pfs_rxWindow(&p->core, (int32_t)h);
  return w > 0 ? (uint32_t)w : 0u;
}

void pfs_peer_fetch_end(pfs_peer *p, uint32_t id) {
  uint32_t h = 0;
  pfs_stream *s = fetch_of(p, id, &h);
  if (s == NULL) return;
  stream_forget(p, s);
  pfs_onStreamClosed(&p->core, pfs_peer_now(p), (int32_t)h);
  peer_settle(p);
}

/* Fetches that were refused bytes and whose window reopened hear so. */
static void peer_fetches_ready(pfs_peer *p) {
  if (p->io.fetch_ready == NULL) return;
  for (uint32_t h = 0; h < p->max_streams; h++) {
    pfs_stream *s = &p->streams[h];
    if (s->state != STREAM_FETCH || !s->fetch_blocked || pfs_rxWindow(&p->core, (int32_t)h) <= 0) continue;
    s->fetch_blocked = false;
    p->io.fetch_ready(p->io.ctx, s->fetch_id);
  }
}

/* --- sockets of streams --- */

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void fd_release(pfs_peer *p, int fd, bool gated, uint32_t gate_addr) {
  if (fd >= 0) close(fd);
  if (gated) pfs_gate_release(&p->gate, gate_addr);
}

/* Unbinds a handle from whatever carried it, dropping its queue and every
 * follow-up: nothing more is reported about it. The socket, if any, is
 * the caller's (closed or moved to a closing slot). */
static void stream_forget(pfs_peer *p, pfs_stream *s) {
  (void)p;
  s->state = STREAM_FREE;
  s->fd = -1;
  s->gated = false;
  s->fetch_id = 0;
  s->fetch_blocked = false;
  s->seg_head = s->seg_count = 0;
  s->copy_head = s->copy_used = 0;
  s->due_closed = s->due_connected = s->due_read = false;
  s->done_bytes = 0;
}

/* Binds handle h to a new carrier; whatever it held before is dropped
 * silently (the core reused the handle: the old one is dead to it). */
static pfs_stream *stream_bind(pfs_peer *p, uint32_t h, pfs_stream_state state, int fd) {
  pfs_stream *s = &p->streams[h];
  if (s->state == STREAM_FETCH && p->io.fetch_stop != NULL) p->io.fetch_stop(p->io.ctx, s->fetch_id);
  if (s->fd >= 0) fd_release(p, s->fd, s->gated, s->gate_addr);
  stream_forget(p, s);
  s->state = state;
  s->fd = fd;
  s->gen++;
  return s;
}

/* Our socket of a live handle broke (error, queue overflow): close it and
 * tell the core after the walk. */
static void stream_broken(pfs_peer *p, pfs_stream *s) {
  fd_release(p, s->fd, s->gated, s->gate_addr);
  uint32_t gen = s->gen;
  stream_forget(p, s);
  s->gen = gen;
  s->state = STREAM_DEAD;
  s->due_closed = true;
}

/* Sends what the queue holds until the kernel takes no more. Returns false
 * when the socket failed (the stream is then broken). */
static bool stream_flush(pfs_peer *p, pfs_stream *s) {
  while (s->seg_count > 0 && s->fd >= 0) {
    struct iovec iov[PFS_WRITEV_IOVS];
    int n = 0;
    for (uint32_t i = 0; i < s->seg_count && n < PFS_WRITEV_IOVS; i++, n++) {
      const pfs_seg *g = &s->segs[(s->seg_head + i) % PFS_STREAM_SEGS_MAX];
      uint8_t *base = g->ref ? pfs_mem_span(&p->core, g->at + g->sent, g->len - g->sent) : s->copy + g->at + g->sent;
      if (base == NULL) return false;
      iov[n] = (struct iovec){.iov_base = base, .iov_len = g->len - g->sent};
    }
    ssize_t w = writev(s->fd, iov, n);
    if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    for (size_t left = (size_t)w; left > 0;) {
      pfs_seg *g = &s->segs[s->seg_head];
      uint32_t take = left < g->len - g->sent ? (uint32_t)left : g->len - g->sent;
      g->sent += take;
      left -= take;
      if (g->ref) s->done_bytes += take;
      if (g->sent < g->len) break;
      if (!g->ref) s->copy_used -= g->len;
      s->seg_head = (s->seg_head + 1) % PFS_STREAM_SEGS_MAX;
      s->seg_count--;
    }
    if (s->seg_count == 0) s->copy_head = s->copy_used = 0;
  }
  return true;
}

static bool seg_push(pfs_stream *s, uint32_t at, uint32_t len, bool ref) {
  if (s->seg_count == PFS_STREAM_SEGS_MAX) return false;
  s->segs[(s->seg_head + s->seg_count) % PFS_STREAM_SEGS_MAX] = (pfs_seg){.at = at, .len = len, .sent = 0, .ref = ref};
  s->seg_count++;
  return true;
}

/* Appends a copy of bytes (OUT_WRITE) to the copy ring, split in two
 * pieces where it wraps. */
static bool queue_copy(pfs_stream *s, const uint8_t *bytes, uint32_t len) {
  if (len > PFS_STREAM_COPY_BYTES - s->copy_used) return false;
  uint32_t tail = (s->copy_head + s->copy_used) % PFS_STREAM_COPY_BYTES;
  uint32_t first = len < PFS_STREAM_COPY_BYTES - tail ? len : PFS_STREAM_COPY_BYTES - tail;
  if (s->seg_count + (first < len ? 2u : 1u) > PFS_STREAM_SEGS_MAX) return false;
  memcpy(s->copy + tail, bytes, first);
  seg_push(s, tail, first, false);
  if (first < len) {
    memcpy(s->copy, bytes + first, len - first);
    seg_push(s, 0, len - first, false);
  }
  s->copy_used += len;
  return true;
}

/* OUT_WRITE and OUT_WRITE_REF: queued in order; a handle we hold no open
 * socket for is ignored (docs/ABI.md §5.2 rule 4). */
static void act_write(pfs_peer *p, uint32_t h, const uint8_t *bytes, uint32_t ptr, uint32_t len, bool ref) {
  if (h >= p->max_streams || p->streams[h].state != STREAM_OPEN || len == 0) return;
  pfs_stream *s = &p->streams[h];
  bool ok = ref ? (pfs_mem_in(&p->core, ptr, len) && seg_push(s, ptr, len, true)) : queue_copy(s, bytes, len);
  if (ok) return;
  p->stats.queue_overflows++;
  stream_broken(p, s);
}

/* Moves a socket the core closed to a closing slot: FIN now, the peer's
 * FIN awaited; closed at once when every slot is taken. */
static void socket_linger(pfs_peer *p, int fd, bool gated, uint32_t gate_addr, bool established) {
  for (uint32_t i = 0; established && i < p->closings_max; i++) {
    pfs_closing *c = &p->closings[i];
    if (c->fd >= 0) continue;
    (void)shutdown(fd, SHUT_WR);
    *c = (pfs_closing){.fd = fd, .gated = gated, .gate_addr = gate_addr,
                       .until_ms = pfs_peer_now(p) + PFS_PEER_CLOSE_LINGER_MS};
    return;
  }
  fd_release(p, fd, gated, gate_addr);
}

/* OUT_CLOSE: send what is queued (views are still valid during the walk),
 * drop what the kernel will not take now, close gracefully, unbind. */
static void act_close(pfs_peer *p, uint32_t h) {
  if (h >= p->max_streams) return;
  pfs_stream *s = &p->streams[h];
  if (s->state == STREAM_FETCH && p->io.fetch_stop != NULL) p->io.fetch_stop(p->io.ctx, s->fetch_id);
  if (s->state == STREAM_OPEN) (void)stream_flush(p, s);
  if (s->fd >= 0) socket_linger(p, s->fd, s->gated, s->gate_addr, s->state == STREAM_OPEN);
  stream_forget(p, s);
}

static void act_connect(pfs_peer *p, uint32_t h, uint32_t addr) {
  if (h >= p->max_streams) return;
  bool done = false;
  int fd = pfs_net_connect(&p->net, addr, &done);
  pfs_stream *s = stream_bind(p, h, fd < 0 ? STREAM_DEAD : done ? STREAM_OPEN : STREAM_CONNECTING, fd);
  if (fd < 0) s->due_closed = true;
  if (done) s->due_connected = true;
}

static void act_fetch(pfs_peer *p, uint32_t slot, uint32_t h, uint32_t from, uint32_t total) {
  if (h >= p->max_streams) return;
  pfs_stream *s = stream_bind(p, h, STREAM_FETCH, -1);
  if (++p->next_fetch_id == 0) p->next_fetch_id = 1;
  s->fetch_id = p->next_fetch_id;
  if (p->io.fetch_start != NULL && p->io.fetch_start(p->io.ctx, s->fetch_id, (int)slot, from, total)) return;
  peer_log(p, "server fetch for slot %u could not start", (unsigned)slot);
  s->state = STREAM_DEAD;
  s->due_closed = true;
}

/* Synchronous flash: done (or failed) now, reported after the walk. After a
 * failure the slot's later writes of this batch are failed too (ABI §7.3:
 * every write outstanding from the flash offset failed). */
static void act_flash_write(pfs_peer *p, uint32_t slot, uint32_t offset, uint32_t ptr, uint32_t len) {
  if (slot >= p->slots || p->flash_bad[slot]) return;
  const uint8_t *view = pfs_mem_span(&p->core, ptr, len);
  bool ok = view != NULL && p->io.flash_write != NULL && p->io.flash_write(p->io.ctx, (int)slot, offset, view, len);
  if (ok) p->flash_ok[slot] += len;
  else p->flash_bad[slot] = true;
}

static void act_flash_read(pfs_peer *p, uint32_t slot, uint32_t offset, const uint8_t *rec) {
  uint32_t ptr = le32(rec), len = le32(rec + 4), h = le32(rec + 8), tag = le32(rec + 12);
  if (h >= p->max_streams || p->streams[h].state != STREAM_OPEN) return;
  uint8_t *into = pfs_mem_span(&p->core, ptr, len);
  uint32_t n = 0;
  if (into != NULL && slot < p->slots && p->io.flash_read != NULL) n = p->io.flash_read(p->io.ctx, (int)slot, offset, into, len);
  pfs_stream *s = &p->streams[h];
  s->due_read = true;
  s->read_tag = tag;
  s->read_len = n > len ? len : n;
}

/* --- the outbox --- */

static void act(pfs_peer *p, uint8_t kind, uint32_t a, uint32_t b, const uint8_t *pl, uint32_t plen) {
  switch (kind) {
    case PFS_OUT_DATAGRAM: (void)pfs_net_send(&p->net, a, pl, plen); break;
    case PFS_OUT_CONNECT: act_connect(p, b, a); break;
    case PFS_OUT_WRITE: act_write(p, b, pl, 0, plen, false); break;
    case PFS_OUT_CLOSE: act_close(p, b); break;
    case PFS_OUT_EVENT:
      if (plen >= PFS_EVENT_BYTES && p->io.event != NULL) {
        p->io.event(p->io.ctx, pfs_peer_now(p), a, pl[0], pl[1], le32(pl + 4), le32(pl + 8));
      }
      break;
    case PFS_OUT_FETCH:
      if (plen >= 8) act_fetch(p, a, b, le32(pl), le32(pl + 4));
      break;
    case PFS_OUT_FLASH_WRITE:
      if (plen >= 8) act_flash_write(p, a, b, le32(pl), le32(pl + 4));
      break;
    case PFS_OUT_FLASH_READ:
      if (plen >= 16) act_flash_read(p, a, b, pl);
      break;
    case PFS_OUT_WRITE_REF:
      if (plen >= 8) act_write(p, b, NULL, le32(pl), le32(pl + 4), true);
      break;
    default: break; /* a newer kind: skipped by its length (ABI §5.1) */
  }
}

/* Walks the outbox in order and clears it. No call into the core happens
 * between outboxLen() and outboxClear() (docs/ABI.md §5.2 rule 3). */
static void peer_drain(pfs_peer *p) {
  int32_t len = pfs_outboxLen(&p->core);
  if (len <= 0) return;
  const uint8_t *box = pfs_mem_span(&p->core, pfs_outboxPtr(&p->core), (uint32_t)len);
  if (box == NULL) return;
  for (uint32_t off = 0; off + PFS_OUT_HEADER_BYTES <= (uint32_t)len;) {
    const uint8_t *r = box + off;
    uint32_t plen = (uint32_t)r[2] | (uint32_t)r[3] << 8;
    if (off + PFS_OUT_HEADER_BYTES + plen > (uint32_t)len) break;
    act(p, r[0], le32(r + 4), le32(r + 8), r + PFS_OUT_HEADER_BYTES, plen);
    off += PFS_OUT_HEADER_BYTES + ((plen + 3u) & ~3u);
  }
  pfs_outboxClear(&p->core);
}

/* One pass of follow-ups for one stream; true if anything was reported. */
static bool report_stream(pfs_peer *p, uint32_t h) {
  pfs_stream *s = &p->streams[h];
  double now = pfs_peer_now(p);
  if (s->due_closed) {
    stream_forget(p, s);
    pfs_onStreamClosed(&p->core, now, (int32_t)h);
  } else if (s->due_connected) {
    s->due_connected = false;
    pfs_onStreamConnected(&p->core, now, (int32_t)h);
  } else if (s->due_read) {
    s->due_read = false;
    pfs_onFlashRead(&p->core, now, (int32_t)h, s->read_tag, (int32_t)s->read_len);
  } else if (s->done_bytes > 0) {
    uint32_t n = s->done_bytes;
    s->done_bytes = 0;
    pfs_onWriteDone(&p->core, now, (int32_t)h, (int32_t)n);
  } else {
    return false;
  }
  peer_drain(p);
  return true;
}

static bool report_round(pfs_peer *p) {
  bool any = false;
  for (uint32_t slot = 0; slot < p->slots; slot++) {
    if (p->flash_ok[slot] == 0 && !p->flash_bad[slot]) continue;
    uint32_t ok = p->flash_ok[slot];
    bool bad = p->flash_bad[slot];
    p->flash_ok[slot] = 0;
    p->flash_bad[slot] = false;
    if (ok > 0) pfs_onFlashWritten(&p->core, pfs_peer_now(p), (int32_t)slot, (int32_t)ok);
    if (bad) pfs_onFlashWritten(&p->core, pfs_peer_now(p), (int32_t)slot, -1);
    peer_drain(p);
    any = true;
  }
  for (uint32_t h = 0; h < p->max_streams; h++) any |= report_stream(p, h);
  return any;
}

static void flush_all(pfs_peer *p) {
  for (uint32_t h = 0; h < p->max_streams; h++) {
    pfs_stream *s = &p->streams[h];
    if (s->state == STREAM_OPEN && s->seg_count > 0 && !stream_flush(p, s)) stream_broken(p, s);
  }
}

/* After any input: drain, send, report the follow-ups, until quiet. */
static void peer_settle(pfs_peer *p) {
  for (int round = 0; round < PFS_SETTLE_ROUNDS && !pfs_core_trapped(&p->core); round++) {
    peer_drain(p);
    flush_all(p);
    if (!report_round(p)) break;
  }
}

static bool reports_due(const pfs_peer *p) {
  for (uint32_t slot = 0; slot < p->slots; slot++) {
    if (p->flash_ok[slot] != 0 || p->flash_bad[slot]) return true;
  }
  for (uint32_t h = 0; h < p->max_streams; h++) {
    const pfs_stream *s = &p->streams[h];
    if (s->due_closed || s->due_connected || s->due_read || s->done_bytes > 0) return true;
  }
  return false;
}

/* --- input from sockets --- */

static void read_datagrams(pfs_peer *p, int fd) {
  for (int i = 0; i < PFS_DATAGRAMS_PER_TURN; i++) {
    uint8_t *inbox = pfs_mem_span(&p->core, p->inbox, p->inbox_bytes);
    uint32_t src = 0;
    long n = inbox == NULL ? -1 : pfs_net_recv(fd, inbox, p->inbox_bytes, &src);
    if (n < 0) return;
    p->stats.datagrams_in++;
    /* The real length, even past the inbox: the core counts it malformed. */
    pfs_onDatagram(&p->core, pfs_peer_now(p), src, n > INT32_MAX ? INT32_MAX : (int32_t)n);
    peer_drain(p);
  }
}

static uint32_t fds_held(const pfs_peer *p) {
  uint32_t n = 0;
  for (uint32_t h = 0; h < p->max_streams; h++) n += p->streams[h].fd >= 0;
  for (uint32_t i = 0; i < p->closings_max; i++) n += p->closings[i].fd >= 0;
  return n;
}

/* A connection reaches the core only when the descriptor limit and the
 * gate admit it and the core has a handle for it; else it is closed at
 * once, unread (peer-host.ts onAccept). */
static void accept_one(pfs_peer *p, int fd, uint32_t peer) {
  double now = pfs_peer_now(p);
  if (fds_held(p) >= p->closings_max || pfs_gate_admit(&p->gate, peer, now) != PFS_GATE_OK) {
    close(fd);
    p->stats.accepts_refused++;
    return;
  }
  int32_t h = pfs_onStreamAccept(&p->core, now, peer);
  if (h < 0 || (uint32_t)h >= p->max_streams) {
    fd_release(p, fd, true, peer);
    p->stats.accepts_refused++;
    peer_drain(p);
    return;
  }
  /* The handle is never one this call closed: bind it before the drain. */
  pfs_stream *s = stream_bind(p, (uint32_t)h, STREAM_OPEN, fd);
  s->gated = true;
  s->gate_addr = peer;
  peer_drain(p);
}

static void read_stream(pfs_peer *p, uint32_t h) {
  pfs_stream *s = &p->streams[h];
  uint32_t gen = s->gen;
  for (int i = 0; i < PFS_READS_PER_TURN && s->state == STREAM_OPEN && s->gen == gen; i++) {
    int32_t w = pfs_rxWindow(&p->core, (int32_t)h);
    if (w <= 0) return;
    uint8_t *into = pfs_mem_span(&p->core, pfs_rxPtr(&p->core), (uint32_t)w);
    if (into == NULL) return;
    ssize_t n = recv(s->fd, into, (size_t)w, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      /* EOF or an error: the stream ended (docs/ABI.md §6). */
      stream_broken(p, s);
      return;
    }
    pfs_onStreamRx(&p->core, pfs_peer_now(p), (int32_t)h, (int32_t)n);
    peer_drain(p);
    if ((size_t)n < (size_t)w) return;
  }
}

static void stream_event(pfs_peer *p, uint32_t h, short revents) {
  pfs_stream *s = &p->streams[h];
  if (s->state == STREAM_CONNECTING && (revents & (POLLOUT | POLLERR | POLLHUP))) {
    if (pfs_net_connect_result(s->fd) != 0) {
      stream_broken(p, s);
      return;
    }
    s->state = STREAM_OPEN;
    s->due_connected = true;
    return;
  }
  if (s->state != STREAM_OPEN) return;
  if ((revents & POLLOUT) && !stream_flush(p, s)) {
    stream_broken(p, s);
    return;
  }
  if (revents & POLLIN) read_stream(p, h);
  else if (revents & (POLLERR | POLLHUP)) stream_broken(p, s);
}

/* A lingering socket: read and drop until the peer's FIN, or time out. */
static void closing_event(pfs_peer *p, uint32_t i, short revents, double now) {
  pfs_closing *c = &p->closings[i];
  if (c->fd < 0) return;
  bool done = now >= c->until_ms || (revents & (POLLERR | POLLHUP));
  if (!done && (revents & POLLIN)) {
    uint8_t sink[PFS_MAX_FRAME_BYTES];
    for (int k = 0; k < PFS_READS_PER_TURN; k++) {
      ssize_t n = recv(c->fd, sink, sizeof sink, 0);
      if (n > 0) continue;
      done = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
      break;
    }
  }
  if (!done) return;
  fd_release(p, c->fd, c->gated, c->gate_addr);
  c->fd = -1;
}

/* --- the poll loop --- */

int pfs_peer_poll_room(const pfs_peer *p) { return 3 + (int)p->max_streams + (int)p->closings_max; }

static void poll_add(pfs_peer *p, struct pollfd *fds, int *n, int fd, short events, pfs_poll_kind kind, uint32_t index) {
  fds[*n] = (struct pollfd){.fd = fd, .events = events, .revents = 0};
  uint32_t gen = kind == POLL_STREAM ? p->streams[index].gen : 0;
  p->pollmap[*n] = (pfs_poll_ref){.kind = kind, .index = index, .gen = gen};
  (*n)++;
}

int pfs_peer_poll_fds(pfs_peer *p, struct pollfd *fds, int room) {
  assert(room >= pfs_peer_poll_room(p));
  (void)room;
  int n = 0;
  poll_add(p, fds, &n, p->net.udp, POLLIN, POLL_UDP, 0);
  poll_add(p, fds, &n, p->net.bcast, POLLIN, POLL_BCAST, 0);
  poll_add(p, fds, &n, p->net.listener, POLLIN, POLL_LISTEN, 0);
  for (uint32_t h = 0; h < p->max_streams; h++) {
    pfs_stream *s = &p->streams[h];
    if (s->fd < 0) continue;
    short ev = 0;
    if (s->state == STREAM_CONNECTING) ev = POLLOUT;
    /* A stream whose window is 0 is not read until it reopens (ABI §7.5). */
    if (s->state == STREAM_OPEN) ev = (short)((pfs_rxWindow(&p->core, (int32_t)h) > 0 ? POLLIN : 0) | (s->seg_count > 0 ? POLLOUT : 0));
    poll_add(p, fds, &n, s->fd, ev, POLL_STREAM, h);
  }
  for (uint32_t i = 0; i < p->closings_max; i++) {
    if (p->closings[i].fd >= 0) poll_add(p, fds, &n, p->closings[i].fd, POLLIN, POLL_CLOSING, i);
  }
  return n;
}

int pfs_peer_poll_timeout_ms(pfs_peer *p) {
  if (pfs_core_trapped(&p->core)) return PFS_PEER_POLL_MAX_MS;
  if (reports_due(p)) return 0;
  double now = pfs_peer_now(p);
  double due = pfs_nextDeadlineMs(&p->core);
  for (uint32_t i = 0; i < p->closings_max; i++) {
    if (p->closings[i].fd >= 0 && p->closings[i].until_ms < due) due = p->closings[i].until_ms;
  }
  if (isinf(due) || due - now >= PFS_PEER_POLL_MAX_MS) return PFS_PEER_POLL_MAX_MS;
  return due <= now ? 0 : (int)ceil(due - now);
}

void pfs_peer_poll_done(pfs_peer *p, const struct pollfd *fds, int count) {
  if (pfs_core_trapped(&p->core)) return;
  double now = pfs_peer_now(p);
  for (int i = 0; i < count; i++) {
    pfs_poll_ref r = p->pollmap[i];
    short ev = fds[i].revents;
    if (r.kind == POLL_CLOSING) closing_event(p, r.index, ev, now);
    if (ev == 0) continue;
    if (r.kind == POLL_UDP || r.kind == POLL_BCAST) read_datagrams(p, fds[i].fd);
    if (r.kind == POLL_LISTEN) {
      uint32_t peer = 0;
      int fd;
      for (int k = 0; k < PFS_ACCEPTS_PER_TURN && (fd = pfs_net_accept(&p->net, &peer)) >= 0; k++) accept_one(p, fd, peer);
    }
    /* The handle may have been closed or rebound since poll_fds. */
    pfs_stream *s = r.kind == POLL_STREAM ? &p->streams[r.index] : NULL;
    if (s != NULL && s->gen == r.gen && s->fd == fds[i].fd) stream_event(p, r.index, ev);
    peer_settle(p);
  }
  double t = pfs_peer_now(p);
  if (t >= pfs_nextDeadlineMs(&p->core)) pfs_onTimer(&p->core, t);
  peer_settle(p);
  peer_fetches_ready(p);
}

/* --- the sha256 import from OpenSSL --- */

#ifdef PFS_SHA256_OPENSSL
#include <openssl/evp.h>

#include "sha256.h"

/* env.sha256 of the embedder (native/embed/pfs_core.c) calls pfs_sha256;
 * the phone links this one, OpenSSL's EVP SHA-256 (issue 11), instead of
 * native/sha256/sha256.c. EVP_Digest consumes all the input before it
 * writes the digest, so out may overlap data, as the embedder allows. A
 * failure here (no SHA-256 in libcrypto) cannot be reported through the
 * import: a digest of zeros fails every check, and the core drops the
 * bytes as corrupt rather than trust them. */
void pfs_sha256(const void *data, size_t n, uint8_t out[PFS_SHA256_DIGEST_BYTES]) {
  unsigned int len = 0;
  if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 || len != PFS_SHA256_DIGEST_BYTES) {
    memset(out, 0, PFS_SHA256_DIGEST_BYTES);
  }
}
#endif
