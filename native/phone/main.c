/* pfs-phone: one phone process, the C twin of `npx pfs phone`
 * (host/cli/phone.ts): the same flags, the same console lines, the same
 * flash image. Wrong arguments: one line and the usage on stderr, exit 2;
 * any failure of the boot: one line, exit 1, the old load still active. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "net.h"
#include "phone.h"
#include "tftp.h"

/* phone.ts PHONE_DEFAULTS; the linger is the board's lingerMs unless
 * --linger says otherwise (issue 12: a real phone serves late peers as long
 * as its board says, 10 minutes for the third generation). */
#define LINGER_OF_BOARD (-1.0)
#define DEFAULT_BOARD "third-gen"
#define DEFAULT_BLKSIZE 1428u
/* TFTP's well-known port (RFC 1350). */
#define TFTP_PORT 69u
/* syslog over UDP's port (RFC 5426 section 3.3), for --log-server without one. */
#define SYSLOG_PORT 514u
/* A PEM public key is a few hundred bytes; a file far larger is not one. */
#define LOADS_KEY_BYTES_MAX 65536u

static const char USAGE[] =
    "usage: pfs-phone --mac <12 hex> --model <e.g. CP-7961G> --tftp <host:port> --flash <file>\n"
    "                 [--bind <addr>] [--broadcast <addr>] [--port 4051] [--linger <s>]\n"
    "                 [--tftp-blksize B] [--tftp-window N] [--board NAME] [--loads-key PEM]\n"
    "                 [--log-server <host:port>]\n"
    "  Boots one phone as 'pfs phone' does: reads SEP<MAC>.cnf.xml from the TFTP server, and when\n"
    "  the load named there differs from the one in flash, upgrades it through PFS (or from the\n"
    "  server when peerFirmwareSharing is 0), commits it on trial, lingers, boots it and confirms\n"
    "  it. Exits 0 once done, 1 with one line on stderr on any failure (the old load stays active).\n"
    "  --linger: seconds to serve peers after the upgrade (default: the board's lingerMs).\n"
    "  --log-server: send every console line as RFC 5424 syslog over UDP there (port 514 if none),\n"
    "  instead of the configuration's <logServer> (docs/LOGGING.md).\n"
    "  --tftp-window is taken and ignored: this client is lockstep.";

typedef struct args {
  phone_opts o;
  char tftp_host[PFS_ADDR_TEXT_BYTES], log_host[PFS_ADDR_TEXT_BYTES];
  char *key;
  bool help;
} args;

static bool number(const char *name, const char *v, double lo, double hi, double *out, pfs_err *err) {
  char *end = NULL;
  errno = 0;
  double d = strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || d < lo || d > hi) return pfs_fail(err, "--%s needs a number (got \"%s\")", name, v);
  *out = d;
  return true;
}

static bool set_mac(args *a, const char *v, pfs_err *err) {
  size_t n = 0;
  for (const char *c = v; *c != '\0'; c++) {
    if (*c == ':' || *c == '.' || *c == '-') continue;
    if (!isxdigit((unsigned char)*c) || n >= PHONE_MAC_CHARS) return pfs_fail(err, "--mac needs 12 hex digits (got '%s')", v);
    a->o.mac[n++] = (char)toupper((unsigned char)*c);
  }
  if (n != PHONE_MAC_CHARS) return pfs_fail(err, "--mac needs 12 hex digits (got '%s')", v);
  a->o.mac[n] = '\0';
  return true;
}

/* host[:port] (addr.ts parseHostPort); the C client takes IPv4 only. */
static bool set_tftp(args *a, const char *v, pfs_err *err) {
  const char *colon = strchr(v, ':');
  size_t hl = colon != NULL ? (size_t)(colon - v) : strlen(v);
  double port = TFTP_PORT;
  if (colon != NULL && !number("tftp", colon + 1, 1, 65535, &port, err)) return pfs_fail(err, "--tftp: port out of range in '%s'", v);
  if (hl == 0 || hl >= sizeof a->tftp_host) return pfs_fail(err, "--tftp: expected host[:port], got '%s'", v);
  memcpy(a->tftp_host, v, hl);
  a->tftp_host[hl] = '\0';
  if (strcmp(a->tftp_host, "localhost") == 0) snprintf(a->tftp_host, sizeof a->tftp_host, "127.0.0.1");
  uint32_t ip;
  if (!pfs_addr_parse(a->tftp_host, &ip)) return pfs_fail(err, "--tftp: '%s' is not a numeric IPv4 address", a->tftp_host);
  a->o.tftp_host = a->tftp_host;
  a->o.tftp_port = (uint16_t)port;
  return true;
}

/* host[:port] of the log server; IPv4 only, as --tftp. */
static bool set_log_server(args *a, const char *v, pfs_err *err) {
  const char *colon = strchr(v, ':');
  size_t hl = colon != NULL ? (size_t)(colon - v) : strlen(v);
  double port = SYSLOG_PORT;
  if (colon != NULL && !number("log-server", colon + 1, 1, 65535, &port, err)) return pfs_fail(err, "--log-server: port out of range in '%s'", v);
  if (hl == 0 || hl >= sizeof a->log_host) return pfs_fail(err, "--log-server: expected host[:port], got '%s'", v);
  memcpy(a->log_host, v, hl);
  a->log_host[hl] = '\0';
  if (strcmp(a->log_host, "localhost") == 0) snprintf(a->log_host, sizeof a->log_host, "127.0.0.1");
  uint32_t ip;
  if (!pfs_addr_parse(a->log_host, &ip)) return pfs_fail(err, "--log-server: '%s' is not a numeric IPv4 address", a->log_host);
  a->o.log_host = a->log_host;
  a->o.log_port = (uint16_t)port;
  return true;
}

static bool read_key(args *a, const char *path, pfs_err *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return pfs_fail(err, "--loads-key: cannot read '%s': %s", path, strerror(errno));
  a->key = malloc(LOADS_KEY_BYTES_MAX);
  size_t n = a->key != NULL ? fread(a->key, 1, LOADS_KEY_BYTES_MAX, f) : 0;
  fclose(f);
  if (a->key == NULL || n == LOADS_KEY_BYTES_MAX) return pfs_fail(err, "--loads-key: '%s' is not a PEM key", path);
  a->o.loads_key = a->key;
  a->o.loads_key_len = n;
  return true;
}

static bool one_flag(args *a, const char *k, const char *v, pfs_err *err) {
  double d = 0;
  if (strcmp(k, "mac") == 0) return set_mac(a, v, err);
  if (strcmp(k, "tftp") == 0) return set_tftp(a, v, err);
  if (strcmp(k, "model") == 0) return (a->o.model = v), true;
  if (strcmp(k, "flash") == 0) return (a->o.flash_path = v), true;
  if (strcmp(k, "bind") == 0) return (a->o.bind = v), true;
  if (strcmp(k, "broadcast") == 0) return (a->o.broadcast = v), true;
  if (strcmp(k, "board") == 0) return (a->o.board = v), true;
  if (strcmp(k, "loads-key") == 0) return read_key(a, v, err);
  if (strcmp(k, "log-server") == 0) return set_log_server(a, v, err);
  if (strcmp(k, "tftp-window") == 0) return number(k, v, -1e300, 1e300, &d, err);
  if (strcmp(k, "port") == 0) {
    if (!number(k, v, -1e300, 1e300, &d, err)) return false;
    if (d != (double)(long)d || d < 1 || d > 65535) return pfs_fail(err, "--port must be from 1 to 65535");
    return (a->o.port = (uint16_t)d), true;
  }
  if (strcmp(k, "linger") == 0) return number(k, v, 0, 1e9, &a->o.linger_s, err);
  if (strcmp(k, "tftp-blksize") == 0) {
    if (!number(k, v, PFS_TFTP_BLKSIZE_MIN, PFS_TFTP_BLKSIZE_MAX, &d, err)) return false;
    return (a->o.blksize = (unsigned)d), true;
  }
  return pfs_fail(err, "Unknown option '--%s'", k);
}

/* --name value and --name=value, as node's parseArgs takes them. */
static bool parse_args(args *a, int argc, char **argv, pfs_err *err) {
  a->o = (phone_opts){.bind = "127.0.0.1", .broadcast = "127.255.255.255", .port = PFS_PORT, .linger_s = LINGER_OF_BOARD,
                      .board = DEFAULT_BOARD, .blksize = DEFAULT_BLKSIZE};
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--", 2) != 0) return pfs_fail(err, "Unexpected argument '%s'", argv[i]);
    char key[32];
    const char *k = argv[i] + 2, *eq = strchr(k, '='), *v;
    size_t kl = eq != NULL ? (size_t)(eq - k) : strlen(k);
    if (kl >= sizeof key) return pfs_fail(err, "Unknown option '%.40s'", argv[i]);
    memcpy(key, k, kl);
    key[kl] = '\0';
    if (strcmp(key, "help") == 0) {
      a->help = true;
      continue;
    }
    if (eq != NULL) v = eq + 1;
    else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) v = argv[++i];
    else return pfs_fail(err, "Option '--%s <value>' argument missing", key);
    if (!one_flag(a, key, v, err)) return false;
  }
  if (a->help) return true;
  static const char *const required[] = {"mac", "model", "tftp", "flash"};
  const void *have[] = {a->o.mac[0] != '\0' ? a->o.mac : NULL, a->o.model, a->o.tftp_host, a->o.flash_path};
  for (size_t i = 0; i < 4; i++) {
    if (have[i] == NULL || (i != 2 && ((const char *)have[i])[0] == '\0')) return pfs_fail(err, "--%s is required", required[i]);
  }
  return true;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  con_start();
  static args a;
  pfs_err err = {{0}};
  if (!parse_args(&a, argc, argv, &err)) {
    fprintf(stderr, "pfs-phone: %s\n\n%s\n", err.text, USAGE);
    free(a.key);
    return 2;
  }
  if (a.help) {
    printf("%s\n", USAGE);
    return 0;
  }
  bool ok = phone_run(&a.o, &err);
  free(a.key);
  if (ok) return 0;
  for (char *c = err.text; *c != '\0'; c++) if (*c == '\n') *c = ' '; /* one line, whatever it says */
  fprintf(stderr, "pfs phone: %s\n", err.text);
  con_tell_failure(err.text);
  return 1;
}
