/* pfs-syslog-fmt: one syslog message of syslog.c from its flags, written raw
 * to stdout (tests/host/native-syslog.test.ts holds it to RFC 5424 and to
 * the Node phone's messages). Exit 1 when it did not fit, 2 on bad flags.
 *   pfs-syslog-fmt --severity N --at MS --mac HEX12 --ip A --load L
 *     [--xid N --model M --file F --role R --held N --size N --parent A
 *      --depth N --wan N --done 0|1] [--event E] [--text T] [--cap BYTES] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "syslog.h"

static int usage(const char *why) {
  fprintf(stderr, "pfs-syslog-fmt: %s\n", why);
  return 2;
}

static unsigned long long num(const char *v) { return strtoull(v, NULL, 0); }

/* One flag into the message; false for an unknown one. */
static bool flag(const char *k, const char *v, pfs_syslog_msg *m, pfs_syslog_comp *c, size_t *cap) {
  if (strcmp(k, "--severity") == 0) m->severity = (int)num(v);
  else if (strcmp(k, "--at") == 0) m->at_epoch_ms = (int64_t)num(v);
  else if (strcmp(k, "--mac") == 0) m->mac = v;
  else if (strcmp(k, "--ip") == 0) m->ip = v;
  else if (strcmp(k, "--load") == 0) m->load = v;
  else if (strcmp(k, "--event") == 0) m->event = v;
  else if (strcmp(k, "--text") == 0) m->text = v;
  else if (strcmp(k, "--cap") == 0) *cap = (size_t)num(v);
  else if (strcmp(k, "--xid") == 0) c->xid = (uint32_t)num(v), m->comp = c;
  else if (strcmp(k, "--model") == 0) c->model = v;
  else if (strcmp(k, "--file") == 0) c->file = v;
  else if (strcmp(k, "--role") == 0) c->role = (int)num(v);
  else if (strcmp(k, "--held") == 0) c->held = (uint32_t)num(v);
  else if (strcmp(k, "--size") == 0) c->size = (uint32_t)num(v);
  else if (strcmp(k, "--parent") == 0) return v[0] == '\0' || pfs_addr_parse(v, &c->parent);
  else if (strcmp(k, "--depth") == 0) c->depth = (int)num(v);
  else if (strcmp(k, "--wan") == 0) c->wan = num(v);
  else if (strcmp(k, "--done") == 0) c->done = num(v) != 0;
  else return false;
  return true;
}

int main(int argc, char **argv) {
  static pfs_syslog_comp c;
  pfs_syslog_msg m = {.severity = 6, .mac = "000000000000", .ip = "", .load = ""};
  size_t cap = PFS_SYSLOG_DATAGRAM_BYTES_MAX;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!flag(argv[i], argv[i + 1], &m, &c, &cap)) return usage(argv[i]);
  }
  if (argc % 2 != 1) return usage("flags come in pairs");
  if (m.severity < 0 || m.severity > 7 || strlen(m.mac) != 12 || c.role < 0 || c.role >= PFS_SYSLOG_ROLES) return usage("out of range");
  if (cap > PFS_SYSLOG_DATAGRAM_BYTES_MAX) return usage("--cap is at most the datagram limit");
  static char out[PFS_SYSLOG_DATAGRAM_BYTES_MAX];
  size_t n = pfs_syslog_format(&m, out, cap);
  if (n == 0) return 1;
  fwrite(out, 1, n, stdout);
  return 0;
}
