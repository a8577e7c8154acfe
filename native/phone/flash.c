/* The A/B store (host/flash/ab-store.ts; docs/FLASH.md "An update", "Trial
 * boot and revert"): an update writes only the slot that does not boot,
 * and one boot record write, after everything verified and a barrier,
 * commits it on trial; the next power-up boots it once and marks it TRIED;
 * only a confirm keeps it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flash_impl.h"

const char *pfs_flash_slot_name(int slot) { return slot == 0 ? "A" : slot == 1 ? "B" : "-"; }

const char *pfs_flash_state_name(pfs_flash_slot_state_name s) {
  static const char *const names[] = { "active", "trial", "confirmed", "bad", "empty" };
  return (unsigned)s < 5 ? names[s] : "?";
}

const pfs_flash_layout *pfs_flash_layout_of(const pfs_flash *f) { return &f->layout; }

/* Everything a store needs, allocated here once: the steady state allocates
 * nothing. The largest block list is one hash per 16 KiB of a slot. */
static pfs_flash *store_new(int fd, const pfs_flash_layout *l, pfs_err *err) {
  pfs_flash *f = calloc(1, sizeof *f);
  if (f == NULL) return close(fd), pfs_fail(err, "flash: out of memory"), NULL;
  f->fd = fd;
  f->layout = *l;
  f->total_bytes = (uint64_t)l->total_sectors * l->sector_bytes;
  f->keep_sector = -1;
  f->next_seq = 1;
  f->trial_slot = -1;
  f->erased = calloc(l->slot_sectors, 1);
  f->list = malloc(pfs_flash_list_bytes_of(l->slot_bytes) + PFS_FLASH_HASH_BYTES);
  f->a = malloc(PFS_FLASH_CHUNK_BYTES);
  f->b = malloc(PFS_FLASH_CHUNK_BYTES);
  f->md = EVP_MD_CTX_new();
  f->md_whole = EVP_MD_CTX_new();
  if (f->erased == NULL || f->list == NULL || f->a == NULL || f->b == NULL || f->md == NULL || f->md_whole == NULL) {
    pfs_flash_close(f, NULL);
    pfs_fail(err, "flash: out of memory");
    return NULL;
  }
  return f;
}

pfs_flash *pfs_flash_open(const char *path, const pfs_flash_layout *l, pfs_err *err) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return pfs_fail(err, "flash: cannot open %s: %s", path, strerror(errno)), NULL;
  struct stat st;
  uint64_t want = (uint64_t)l->total_sectors * l->sector_bytes;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != want) {
    close(fd);
    return pfs_fail(err, "flash: %s is %lld bytes, but the layout needs %u sectors of %u = %llu bytes", path,
                    (long long)st.st_size, l->total_sectors, l->sector_bytes, (unsigned long long)want),
           NULL;
  }
  return store_new(fd, l, err);
}

pfs_flash *pfs_flash_create(const char *path, const pfs_flash_layout *l, pfs_err *err) {
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return pfs_fail(err, "flash: cannot create %s: %s", path, strerror(errno)), NULL;
  /* Sparse: the image costs only the sectors ever written. */
  if (ftruncate(fd, (off_t)((uint64_t)l->total_sectors * l->sector_bytes)) != 0) {
    int e = errno;
    close(fd);
    unlink(path);
    return pfs_fail(err, "flash: cannot size %s: %s", path, strerror(e)), NULL;
  }
  return store_new(fd, l, err);
}

bool pfs_flash_close(pfs_flash *f, pfs_err *err) {
  if (f == NULL) return true;
  bool ok = fsync(f->fd) == 0 || pfs_fail(err, "flash: sync at close failed: %s", strerror(errno));
  close(f->fd);
  EVP_MD_CTX_free(f->md);
  EVP_MD_CTX_free(f->md_whole);
  free(f->erased);
  free(f->list);
  free(f->a);
  free(f->b);
  free(f);
  return ok;
}

void pfs_flash_boot_scan(pfs_flash *f, pfs_flash_boot *out) { pfs_scan(f, false, out); }

/* One mark onto erased bytes after a record; true if it reads as set. A
 * program that failed may still have set it: what the flash holds decides. */
static bool program_mark(pfs_flash *f, uint32_t sector, uint32_t at) {
  static const uint8_t mark[PFS_FLASH_MARK_BYTES]; /* 16 zero bytes */
  uint64_t offset = (uint64_t)sector * f->layout.sector_bytes + at;
  uint8_t back[PFS_FLASH_MARK_BYTES];
  (void)pfs_dev_program(f, offset, mark, sizeof mark, NULL);
  return pfs_dev_read(f, offset, back, sizeof back, NULL) && pfs_mark_set(back);
}

void pfs_flash_power_up(pfs_flash *f, pfs_flash_boot *out) {
  f->trial_slot = -1;
  pfs_scan(f, false, out);
  if (!out->trial) return;
  /* A trial boots from a record: the scan kept its sector. */
  uint32_t sector = (uint32_t)f->keep_sector;
  if (!program_mark(f, sector, PFS_FLASH_TRIED_AT)) {
    pfs_scan(f, true, out);
    return;
  }
  f->trial_slot = out->slot;
  f->trial_seq = out->record_seq;
  f->trial_sector = sector;
}

int pfs_flash_on_trial(const pfs_flash *f) { return f->trial_slot; }

bool pfs_flash_confirm(pfs_flash *f, pfs_flash_boot *out, pfs_err *err) {
  if (f->trial_slot < 0) return pfs_fail(err, "flash: confirm without a trial booted by a power-up");
  if (!program_mark(f, f->trial_sector, PFS_FLASH_CONFIRMED_AT))
    return pfs_fail(err, "flash: the CONFIRMED mark of boot record %u (sector %u) does not take: slot %s stays on trial",
                    f->trial_seq, f->trial_sector, pfs_flash_slot_name(f->trial_slot));
  int slot = f->trial_slot;
  f->trial_slot = -1;
  pfs_flash_boot *b = out != NULL ? out : &f->scratch;
  pfs_scan(f, false, b);
  if (b->slot != slot || !b->verified || b->trial || !b->has_record || b->record_seq != f->trial_seq)
    return pfs_fail(err, "flash: boot record %u is confirmed but boot does not choose slot %s: %s", f->trial_seq,
                    pfs_flash_slot_name(slot), b->reason);
  return true;
}
