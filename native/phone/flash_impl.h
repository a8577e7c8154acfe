/* Inside the flash part (flash.c, flash_dev.c, flash_fmt.c, flash_boot.c):
 * the store's state, the careful device, and the byte formats. Not for
 * other parts: they use flash.h. */
#ifndef PFS_PHONE_FLASH_IMPL_H
#define PFS_PHONE_FLASH_IMPL_H

#include <openssl/evp.h>

#include "flash.h"

/* host/flash/boot-record.ts: a record of 76 bytes at the start of its
 * sector, its two marks after it, each in a 64-byte line of its own. */
#define PFS_FLASH_RECORD_BYTES 76u
#define PFS_FLASH_TRIED_AT 128u
#define PFS_FLASH_CONFIRMED_AT 192u
#define PFS_FLASH_MARK_BYTES 16u
/* A mark is set when at least this many of its bytes read 0x00: a torn
 * program sets it or not, one flipped bit cannot move it. */
#define PFS_FLASH_MARK_QUORUM 8u
#define PFS_FLASH_RECORD_AREA_BYTES (PFS_FLASH_CONFIRMED_AT + PFS_FLASH_MARK_BYTES)
/* host/flash/manifest.ts: 80 bytes of header, 136 per component, a hash. */
#define PFS_FLASH_MANIFEST_HEADER_BYTES 80u
#define PFS_FLASH_MANIFEST_ENTRY_BYTES 136u
#define PFS_FLASH_MANIFEST_BYTES(n) \
  (PFS_FLASH_MANIFEST_HEADER_BYTES + (n) * PFS_FLASH_MANIFEST_ENTRY_BYTES + PFS_FLASH_HASH_BYTES)
#define PFS_FLASH_MAX_MANIFEST_BYTES PFS_FLASH_MANIFEST_BYTES(PFS_FLASH_MAX_COMPONENTS)
#define PFS_FLASH_ERASED 0xffu
/* Bytes moved per device call: one relay block, so buffers stay small. */
#define PFS_FLASH_CHUNK_BYTES PFS_FLASH_BLOCK_BYTES

typedef enum { REC_NONE, REC_CONFIRMED, REC_TRIAL, REC_REVERTED } pfs_rec_state;

typedef struct pfs_rec {
  uint32_t sector;
  pfs_rec_state state; /* REC_NONE: no valid record, why says so */
  int slot;
  uint32_t seq;
  bool trial;
  uint8_t manifest_sha256[PFS_FLASH_HASH_BYTES];
  char why[PFS_FLASH_WHY_BYTES];
} pfs_rec;

typedef struct pfs_slot_manifest {
  bool ok;
  pfs_flash_manifest m;
  uint8_t sha256[PFS_FLASH_HASH_BYTES]; /* of the whole manifest: what a record names */
  char why[PFS_FLASH_WHY_BYTES];
} pfs_slot_manifest;

typedef struct pfs_update {
  bool open, failed, trial;
  /* Its slot holds its manifest's layout: set once planned, kept after the
   * commit (the linger serves from it), cleared by the next begin. */
  bool readable;
  int slot;
  pfs_flash_manifest m;
  uint8_t encoded[PFS_FLASH_MAX_MANIFEST_BYTES];
  uint32_t encoded_len;
  bool checks[PFS_FLASH_MAX_COMPONENTS];
  char failure[PFS_ERR_BYTES];
} pfs_update;

struct pfs_flash {
  int fd;
  pfs_flash_layout layout;
  uint64_t total_bytes;
  /* From the last boot scan: the record sector the running load was booted
   * from (never overwritten while it runs; -1 none), and one more than any
   * sequence number on the flash. */
  int64_t keep_sector;
  uint64_t next_seq;
  /* The trial this process's power-up booted, until confirmed. */
  int trial_slot;
  uint32_t trial_seq, trial_sector;
  pfs_update up;
  uint8_t *erased; /* per sector of the update's slot: erased by it yet */
  uint8_t *list;   /* a component's block list: slot_bytes / 512 at most */
  uint8_t *a, *b;  /* PFS_FLASH_CHUNK_BYTES each */
  EVP_MD_CTX *md, *md_whole;
  pfs_flash_boot scratch; /* a boot scan's result for internal checks */
};

/* flash_dev.c: the careful device over the image file. */
bool pfs_dev_read(pfs_flash *f, uint64_t at, uint8_t *out, size_t n, pfs_err *err);
bool pfs_dev_erase(pfs_flash *f, uint32_t sector, pfs_err *err);
bool pfs_dev_program(pfs_flash *f, uint64_t at, const uint8_t *bytes, size_t n, pfs_err *err);
bool pfs_dev_sync(pfs_flash *f, pfs_err *err);

/* flash_fmt.c: hashes and byte formats. */
bool pfs_flash_sha256(EVP_MD_CTX *md, const uint8_t *bytes, size_t n, uint8_t out[PFS_FLASH_HASH_BYTES]);
uint64_t pfs_slot_start(const pfs_flash_layout *l, int slot);
uint32_t pfs_slot_first_sector(const pfs_flash_layout *l, int slot);
void pfs_encode_record(EVP_MD_CTX *md, int slot, uint32_t seq, const uint8_t mh[PFS_FLASH_HASH_BYTES], bool trial,
                       uint8_t out[PFS_FLASH_RECORD_BYTES]);
bool pfs_decode_record(EVP_MD_CTX *md, const uint8_t in[PFS_FLASH_RECORD_BYTES], pfs_rec *r);
bool pfs_mark_set(const uint8_t mark[PFS_FLASH_MARK_BYTES]);
uint32_t pfs_encode_manifest(EVP_MD_CTX *md, const pfs_flash_manifest *m, uint8_t *out);
bool pfs_decode_manifest(EVP_MD_CTX *md, const pfs_flash_layout *l, const uint8_t *in, size_t n,
                         pfs_slot_manifest *out);
bool pfs_check_name(const char *name, const char *what, pfs_err *err);
bool pfs_place_components(const pfs_flash_layout *l, pfs_flash_manifest *m, pfs_err *err);

/* flash_boot.c: reading what boots. */
void pfs_read_records(pfs_flash *f, bool skip_trials, pfs_rec out[PFS_FLASH_MAX_RECORD_SECTORS]);
void pfs_read_manifest(pfs_flash *f, int slot, pfs_slot_manifest *out);
void pfs_check_component(pfs_flash *f, int slot, const pfs_flash_component *c, pfs_flash_check *out);
void pfs_scan(pfs_flash *f, bool skip_trials, pfs_flash_boot *out);

/* Appends printf-style text to a bounded string (truncating). */
void pfs_append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
