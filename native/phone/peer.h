/* A phone's PFS core on real sockets (host/phone/peer-host.ts in C): one
 * core instance (native/embed/pfs_core.h) fed with datagrams, stream bytes,
 * accepts, connect results, closes and timers, and acting on every outbox
 * record (docs/ABI.md §5). The core decides everything and frames every
 * stream itself; this part only carries bytes and time between it and the
 * OS, zero copy both ways: stream bytes are read straight into the core's
 * receive window (rxWindow/rxPtr), and OUT_WRITE_REF views go to writev()
 * from core memory and are reported done once the kernel has them.
 *
 * What the phone supplies (pfs_peer_io): the fetcher (a root's server
 * fetch), the flash (synchronous writes and reads of a slot's transfer
 * space: block list, then file, docs/ABI.md §7.1) and an event callback.
 *
 * The loop is the caller's, so main.c can poll its own sockets (TFTP) in
 * the same poll():
 *
 *   for (;;) {
 *     int n = pfs_peer_poll_fds(p, fds, room);
 *     ... add the phone's own fds after them ...
 *     poll(fds, total, min(pfs_peer_poll_timeout_ms(p), own));
 *     pfs_peer_poll_done(p, fds, n);
 *     if (pfs_peer_failed(p)) ...          the core trapped: a bug
 *   }
 *
 * One thread; the callbacks run from inside pfs_peer_* calls and must not
 * call back into the peer, except where said. */
#ifndef PFS_PHONE_PEER_H
#define PFS_PHONE_PEER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "pfs_core.h"

typedef struct pfs_peer pfs_peer;

typedef struct pfs_peer_io {
  void *ctx;
  /* Start the server fetch `id` of slot's transfer bytes [from, total)
   * (<file>.blk, then <file>; the prefix before `from` skipped). The bytes
   * go in with pfs_peer_fetch_data(id), the end (complete or not) with
   * pfs_peer_fetch_end(id); never from inside this callback. false: it
   * cannot start (the core retries later). */
  bool (*fetch_start)(void *ctx, uint32_t id, int slot, uint32_t from, uint32_t total);
  /* The core stopped fetch `id` (merged, corrupt bytes, hierarchy left):
   * stop it and report nothing more about it. */
  void (*fetch_stop)(void *ctx, uint32_t id);
  /* Optional: fetch `id` was given fewer bytes than offered and the core
   * takes bytes again; may call pfs_peer_fetch_data. */
  void (*fetch_ready)(void *ctx, uint32_t id);
  /* Write len bytes at offset of slot's transfer space; false when the
   * flash failed (the core retries, then gives the file up, ABI §7.3). */
  bool (*flash_write)(void *ctx, int slot, uint32_t offset, const uint8_t *bytes, uint32_t len);
  /* Fill into[0, len) from offset of slot's transfer space: bytes read,
   * 0 when it could not. */
  uint32_t (*flash_read)(void *ctx, int slot, uint32_t offset, uint8_t *into, uint32_t len);
  /* One core event (docs/ABI.md §8), at now_ms of the peer's clock. */
  void (*event)(void *ctx, double now_ms, uint32_t xid, int code, int n, uint32_t a, uint32_t b);
  /* Optional: one line for a log (never anything the host must act on). */
  void (*log)(void *ctx, const char *line);
} pfs_peer_io;

typedef struct pfs_peer_config {
  uint32_t self;      /* the phone's address: the sockets' and the core's */
  uint32_t broadcast; /* the subnet's broadcast address */
  uint16_t port;      /* PFS_PORT, or another for tests */
  /* The core's config block (docs/ABI.md §2.1; 0 = the core's default).
   * Word PFS_CFG_SELF_ADDR is overwritten with self. */
  uint32_t words[PFS_CONFIG_WORDS];
} pfs_peer_config;

/* Opens the sockets and a core, and initialises it; NULL with the reason
 * in err. Allocates everything the peer will ever use. */
pfs_peer *pfs_peer_open(const pfs_peer_config *cfg, const pfs_peer_io *io, pfs_err *err);
/* Closes every socket and fetch and frees the peer (NULL is fine). */
void pfs_peer_close(pfs_peer *p);

/* The core's clock: ms since the peer opened (monotonic). */
double pfs_peer_now(const pfs_peer *p);
/* The core, for read-only queries (hier*, counters): never an input. */
pfs_core *pfs_peer_core(pfs_peer *p);
/* True once the core trapped; err gets its report. Nothing runs after. */
bool pfs_peer_failed(const pfs_peer *p, pfs_err *err);

/* docs/ABI.md §3.3: the slot, or the core's negative answer (-1 no slot,
 * -2 bad arguments, -3 too large); -4 when the names do not fit the inbox.
 * list_sha256: 32 bytes with NEED_RELAY (and not NEED_VERIFIED), else NULL. */
int pfs_peer_need(pfs_peer *p, const char *model, const char *file, uint32_t size_bytes, uint32_t held_bytes,
                  uint32_t flags, const uint8_t *list_sha256);
int pfs_peer_release(pfs_peer *p, int slot);
int pfs_peer_set_held(pfs_peer *p, int slot, uint32_t held_bytes, uint32_t flags);

/* Server bytes for fetch `id`, in order: how many the core took from the
 * start (fewer when its ring is full: keep the rest, offer it again when
 * pfs_peer_fetch_window says so or fetch_ready is called). 0 for a fetch
 * that is no longer the core's. */
uint32_t pfs_peer_fetch_data(pfs_peer *p, uint32_t id, const uint8_t *bytes, uint32_t len);
/* Bytes fetch `id` takes now (0: none now, or it is gone). */
uint32_t pfs_peer_fetch_window(pfs_peer *p, uint32_t id);
/* The server stream of fetch `id` ended, complete or not. */
void pfs_peer_fetch_end(pfs_peer *p, uint32_t id);

/* The most pollfds pfs_peer_poll_fds fills. */
int pfs_peer_poll_room(const pfs_peer *p);
/* Fills fds with what the peer waits on; returns how many. Pass the same
 * fds, unchanged in order, to pfs_peer_poll_done. */
int pfs_peer_poll_fds(pfs_peer *p, struct pollfd *fds, int room);
/* How long poll() may sleep: until the core's next deadline, a lingering
 * close, or 0 when work is waiting; at most PFS_PEER_POLL_MAX_MS. */
int pfs_peer_poll_timeout_ms(pfs_peer *p);
/* Reads, writes, accepts, connect results, closes and timers. */
void pfs_peer_poll_done(pfs_peer *p, const struct pollfd *fds, int count);

/* Counters of what the host itself refused or lost (for logs and tests). */
typedef struct pfs_peer_stats {
  uint64_t accepts_refused; /* gate, core or descriptor limit */
  uint64_t datagrams_in;
  uint64_t queue_overflows; /* streams closed: their send queue was full */
} pfs_peer_stats;
pfs_peer_stats pfs_peer_stats_of(const pfs_peer *p);

#endif
