/* What the boot loader chooses at power-up, reading only (host/flash/boot.ts,
 * verify.ts, slot-state.ts; docs/FLASH.md "Boot"): the newest valid record
 * whose slot holds exactly the manifest it names with every component
 * verified, passing over a trial booted once and never confirmed; else a
 * slot whose own manifest verifies, newest first, a reverted trial last. A
 * read that does not decode or match its hash is read again, up to
 * PFS_FLASH_MAX_ATTEMPTS; one that keeps failing is "not there". */
#include <stdio.h>
#include <string.h>

#include "flash_impl.h"

/* A why-text cut to fit its field is still the reason, shortened. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* A mark that cannot be read counts as set: toward the old load. */
static bool mark_at(pfs_flash *f, uint64_t at) {
  uint8_t m[PFS_FLASH_MARK_BYTES];
  if (!pfs_dev_read(f, at, m, sizeof m, NULL)) return true;
  return pfs_mark_set(m);
}

static void read_record(pfs_flash *f, uint32_t sector, bool skip_trials, pfs_rec *r) {
  uint64_t at = (uint64_t)sector * f->layout.sector_bytes;
  uint8_t in[PFS_FLASH_RECORD_BYTES];
  pfs_err err;
  memset(r, 0, sizeof *r);
  r->sector = sector;
  r->state = REC_NONE;
  bool ok = false;
  for (unsigned n = 0; n < PFS_FLASH_MAX_ATTEMPTS && !ok; n++) {
    if (!pfs_dev_read(f, at, in, sizeof in, &err)) {
      snprintf(r->why, sizeof r->why, "%s", err.text);
      continue;
    }
    ok = pfs_decode_record(f->md, in, r);
  }
  if (!ok) return;
  snprintf(r->why, sizeof r->why, "valid");
  if (!r->trial || mark_at(f, at + PFS_FLASH_CONFIRMED_AT)) {
    r->state = REC_CONFIRMED;
  } else if (mark_at(f, at + PFS_FLASH_TRIED_AT)) {
    r->state = REC_REVERTED;
    snprintf(r->why, sizeof r->why, "booted once and never confirmed (reverted)");
  } else if (skip_trials) {
    r->state = REC_REVERTED;
    snprintf(r->why, sizeof r->why, "not booted: its TRIED mark does not take, so its trial could not be undone");
  } else {
    r->state = REC_TRIAL;
  }
}

void pfs_read_records(pfs_flash *f, bool skip_trials, pfs_rec out[PFS_FLASH_MAX_RECORD_SECTORS]) {
  for (uint32_t i = 0; i < f->layout.record_sectors; i++) read_record(f, i, skip_trials, &out[i]);
}

void pfs_read_manifest(pfs_flash *f, int slot, pfs_slot_manifest *out) {
  uint8_t in[PFS_FLASH_MAX_MANIFEST_BYTES];
  pfs_err err;
  memset(out, 0, sizeof *out);
  snprintf(out->why, sizeof out->why, "not read");
  for (unsigned n = 0; n < PFS_FLASH_MAX_ATTEMPTS; n++) {
    /* The manifest's sectors always hold the largest manifest (layout). */
    if (!pfs_dev_read(f, pfs_slot_start(&f->layout, slot), in, sizeof in, &err)) {
      memset(out, 0, sizeof *out);
      snprintf(out->why, sizeof out->why, "%s", err.text);
      continue;
    }
    if (pfs_decode_manifest(f->md, &f->layout, in, sizeof in, out)) return;
  }
}

/* The bytes at `at` if one of up to MAX_ATTEMPTS reads hashes to `want`. */
static bool read_matching(pfs_flash *f, uint64_t at, uint8_t *out, size_t n, const uint8_t *want, pfs_err *err) {
  uint8_t h[PFS_FLASH_HASH_BYTES];
  for (unsigned i = 0; i < PFS_FLASH_MAX_ATTEMPTS; i++) {
    if (!pfs_dev_read(f, at, out, n, err)) return false;
    if (pfs_flash_sha256(f->md, out, n, h) && memcmp(h, want, sizeof h) == 0) return true;
  }
  return pfs_fail(err, "no match");
}

static void check_reads(pfs_flash *f, uint64_t start, const pfs_flash_component *c, pfs_flash_check *out) {
  pfs_err err;
  out->ok = false;
  if (!read_matching(f, start, f->list, c->list_bytes, c->list_sha256, &err)) {
    snprintf(out->why, sizeof out->why, "%s", strcmp(err.text, "no match") == 0 ? "block list does not match its SHA-256" : err.text);
    return;
  }
  EVP_DigestInit_ex(f->md_whole, EVP_sha256(), NULL);
  for (uint32_t k = 0; (uint64_t)k * PFS_FLASH_BLOCK_BYTES < c->size_bytes; k++) {
    uint32_t done = k * PFS_FLASH_BLOCK_BYTES;
    uint32_t n = c->size_bytes - done < PFS_FLASH_BLOCK_BYTES ? c->size_bytes - done : PFS_FLASH_BLOCK_BYTES;
    if (!read_matching(f, start + c->list_bytes + done, f->a, n, f->list + (size_t)k * PFS_FLASH_HASH_BYTES, &err)) {
      if (strcmp(err.text, "no match") == 0) snprintf(out->why, sizeof out->why, "block %u does not match the block list", k);
      else snprintf(out->why, sizeof out->why, "%s", err.text);
      return;
    }
    EVP_DigestUpdate(f->md_whole, f->a, n);
  }
  uint8_t h[PFS_FLASH_HASH_BYTES];
  EVP_DigestFinal_ex(f->md_whole, h, NULL);
  if (memcmp(h, c->sha256, sizeof h) != 0) {
    snprintf(out->why, sizeof out->why, "content does not match its SHA-256");
    return;
  }
  out->ok = true;
  snprintf(out->why, sizeof out->why, "verified");
}

void pfs_check_component(pfs_flash *f, int slot, const pfs_flash_component *c, pfs_flash_check *out) {
  check_reads(f, pfs_slot_start(&f->layout, slot) + c->offset_bytes, c, out);
}

/* One boot scan's tables: records, manifests, each slot's checks (read at
 * most once per scan), and what was passed over. */
typedef struct scan {
  pfs_rec recs[PFS_FLASH_MAX_RECORD_SECTORS];
  uint32_t order[PFS_FLASH_MAX_RECORD_SECTORS]; /* valid records, newest first */
  uint32_t valid;
  pfs_slot_manifest man[2];
  bool checked[2];
  pfs_flash_check checks[2][PFS_FLASH_MAX_COMPONENTS];
  char passed[PFS_FLASH_REASON_BYTES];
} scan;

static void pass(scan *s, const char *text) {
  if (s->passed[0] != '\0') pfs_append(s->passed, sizeof s->passed, "; ");
  pfs_append(s->passed, sizeof s->passed, "%s", text);
}

/* The first component of slot `sl` that does not verify; -1 if all do. */
static int first_bad(pfs_flash *f, scan *s, int sl) {
  const pfs_flash_manifest *m = &s->man[sl].m;
  if (!s->checked[sl]) {
    for (uint32_t i = 0; i < m->count; i++) pfs_check_component(f, sl, &m->components[i], &s->checks[sl][i]);
    s->checked[sl] = true;
  }
  for (uint32_t i = 0; i < m->count; i++)
    if (!s->checks[sl][i].ok) return (int)i;
  return -1;
}

static void result(scan *s, int sl, const pfs_rec *r, bool verified, const char *why, pfs_flash_boot *out) {
  memset(out, 0, sizeof *out);
  out->slot = sl;
  out->verified = verified;
  out->has_record = r != NULL;
  out->record_seq = r != NULL ? r->seq : 0;
  out->trial = verified && r != NULL && r->state == REC_TRIAL;
  if (sl >= 0 && s->man[sl].ok) {
    out->has_manifest = true;
    out->manifest = s->man[sl].m;
    if (s->checked[sl]) memcpy(out->checks, s->checks[sl], sizeof out->checks);
  }
  snprintf(out->reason, sizeof out->reason, "%s", why);
  if (s->passed[0] != '\0') pfs_append(out->reason, sizeof out->reason, "%s%s", verified ? "; passed over: " : ": ", s->passed);
}

static void sort_valid(scan *s, uint32_t count) {
  s->valid = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (s->recs[i].state == REC_NONE) continue;
    uint32_t j = s->valid++;
    /* Insertion: seq descending, then sector ascending (sectors come in order). */
    while (j > 0 && s->recs[s->order[j - 1]].seq < s->recs[i].seq) {
      s->order[j] = s->order[j - 1];
      j--;
    }
    s->order[j] = i;
  }
}

/* Step 2: the newest record whose slot holds the manifest it names, every
 * component verified, passing over reverted trials. */
static const pfs_rec *by_record(pfs_flash *f, scan *s, char *why, size_t why_size) {
  char line[PFS_FLASH_REASON_BYTES / 2];
  for (uint32_t k = 0; k < s->valid; k++) {
    const pfs_rec *r = &s->recs[s->order[k]];
    const pfs_slot_manifest *m = &s->man[r->slot];
    snprintf(line, sizeof line, "boot record %u (sector %u) names slot %s%s", r->seq, r->sector,
             pfs_flash_slot_name(r->slot), r->state == REC_TRIAL || r->state == REC_REVERTED ? " on trial" : "");
    if (r->state == REC_REVERTED) {
      pfs_append(line, sizeof line, ": %s", r->why);
    } else if (!m->ok) {
      pfs_append(line, sizeof line, ": %s", m->why);
    } else if (memcmp(m->sha256, r->manifest_sha256, PFS_FLASH_HASH_BYTES) != 0) {
      pfs_append(line, sizeof line, ", which now holds another manifest");
    } else {
      int bad = first_bad(f, s, r->slot);
      if (bad < 0) {
        snprintf(why, why_size, "%s; every component verifies", line);
        return r;
      }
      pfs_append(line, sizeof line, ": %s: %s", m->m.components[bad].name, s->checks[r->slot][bad].why);
    }
    pass(s, line);
  }
  return NULL;
}

/* Whether a valid record names slot `sl` (reverted only: a reverted trial
 * of exactly the manifest the slot holds). */
static bool named(const scan *s, int sl, bool reverted_only) {
  for (uint32_t k = 0; k < s->valid; k++) {
    const pfs_rec *r = &s->recs[s->order[k]];
    if (r->slot != sl) continue;
    if (!reverted_only) return true;
    if (r->state == REC_REVERTED && s->man[sl].ok && memcmp(s->man[sl].sha256, r->manifest_sha256, PFS_FLASH_HASH_BYTES) == 0)
      return true;
  }
  return false;
}

/* Step 3: a slot's own manifest, a reverted trial last, then the highest
 * manifest sequence number; -1 if none verifies. */
static int by_manifest(pfs_flash *f, scan *s) {
  int64_t rank[2];
  for (int sl = 0; sl < 2; sl++)
    rank[sl] = (named(s, sl, true) ? 0 : (int64_t)1 << 32) + (s->man[sl].ok ? (int64_t)s->man[sl].m.seq : -1);
  int first = rank[1] > rank[0] ? 1 : 0;
  char line[PFS_FLASH_REASON_BYTES / 2];
  for (int k = 0; k < 2; k++) {
    int sl = k == 0 ? first : 1 - first;
    if (!s->man[sl].ok) {
      snprintf(line, sizeof line, "slot %s: %s", pfs_flash_slot_name(sl), s->man[sl].why);
      if (!named(s, sl, false)) pass(s, line);
      continue;
    }
    int bad = first_bad(f, s, sl);
    if (bad < 0) return sl;
    snprintf(line, sizeof line, "slot %s (seq %u): %s: %s", pfs_flash_slot_name(sl), s->man[sl].m.seq,
             s->man[sl].m.components[bad].name, s->checks[sl][bad].why);
    if (!named(s, sl, false)) pass(s, line);
  }
  return -1;
}

void pfs_scan(pfs_flash *f, bool skip_trials, pfs_flash_boot *out) {
  /* About 10 KiB: kept off a small stack; the part is single-threaded and a
   * scan never runs inside another. */
  static scan s;
  memset(&s, 0, sizeof s);
  pfs_read_records(f, skip_trials, s.recs);
  sort_valid(&s, f->layout.record_sectors);
  uint64_t top = 0;
  for (int sl = 0; sl < 2; sl++) {
    pfs_read_manifest(f, sl, &s.man[sl]);
    if (s.man[sl].ok && s.man[sl].m.seq > top) top = s.man[sl].m.seq;
  }
  if (s.valid > 0 && s.recs[s.order[0]].seq > top) top = s.recs[s.order[0]].seq;
  f->next_seq = top + 1;
  f->keep_sector = -1;
  char why[PFS_FLASH_REASON_BYTES / 2];
  const pfs_rec *r = by_record(f, &s, why, sizeof why);
  if (r != NULL) {
    f->keep_sector = r->sector;
    result(&s, r->slot, r, true, why, out);
    return;
  }
  int sl = by_manifest(f, &s);
  if (sl >= 0) {
    snprintf(why, sizeof why, "no boot record names a verified load; slot %s's own manifest (seq %u) verifies",
             pfs_flash_slot_name(sl), s.man[sl].m.seq);
    result(&s, sl, NULL, true, why, out);
    return;
  }
  if (s.valid == 0) {
    char line[PFS_FLASH_REASON_BYTES / 2] = "no valid boot record (";
    for (uint32_t i = 0; i < f->layout.record_sectors; i++)
      pfs_append(line, sizeof line, "%ssector %u: %s", i == 0 ? "" : ", ", i, s.recs[i].why);
    pfs_append(line, sizeof line, ")");
    char rest[PFS_FLASH_REASON_BYTES];
    snprintf(rest, sizeof rest, "%s", s.passed);
    snprintf(s.passed, sizeof s.passed, "%s%s%s", line, rest[0] != '\0' ? "; " : "", rest);
  }
  const pfs_rec *newest = s.valid > 0 ? &s.recs[s.order[0]] : NULL;
  int slot = newest != NULL ? newest->slot : -1;
  if (slot >= 0 && s.man[slot].ok) first_bad(f, &s, slot);
  result(&s, slot, newest, false, "no slot holds a verified load", out);
}

/* host/flash/slot-state.ts: one slot's state from the image alone. */
static void slot_state(pfs_flash *f, const pfs_flash_boot *boot, const pfs_rec *recs, int sl, pfs_flash_slot_state *o) {
  pfs_slot_manifest m;
  pfs_read_manifest(f, sl, &m);
  memset(o, 0, sizeof *o);
  if (!m.ok) {
    o->state = PFS_FLASH_EMPTY;
    snprintf(o->why, sizeof o->why, "%s", m.why);
    return;
  }
  o->has_manifest = true;
  snprintf(o->load_name, sizeof o->load_name, "%s", m.m.load_name);
  o->seq = m.m.seq;
  const pfs_rec *r = NULL; /* the newest valid record naming this manifest */
  for (uint32_t i = 0; i < f->layout.record_sectors; i++) {
    const pfs_rec *x = &recs[i];
    if (x->state == REC_NONE || x->slot != sl || memcmp(x->manifest_sha256, m.sha256, PFS_FLASH_HASH_BYTES) != 0) continue;
    if (r == NULL || x->seq > r->seq) r = x;
  }
  o->has_record = r != NULL;
  o->record_seq = r != NULL ? r->seq : 0;
  if (boot->verified && boot->slot == sl) {
    o->has_record = boot->has_record;
    o->record_seq = boot->record_seq;
    o->state = boot->trial ? PFS_FLASH_TRIAL : PFS_FLASH_ACTIVE;
    snprintf(o->why, sizeof o->why, "%s", boot->trial ? "the next power-up boots it once, on trial" : "the next power-up boots it");
    return;
  }
  o->state = PFS_FLASH_BAD;
  for (uint32_t i = 0; i < m.m.count; i++) {
    pfs_flash_check c;
    pfs_check_component(f, sl, &m.m.components[i], &c);
    if (!c.ok) {
      snprintf(o->why, sizeof o->why, "%s: %s", m.m.components[i].name, c.why);
      return;
    }
  }
  if (r == NULL) snprintf(o->why, sizeof o->why, "verifies, but no boot record commits it (an update that did not finish)");
  else if (r->state == REC_REVERTED) snprintf(o->why, sizeof o->why, "booted once on trial (record %u) and never confirmed: reverted", r->seq);
  else if (r->state == REC_TRIAL) snprintf(o->why, sizeof o->why, "on trial (record %u), but a newer record boots", r->seq);
  else {
    o->state = PFS_FLASH_CONFIRMED;
    snprintf(o->why, sizeof o->why, "confirmed; the other slot boots");
  }
}

void pfs_flash_slot_states(pfs_flash *f, const pfs_flash_boot *boot, pfs_flash_slot_state out[2]) {
  pfs_rec recs[PFS_FLASH_MAX_RECORD_SECTORS];
  pfs_read_records(f, false, recs);
  for (int sl = 0; sl < 2; sl++) slot_state(f, boot, recs, sl, &out[sl]);
}
