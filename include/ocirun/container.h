/* ocirun — the library API the CLI calls: one function per operation.
 *
 * Nothing here prints or exits; results come back through out-parameters or
 * caller-supplied callbacks, failures through oci_error.
 */
#ifndef OCIRUN_CONTAINER_H
#define OCIRUN_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/error.h"

#define OCI_DEFAULT_STATE_ROOT "/run/ocirun"
#define OCI_SPEC_VERSION "1.2.0"
#define OCI_CONTAINER_ID_MAX 1024

/* Global options, shared by every command. */
struct oci_context {
  const char *state_root;       /* --root; default OCI_DEFAULT_STATE_ROOT */
  bool systemd_cgroup;          /* --systemd-cgroup or --cgroup-manager=systemd */
  bool debug;
  const char *criu;             /* --criu: the criu binary; NULL: "criu" in PATH */
};

/* How CRIU treats the container's cgroups (runc's --manage-cgroups-mode). */
enum oci_criu_cgroups_mode {
  OCI_CRIU_CGROUPS_DEFAULT = 0, /* CRIU's own default */
  OCI_CRIU_CGROUPS_SOFT,
  OCI_CRIU_CGROUPS_FULL,
  OCI_CRIU_CGROUPS_STRICT,
  OCI_CRIU_CGROUPS_IGNORE,
};

/* checkpoint and restore (CRIU), runc's options. */
struct oci_criu_opts {
  const char *image_path;       /* absolute; where the images are (made by checkpoint) */
  const char *work_path;        /* NULL: image_path; CRIU's logs go here */
  const char *parent_path;      /* checkpoint: the previous (pre-)dump, as CRIU takes it */
  const char *page_server_address; /* checkpoint: a CRIU page server's; NULL: none */
  int page_server_port;
  enum oci_criu_cgroups_mode manage_cgroups_mode;
  bool empty_netns;             /* leave the network namespace empty: the engine fills it */
  int status_fd;                /* -1: none */
  bool leave_running;
  bool pre_dump;
  bool tcp_established;
  bool ext_unix_sk;
  bool shell_job;
  bool file_locks;
  bool lazy_pages;
  bool auto_dedup;
};

struct oci_create_opts {
  const char *id;
  const char *bundle;           /* absolute path of the bundle */
  const char *config_path;      /* NULL: <bundle>/config.json */
  const char *pid_file;         /* NULL: none */
  const char *console_socket;   /* NULL: none */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;             /* fds 3 .. 3+N-1 passed to the container */
  bool detach;                  /* run -d */
  bool keep;                    /* run --keep: do not delete after exit */
  const struct oci_criu_opts *restore; /* restore: CRIU brings the process tree back */
};

/* `exec --process FILE` gives a complete process, used as is. Plain `exec`
 * (process_from_cli) gives only what the command line said; the library
 * completes it from the container's config process, as runc does:
 *   args            as given (never empty)
 *   env             the config's env followed by the given env (later wins)
 *   cwd             as given; NULL: the config's
 *   user            uid when uid_set, gid when gid_set, else the config's;
 *                   umask from the config; additional_gids: the config's
 *                   followed by the given ones
 *   capabilities    NULL: the config's sets. Else the given names (in
 *                   bounding only) are added to the config's bounding,
 *                   effective and permitted sets, and to ambient when the
 *                   config has an inheritable set
 *   terminal        as given (false unless -t)
 *   no_new_privileges  as given when no_new_privs_set, else the config's
 *   apparmor_profile, selinux_label  as given; NULL: the config's
 *   everything else (rlimits, oom_score_adj, io_priority, scheduler,
 *   console size) the config's. */
struct oci_exec_opts {
  const char *id;
  struct oci_process *process;  /* the process to run; owned by the caller */
  const char *console_socket;
  const char *pid_file;
  bool detach;
  bool ignore_paused;           /* without it a paused container fails with EBUSY */
  int preserve_fds;
  bool process_from_cli;        /* complete `process` from the config (above) */
  bool uid_set, gid_set;        /* -u UID[:GID] was given */
  bool no_new_privs_set;        /* --no-new-privs[=BOOL] was given */
  char *const *cgroup_subs;     /* --cgroup specs (oci_cgroup_enter_subs) */
  size_t n_cgroup_subs;
};

/* What `state` and `list` report. */
struct oci_container_status {
  char *id;
  char *status;                 /* "created" "running" "paused" "stopped" */
  pid_t pid;                    /* 0 when stopped */
  char *bundle;
  char *rootfs;
  char *created;                /* RFC 3339 */
  char *owner;                  /* user name of the creator */
  struct oci_kv *annotations;
  size_t n_annotations;
};

void oci_container_status_free(struct oci_container_status *st);

/* Validate an id: non-empty, <= OCI_CONTAINER_ID_MAX, no '/', not "." "..". */
int oci_container_id_validate(const char *id, oci_error *err);
/* For a container about to be made (create, run, restore): the above,
 * only runc's characters [A-Za-z0-9_+,.-], and no leading '.'. */
int oci_container_id_validate_new(const char *id, oci_error *err);

int oci_container_create(const struct oci_context *ctx, const struct oci_create_opts *opts,
                         oci_error *err);
int oci_container_start(const struct oci_context *ctx, const char *id, oci_error *err);
/* create + start + wait (+ delete unless detached/keep). *exit_status gets the
 * container's status: exit code, or 128+N when killed by signal N. */
int oci_container_run(const struct oci_context *ctx, const struct oci_create_opts *opts,
                      int *exit_status, oci_error *err);
int oci_container_kill(const struct oci_context *ctx, const char *id, int signum, bool all,
                       oci_error *err);
int oci_container_delete(const struct oci_context *ctx, const char *id, bool force,
                         oci_error *err);
/* The spec's state JSON (plus runc's extra fields), for `state` and hooks. */
int oci_container_state_json(const struct oci_context *ctx, const char *id, char **json,
                             oci_error *err);
int oci_container_list(const struct oci_context *ctx, struct oci_container_status **out,
                       size_t *n, oci_error *err);
/* `list --format json`: runc's array of state objects ("null" for none). */
char *oci_container_list_json(const struct oci_container_status *c, size_t n);

int oci_container_exec(const struct oci_context *ctx, const struct oci_exec_opts *opts,
                       int *exit_status, oci_error *err);

/* Operations on the container's cgroup (libcontainer/control.c). */
int oci_container_pause(const struct oci_context *ctx, const char *id, oci_error *err);
int oci_container_resume(const struct oci_context *ctx, const char *id, oci_error *err);
int oci_container_ps(const struct oci_context *ctx, const char *id, pid_t **pids, size_t *n,
                     oci_error *err);
int oci_container_update(const struct oci_context *ctx, const char *id,
                         const struct oci_resources *res, oci_error *err);
/* Calls emit() with one JSON object (no newline) per event; with stats_only,
 * once. Returns when the container stops or emit() returns < 0. */
typedef int (*oci_event_cb)(const char *json, void *data);
int oci_container_events(const struct oci_context *ctx, const char *id, bool stats_only,
                         unsigned interval_ms, oci_event_cb emit, void *data, oci_error *err);

/* Checkpoint a running container with CRIU into opts->image_path. Unless
 * leave_running or pre_dump, its processes are gone after and it is
 * stopped (delete, or restore into the same id, replaces it). */
int oci_container_checkpoint(const struct oci_context *ctx, const char *id,
                             const struct oci_criu_opts *opts, oci_error *err);
/* Create container opts->id from opts->bundle with the process tree of the
 * checkpoint at opts->restore->image_path; a stopped container of that id
 * is deleted first. Without detach, waits like run (exit_status). */
int oci_container_restore(const struct oci_context *ctx, const struct oci_create_opts *opts,
                          int *exit_status, oci_error *err);
/* The CRIU version ("3.17.1") found as ctx->criu says, or NULL and *err. */
char *oci_criu_available(const struct oci_context *ctx, oci_error *err);
/* The criu binary ctx->criu names (else "criu" in PATH), not run: NULL
 * and why in *err when there is none. */
char *oci_criu_binary(const struct oci_context *ctx, oci_error *err);

/* `spec`: a default config.json text (rootless: user namespace, no cgroups). */
char *oci_spec_default_json(bool rootless);
/* `features`: the runtime-spec features JSON text. Its annotations say
 * whether checkpoint/restore can work (the CRIU ctx->criu finds). */
char *oci_features_json(const struct oci_context *ctx);

#endif
