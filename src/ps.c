/* ocirun ps — the processes of a container: its pids as JSON, or the host's
 * `ps` output filtered to them. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocirun.h"
#include "ocirun/log.h"

extern char **environ;

struct ps_opts {
  const char *format;
};

static const struct cli_option ps_options[] = {
    CLI_OPT("format", 'f', CLI_OPT_STRING, struct ps_opts, format, "FORMAT",
            "table (default) or json"),
};

static void print_pids_json(const pid_t *pids, size_t n) {
  printf("[");
  for (size_t i = 0; i < n; i++)
    printf("%s%d", i ? "," : "", (int)pids[i]);
  printf("]\n");
}

/* Run `ps ARGS...` and return its stdout and stderr together. */
static int run_ps(char **ps_args, int n_args, char **out, oci_error *err) {
  char **argv = oci_xmalloc0((size_t)(n_args + 3) * sizeof(char *));
  argv[0] = "ps";
  if (n_args == 0)
    argv[1] = "-ef";
  for (int i = 0; i < n_args; i++)
    argv[i + 1] = ps_args[i];
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    free(argv);
    return oci_error_errno(err, "ps: pipe");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
  pid_t child;
  int r = posix_spawnp(&child, "ps", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  free(argv);
  close(pipefd[1]);
  if (r != 0) {
    close(pipefd[0]);
    return oci_error_set(err, r, "ps: run \"ps\"");
  }
  size_t len;
  int rr = oci_read_fd(pipefd[0], out, &len, err);
  close(pipefd[0]);
  int wstatus;
  while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR)
    ;
  if (rr < 0)
    return oci_error_wrap(err, "ps: read the output of \"ps\"");
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return oci_error_set(err, 0, "ps: \"ps\" failed: %s", *out);
  return 0;
}

/* Index of the "PID" column in ps's header line; -1 when absent. */
static int pid_column(const char *header) {
  _cleanup_free_ char *copy = oci_xstrdup(header);
  char *save = NULL;
  int i = 0;
  for (char *f = strtok_r(copy, " \t", &save); f; f = strtok_r(NULL, " \t", &save), i++)
    if (strcmp(f, "PID") == 0)
      return i;
  return -1;
}

static bool row_in_container(const char *line, int col, const pid_t *pids, size_t n) {
  _cleanup_free_ char *copy = oci_xstrdup(line);
  char *save = NULL;
  char *f = strtok_r(copy, " \t", &save);
  for (int i = 0; f && i < col; i++)
    f = strtok_r(NULL, " \t", &save);
  long pid;
  if (f == NULL || oci_parse_long(f, &pid) < 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

static int print_ps_table(const char *id, char **ps_args, int n_args, const pid_t *pids,
                          size_t n, oci_error *err) {
  _cleanup_free_ char *out = NULL;
  if (run_ps(ps_args, n_args, &out, err) < 0)
    return oci_error_wrap(err, "ps \"%s\"", id);
  char *save = NULL;
  char *header = strtok_r(out, "\n", &save);
  int col = header ? pid_column(header) : -1;
  if (col < 0)
    return oci_error_set(err, 0, "ps \"%s\": no PID column in the output of ps", id);
  printf("%s\n", header);
  for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    if (row_in_container(line, col, pids, n))
      printf("%s\n", line);
  return 0;
}

static int ps_main(struct cli_global *g, int argc, char **argv) {
  struct ps_opts o = {.format = "table"};
  struct cli_args args;
  int status;
  if (!cli_parse(&cli_ps, argc, argv, &o, &args, &status))
    return status;
  bool json = strcmp(o.format, "json") == 0;
  if (!json && strcmp(o.format, "table") != 0)
    return cli_usage_error(&cli_ps, "invalid --format \"%s\": expected table or json", o.format);
  oci_error err = {0};
  _cleanup_free_ pid_t *pids = NULL;
  size_t n = 0;
  if (oci_container_ps(&g->ctx, args.v[0], &pids, &n, &err) < 0)
    return cli_fail(&err);
  if (json)
    print_pids_json(pids, n);
  else if (print_ps_table(args.v[0], args.v + 1, args.n - 1, pids, n, &err) < 0)
    return cli_fail(&err);
  return fflush(stdout) == 0 ? 0 : 1;
}

const struct cli_command cli_ps = {
    .name = "ps",
    .summary = "display the processes running inside a container",
    .args_usage = "<container-id> [ps options]",
    .description = "The ps command runs the host's ps(1) with the given options (default:\n"
                   "-ef) and shows only the rows of the container's processes. With\n"
                   "--format json it prints the container's host pids as a JSON array.\n"
                   "Options must come before the container id: what follows it goes to ps.",
    .options = ps_options,
    .n_options = OCI_ARRAY_SIZE(ps_options),
    .min_args = 1,
    .max_args = -1,
    .args_end_options = true,
    .run = ps_main,
};
