/* ocirun — typed access to a yajl tree with the JSON field path in errors.
 *
 * Used by config.c to turn config.json into struct oci_config. Every
 * accessor takes the path of the value it looks at ("process.user.uid") so a
 * failure reads "<file>: <path>: <what was expected>".
 */
#ifndef OCIRUN_CONFIG_JSON_H
#define OCIRUN_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

#define OCI_JPATH_MAX 512

struct jctx {
  const char *name;         /* file name shown first in messages */
  oci_error *err;
};

/* Fail with "<name>: <path>: <msg>" (or "<name>: <msg>" at the root). */
int j_fail(struct jctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "base.key" ("key" when base is empty) and "base[i]". */
void j_path_key(char *buf, const char *base, const char *key);
void j_path_idx(char *buf, const char *base, size_t i);

/* Parse text into a tree; on malformed JSON fail with the line number. */
int j_parse_tree(struct jctx *c, const char *json, size_t len, yajl_val *out);

/* Member of an object; NULL when absent or JSON null (both mean "unset"). */
yajl_val j_get(yajl_val obj, const char *key);

int j_expect_object(struct jctx *c, yajl_val v, const char *path);
int j_string(struct jctx *c, yajl_val v, const char *path, char **out);
int j_strv(struct jctx *c, yajl_val v, const char *path, char ***out, size_t *n);
int j_kv(struct jctx *c, yajl_val v, const char *path, struct oci_kv **out, size_t *n);
void j_kv_free(struct oci_kv *kv, size_t n);
/* strv arrays are also NULL-terminated so they can go to execve as is. */
void j_strv_free(char **v, size_t n);

/* Scalar kinds a struct member can have; the O* ones are oci_opt_* wrappers. */
enum jkind {
  J_STR, J_STRV, J_BOOL, J_OBOOL,
  J_U32, J_OU32, J_OU16, J_U64, J_OU64,
  J_I64, J_OI64, J_I32, J_OI32,
};

/* One member of a struct read from one key of a JSON object. */
struct jfield {
  const char *key;
  enum jkind kind;
  size_t off;               /* offset of the member */
  size_t off_n;             /* J_STRV: offset of the size_t count */
  bool required;
};

#define JF(type, key, kind, member) {key, kind, offsetof(type, member), 0, false}
#define JFR(type, key, kind, member) {key, kind, offsetof(type, member), 0, true}
#define JFV(type, key, member, n) {key, J_STRV, offsetof(type, member), offsetof(type, n), false}

/* Read every field of the table from obj into dst. Unknown keys are
 * ignored: a newer spec may add fields. */
int j_fields(struct jctx *c, yajl_val obj, const char *path, void *dst,
             const struct jfield *f, size_t nf);
/* Free the J_STR and J_STRV members the table describes. */
void j_fields_free(void *dst, const struct jfield *f, size_t nf);
#define J_FIELDS(c, obj, path, dst, table) \
  j_fields(c, obj, path, dst, table, sizeof(table) / sizeof((table)[0]))
#define J_FIELDS_FREE(dst, table) j_fields_free(dst, table, sizeof(table) / sizeof((table)[0]))

/* A uint32 (range-checked) at path. */
int j_u32(struct jctx *c, yajl_val v, const char *path, uint32_t *out);

/* An array of objects, each parsed by fn into an element of `size` bytes.
 * The zeroed array and its count are handed out before the elements are
 * parsed, so the caller's free function works on a half-parsed array. */
typedef int (*j_elem_fn)(struct jctx *c, yajl_val v, const char *path, void *elem);
int j_array_of(struct jctx *c, yajl_val v, const char *path, size_t size, j_elem_fn fn,
               void **out, size_t *n);
#define J_ARRAY(c, v, path, arr, n, fn)                                        \
  ({                                                                           \
    void *_items = NULL;                                                       \
    int _r = j_array_of(c, v, path, sizeof(*(arr)), fn, &_items, &(n));        \
    (arr) = _items;                                                            \
    _r;                                                                        \
  })

/* ---- writing JSON (spec.c, features.c; free for any yajl_gen user) ---- */

/* A pretty-printing generator indenting with `indent`. */
yajl_gen j_gen_new(const char *indent);
void j_gen_str(yajl_gen g, const char *s);
/* "key": "value", or "key": null when value is NULL. */
void j_gen_kstr(yajl_gen g, const char *key, const char *value);
void j_gen_kbool(yajl_gen g, const char *key, bool value);
/* "key": [ ... ] from a NULL-terminated list. */
void j_gen_kstrv(yajl_gen g, const char *key, const char *const *v);
/* The text written so far as a malloc'd C string; frees the generator. */
char *j_gen_finish(yajl_gen g);

#endif
