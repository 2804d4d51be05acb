/* ocirun CLI — the one option parser every command uses, plus small helpers
 * shared by the commands (errors, paths, JSON indentation).
 *
 * Parsing is glibc getopt_long_only() driven by each command's option
 * table: long_only gives Go's single-dash long options (`-bundle x`),
 * optional_argument on booleans gives Go's `--detach=false`, and GNU
 * permutation gives urfave/cli's "options after the container id". */
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocirun.h"
#include "ocirun/log.h"
#include "ocirun/utils.h"

#define CLI_LONG_BASE 256     /* getopt value of table entry i: CLI_LONG_BASE + i */
#define CLI_HELP_COLUMN 34

int cli_fail(const oci_error *err) {
  oci_log(OCI_LOG_ERROR, "%s", err->msg);
  return 1;
}

void cli_error_hint(oci_error *err, const char *hint) {
  size_t len = strlen(err->msg);
  snprintf(err->msg + len, sizeof(err->msg) - len, " (%s)", hint);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  oci_log(OCI_LOG_ERROR, "%s: %s", cmd->name, msg);
  fprintf(stderr, "Run 'ocirun %s --help' for usage.\n", cmd->name);
  return 1;
}

int cli_parse_bool(const char *s, bool *out) {
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(yes); i++) {
    if (strcmp(s, yes[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcmp(s, no[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return -1;
}

/* "--bundle DIR" / "-b, --bundle DIR" as shown in help. */
static void option_label(const struct cli_option *o, char *buf, size_t cap) {
  bool is_bool = o->kind == CLI_OPT_BOOL || o->kind == CLI_OPT_OPT_BOOL;
  const char *arg = is_bool ? "" : o->arg ? o->arg : "VALUE";
  if (o->short_name)
    snprintf(buf, cap, "-%c, --%s%s%s", o->short_name, o->name, *arg ? " " : "", arg);
  else
    snprintf(buf, cap, "    --%s%s%s", o->name, *arg ? " " : "", arg);
}

static void print_option_line(const char *label, const char *help) {
  if (strlen(label) + 2 < CLI_HELP_COLUMN - 2)
    printf("  %-*s%s\n", CLI_HELP_COLUMN - 2, label, help);
  else
    printf("  %s\n  %-*s%s\n", label, CLI_HELP_COLUMN - 2, "", help);
}

const char *cli_progname = "ocirun";

/* runc's (urfave/cli's) first two lines, "NAME:" and "   runc CMD - summary",
 * which its tests and scripts read; then our own layout. */
void cli_print_help(const struct cli_command *cmd) {
  printf("NAME:\n   %s %s - %s\n\n", cli_progname, cmd->name, cmd->summary);
  printf("Usage: %s %s%s%s%s\n", cli_progname, cmd->name, cmd->n_options ? " [OPTIONS]" : "",
         *cmd->args_usage ? " " : "", cmd->args_usage);
  if (cmd->description && *cmd->description)
    printf("\n%s\n", cmd->description);
  printf("\nOptions:\n");
  char label[128];
  for (size_t i = 0; i < cmd->n_options; i++) {
    option_label(&cmd->options[i], label, sizeof(label));
    print_option_line(label, cmd->options[i].help);
  }
  print_option_line("-h, --help", "show this help and exit");
}

/* The getopt tables for one command. */
struct getopt_tables {
  struct option *longopts;
  char *shortopts;
};

static void build_getopt_tables(const struct cli_command *cmd, struct getopt_tables *t) {
  t->longopts = oci_xmalloc0((cmd->n_options + 2) * sizeof(struct option));
  t->shortopts = oci_xmalloc0(cmd->n_options * 2 + 8);
  char *s = t->shortopts;
  /* '+': stop at the first positional; ':': report missing values ourselves. */
  if (cmd->args_end_options)
    *s++ = '+';
  *s++ = ':';
  *s++ = 'h';
  for (size_t i = 0; i < cmd->n_options; i++) {
    const struct cli_option *o = &cmd->options[i];
    bool is_bool = o->kind == CLI_OPT_BOOL || o->kind == CLI_OPT_OPT_BOOL;
    t->longopts[i] = (struct option){o->name, is_bool ? optional_argument : required_argument,
                                     NULL, CLI_LONG_BASE + (int)i};
    if (o->short_name) {
      *s++ = o->short_name;
      if (!is_bool)
        *s++ = ':';
    }
  }
  t->longopts[cmd->n_options] = (struct option){"help", no_argument, NULL, 'h'};
}

static int option_index(const struct cli_command *cmd, int c) {
  if (c >= CLI_LONG_BASE && (size_t)(c - CLI_LONG_BASE) < cmd->n_options)
    return c - CLI_LONG_BASE;
  for (size_t i = 0; i < cmd->n_options; i++)
    if (cmd->options[i].short_name && cmd->options[i].short_name == c)
      return (int)i;
  return -1;
}

/* Store one option's value; a bad value is a usage error naming the option. */
static int store_option(const struct cli_command *cmd, const struct cli_option *o,
                        const char *value, void *opts) {
  void *field = (char *)opts + o->offset;
  switch (o->kind) {
  case CLI_OPT_BOOL: {
    bool b = true;
    if (value && cli_parse_bool(value, &b) < 0)
      return cli_usage_error(cmd, "invalid boolean value \"%s\" for --%s", value, o->name);
    *(bool *)field = b;
    return 0;
  }
  case CLI_OPT_OPT_BOOL: {
    oci_opt_bool *ob = field;
    ob->v = true;
    if (value && cli_parse_bool(value, &ob->v) < 0)
      return cli_usage_error(cmd, "invalid boolean value \"%s\" for --%s", value, o->name);
    ob->set = true;
    return 0;
  }
  case CLI_OPT_STRING:
    *(const char **)field = value;
    return 0;
  case CLI_OPT_INT: {
    long n;
    if (oci_parse_long(value, &n) < 0 || n < 0 || n > 1 << 30)
      return cli_usage_error(cmd, "invalid value \"%s\" for --%s: expected a number >= 0", value,
                             o->name);
    *(int *)field = (int)n;
    return 0;
  }
  case CLI_OPT_LIST: {
    struct cli_list *l = field;
    l->v = oci_xrealloc(l->v, (l->n + 2) * sizeof(char *));
    l->v[l->n++] = (char *)value;
    l->v[l->n] = NULL;
    return 0;
  }
  }
  return 0;
}

/* The text of the option getopt rejected, for the error message. */
static const char *rejected_option(char **argv, char *buf, size_t cap) {
  if (optopt > 0 && optopt < CLI_LONG_BASE && isprint(optopt)) {
    snprintf(buf, cap, "-%c", optopt);
    return buf;
  }
  snprintf(buf, cap, "%s", argv[optind - 1]);
  char *eq = strchr(buf, '=');
  if (eq)
    *eq = '\0';
  return buf;
}

static int check_positionals(const struct cli_command *cmd, const struct cli_args *args) {
  bool wants_id = strncmp(cmd->args_usage, "<container-id>", 14) == 0;
  if (args->n < cmd->min_args) {
    if (wants_id && args->n == 0)
      return cli_usage_error(cmd, "container id cannot be empty");
    return cli_usage_error(cmd, "missing arguments: expected %s", cmd->args_usage);
  }
  if (wants_id && args->n > 0 && args->v[0][0] == '\0')
    return cli_usage_error(cmd, "container id cannot be empty");
  if (cmd->max_args >= 0 && args->n > cmd->max_args)
    return cli_usage_error(cmd, "unexpected argument \"%s\"", args->v[cmd->max_args]);
  return 0;
}

static int parse_loop(const struct cli_command *cmd, int argc, char **argv, void *opts,
                      const struct getopt_tables *t) {
  char buf[256];
  int c;
  while ((c = getopt_long_only(argc, argv, t->shortopts, t->longopts, NULL)) != -1) {
    if (c == 'h') {
      cli_print_help(cmd);
      return 1;
    }
    if (c == '?')
      return -cli_usage_error(cmd, "unknown option %s", rejected_option(argv, buf, sizeof(buf)));
    if (c == ':') {
      int i = option_index(cmd, optopt);
      return -cli_usage_error(cmd, "option --%s needs a value",
                              i >= 0 ? cmd->options[i].name : "?");
    }
    int i = option_index(cmd, c);
    if (i < 0)
      return -cli_usage_error(cmd, "unknown option %s", rejected_option(argv, buf, sizeof(buf)));
    if (store_option(cmd, &cmd->options[i], optarg, opts) != 0)
      return -1;
  }
  return 0;
}

bool cli_parse(const struct cli_command *cmd, int argc, char **argv, void *opts,
               struct cli_args *args, int *status) {
  struct getopt_tables t;
  build_getopt_tables(cmd, &t);
  optind = 0;   /* glibc: full re-initialisation (main.c parsed the globals) */
  opterr = 0;
  int r = parse_loop(cmd, argc, argv, opts, &t);
  free(t.longopts);
  free(t.shortopts);
  if (r != 0) {
    *status = r > 0 ? 0 : 1;
    cli_opts_free(cmd, opts);
    return false;
  }
  args->v = argv + optind;
  args->n = argc - optind;
  if (check_positionals(cmd, args) != 0) {
    *status = 1;
    cli_opts_free(cmd, opts);
    return false;
  }
  return true;
}

void cli_opts_free(const struct cli_command *cmd, void *opts) {
  for (size_t i = 0; i < cmd->n_options; i++) {
    if (cmd->options[i].kind != CLI_OPT_LIST)
      continue;
    struct cli_list *l = (struct cli_list *)((char *)opts + cmd->options[i].offset);
    free(l->v);
    l->v = NULL;
    l->n = 0;
  }
}

int cli_run_id_command(const struct cli_command *cmd, struct cli_global *g, int argc,
                       char **argv, cli_id_op op) {
  struct cli_args args;
  int status;
  if (!cli_parse(cmd, argc, argv, NULL, &args, &status))
    return status;
  oci_error err = {0};
  return op(&g->ctx, args.v[0], &err) < 0 ? cli_fail(&err) : 0;
}

char *cli_absolute_path(const char *path) {
  if (path == NULL)
    return NULL;
  if (path[0] == '/')
    return oci_xstrdup(path);
  _cleanup_free_ char *cwd = getcwd(NULL, 0);
  if (cwd == NULL)
    return oci_xstrdup(path);
  while (path[0] == '.' && path[1] == '/')
    path += 2;
  if (strcmp(path, ".") == 0 || path[0] == '\0')
    return OCI_STEAL(cwd);
  return oci_xasprintf("%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
}

/* ---- JSON re-indentation ------------------------------------------- */

static void newline_indent(FILE *out, int depth, const char *unit) {
  fputc('\n', out);
  for (int i = 0; i < depth; i++)
    fputs(unit, out);
}

static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

/* Copy a JSON string token (p at the opening quote); returns the char after it. */
static const char *copy_string(FILE *out, const char *p) {
  fputc(*p++, out);
  while (*p && *p != '"') {
    if (*p == '\\' && p[1])
      fputc(*p++, out);
    fputc(*p++, out);
  }
  if (*p == '"')
    fputc(*p++, out);
  return p;
}

int cli_write_json_indented(FILE *out, const char *json, const char *unit) {
  int depth = 0;
  const char *p = json;
  while (*(p = skip_space(p))) {
    char c = *p;
    if (c == '"') {
      p = copy_string(out, p);
      continue;
    }
    p++;
    if (c == '{' || c == '[') {
      const char *next = skip_space(p);
      fputc(c, out);
      if (*next == (c == '{' ? '}' : ']')) {   /* Go prints empty ones as {} [] */
        fputc(*next, out);
        p = next + 1;
      } else {
        newline_indent(out, ++depth, unit);
      }
    } else if (c == '}' || c == ']') {
      newline_indent(out, --depth, unit);
      fputc(c, out);
    } else if (c == ',') {
      fputc(c, out);
      newline_indent(out, depth, unit);
    } else if (c == ':') {
      fputs(": ", out);
    } else {
      fputc(c, out);
    }
  }
  fputc('\n', out);
  return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
