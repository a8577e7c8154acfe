/* pfs-peer: a PFS peer for ONE file on real sockets, to test the C host
 * (net.c, peer.c) against the Node phones on the wire before the whole C
 * phone exists (tests/host/native-phone-peer.test.ts).
 *
 *   pfs-peer --bind ADDR --broadcast BCAST --port P --model M --file NAME
 *            --size N --list-sha256 HEX
 *            [--seed-from PATH | --fetch-from PATH] --out PATH
 *            [--linger S] [--board NAME] [--seed N] [--timeout S]
 *
 * --seed-from: the phone holds the file (NEED_VERIFIED): it is served from
 * --out, which gets the transfer space (block list, then file) first.
 * --fetch-from: a root "fetches from the server" by reading this file: the
 * server bytes are the block list, then the file (host/phone/phone.ts).
 * Without either the phone only takes the file from its peers.
 * --out receives every flash write: the transfer space, list then file
 * (docs/ABI.md §7.1). --board: a board of boards/, its "core" figures as
 * build/gen/pfs_boards.h holds them (board.h; "inherits" followed by
 * host/tools/boards-c.ts); without it, the core's defaults.
 *
 * Prints the core's events as the Node console does (host/log/console.ts)
 * and exits 0 once the file is done (FILE_DONE, or held from the start) and
 * --linger seconds have passed; 1 on --timeout (default 120 s), 2 on bad
 * arguments or a failure. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "board.h"
#include "err.h"
#include "net.h"
#include "peer.h"

/* Server bytes offered per turn of the loop: what a TFTP window of 64 KiB
 * would bring at once. */
#define FETCH_CHUNK_BYTES 65536u
#define DEFAULT_TIMEOUT_S 120.0

typedef struct tool {
  const char *bind, *broadcast, *model, *file, *seed_from, *fetch_from, *out, *board;
  unsigned port;
  uint32_t size, seed;
  uint8_t list_sha[PFS_HASH_BYTES];
  bool have_list;
  double linger_s, timeout_s;
  int out_fd;
  uint8_t *stream; /* fetch-from / seed-from: list, then file */
  uint32_t total, list_bytes;
  uint32_t fetch_id, fetch_pos, fetch_end; /* the one fetch running */
  uint32_t xid;
  double done_ms; /* < 0 until the file is done */
  pfs_peer *peer;
} tool;

/* --- arguments --- */

static bool parse_u32(const char *s, uint32_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0' || v > 0xffffffffull) return false;
  *out = (uint32_t)v;
  return true;
}

static bool parse_hex(const char *s, uint8_t *out, size_t n) {
  if (strlen(s) != 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return false;
    out[i] = (uint8_t)v;
  }
  return true;
}

static bool parse_args(tool *t, int argc, char **argv, pfs_err *err) {
  t->port = PFS_PORT;
  t->timeout_s = DEFAULT_TIMEOUT_S;
  t->seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) return pfs_fail(err, "%s: a value is missing", k);
    i++;
    uint32_t u = 0;
    if (strcmp(k, "--bind") == 0) t->bind = v;
    else if (strcmp(k, "--broadcast") == 0) t->broadcast = v;
    else if (strcmp(k, "--model") == 0) t->model = v;
    else if (strcmp(k, "--file") == 0) t->file = v;
    else if (strcmp(k, "--seed-from") == 0) t->seed_from = v;
    else if (strcmp(k, "--fetch-from") == 0) t->fetch_from = v;
    else if (strcmp(k, "--out") == 0) t->out = v;
    else if (strcmp(k, "--board") == 0) t->board = v;
    else if (strcmp(k, "--linger") == 0) t->linger_s = atof(v);
    else if (strcmp(k, "--timeout") == 0) t->timeout_s = atof(v);
    else if (strcmp(k, "--port") == 0 && parse_u32(v, &u) && u > 0 && u < 65536) t->port = u;
    else if (strcmp(k, "--size") == 0 && parse_u32(v, &u) && u > 0) t->size = u;
    else if (strcmp(k, "--seed") == 0 && parse_u32(v, &u)) t->seed = u;
    else if (strcmp(k, "--list-sha256") == 0 && parse_hex(v, t->list_sha, PFS_HASH_BYTES)) t->have_list = true;
    else return pfs_fail(err, "bad argument: %s %s", k, v);
  }
  if (t->bind == NULL || t->broadcast == NULL || t->model == NULL || t->file == NULL || t->out == NULL ||
      t->size == 0 || !t->have_list) {
    return pfs_fail(err, "needs --bind --broadcast --model --file --size --list-sha256 --out");
  }
  if (t->seed_from != NULL && t->fetch_from != NULL) return pfs_fail(err, "--seed-from or --fetch-from, not both");
  return true;
}

/* --- the file, its block list, the flash --- */

static void sha256(const uint8_t *data, size_t n, uint8_t *out) {
  unsigned int len = 0;
  EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

/* Reads PATH and builds the transfer bytes: block list, then file
 * (host/load/blocklist.ts relayFile). Checks the size and the list hash. */
static bool load_stream(tool *t, const char *path, pfs_err *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return pfs_fail(err, "%s: %s", path, strerror(errno));
  uint32_t blocks = (t->size + PFS_BLOCK_BYTES - 1) / PFS_BLOCK_BYTES;
  t->list_bytes = blocks * PFS_HASH_BYTES;
  t->total = t->list_bytes + t->size;
  t->stream = malloc((size_t)t->total + 1);
  if (t->stream == NULL) {
    fclose(f);
    return pfs_fail(err, "out of memory for %u bytes", t->total);
  }
  size_t n = fread(t->stream + t->list_bytes, 1, (size_t)t->size + 1, f);
  fclose(f);
  if (n != t->size) return pfs_fail(err, "%s holds %zu bytes, not --size %u", path, n, t->size);
  for (uint32_t k = 0; k < blocks; k++) {
    uint32_t at = k * PFS_BLOCK_BYTES, len = t->size - at < PFS_BLOCK_BYTES ? t->size - at : PFS_BLOCK_BYTES;
    sha256(t->stream + t->list_bytes + at, len, t->stream + k * PFS_HASH_BYTES);
  }
  uint8_t got[PFS_HASH_BYTES];
  sha256(t->stream, t->list_bytes, got);
  if (memcmp(got, t->list_sha, PFS_HASH_BYTES) != 0) return pfs_fail(err, "%s: its block list is not --list-sha256", path);
  return true;
}

static bool open_out(tool *t, pfs_err *err) {
  t->out_fd = open(t->out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (t->out_fd < 0) return pfs_fail(err, "%s: %s", t->out, strerror(errno));
  if (t->seed_from != NULL && pwrite(t->out_fd, t->stream, t->total, 0) != (ssize_t)t->total) {
    return pfs_fail(err, "%s: %s", t->out, strerror(errno));
  }
  return true;
}

static bool flash_write(void *ctx, int slot, uint32_t offset, const uint8_t *bytes, uint32_t len) {
  tool *t = ctx;
  (void)slot;
  return pwrite(t->out_fd, bytes, len, offset) == (ssize_t)len;
}

static uint32_t flash_read(void *ctx, int slot, uint32_t offset, uint8_t *into, uint32_t len) {
  tool *t = ctx;
  (void)slot;
  ssize_t n = pread(t->out_fd, into, len, offset);
  return n > 0 ? (uint32_t)n : 0u;
}

/* --- the fetcher: the local file stands for the server --- */

static bool fetch_start(void *ctx, uint32_t id, int slot, uint32_t from, uint32_t total) {
  tool *t = ctx;
  (void)slot;
  if (t->stream == NULL || t->seed_from != NULL) return false; /* no server here */
  printf("INF pfs-peer: fetching from the server at byte %u\n", from);
  t->fetch_id = id;
  t->fetch_pos = from;
  t->fetch_end = total < t->total ? total : t->total;
  return true;
}

static void fetch_stop(void *ctx, uint32_t id) {
  tool *t = ctx;
  if (t->fetch_id == id) t->fetch_id = 0;
}

/* Offers the next server bytes; the core takes what its ring has room for. */
static void fetch_pump(tool *t) {
  if (t->fetch_id == 0) return;
  uint32_t id = t->fetch_id;
  if (t->fetch_pos < t->fetch_end) {
    uint32_t n = t->fetch_end - t->fetch_pos < FETCH_CHUNK_BYTES ? t->fetch_end - t->fetch_pos : FETCH_CHUNK_BYTES;
    t->fetch_pos += pfs_peer_fetch_data(t->peer, id, t->stream + t->fetch_pos, n);
  }
  if (t->fetch_id == id && t->fetch_pos >= t->fetch_end) {
    t->fetch_id = 0;
    pfs_peer_fetch_end(t->peer, id);
  }
}

/* --- console lines (host/log/console.ts formatEvent) --- */

static void clock_text(double ms, char *out, size_t room) {
  unsigned long t = ms < 0 ? 0ul : (unsigned long)ms;
  snprintf(out, room, "%02lu:%02lu:%02lu.%03lu", (t / 3600000ul) % 24ul, (t / 60000ul) % 60ul, (t / 1000ul) % 60ul, t % 1000ul);
}

static const char *refuse_reason(int n) {
  static const char *const names[] = {"?", "FULL", "NOT_MEMBER", "CYCLE", "TOO_DEEP"};
  return n >= 0 && n < 5 ? names[n] : "?";
}

/* One event as the Node console prints it, lines "LVL|text"; empty for the
 * chatty ones (ROOT_AD). */
static void event_text(const tool *t, uint32_t self, int code, int n, uint32_t a, uint32_t b, char *out, size_t room) {
  char x[16], ad[PFS_ADDR_TEXT_BYTES], me[PFS_ADDR_TEXT_BYTES];
  snprintf(x, sizeof x, "XID%08X", (unsigned)t->xid);
  pfs_addr_format(a, ad);
  pfs_addr_format(self, me);
  out[0] = '\0';
  switch (code) {
    case PFS_EV_SOLICIT: snprintf(out, room, "DBG|%s TxBdcst Solicit %d: strength=%08x", x, n + 1, (unsigned)a); break;
    case PFS_EV_CLAIM:
      if (n == 0) snprintf(out, room, "INF|%s TxBdcst ClaimRoot(tent): strength=%08x", x, (unsigned)a);
      else snprintf(out, room, "INF|%s TxBdcst Ad %d: ClaimRoot(tent)", x, n);
      break;
    case PFS_EV_CONFIRMED_ROOT:
      snprintf(out, room, "NOT|UT:Confirmed root bumping strength\nNOT|@@@HROOT:%s m=%s ROOT=%s %s", x, t->model, me, t->file);
      break;
    case PFS_EV_FETCH: snprintf(out, room, n == 1 ? "INF|%s Tentative root fetching while it claims (%u bytes)" : "INF|%s Root sending TFTP XfrCmd on ROOT_WAITING (%u bytes)", x, (unsigned)a); break;
    case PFS_EV_YIELD: snprintf(out, room, "INF|%s Yield to %s %s strength=%08x", x, n == 1 ? "root" : "stronger claim", ad, (unsigned)b); break;
    case PFS_EV_JOINED: snprintf(out, room, "INF|%s Joined parent=%s depth=%d", x, ad, n); break;
    case PFS_EV_CHILD_ADDED: snprintf(out, room, "NOT|%s |child=%s children=%d FULL=%d", x, ad, n, n >= 2); break;
    case PFS_EV_CHILD_LOST: snprintf(out, room, "NOT|%s |child lost %s children=%d", x, ad, n); break;
    case PFS_EV_PARENT_LOST: snprintf(out, room, "ERR|%s Parent %s lost at depth %d: re-joining", x, ad, n); break;
    case PFS_EV_REFUSED: snprintf(out, room, "DBG|%s Refused by %s: %s, %u candidates", x, ad, refuse_reason(n), (unsigned)b); break;
    case PFS_EV_MOVED: snprintf(out, room, "INF|%s Moved up: parent=%s depth=%d", x, ad, n); break;
    case PFS_EV_MALFORMED: snprintf(out, room, "WRN|Dropped malformed %s from %s: reason %d", n & 0x80 ? "frame" : "datagram", ad, n & 0x7f); break;
    case PFS_EV_LEFT: snprintf(out, room, "INF|%s Left the hierarchy", x); break;
    case PFS_EV_ROOT_AD: break;
    case PFS_EV_FILE_DONE:
      snprintf(out, room, "NOT|%s %s complete: %u bytes checked and in flash", x, t->file, (unsigned)a);
      break;
    case PFS_EV_CORRUPT: snprintf(out, room, "ERR|%s block %u from %s failed its SHA-256 check: dropped, source avoided", x, (unsigned)b, a == 0 ? "the server" : ad); break;
    default: snprintf(out, room, "DBG|%s event %d n=%d a=%08x b=%08x", x, code, n, (unsigned)a, (unsigned)b); break;
  }
}

static void on_event(void *ctx, double now_ms, uint32_t xid, int code, int n, uint32_t a, uint32_t b) {
  tool *t = ctx;
  if (code == PFS_EV_FILE_DONE && xid == t->xid && t->done_ms < 0) t->done_ms = now_ms;
  char fmt[512], at[16];
  uint32_t self = 0;
  (void)pfs_addr_parse(t->bind, &self);
  event_text(t, self, code, n, a, b, fmt, sizeof fmt);
  if (fmt[0] == '\0') return;
  clock_text(now_ms, at, sizeof at);
  /* Each line is "LVL|text": the clock goes between. */
  for (char *line = fmt, *next; line != NULL; line = next) {
    next = strchr(line, '\n');
    if (next != NULL) *next++ = '\0';
    char *bar = strchr(line, '|');
    if (bar == NULL) continue;
    *bar = '\0';
    printf("%s %s DLoad: %s\n", line, at, bar + 1);
  }
}

static void on_log(void *ctx, const char *line) {
  (void)ctx;
  printf("%s\n", line);
}

/* --- main --- */

static bool start(tool *t, pfs_err *err) {
  pfs_peer_config cfg;
  memset(&cfg, 0, sizeof cfg);
  if (!pfs_addr_parse(t->bind, &cfg.self) || !pfs_addr_parse(t->broadcast, &cfg.broadcast)) {
    return pfs_fail(err, "--bind and --broadcast take IPv4 addresses");
  }
  cfg.port = (uint16_t)t->port;
  if (t->board != NULL) {
    const pfs_board_row *b = NULL;
    pfs_flash_layout layout; /* board_find checks it; the tool's flash is --out */
    if (!board_find(t->board, &b, &layout, err)) return false;
    _Static_assert(PFS_BOARD_WORDS <= PFS_CONFIG_WORDS, "the board table has more words than the core's config block");
    memcpy(cfg.words, b->words, sizeof b->words);
  }
  cfg.words[PFS_CFG_SEED] = t->seed;
  /* The core lingers a little past the tool, so it serves to the end. */
  cfg.words[PFS_CFG_LINGER_MS] = (uint32_t)(t->linger_s * 1000.0) + 1000u;
  const char *src = t->seed_from != NULL ? t->seed_from : t->fetch_from;
  if (src != NULL && !load_stream(t, src, err)) return false;
  if (!open_out(t, err)) return false;
  pfs_peer_io io = {.ctx = t, .fetch_start = fetch_start, .fetch_stop = fetch_stop, .flash_write = flash_write,
                    .flash_read = flash_read, .event = on_event, .log = on_log};
  t->peer = pfs_peer_open(&cfg, &io, err);
  if (t->peer == NULL) return false;
  uint32_t flags = PFS_NEED_RELAY | (t->seed_from != NULL ? PFS_NEED_VERIFIED : 0u);
  int slot = pfs_peer_need(t->peer, t->model, t->file, t->size, 0, flags, t->seed_from != NULL ? NULL : t->list_sha);
  if (slot < 0) return pfs_fail(err, "need %s: %d", t->file, slot);
  t->xid = pfs_hierXid(pfs_peer_core(t->peer), slot);
  if (t->seed_from != NULL) t->done_ms = pfs_peer_now(t->peer);
  return true;
}

static int run(tool *t, struct pollfd *fds, int room) {
  pfs_err err = {{0}};
  for (;;) {
    double now = pfs_peer_now(t->peer);
    if (t->done_ms >= 0 && now >= t->done_ms + t->linger_s * 1000.0) return 0;
    if (now >= t->timeout_s * 1000.0) {
      fprintf(stderr, "pfs-peer: %s not done after %.0f s\n", t->file, t->timeout_s);
      return 1;
    }
    int n = pfs_peer_poll_fds(t->peer, fds, room);
    int ms = pfs_peer_poll_timeout_ms(t->peer);
    if (t->fetch_id != 0 && pfs_peer_fetch_window(t->peer, t->fetch_id) > 0) ms = 0;
    if (ms > 100) ms = 100; /* linger and timeout checks */
    if (poll(fds, (nfds_t)n, ms) < 0 && errno != EINTR) {
      fprintf(stderr, "pfs-peer: poll: %s\n", strerror(errno));
      return 2;
    }
    pfs_peer_poll_done(t->peer, fds, n);
    fetch_pump(t);
    if (pfs_peer_failed(t->peer, &err)) {
      fprintf(stderr, "pfs-peer: %s\n", err.text);
      return 2;
    }
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  tool t;
  memset(&t, 0, sizeof t);
  t.out_fd = -1;
  t.done_ms = -1;
  pfs_err err = {{0}};
  if (!parse_args(&t, argc, argv, &err) || !start(&t, &err)) {
    fprintf(stderr, "pfs-peer: %s\n", err.text);
    pfs_peer_close(t.peer);
    return 2;
  }
  int room = pfs_peer_poll_room(t.peer);
  struct pollfd *fds = calloc((size_t)room, sizeof *fds);
  int rc = fds == NULL ? 2 : run(&t, fds, room);
  pfs_core *c = pfs_peer_core(t.peer);
  pfs_peer_stats st = pfs_peer_stats_of(t.peer);
  printf("pfs-peer: exit %d held=%u/%u malformedDatagrams=%u malformedFrames=%u staleHandles=%u outboxDropped=%u "
         "corruptBlocks=%u acceptsRefused=%llu queueOverflows=%llu\n",
         rc, (unsigned)pfs_hierHeld(c, 0), (unsigned)pfs_hierTotal(c, 0), (unsigned)pfs_malformedDatagrams(c),
         (unsigned)pfs_malformedFrames(c), (unsigned)pfs_staleHandles(c), (unsigned)pfs_outboxDroppedRecords(c),
         (unsigned)pfs_corruptBlocks(c), (unsigned long long)st.accepts_refused, (unsigned long long)st.queue_overflows);
  free(fds);
  pfs_peer_close(t.peer);
  free(t.stream);
  if (t.out_fd >= 0) close(t.out_fd);
  return rc;
}
