/* The `.loads` index a phone fetches first: a signed-file header of
 * tag-length-value records, then CRLF text naming the components, ours with
 * each one's size, SHA-256 and block-list SHA-256; optionally an Ed25519
 * signature. The same decisions and values as host/load/loads.ts and
 * host/phone/index-check.ts; the format is docs/LOADS.md. Byte fields of the
 * header are spans into the caller's buffer, which must outlive the index. */
#ifndef PFS_PHONE_LOADS_H
#define PFS_PHONE_LOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* MAX_LOADS_BYTES (loads.ts): a real index is 652 bytes (FACTS.md). */
#define PFS_LOADS_BYTES_MAX 65536u
/* MAX_COMPONENTS (loads.ts): a load has five. */
#define PFS_LOADS_COMPONENTS_MAX 64u
/* MAX_NAME_CHARS (loads.ts): a file name. */
#define PFS_LOADS_NAME_CHARS_MAX 255u
/* A size is at most 15 decimal digits: below 2^53, exact in a JavaScript
 * number (loads.ts MAX_SIZE_DIGITS). */
#define PFS_LOADS_SIZE_DIGITS_MAX 15u
#define PFS_LOADS_HASH_BYTES 32u
/* Records of unknown tags and comment lines kept as spans; more are counted
 * (a real index has none of the first and two of the second; neither
 * changes what a phone does). */
#define PFS_LOADS_UNKNOWN_KEPT 32u
#define PFS_LOADS_COMMENTS_KEPT 64u
/* NAME_BYTES of host/flash/manifest.ts: the flash's name field. */
#define PFS_LOADS_FLASH_NAME_BYTES 64u
/* The core's default maxFileBytes (assembly/config.ts): 16 MiB. */
#define PFS_LOADS_FILE_BYTES_DEFAULT (16u << 20)
/* Tag 10's value for Ed25519 (loads.ts SIG_ED25519, this project's). */
#define PFS_LOADS_SIG_ED25519 0xedu
#define PFS_LOADS_ED25519_SIG_BYTES 64u
#define PFS_LOADS_KEY_ID_BYTES 8u
/* "PFS .loads Ed25519 v1" and its NUL (loads.ts SIGNING_CONTEXT). */
#define PFS_LOADS_CONTEXT_BYTES 22u
/* The scratch a signature check needs: the context, then the file. */
#define PFS_LOADS_VERIFY_SCRATCH_BYTES (PFS_LOADS_CONTEXT_BYTES + PFS_LOADS_BYTES_MAX)

/* Bytes of the caller's file: value at bytes + at, len bytes. */
typedef struct pfs_span {
  uint32_t at;
  uint32_t len;
} pfs_span;

typedef struct pfs_loads_record {
  uint8_t tag;
  pfs_span value;
} pfs_loads_record;

typedef struct pfs_loads_header {
  uint8_t version_major, version_minor;
  uint32_t header_bytes;
  /* Each optional field: has_* says it was present. Numbers are 1-4 bytes
   * big-endian; text fields are printable ASCII, trailing NULs dropped. */
  bool has_signer_id, has_digest_algorithm, has_signature_algorithm, has_padding, has_timestamp;
  uint32_t signer_id, digest_algorithm, signature_algorithm, padding_bytes, timestamp;
  bool has_signer_name, has_ca_name, has_file_name;
  pfs_span signer_name, ca_name, file_name;
  bool has_serial, has_signature_info, has_modulus, has_signature;
  pfs_span serial, signature_info, modulus, signature;
  size_t unknown_count; /* all of them; the first PFS_LOADS_UNKNOWN_KEPT kept */
  pfs_loads_record unknown[PFS_LOADS_UNKNOWN_KEPT];
} pfs_loads_header;

typedef struct pfs_loads_component {
  char name[PFS_LOADS_NAME_CHARS_MAX + 1];
  /* Our extension: all three, or none (a vendor line). */
  bool has_size;
  uint64_t size_bytes;
  uint8_t sha256[PFS_LOADS_HASH_BYTES];
  uint8_t list_sha256[PFS_LOADS_HASH_BYTES];
} pfs_loads_component;

typedef struct pfs_loads_index {
  /* The file name without ".loads": what <loadInformation> names. */
  char load_name[PFS_LOADS_NAME_CHARS_MAX + 1];
  pfs_loads_header header;
  /* Each `#` line's text after the '#' (trailing spaces kept). */
  size_t comment_count;
  pfs_span comments[PFS_LOADS_COMMENTS_KEPT];
  size_t component_count;
  pfs_loads_component components[PFS_LOADS_COMPONENTS_MAX];
  /* The header carries a signature (tag 12), whatever its algorithm. */
  bool is_signed;
} pfs_loads_index;

/* isPlainName: letters, digits and ". _ + -", starting with a letter or a
 * digit, 1 to PFS_LOADS_NAME_CHARS_MAX characters. The one rule for load
 * and component names: no '/', no "..", nothing a file system reads as a
 * path. */
bool pfs_loads_plain_name(const char *name, size_t len);

/* parseLoads: `file` is used only when the header has no file name (tag
 * 14); its folder is dropped. One line in err on failure, with the byte
 * offset where the problem is. */
bool pfs_loads_parse(const uint8_t *bytes, size_t len, const char *file, pfs_loads_index *out, pfs_err *err);

/* componentsToFetch, all but the slot fit (the flash part places them):
 * every component has its size and hashes, at least 1 byte, at most
 * max_file_bytes; names fit the flash's name field. */
bool pfs_loads_check_fetchable(const pfs_loads_index *index, const char *file, uint64_t max_file_bytes, pfs_err *err);

/* checkLoadsSignature: the index parses, tag 10 is Ed25519, and the
 * signature verifies with the Ed25519 public key in `pem` (a PUBLIC KEY, or
 * a PRIVATE KEY whose public half is used). `scratch` holds at least
 * len + PFS_LOADS_CONTEXT_BYTES bytes. False with the reason otherwise. */
bool pfs_loads_verify(const uint8_t *bytes, size_t len, const char *pem, size_t pem_len, uint8_t *scratch, size_t scratch_bytes,
                      pfs_err *err);

#endif
