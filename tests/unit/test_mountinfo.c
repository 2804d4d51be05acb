/* Unit tests for ocirun's /proc/self/mountinfo parser (mountinfo.c) and mount
 * option table (mount-options.c), with libmount as the reference.
 *
 * ocirun does not link libmount: every command is a short-lived process
 * that starts twice (see libcontainer/selfexe.c), and libmount brings
 * libblkid, libselinux and libpcre2 into each start (measured: 23.2 ->
 * 19.9 ms per `run` without them, docs/performance.md). What it used
 * libmount for, reading mountinfo, it now does itself; this test holds
 * that parser to libmount's reading of the same text, on this host's
 * mount table and on lines with every escape the kernel writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libmount/libmount.h>

#include "../../libcontainer/internal.h"
#include "ocirun/rootfs.h"

/* Write text to a temp file: both parsers read the same snapshot. */
static char *snapshot(const char *text) {
  char *path = strdup("/tmp/ocirun-test-mountinfo-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(oci_write_all(fd, text, strlen(text)), 0);
  close(fd);
  return path;
}

static const char *or_empty(const char *s) {
  return s ? s : "";
}

/* libmount keeps a "none" source as NULL; ocirun keeps the text. */
static void assert_same_source(const char *ours, const char *theirs) {
  if (theirs == NULL)
    assert_true(strcmp(ours, "none") == 0 || *ours == '\0');
  else
    assert_string_equal(ours, theirs);
}

/* Parse text with both and compare every entry, field by field. */
static size_t assert_parsers_agree(const char *text) {
  _cleanup_free_ char *path = snapshot(text);
  struct libmnt_table *tb = mnt_new_table();
  assert_non_null(tb);
  int parsed = mnt_table_parse_file(tb, path);
  unlink(path); /* before any assertion can end the test */
  assert_int_equal(parsed, 0);

  _cleanup_free_ char *copy = strdup(text);
  _cleanup_free_ struct oci_mountinfo_entry *ours = NULL;
  size_t n = 0;
  oci_error err = {0};
  assert_int_equal(oci_mountinfo_parse(copy, &ours, &n, &err), 0);
  assert_int_equal((size_t)mnt_table_get_nents(tb), n);

  struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
  struct libmnt_fs *fs;
  size_t i = 0;
  while (mnt_table_next_fs(tb, it, &fs) == 0) {
    assert_true(i < n);
    assert_string_equal(ours[i].target, or_empty(mnt_fs_get_target(fs)));
    assert_string_equal(ours[i].root, or_empty(mnt_fs_get_root(fs)));
    assert_string_equal(ours[i].fstype, or_empty(mnt_fs_get_fstype(fs)));
    assert_string_equal(ours[i].super_opts, or_empty(mnt_fs_get_fs_options(fs)));
    assert_same_source(ours[i].source, mnt_fs_get_source(fs));
    unsigned long prop = 0;
    assert_int_equal(mnt_fs_get_propagation(fs, &prop), 0);
    assert_int_equal(ours[i].shared, (prop & MS_SHARED) != 0);
    i++;
  }
  assert_int_equal(i, n);
  mnt_free_iter(it);
  mnt_unref_table(tb);
  return n;
}

static void test_this_hosts_mount_table(void **s) {
  _cleanup_free_ char *text = NULL;
  oci_error err = {0};
  assert_int_equal(oci_read_file("/proc/self/mountinfo", &text, NULL, &err), 0);
  /* A root, /proc and /sys at the least: the comparison is not empty. */
  assert_true(assert_parsers_agree(text) >= 3);
}

static void test_escapes_optional_fields_and_odd_sources(void **s) {
  const char *text =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
      /* space, tab, newline and backslash in the mount point */
      "30 22 0:40 / /mnt/a\\040b\\011c\\012d\\134e rw - tmpfs tmpfs rw,size=64k\n"
      /* a bind mount of a subdirectory, with a space in its root */
      "31 22 8:1 /srv/my\\040dir /mnt/bind rw,nosuid shared:5 master:3 - ext4 /dev/sda1 rw\n"
      /* several optional fields, and "none" as source */
      "32 22 0:41 / /mnt/none rw shared:7 master:2 propagate_from:2 unbindable - tmpfs none rw\n"
      /* a source with a space, a fuse subtype */
      "33 22 0:42 / /mnt/fuse rw,nodev - fuse.sshfs user@host:/a\\040b rw,user_id=0\n"
      /* cgroup v1 superblock options */
      "34 22 0:43 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n";
  assert_int_equal(assert_parsers_agree(text), 6);
}

/* Each option libmount's Linux map knows, alone: the same MS_* bits. */
static void test_mount_option_flags_match_libmount(void **s) {
  static const char *names[] = {
      "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async",
      "dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime",
      "relatime", "norelatime", "strictatime", "nostrictatime", "lazytime", "nolazytime",
      "bind", "rbind", "private", "rprivate", "shared", "rshared", "slave", "rslave",
      "unbindable", "runbindable", "mode=755", "size=65536k"};
  const struct libmnt_optmap *map = mnt_get_builtin_optmap(MNT_LINUX_MAP);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    unsigned long theirs = 0, flags = 0, propagation = 0;
    bool recursive = false;
    char *data = NULL;
    oci_error err = {0};
    assert_int_equal(mnt_optstr_get_flags(names[i], &theirs, map), 0);
    char *one[] = {(char *)names[i]};
    assert_int_equal(oci_mount_parse_options(one, 1, &flags, &propagation, &recursive, &data, &err),
                     0);
    if ((flags | propagation) != theirs)
      fail_msg("option \"%s\": ocirun 0x%lx, libmount 0x%lx", names[i], flags | propagation,
               theirs);
    /* What is no flag goes to the filesystem as data, as libmount leaves it. */
    if (theirs == 0 && strchr(names[i], '='))
      assert_string_equal(data, names[i]);
    free(data);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_this_hosts_mount_table),
      cmocka_unit_test(test_escapes_optional_fields_and_odd_sources),
      cmocka_unit_test(test_mount_option_flags_match_libmount),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
