/* pfs-parse: the configuration and index parsers on one file, for the
 * tests (tests/host/native-phone-parse.test.ts) to hold against the Node
 * host's. Prints the parse as one JSON object on stdout and exits 0, or one
 * line on stderr and exits 1.
 *
 *   pfs-parse config FILE [--model M]   XMLDefault.cnf.xml by its name, else a SEP file
 *   pfs-parse loads FILE [--key PEM]    the index, its signature checked with the key
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "loads.h"

#define USAGE "usage: pfs-parse config FILE [--model M] | pfs-parse loads FILE [--key PEM]"
/* Read one byte past each parser's limit, so that "too large" is the
 * parser's own refusal. */
#define READ_BYTES_MAX (PFS_CONFIG_BYTES_MAX + 1u)
/* A PEM public or private Ed25519 key is about 120 bytes. */
#define PEM_BYTES_MAX 8192u

static uint8_t file_buf[READ_BYTES_MAX];
static uint8_t scratch[PFS_LOADS_VERIFY_SCRATCH_BYTES];
static char pem_buf[PEM_BYTES_MAX];
static pfs_default_config defaults;
static pfs_loads_index idx;

static int die(const char *line) {
  fprintf(stderr, "pfs-parse: %s\n", line);
  return 1;
}

static bool read_file(const char *path, void *buf, size_t cap, size_t *len, pfs_err *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return pfs_fail(err, "%s: cannot be opened", path);
  *len = fread(buf, 1, cap, f);
  bool bad = ferror(f) != 0;
  fclose(f);
  if (bad) return pfs_fail(err, "%s: cannot be read", path);
  return true;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash == NULL ? path : slash + 1;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_str(const char *s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void put_hex(const uint8_t *b, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  putchar('"');
}

static int config_main(const char *path, const char *model) {
  pfs_err err;
  size_t len;
  if (!read_file(path, file_buf, sizeof file_buf, &len, &err)) return die(err.text);
  const char *name = base_name(path);
  if (strcmp(name, "XMLDefault.cnf.xml") == 0) {
    if (!pfs_config_parse_default(file_buf, len, name, &defaults, &err)) return die(err.text);
    printf("{\"loads\":[");
    for (size_t i = 0; i < defaults.count; i++) {
      const pfs_default_load *l = &defaults.loads[i];
      printf("%s{\"typeCode\":%u,", i == 0 ? "" : ",", l->type_code);
      if (l->has_model) printf("\"model\":"), put_str(l->model, strlen(l->model)), putchar(',');
      printf("\"loadName\":"), put_str(l->load, strlen(l->load)), putchar('}');
    }
    putchar(']');
    if (model != NULL) {
      const char *d = pfs_config_default_load(&defaults, model);
      printf(",\"defaultLoad\":");
      if (d == NULL) printf("null");
      else put_str(d, strlen(d));
    }
    printf("}\n");
    return 0;
  }
  pfs_device_config dev;
  if (!pfs_config_parse_device(file_buf, len, name, &dev, &err)) return die(err.text);
  const char *sep = "";
  putchar('{');
  if (dev.has_load) printf("\"loadInformation\":"), put_str(dev.load, strlen(dev.load)), sep = ",";
  if (dev.has_pfs) printf("%s\"peerFirmwareSharing\":%s", sep, dev.pfs ? "true" : "false"), sep = ",";
  if (dev.load_server.set) {
    printf("%s\"loadServer\":{\"host\":", sep);
    put_str(dev.load_server.host, strlen(dev.load_server.host));
    if (dev.load_server.port != 0) printf(",\"port\":%u", dev.load_server.port);
    putchar('}');
    sep = ",";
  }
  if (dev.log_server.set) {
    printf("%s\"logServer\":{\"host\":", sep);
    put_str(dev.log_server.host, strlen(dev.log_server.host));
    if (dev.log_server.port != 0) printf(",\"port\":%u", dev.log_server.port);
    putchar('}');
  }
  printf("}\n");
  return 0;
}

/* A header field that is a span of the file: as text or as hex. */
static void put_span(const char *key, bool has, pfs_span s, bool text) {
  if (!has) return;
  printf(",\"%s\":", key);
  if (text) put_str((const char *)file_buf + s.at, s.len);
  else put_hex(file_buf + s.at, s.len);
}

static void put_number(const char *key, bool has, uint32_t v) {
  if (has) printf(",\"%s\":%u", key, v);
}

static void put_header(const pfs_loads_header *h) {
  printf("\"header\":{\"version\":{\"major\":%u,\"minor\":%u},\"headerBytes\":%u", h->version_major, h->version_minor, h->header_bytes);
  put_number("signerId", h->has_signer_id, h->signer_id);
  put_span("signerName", h->has_signer_name, h->signer_name, true);
  put_span("serial", h->has_serial, h->serial, false);
  put_span("caName", h->has_ca_name, h->ca_name, true);
  put_span("signatureInfo", h->has_signature_info, h->signature_info, false);
  put_number("digestAlgorithm", h->has_digest_algorithm, h->digest_algorithm);
  put_number("signatureAlgorithm", h->has_signature_algorithm, h->signature_algorithm);
  put_span("modulus", h->has_modulus, h->modulus, false);
  put_span("signature", h->has_signature, h->signature, false);
  put_number("paddingBytes", h->has_padding, h->padding_bytes);
  put_span("fileName", h->has_file_name, h->file_name, true);
  put_number("timestamp", h->has_timestamp, h->timestamp);
  printf(",\"unknownCount\":%zu,\"unknown\":[", h->unknown_count);
  for (size_t i = 0; i < h->unknown_count && i < PFS_LOADS_UNKNOWN_KEPT; i++) {
    printf("%s{\"tag\":%u,\"value\":", i == 0 ? "" : ",", h->unknown[i].tag);
    put_hex(file_buf + h->unknown[i].value.at, h->unknown[i].value.len);
    putchar('}');
  }
  printf("]}");
}

static int loads_main(const char *path, const char *key_path) {
  pfs_err err;
  size_t len, pem_len = 0;
  if (!read_file(path, file_buf, PFS_LOADS_BYTES_MAX + 1u, &len, &err)) return die(err.text);
  if (key_path != NULL && !read_file(key_path, pem_buf, sizeof pem_buf, &pem_len, &err)) return die(err.text);
  const char *name = base_name(path);
  if (key_path != NULL && !pfs_loads_verify(file_buf, len, pem_buf, pem_len, scratch, sizeof scratch, &err)) {
    char line[PFS_ERR_BYTES + 128];
    snprintf(line, sizeof line, "%s: its signature does not verify with the configured key: %s", name, err.text);
    return die(line);
  }
  if (!pfs_loads_parse(file_buf, len, name, &idx, &err)) return die(err.text);
  printf("{\"loadName\":");
  put_str(idx.load_name, strlen(idx.load_name));
  printf(",\"signed\":%s,", idx.is_signed ? "true" : "false");
  put_header(&idx.header);
  printf(",\"commentCount\":%zu,\"comments\":[", idx.comment_count);
  for (size_t i = 0; i < idx.comment_count && i < PFS_LOADS_COMMENTS_KEPT; i++) {
    if (i > 0) putchar(',');
    put_str((const char *)file_buf + idx.comments[i].at, idx.comments[i].len);
  }
  printf("],\"components\":[");
  for (size_t i = 0; i < idx.component_count; i++) {
    const pfs_loads_component *c = &idx.components[i];
    printf("%s{\"name\":", i == 0 ? "" : ",");
    put_str(c->name, strlen(c->name));
    if (c->has_size) {
      printf(",\"sizeBytes\":%llu,\"sha256\":", (unsigned long long)c->size_bytes);
      put_hex(c->sha256, sizeof c->sha256);
      printf(",\"listSha256\":");
      put_hex(c->list_sha256, sizeof c->list_sha256);
    }
    putchar('}');
  }
  printf("],\"fetch\":");
  if (pfs_loads_check_fetchable(&idx, name, PFS_LOADS_FILE_BYTES_DEFAULT, &err)) printf("null");
  else put_str(err.text, strlen(err.text));
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 && argc != 5) return die(USAGE);
  const char *opt = argc == 5 ? argv[3] : NULL, *val = argc == 5 ? argv[4] : NULL;
  if (strcmp(argv[1], "config") == 0 && (opt == NULL || strcmp(opt, "--model") == 0)) return config_main(argv[2], val);
  if (strcmp(argv[1], "loads") == 0 && (opt == NULL || strcmp(opt, "--key") == 0)) return loads_main(argv[2], val);
  return die(USAGE);
}
