/* ocirun — declarations shared inside libcontainer only (not the CLI). */
#ifndef OCIRUN_INTERNAL_H
#define OCIRUN_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocirun/config.h"
#include "ocirun/container.h"
#include "ocirun/error.h"
#include "ocirun/hooks.h"
#include "ocirun/utils.h"

/* ---- state.c: <root>/<id>/ on disk ---------------------------------- */

/* What ocirun keeps about a container between commands. */
struct oci_state {
  char *dir;                 /* <root>/<id> */
  char *id;
  char *bundle;
  char *rootfs;              /* absolute host path */
  pid_t pid;                 /* init pid as seen from the host; 0 = none */
  unsigned long long pid_start; /* /proc/PID/stat starttime, defeats pid reuse */
  char *created;             /* RFC 3339 */
  char *owner;
  char *cgroup;              /* oci_cgroup_save() text; NULL = no cgroup */
  bool systemd_cgroup;
  char *config_json;         /* the config as it was at create (spec: later edits don't count) */
  struct oci_config *config; /* parsed config_json */
};

/* Load <root>/<id>/state.json. A missing container gives
 * `container "ID" does not exist` with errnum ENOENT; a state.json that
 * cannot be used (not JSON, a field missing or of the wrong type, a config
 * that does not parse) an error naming it with errnum EUCLEAN. */
int oci_state_load(const struct oci_context *ctx, const char *id, struct oci_state **out,
                   oci_error *err);
void oci_state_free(struct oci_state *st);

/* The status, derived and never trusted from the file: exec.fifo present and
 * init alive -> "created"; init alive (same start time) -> "running", or
 * "paused" when its cgroup is frozen; else "stopped". */
const char *oci_state_status(const struct oci_state *st);

/* Is the init process still the one we started? */
bool oci_state_init_alive(const struct oci_state *st);

/* Take the per-container lock (flock on the directory <root>/<id>). Returns fd. */
int oci_state_lock(const struct oci_context *ctx, const char *id, oci_error *err);

/* Make <root>/<id> (exclusive: an existing id is an error naming it) and
 * return its path. */
int oci_state_dir_create(const struct oci_context *ctx, const char *id, char **dir,
                         oci_error *err);
/* Write st, config_json included, to <dir>/state.json atomically. */
int oci_state_save(const struct oci_state *st, oci_error *err);
/* rm -r of <root>/<id>. */
int oci_state_dir_remove(const char *dir, oci_error *err);
/* create's first record, <dir>/cgroup.json: the cgroups (and systemd unit)
 * it is about to make, written before any is made, so that delete --force
 * finds them when create died before state.json. Load gives NULL if none. */
int oci_state_save_cgroup_record(const char *dir, const char *saved, oci_error *err);
char *oci_state_load_cgroup_record(const struct oci_context *ctx, const char *id);
/* <dir>/init.pid, "PID STARTTIME", for a container without a cgroup: what
 * else finds its init when state.json is damaged. Load: false when there
 * is none or it does not hold two positive numbers. */
int oci_state_save_init_record(const char *dir, pid_t pid, unsigned long long start,
                               oci_error *err);
bool oci_state_load_init_record(const struct oci_context *ctx, const char *id, pid_t *pid,
                                unsigned long long *start);
bool oci_state_dir_exists(const struct oci_context *ctx, const char *id);
/* <root>/<id>, for a dir left without state.json by a create that died. */
int oci_state_dir_remove_by_id(const struct oci_context *ctx, const char *id, oci_error *err);

/* ---- host-rootfs.c: a container without a mount namespace -------------- */

/* Bind the rootfs onto itself in the runtime's (the host's) mount namespace
 * and record that bind in state_dir; every mount the container makes goes
 * below it. */
int oci_host_rootfs_bind(const char *state_dir, const char *rootfs, oci_error *err);
/* Detach the recorded bind, with everything below it, if it is still the
 * topmost mount at the rootfs. Nothing when state_dir has no record. Called
 * by oci_state_dir_remove. */
void oci_host_rootfs_unbind(const char *state_dir);
/* The spec's state JSON (+ runc's rootfs/created/owner) with the given
 * status; pid is omitted when 0. */
char *oci_state_spec_json(const struct oci_state *st, const char *status, bool pretty);
/* Ids under the state root (sorted): those with a state.json, and those
 * without one that nobody is creating or deleting (the lock is free). */
int oci_state_list_ids(const struct oci_context *ctx, char ***ids, size_t *n, oci_error *err);
/* User name of the effective uid ("#N" when unknown). */
char *oci_state_owner_name(void);
/* RFC 3339 UTC time with nanoseconds, as runc writes "created". */
char *oci_now_rfc3339(void);
/* Is pid alive (not a zombie) and started at `start` (0: don't check)? */
bool oci_pid_alive(pid_t pid, unsigned long long start);


/* ---- mountinfo.c: /proc/self/mountinfo ------------------------------ */

/* One mount; the strings point into the text that was parsed. */
struct oci_mountinfo_entry {
  const char *root;        /* the mounted part of its filesystem */
  const char *target;      /* the mount point */
  const char *fstype;
  const char *source;
  const char *super_opts;  /* the superblock options: "rw,memory" */
  bool shared;             /* in a peer group (optional field "shared:N") */
};

/* Split mountinfo text in place (octal escapes undone) into *out. */
int oci_mountinfo_parse(char *text, struct oci_mountinfo_entry **out, size_t *n,
                        oci_error *err);
/* Read and parse /proc/self/mountinfo; free *text and *out after use. */
int oci_mountinfo_read(char **text, struct oci_mountinfo_entry **out, size_t *n,
                       oci_error *err);
/* The mount that holds path (absolute, clean): its own mount point or the
 * nearest parent's, the last mounted one when several are stacked. */
const struct oci_mountinfo_entry *oci_mountinfo_mountpoint(const struct oci_mountinfo_entry *e,
                                                           size_t n, const char *path);

/* ---- sync.c: parent <-> init protocol over a SOCK_STREAM socketpair --- */

enum oci_sync_type {
  OCI_SYNC_GO = 1,          /* P->C: in the cgroup: finish; payload = state JSON */
  OCI_SYNC_MAPPED,          /* P->C: id maps and oom score written: start building */
  OCI_SYNC_HOOKS,           /* C->P: mounts done, run prestart/createRuntime hooks */
  OCI_SYNC_HOOKS_DONE,      /* P->C: payload = state JSON for createContainer hooks */
  OCI_SYNC_SECCOMP_FD,      /* C->P: one fd attached: the seccomp listener */
  OCI_SYNC_TTY_FD,          /* C->P: one fd attached: the pty master (no console socket) */
  OCI_SYNC_PID,             /* C->P: payload = pid_t of the real init (intermediate case) */
  OCI_SYNC_READY,           /* C->P: set up; waiting for start (exec: about to exec) */
  OCI_SYNC_ERROR,           /* C->P: payload = int errnum + message */
  OCI_SYNC_DEVICE_FD,       /* C->P: one fd attached: a device node's mount; payload = size_t index */
};

struct oci_sync_msg {
  enum oci_sync_type type;
  char *data;               /* malloc'd payload, NUL-terminated; may be NULL */
  size_t len;
  int fd;                   /* attached fd or -1 */
};

int oci_sync_send(int sock, enum oci_sync_type type, const void *data, size_t len, int fd,
                  oci_error *err);
/* Receive one message; EOF reads as an error ("init exited unexpectedly"). */
int oci_sync_recv(int sock, struct oci_sync_msg *msg, oci_error *err);
void oci_sync_msg_clear(struct oci_sync_msg *msg);
/* Receive and require `type`; an OCI_SYNC_ERROR from the peer becomes *err. */
int oci_sync_expect(int sock, enum oci_sync_type type, struct oci_sync_msg *msg, oci_error *err);
/* The pid an OCI_SYNC_PID carries; an error unless it holds exactly one
 * positive pid_t. */
int oci_sync_decode_pid(const struct oci_sync_msg *msg, pid_t *pid, oci_error *err);
/* Turn a received OCI_SYNC_ERROR into *err. Returns -1. */
int oci_sync_decode_error(const struct oci_sync_msg *msg, oci_error *err);
/* Receive and hand every message to handle until the peer sends READY (0)
 * or ERROR (-1, its error in *err); a handler returning -1 stops it too.
 * The handler may take msg->fd (set it to -1); the rest is freed. */
typedef int (*oci_sync_handler)(void *data, struct oci_sync_msg *msg, oci_error *err);
int oci_sync_serve(int sock, oci_sync_handler handle, void *data, oci_error *err);
/* Child side: report err to the parent (best effort). */
void oci_sync_send_error(int sock, const oci_error *err);

/* ---- namespaces.c ------------------------------------------------------ */

/* Flags of the namespaces the config asks to create (no path). CLONE_NEWTIME
 * is left out: it is made by oci_ns_prepare_time(). */
int oci_ns_new_flags(const struct oci_config *cfg);
bool oci_ns_wants(const struct oci_config *cfg, enum oci_ns_type t);

/* Does the config ask for a new time namespace? */
bool oci_ns_wants_new_time(const struct oci_config *cfg);
/* In the intermediate process, before it clones the init: a new time
 * namespace for its children with linux.timeOffsets written (offsets can
 * only be set before anyone enters). Never in the runtime itself: its
 * hooks and helpers would run with the container's clocks. */
int oci_ns_prepare_time(const struct oci_config *cfg, oci_error *err);

/* Parent side: write uid_map/gid_map (and setgroups) of pid. */
int oci_ns_write_id_maps(const struct oci_config *cfg, pid_t pid, oci_error *err);

/* Open every namespaces[].path now (fds CLOEXEC), so later mounts can't
 * change what they point to. fds[t] = -1 where no path. */
int oci_ns_open_paths(const struct oci_config *cfg, int fds[OCI_NS_COUNT], oci_error *err);
/* setns() into each open fd: user first, mount last. Closes them. */
int oci_ns_join_fds(int fds[OCI_NS_COUNT], const char *what, oci_error *err);
void oci_ns_close_fds(int fds[OCI_NS_COUNT]);

/* ---- selfexe.c: the runtime binary out of the container's reach ------- */

/* Put the runtime on a read-only clone mount of its binary unless it runs
 * from a protected file already: moved there in place, or re-executed from
 * it (from a sealed memfd copy when rootless). Returns 0 once protected; a
 * re-exec does not return but starts the command over. Call before
 * anything that changes the host. */
int oci_selfexe_protect(oci_error *err);
/* Does /proc/self/exe refuse writes (sealed memfd or read-only mount)? */
bool oci_selfexe_is_protected(void);

/* ---- container.c: create as a transaction ---------------------------- */

struct oci_cgroup;
struct oci_seccomp_filter;

/* What create has made so far, undone by its rollback on failure. */
struct creation {
  struct oci_state *st;
  struct oci_cgroup *cg;
  struct oci_seccomp_filter *seccomp;
  pid_t pid;
  int sock;          /* parent end of the sync socketpair */
  int tty_master;    /* received from the init when relaying */
  int lock;          /* flock on the state dir until state.json is written */
  bool dir_made;
  bool cg_made;      /* c->cg's directories exist: rollback removes them */
  bool hooks_ran;    /* prestart/createRuntime started: poststop owed */
  struct oci_hooks_output hooks_out; /* for prestart to startContainer */
  bool run;          /* for `run`: started right away, a process is needed */
};

/* ---- restore.c: CRIU in place of the init ------------------------------ */

/* Restore's middle step of create (o->restore): with the state dir locked
 * and the cgroup prepared, CRIU brings back the process tree; c->pid is
 * its root, our child. The cgroup is made around CRIU. */
int oci_restore_process(const struct oci_context *ctx, struct creation *c,
                        const struct oci_create_opts *o, oci_error *err);

/* ---- process.c: the container's init ---------------------------------- */

/* Everything the init needs, prepared by the parent before clone. */
struct oci_init_args {
  const struct oci_config *cfg;
  const char *id;
  const char *bundle;
  const char *rootfs;         /* absolute host path */
  int sync_fd;                /* the init's end of the socketpair */
  int fifo_fd;                /* exec.fifo opened O_RDWR: start writes, init reads */
  int lock_fd;                /* the state dir's flock, held by create: the
                               * init closes its copy first thing */
  int result_fd;              /* start.result opened O_RDWR when there are
                               * startContainer hooks: the init writes why it
                               * failed; its close at execve means success */
  int console_fd;             /* connected --console-socket, or -1 */
  bool tty_to_parent;         /* terminal without console socket: send master to parent */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  bool userns;                /* the init runs in a user namespace of its own */
  bool cgroupns;              /* a new cgroup namespace */
  const struct oci_cgroup *cgroup;
  struct oci_seccomp_filter *seccomp;
  struct oci_hooks_output hooks_out; /* createContainer's and startContainer's */
  int ns_fds[OCI_NS_COUNT];   /* namespaces[].path fds to join */
  int unshare_flags;          /* namespaces the init makes itself (CLONE_NEWNET) */
  int *bind_trees;            /* oci_rootfs_open_bind_trees, set by oci_init_spawn */
  int *device_nodes;          /* oci_devices_make_nodes, set by oci_init_spawn */
  bool parent_exits;          /* set in the intermediate: the init's parent
                               * exits at once, so no PR_SET_PDEATHSIG */
};

/* Start the init: clone with the namespace flags (through an intermediate
 * process when namespaces are joined by path). Returns the init's pid as
 * seen from the caller. */
int oci_init_spawn(struct oci_init_args *a, int parent_sock, pid_t *pid, oci_error *err);

/* Executable lookup like execvp, but in the container's PATH. */
char *oci_find_executable(const char *name, char **env, size_t n_env);
/* Apply process.rlimits. */
int oci_apply_rlimits(const struct oci_process *p, oci_error *err);
/* What oci_set_user does with the supplementary groups. */
enum oci_groups_mode {
  OCI_GROUPS_SET,    /* setgroups(additionalGids) */
  OCI_GROUPS_DENIED, /* setgroups is denied here: only an empty list is possible */
  OCI_GROUPS_KEEP,   /* run.oci.keep_original_groups: leave the caller's */
};
/* setgroups/setresgid/setresuid + umask for process.user. */
int oci_set_user(const struct oci_user *u, enum oci_groups_mode groups, oci_error *err);
/* no_new_privs, bounding set, user, capabilities: the order the kernel
 * needs. With a seccomp filter to load without no_new_privs, CAP_SYS_ADMIN
 * stays effective until execve. keep_groups: the container's
 * run.oci.keep_original_groups is on. */
int oci_process_drop_privileges(const struct oci_process *p, bool keep_groups,
                                const struct oci_seccomp_filter *seccomp, oci_error *err);
/* The last steps before execve: every fd from 3 + preserve_fds on marked
 * close-on-exec, then the seccomp filter (if not NULL). Once the filter is
 * loaded the only system call left is execve. */
int oci_process_before_execve(int preserve_fds, struct oci_seccomp_filter *seccomp,
                              oci_error *err);
/* A filter with SCMP_ACT_NOTIFY is loaded before READY, its listener sent
 * on sync_fd (OCI_SYNC_SECCOMP_FD) for the parent to hand to the agent; no
 * filter or another one: nothing to do. */
int oci_process_send_listener(struct oci_seccomp_filter *seccomp, int sync_fd, oci_error *err);
/* The filter oci_process_before_execve() loads: NULL for a NOTIFY one. */
struct oci_seccomp_filter *oci_process_late_filter(struct oci_seccomp_filter *seccomp);
/* p's environment for execve, with HOME from the container's /etc/passwd
 * when p sets none or an empty one (as runc). Call inside the container's
 * root, before privileges are dropped. */
char **oci_process_env_with_home(const struct oci_process *p);
/* exe from oci_find_executable (may be NULL): is it there and executable? */
int oci_check_executable(const char *exe, const char *arg0, oci_error *err);
/* fork-like clone(2) with namespace flags. */
pid_t oci_clone_flags(int flags);
/* supervise.c: block the signals a foreground run forwards, from before the
 * container exists, so one sent while it is created waits in the signalfd
 * instead of killing us. */
void oci_block_forwarded_signals(void);
/* Foreground run/exec: relay the tty (when tty_master >= 0), forward
 * signals to pid, reap children, return pid's exit status. */
int oci_wait_foreground(pid_t pid, int tty_master, int *exit_status, oci_error *err);
/* Exit status as a shell reports it: code, or 128+N for signal N. */
int oci_wait_status_to_exit(int status);

#endif
