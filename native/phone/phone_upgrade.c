/* The upgrade of host/phone/phone.ts bootOnce, from the open update on:
 * need every component through the core, fetch from the load server when
 * the core asks (TFTP, <file>.blk then <file>), write the core's flash
 * writes into the update and serve its reads, print progress, give up on a
 * stall or a server that contradicts the index, verify, commit, linger. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "drop_log.h"
#include "net.h"
#include "peer.h"
#include "phone.h"
#include "syslog_out.h"
#include "tftp.h"

/* phone.ts PROGRESS_STEP_PERCENT, STALL_LIMIT_MS and its 200 ms tick. */
#define PROGRESS_STEP_PERCENT 10
#define STALL_LIMIT_MS 300000.0
#define PROGRESS_TICK_MS 200.0
/* server-watch.ts SERVER_CONTRADICTIONS_MAX. */
#define SERVER_CONTRADICTIONS_MAX 3
/* While bytes wait for room in the core's ring, poll this often. */
#define PENDING_POLL_MS 5
/* Status ticks (docs/LOGGING.md): a component whose state changed is told
 * at most once a second, and every 10 s when nothing changed, so a watcher
 * that came late or lost a datagram catches up. */
#define STATUS_CHECK_MS 1000.0
#define STATUS_EVERY_MS 10000.0
/* Poll slots of our own beside the peer's: one TFTP socket per fetch. */
#define FETCHES_MAX PFS_FLASH_MAX_COMPONENTS

typedef struct comp {
  uint32_t index, size_bytes, list_bytes, xid;
  const char *name;
  int slot; /* the core's hierarchy slot */
  bool done;
  int last_percent;
  int contradictions;
  uint64_t wan_bytes; /* received from the load server, block list included */
  pfs_syslog_comp state; /* as of the last turn, and the events since */
  pfs_syslog_comp told;  /* the last status tick sent */
  double told_ms;       /* when; negative: never */
} comp;

typedef struct upgrade upgrade;

typedef struct fetch {
  upgrade *u;
  bool used, stopped, in_file; /* in_file: the file itself, not its .blk */
  uint32_t id, from, total;
  comp *c;
  pfs_tftp t;
  uint8_t *pending; /* bytes the core has no room for yet */
  uint32_t pending_at, pending_len, pending_cap;
  int poll_at; /* its index in this turn's pollfds, or -1 */
} fetch;

struct upgrade {
  phone *ph;
  const pfs_loads_index *index;
  pfs_peer *peer;
  bool pfs;
  const char *host;
  uint16_t port;
  size_t count;
  comp comps[PFS_FLASH_MAX_COMPONENTS];
  fetch *fetches; /* FETCHES_MAX */
  uint32_t self;
  int update_slot;
  bool failed;
  pfs_err fatal; /* what ends the upgrade, found inside a callback */
};

static comp *comp_of_slot(upgrade *u, int slot) {
  for (size_t i = 0; i < u->count; i++) if (u->comps[i].slot == slot) return &u->comps[i];
  return NULL;
}

/* --- the server watch (server-watch.ts) --- */

static void contradiction(upgrade *u, comp *c, const char *what) {
  if (u->failed) return;
  c->contradictions++;
  con_say("WRN", "the server's %s contradicts %s.loads (%d of %d): %s", c->name, u->index->load_name, c->contradictions,
          SERVER_CONTRADICTIONS_MAX, what);
  if (c->contradictions < SERVER_CONTRADICTIONS_MAX) return;
  u->failed = true;
  pfs_fail(&u->fatal, "the server's %s contradicted %s.loads %d times (last: %.200s): giving up (the old load stays active)", c->name,
           u->index->load_name, c->contradictions, what);
}

/* A failed server fetch: a size other than the index's, or a file the
 * server does not serve (TFTP 1, 2), counts; a timeout does not. tftp.c
 * gives its errors as text only. */
static void fetch_failed(upgrade *u, comp *c, const char *why) {
  if (strstr(why, "(error 1 from ") != NULL || strstr(why, "(error 2 from ") != NULL) {
    char what[PFS_ERR_BYTES + 32];
    snprintf(what, sizeof what, "the server does not serve it: %s", why);
    contradiction(u, c, what);
  } else if (strstr(why, "expected") != NULL || strstr(why, "tsize") != NULL || strstr(why, "most we take") != NULL) {
    contradiction(u, c, why);
  }
}

/* --- the fetcher --- */

/* Offers bytes to the core; what it has no room for waits in pending. */
static void offer(fetch *f, const uint8_t *bytes, uint32_t len) {
  uint32_t took = f->pending_len == 0 ? pfs_peer_fetch_data(f->u->peer, f->id, bytes, len) : 0;
  if (took >= len) return;
  if (f->pending_at > 0 && f->pending_len > 0) memmove(f->pending, f->pending + f->pending_at, f->pending_len);
  f->pending_at = 0;
  /* Never more than a burst of blocks: the socket is not read meanwhile. */
  uint32_t rest = len - took;
  if (f->pending_len + rest > f->pending_cap) rest = f->pending_cap - f->pending_len;
  memcpy(f->pending + f->pending_len, bytes + took, rest);
  f->pending_len += rest;
}

static void pump(fetch *f) {
  if (f->pending_len == 0 || f->stopped) return;
  uint32_t took = pfs_peer_fetch_data(f->u->peer, f->id, f->pending + f->pending_at, f->pending_len);
  f->pending_at += took;
  f->pending_len -= took;
  if (f->pending_len == 0) f->pending_at = 0;
}

/* fetchRange's onData: transfer bytes [from, end) of this part. */
static bool deliver(void *ctx, const uint8_t *chunk, size_t len, uint64_t offset, pfs_err *err) {
  fetch *f = ctx;
  f->c->wan_bytes += len;
  if (f->stopped) return pfs_fail(err, "stopped by the core");
  uint64_t base = f->in_file ? f->c->list_bytes : 0, end = f->in_file ? f->total : f->c->list_bytes;
  uint64_t at = base + offset;
  uint64_t skip = f->from > at ? f->from - at : 0, upto = end > at ? end - at : 0;
  if (skip > len) skip = len;
  if (upto > len) upto = len;
  if (upto > skip) offer(f, chunk + skip, (uint32_t)(upto - skip));
  return !f->stopped || pfs_fail(err, "stopped by the core");
}

static bool start_part(fetch *f, pfs_err *err) {
  const phone_opts *o = f->u->ph->o;
  static char names[FETCHES_MAX][PFS_LOADS_NAME_CHARS_MAX + 8]; /* outlive the transfer */
  char *file = names[f - f->u->fetches];
  snprintf(file, sizeof names[0], f->in_file ? "%s" : "%s.blk", f->c->name);
  pfs_tftp_opts t;
  pfs_tftp_opts_init(&t);
  t.host = f->u->host;
  t.port = f->u->port;
  t.file = file;
  t.local_addr = o->bind;
  t.blksize = o->blksize;
  t.tsize = true;
  t.expect_bytes = f->in_file ? (uint64_t)f->total - f->c->list_bytes : f->c->list_bytes;
  t.deliver = deliver;
  t.ctx = f;
  return pfs_tftp_start(&f->t, &t, pfs_tftp_now_ms(), err);
}

static bool on_fetch_start(void *ctx, uint32_t id, int slot, uint32_t from, uint32_t total) {
  upgrade *u = ctx;
  comp *c = comp_of_slot(u, slot);
  fetch *f = NULL;
  for (size_t i = 0; c != NULL && f == NULL && i < FETCHES_MAX; i++) if (!u->fetches[i].used) f = &u->fetches[i];
  if (f == NULL || total <= c->list_bytes) return false;
  con_say("INF", "%s: fetching from the server at byte %u", c->name, (unsigned)from);
  f->used = true;
  f->stopped = false;
  f->id = id;
  f->c = c;
  f->from = from;
  f->total = total;
  f->in_file = from >= c->list_bytes;
  f->pending_at = f->pending_len = 0;
  pfs_err why = {{0}};
  if (start_part(f, &why)) return true;
  f->used = false;
  con_say("WRN", "%s: %s", c->name, why.text);
  return false;
}

static void on_fetch_stop(void *ctx, uint32_t id) {
  upgrade *u = ctx;
  for (size_t i = 0; i < FETCHES_MAX; i++) if (u->fetches[i].used && u->fetches[i].id == id) u->fetches[i].stopped = true;
}

/* A part ended: the file after its block list, or the end for the core. */
static void part_ended(fetch *f, pfs_tftp_status st, const pfs_err *why) {
  upgrade *u = f->u;
  if (st == PFS_TFTP_FAILED && !f->stopped) fetch_failed(u, f->c, why->text);
  if (st == PFS_TFTP_DONE && !f->in_file && !f->stopped) {
    f->in_file = true;
    pfs_err e = {{0}};
    if (start_part(f, &e)) return;
    con_say("WRN", "%s: %s", f->c->name, e.text);
  }
  if (f->pending_len > 0 && st == PFS_TFTP_DONE && !f->stopped) return; /* the end waits for the last bytes */
  if (!f->stopped) pfs_peer_fetch_end(u->peer, f->id);
  f->used = false;
}

/* One fetch's turn after poll(): stop, pump, read, time out, end. */
static void fetch_turn(fetch *f, const struct pollfd *fds) {
  if (!f->used) return;
  pfs_err why = {{0}};
  if (f->stopped) {
    pfs_tftp_cancel(&f->t);
    f->used = false;
    return;
  }
  pump(f);
  if (pfs_tftp_fd(&f->t) < 0) {
    if (f->pending_len == 0) part_ended(f, PFS_TFTP_DONE, &why);
    return;
  }
  if (f->pending_len > 0) return; /* the socket waits until the core took the rest */
  uint64_t now = pfs_tftp_now_ms();
  pfs_tftp_status st = PFS_TFTP_RUNNING;
  if (f->poll_at >= 0 && (fds[f->poll_at].revents & (POLLIN | POLLERR)) != 0) st = pfs_tftp_readable(&f->t, now, &why);
  else if (now >= pfs_tftp_deadline_ms(&f->t)) st = pfs_tftp_timeout(&f->t, now, &why);
  if (st != PFS_TFTP_RUNNING) part_ended(f, st, &why);
}

/* --- the state a log server is told (syslog_out.h, docs/LOGGING.md) --- */

/* From the core, between turns: never while it calls us (docs/ABI.md
 * section 5.2 rule 3), so the lines of its events read this copy. */
static void refresh_state(upgrade *u) {
  pfs_core *core = pfs_peer_core(u->peer);
  for (size_t i = 0; i < u->count; i++) {
    comp *c = &u->comps[i];
    if (c->slot < 0) continue;
    /* A done file is in flash whole, whatever the core holds of it once
     * its hierarchy is left (hierHeld is 0 then). */
    uint32_t held_all = pfs_hierHeld(core, c->slot);
    int role = pfs_hierRole(core, c->slot), depth = pfs_hierDepth(core, c->slot);
    c->state = (pfs_syslog_comp){.xid = c->xid, .model = u->ph->o->model, .file = c->name,
                                 .role = role >= 0 && role < PFS_SYSLOG_ROLES ? role : 0,
                                 .held = c->done ? c->size_bytes : held_all > c->list_bytes ? held_all - c->list_bytes : 0,
                                 .size = c->size_bytes,
                                 .parent = pfs_hierParent(core, c->slot), .depth = depth > 0 ? depth : 0, .wan = c->wan_bytes,
                                 .done = c->done};
  }
}

/* What an event says of the tree, applied to the copy before its line
 * (the core's Role numbers: root 3, joining 4, attached 5). */
static void apply_event(comp *c, int code, int n, uint32_t a) {
  pfs_syslog_comp *s = &c->state;
  switch (code) {
    case PFS_EV_CONFIRMED_ROOT: s->role = 3; s->parent = 0; s->depth = 0; break;
    case PFS_EV_JOINED: case PFS_EV_MOVED: s->role = 5; s->parent = a; s->depth = n > 0 ? n : 0; break;
    case PFS_EV_PARENT_LOST: s->role = 4; s->parent = 0; break;
    case PFS_EV_FILE_DONE: s->done = true; break;
    default: break;
  }
  s->wan = c->wan_bytes;
}

static bool lookup_state(void *ctx, uint32_t xid, pfs_syslog_comp *out) {
  upgrade *u = ctx;
  for (size_t i = 0; i < u->count; i++) {
    if (u->comps[i].slot < 0 || u->comps[i].xid != xid) continue;
    *out = u->comps[i].state;
    out->wan = u->comps[i].wan_bytes;
    return true;
  }
  return false;
}

static bool same_state(const pfs_syslog_comp *a, const pfs_syslog_comp *b) {
  return a->held == b->held && a->role == b->role && a->parent == b->parent && a->depth == b->depth && a->wan == b->wan && a->done == b->done;
}

/* A tick per component that changed, or that was quiet for too long. */
static void status_ticks(upgrade *u) {
  if (!syslog_out_enabled()) return;
  refresh_state(u);
  double now = con_now_ms();
  for (size_t i = 0; i < u->count; i++) {
    comp *c = &u->comps[i];
    if (c->slot < 0) continue;
    if (c->told_ms >= 0 && same_state(&c->state, &c->told) && now - c->told_ms < STATUS_EVERY_MS) continue;
    syslog_out_status(&c->state);
    c->told = c->state;
    c->told_ms = now;
  }
}

/* --- the flash: the core's slot space is a component's transfer space --- */

static bool on_flash_write(void *ctx, int slot, uint32_t offset, const uint8_t *bytes, uint32_t len) {
  upgrade *u = ctx;
  comp *c = comp_of_slot(u, slot);
  pfs_err why = {{0}};
  if (c == NULL) return false;
  if (pfs_flash_write_at(u->ph->flash, c->index, offset, bytes, len, &why)) return true;
  char at[32];
  snprintf(at, sizeof at, "%u", (unsigned)offset);
  if (!u->failed) {
    u->failed = true;
    pfs_fail(&u->fatal, "flash image %s: writing %s at %s: %s", u->ph->o->flash_path, c->name, at, why.text);
  }
  return false;
}

/* The core reads what it serves its peers: the component's transfer space
 * in the update, open or (while lingering) committed; 0 when it cannot be
 * read, as host/phone/phone.ts flashRead. */
static uint32_t on_flash_read(void *ctx, int slot, uint32_t offset, uint8_t *into, uint32_t len) {
  upgrade *u = ctx;
  comp *c = comp_of_slot(u, slot);
  pfs_err why = {{0}};
  if (c == NULL || !pfs_flash_read_at(u->ph->flash, c->index, offset, into, len, &why)) return 0;
  return len;
}

static void on_event(void *ctx, double now_ms, uint32_t xid, int code, int n, uint32_t a, uint32_t b) {
  upgrade *u = ctx;
  (void)now_ms;
  /* Drops are counted and summarized (drop_log.h, as phone.ts does with
   * DropLog): a line for the first at once, then at most one per interval.
   * The loop has no timer of ours here, so the summary is flushed on the
   * next event after the interval (peers' ads come every few seconds) and,
   * forced, when the process exits: nothing counted goes unsaid. */
  static drop_log drops;
  if (drops.line == NULL) {
    drop_log_init(&drops, drop_log_console_line, DROP_SUMMARY_INTERVAL_MS);
    drop_log_flush_at_exit(&drops);
  }
  if (code == PFS_EV_MALFORMED) {
    drop_log_add(&drops, con_now_ms(), n, a);
    return;
  }
  drop_log_flush(&drops, con_now_ms(), false);
  comp *c = NULL;
  for (size_t i = 0; i < u->count; i++) if (u->comps[i].slot >= 0 && u->comps[i].xid == xid) c = &u->comps[i];
  if (code == PFS_EV_FILE_DONE && c != NULL) c->done = true;
  if (code == PFS_EV_CORRUPT && a == 0 && c != NULL) {
    contradiction(u, c, b == 0xffffffffu ? "its block list's SHA-256 is not the index's" : "a block fails its SHA-256 from the block list");
  }
  if (c != NULL) apply_event(c, code, n, a);
  con_names names = {u->ph->o->model, c != NULL ? c->name : NULL};
  con_event(con_now_ms(), u->self, xid, code, n, a, b, c != NULL ? &names : NULL);
}

static void on_log(void *ctx, const char *line) {
  (void)ctx;
  con_say("DBG", "%s", line);
}

/* --- the loop --- */

/* One poll() over the peer's sockets and the fetches' own. */
static bool turn(upgrade *u, struct pollfd *fds, int room, double wait_ms, pfs_err *err) {
  int n = pfs_peer_poll_fds(u->peer, fds, room - (int)FETCHES_MAX);
  int total = n, ms = pfs_peer_poll_timeout_ms(u->peer);
  uint64_t now = pfs_tftp_now_ms();
  for (size_t i = 0; i < FETCHES_MAX; i++) {
    fetch *f = &u->fetches[i];
    f->poll_at = -1;
    if (!f->used) continue;
    if (f->pending_len > 0 || f->stopped || pfs_tftp_fd(&f->t) < 0) {
      if (ms > PENDING_POLL_MS) ms = PENDING_POLL_MS;
      continue;
    }
    fds[total] = (struct pollfd){.fd = pfs_tftp_fd(&f->t), .events = POLLIN};
    f->poll_at = total++;
    uint64_t due = pfs_tftp_deadline_ms(&f->t);
    int until = due > now ? (int)(due - now) : 0;
    if (until < ms) ms = until;
  }
  if (wait_ms < ms) ms = wait_ms < 0 ? 0 : (int)wait_ms;
  if (poll(fds, (nfds_t)total, ms) < 0 && errno != EINTR) return pfs_fail(err, "poll: %s", strerror(errno));
  pfs_peer_poll_done(u->peer, fds, n);
  for (size_t i = 0; i < FETCHES_MAX; i++) fetch_turn(&u->fetches[i], fds);
  refresh_state(u);
  pfs_err why = {{0}};
  if (pfs_peer_failed(u->peer, &why)) return pfs_fail(err, "the core failed: %s (the old load stays active)", why.text);
  if (u->failed) return pfs_fail(err, "%s", u->fatal.text);
  return true;
}

/* Progress lines (every 10 % of a component); the bytes held in total. */
static uint64_t progress(upgrade *u) {
  pfs_core *core = pfs_peer_core(u->peer);
  uint64_t sum = 0;
  for (size_t i = 0; i < u->count; i++) {
    comp *c = &u->comps[i];
    uint32_t held_all = pfs_hierHeld(core, c->slot);
    sum += held_all;
    uint32_t held = held_all > c->list_bytes ? held_all - c->list_bytes : 0;
    int percent = c->done ? 100 : (int)(((uint64_t)held * 100u) / c->size_bytes);
    if (percent >= c->last_percent + PROGRESS_STEP_PERCENT || (c->done && c->last_percent < 100)) {
      c->last_percent = c->done ? 100 : percent - percent % PROGRESS_STEP_PERCENT;
      con_say("INF", "%s %3d%% %u KB %s", c->name, percent, (unsigned)((held + 512u) / 1024u), u->pfs ? "PFS" : "direct");
    }
  }
  return sum;
}

static bool all_done(const upgrade *u) {
  for (size_t i = 0; i < u->count; i++) if (!u->comps[i].done) return false;
  return true;
}

static bool transfer(upgrade *u, struct pollfd *fds, int room, pfs_err *err) {
  double last_moved = con_now_ms(), next_tick = con_now_ms() + PROGRESS_TICK_MS, next_status = con_now_ms();
  uint64_t last_total = UINT64_MAX;
  while (!all_done(u)) {
    if (!turn(u, fds, room, next_tick - con_now_ms(), err)) return false;
    if (con_now_ms() < next_tick) continue;
    next_tick = con_now_ms() + PROGRESS_TICK_MS;
    if (con_now_ms() >= next_status) {
      status_ticks(u);
      next_status = con_now_ms() + STATUS_CHECK_MS;
    }
    uint64_t total = progress(u);
    if (total != last_total) {
      last_total = total;
      last_moved = con_now_ms();
    } else if (con_now_ms() - last_moved > STALL_LIMIT_MS) {
      return pfs_fail(err, "no progress for %.0f s: giving up (the old load stays active)", STALL_LIMIT_MS / 1000.0);
    }
  }
  progress(u);
  status_ticks(u); /* every component done: said at once, not a second later */
  return true;
}

/* need() of every component, through PFS or directly from the server. */
static bool need_all(upgrade *u, pfs_err *err) {
  uint32_t flags = PFS_NEED_RELAY | (u->pfs ? 0u : PFS_NEED_DIRECT);
  for (size_t i = 0; i < u->count; i++) {
    comp *c = &u->comps[i];
    int slot = pfs_peer_need(u->peer, u->ph->o->model, c->name, c->size_bytes, 0, flags, u->index->components[i].list_sha256);
    if (slot < 0) return pfs_fail(err, "the core could not take %s (%d): board figures too small for this load?", c->name, slot);
    c->slot = slot;
    c->xid = pfs_hierXid(pfs_peer_core(u->peer), slot);
    refresh_state(u);
    con_say("INF", "XID%08X model=%s need %s (%u bytes) %s", (unsigned)c->xid, u->ph->o->model, c->name, (unsigned)c->size_bytes,
            u->pfs ? "through PFS" : "directly from the server");
  }
  return true;
}

static bool open_peer(upgrade *u, pfs_err *err) {
  const phone_opts *o = u->ph->o;
  pfs_peer_config cfg;
  memset(&cfg, 0, sizeof cfg);
  _Static_assert(PFS_BOARD_WORDS <= PFS_CONFIG_WORDS, "the board table has more words than the core's config block");
  memcpy(cfg.words, u->ph->board->words, sizeof u->ph->board->words);
  cfg.words[PFS_CFG_SEED] = phone_seed(o->mac);
  if (!pfs_addr_parse(o->bind, &cfg.self) || !pfs_addr_parse(o->broadcast, &cfg.broadcast)) {
    return pfs_fail(err, "--bind and --broadcast take IPv4 addresses");
  }
  cfg.port = o->port;
  u->self = cfg.self;
  pfs_peer_io io = {.ctx = u, .fetch_start = on_fetch_start, .fetch_stop = on_fetch_stop, .flash_write = on_flash_write,
                    .flash_read = on_flash_read, .event = on_event, .log = on_log};
  pfs_err why = {{0}};
  u->peer = pfs_peer_open(&cfg, &io, &why);
  if (u->peer == NULL) return pfs_fail(err, "cannot open the PFS sockets on %s port %u: %s", o->bind, (unsigned)o->port, why.text);
  return true;
}

/* Checks every component in flash, commits on trial, lingers. */
static bool finish(upgrade *u, struct pollfd *fds, int room, pfs_err *err) {
  const phone_opts *o = u->ph->o;
  pfs_err why = {{0}};
  for (size_t i = 0; i < u->count; i++) {
    if (!pfs_flash_verify(u->ph->flash, u->comps[i].index, &why)) {
      return pfs_fail(err, "%s in flash does not match its SHA-256 in the index after the transfer (the old load stays active)", u->comps[i].name);
    }
  }
  if (!pfs_flash_commit(u->ph->flash, &why)) return pfs_fail(err, "flash image %s: making the new load active: %s", o->flash_path, why.text);
  con_say_about(0, "loadDone", "NOT", "load %s verified in flash and active from the next boot, on trial (%zu components)", u->index->load_name, u->count);
  if (o->linger_s <= 0) return true;
  con_say("INF", "lingering %g s to serve peers", o->linger_s);
  double until = con_now_ms() + o->linger_s * 1000.0, next_status = con_now_ms();
  while (con_now_ms() < until) {
    if (con_now_ms() >= next_status) {
      status_ticks(u);
      next_status = con_now_ms() + STATUS_CHECK_MS;
    }
    double wait = (next_status < until ? next_status : until) - con_now_ms();
    if (!turn(u, fds, room, wait, err)) return false;
  }
  return true;
}

bool phone_upgrade(phone *ph, const pfs_loads_index *index, bool pfs, const char *host, uint16_t port, pfs_err *err) {
  static upgrade u;
  memset(&u, 0, sizeof u);
  u = (upgrade){.ph = ph, .index = index, .pfs = pfs, .host = host, .port = port, .count = index->component_count};
  for (size_t i = 0; i < u.count; i++) {
    uint32_t size = (uint32_t)index->components[i].size_bytes;
    u.comps[i] = (comp){.index = (uint32_t)i, .name = index->components[i].name, .size_bytes = size,
                        .list_bytes = pfs_flash_list_bytes_of(size), .slot = -1, .last_percent = -PROGRESS_STEP_PERCENT,
                        .told_ms = -1};
  }
  /* Everything the transfer uses, allocated before it starts. */
  uint32_t pending_cap = PFS_TFTP_BURST_MAX * (ph->o->blksize > PFS_TFTP_BLKSIZE_DEFAULT ? ph->o->blksize : PFS_TFTP_BLKSIZE_DEFAULT);
  u.fetches = calloc(FETCHES_MAX, sizeof *u.fetches);
  bool ok = u.fetches != NULL;
  for (size_t i = 0; ok && i < FETCHES_MAX; i++) {
    u.fetches[i] = (fetch){.u = &u, .pending_cap = pending_cap, .poll_at = -1, .t = {.fd = -1}};
    ok = (u.fetches[i].pending = malloc(pending_cap)) != NULL;
  }
  if (!ok) pfs_fail(err, "out of memory for the fetches");
  ok = ok && open_peer(&u, err);
  int room = ok ? pfs_peer_poll_room(u.peer) + (int)FETCHES_MAX : 0;
  struct pollfd *fds = ok ? calloc((size_t)room, sizeof *fds) : NULL;
  if (ok && fds == NULL) ok = pfs_fail(err, "out of memory for the poll table");
  syslog_out_set_lookup(lookup_state, &u);
  ok = ok && need_all(&u, err) && transfer(&u, fds, room, err) && finish(&u, fds, room, err);
  syslog_out_set_lookup(NULL, NULL);
  for (size_t i = 0; u.fetches != NULL && i < FETCHES_MAX; i++) {
    if (u.fetches[i].used) pfs_tftp_cancel(&u.fetches[i].t);
    free(u.fetches[i].pending);
  }
  free(u.fetches);
  free(fds);
  pfs_peer_close(u.peer);
  return ok;
}
