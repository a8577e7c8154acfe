/* pfs-flash-tool: the C flash part (flash.h) from a command line, for
 * tests/host/native-phone-flash.test.ts. One process is one power-up at
 * most, as a phone's boot is. Prints what boots as `pfs flash ls --json`
 * does; one line on stderr and exit 1 on a failure, exit 2 on a bad
 * command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flash.h"

#define USAGE                                                                                          \
  "usage: pfs-flash-tool COMMAND IMAGE --layout SECTOR:SLOT:RECORDS [--load NAME] [--piece BYTES]\n"   \
  "                      [--out DIR] [FILE...]\n"                                                      \
  "  ls       what the next power-up boots, and each slot's state (JSON, as\n"                          \
  "           `pfs flash ls --json`); reads only\n"                                                     \
  "  boot     a power-up: what boots, programming the TRIED mark of a trial (JSON)\n"                  \
  "  confirm  a power-up, then the confirm of the trial it booted (JSON of what boots after)\n"        \
  "  write    an update of the slot that does not boot: the FILEs as load NAME, each\n"               \
  "           component written in pieces (--piece BYTES, default 16384), verified, committed\n"    \
  "           on trial (JSON of what boots after)\n"                                                   \
  "  format   a factory image: the FILEs as load NAME in slot A, committed confirmed;\n"              \
  "           makes IMAGE (sparse) if missing\n"                                                       \
  "  read     as write, and each component's transfer space (block list, then bytes) read\n"        \
  "           back with pfs_flash_read_at in pieces, before and after the commit, into\n"          \
  "           DIR/<name>.space (--out DIR); reads outside it must be refused\n"                    \
  "  --layout the board's \"flash\" figures: sectorBytes:slotBytes:bootRecordSectors\n"               \
  "           (boards/*.json), e.g. 4096:4194304:2\n"                                                  \
  "  a component's name is its FILE's name without the directory\n"

/* Sized for the figures a board can give (u32) and a load's components. */
typedef struct args {
  const char *cmd, *image, *load, *out;
  pfs_flash_layout layout;
  bool has_layout;
  uint32_t piece_bytes;
  const char *files[PFS_FLASH_MAX_COMPONENTS];
  uint32_t nfiles;
} args;

static int usage(const char *why) {
  fprintf(stderr, "pfs-flash-tool: %s\n%s", why, USAGE);
  return 2;
}

static void json_str(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void hex(const uint8_t *b, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
  putchar('"');
}

static void print_components(const pfs_flash_boot *b) {
  printf("\"components\":[");
  for (uint32_t i = 0; b->has_manifest && i < b->manifest.count; i++) {
    const pfs_flash_component *c = &b->manifest.components[i];
    printf("%s{\"name\":", i ? "," : "");
    json_str(c->name);
    printf(",\"sizeBytes\":%u,\"sha256\":", c->size_bytes);
    hex(c->sha256, sizeof c->sha256);
    printf(",\"listSha256\":");
    hex(c->list_sha256, sizeof c->list_sha256);
    printf(",\"verified\":%s,\"why\":", b->checks[i].ok ? "true" : "false");
    json_str(b->checks[i].why[0] ? b->checks[i].why : "not checked");
    putchar('}');
  }
  putchar(']');
}

static void print_slots(const pfs_flash_slot_state st[2]) {
  printf(",\"slots\":[");
  for (int s = 0; s < 2; s++) {
    printf("%s{\"slot\":\"%s\",\"state\":\"%s\",\"loadName\":", s ? "," : "", pfs_flash_slot_name(s),
           pfs_flash_state_name(st[s].state));
    if (st[s].has_manifest) json_str(st[s].load_name), printf(",\"seq\":%u", st[s].seq);
    else printf("null,\"seq\":null");
    if (st[s].has_record) printf(",\"recordSeq\":%u,\"why\":", st[s].record_seq);
    else printf(",\"recordSeq\":null,\"why\":");
    json_str(st[s].why);
    putchar('}');
  }
  putchar(']');
}

/* One JSON object, shaped as `pfs flash ls --json`, plus "onTrial": the
 * slot this process's power-up booted on trial, or null. */
static int print_boot(pfs_flash *f, const pfs_flash_boot *b) {
  pfs_flash_slot_state st[2];
  pfs_flash_slot_states(f, b, st);
  printf("{\"ok\":%s,\"slot\":", b->verified ? "true" : "false");
  if (b->slot < 0) printf("null");
  else printf("\"%s\"", pfs_flash_slot_name(b->slot));
  printf(",\"state\":%s,\"loadName\":", !b->verified ? "null" : b->trial ? "\"trial\"" : "\"active\"");
  if (b->has_manifest) json_str(b->manifest.load_name), printf(",\"seq\":%u", b->manifest.seq);
  else printf("null,\"seq\":null");
  if (b->has_record) printf(",\"recordSeq\":%u", b->record_seq);
  else printf(",\"recordSeq\":null");
  printf(",\"verified\":%s,\"onTrial\":", b->verified ? "true" : "false");
  if (pfs_flash_on_trial(f) < 0) printf("null");
  else printf("\"%s\"", pfs_flash_slot_name(pfs_flash_on_trial(f)));
  printf(",\"reason\":");
  json_str(b->reason);
  putchar(',');
  print_components(b);
  print_slots(st);
  printf("}\n");
  return b->verified ? 0 : 1;
}

static bool parse_u32(const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX || s[0] == '-') return false;
  *out = (uint32_t)v;
  return true;
}

static bool parse_layout(const char *s, args *a, pfs_err *err) {
  char buf[64];
  uint32_t v[3];
  if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf) return pfs_fail(err, "--layout: '%.40s' too long", s);
  char *save = NULL, *tok = strtok_r(buf, ":", &save);
  for (int i = 0; i < 3; i++, tok = strtok_r(NULL, ":", &save))
    if (tok == NULL || !parse_u32(tok, &v[i])) return pfs_fail(err, "--layout: '%s' is not SECTOR:SLOT:RECORDS", s);
  if (tok != NULL) return pfs_fail(err, "--layout: '%s' is not SECTOR:SLOT:RECORDS", s);
  a->has_layout = true;
  return pfs_flash_layout_make(&a->layout, v[0], v[1], v[2], err);
}

static bool parse_args(int argc, char **argv, args *a, pfs_err *err) {
  memset(a, 0, sizeof *a);
  a->piece_bytes = PFS_FLASH_BLOCK_BYTES;
  if (argc < 3) return pfs_fail(err, "a COMMAND and an IMAGE are needed");
  a->cmd = argv[1];
  a->image = argv[2];
  for (int i = 3; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--layout") == 0 && v != NULL) {
      if (!parse_layout(v, a, err)) return false;
      i++;
    } else if (strcmp(argv[i], "--load") == 0 && v != NULL) {
      a->load = v;
      i++;
    } else if (strcmp(argv[i], "--out") == 0 && v != NULL) {
      a->out = v;
      i++;
    } else if (strcmp(argv[i], "--piece") == 0 && v != NULL) {
      if (!parse_u32(v, &a->piece_bytes) || a->piece_bytes == 0) return pfs_fail(err, "--piece: '%s' is not a size", v);
      i++;
    } else if (argv[i][0] == '-') {
      return pfs_fail(err, "unknown option '%s' (or it lacks its value)", argv[i]);
    } else if (a->nfiles >= PFS_FLASH_MAX_COMPONENTS) {
      return pfs_fail(err, "at most %u FILEs: a load has at most %u components", PFS_FLASH_MAX_COMPONENTS,
                      PFS_FLASH_MAX_COMPONENTS);
    } else {
      a->files[a->nfiles++] = argv[i];
    }
  }
  if (!a->has_layout) return pfs_fail(err, "--layout SECTOR:SLOT:RECORDS is needed");
  if (strcmp(a->cmd, "read") == 0 && a->out == NULL) return pfs_fail(err, "read needs --out DIR");
  return true;
}

/* A whole file in memory (a component: at most 4 GiB, u32 in a manifest). */
static uint8_t *read_file(const char *path, uint32_t *size, pfs_err *err) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) return pfs_fail(err, "cannot open %s: %s", path, strerror(errno)), NULL;
  uint8_t *buf = NULL;
  if (fseek(fp, 0, SEEK_END) == 0) {
    long n = ftell(fp);
    if (n <= 0 || (unsigned long long)n > UINT32_MAX) pfs_fail(err, "%s: a component is 1 to 4294967295 bytes", path);
    else if ((buf = malloc((size_t)n)) == NULL) pfs_fail(err, "%s: out of memory", path);
    else if (fseek(fp, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
      pfs_fail(err, "cannot read %s", path);
      free(buf);
      buf = NULL;
    } else {
      *size = (uint32_t)n;
    }
  } else {
    pfs_fail(err, "cannot read %s: %s", path, strerror(errno));
  }
  fclose(fp);
  return buf;
}

typedef struct loaded {
  uint8_t *bytes[PFS_FLASH_MAX_COMPONENTS];
  uint8_t *list[PFS_FLASH_MAX_COMPONENTS];
  pfs_flash_new_component c[PFS_FLASH_MAX_COMPONENTS];
} loaded;

static void unload(loaded *l) {
  for (uint32_t i = 0; i < PFS_FLASH_MAX_COMPONENTS; i++) free(l->bytes[i]), free(l->list[i]);
}

static bool load_files(const args *a, loaded *l, pfs_err *err) {
  memset(l, 0, sizeof *l);
  if (a->load == NULL || a->nfiles == 0) return pfs_fail(err, "%s needs --load NAME and at least one FILE", a->cmd);
  for (uint32_t i = 0; i < a->nfiles; i++) {
    const char *slash = strrchr(a->files[i], '/');
    l->c[i].name = slash != NULL ? slash + 1 : a->files[i];
    if ((l->bytes[i] = read_file(a->files[i], &l->c[i].size_bytes, err)) == NULL) return false;
    if ((l->list[i] = malloc(pfs_flash_list_bytes_of(l->c[i].size_bytes))) == NULL) return pfs_fail(err, "out of memory");
    if (!pfs_flash_index_bytes(l->bytes[i], l->c[i].size_bytes, l->list[i], l->c[i].sha256, l->c[i].list_sha256, err))
      return false;
  }
  return true;
}

/* Each component's transfer space (list, then bytes) in pieces, as the
 * relay writes it; then each verified, then the commit. */
static bool write_load(pfs_flash *f, const args *a, const loaded *l, pfs_err *err) {
  for (uint32_t i = 0; i < a->nfiles; i++) {
    uint64_t list_bytes = pfs_flash_list_bytes_of(l->c[i].size_bytes), total = list_bytes + l->c[i].size_bytes;
    for (uint64_t at = 0; at < total;) {
      uint64_t n = total - at < a->piece_bytes ? total - at : a->piece_bytes;
      /* A piece does not straddle the list and the bytes: they are two buffers here. */
      if (at < list_bytes && at + n > list_bytes) n = list_bytes - at;
      const uint8_t *src = at < list_bytes ? l->list[i] + at : l->bytes[i] + (at - list_bytes);
      if (!pfs_flash_write_at(f, i, at, src, (size_t)n, err)) return false;
      at += n;
    }
  }
  for (uint32_t i = 0; i < a->nfiles; i++)
    if (!pfs_flash_verify(f, i, err)) return false;
  return pfs_flash_commit(f, err);
}

/* Component i's transfer space read back in pieces into buf (list_bytes +
 * size_bytes long). */
static bool read_space(pfs_flash *f, const args *a, uint32_t i, uint8_t *buf, uint64_t total, pfs_err *err) {
  for (uint64_t at = 0; at < total;) {
    uint64_t n = total - at < a->piece_bytes ? total - at : a->piece_bytes;
    if (!pfs_flash_read_at(f, i, at, buf + at, (size_t)n, err)) return false;
    at += n;
  }
  return true;
}

/* What must be refused: a byte past the transfer space, a span that runs
 * past it, a component the load does not have. */
static bool outside_refused(pfs_flash *f, uint32_t i, uint32_t count, uint64_t total, pfs_err *err) {
  uint8_t b[2];
  pfs_err why;
  if (pfs_flash_read_at(f, i, total, b, 1, &why) || pfs_flash_read_at(f, i, total - 1, b, 2, &why) ||
      pfs_flash_read_at(f, count, 0, b, 1, &why) || pfs_flash_read_at(f, i, UINT64_MAX, b, 2, &why))
    return pfs_fail(err, "component %u: a read outside its transfer space of %llu bytes was not refused", i,
                    (unsigned long long)total);
  return true;
}

/* DIR/<name>.space: what was read back. */
static bool write_space(const char *dir, const char *name, const uint8_t *bytes, uint64_t n, pfs_err *err) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s.space", dir, name) >= (int)sizeof path)
    return pfs_fail(err, "--out %.200s: path too long", dir);
  FILE *fp = fopen(path, "wb");
  if (fp == NULL) return pfs_fail(err, "cannot write %s: %s", path, strerror(errno));
  bool ok = fwrite(bytes, 1, (size_t)n, fp) == n;
  ok = fclose(fp) == 0 && ok;
  return ok || pfs_fail(err, "cannot write %s", path);
}

static uint64_t space_bytes(const pfs_flash_new_component *c) {
  return (uint64_t)pfs_flash_list_bytes_of(c->size_bytes) + c->size_bytes;
}

/* `read`: each component written whole and read back while the update is
 * open (the core serves its peers from it), verified, committed, read back
 * again (a phone lingers serving), the two reads the same. */
static bool read_back(pfs_flash *f, const args *a, const loaded *l, pfs_err *err) {
  uint8_t *before[PFS_FLASH_MAX_COMPONENTS] = { 0 }, *after[PFS_FLASH_MAX_COMPONENTS] = { 0 };
  bool ok = true;
  for (uint32_t i = 0; ok && i < a->nfiles; i++) {
    uint64_t list_bytes = pfs_flash_list_bytes_of(l->c[i].size_bytes), total = space_bytes(&l->c[i]);
    ok = ((before[i] = malloc((size_t)total)) != NULL && (after[i] = malloc((size_t)total)) != NULL) ||
         pfs_fail(err, "out of memory");
    ok = ok && pfs_flash_write_at(f, i, 0, l->list[i], (size_t)list_bytes, err) &&
         pfs_flash_write_at(f, i, list_bytes, l->bytes[i], l->c[i].size_bytes, err) &&
         read_space(f, a, i, before[i], total, err) && outside_refused(f, i, a->nfiles, total, err);
  }
  for (uint32_t i = 0; ok && i < a->nfiles; i++) ok = pfs_flash_verify(f, i, err);
  ok = ok && pfs_flash_commit(f, err);
  for (uint32_t i = 0; ok && i < a->nfiles; i++) {
    uint64_t total = space_bytes(&l->c[i]);
    ok = read_space(f, a, i, after[i], total, err);
    if (ok && memcmp(after[i], before[i], (size_t)total) != 0)
      ok = pfs_fail(err, "%s: reads back otherwise after the commit than before it", l->c[i].name);
    ok = ok && write_space(a->out, l->c[i].name, after[i], total, err);
  }
  for (uint32_t i = 0; i < a->nfiles; i++) free(before[i]), free(after[i]);
  return ok;
}

static bool run(const args *a, pfs_flash *f, pfs_flash_boot *b, pfs_err *err) {
  if (strcmp(a->cmd, "ls") == 0) {
    pfs_flash_boot_scan(f, b);
    return true;
  }
  if (strcmp(a->cmd, "boot") == 0) {
    pfs_flash_power_up(f, b);
    return true;
  }
  if (strcmp(a->cmd, "confirm") == 0) {
    pfs_flash_power_up(f, b);
    if (pfs_flash_on_trial(f) < 0)
      return pfs_fail(err, "%s: no trial to confirm (%s)", a->image, b->verified ? "the power-up boots a confirmed load" : b->reason);
    return pfs_flash_confirm(f, b, err);
  }
  loaded l;
  bool ok = load_files(a, &l, err);
  bool update = strcmp(a->cmd, "format") != 0;
  if (ok && update) ok = pfs_flash_begin_update(f, a->load, l.c, a->nfiles, err);
  else if (ok) ok = pfs_flash_begin_format(f, a->load, l.c, a->nfiles, err);
  ok = ok && (strcmp(a->cmd, "read") == 0 ? read_back(f, a, &l, err) : write_load(f, a, &l, err));
  unload(&l);
  if (ok) pfs_flash_boot_scan(f, b);
  return ok;
}

int main(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) return fputs(USAGE, stdout), 0;
  pfs_err err = { "" };
  args a;
  if (!parse_args(argc, argv, &a, &err)) return usage(err.text);
  const char *cmds[] = { "ls", "boot", "confirm", "write", "format", "read" };
  bool known = false;
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) known = known || strcmp(a.cmd, cmds[i]) == 0;
  if (!known) return usage("unknown COMMAND");
  bool make = strcmp(a.cmd, "format") == 0 && access(a.image, F_OK) != 0;
  pfs_flash *f = make ? pfs_flash_create(a.image, &a.layout, &err) : pfs_flash_open(a.image, &a.layout, &err);
  if (f == NULL) return fprintf(stderr, "pfs-flash-tool: %s\n", err.text), 1;
  static pfs_flash_boot b; /* 14 KiB: off the stack */
  bool ok = run(&a, f, &b, &err);
  int code = ok ? print_boot(f, &b) : 1;
  if (!pfs_flash_close(f, ok ? &err : NULL) && ok) ok = false, code = 1;
  if (!ok) fprintf(stderr, "pfs-flash-tool: %s\n", err.text);
  else if (code != 0) fprintf(stderr, "pfs-flash-tool: %s: no verified load: %s\n", a.image, b.reason);
  return code;
}
