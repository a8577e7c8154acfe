/* A TFTP read client (RFC 1350, options RFC 2347, blksize RFC 2348, tsize
 * RFC 2349), lockstep, as host/tftp/client.ts behaves (docs/TFTP.md).
 *
 * It is a state machine a single-threaded poll() loop drives: start a
 * transfer, poll its socket (pfs_tftp_fd) for POLLIN until its deadline
 * (pfs_tftp_deadline_ms), call pfs_tftp_readable or pfs_tftp_timeout, and
 * get each block, in file order, through the deliver callback. Time is
 * always an argument (milliseconds of a monotonic clock, pfs_tftp_now_ms),
 * so the phone can keep serving its other sockets while a root fetches.
 * pfs_tftp_get and pfs_tftp_get_buffer are blocking wrappers for a small
 * file read whole (a configuration, an index) or for a tool. */
#ifndef PFS_PHONE_TFTP_H
#define PFS_PHONE_TFTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* RFC 1350: the block size when nothing else is negotiated. */
#define PFS_TFTP_BLKSIZE_DEFAULT 512u
/* RFC 2348: the range of the blksize option. */
#define PFS_TFTP_BLKSIZE_MIN 8u
#define PFS_TFTP_BLKSIZE_MAX 65464u
/* opcode + block number before the data (RFC 1350 figure 5-2). */
#define PFS_TFTP_HEADER_BYTES 4u
/* No TFTP packet is longer than a DATA packet of the largest block. */
#define PFS_TFTP_PACKET_MAX (PFS_TFTP_HEADER_BYTES + PFS_TFTP_BLKSIZE_MAX)
/* RFC 2347: a request with its options must fit in 512 octets. */
#define PFS_TFTP_REQUEST_MAX 512u
/* host/tftp/client.ts CLIENT_TIMEOUT_DEFAULT_SEC, CLIENT_RETRIES_DEFAULT and
 * BACKOFF_MAX_MS: the same retransmission policy as the Node client. */
#define PFS_TFTP_TIMEOUT_DEFAULT_MS 1000u
#define PFS_TFTP_RETRIES_DEFAULT 5u
#define PFS_TFTP_BACKOFF_MAX_MS 16000u
/* Datagrams taken per pfs_tftp_readable call, so one fast server cannot
 * starve the phone's other sockets; the rest wait for the next poll(). */
#define PFS_TFTP_BURST_MAX 32u
/* "No cap" for max_bytes and "size unknown" for expect_bytes. */
#define PFS_TFTP_NO_LIMIT UINT64_MAX

/* Gets each block in file order with its offset; false stops the transfer
 * (the server is sent ERROR 0) with the text the callback put in err. The
 * final ACK is sent only after the final block was delivered. */
typedef bool (*pfs_tftp_deliver)(void *ctx, const uint8_t *chunk, size_t len, uint64_t offset, pfs_err *err);

typedef struct pfs_tftp_opts {
  const char *host;       /* the server, a numeric IPv4 address */
  uint16_t port;          /* its port, 69 on a site */
  const char *file;       /* the name asked, at most what fits in a request */
  const char *local_addr; /* numeric IPv4 to bind (the phone's own), or NULL */
  unsigned blksize;       /* asked as blksize; 0: not asked (512) */
  bool tsize;             /* ask for tsize and hold the bytes to it */
  unsigned timeout_ms;    /* first retransmission timeout; 0: the default */
  unsigned retries;       /* retransmissions without progress, then fail */
  uint64_t max_bytes;     /* the cap, or PFS_TFTP_NO_LIMIT */
  uint64_t expect_bytes;  /* the exact size, or PFS_TFTP_NO_LIMIT */
  pfs_tftp_deliver deliver;
  void *ctx;
} pfs_tftp_opts;

/* Fills o with the defaults: no options asked but tsize, no cap, no size
 * expected, default timeout and retries; the caller sets the rest. */
void pfs_tftp_opts_init(pfs_tftp_opts *o);

/* Why a transfer failed, for a caller that acts on it (the text in err is
 * for printing): host/tftp/client.ts TftpError's codes, the server's codes
 * that a phone tells apart (docs/TFTP.md) named on their own. */
typedef enum pfs_tftp_failure {
  PFS_TFTP_FAIL_NONE = 0,  /* not failed: running, or done */
  PFS_TFTP_FAIL_NOT_FOUND, /* the server's ERROR 1: file not found */
  PFS_TFTP_FAIL_ACCESS,    /* the server's ERROR 2: access violation */
  PFS_TFTP_FAIL_SERVER,    /* any other ERROR from the server (server_code) */
  PFS_TFTP_FAIL_TOO_LARGE, /* over max_bytes, by tsize or by the bytes ("limit") */
  PFS_TFTP_FAIL_SIZE,      /* not expect_bytes, or not the tsize announced */
  PFS_TFTP_FAIL_TIMEOUT,   /* no answer after the retries */
  PFS_TFTP_FAIL_PROTOCOL,  /* a packet we cannot take (a block over the blksize) */
  PFS_TFTP_FAIL_LOCAL,     /* our side: bad options, a socket call, the deliver
                            * callback, a cancel ("io", "aborted") */
} pfs_tftp_failure;

/* One word for a failure ("not-found", "too-large", ...; "none"). */
const char *pfs_tftp_failure_name(pfs_tftp_failure f);

typedef enum pfs_tftp_status {
  PFS_TFTP_FAILED = -1, /* err says why, failure of the pfs_tftp its kind; the socket is closed */
  PFS_TFTP_RUNNING = 0,
  PFS_TFTP_DONE = 1, /* the final block was delivered and ACKed */
} pfs_tftp_status;

enum pfs_tftp_phase { PFS_TFTP_PHASE_REQUEST, PFS_TFTP_PHASE_DATA, PFS_TFTP_PHASE_END };

typedef struct pfs_tftp {
  pfs_tftp_opts opts;
  int fd;
  struct sockaddr_in server; /* its port becomes the server's TID */
  bool tid_known;
  bool asked_options;        /* this request carries options */
  enum pfs_tftp_phase phase;
  unsigned blksize;          /* granted, or 512 */
  bool has_tsize;
  uint64_t tsize;
  uint32_t next;             /* next block expected, from 1, not wrapped */
  uint64_t bytes;            /* delivered so far */
  unsigned retries_left;
  unsigned timeout_ms;
  uint64_t deadline_ms;      /* retransmit (or fail) when reached */
  size_t last_len;           /* the request or ACK a timeout sends again */
  uint8_t last[PFS_TFTP_REQUEST_MAX];
  pfs_tftp_failure failure;  /* once a call returned PFS_TFTP_FAILED (or start false) */
  unsigned server_code;      /* the server's ERROR code, for the three server kinds */
  uint8_t pkt[PFS_TFTP_PACKET_MAX + 1]; /* +1: an oversized DATA shows */
} pfs_tftp;

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t pfs_tftp_now_ms(void);

/* Opens the socket (bound to o->local_addr) and sends the request. o's
 * strings must outlive the transfer. False: nothing is left open. */
bool pfs_tftp_start(pfs_tftp *t, const pfs_tftp_opts *o, uint64_t now_ms, pfs_err *err);

/* The socket to poll for POLLIN, -1 once the transfer has ended. */
int pfs_tftp_fd(const pfs_tftp *t);

/* When pfs_tftp_timeout is due. */
uint64_t pfs_tftp_deadline_ms(const pfs_tftp *t);

/* Its socket is readable: takes up to PFS_TFTP_BURST_MAX datagrams. */
pfs_tftp_status pfs_tftp_readable(pfs_tftp *t, uint64_t now_ms, pfs_err *err);

/* Its deadline may have come; an early or extra call does nothing. */
pfs_tftp_status pfs_tftp_timeout(pfs_tftp *t, uint64_t now_ms, pfs_err *err);

/* Drops a transfer that is still running (ERROR 0 to the server, once it is
 * known) and closes its socket; safe on an ended one. */
void pfs_tftp_cancel(pfs_tftp *t);

/* Runs the whole transfer, blocking in poll(); the bytes go to o->deliver.
 * It keeps its pfs_tftp in static storage (64 KiB of buffer off the stack):
 * one blocking fetch at a time, never from inside a deliver callback.
 * failure (may be NULL) gets the kind when it returns false. */
bool pfs_tftp_run(const pfs_tftp_opts *o, uint64_t *bytes, pfs_tftp_failure *failure, pfs_err *err);

/* pfs_tftp_run without the kind. */
bool pfs_tftp_get(const pfs_tftp_opts *o, uint64_t *bytes, pfs_err *err);

/* The whole file into buf, never more than cap bytes (nor o->max_bytes);
 * *len is its size; failure (may be NULL) as pfs_tftp_run. o->deliver is
 * not used. */
bool pfs_tftp_get_buffer(const pfs_tftp_opts *o, uint8_t *buf, size_t cap, size_t *len, pfs_tftp_failure *failure,
                         pfs_err *err);

#endif
