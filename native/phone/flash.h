/* The phone's flash as an image file, in the A/B layout of docs/FLASH.md
 * (boot record sectors, slot A, slot B), byte for byte what the Node host
 * (host/flash/) reads and writes: an image either host wrote boots the same
 * load in the other. One store per image; one thread.
 *
 *   open      pfs_flash_open (an existing image) or pfs_flash_create (a new,
 *             sparse one), with the board's layout (pfs_flash_layout_make)
 *   boot      pfs_flash_boot: what a power-up would boot, reading only
 *   power-up  pfs_flash_power_up: that, plus the TRIED mark of a trial
 *   confirm   pfs_flash_confirm: the running trial has come up
 *   update    pfs_flash_begin_update, pfs_flash_write_at (any order, each
 *             byte once), pfs_flash_verify, pfs_flash_commit; pfs_flash_read_at
 *             reads it back (what the core serves its peers), open or committed
 *   format    pfs_flash_begin_format: as an update, into slot A, committed
 *             confirmed with sequence 1, after erasing every record
 *
 * Every function that can fail returns false and fills a pfs_err. A flash
 * failure ends an update: every later write or commit fails, and only the
 * slot being written was touched. */
#ifndef PFS_PHONE_FLASH_H
#define PFS_PHONE_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* host/core/abi.ts: the relay's block and hash sizes. */
#define PFS_FLASH_BLOCK_BYTES 16384u
#define PFS_FLASH_HASH_BYTES 32u
/* host/flash/manifest.ts MAX_COMPONENTS: five in a third-generation load,
 * room for three times that. */
#define PFS_FLASH_MAX_COMPONENTS 16u
/* host/flash/manifest.ts NAME_BYTES: a name field, UTF-8, zero-padded. */
#define PFS_FLASH_NAME_BYTES 64u
/* host/flash/layout.ts MIN_BOOT_RECORD_SECTORS: with fewer, a torn record
 * write would leave no record at all. */
#define PFS_FLASH_MIN_RECORD_SECTORS 2u
/* Not in the Node host (it takes any number): every board has 2; a bound so
 * a boot scan's table is fixed in size. */
#define PFS_FLASH_MAX_RECORD_SECTORS 16u
/* host/flash/careful-device.ts MAX_FLASH_ATTEMPTS: enough for a transient
 * fault to pass, few enough that a broken part fails in milliseconds. */
#define PFS_FLASH_MAX_ATTEMPTS 3u
/* Room for a boot's reason: which record chose, and what was passed over. */
#define PFS_FLASH_REASON_BYTES 1024u
/* Room for why one component or slot did not verify. */
#define PFS_FLASH_WHY_BYTES 256u

typedef struct pfs_flash_layout {
  uint32_t sector_bytes;
  uint32_t slot_bytes;
  uint32_t record_sectors;
  uint32_t slot_sectors;     /* slot_bytes / sector_bytes */
  uint32_t manifest_sectors; /* at the start of each slot */
  uint32_t total_sectors;    /* records plus both slots */
} pfs_flash_layout;

/* The layout a board's "flash" figures (sectorBytes, slotBytes,
 * bootRecordSectors) give, checked as host/flash/layout.ts makeLayout does. */
bool pfs_flash_layout_make(pfs_flash_layout *out, uint32_t sector_bytes, uint32_t slot_bytes,
                           uint32_t record_sectors, pfs_err *err);

/* A component of a new load, as the load's index describes it. */
typedef struct pfs_flash_new_component {
  const char *name;
  uint32_t size_bytes;
  uint8_t sha256[PFS_FLASH_HASH_BYTES];
  uint8_t list_sha256[PFS_FLASH_HASH_BYTES];
} pfs_flash_new_component;

/* A component as a manifest holds it. Offsets are from the slot's start. */
typedef struct pfs_flash_component {
  char name[PFS_FLASH_NAME_BYTES + 1];
  uint32_t size_bytes;
  uint32_t list_bytes;   /* ceil(size / 16 KiB) x 32 */
  uint32_t offset_bytes; /* its transfer space: list, then bytes */
  uint8_t sha256[PFS_FLASH_HASH_BYTES];
  uint8_t list_sha256[PFS_FLASH_HASH_BYTES];
} pfs_flash_component;

typedef struct pfs_flash_manifest {
  char load_name[PFS_FLASH_NAME_BYTES + 1];
  uint32_t seq;
  uint32_t count;
  pfs_flash_component components[PFS_FLASH_MAX_COMPONENTS];
} pfs_flash_manifest;

typedef struct pfs_flash_check {
  bool ok;
  char why[PFS_FLASH_WHY_BYTES]; /* "verified", or what failed first */
} pfs_flash_check;

/* What a power-up boots (host/flash/boot.ts BootResult). */
typedef struct pfs_flash_boot {
  int slot; /* 0 = A, 1 = B; when nothing verifies, the newest record's; -1 none */
  bool has_manifest;
  pfs_flash_manifest manifest;
  bool verified; /* every component of manifest verified in flash */
  bool trial;    /* a trial record not yet booted: a power-up boots it once */
  bool has_record;
  uint32_t record_seq; /* the record that named the slot, if has_record */
  pfs_flash_check checks[PFS_FLASH_MAX_COMPONENTS];
  char reason[PFS_FLASH_REASON_BYTES];
} pfs_flash_boot;

/* host/flash/slot-state.ts, as `pfs flash ls` shows each slot. */
typedef enum pfs_flash_slot_state_name {
  PFS_FLASH_ACTIVE,
  PFS_FLASH_TRIAL,
  PFS_FLASH_CONFIRMED,
  PFS_FLASH_BAD,
  PFS_FLASH_EMPTY,
} pfs_flash_slot_state_name;

typedef struct pfs_flash_slot_state {
  pfs_flash_slot_state_name state;
  bool has_manifest;
  char load_name[PFS_FLASH_NAME_BYTES + 1];
  uint32_t seq;
  bool has_record;
  uint32_t record_seq;
  char why[PFS_FLASH_WHY_BYTES];
} pfs_flash_slot_state;

typedef struct pfs_flash pfs_flash;

/* An existing image, whose size must be exactly the layout's. */
pfs_flash *pfs_flash_open(const char *path, const pfs_flash_layout *layout, pfs_err *err);
/* A new image (fails if the file exists), sparse at its full size. */
pfs_flash *pfs_flash_create(const char *path, const pfs_flash_layout *layout, pfs_err *err);
/* Syncs and closes; false if the last sync failed. NULL is allowed. */
bool pfs_flash_close(pfs_flash *f, pfs_err *err);
const pfs_flash_layout *pfs_flash_layout_of(const pfs_flash *f);
const char *pfs_flash_slot_name(int slot); /* "A", "B" or "-" */
const char *pfs_flash_state_name(pfs_flash_slot_state_name s);

/* What the boot loader would choose now; reads only. Flash that cannot be
 * read is a record or slot "not there": this never fails. */
void pfs_flash_boot_scan(pfs_flash *f, pfs_flash_boot *out);
/* The boot loader at power-up: boot_scan, and when it chooses a trial, the
 * TRIED mark (docs/FLASH.md T1). A mark that will not take means the trial
 * is not booted at all: the load before it is. */
void pfs_flash_power_up(pfs_flash *f, pfs_flash_boot *out);
/* The slot this process's power-up booted on trial, until confirmed; -1. */
int pfs_flash_on_trial(const pfs_flash *f);
/* C1: programs the running trial's CONFIRMED mark; out (may be NULL) gets
 * what boots afterwards. Fails without a trial, or if the mark does not
 * take (the next power-up then goes back to the old load). */
bool pfs_flash_confirm(pfs_flash *f, pfs_flash_boot *out, pfs_err *err);
/* Each slot's state as the image says (active, trial, ...); `boot` is a
 * boot_scan of the same image. */
void pfs_flash_slot_states(pfs_flash *f, const pfs_flash_boot *boot, pfs_flash_slot_state out[2]);

/* U0-U2: a new load into the slot that does not boot. Refused while a
 * trial runs unconfirmed, and (before anything is written) for a load that
 * does not fit a manifest or the slot. A later begin abandons an open one. */
bool pfs_flash_begin_update(pfs_flash *f, const char *load_name, const pfs_flash_new_component *c,
                            uint32_t count, pfs_err *err);
/* A factory image: erases every record sector and slot B's manifest, then
 * begins the load in slot A, to be committed confirmed with sequence 1.
 * Destroys what the image held. */
bool pfs_flash_begin_format(pfs_flash *f, const char *load_name, const pfs_flash_new_component *c,
                            uint32_t count, pfs_err *err);
/* The open update's slot, and its manifest as written (NULL if none open). */
const pfs_flash_manifest *pfs_flash_update_manifest(const pfs_flash *f, int *slot);
/* U3: bytes at an offset of component `index`'s transfer space ([0,
 * list_bytes) its block list, then its bytes). Each sector is erased the
 * first time a write reaches it; the bytes are programmed and read back. */
bool pfs_flash_write_at(pfs_flash *f, uint32_t index, uint64_t offset, const uint8_t *bytes, size_t len,
                        pfs_err *err);
/* The bytes at an offset of component `index`'s transfer space, as
 * pfs_flash_write_at takes it, read through the careful device (each read
 * tried up to PFS_FLASH_MAX_ATTEMPTS times). Of the update this store began
 * last: open, failed or committed (a phone lingers serving the load it just
 * committed), until the next begin. A span outside the transfer space, or a
 * component the load does not have, is refused before anything is read;
 * bytes not written yet read as whatever the slot holds there. */
bool pfs_flash_read_at(pfs_flash *f, uint32_t index, uint64_t offset, uint8_t *into, size_t len, pfs_err *err);
/* U4: re-reads component `index` from flash and checks it against the
 * index's hashes; false with the reason in err if it does not verify. */
bool pfs_flash_verify(pfs_flash *f, uint32_t index, pfs_err *err);
/* U5-U7: verifies every component again, then writes the boot record that
 * makes the slot the one that boots (on trial, for an update). Writes
 * nothing if anything fails to verify. */
bool pfs_flash_commit(pfs_flash *f, pfs_err *err);

/* A file's block list (the SHA-256 of every 16 KiB block, concatenated;
 * list must hold list_bytes_of(size)), its SHA-256 and the list's, as the
 * index gives them (host/load/blocklist.ts relayFile). */
uint32_t pfs_flash_list_bytes_of(uint32_t size_bytes);
bool pfs_flash_index_bytes(const uint8_t *bytes, uint32_t size_bytes, uint8_t *list,
                           uint8_t sha256[PFS_FLASH_HASH_BYTES], uint8_t list_sha256[PFS_FLASH_HASH_BYTES],
                           pfs_err *err);

#endif
