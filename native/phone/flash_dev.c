/* The careful device over an image file (host/flash/file-device.ts and
 * careful-device.ts): one byte of file per byte of flash, NOR semantics (an
 * erase sets a sector to 0xFF, a program can only clear bits), every call
 * bounds-checked against the image, every operation tried up to
 * PFS_FLASH_MAX_ATTEMPTS times, an erase read back blank and a program read
 * back as written before the store builds on it. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "flash_impl.h"

/* A full medium is not retried: it cannot help (docs/FLASH.md). */
static bool is_full(int e) { return e == ENOSPC || e == EDQUOT || e == EFBIG; }

static bool in_range(const pfs_flash *f, uint64_t at, size_t n) {
  return at <= f->total_bytes && n <= f->total_bytes - at;
}

/* One pass of pread or pwrite over [at, at+n); errno on failure, 0 if ok. */
static int file_io(pfs_flash *f, bool write, uint64_t at, uint8_t *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t k = write ? pwrite(f->fd, buf + done, n - done, (off_t)(at + done))
                      : pread(f->fd, buf + done, n - done, (off_t)(at + done));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return errno;
    /* The image cannot end or refuse bytes inside the device. */
    if (k == 0) return EIO;
    done += (size_t)k;
  }
  return 0;
}

/* file_io, again after a failure of the medium, up to the limit. */
static bool attempt(pfs_flash *f, bool write, uint64_t at, uint8_t *buf, size_t n, const char *op, pfs_err *err) {
  int e = 0;
  for (unsigned i = 1; i <= PFS_FLASH_MAX_ATTEMPTS; i++) {
    e = file_io(f, write, at, buf, n);
    if (e == 0) return true;
    if (is_full(e))
      return pfs_fail(err, "flash: %s of %zu bytes at 0x%llx: no space left (%s)", op, n, (unsigned long long)at,
                      strerror(e));
  }
  return pfs_fail(err, "flash: %s of %zu bytes at 0x%llx failed %u times (%s)", op, n, (unsigned long long)at,
                  PFS_FLASH_MAX_ATTEMPTS, strerror(e));
}

bool pfs_dev_read(pfs_flash *f, uint64_t at, uint8_t *out, size_t n, pfs_err *err) {
  if (!in_range(f, at, n))
    return pfs_fail(err, "flash: read of %zu bytes at 0x%llx is outside the device", n, (unsigned long long)at);
  return attempt(f, false, at, out, n, "read", err);
}

/* Whether the sector reads back blank; first_bad gets the first byte that
 * does not. */
static bool blank(pfs_flash *f, uint32_t sector, uint32_t *first_bad, pfs_err *err, bool *read_ok) {
  uint64_t start = (uint64_t)sector * f->layout.sector_bytes;
  *read_ok = false;
  for (uint32_t off = 0; off < f->layout.sector_bytes; off += PFS_FLASH_CHUNK_BYTES) {
    uint32_t n = f->layout.sector_bytes - off < PFS_FLASH_CHUNK_BYTES ? f->layout.sector_bytes - off
                                                                      : PFS_FLASH_CHUNK_BYTES;
    if (!pfs_dev_read(f, start + off, f->b, n, err)) return false;
    for (uint32_t i = 0; i < n; i++) {
      if (f->b[i] != PFS_FLASH_ERASED) {
        *first_bad = off + i;
        *read_ok = true;
        return false;
      }
    }
  }
  *read_ok = true;
  return true;
}

bool pfs_dev_erase(pfs_flash *f, uint32_t sector, pfs_err *err) {
  if (sector >= f->layout.total_sectors)
    return pfs_fail(err, "flash: erase of sector %u is outside the device (%u sectors)", sector,
                    f->layout.total_sectors);
  uint64_t start = (uint64_t)sector * f->layout.sector_bytes;
  uint32_t bad = 0;
  for (unsigned n = 1;; n++) {
    for (uint32_t off = 0; off < f->layout.sector_bytes; off += PFS_FLASH_CHUNK_BYTES) {
      uint32_t k = f->layout.sector_bytes - off < PFS_FLASH_CHUNK_BYTES ? f->layout.sector_bytes - off
                                                                        : PFS_FLASH_CHUNK_BYTES;
      memset(f->a, PFS_FLASH_ERASED, k);
      if (!attempt(f, true, start + off, f->a, k, "erase", err)) return false;
    }
    bool read_ok;
    if (blank(f, sector, &bad, err, &read_ok)) return true;
    if (!read_ok) return false;
    if (n >= PFS_FLASH_MAX_ATTEMPTS)
      return pfs_fail(err, "flash: erase of sector %u does not take: byte %u is not 0xff after %u attempts", sector,
                      bad, n);
  }
}

/* One chunk: AND onto what is there (NOR), write, read back until it reads
 * as written; a bit that should be 1 reads 0 cannot be mended. */
static bool program_chunk(pfs_flash *f, uint64_t at, const uint8_t *bytes, size_t n, pfs_err *err) {
  for (unsigned tries = 1;; tries++) {
    if (!pfs_dev_read(f, at, f->a, n, err)) return false;
    for (size_t i = 0; i < n; i++) f->a[i] &= bytes[i];
    if (!attempt(f, true, at, f->a, n, "program", err)) return false;
    size_t bad = n;
    for (unsigned r = 0; r < PFS_FLASH_MAX_ATTEMPTS && bad != 0; r++) {
      if (!pfs_dev_read(f, at, f->b, n, err)) return false;
      bad = memcmp(f->b, bytes, n) == 0 ? 0 : n;
    }
    if (bad == 0) return true;
    for (size_t i = 0; i < n; i++) {
      if ((bytes[i] & (uint8_t)~f->b[i]) != 0)
        return pfs_fail(err, "flash: byte 0x%llx reads 0x%02x after programming 0x%02x (written twice, or a bad cell)",
                        (unsigned long long)(at + i), f->b[i], bytes[i]);
    }
    if (tries >= PFS_FLASH_MAX_ATTEMPTS)
      return pfs_fail(err, "flash: program of %zu bytes at 0x%llx does not read back after %u attempts", n,
                      (unsigned long long)at, tries);
  }
}

bool pfs_dev_program(pfs_flash *f, uint64_t at, const uint8_t *bytes, size_t n, pfs_err *err) {
  if (!in_range(f, at, n))
    return pfs_fail(err, "flash: program of %zu bytes at 0x%llx is outside the device", n, (unsigned long long)at);
  for (size_t off = 0; off < n; off += PFS_FLASH_CHUNK_BYTES) {
    size_t k = n - off < PFS_FLASH_CHUNK_BYTES ? n - off : PFS_FLASH_CHUNK_BYTES;
    if (!program_chunk(f, at + off, bytes + off, k, err)) return false;
  }
  return true;
}

/* Not retried: after a failed fsync the kernel may have dropped the dirty
 * pages, and a second would report success for data that is gone. */
bool pfs_dev_sync(pfs_flash *f, pfs_err *err) {
  if (fsync(f->fd) == 0) return true;
  return pfs_fail(err, "flash: a barrier (sync) failed (%s): not retried", strerror(errno));
}
