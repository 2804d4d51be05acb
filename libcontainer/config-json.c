/* ocirun — typed access to a yajl tree, with the field path in every error. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "config-json.h"
#include "ocirun/utils.h"

int j_fail(struct jctx *c, const char *path, const char *fmt, ...) {
  char msg[OCI_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (path == NULL || *path == '\0')
    oci_error_set(c->err, 0, "%s: %s", c->name, msg);
  else
    oci_error_set(c->err, 0, "%s: %s: %s", c->name, path, msg);
  /* A bad config is invalid input; the message already says why, so the
   * errno is set without oci_error_set appending strerror(). */
  if (c->err != NULL)
    c->err->errnum = EINVAL;
  return -1;
}

void j_path_key(char *buf, const char *base, const char *key) {
  if (base == NULL || *base == '\0')
    snprintf(buf, OCI_JPATH_MAX, "%s", key);
  else
    snprintf(buf, OCI_JPATH_MAX, "%s.%s", base, key);
}

void j_path_idx(char *buf, const char *base, size_t i) {
  snprintf(buf, OCI_JPATH_MAX, "%s[%zu]", base, i);
}

/* yajl_tree_parse only gives a formatted message; a stream parse over the
 * same bytes tells where it stopped, which is what a user needs to find it. */
static int report_syntax_error(struct jctx *c, const char *json, size_t len) {
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  if (h == NULL)
    abort();
  yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
  size_t offset = len;
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  else
    offset = yajl_get_bytes_consumed(h);
  if (st == yajl_status_ok) {
    yajl_free(h);
    return j_fail(c, NULL, "parse error");
  }
  unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)json, len);
  size_t line = 1;
  for (size_t i = 0; i < offset && i < len; i++)
    if (json[i] == '\n')
      line++;
  char text[256];
  snprintf(text, sizeof(text), "%s", msg ? (const char *)msg : "parse error");
  text[strcspn(text, "\n")] = '\0';
  yajl_free_error(h, msg);
  yajl_free(h);
  char where[64];
  snprintf(where, sizeof(where), "line %zu", line);
  return j_fail(c, where, "%s", text);
}

/* Deeper than this is refused: yajl_tree_free() and find_nul() recurse
 * once per level, and a config.json of a few hundred kilobytes of "["
 * overflowed the stack (found by tests/fuzz/fuzz_config). A real config
 * nests 7 levels (linux.seccomp.syscalls[].args[]). */
#define JSON_MAX_DEPTH 256

/* The strict pass: strings and keys are counted in document order, and the
 * first one holding a NUL (an escaped \u0000) is remembered, 1-based; the
 * nesting depth is tracked and too_deep set when it passes JSON_MAX_DEPTH. */
struct nul_scan {
  size_t seen;
  size_t first_nul;
  size_t depth;
  bool too_deep;
};

static int scan_string(void *ctx, const unsigned char *s, size_t len) {
  struct nul_scan *n = ctx;
  n->seen++;
  if (n->first_nul == 0 && memchr(s, '\0', len) != NULL)
    n->first_nul = n->seen;
  return 1;
}

static int scan_open(void *ctx) {
  struct nul_scan *n = ctx;
  n->too_deep = ++n->depth > JSON_MAX_DEPTH;
  return !n->too_deep; /* 0 cancels the parse */
}

static int scan_close(void *ctx) {
  struct nul_scan *n = ctx;
  n->depth--;
  return 1;
}

/* yajl_tree_parse accepts comments, which JSON (and so config.json, as
 * runc reads it) does not have; a stream parse with the defaults is strict.
 * It also sees each string with its length, which the tree loses. When the
 * nesting is too deep, *stop is the offset where the scan gave up. */
static bool strict_scan(const char *json, size_t len, struct nul_scan *n, size_t *stop) {
  static const yajl_callbacks cb = {.yajl_string = scan_string,
                                    .yajl_map_key = scan_string,
                                    .yajl_start_map = scan_open,
                                    .yajl_end_map = scan_close,
                                    .yajl_start_array = scan_open,
                                    .yajl_end_array = scan_close};
  yajl_handle h = yajl_alloc(&cb, NULL, n);
  if (h == NULL)
    abort();
  bool ok = yajl_parse(h, (const unsigned char *)json, len) == yajl_status_ok &&
            yajl_complete_parse(h) == yajl_status_ok;
  *stop = yajl_get_bytes_consumed(h);
  yajl_free(h);
  return ok;
}

static int report_too_deep(struct jctx *c, const char *json, size_t stop) {
  size_t line = 1;
  for (size_t i = 0; i < stop; i++)
    if (json[i] == '\n')
      line++;
  char where[64];
  snprintf(where, sizeof(where), "line %zu", line);
  return j_fail(c, where, "nested more than %d levels deep", JSON_MAX_DEPTH);
}

/* Walk the tree in the order the scan saw the strings to find the path of
 * string number `want`; the tree keeps only the text before the NUL, and a
 * C program would silently act on that prefix. */
static int find_nul(struct jctx *c, yajl_val v, const char *path, size_t want, size_t *seen) {
  char p[OCI_JPATH_MAX];
  if (YAJL_IS_STRING(v))
    return ++*seen == want ? j_fail(c, path, "must not contain a NUL byte") : 0;
  for (size_t i = 0; YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
    if (++*seen == want)
      return j_fail(c, path, "key \"%s\\u0000...\": must not contain a NUL byte",
                    v->u.object.keys[i]);
    j_path_key(p, path, v->u.object.keys[i]);
    if (find_nul(c, v->u.object.values[i], p, want, seen) < 0)
      return -1;
  }
  for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
    j_path_idx(p, path, i);
    if (find_nul(c, v->u.array.values[i], p, want, seen) < 0)
      return -1;
  }
  return 0;
}

int j_parse_tree(struct jctx *c, const char *json, size_t len, yajl_val *out) {
  /* The tree parser wants a C string; a NUL inside the text is an error the
   * stream parser reports with its position. */
  struct nul_scan scan = {0};
  size_t stop = 0;
  if (memchr(json, '\0', len) != NULL)
    return report_syntax_error(c, json, len);
  if (!strict_scan(json, len, &scan, &stop))
    return scan.too_deep ? report_too_deep(c, json, stop) : report_syntax_error(c, json, len);
  _cleanup_free_ char *text = oci_xmalloc0(len + 1);
  memcpy(text, json, len);
  char buf[256];
  yajl_val tree = yajl_tree_parse(text, buf, sizeof(buf));
  if (tree == NULL)
    return report_syntax_error(c, json, len);
  size_t seen = 0;
  if (scan.first_nul != 0 && find_nul(c, tree, "", scan.first_nul, &seen) < 0) {
    yajl_tree_free(tree);
    return -1;
  }
  *out = tree;
  return 0;
}

yajl_val j_get(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj))
    return NULL;
  /* yajl keeps repeated keys; the last one wins, as in Go runtimes. */
  for (size_t i = obj->u.object.len; i-- > 0;) {
    if (strcmp(obj->u.object.keys[i], key) == 0) {
      yajl_val v = obj->u.object.values[i];
      return YAJL_IS_NULL(v) ? NULL : v;
    }
  }
  return NULL;
}

int j_expect_object(struct jctx *c, yajl_val v, const char *path) {
  if (!YAJL_IS_OBJECT(v))
    return j_fail(c, path, "expected an object");
  return 0;
}

int j_string(struct jctx *c, yajl_val v, const char *path, char **out) {
  if (!YAJL_IS_STRING(v))
    return j_fail(c, path, "expected a string");
  free(*out);
  *out = oci_xstrdup(v->u.string);
  return 0;
}

void j_strv_free(char **v, size_t n) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

int j_strv(struct jctx *c, yajl_val v, const char *path, char ***out, size_t *n) {
  if (!YAJL_IS_ARRAY(v))
    return j_fail(c, path, "expected an array of strings");
  size_t len = v->u.array.len;
  char **items = oci_xmalloc0((len + 1) * sizeof(char *));
  for (size_t i = 0; i < len; i++) {
    yajl_val it = v->u.array.values[i];
    if (!YAJL_IS_STRING(it)) {
      char p[OCI_JPATH_MAX];
      j_path_idx(p, path, i);
      j_strv_free(items, len);
      return j_fail(c, p, "expected a string");
    }
    items[i] = oci_xstrdup(it->u.string);
  }
  j_strv_free(*out, *n);
  *out = items;
  *n = len;
  return 0;
}

void j_kv_free(struct oci_kv *kv, size_t n) {
  if (kv == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

int j_kv(struct jctx *c, yajl_val v, const char *path, struct oci_kv **out, size_t *n) {
  if (!YAJL_IS_OBJECT(v))
    return j_fail(c, path, "expected an object of strings");
  size_t len = v->u.object.len;
  struct oci_kv *kv = oci_xmalloc0((len ? len : 1) * sizeof(*kv));
  for (size_t i = 0; i < len; i++) {
    yajl_val it = v->u.object.values[i];
    if (!YAJL_IS_STRING(it)) {
      char p[OCI_JPATH_MAX];
      j_path_key(p, path, v->u.object.keys[i]);
      j_kv_free(kv, len);
      return j_fail(c, p, "expected a string");
    }
    kv[i].key = oci_xstrdup(v->u.object.keys[i]);
    kv[i].value = oci_xstrdup(it->u.string);
  }
  *out = kv;
  *n = len;
  return 0;
}

/* Integer ranges of the schema's types (defs.json). */
struct jnum {
  bool is_signed;
  int64_t min;
  uint64_t max;
  const char *what;
};

static const struct jnum NUM_U16 = {false, 0, UINT16_MAX, "an unsigned 16-bit integer"};
static const struct jnum NUM_U32 = {false, 0, UINT32_MAX, "an unsigned 32-bit integer"};
static const struct jnum NUM_U64 = {false, 0, UINT64_MAX, "an unsigned 64-bit integer"};
static const struct jnum NUM_I32 = {true, INT32_MIN, INT32_MAX, "a signed 32-bit integer"};
static const struct jnum NUM_I64 = {true, INT64_MIN, INT64_MAX, "a signed 64-bit integer"};

/* Read an integer from the number's text: yajl keeps only a double for
 * values past INT64_MAX, and uint64 fields need all 64 bits. */
static int j_number(struct jctx *c, yajl_val v, const char *path, const struct jnum *t,
                    int64_t *si, uint64_t *ui) {
  if (!YAJL_IS_NUMBER(v))
    return j_fail(c, path, "expected %s", t->what);
  const char *r = v->u.number.r;
  if (r == NULL || strpbrk(r, ".eE") != NULL)
    return j_fail(c, path, "expected %s, got %s", t->what, r ? r : "a fraction");
  char *end = NULL;
  errno = 0;
  if (t->is_signed) {
    long long x = strtoll(r, &end, 10);
    if (errno != 0 || *end != '\0' || x < t->min || x > (long long)t->max)
      return j_fail(c, path, "expected %s, got %s", t->what, r);
    *si = x;
  } else {
    if (*r == '-')
      return j_fail(c, path, "expected %s, got %s", t->what, r);
    unsigned long long x = strtoull(r, &end, 10);
    if (errno != 0 || *end != '\0' || x > t->max)
      return j_fail(c, path, "expected %s, got %s", t->what, r);
    *ui = x;
  }
  return 0;
}

int j_u32(struct jctx *c, yajl_val v, const char *path, uint32_t *out) {
  uint64_t u = 0;
  if (j_number(c, v, path, &NUM_U32, NULL, &u) < 0)
    return -1;
  *out = (uint32_t)u;
  return 0;
}

static int j_bool(struct jctx *c, yajl_val v, const char *path, bool *out) {
  if (YAJL_IS_TRUE(v))
    *out = true;
  else if (YAJL_IS_FALSE(v))
    *out = false;
  else
    return j_fail(c, path, "expected a boolean");
  return 0;
}

static const struct jnum *kind_num(enum jkind k) {
  switch (k) {
  case J_OU16: return &NUM_U16;
  case J_U32: case J_OU32: return &NUM_U32;
  case J_U64: case J_OU64: return &NUM_U64;
  case J_I32: case J_OI32: return &NUM_I32;
  default: return &NUM_I64;
  }
}

/* Store one integer into the member the kind describes. */
static int j_field_int(struct jctx *c, yajl_val v, const char *path, enum jkind k, char *m) {
  int64_t si = 0;
  uint64_t ui = 0;
  if (j_number(c, v, path, kind_num(k), &si, &ui) < 0)
    return -1;
  switch (k) {
  case J_U32: *(uint32_t *)m = (uint32_t)ui; break;
  case J_OU32: case J_OU16: *(oci_opt_u32 *)m = (oci_opt_u32){true, (uint32_t)ui}; break;
  case J_U64: *(uint64_t *)m = ui; break;
  case J_OU64: *(oci_opt_u64 *)m = (oci_opt_u64){true, ui}; break;
  case J_I64: case J_I32: *(int64_t *)m = si; break;
  case J_OI64: case J_OI32: *(oci_opt_i64 *)m = (oci_opt_i64){true, si}; break;
  default: abort();
  }
  return 0;
}

static int j_field(struct jctx *c, yajl_val v, const char *path, const struct jfield *f,
                   char *dst) {
  char *m = dst + f->off;
  switch (f->kind) {
  case J_STR:
    return j_string(c, v, path, (char **)m);
  case J_STRV:
    return j_strv(c, v, path, (char ***)m, (size_t *)(dst + f->off_n));
  case J_BOOL:
    return j_bool(c, v, path, (bool *)m);
  case J_OBOOL: {
    oci_opt_bool *o = (oci_opt_bool *)m;
    if (j_bool(c, v, path, &o->v) < 0)
      return -1;
    o->set = true;
    return 0;
  }
  default:
    return j_field_int(c, v, path, f->kind, m);
  }
}

int j_fields(struct jctx *c, yajl_val obj, const char *path, void *dst,
             const struct jfield *f, size_t nf) {
  if (j_expect_object(c, obj, path) < 0)
    return -1;
  for (size_t i = 0; i < nf; i++) {
    char p[OCI_JPATH_MAX];
    j_path_key(p, path, f[i].key);
    yajl_val v = j_get(obj, f[i].key);
    if (v == NULL) {
      if (f[i].required)
        return j_fail(c, p, "required field is missing");
      continue;
    }
    if (j_field(c, v, p, &f[i], dst) < 0)
      return -1;
  }
  return 0;
}

void j_fields_free(void *dst, const struct jfield *f, size_t nf) {
  if (dst == NULL)
    return;
  for (size_t i = 0; i < nf; i++) {
    char *m = (char *)dst + f[i].off;
    if (f[i].kind == J_STR)
      free(*(char **)m);
    else if (f[i].kind == J_STRV)
      j_strv_free(*(char ***)m, *(size_t *)((char *)dst + f[i].off_n));
  }
}

int j_array_of(struct jctx *c, yajl_val v, const char *path, size_t size, j_elem_fn fn,
               void **out, size_t *n) {
  if (!YAJL_IS_ARRAY(v))
    return j_fail(c, path, "expected an array");
  size_t len = v->u.array.len;
  char *items = oci_xmalloc0(size * (len ? len : 1));
  *out = items;
  *n = len;
  for (size_t i = 0; i < len; i++) {
    char p[OCI_JPATH_MAX];
    j_path_idx(p, path, i);
    yajl_val it = v->u.array.values[i];
    if (j_expect_object(c, it, p) < 0 || fn(c, it, p, items + i * size) < 0)
      return -1;
  }
  return 0;
}

yajl_gen j_gen_new(const char *indent) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g == NULL)
    abort();
  yajl_gen_config(g, yajl_gen_beautify, 1);
  yajl_gen_config(g, yajl_gen_indent_string, indent);
  return g;
}

void j_gen_str(yajl_gen g, const char *s) {
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void j_gen_kstr(yajl_gen g, const char *key, const char *value) {
  j_gen_str(g, key);
  if (value)
    j_gen_str(g, value);
  else
    yajl_gen_null(g);
}

void j_gen_kbool(yajl_gen g, const char *key, bool value) {
  j_gen_str(g, key);
  yajl_gen_bool(g, value);
}

void j_gen_kstrv(yajl_gen g, const char *key, const char *const *v) {
  j_gen_str(g, key);
  yajl_gen_array_open(g);
  for (; *v != NULL; v++)
    j_gen_str(g, *v);
  yajl_gen_array_close(g);
}

char *j_gen_finish(yajl_gen g) {
  const unsigned char *buf = NULL;
  size_t len = 0;
  char *out = NULL;
  if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
    out = oci_xasprintf("%.*s", (int)len, (const char *)buf);
  yajl_gen_free(g);
  return out;
}
