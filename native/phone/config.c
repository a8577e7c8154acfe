/* SEP<MAC>.cnf.xml and XMLDefault.cnf.xml read with expat, to the same
 * decisions and values as host/load/config.ts (docs/LOADS.md,
 * "Configuration files"). expat streams the document through callbacks; we
 * keep only the few elements a phone uses, each in a bounded buffer, and
 * check their values when they close. Errors in values wait until the XML
 * is known to be well formed, so that, as in config.ts, a file that is not
 * XML is reported as such first. */
#include "config.h"

#include <expat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes kept of one element's text after its leading white space: a load
 * name and ".loads", or a host and a port, with room to spare. A longer
 * value is refused: none of the fields we read can be that long. */
#define FIELD_BYTES_MAX 512u
/* Element names kept for the "still open" message of a file cut short;
 * deeper elements are counted, not named. */
#define OPEN_NAMES_KEPT 8u
#define OPEN_NAME_CHARS_MAX 63u
/* "loadInformation" and 1 to 6 digits (config.ts /^loadInformation(\d{1,6})$/). */
#define DEFAULT_PREFIX "loadInformation"
#define TYPE_DIGITS_MAX 6u

typedef enum { DOC_DEVICE, DOC_DEFAULT } doc_kind;

/* One element's direct text, trimmed as JavaScript's String.trim() does. */
typedef struct field {
  char text[FIELD_BYTES_MAX + 1];
  size_t len;         /* bytes kept, trailing white space included */
  size_t content_len; /* up to the last non-space character */
  bool dropped_space; /* white space that did not fit */
  bool overflow;      /* non-space text that did not fit */
} field;

/* What is being read: which element of ours is open, at which depth. */
typedef enum { F_NONE, F_LOAD, F_VENDOR, F_PFS, F_SERVER, F_LOG_SERVER, F_DEFAULT } field_kind;

typedef struct parse_state {
  XML_Parser xml;
  doc_kind kind;
  const char *file;
  pfs_err *err;
  const uint8_t *input;
  size_t input_len;
  bool failed;  /* err holds a refusal that stops the parse */
  bool sem_bad; /* sem holds the first error in a value */
  pfs_err sem;
  uint32_t depth;
  char open[OPEN_NAMES_KEPT][OPEN_NAME_CHARS_MAX + 1];
  field_kind cur;
  uint32_t cur_depth;
  bool cur_children;
  bool cur_attrs;
  field f;
  /* SEP: how often each element was seen; vendorConfig's own text. */
  unsigned seen_load, seen_vendor, seen_pfs, seen_server, seen_log_server;
  uint32_t vendor_depth; /* 0: no <vendorConfig> open */
  bool vendor_children, vendor_attrs, vendor_text;
  pfs_device_config *device;
  /* XMLDefault: every entry name seen (empty ones too), and the current one. */
  size_t names_seen;
  char names[PFS_DEFAULT_LOADS_MAX][TYPE_DIGITS_MAX + 1];
  char cur_digits[TYPE_DIGITS_MAX + 1];
  bool cur_has_model;
  char cur_model[PFS_XML_MODEL_CHARS_MAX + 1];
  bool cur_model_long;
  pfs_default_config *defaults;
} parse_state;

/* ------------------------------------------------------------ text */

/* JavaScript's white space (ECMA-262 WhiteSpace and LineTerminator), which
 * String.trim() removes and fast-xml-parser's trimValues uses. */
static bool is_js_space(uint32_t cp) {
  if (cp == 0x09 || cp == 0x0a || cp == 0x0b || cp == 0x0c || cp == 0x0d || cp == 0x20) return true;
  if (cp == 0xa0 || cp == 0x1680 || cp == 0x2028 || cp == 0x2029 || cp == 0x202f) return true;
  if (cp == 0x205f || cp == 0x3000 || cp == 0xfeff) return true;
  return cp >= 0x2000 && cp <= 0x200a;
}

/* Length of the valid UTF-8 character at s (at most n bytes) and its code
 * point, or 0 when it is not one (overlong, surrogate, past U+10FFFF): the
 * checks of a fatal TextDecoder (WHATWG Encoding, "UTF-8 decoder"). */
static size_t utf8_char(const uint8_t *s, size_t n, uint32_t *cp) {
  uint8_t b = s[0];
  size_t need;
  uint32_t lo = 0x80, hi = 0xbf, v;
  if (b < 0x80) { *cp = b; return 1; }
  if (b >= 0xc2 && b <= 0xdf) { need = 1; v = b & 0x1fu; }
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2; v = b & 0x0fu;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3; v = b & 0x07u;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else return 0;
  if (n < need + 1) return 0;
  for (size_t i = 1; i <= need; i++) {
    if (s[i] < lo || s[i] > hi) return 0;
    lo = 0x80; hi = 0xbf;
    v = (v << 6) | (s[i] & 0x3fu);
  }
  *cp = v;
  return need + 1;
}

static bool valid_utf8(const uint8_t *s, size_t n) {
  uint32_t cp;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_char(s, n - i, &cp);
    if (k == 0) return false;
    s += k;
    i += k;
  }
  return true;
}

static void field_reset(field *f) { memset(f, 0, sizeof *f); }

/* Appends text (whole UTF-8 characters, as expat delivers them), skipping
 * leading white space and remembering where the last non-space ends. */
static void field_add(field *f, const char *s, size_t n) {
  const uint8_t *p = (const uint8_t *)s;
  while (n > 0) {
    uint32_t cp;
    size_t k = utf8_char(p, n, &cp);
    if (k == 0) k = 1, cp = 0xfffd; /* expat hands us UTF-8; be safe anyway */
    bool space = is_js_space(cp);
    if (!(space && f->len == 0)) {
      if (f->len + k <= FIELD_BYTES_MAX) {
        if (!space && f->dropped_space) f->overflow = true;
        memcpy(f->text + f->len, p, k);
        f->len += k;
        if (!space) f->content_len = f->len;
      } else if (space) {
        f->dropped_space = true;
      } else {
        f->overflow = true;
      }
    }
    p += k;
    n -= k;
  }
  f->text[f->content_len] = '\0';
}

/* ASCII only, whatever the locale: the rules below are config.ts's regexes. */
static bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* config.ts /^[A-Za-z0-9][A-Za-z0-9._+-]*$/, within our bound. */
static bool is_load_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > PFS_LOAD_NAME_CHARS_MAX || !is_alnum(s[0])) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!(is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-')) return false;
  }
  return true;
}

/* normalizeLoadName: trimmed (already, by the field), ".loads" dropped
 * whatever its case. Writes into out (PFS_LOAD_NAME_CHARS_MAX + 1). */
static bool normalize_load(const char *text, char *out) {
  size_t n = strlen(text);
  const size_t suffix = sizeof ".loads" - 1;
  if (n >= suffix && strcasecmp(text + n - suffix, ".loads") == 0) n -= suffix;
  if (n > PFS_LOAD_NAME_CHARS_MAX) return false;
  memcpy(out, text, n);
  out[n] = '\0';
  return is_load_name(out);
}

/* ------------------------------------------------------------ load server */

/* One label of config.ts's host rule: a letter or digit, then up to 62
 * letters, digits or '-'. Returns its length, 0 when there is none. */
static size_t host_label(const char *s, size_t n) {
  if (n == 0 || !is_alnum(s[0])) return 0;
  size_t i = 1;
  while (i < n && i < 63 && (is_alnum(s[i]) || s[i] == '-')) i++;
  return i;
}

/* config.ts's host name rule: labels joined by '.', an optional final '.'. */
static bool is_host_name(const char *s, size_t n) {
  size_t i = host_label(s, n);
  if (i == 0) return false;
  while (i < n) {
    if (s[i] != '.') return false;
    if (i + 1 == n) return true;
    size_t k = host_label(s + i + 1, n - i - 1);
    if (k == 0) return false;
    i += 1 + k;
  }
  return true;
}

static bool is_v6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* parseLoadServer: `host`, `host:port` or `[IPv6]` with an optional port. */
static bool parse_load_server(const char *s, pfs_load_server *out, pfs_err *err, const char *where) {
  size_t n = strlen(s), host_len = 0;
  const char *host = s, *port = NULL;
  size_t close = 0;
  if (s[0] == '[') {
    while (close + 1 < n && is_v6_char(s[close + 1])) close++;
    close++;
  }
  bool v6 = s[0] == '[' && close > 1 && close < n && s[close] == ']' && (close + 1 == n || s[close + 1] == ':');
  if (v6) {
    host = s + 1;
    host_len = close - 1;
    if (close + 1 < n) port = s + close + 2;
    if (port != NULL && strchr(port, '\n') != NULL) v6 = false; /* '.' in the regex stops at a line feed */
  }
  if (!v6) {
    const char *colon = strchr(s, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL)
      return pfs_fail(err, "%s: '%.60s' is not host or host:port (write an IPv6 address in brackets: [2001:db8::1]:69)", where, s);
    host = s;
    host_len = colon == NULL ? n : (size_t)(colon - s);
    port = colon == NULL ? NULL : colon + 1;
    if (!is_host_name(host, host_len)) return pfs_fail(err, "%s: '%.*s' is not a host name or IPv4 address", where, (int)(host_len > 60 ? 60 : host_len), host);
  }
  if (host_len > PFS_HOST_CHARS_MAX) return pfs_fail(err, "%s: the host name is %zu characters; at most %u", where, host_len, PFS_HOST_CHARS_MAX);
  memcpy(out->host, host, host_len);
  out->host[host_len] = '\0';
  out->port = 0;
  out->set = true;
  if (port == NULL) return true;
  size_t digits = strlen(port);
  unsigned long value = 0;
  bool ok = digits >= 1 && digits <= 5;
  for (size_t i = 0; ok && i < digits; i++) {
    ok = is_digit(port[i]);
    value = value * 10 + (unsigned long)(port[i] - '0');
  }
  if (!ok || value < 1 || value > 65535) return pfs_fail(err, "%s: port '%.20s' must be a number from 1 to 65535", where, port);
  out->port = (uint16_t)value;
  return true;
}

/* ------------------------------------------------------------ expat callbacks */

/* The first error in a value; reported only once the XML is well formed. */
static void value_error(parse_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void value_error(parse_state *st, const char *fmt, ...) {
  if (st->sem_bad) return;
  st->sem_bad = true;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->sem.text, sizeof st->sem.text, fmt, ap);
  va_end(ap);
}

/* A refusal that stops the parse at once (a DTD, an external entity). */
static void refuse(parse_state *st, const char *what) {
  if (!st->failed) pfs_fail(st->err, "%s: holds %s; a configuration file has no DTD or entities, so it is refused", st->file, what);
  st->failed = true;
  XML_StopParser(st->xml, XML_FALSE);
}

static void begin_field(parse_state *st, field_kind kind, const XML_Char **attrs) {
  st->cur = kind;
  st->cur_depth = st->depth;
  st->cur_children = false;
  st->cur_attrs = attrs[0] != NULL;
  field_reset(&st->f);
}

/* The digits of <loadInformationNNN>, or false for any other name. */
static bool default_digits(const char *name, char *digits) {
  const size_t p = sizeof DEFAULT_PREFIX - 1;
  if (strncmp(name, DEFAULT_PREFIX, p) != 0) return false;
  size_t n = strlen(name + p);
  if (n < 1 || n > TYPE_DIGITS_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (!is_digit(name[p + i])) return false;
  memcpy(digits, name + p, n + 1);
  return true;
}

static void begin_default(parse_state *st, const XML_Char *name, const XML_Char **attrs) {
  char digits[TYPE_DIGITS_MAX + 1];
  if (!default_digits(name, digits)) return;
  begin_field(st, F_DEFAULT, attrs);
  memcpy(st->cur_digits, digits, sizeof digits);
  st->cur_has_model = false;
  st->cur_model_long = false;
  st->cur_model[0] = '\0';
  for (size_t i = 0; attrs[i] != NULL; i += 2) {
    if (strcmp(attrs[i], "model") != 0) continue;
    field trimmed;
    field_reset(&trimmed);
    field_add(&trimmed, attrs[i + 1], strlen(attrs[i + 1]));
    st->cur_has_model = true;
    st->cur_model_long = trimmed.overflow || trimmed.content_len > PFS_XML_MODEL_CHARS_MAX;
    if (!st->cur_model_long) memcpy(st->cur_model, trimmed.text, trimmed.content_len + 1);
  }
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs) {
  parse_state *st = ud;
  st->depth++;
  if (st->depth <= OPEN_NAMES_KEPT) snprintf(st->open[st->depth - 1], sizeof st->open[0], "%s", name);
  const char *root = st->kind == DOC_DEVICE ? "device" : "Default";
  if (st->depth == 1) {
    if (strcmp(name, root) != 0) value_error(st, "%s: the root element is <%.60s>; expected <%s>", st->file, name, root);
    return;
  }
  if (st->cur != F_NONE && st->depth == st->cur_depth + 1) st->cur_children = true;
  if (st->vendor_depth != 0 && st->depth == st->vendor_depth + 1) st->vendor_children = true;
  if (st->sem_bad || st->cur != F_NONE) return;
  if (st->depth == 2 && st->kind == DOC_DEFAULT) {
    begin_default(st, name, attrs);
  } else if (st->depth == 2 && strcmp(name, "loadInformation") == 0) {
    begin_field(st, F_LOAD, attrs);
  } else if (st->depth == 2 && strcmp(name, "vendorConfig") == 0) {
    st->vendor_depth = st->depth;
    st->vendor_children = false;
    st->vendor_attrs = attrs[0] != NULL;
    st->vendor_text = false;
  } else if (st->depth == 3 && st->vendor_depth == 2 && strcmp(name, "peerFirmwareSharing") == 0) {
    begin_field(st, F_PFS, attrs);
  } else if (st->depth == 3 && st->vendor_depth == 2 && strcmp(name, "loadServer") == 0) {
    begin_field(st, F_SERVER, attrs);
  } else if (st->depth == 3 && st->vendor_depth == 2 && strcmp(name, "logServer") == 0) {
    begin_field(st, F_LOG_SERVER, attrs);
  }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len) {
  parse_state *st = ud;
  if (st->cur != F_NONE && st->depth == st->cur_depth) {
    /* fast-xml-parser leaves character references (&#49;) as written
     * (htmlEntities off); expat expands them. Keep them as written. */
    XML_Index at = XML_GetCurrentByteIndex(st->xml);
    int count = XML_GetCurrentByteCount(st->xml);
    if (at >= 0 && count > 2 && (size_t)at + (size_t)count <= st->input_len && st->input[at] == '&' && st->input[at + 1] == '#')
      field_add(&st->f, (const char *)st->input + at, (size_t)count);
    else
      field_add(&st->f, s, (size_t)len);
  } else if (st->vendor_depth != 0 && st->depth == st->vendor_depth) {
    field probe;
    field_reset(&probe);
    field_add(&probe, s, (size_t)len);
    if (probe.content_len > 0 || probe.overflow) st->vendor_text = true;
  }
}

/* textOf: the element's trimmed text, or NULL when it is empty; refuses an
 * element seen twice, holding elements, or too long for any value. */
static const char *field_value(parse_state *st, const char *where, const char *name, unsigned seen) {
  if (seen > 1) { value_error(st, "%s: <%s> appears more than once; expected at most once", where, name); return NULL; }
  if (st->cur_children) { value_error(st, "%s: <%s> holds elements; expected text", where, name); return NULL; }
  if (st->f.overflow) { value_error(st, "%s: <%s> holds more than %u bytes of text; no value is that long", where, name, FIELD_BYTES_MAX); return NULL; }
  return st->f.content_len == 0 ? NULL : st->f.text;
}

static void end_device_field(parse_state *st) {
  char where[PFS_ERR_BYTES / 2];
  pfs_device_config *out = st->device;
  const char *v;
  if (st->cur == F_LOAD) {
    snprintf(where, sizeof where, "%s: <device>", st->file);
    v = field_value(st, where, "loadInformation", ++st->seen_load);
    if (v == NULL) return;
    if (!normalize_load(v, out->load)) {
      value_error(st, "%s: <loadInformation> '%.60s' is not a load name (a file name without .loads)", st->file, v);
      return;
    }
    out->has_load = true;
    return;
  }
  snprintf(where, sizeof where, "%s: <vendorConfig>", st->file);
  if (st->cur == F_PFS) {
    v = field_value(st, where, "peerFirmwareSharing", ++st->seen_pfs);
    if (v == NULL) return;
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
      value_error(st, "%s: <peerFirmwareSharing> must be 0 or 1, not '%.20s'", where, v);
      return;
    }
    out->has_pfs = true;
    out->pfs = v[0] == '1';
    return;
  }
  /* <logServer> (docs/LOGGING.md) is written and checked as <loadServer>. */
  bool log = st->cur == F_LOG_SERVER;
  const char *name = log ? "logServer" : "loadServer";
  v = field_value(st, where, name, log ? ++st->seen_log_server : ++st->seen_server);
  if (v == NULL) return;
  pfs_err e;
  char at[PFS_ERR_BYTES];
  snprintf(at, sizeof at, "%s: <%s>", where, name);
  if (!parse_load_server(v, log ? &out->log_server : &out->load_server, &e, at)) value_error(st, "%s", e.text);
}

static void end_default_field(parse_state *st) {
  char where[PFS_ERR_BYTES / 2];
  snprintf(where, sizeof where, "%s: <loadInformation%s>", st->file, st->cur_digits);
  for (size_t i = 0; i < st->names_seen; i++) {
    if (strcmp(st->names[i], st->cur_digits) == 0) {
      value_error(st, "%s appears more than once; one default per device type", where);
      return;
    }
  }
  if (st->names_seen == PFS_DEFAULT_LOADS_MAX) {
    value_error(st, "%s: more than %u <loadInformationNNN> entries", st->file, PFS_DEFAULT_LOADS_MAX);
    return;
  }
  memcpy(st->names[st->names_seen++], st->cur_digits, sizeof st->cur_digits);
  if (st->cur_children) { value_error(st, "%s holds elements; expected the load name", where); return; }
  if (st->cur_model_long) { value_error(st, "%s: the model attribute is longer than %u characters", where, PFS_XML_MODEL_CHARS_MAX); return; }
  if (st->f.overflow) { value_error(st, "%s: more than %u bytes of text; no load name is that long", where, FIELD_BYTES_MAX); return; }
  if (st->f.content_len == 0) return; /* no default for that type */
  pfs_default_load *l = &st->defaults->loads[st->defaults->count];
  if (!normalize_load(st->f.text, l->load)) {
    value_error(st, "%s: '%.60s' is not a load name", where, st->f.text);
    return;
  }
  l->type_code = (uint32_t)strtoul(st->cur_digits, NULL, 10);
  l->has_model = st->cur_has_model;
  memcpy(l->model, st->cur_model, sizeof l->model);
  st->defaults->count++;
}

/* childNode on <vendorConfig>: twice is an error; text alone (no elements,
 * no attributes) where elements belong is an error. */
static void end_vendor(parse_state *st) {
  st->vendor_depth = 0;
  if (++st->seen_vendor > 1) {
    value_error(st, "%s: <device>: <vendorConfig> appears more than once; expected at most once", st->file);
  } else if (st->vendor_text && !st->vendor_children && !st->vendor_attrs) {
    value_error(st, "%s: <device>: <vendorConfig> holds text; expected elements", st->file);
  }
}

static void XMLCALL on_end(void *ud, const XML_Char *name) {
  parse_state *st = ud;
  (void)name;
  if (st->cur != F_NONE && st->depth == st->cur_depth) {
    if (st->cur == F_DEFAULT) end_default_field(st);
    else end_device_field(st);
    st->cur = F_NONE;
  } else if (st->vendor_depth != 0 && st->depth == st->vendor_depth) {
    end_vendor(st);
  }
  st->depth--;
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int param, const XML_Char *value, int value_len,
                                   const XML_Char *base, const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation) {
  (void)name, (void)param, (void)value, (void)value_len, (void)base, (void)system_id, (void)public_id, (void)notation;
  refuse(ud, "an <!ENTITY declaration");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int internal) {
  (void)name, (void)sysid, (void)pubid, (void)internal;
  refuse(ud, "a <!DOCTYPE declaration");
}

static int XMLCALL on_external_entity(XML_Parser p, const XML_Char *context, const XML_Char *base, const XML_Char *sysid,
                                      const XML_Char *pubid) {
  (void)context, (void)base, (void)sysid, (void)pubid;
  refuse(XML_GetUserData(p), "an external entity");
  return XML_STATUS_ERROR;
}

/* ------------------------------------------------------------ the document */

/* Refused before expat sees a byte: too large, not UTF-8, blank, or any
 * "<!DOCTYPE" / "<!ENTITY" (any case, anywhere), as config.ts does. */
static bool precheck(const uint8_t *xml, size_t len, const char *file, const char *root, pfs_err *err) {
  if (len > PFS_CONFIG_BYTES_MAX) return pfs_fail(err, "%s: %zu bytes; a configuration file is at most %u", file, len, PFS_CONFIG_BYTES_MAX);
  if (!valid_utf8(xml, len)) return pfs_fail(err, "%s: not UTF-8 text", file);
  bool blank = true;
  for (size_t i = 0; i < len && blank;) {
    uint32_t cp;
    size_t k = utf8_char(xml + i, len - i, &cp);
    blank = is_js_space(cp);
    i += k;
  }
  if (blank) return pfs_fail(err, "%s: empty; expected a <%s> document", file, root);
  static const char *const decls[] = {"DOCTYPE", "ENTITY"};
  for (size_t i = 0; i + 2 <= len; i++) {
    if (xml[i] != '<' || xml[i + 1] != '!') continue;
    for (size_t d = 0; d < 2; d++) {
      size_t n = strlen(decls[d]);
      if (i + 2 + n <= len && strncasecmp((const char *)xml + i + 2, decls[d], n) == 0)
        return pfs_fail(err, "%s: holds a <!%s declaration; a configuration file has no DTD or entities, so it is refused unread", file, decls[d]);
    }
  }
  return true;
}

/* expat's own error, or, for a file that ends with elements open, which. */
static bool xml_error(parse_state *st) {
  enum XML_Error code = XML_GetErrorCode(st->xml);
  bool at_end = code == XML_ERROR_NO_ELEMENTS || code == XML_ERROR_UNCLOSED_TOKEN || code == XML_ERROR_PARTIAL_CHAR ||
                code == XML_ERROR_UNCLOSED_CDATA_SECTION;
  if (at_end && st->depth > 0) {
    char names[PFS_ERR_BYTES / 2] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < st->depth && i < OPEN_NAMES_KEPT && used < sizeof names; i++)
      used += (size_t)snprintf(names + used, sizeof names - used, "%s<%s>", i == 0 ? "" : ", ", st->open[i]);
    return pfs_fail(st->err, "%s: the XML ends with %s%s still open: the file is cut short or not well formed", st->file, names,
                    st->depth > OPEN_NAMES_KEPT ? ", ..." : "");
  }
  return pfs_fail(st->err, "%s: malformed XML at line %lu, column %lu: %s", st->file, (unsigned long)XML_GetCurrentLineNumber(st->xml),
                  (unsigned long)XML_GetCurrentColumnNumber(st->xml) + 1, XML_ErrorString(code));
}

static bool parse_doc(parse_state *st, const uint8_t *xml, size_t len) {
  const char *root = st->kind == DOC_DEVICE ? "device" : "Default";
  if (!precheck(xml, len, st->file, root, st->err)) return false;
  /* The encoding is fixed to UTF-8 whatever the declaration says: config.ts
   * decodes the bytes as UTF-8 before it parses. */
  st->xml = XML_ParserCreate("UTF-8");
  if (st->xml == NULL) return pfs_fail(st->err, "%s: out of memory for the XML parser", st->file);
  st->input = xml;
  st->input_len = len;
  XML_SetUserData(st->xml, st);
  XML_SetElementHandler(st->xml, on_start, on_end);
  XML_SetCharacterDataHandler(st->xml, on_text);
  XML_SetEntityDeclHandler(st->xml, on_entity_decl);
  XML_SetStartDoctypeDeclHandler(st->xml, on_doctype);
  XML_SetExternalEntityRefHandler(st->xml, on_external_entity);
  XML_SetParamEntityParsing(st->xml, XML_PARAM_ENTITY_PARSING_NEVER);
  bool ok = XML_Parse(st->xml, (const char *)xml, (int)len, XML_TRUE) == XML_STATUS_OK;
  if (!ok && !st->failed) xml_error(st);
  XML_ParserFree(st->xml);
  st->xml = NULL;
  if (!ok || st->failed) return false;
  if (st->sem_bad) {
    memcpy(st->err->text, st->sem.text, sizeof st->err->text);
    return false;
  }
  return true;
}

bool pfs_config_parse_device(const uint8_t *xml, size_t len, const char *file, pfs_device_config *out, pfs_err *err) {
  pfs_err local;
  static parse_state st; /* one thread (README.md); its size stays off the stack */
  memset(&st, 0, sizeof st);
  memset(out, 0, sizeof *out);
  st.kind = DOC_DEVICE;
  st.file = file;
  st.err = err == NULL ? &local : err;
  st.device = out;
  return parse_doc(&st, xml, len);
}

bool pfs_config_parse_default(const uint8_t *xml, size_t len, const char *file, pfs_default_config *out, pfs_err *err) {
  pfs_err local;
  static parse_state st;
  memset(&st, 0, sizeof st);
  memset(out, 0, sizeof *out);
  st.kind = DOC_DEFAULT;
  st.file = file;
  st.err = err == NULL ? &local : err;
  st.defaults = out;
  return parse_doc(&st, xml, len);
}

/* ------------------------------------------------------------ decisions */

/* boards/cp-*.json: each model's deviceTypeCode and xmlModel
 * (docs/LOADS.md, the XMLDefault table). */
static const struct {
  const char *model;
  uint32_t type_code;
  const char *xml_model;
} MODELS[] = {
    {"CP-7906G", 369, "Cisco 7906"},         {"CP-7911G", 307, "Cisco 7911"},   {"CP-7931G", 348, "Cisco 7931"},
    {"CP-7941G", 115, "Cisco 7941"},         {"CP-7941G-GE", 309, "Cisco 7941G-GE"}, {"CP-7961G", 30018, "Cisco 7961"},
    {"CP-7961G-GE", 308, "Cisco 7961G-GE"}, {"CP-7970G", 30006, "Cisco 7970"}, {"CP-7971G", 119, "Cisco 7971"},
};

/* The model trimmed (ASCII white space); at most `cap` - 1 characters. */
static void trim_copy(const char *s, char *out, size_t cap) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  if (n >= cap) n = cap - 1;
  memcpy(out, s, n);
  out[n] = '\0';
}

const char *pfs_config_default_load(const pfs_default_config *cfg, const char *model) {
  char m[PFS_XML_MODEL_CHARS_MAX + 1];
  trim_copy(model, m, sizeof m);
  const char *xml_model = NULL;
  for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0] && xml_model == NULL; i++) {
    if (strcasecmp(MODELS[i].model, m) != 0 && strcasecmp(MODELS[i].xml_model, m) != 0) continue;
    xml_model = MODELS[i].xml_model;
    for (size_t k = 0; k < cfg->count; k++)
      if (cfg->loads[k].type_code == MODELS[i].type_code) return cfg->loads[k].load;
  }
  for (size_t k = 0; k < cfg->count; k++) {
    const pfs_default_load *l = &cfg->loads[k];
    if (l->has_model && (strcasecmp(l->model, m) == 0 || (xml_model != NULL && strcasecmp(l->model, xml_model) == 0))) return l->load;
  }
  return NULL;
}

const char *pfs_config_configured_load(const pfs_device_config *device, const pfs_default_config *defaults, const char *model,
                                       bool *from_device) {
  *from_device = device != NULL && device->has_load && device->load[0] != '\0';
  if (*from_device) return device->load;
  return defaults == NULL ? NULL : pfs_config_default_load(defaults, model);
}

/* normalizeLoadName into a bounded copy; a longer name compares by its
 * first PFS_LOAD_NAME_CHARS_MAX characters (no load is named longer). */
static void normalize_copy(const char *s, char *out) {
  trim_copy(s, out, PFS_LOAD_NAME_CHARS_MAX + 1);
  size_t n = strlen(out);
  if (n >= 6 && strcasecmp(out + n - 6, ".loads") == 0) out[n - 6] = '\0';
}

bool pfs_config_upgrade_needed(const char *configured, const char *running) {
  char c[PFS_LOAD_NAME_CHARS_MAX + 1], r[PFS_LOAD_NAME_CHARS_MAX + 1];
  if (configured == NULL) return false;
  normalize_copy(configured, c);
  if (c[0] == '\0') return false;
  if (running == NULL) return true;
  normalize_copy(running, r);
  return r[0] == '\0' || strcmp(c, r) != 0;
}

bool pfs_config_resolve_pfs(int enterprise, int common_profile, int device) {
  if (device >= 0) return device != 0;
  if (common_profile >= 0) return common_profile != 0;
  return enterprise > 0;
}
