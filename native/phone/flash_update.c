/* An update of the slot that does not boot, U0-U7 of docs/FLASH.md
 * (host/flash/ab-store.ts Update): the manifest erased and written first,
 * each component sector erased the first time a write reaches it, every
 * program read back, everything verified again before one boot record write
 * commits it. Only slot T's sectors, then record sector X, are written. */
#include <stdio.h>
#include <string.h>

#include "flash_impl.h"

/* Components are u32 sized in the manifest; sequence numbers are u32. */
#define MAX_SEQ 0xffffffffu

/* Checks a new load and lays it out into f->up; writes nothing. */
static bool plan(pfs_flash *f, int slot, uint64_t seq, const char *load_name, const pfs_flash_new_component *c,
                 uint32_t count, pfs_err *err) {
  pfs_update *u = &f->up;
  memset(u, 0, sizeof *u);
  if (seq > MAX_SEQ) return pfs_fail(err, "flash: sequence numbers are used up (%llu)", (unsigned long long)seq - 1);
  if (!pfs_check_name(load_name, "load name", err)) return false;
  if (count < 1 || count > PFS_FLASH_MAX_COMPONENTS)
    return pfs_fail(err, "a load has 1 to %u components (got %u)", PFS_FLASH_MAX_COMPONENTS, count);
  for (uint32_t i = 0; i < count; i++) {
    if (!pfs_check_name(c[i].name, "component name", err)) return false;
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(c[i].name, c[j].name) == 0) return pfs_fail(err, "component '%s' appears twice", c[i].name);
    if (c[i].size_bytes == 0) return pfs_fail(err, "component '%s': sizeBytes must be at least 1", c[i].name);
    pfs_flash_component *e = &u->m.components[i];
    snprintf(e->name, sizeof e->name, "%s", c[i].name);
    e->size_bytes = c[i].size_bytes;
    memcpy(e->sha256, c[i].sha256, PFS_FLASH_HASH_BYTES);
    memcpy(e->list_sha256, c[i].list_sha256, PFS_FLASH_HASH_BYTES);
  }
  snprintf(u->m.load_name, sizeof u->m.load_name, "%s", load_name);
  u->m.seq = (uint32_t)seq;
  u->m.count = count;
  /* A load larger than the slot is refused before anything is erased. */
  if (!pfs_place_components(&f->layout, &u->m, err)) return false;
  u->encoded_len = pfs_encode_manifest(f->md, &u->m, u->encoded);
  u->slot = slot;
  u->readable = true;
  return true;
}

/* U1 and U2: T's manifest, erased and written and read back. */
static bool start(pfs_flash *f, bool trial, pfs_err *err) {
  pfs_update *u = &f->up;
  uint32_t first = pfs_slot_first_sector(&f->layout, u->slot);
  memset(f->erased, 0, f->layout.slot_sectors);
  u->trial = trial;
  u->open = true;
  for (uint32_t s = 0; s < f->layout.manifest_sectors; s++)
    if (!pfs_dev_erase(f, first + s, err)) goto failed;
  /* The careful program reads it back as written, or fails. */
  if (!pfs_dev_program(f, pfs_slot_start(&f->layout, u->slot), u->encoded, u->encoded_len, err)) goto failed;
  return true;
failed:
  u->failed = true;
  snprintf(u->failure, sizeof u->failure, "%s", err != NULL ? err->text : "flash failure");
  return false;
}

bool pfs_flash_begin_update(pfs_flash *f, const char *load_name, const pfs_flash_new_component *c, uint32_t count,
                            pfs_err *err) {
  /* The other slot holds the load a failed trial goes back to. */
  if (f->trial_slot >= 0)
    return pfs_fail(err, "flash: slot %s runs on trial: confirm it before an update", pfs_flash_slot_name(f->trial_slot));
  f->up.open = false;
  pfs_scan(f, false, &f->scratch);
  int target = f->scratch.slot < 0 ? 0 : 1 - f->scratch.slot;
  return plan(f, target, f->next_seq, load_name, c, count, err) && start(f, true, err);
}

bool pfs_flash_begin_format(pfs_flash *f, const char *load_name, const pfs_flash_new_component *c, uint32_t count,
                            pfs_err *err) {
  f->up.open = false;
  f->trial_slot = -1;
  f->keep_sector = -1;
  /* Checked before anything is erased: a load that cannot be written must
   * not cost the chip what it held. */
  if (!plan(f, 0, 1, load_name, c, count, err)) return false;
  /* No record from an earlier life may outrank or name what follows, and
   * slot B is left holding no manifest. */
  for (uint32_t i = 0; i < f->layout.record_sectors; i++)
    if (!pfs_dev_erase(f, i, err)) return false;
  for (uint32_t s = 0; s < f->layout.manifest_sectors; s++)
    if (!pfs_dev_erase(f, pfs_slot_first_sector(&f->layout, 1) + s, err)) return false;
  /* The factory load is confirmed from the start: nothing older to go back to. */
  return start(f, false, err);
}

const pfs_flash_manifest *pfs_flash_update_manifest(const pfs_flash *f, int *slot) {
  if (!f->up.open) return NULL;
  if (slot != NULL) *slot = f->up.slot;
  return &f->up.m;
}

static bool usable(pfs_flash *f, pfs_err *err) {
  if (!f->up.open) return pfs_fail(err, "flash: no update is open (none begun, committed already, or abandoned)");
  if (f->up.failed) return pfs_fail(err, "flash: this update failed already: %s", f->up.failure);
  return true;
}

static bool write_failed(pfs_flash *f, pfs_err *err) {
  f->up.failed = true;
  snprintf(f->up.failure, sizeof f->up.failure, "%s", err != NULL ? err->text : "flash failure");
  return false;
}

/* Component `index` of the update, with [offset, offset+len) inside its
 * transfer space (list, then bytes); NULL with the reason otherwise. */
static const pfs_flash_component *span(const pfs_update *u, uint32_t index, uint64_t offset, size_t len, pfs_err *err) {
  if (index >= u->m.count) return pfs_fail(err, "flash: no component %u (the load has %u)", index, u->m.count), NULL;
  const pfs_flash_component *c = &u->m.components[index];
  uint64_t limit = (uint64_t)c->list_bytes + c->size_bytes;
  if (offset > limit || len > limit - offset) {
    pfs_fail(err, "flash: %zu bytes at %llu are outside %s's transfer space of %llu bytes", len,
             (unsigned long long)offset, c->name, (unsigned long long)limit);
    return NULL;
  }
  return c;
}

bool pfs_flash_write_at(pfs_flash *f, uint32_t index, uint64_t offset, const uint8_t *bytes, size_t len, pfs_err *err) {
  if (!usable(f, err)) return false;
  pfs_update *u = &f->up;
  const pfs_flash_component *c = span(u, index, offset, len, err);
  if (c == NULL) return false;
  if (len == 0) return true;
  u->checks[index] = false;
  uint64_t at = pfs_slot_start(&f->layout, u->slot) + c->offset_bytes + offset;
  uint32_t S = f->layout.sector_bytes, first = pfs_slot_first_sector(&f->layout, u->slot);
  for (uint64_t s = at / S; s <= (at + len - 1) / S; s++) {
    uint64_t i = s - first;
    /* Never outside this slot's component sectors: placement keeps it so. */
    if (i < f->layout.manifest_sectors || i >= f->layout.slot_sectors)
      return pfs_fail(err, "flash: internal: a write of %s reached sector %llu, outside its slot", c->name,
                      (unsigned long long)s);
    if (f->erased[i]) continue;
    if (!pfs_dev_erase(f, (uint32_t)s, err)) return write_failed(f, err);
    f->erased[i] = 1;
  }
  if (!pfs_dev_program(f, at, bytes, len, err)) return write_failed(f, err);
  return true;
}

bool pfs_flash_read_at(pfs_flash *f, uint32_t index, uint64_t offset, uint8_t *into, size_t len, pfs_err *err) {
  const pfs_update *u = &f->up;
  if (!u->readable) return pfs_fail(err, "flash: no update to read (none begun by this store, or a newer begin failed)");
  const pfs_flash_component *c = span(u, index, offset, len, err);
  if (c == NULL) return false;
  if (len == 0) return true;
  uint64_t start = pfs_slot_start(&f->layout, u->slot), at = start + c->offset_bytes + offset;
  /* Placement keeps every transfer space inside its slot (U0). */
  if (at + len > start + f->layout.slot_bytes)
    return pfs_fail(err, "flash: internal: a read of %s reaches past slot %s", c->name, pfs_flash_slot_name(u->slot));
  return pfs_dev_read(f, at, into, len, err);
}

bool pfs_flash_verify(pfs_flash *f, uint32_t index, pfs_err *err) {
  if (!f->up.open) return pfs_fail(err, "flash: no update is open");
  if (index >= f->up.m.count) return pfs_fail(err, "flash: no component %u (the load has %u)", index, f->up.m.count);
  pfs_flash_check c;
  pfs_check_component(f, f->up.slot, &f->up.m.components[index], &c);
  f->up.checks[index] = c.ok;
  return c.ok || pfs_fail(err, "%s: %s", f->up.m.components[index].name, c.why);
}

/* U6 and U7, the commit point: one record in a sector the running load was
 * not booted from (an unreadable one first, then the oldest), after a
 * barrier so the load it names is durable first. */
static bool write_record(pfs_flash *f, pfs_err *err) {
  pfs_update *u = &f->up;
  uint8_t mh[PFS_FLASH_HASH_BYTES], rec[PFS_FLASH_RECORD_BYTES], back[PFS_FLASH_RECORD_BYTES];
  pfs_flash_sha256(f->md, u->encoded, u->encoded_len, mh);
  pfs_encode_record(f->md, u->slot, u->m.seq, mh, u->trial, rec);
  pfs_rec recs[PFS_FLASH_MAX_RECORD_SECTORS];
  pfs_read_records(f, false, recs);
  int64_t best = -1, best_seq = 0;
  for (uint32_t i = 0; i < f->layout.record_sectors; i++) {
    if ((int64_t)i == f->keep_sector) continue;
    int64_t seq = recs[i].state == REC_NONE ? -1 : (int64_t)recs[i].seq;
    if (best < 0 || seq < best_seq) best = i, best_seq = seq;
  }
  uint32_t sector = (uint32_t)best; /* two record sectors at least: one is not K */
  uint64_t at = (uint64_t)sector * f->layout.sector_bytes;
  if (!pfs_dev_sync(f, err) || !pfs_dev_erase(f, sector, err) || !pfs_dev_program(f, at, rec, sizeof rec, err) ||
      !pfs_dev_sync(f, err) || !pfs_dev_read(f, at, back, sizeof back, err))
    return write_failed(f, err);
  if (memcmp(back, rec, sizeof rec) != 0) {
    pfs_fail(err, "flash: boot record %u does not read back as written (sector %u)", u->m.seq, sector);
    return write_failed(f, err);
  }
  pfs_flash_boot *b = &f->scratch;
  pfs_scan(f, false, b);
  if (b->slot != u->slot || !b->verified || !b->has_record || b->record_seq != u->m.seq || b->trial != u->trial) {
    pfs_fail(err, "flash: boot record %u is written but boot does not choose slot %s%s: %s", u->m.seq,
             pfs_flash_slot_name(u->slot), u->trial ? " on trial" : "", b->reason);
    return write_failed(f, err);
  }
  u->open = false;
  return true;
}

bool pfs_flash_commit(pfs_flash *f, pfs_err *err) {
  if (!usable(f, err)) return false;
  pfs_update *u = &f->up;
  char bad[PFS_ERR_BYTES] = "";
  for (uint32_t i = 0; i < u->m.count; i++) {
    pfs_flash_check c;
    pfs_check_component(f, u->slot, &u->m.components[i], &c);
    u->checks[i] = c.ok;
    if (!c.ok) pfs_append(bad, sizeof bad, "%s%s: %s", bad[0] ? "; " : "", u->m.components[i].name, c.why);
  }
  /* The manifest must still read as written: U2 checked it once. */
  uint8_t back[PFS_FLASH_MAX_MANIFEST_BYTES];
  pfs_err rerr;
  if (!pfs_dev_read(f, pfs_slot_start(&f->layout, u->slot), back, u->encoded_len, &rerr) ||
      memcmp(back, u->encoded, u->encoded_len) != 0)
    pfs_append(bad, sizeof bad, "%sthe manifest no longer reads as written", bad[0] ? "; " : "");
  if (bad[0] != '\0') return pfs_fail(err, "flash: commit refused (slot %s): %s", pfs_flash_slot_name(u->slot), bad);
  return write_record(f, err);
}

bool pfs_flash_index_bytes(const uint8_t *bytes, uint32_t size_bytes, uint8_t *list,
                           uint8_t sha256[PFS_FLASH_HASH_BYTES], uint8_t list_sha256[PFS_FLASH_HASH_BYTES],
                           pfs_err *err) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md == NULL) return pfs_fail(err, "SHA-256: out of memory");
  bool ok = true;
  for (uint64_t at = 0, k = 0; ok && at < size_bytes; at += PFS_FLASH_BLOCK_BYTES, k++) {
    size_t n = size_bytes - at < PFS_FLASH_BLOCK_BYTES ? (size_t)(size_bytes - at) : PFS_FLASH_BLOCK_BYTES;
    ok = pfs_flash_sha256(md, bytes + at, n, list + k * PFS_FLASH_HASH_BYTES);
  }
  ok = ok && pfs_flash_sha256(md, bytes, size_bytes, sha256) &&
       pfs_flash_sha256(md, list, pfs_flash_list_bytes_of(size_bytes), list_sha256);
  EVP_MD_CTX_free(md);
  return ok || pfs_fail(err, "SHA-256 failed");
}
