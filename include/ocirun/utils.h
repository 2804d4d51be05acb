/* ocirun — small helpers shared by libcontainer and the CLI. */
#ifndef OCIRUN_UTILS_H
#define OCIRUN_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

#include "ocirun/error.h"

/* __attribute__((cleanup)) helpers: early returns stay leak-free. */
void oci_cleanup_freep(void *p);
void oci_cleanup_closep(int *fd);
void oci_cleanup_fclosep(FILE **f);
void oci_cleanup_strvp(char ***v);
#define _cleanup_free_ __attribute__((cleanup(oci_cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(oci_cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(oci_cleanup_fclosep)))
#define _cleanup_strv_ __attribute__((cleanup(oci_cleanup_strvp)))

/* Hand ownership out of a cleanup variable. */
#define OCI_STEAL(p) ({ __typeof__(p) _tmp = (p); (p) = NULL; _tmp; })
#define OCI_STEAL_FD(fd) ({ int _tmp = (fd); (fd) = -1; _tmp; })

#define OCI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that never returns NULL (aborts on OOM, as glib/crun do). */
void *oci_xmalloc0(size_t size);
void *oci_xrealloc(void *p, size_t size);
char *oci_xstrdup(const char *s);
char *oci_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void oci_strv_free(char **v);

/* Whole-file and whole-fd I/O. read functions NUL-terminate the buffer. */
int oci_read_file(const char *path, char **out, size_t *len, oci_error *err);
int oci_read_fd(int fd, char **out, size_t *len, oci_error *err);
int oci_write_file(const char *path, const char *data, size_t len, oci_error *err);
/* Write to a file opened relative to dirfd (O_WRONLY|O_CLOEXEC, no create). */
int oci_write_file_at(int dirfd, const char *name, const char *data, size_t len,
                      oci_error *err);
/* Write data to a new file with a unique name beside path, then rename it
 * over path: readers never see half a file, and nothing planted at a
 * predictable name (a symlink) is written through. */
int oci_write_file_atomic(const char *path, const char *data, size_t len, oci_error *err);
/* write()/read() looping over EINTR and short counts. */
int oci_write_all(int fd, const void *buf, size_t len);
ssize_t oci_read_all(int fd, void *buf, size_t len);

/* mkdir -p with mode; existing directories are fine. */
int oci_mkdir_p(const char *path, mode_t mode, oci_error *err);

/* Parse a decimal number; -1 and errno=EINVAL/ERANGE on bad input. */
int oci_parse_long(const char *s, long *out);
/* A signal as runc takes it: a number (0 to NSIG-1), or a name in any case
 * with or without "SIG" ("KILL", "SIGKILL", "sigkill", "RTMIN+3",
 * "SIGRTMAX-1"). -1 when it is none. */
int oci_parse_signal(const char *s);

/* Close every fd >= first (close_range, /proc/self/fd fallback) or mark
 * them CLOEXEC when cloexec is true. */
int oci_close_fds_from(int first, bool cloexec, oci_error *err);
/* Default dispositions and an empty mask, as a process about to execve
 * should have them. Handlers do not survive execve and ocirun installs
 * none, so what needs resetting is what the caller left ignored (SigIgn):
 * one read of /proc/self/status instead of 64 sigaction calls.
 * Async-signal-safe (no allocation). */
void oci_reset_signals_for_exec(void);

/* Is the caller rootless, as runc decides it: not uid 0, or uid 0 of a
 * user namespace other than the initial one with $USER not "root"
 * (rootless podman and buildah run the runtime so). */
bool oci_is_rootless(void);
/* Does this process run in the initial user namespace? */
bool oci_in_initial_userns(void);

/* CLOCK_MONOTONIC in microseconds: deadlines and the debug log's timings. */
uint64_t oci_monotonic_usec(void);
/* The same in milliseconds, signed for deadline arithmetic. */
int64_t oci_monotonic_ms(void);

/* Start time of a pid in clock ticks since boot (field 22 of /proc/PID/stat);
 * 0 when the process does not exist. Used to tell a pid from its reuse. */
unsigned long long oci_pid_start_time(pid_t pid);
/* The same through an open /proc/PID directory (0 once the process is gone). */
unsigned long long oci_proc_start_time_at(int proc_dir);
/* Read a stat file of /proc (path relative to dirfd): *state is field 3
 * (may be NULL), f[k] numeric field k (as numbered in proc(5)) for
 * 4 <= k < max. Returns the last field read, 0 when unreadable. */
int oci_proc_stat_read(int dirfd, const char *path, char *state, unsigned long long *f, int max);

#endif
