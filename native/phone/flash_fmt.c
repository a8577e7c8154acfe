/* The byte formats of docs/FLASH.md (host/flash/boot-record.ts, manifest.ts,
 * layout.ts): all integers little-endian, every record and manifest under
 * its own SHA-256, nothing read believed until that matches. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flash_impl.h"

#define RECORD_MAGIC 0x42534650u   /* "PFSB" read as a little-endian u32 */
#define MANIFEST_MAGIC 0x4d534650u /* "PFSM" */
#define FORMAT_VERSION 1u
/* Byte 7 of a record: the first records this project wrote had 0 there,
 * and were confirmed. */
#define STATE_CONFIRMED 0u
#define STATE_TRIAL 1u
#define RECORD_BODY_BYTES (12u + PFS_FLASH_HASH_BYTES)

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

void pfs_append(char *buf, size_t size, const char *fmt, ...) {
  size_t used = strnlen(buf, size);
  if (used + 1 >= size) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + used, size - used, fmt, ap);
  va_end(ap);
}

bool pfs_flash_sha256(EVP_MD_CTX *md, const uint8_t *bytes, size_t n, uint8_t out[PFS_FLASH_HASH_BYTES]) {
  return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(md, bytes, n) == 1 &&
         EVP_DigestFinal_ex(md, out, NULL) == 1;
}

uint32_t pfs_slot_first_sector(const pfs_flash_layout *l, int slot) {
  return l->record_sectors + (uint32_t)slot * l->slot_sectors;
}

uint64_t pfs_slot_start(const pfs_flash_layout *l, int slot) {
  return (uint64_t)pfs_slot_first_sector(l, slot) * l->sector_bytes;
}

bool pfs_flash_layout_make(pfs_flash_layout *out, uint32_t sector_bytes, uint32_t slot_bytes, uint32_t record_sectors,
                           pfs_err *err) {
  if (sector_bytes < PFS_FLASH_RECORD_AREA_BYTES)
    return pfs_fail(err, "flash layout: sectorBytes must be at least %u (got %u)", PFS_FLASH_RECORD_AREA_BYTES,
                    sector_bytes);
  if (record_sectors < PFS_FLASH_MIN_RECORD_SECTORS || record_sectors > PFS_FLASH_MAX_RECORD_SECTORS)
    return pfs_fail(err, "flash layout: bootRecordSectors must be %u to %u (got %u)", PFS_FLASH_MIN_RECORD_SECTORS,
                    PFS_FLASH_MAX_RECORD_SECTORS, record_sectors);
  if (slot_bytes < sector_bytes || slot_bytes % sector_bytes != 0)
    return pfs_fail(err, "flash layout: slotBytes (%u) must be whole sectors of %u", slot_bytes, sector_bytes);
  uint32_t slot_sectors = slot_bytes / sector_bytes;
  uint32_t manifest_sectors = (PFS_FLASH_MAX_MANIFEST_BYTES + sector_bytes - 1) / sector_bytes;
  if (manifest_sectors >= slot_sectors)
    return pfs_fail(err, "flash layout: a slot of %u bytes has no room beside its manifest", slot_bytes);
  uint64_t total = record_sectors + 2ull * slot_sectors;
  /* Sector numbers are u32 here, and the image's bytes fit an off_t. */
  if (total > UINT32_MAX) return pfs_fail(err, "flash layout: %llu sectors is too many", (unsigned long long)total);
  *out = (pfs_flash_layout){ sector_bytes, slot_bytes, record_sectors, slot_sectors, manifest_sectors,
                             (uint32_t)total };
  return true;
}

uint32_t pfs_flash_list_bytes_of(uint32_t size_bytes) {
  return (uint32_t)(((uint64_t)size_bytes + PFS_FLASH_BLOCK_BYTES - 1) / PFS_FLASH_BLOCK_BYTES * PFS_FLASH_HASH_BYTES);
}

void pfs_encode_record(EVP_MD_CTX *md, int slot, uint32_t seq, const uint8_t mh[PFS_FLASH_HASH_BYTES], bool trial,
                       uint8_t out[PFS_FLASH_RECORD_BYTES]) {
  memset(out, 0, PFS_FLASH_RECORD_BYTES);
  put32(out, RECORD_MAGIC);
  put16(out + 4, FORMAT_VERSION);
  out[6] = (uint8_t)slot;
  out[7] = trial ? STATE_TRIAL : STATE_CONFIRMED;
  put32(out + 8, seq);
  memcpy(out + 12, mh, PFS_FLASH_HASH_BYTES);
  pfs_flash_sha256(md, out, RECORD_BODY_BYTES, out + RECORD_BODY_BYTES);
}

static bool rec_why(pfs_rec *r, const char *text) {
  snprintf(r->why, sizeof r->why, "%s", text);
  return false;
}

bool pfs_decode_record(EVP_MD_CTX *md, const uint8_t in[PFS_FLASH_RECORD_BYTES], pfs_rec *r) {
  uint8_t h[PFS_FLASH_HASH_BYTES];
  if (get32(in) != RECORD_MAGIC) return rec_why(r, "no record (bad magic)");
  if (!pfs_flash_sha256(md, in, RECORD_BODY_BYTES, h) || memcmp(h, in + RECORD_BODY_BYTES, sizeof h) != 0)
    return rec_why(r, "record hash does not match (torn or damaged)");
  /* Hashed, so written by us: a bad field here is a version we do not know. */
  uint32_t seq = get32(in + 8);
  if (get16(in + 4) != FORMAT_VERSION || in[6] > 1 || in[7] > STATE_TRIAL || seq == 0)
    return rec_why(r, "record of an unknown version");
  r->slot = in[6];
  r->seq = seq;
  r->trial = in[7] == STATE_TRIAL;
  memcpy(r->manifest_sha256, in + 12, PFS_FLASH_HASH_BYTES);
  return true;
}

bool pfs_mark_set(const uint8_t mark[PFS_FLASH_MARK_BYTES]) {
  unsigned zeros = 0;
  for (unsigned i = 0; i < PFS_FLASH_MARK_BYTES; i++) zeros += mark[i] == 0;
  return zeros >= PFS_FLASH_MARK_QUORUM;
}

/* Whether [p, p+n) is UTF-8 as a fatal TextDecoder takes it: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = p[i];
    size_t k = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    if (k == 0 || i + k > n) return false;
    for (size_t j = 1; j < k; j++)
      if ((p[i + j] & 0xc0) != 0x80) return false;
    if (k == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0))) return false;
    if (k == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))) return false;
    i += k;
  }
  return true;
}

bool pfs_check_name(const char *name, const char *what, pfs_err *err) {
  size_t n = strlen(name);
  if (n == 0 || n > PFS_FLASH_NAME_BYTES || !utf8_ok((const uint8_t *)name, n))
    return pfs_fail(err, "%s '%.80s' must be 1 to %u bytes of UTF-8 without NUL (it is %zu)", what, name,
                    PFS_FLASH_NAME_BYTES, n);
  return true;
}

/* A name field: 1..64 bytes of UTF-8, then zeros to the end. */
static bool get_name(const uint8_t *field, char out[PFS_FLASH_NAME_BYTES + 1]) {
  size_t len = strnlen((const char *)field, PFS_FLASH_NAME_BYTES);
  if (len == 0 || !utf8_ok(field, len)) return false;
  for (size_t i = len; i < PFS_FLASH_NAME_BYTES; i++)
    if (field[i] != 0) return false;
  memcpy(out, field, len);
  out[len] = '\0';
  return true;
}

uint32_t pfs_encode_manifest(EVP_MD_CTX *md, const pfs_flash_manifest *m, uint8_t *out) {
  uint32_t len = PFS_FLASH_MANIFEST_BYTES(m->count);
  memset(out, 0, len);
  put32(out, MANIFEST_MAGIC);
  put16(out + 4, FORMAT_VERSION);
  put16(out + 6, (uint16_t)m->count);
  put32(out + 8, m->seq);
  put32(out + 12, len);
  memcpy(out + 16, m->load_name, strlen(m->load_name));
  for (uint32_t i = 0; i < m->count; i++) {
    const pfs_flash_component *c = &m->components[i];
    uint8_t *e = out + PFS_FLASH_MANIFEST_HEADER_BYTES + i * PFS_FLASH_MANIFEST_ENTRY_BYTES;
    memcpy(e, c->name, strlen(c->name));
    put32(e + 64, c->size_bytes);
    put32(e + 68, c->offset_bytes);
    memcpy(e + 72, c->sha256, PFS_FLASH_HASH_BYTES);
    memcpy(e + 104, c->list_sha256, PFS_FLASH_HASH_BYTES);
  }
  pfs_flash_sha256(md, out, len - PFS_FLASH_HASH_BYTES, out + len - PFS_FLASH_HASH_BYTES);
  return len;
}

static bool why(pfs_slot_manifest *out, const char *text) {
  snprintf(out->why, sizeof out->why, "%s", text);
  return false;
}

/* The components of a manifest whose hash matched: inside the slot, after
 * the manifest's sectors, in order, without overlap. */
static bool decode_entries(const pfs_flash_layout *l, const uint8_t *in, pfs_slot_manifest *out) {
  uint64_t next = (uint64_t)l->manifest_sectors * l->sector_bytes;
  for (uint32_t i = 0; i < out->m.count; i++) {
    const uint8_t *e = in + PFS_FLASH_MANIFEST_HEADER_BYTES + i * PFS_FLASH_MANIFEST_ENTRY_BYTES;
    pfs_flash_component *c = &out->m.components[i];
    c->size_bytes = get32(e + 64);
    c->offset_bytes = get32(e + 68);
    c->list_bytes = pfs_flash_list_bytes_of(c->size_bytes);
    if (!get_name(e, c->name) || c->size_bytes == 0) {
      snprintf(out->why, sizeof out->why, "manifest component %u malformed", i);
      return false;
    }
    uint64_t end = (uint64_t)c->offset_bytes + c->list_bytes + c->size_bytes;
    if (c->offset_bytes < next || end > l->slot_bytes) {
      snprintf(out->why, sizeof out->why, "manifest component %s lies outside its place in the slot", c->name);
      return false;
    }
    next = end;
    memcpy(c->sha256, e + 72, PFS_FLASH_HASH_BYTES);
    memcpy(c->list_sha256, e + 104, PFS_FLASH_HASH_BYTES);
  }
  return true;
}

bool pfs_decode_manifest(EVP_MD_CTX *md, const pfs_flash_layout *l, const uint8_t *in, size_t n,
                         pfs_slot_manifest *out) {
  memset(out, 0, sizeof *out);
  if (n < PFS_FLASH_MANIFEST_BYTES(1)) return why(out, "manifest area too short");
  if (get32(in) != MANIFEST_MAGIC) return why(out, "no manifest (bad magic)");
  if (get16(in + 4) != FORMAT_VERSION) {
    snprintf(out->why, sizeof out->why, "manifest version %u unknown", get16(in + 4));
    return false;
  }
  uint32_t count = get16(in + 6), len = get32(in + 12);
  /* The length of a damaged header only decides how much to hash. */
  if (count < 1 || count > PFS_FLASH_MAX_COMPONENTS || len != PFS_FLASH_MANIFEST_BYTES(count) || len > n)
    return why(out, "manifest header damaged");
  uint8_t h[PFS_FLASH_HASH_BYTES];
  if (!pfs_flash_sha256(md, in, len - PFS_FLASH_HASH_BYTES, h) || memcmp(h, in + len - PFS_FLASH_HASH_BYTES, sizeof h) != 0)
    return why(out, "manifest hash does not match (torn or damaged)");
  if (!get_name(in + 16, out->m.load_name)) return why(out, "manifest load name malformed");
  out->m.count = count;
  out->m.seq = get32(in + 8);
  if (!decode_entries(l, in, out)) return false;
  if (!pfs_flash_sha256(md, in, len, out->sha256)) return why(out, "SHA-256 failed");
  snprintf(out->why, sizeof out->why, "valid");
  out->ok = true;
  return true;
}

bool pfs_place_components(const pfs_flash_layout *l, pfs_flash_manifest *m, pfs_err *err) {
  uint64_t next = (uint64_t)l->manifest_sectors * l->sector_bytes;
  for (uint32_t i = 0; i < m->count; i++) {
    pfs_flash_component *c = &m->components[i];
    c->list_bytes = pfs_flash_list_bytes_of(c->size_bytes);
    uint64_t transfer = (uint64_t)c->list_bytes + c->size_bytes;
    /* Offsets are u32 in the manifest; a slot is at most 4 GiB. */
    c->offset_bytes = next > l->slot_bytes ? UINT32_MAX : (uint32_t)next;
    next += (transfer + l->sector_bytes - 1) / l->sector_bytes * l->sector_bytes;
  }
  if (next > l->slot_bytes)
    return pfs_fail(err, "flash layout: the load needs %llu bytes of a slot (manifest and sector-aligned components), "
                         "the slot has %u", (unsigned long long)next, l->slot_bytes);
  return true;
}
