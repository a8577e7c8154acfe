/* T_DRAIN (docs/TRACE.md 2, 3): the core's outbox in its normal form,
 * compared with the trace's chunk by chunk as the records are walked, and
 * folded into the digest; then outboxClear(). Only the first bytes of a
 * record can differ from what the core wrote (a view's address), so each
 * record is compared as a small normalised head and its raw rest. */
#include <assert.h>

#include "replay_int.h"

/* docs/ABI.md 5.1: u8 kind, u8 flags, u16 payload length, u32 a, u32 b,
 * then the payload padded to 4 bytes. */
#define RECORD_LEN_OFFSET 2u
#define PAD_TO 4u
/* Payload words of the records with a view (docs/ABI.md 5.1): ptr, len;
 * OUT_FLASH_READ adds handle and tag. */
#define VIEW_PTR_OFFSET 0u
#define VIEW_LEN_OFFSET 4u
#define READ_HANDLE_OFFSET 8u
#define READ_TAG_OFFSET 12u
#define VIEW_PAYLOAD_MIN_BYTES 8u
#define READ_PAYLOAD_MIN_BYTES 16u
/* The part of a record normalisation may change: header and 16 bytes. */
#define NORMAL_HEAD_BYTES (PFS_OUT_HEADER_BYTES + READ_PAYLOAD_MIN_BYTES)

typedef struct drain {
  uint32_t base, len;  /* the core's outbox [base, base + len) */
  uint32_t expected;   /* the trace's normalised outbox length */
  uint32_t pos;        /* bytes compared so far */
  uint32_t rec;        /* the record being compared, from 0 */
  uint8_t rec_kind;
} drain;

/* Compares the next n normalised bytes with the trace's, folds them. */
static status compare(replay *r, drain *d, const uint8_t *own, uint32_t n) {
  while (n > 0) {
    if (d->pos >= d->expected) {
      return replay_mismatch(r, "outbox is %u bytes, expected %u", (unsigned)d->len, (unsigned)d->expected);
    }
    uint32_t take = n;
    if (take > d->expected - d->pos) take = d->expected - d->pos;
    if (take > REPLAY_CHUNK_BYTES) take = REPLAY_CHUNK_BYTES;
    status s = body_read(r, r->chunk, take);
    if (s != PFS_REPLAY_OK) return s;
    for (uint32_t i = 0; i < take; i++) {
      if (r->chunk[i] != own[i]) {
        return replay_mismatch(r, "outbox byte %u (record %u, kind %u): expected 0x%02x, got 0x%02x",
                               (unsigned)(d->pos + i), (unsigned)d->rec, (unsigned)d->rec_kind,
                               (unsigned)r->chunk[i], (unsigned)own[i]);
      }
    }
    pfs_sha256_update(&r->digest, own, take);
    d->pos += take;
    own += take;
    n -= take;
  }
  return PFS_REPLAY_OK;
}

/* A view's address in normal form (docs/TRACE.md 3): the SHA-256 prefix
 * of its bytes, or 0 for a flash read, which is noted as pending. */
static status normalise_view(replay *r, drain *d, uint8_t *head, uint32_t plen) {
  uint8_t *payload = head + PFS_OUT_HEADER_BYTES;
  if (plen < VIEW_PAYLOAD_MIN_BYTES) {
    return replay_mismatch(r, "outbox record %u (kind %u): payload of %u bytes holds no view", (unsigned)d->rec,
                           (unsigned)d->rec_kind, (unsigned)plen);
  }
  uint32_t ptr = le_u32(payload + VIEW_PTR_OFFSET), vlen = le_u32(payload + VIEW_LEN_OFFSET);
  uint8_t *view = pfs_mem_span(&r->core, ptr, vlen);
  if (view == NULL) {
    return replay_mismatch(r, "outbox record %u (kind %u): view [%u, +%u) is outside memory", (unsigned)d->rec,
                           (unsigned)d->rec_kind, (unsigned)ptr, (unsigned)vlen);
  }
  if (d->rec_kind != PFS_OUT_FLASH_READ) {
    uint8_t tag[PFS_SHA256_DIGEST_BYTES];
    pfs_sha256(view, vlen, tag);
    for (unsigned i = 0; i < PFS_TRACE_VIEW_TAG_BYTES; i++) payload[VIEW_PTR_OFFSET + i] = tag[i];
    return PFS_REPLAY_OK;
  }
  if (plen < READ_PAYLOAD_MIN_BYTES) {
    return replay_mismatch(r, "outbox record %u: a flash read without handle and tag", (unsigned)d->rec);
  }
  put_le_u32(payload + VIEW_PTR_OFFSET, 0);
  return pending_note(r, le_i32(payload + READ_HANDLE_OFFSET), le_u32(payload + READ_TAG_OFFSET), ptr, vlen);
}

/* The record at offset `at` of the outbox; sets *next past it. */
static status one_record(replay *r, drain *d, const uint8_t *box, uint32_t at, uint32_t *next) {
  if (d->len - at < PFS_OUT_HEADER_BYTES) {
    return replay_mismatch(r, "outbox record %u at byte %u: header runs past the end (%u)", (unsigned)d->rec,
                           (unsigned)at, (unsigned)d->len);
  }
  uint8_t kind = box[at];
  uint32_t plen = (uint32_t)box[at + RECORD_LEN_OFFSET] | (uint32_t)box[at + RECORD_LEN_OFFSET + 1] << 8;
  uint32_t size = PFS_OUT_HEADER_BYTES + ((plen + PAD_TO - 1) & ~(PAD_TO - 1));
  if (d->len - at < size) {
    return replay_mismatch(r, "outbox record %u at byte %u: payload runs past the end", (unsigned)d->rec, (unsigned)at);
  }
  d->rec_kind = kind;
  uint8_t head[NORMAL_HEAD_BYTES];
  uint32_t head_n = size < NORMAL_HEAD_BYTES ? size : NORMAL_HEAD_BYTES;
  for (uint32_t i = 0; i < head_n; i++) head[i] = box[at + i];
  if (kind == PFS_OUT_FLASH_WRITE || kind == PFS_OUT_WRITE_REF || kind == PFS_OUT_FLASH_READ) {
    status s = normalise_view(r, d, head, plen);
    if (s != PFS_REPLAY_OK) return s;
  }
  status s = compare(r, d, head, head_n);
  if (s == PFS_REPLAY_OK) s = compare(r, d, box + at + head_n, size - head_n);
  *next = at + size;
  d->rec++;
  return s;
}

status replay_drain(replay *r) {
  drain d = {0};
  d.expected = r->body_left;
  int32_t len = pfs_outboxLen(&r->core);
  d.base = pfs_outboxPtr(&r->core);
  status s = replay_check_trap(r);
  if (s != PFS_REPLAY_OK) return s;
  d.len = (uint32_t)len;
  /* Valid until the next call into the core; the walk makes none. */
  const uint8_t *box = pfs_mem_span(&r->core, d.base, d.len);
  if (len < 0 || box == NULL) {
    return replay_mismatch(r, "outbox [%u, +%d) is outside memory", (unsigned)d.base, (int)len);
  }
  replay_fold_u32(r, PFS_T_DRAIN, d.len);
  for (uint32_t at = 0; at < d.len && s == PFS_REPLAY_OK;) s = one_record(r, &d, box, at, &at);
  if (s != PFS_REPLAY_OK) return s;
  assert(d.pos == d.len);
  if (d.expected != d.len) {
    return replay_mismatch(r, "outbox is %u bytes, expected %u", (unsigned)d.len, (unsigned)d.expected);
  }
  r->records += d.rec;
  pfs_outboxClear(&r->core);
  return replay_check_trap(r);
}
