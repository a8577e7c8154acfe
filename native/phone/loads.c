/* The .loads index (docs/LOADS.md), read exactly as host/load/loads.ts reads
 * it: every length is checked against the file and against the header
 * length (tag 2) before it is used, and every failure is one line that says
 * what is wrong and at which byte. The signature is checked with libcrypto's
 * Ed25519 (RFC 8032). */
#include "loads.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

/* A record is a tag byte and a 2-byte big-endian length, then the value. */
#define RECORD_HEAD_BYTES 3u
/* Records one header can hold: every record is at least 3 bytes. */
#define RECORDS_MAX (PFS_LOADS_BYTES_MAX / RECORD_HEAD_BYTES)
/* Tags 1 to 15; loads.ts knows all but 9. */
#define TAG_LIMIT 16u

enum {
  TAG_VERSION = 1, TAG_HEADER_BYTES = 2, TAG_SIGNER_ID = 3, TAG_SIGNER_NAME = 4, TAG_SERIAL = 5, TAG_CA_NAME = 6,
  TAG_SIGNATURE_INFO = 7, TAG_DIGEST = 8, TAG_SIG_ALGORITHM = 10, TAG_MODULUS = 11, TAG_SIGNATURE = 12, TAG_PADDING = 13,
  TAG_FILE_NAME = 14, TAG_TIMESTAMP = 15,
};

static const char *const TAG_NAMES[TAG_LIMIT] = {
    NULL, "version", "header length", "signer id", "signer name", "serial", "CA name", "signature info",
    "digest algorithm", NULL, "signature algorithm", "modulus", "signature", "padding", "file name", "timestamp",
};

static const char SIGNING_CONTEXT[PFS_LOADS_CONTEXT_BYTES] = "PFS .loads Ed25519 v1";

static bool known_tag(unsigned tag) { return tag < TAG_LIMIT && TAG_NAMES[tag] != NULL; }
static const char *tag_name(unsigned tag) { return known_tag(tag) ? TAG_NAMES[tag] : "unknown"; }

static bool fail_at(pfs_err *err, size_t at, const char *what) {
  return pfs_fail(err, ".loads: at byte %zu: %s", at, what);
}

static bool is_alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool pfs_loads_plain_name(const char *name, size_t len) {
  if (len == 0 || len > PFS_LOADS_NAME_CHARS_MAX || !is_alnum((uint8_t)name[0])) return false;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = (uint8_t)name[i];
    if (!(is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-')) return false;
  }
  return true;
}

/* ------------------------------------------------------------ header */

typedef struct raw_record {
  uint8_t tag;
  uint32_t at; /* of its tag byte */
  pfs_span value;
} raw_record;

/* The records, bounded first by the file and, once tag 2 is read, by the
 * header length it gives. */
static bool split_records(const uint8_t *b, size_t len, raw_record *recs, size_t *count, uint32_t *header_bytes, pfs_err *err) {
  char msg[PFS_ERR_BYTES];
  long hb = -1;
  size_t pos = 0, n = 0;
  if (b[0] != TAG_VERSION) {
    snprintf(msg, sizeof msg, "found tag %u where a signed-file header starts with the version record (tag 1): this is not a .loads header", b[0]);
    return fail_at(err, 0, msg);
  }
  while (hb < 0 || pos < (size_t)hb) {
    size_t limit = hb < 0 ? len : (size_t)hb;
    if (pos + RECORD_HEAD_BYTES > limit)
      return fail_at(err, pos, hb < 0 ? "the file ends inside a record's tag and length; it is cut short"
                                      : "the records stop short of the header length (tag 2): the header length disagrees with the records");
    unsigned tag = b[pos], rlen = ((unsigned)b[pos + 1] << 8) | b[pos + 2];
    size_t value_at = pos + RECORD_HEAD_BYTES;
    if (value_at + rlen > limit) {
      snprintf(msg, sizeof msg, "tag %u (%s) of %u bytes runs past the end of the %s", tag, tag_name(tag), rlen,
               hb < 0 ? "file" : "header: the header length disagrees with the records");
      return fail_at(err, pos, msg);
    }
    if (n == 1) {
      if (tag != TAG_HEADER_BYTES) return fail_at(err, pos, "the header-length record (tag 2) must follow the version");
      if (rlen != 2) return fail_at(err, pos, "the header length (tag 2) must be 2 bytes");
      hb = ((long)b[value_at] << 8) | b[value_at + 1];
      if ((size_t)hb < value_at + 2) return fail_at(err, value_at, "the header length (tag 2) is shorter than its own first two records");
      if ((size_t)hb > len) return fail_at(err, value_at, "the header length (tag 2) runs past the end of the file: it is cut short");
    }
    recs[n++] = (raw_record){.tag = (uint8_t)tag, .at = (uint32_t)pos, .value = {(uint32_t)value_at, rlen}};
    pos = value_at + rlen;
  }
  *count = n;
  *header_bytes = (uint32_t)hb;
  return true;
}

/* A number of 1 to 4 bytes, big-endian. */
static bool record_uint(const uint8_t *b, const raw_record *r, uint32_t *out, pfs_err *err) {
  char msg[PFS_ERR_BYTES];
  if (r->value.len < 1 || r->value.len > 4) {
    snprintf(msg, sizeof msg, "tag %u (%s) must be a number of 1 to 4 bytes, not %u", r->tag, tag_name(r->tag), r->value.len);
    return fail_at(err, r->at, msg);
  }
  uint32_t v = 0;
  for (uint32_t i = 0; i < r->value.len; i++) v = (v << 8) | b[r->value.at + i];
  *out = v;
  return true;
}

/* Printable ASCII, trailing NULs (C-string padding) dropped. */
static bool record_text(const uint8_t *b, const raw_record *r, pfs_span *out, pfs_err *err) {
  char msg[PFS_ERR_BYTES];
  uint32_t end = r->value.len;
  while (end > 0 && b[r->value.at + end - 1] == 0) end--;
  for (uint32_t i = 0; i < end; i++) {
    uint8_t c = b[r->value.at + i];
    if (c < 0x20 || c > 0x7e) {
      snprintf(msg, sizeof msg, "tag %u (%s) holds byte 0x%02x at byte %u; text records are printable ASCII", r->tag, tag_name(r->tag), c,
               r->value.at + i);
      return fail_at(err, r->at, msg);
    }
  }
  *out = (pfs_span){r->value.at, end};
  return true;
}

/* One known record into the header; each known tag at most once. */
static bool take_record(const uint8_t *b, const raw_record *r, pfs_loads_header *h, pfs_err *err) {
  char msg[PFS_ERR_BYTES];
  const pfs_span v = r->value;
  switch (r->tag) {
  case TAG_VERSION:
    if (v.len != 2) return fail_at(err, r->at, "the version (tag 1) must be 2 bytes (major, minor)");
    h->version_major = b[v.at];
    h->version_minor = b[v.at + 1];
    return true;
  case TAG_HEADER_BYTES: return true;
  case TAG_SIGNER_ID: return h->has_signer_id = record_uint(b, r, &h->signer_id, err);
  case TAG_DIGEST: return h->has_digest_algorithm = record_uint(b, r, &h->digest_algorithm, err);
  case TAG_SIG_ALGORITHM: return h->has_signature_algorithm = record_uint(b, r, &h->signature_algorithm, err);
  case TAG_SIGNER_NAME: return h->has_signer_name = record_text(b, r, &h->signer_name, err);
  case TAG_CA_NAME: return h->has_ca_name = record_text(b, r, &h->ca_name, err);
  case TAG_FILE_NAME:
    if (!record_text(b, r, &h->file_name, err)) return false;
    if (!pfs_loads_plain_name((const char *)b + h->file_name.at, h->file_name.len)) {
      /* The name is printable ASCII but not NUL-terminated: say how long. */
      snprintf(msg, sizeof msg, "the file name (tag 14) '%.*s' is not a plain file name", (int)(h->file_name.len > 80 ? 80 : h->file_name.len),
               (const char *)b + h->file_name.at);
      return fail_at(err, r->at, msg);
    }
    return h->has_file_name = true;
  case TAG_SERIAL: h->serial = v; return h->has_serial = true;
  case TAG_SIGNATURE_INFO: h->signature_info = v; return h->has_signature_info = true;
  case TAG_MODULUS: h->modulus = v; return h->has_modulus = true;
  case TAG_SIGNATURE:
    if (v.len == 0) return fail_at(err, r->at, "the signature (tag 12) is empty");
    h->signature = v;
    return h->has_signature = true;
  case TAG_PADDING: h->padding_bytes = v.len; return h->has_padding = true;
  case TAG_TIMESTAMP:
    if (v.len != 4) return fail_at(err, r->at, "the timestamp (tag 15) must be 4 bytes (seconds since 1970)");
    h->timestamp = ((uint32_t)b[v.at] << 24) | ((uint32_t)b[v.at + 1] << 16) | ((uint32_t)b[v.at + 2] << 8) | b[v.at + 3];
    return h->has_timestamp = true;
  default: return true;
  }
}

static bool parse_header(const uint8_t *b, size_t len, pfs_loads_header *h, pfs_err *err) {
  static raw_record recs[RECORDS_MAX]; /* one thread (README.md): off the stack */
  size_t n = 0;
  uint32_t seen_at[TAG_LIMIT];
  bool seen[TAG_LIMIT] = {false};
  if (!split_records(b, len, recs, &n, &h->header_bytes, err)) return false;
  for (size_t i = 0; i < n; i++) {
    const raw_record *r = &recs[i];
    if (!known_tag(r->tag)) {
      if (h->unknown_count < PFS_LOADS_UNKNOWN_KEPT) h->unknown[h->unknown_count] = (pfs_loads_record){r->tag, r->value};
      h->unknown_count++;
      continue;
    }
    if (seen[r->tag]) {
      char msg[PFS_ERR_BYTES];
      snprintf(msg, sizeof msg, "tag %u (%s) appears twice (first at byte %u)", r->tag, tag_name(r->tag), seen_at[r->tag]);
      return fail_at(err, r->at, msg);
    }
    seen[r->tag] = true;
    seen_at[r->tag] = r->at;
    if (!take_record(b, r, h, err)) return false;
  }
  if (h->has_signature_algorithm && h->signature_algorithm == PFS_LOADS_SIG_ED25519) {
    if (!h->has_signature) return fail_at(err, seen_at[TAG_SIG_ALGORITHM], "the signature algorithm (tag 10) is Ed25519 but there is no signature (tag 12)");
    if (h->signature.len != PFS_LOADS_ED25519_SIG_BYTES) return fail_at(err, seen_at[TAG_SIGNATURE], "an Ed25519 signature (tag 12) is 64 bytes");
  }
  return true;
}

/* ------------------------------------------------------------ text */

static int hex_digit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Exactly 64 hex digits, either case. */
static bool parse_hash(const uint8_t *s, size_t n, uint8_t *out) {
  if (n != 2 * PFS_LOADS_HASH_BYTES) return false;
  for (size_t i = 0; i < PFS_LOADS_HASH_BYTES; i++) {
    int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* A component line, trimmed: a name, or a name, size, SHA-256 and
 * block-list SHA-256 separated by runs of spaces and tabs. */
static bool parse_component(const uint8_t *s, size_t n, size_t line_no, size_t at, pfs_loads_index *idx, pfs_err *err) {
  char msg[PFS_ERR_BYTES];
  size_t start[5], stop[5], fields = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && is_blank(s[i])) i++;
    if (i == n) break;
    if (fields < 5) start[fields] = i;
    while (i < n && !is_blank(s[i])) i++;
    if (fields < 5) stop[fields] = i;
    fields++;
  }
  if (fields != 1 && fields != 4) {
    snprintf(msg, sizeof msg, "line %zu has %zu fields; a component line is a file name, optionally followed by its size, SHA-256 and block-list SHA-256 (4 fields)", line_no, fields);
    return fail_at(err, at, msg);
  }
  const char *name = (const char *)s;
  size_t name_len = stop[0];
  if (!pfs_loads_plain_name(name, name_len)) {
    snprintf(msg, sizeof msg, "line %zu: the component name '%.*s' is not a plain file name", line_no, (int)(name_len > 80 ? 80 : name_len), name);
    return fail_at(err, at, msg);
  }
  for (size_t k = 0; k < idx->component_count; k++) {
    if (strlen(idx->components[k].name) == name_len && memcmp(idx->components[k].name, name, name_len) == 0) {
      snprintf(msg, sizeof msg, "line %zu names '%.*s' again", line_no, (int)name_len, name);
      return fail_at(err, at, msg);
    }
  }
  if (idx->component_count >= PFS_LOADS_COMPONENTS_MAX) return fail_at(err, at, "more than 64 components");
  pfs_loads_component *c = &idx->components[idx->component_count];
  memset(c, 0, sizeof *c);
  memcpy(c->name, name, name_len);
  if (fields == 4) {
    size_t digits = stop[1] - start[1];
    uint64_t size = 0;
    bool ok = digits <= PFS_LOADS_SIZE_DIGITS_MAX;
    for (size_t i = start[1]; ok && i < stop[1]; i++) {
      ok = s[i] >= '0' && s[i] <= '9';
      size = size * 10 + (uint64_t)(s[i] - '0');
    }
    if (!ok) {
      snprintf(msg, sizeof msg, "line %zu: the size of '%s' must be a whole number of bytes (at most 15 digits)", line_no, c->name);
      return fail_at(err, at, msg);
    }
    if (!parse_hash(s + start[2], stop[2] - start[2], c->sha256) || !parse_hash(s + start[3], stop[3] - start[3], c->list_sha256)) {
      bool first = !parse_hash(s + start[2], stop[2] - start[2], c->sha256);
      snprintf(msg, sizeof msg, "line %zu: the %s of '%s' must be 64 hex digits", line_no, first ? "SHA-256" : "block-list SHA-256", c->name);
      return fail_at(err, at, msg);
    }
    c->has_size = true;
    c->size_bytes = size;
  }
  idx->component_count++;
  return true;
}

/* One line, CRs dropped (only a CR before LF or at the end is allowed). */
static bool take_line(const uint8_t *b, size_t from, size_t to, size_t line_no, pfs_loads_index *idx, pfs_err *err) {
  if (to > from && b[to - 1] == '\r') to--;
  size_t s = from, e = to;
  while (s < e && is_blank(b[s])) s++;
  while (e > s && is_blank(b[e - 1])) e--;
  if (s == e) return true;
  if (b[s] == '#') {
    if (idx->comment_count < PFS_LOADS_COMMENTS_KEPT) idx->comments[idx->comment_count] = (pfs_span){(uint32_t)(s + 1), (uint32_t)(to - s - 1)};
    idx->comment_count++;
    return true;
  }
  return parse_component(b + s, e - s, line_no, from, idx, err);
}

static bool parse_text(const uint8_t *b, size_t len, size_t start, pfs_loads_index *idx, pfs_err *err) {
  char msg[PFS_ERR_BYTES];
  size_t line_no = 0, line_at = start;
  for (size_t i = start; i <= len; i++) {
    uint8_t c = i == len ? '\n' : b[i];
    if (c == '\r') {
      if (i + 1 < len && b[i + 1] != '\n') return fail_at(err, i, "a carriage return not followed by a line feed (lines end in CRLF)");
      continue;
    }
    if (c != '\n') {
      if ((c < 0x20 && c != 0x09) || c > 0x7e) {
        snprintf(msg, sizeof msg, "byte 0x%02x in the text (line %zu); the text after the header is printable ASCII", c, line_no + 1);
        return fail_at(err, i, msg);
      }
      continue;
    }
    line_no++;
    if (!take_line(b, line_at, i, line_no, idx, err)) return false;
    line_at = i + 1;
  }
  if (idx->component_count == 0) return fail_at(err, start, "the text after the header names no component file");
  return true;
}

/* ------------------------------------------------------------ the index */

/* The load name: tag 14, else the given file's name without its folder;
 * ".loads" (any case) dropped. */
static bool take_load_name(const uint8_t *b, const char *file, pfs_loads_index *idx, pfs_err *err) {
  const pfs_loads_header *h = &idx->header;
  const char *name;
  size_t n;
  if (h->has_file_name) {
    name = (const char *)b + h->file_name.at;
    n = h->file_name.len;
  } else {
    if (file == NULL) return pfs_fail(err, ".loads: the header has no file-name record (tag 14) and no file name was given");
    name = file;
    for (const char *p = file; *p != '\0'; p++)
      if (*p == '/' || *p == '\\') name = p + 1;
    n = strlen(name);
    if (!pfs_loads_plain_name(name, n)) return pfs_fail(err, ".loads: the given file name '%.80s' is not a plain file name", name);
  }
  if (n >= 6 && strncasecmp(name + n - 6, ".loads", 6) == 0) n -= 6;
  if (n == 0) return pfs_fail(err, ".loads: the file name has nothing before '.loads'");
  memcpy(idx->load_name, name, n);
  idx->load_name[n] = '\0';
  return true;
}

bool pfs_loads_parse(const uint8_t *bytes, size_t len, const char *file, pfs_loads_index *out, pfs_err *err) {
  memset(out, 0, sizeof *out);
  if (len == 0) return pfs_fail(err, ".loads: the file is empty; an index starts with a header whose first record is the version (tag 1)");
  if (len > PFS_LOADS_BYTES_MAX) return pfs_fail(err, ".loads: the file is %zu bytes; an index is a few hundred (this parser stops at %u)", len, PFS_LOADS_BYTES_MAX);
  if (!parse_header(bytes, len, &out->header, err)) return false;
  if (!take_load_name(bytes, file, out, err)) return false;
  if (!parse_text(bytes, len, out->header.header_bytes, out, err)) return false;
  out->is_signed = out->header.has_signature;
  return true;
}

bool pfs_loads_check_fetchable(const pfs_loads_index *idx, const char *file, uint64_t max_file_bytes, pfs_err *err) {
  const char *tail = "nothing was written (the old load stays active)";
  if (idx->component_count == 0) return pfs_fail(err, "%s: it names no component; %s", file, tail);
  size_t n = strlen(idx->load_name);
  if (n > PFS_LOADS_FLASH_NAME_BYTES) return pfs_fail(err, "%s: the load name is %zu bytes; the flash keeps at most %u; %s", file, n, PFS_LOADS_FLASH_NAME_BYTES, tail);
  for (size_t i = 0; i < idx->component_count; i++) {
    const pfs_loads_component *c = &idx->components[i];
    if (!c->has_size) return pfs_fail(err, "%s: '%s' has no size and hashes: it cannot be checked; %s", file, c->name, tail);
    n = strlen(c->name);
    if (n > PFS_LOADS_FLASH_NAME_BYTES)
      return pfs_fail(err, "%s: the component name '%.40s...' is %zu bytes; the flash keeps at most %u; %s", file, c->name, n, PFS_LOADS_FLASH_NAME_BYTES, tail);
    if (c->size_bytes < 1) return pfs_fail(err, "%s: '%s' has size 0; a component is at least 1 byte; %s", file, c->name, tail);
    if (c->size_bytes > max_file_bytes)
      return pfs_fail(err, "%s: '%s' has size %llu; this phone takes files of at most %llu bytes; %s", file, c->name,
                      (unsigned long long)c->size_bytes, (unsigned long long)max_file_bytes, tail);
  }
  return true;
}

/* ------------------------------------------------------------ signature */

/* An Ed25519 public key from PEM: a PUBLIC KEY, else the public half of a
 * PRIVATE KEY (as Node's createPublicKey takes either). NULL when neither. */
static EVP_PKEY *read_key(const char *pem, size_t pem_len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
  if (bio == NULL) return NULL;
  EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
  if (key == NULL && BIO_reset(bio) == 1) key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  BIO_free(bio);
  return key;
}

/* The key id a signed index names (tag 5): the first 8 bytes of the
 * SHA-256 of the raw public key, in hex. */
static void key_id_hex(EVP_PKEY *key, char out[2 * PFS_LOADS_KEY_ID_BYTES + 1]) {
  uint8_t raw[32], digest[SHA256_DIGEST_LENGTH];
  size_t raw_len = sizeof raw;
  out[0] = '\0';
  if (EVP_PKEY_get_raw_public_key(key, raw, &raw_len) != 1) return;
  SHA256(raw, raw_len, digest);
  for (size_t i = 0; i < PFS_LOADS_KEY_ID_BYTES; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The Ed25519 check proper: the context, then the file with the
 * signature's value zeroed, against the signature. */
static bool verify_with(EVP_PKEY *key, const uint8_t *bytes, size_t len, const pfs_loads_index *idx, uint8_t *scratch, pfs_err *err) {
  const pfs_loads_header *h = &idx->header;
  memcpy(scratch, SIGNING_CONTEXT, PFS_LOADS_CONTEXT_BYTES);
  memcpy(scratch + PFS_LOADS_CONTEXT_BYTES, bytes, len);
  memset(scratch + PFS_LOADS_CONTEXT_BYTES + h->signature.at, 0, h->signature.len);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool good = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(ctx, bytes + h->signature.at, h->signature.len, scratch, len + PFS_LOADS_CONTEXT_BYTES) == 1;
  EVP_MD_CTX_free(ctx);
  if (good) return true;
  char want[2 * PFS_LOADS_KEY_ID_BYTES + 1], has[2 * 32 + 1] = "";
  key_id_hex(key, want);
  for (uint32_t i = 0; h->has_serial && i < h->serial.len && i < 32; i++) snprintf(has + 2 * i, 3, "%02x", bytes[h->serial.at + i]);
  return pfs_fail(err, "the Ed25519 signature does not match (the index names %s%s; the configured key is %s)",
                  h->has_serial ? "key id " : "no key id", has, want);
}

bool pfs_loads_verify(const uint8_t *bytes, size_t len, const char *pem, size_t pem_len, uint8_t *scratch, size_t scratch_bytes,
                      pfs_err *err) {
  static pfs_loads_index idx; /* one thread (README.md): off the stack */
  EVP_PKEY *key = read_key(pem, pem_len);
  if (key == NULL) return pfs_fail(err, "the configured public key cannot be read (expected an Ed25519 key in PEM)");
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return pfs_fail(err, "the configured public key is not Ed25519");
  }
  bool ok = pfs_loads_parse(bytes, len, "unnamed.loads", &idx, err);
  if (ok && !idx.header.has_signature) ok = pfs_fail(err, "the index is not signed");
  if (ok && (!idx.header.has_signature_algorithm || idx.header.signature_algorithm != PFS_LOADS_SIG_ED25519))
    ok = pfs_fail(err, "the index is signed with another algorithm than Ed25519 (tag 10 = 237); only Ed25519 can be checked");
  if (ok && scratch_bytes < len + PFS_LOADS_CONTEXT_BYTES) ok = pfs_fail(err, "the scratch buffer is too small for the signature check");
  if (ok) ok = verify_with(key, bytes, len, &idx, scratch, err);
  EVP_PKEY_free(key);
  return ok;
}
