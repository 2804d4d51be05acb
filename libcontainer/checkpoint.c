/* ocirun — checkpoint and restore with CRIU, as runc's commands do them.
 *
 * checkpoint asks `criu swrk` (criu.c) to dump the init's process tree into
 * an image directory. What lies outside the container is named to CRIU as
 * external, so a restore can plug the new host's objects in: bind mounts
 * (by destination; restore gives their sources again), a network or pid
 * namespace joined by path, the init's stdio (descriptors.json, runc's
 * file: pipes are handed to the restored process by restore's own stdio).
 *
 * restore is create with CRIU in place of the init (container.c calls
 * oci_restore_process()): the state dir, the cgroup and the rollback are
 * create's. CRIU runs in a mount namespace of its own where the rootfs is
 * a mount point, is placed in the container's cgroup before it forks, and
 * brings the tree back as our child (rst_sibling). On its notifications we
 * run the prestart and createRuntime hooks once the namespaces exist
 * ("setup-namespaces", as runc) and pass on the pty master of a container
 * with a terminal ("orphan-pts-master"). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config-json.h"
#include "criu.h"
#include "internal.h"
#include "ocirun/cgroup.h"
#include "ocirun/hooks.h"
#include "ocirun/log.h"
#include "ocirun/safepath.h"
#include "ocirun/terminal.h"

#define CRIU_LOG_LEVEL 4 /* debug: what one needs to read after a failure */
#define DESCRIPTORS_FILE "descriptors.json"
#define EXT_NET_KEY "extRootNetNS"
#define EXT_PID_KEY "extRootPidNS"

/* ---- a request under construction ------------------------------------- */

/* CriuOpts points into memory we own: the arrays and the strings built for
 * it live here until the request is sent. */
struct criu_request {
  CriuReq req;
  CriuOpts opts;
  CriuPageServerInfo ps;
  ExtMountMap *mnts;
  ExtMountMap **mnt_ptrs;
  size_t n_mnts;
  InheritFd *inherit;
  InheritFd **inherit_ptrs;
  size_t n_inherit;
  CgroupRoot *cg_roots;
  CgroupRoot **cg_root_ptrs;
  size_t n_cg_roots;
  char **strings;           /* everything allocated for the fields */
  size_t n_strings;
  char *ext_ns[2];          /* "net[INODE]:KEY" */
  size_t n_ext_ns;
};

static char *keep_string(struct criu_request *r, char *s) {
  r->strings = oci_xrealloc(r->strings, (r->n_strings + 1) * sizeof(char *));
  r->strings[r->n_strings++] = s;
  return s;
}

static void request_free(struct criu_request *r) {
  free(r->mnts);
  free(r->mnt_ptrs);
  free(r->inherit);
  free(r->inherit_ptrs);
  free(r->cg_roots);
  free(r->cg_root_ptrs);
  for (size_t i = 0; i < r->n_strings; i++)
    free(r->strings[i]);
  free(r->strings);
}

/* Room for n more entries in a request's array; pointers refreshed last. */
static void add_ext_mount(struct criu_request *r, const char *key, const char *val) {
  r->mnts = oci_xrealloc(r->mnts, (r->n_mnts + 1) * sizeof(*r->mnts));
  ExtMountMap m = EXT_MOUNT_MAP__INIT;
  m.key = keep_string(r, oci_xstrdup(key));
  m.val = keep_string(r, oci_xstrdup(val));
  r->mnts[r->n_mnts++] = m;
}

static void add_inherit_fd(struct criu_request *r, const char *key, int fd) {
  r->inherit = oci_xrealloc(r->inherit, (r->n_inherit + 1) * sizeof(*r->inherit));
  InheritFd i = INHERIT_FD__INIT;
  i.key = keep_string(r, oci_xstrdup(key));
  i.fd = fd;
  r->inherit[r->n_inherit++] = i;
}

static void add_cg_root(struct criu_request *r, const char *ctrl, const char *path) {
  r->cg_roots = oci_xrealloc(r->cg_roots, (r->n_cg_roots + 1) * sizeof(*r->cg_roots));
  CgroupRoot c = CGROUP_ROOT__INIT;
  c.ctrl = ctrl ? keep_string(r, oci_xstrdup(ctrl)) : NULL;
  c.path = keep_string(r, oci_xstrdup(path));
  r->cg_roots[r->n_cg_roots++] = c;
}

/* The pointer arrays protobuf-c wants, once every entry is in. */
static void request_seal(struct criu_request *r) {
  r->mnt_ptrs = oci_xmalloc0((r->n_mnts + 1) * sizeof(*r->mnt_ptrs));
  for (size_t i = 0; i < r->n_mnts; i++)
    r->mnt_ptrs[i] = &r->mnts[i];
  r->opts.n_ext_mnt = r->n_mnts;
  r->opts.ext_mnt = r->mnt_ptrs;
  r->inherit_ptrs = oci_xmalloc0((r->n_inherit + 1) * sizeof(*r->inherit_ptrs));
  for (size_t i = 0; i < r->n_inherit; i++)
    r->inherit_ptrs[i] = &r->inherit[i];
  r->opts.n_inherit_fd = r->n_inherit;
  r->opts.inherit_fd = r->inherit_ptrs;
  r->cg_root_ptrs = oci_xmalloc0((r->n_cg_roots + 1) * sizeof(*r->cg_root_ptrs));
  for (size_t i = 0; i < r->n_cg_roots; i++)
    r->cg_root_ptrs[i] = &r->cg_roots[i];
  r->opts.n_cg_root = r->n_cg_roots;
  r->opts.cg_root = r->cg_root_ptrs;
  r->opts.n_external = r->n_ext_ns;
  r->opts.external = r->ext_ns;
  r->req.opts = &r->opts;
}

/* CRIU's value for each of runc's modes (the CLI has parsed the name). */
static CriuCgMode criu_cg_mode(enum oci_criu_cgroups_mode m) {
  switch (m) {
  case OCI_CRIU_CGROUPS_FULL:
    return CRIU_CG_MODE__FULL;
  case OCI_CRIU_CGROUPS_STRICT:
    return CRIU_CG_MODE__STRICT;
  case OCI_CRIU_CGROUPS_IGNORE:
    return CRIU_CG_MODE__IGNORE;
  default:
    return CRIU_CG_MODE__SOFT;
  }
}

/* The options both directions share. */
static int request_init(struct criu_request *r, CriuReqType type, const struct oci_criu_opts *o,
                        const char *rootfs, const char *log_name, oci_error *err) {
  memset(r, 0, sizeof(*r));
  r->req = (CriuReq)CRIU_REQ__INIT;
  r->opts = (CriuOpts)CRIU_OPTS__INIT;
  r->req.type = type;
  CriuOpts *p = &r->opts;
  p->log_file = (char *)log_name;
  p->has_log_level = true;
  p->log_level = CRIU_LOG_LEVEL;
  p->root = keep_string(r, oci_xstrdup(rootfs));
  p->has_manage_cgroups = p->manage_cgroups = true;
  p->has_notify_scripts = p->notify_scripts = true;
  p->has_shell_job = true, p->shell_job = o->shell_job;
  p->has_ext_unix_sk = true, p->ext_unix_sk = o->ext_unix_sk;
  p->has_tcp_established = true, p->tcp_established = o->tcp_established;
  p->has_file_locks = true, p->file_locks = o->file_locks;
  p->has_auto_dedup = true, p->auto_dedup = o->auto_dedup;
  p->has_lazy_pages = true, p->lazy_pages = o->lazy_pages;
  if (o->status_fd >= 0)
    p->has_status_fd = true, p->status_fd = o->status_fd;
  if (o->manage_cgroups_mode != OCI_CRIU_CGROUPS_DEFAULT) {
    p->has_manage_cgroups_mode = true;
    p->manage_cgroups_mode = criu_cg_mode(o->manage_cgroups_mode);
  }
  /* The only one runc knows: the engine sets the network up again itself. */
  if (o->empty_netns) {
    p->has_empty_ns = true;
    p->empty_ns = CLONE_NEWNET;
  }
  return 0;
}

static void request_dirs(struct criu_request *r, int images_fd, int work_fd) {
  r->opts.images_dir_fd = images_fd;
  r->opts.has_work_dir_fd = true;
  r->opts.work_dir_fd = work_fd;
}

static bool mount_is_bind(const struct oci_mount *m) {
  if (m->type && strcmp(m->type, "bind") == 0)
    return true;
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp(m->options[i], "bind") == 0 || strcmp(m->options[i], "rbind") == 0)
      return true;
  return false;
}

/* Bind mounts come from the host: external, named by their destination.
 * A dump gives the destination as the value too; a restore the source to
 * bind there now. */
static void add_bind_mounts(struct criu_request *r, const struct oci_config *cfg, bool restore) {
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (mount_is_bind(m) && m->source)
      add_ext_mount(r, m->destination, restore ? m->source : m->destination);
  }
}

/* Without a cgroup namespace the container's cgroup mount is a bind of its
 * host cgroup directory (rootfs.c), whose master is the host's mount: CRIU
 * takes it only as an external mount, keyed by where it is in the container
 * and, at restore, bound from the new container's directory (runc marks it
 * external too). One per hierarchy under a v1 tmpfs. */
static void add_cgroup_binds(struct criu_request *r, const struct oci_config *cfg,
                             const struct oci_cgroup *cg, bool restore) {
  if (cg == NULL || oci_ns_wants(cfg, OCI_NS_CGROUP))
    return;
  struct oci_cgroup_view v[32];
  bool tmpfs;
  size_t n = oci_cgroup_views(cg, v, OCI_ARRAY_SIZE(v), &tmpfs);
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (m->type == NULL || strcmp(m->type, "cgroup") != 0 || mount_is_bind(m))
      continue;
    for (size_t k = 0; k < n && k < OCI_ARRAY_SIZE(v); k++) {
      _cleanup_free_ char *key = v[k].name ? oci_xasprintf("%s/%s", m->destination, v[k].name)
                                           : oci_xstrdup(m->destination);
      add_ext_mount(r, key, restore ? v[k].host_dir : key);
    }
  }
}

/* "descriptors.json": what the init's fds 0-2 were (readlink), as runc
 * writes it; pipes among them are plugged into restore's own stdio. */
static int write_descriptors(int images_fd, pid_t pid, oci_error *err) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_array_open(g);
  for (int fd = 0; fd < 3; fd++) {
    char link[64], target[4096];
    snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    j_gen_str(g, target);
  }
  yajl_gen_array_close(g);
  _cleanup_free_ char *json = j_gen_finish(g);
  _cleanup_close_ int fd =
      openat(images_fd, DESCRIPTORS_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || oci_write_all(fd, json, strlen(json)) < 0)
    return oci_error_errno(err, "write %s", DESCRIPTORS_FILE);
  return 0;
}

/* A checkpoint without descriptors.json (not runc's or ours) just gets no
 * stdio plugged in. */
static void inherit_stdio_pipes(struct criu_request *r, int images_fd) {
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  oci_error ignored;
  _cleanup_free_ char *file = oci_xasprintf("/proc/self/fd/%d/%s", images_fd, DESCRIPTORS_FILE);
  if (oci_read_file(file, &text, &len, &ignored) < 0)
    return;
  yajl_val tree = yajl_tree_parse(text, NULL, 0);
  if (tree && YAJL_IS_ARRAY(tree))
    for (size_t i = 0; i < tree->u.array.len && i < 3; i++) {
      const char *d = YAJL_GET_STRING(tree->u.array.values[i]);
      if (d && strncmp(d, "pipe:", 5) == 0)
        add_inherit_fd(r, d, (int)i);
    }
  yajl_tree_free(tree);
}

/* The image and work directories, made (0700) when asked to write. */
static int open_dir(const char *path, const char *what, bool make, oci_error *err) {
  if (make && oci_mkdir_p(path, 0700, err) < 0)
    return oci_error_wrap(err, "%s", what);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_errno(err, "%s \"%s\"", what, path);
  return fd;
}

static char *work_log(const struct oci_criu_opts *o, const char *name) {
  return oci_xasprintf("%s/%s", o->work_path ? o->work_path : o->image_path, name);
}

/* A request's outcome: a failure CRIU reports, or its death (EPIPE: it
 * closed the socket without an answer), explained with its log. */
static int call_outcome(int ret, const CriuResp *resp, const char *what, const char *log,
                        oci_error *err) {
  if (ret == 0 && !resp->success)
    return oci_criu_failure(resp, what, log, err);
  if (ret < 0 && err->errnum == EPIPE)
    return oci_criu_failure(NULL, what, log, err);
  return ret;
}

char *oci_criu_binary(const struct oci_context *ctx, oci_error *err) {
  return oci_criu_find(ctx->criu, err);
}

char *oci_criu_available(const struct oci_context *ctx, oci_error *err) {
  _cleanup_free_ char *bin = oci_criu_find(ctx->criu, err);
  return bin ? oci_criu_version(bin, err) : NULL;
}

/* ---- checkpoint ------------------------------------------------------- */

/* A namespace joined by path is the host's, not the container's: external.
 * Its inode is the key a restore finds it by again. */
static int add_external_ns(struct criu_request *r, const struct oci_state *st, oci_error *err) {
  static const struct {
    enum oci_ns_type type;
    const char *proc, *key;
  } ext[] = {{OCI_NS_NETWORK, "net", EXT_NET_KEY}, {OCI_NS_PID, "pid", EXT_PID_KEY}};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(ext); i++) {
    const struct oci_namespace *ns = oci_config_namespace(st->config, ext[i].type);
    if (ns == NULL || ns->path == NULL)
      continue;
    _cleanup_free_ char *p = oci_xasprintf("/proc/%d/ns/%s", (int)st->pid, ext[i].proc);
    struct stat sb;
    if (stat(p, &sb) < 0)
      return oci_error_errno(err, "%s namespace of the container", ext[i].proc);
    r->ext_ns[r->n_ext_ns++] = keep_string(
        r, oci_xasprintf("%s[%llu]:%s", ext[i].proc, (unsigned long long)sb.st_ino, ext[i].key));
  }
  return 0;
}

static void page_server(struct criu_request *r, const char *address, int port) {
  r->ps = (CriuPageServerInfo)CRIU_PAGE_SERVER_INFO__INIT;
  r->ps.address = keep_string(r, oci_xstrdup(address));
  r->ps.has_port = true;
  r->ps.port = port;
  r->opts.ps = &r->ps;
}

static int dump_request(struct criu_request *r, const struct oci_state *st,
                        const struct oci_criu_opts *o, int images_fd, int work_fd,
                        oci_error *err) {
  if (request_init(r, o->pre_dump ? CRIU_REQ_TYPE__PRE_DUMP : CRIU_REQ_TYPE__DUMP, o, st->rootfs,
                   "dump.log", err) < 0)
    return -1;
  request_dirs(r, images_fd, work_fd);
  CriuOpts *p = &r->opts;
  p->has_pid = true;
  p->pid = st->pid;
  p->has_leave_running = true;
  p->leave_running = o->leave_running;
  /* The memory tracker lets a later dump write only what changed. */
  if (o->pre_dump || o->parent_path)
    p->has_track_mem = p->track_mem = true;
  if (o->parent_path)
    p->parent_img = keep_string(r, oci_xstrdup(o->parent_path));
  if (o->page_server_address)
    page_server(r, o->page_server_address, o->page_server_port);
  /* The pty master of a terminal is the engine's: CRIU leaves it out
   * and a restore makes a new one (orphan-pts-master). */
  if (st->config->process && st->config->process->terminal)
    p->has_orphan_pts_master = p->orphan_pts_master = true;
  add_bind_mounts(r, st->config, false);
  struct oci_cgroup *cg = NULL;
  oci_error ignored; /* no cgroup (rootless): no cgroup mount to mark */
  if (st->cgroup && oci_cgroup_load(st->cgroup, &cg, &ignored) == 0) {
    add_cgroup_binds(r, st->config, cg, false);
    oci_cgroup_free(cg);
  }
  if (add_external_ns(r, st, err) < 0)
    return -1;
  request_seal(r);
  return 0;
}

static int run_dump(const struct oci_context *ctx, const struct oci_state *st,
                    const struct oci_criu_opts *o, oci_error *err) {
  _cleanup_free_ char *bin = oci_criu_find(ctx->criu, err);
  if (bin == NULL)
    return -1;
  const char *work = o->work_path ? o->work_path : o->image_path;
  _cleanup_close_ int images_fd = open_dir(o->image_path, "checkpoint image directory", true, err);
  if (images_fd < 0)
    return -1;
  _cleanup_close_ int work_fd = open_dir(work, "CRIU work directory", true, err);
  if (work_fd < 0 || write_descriptors(images_fd, st->pid, err) < 0)
    return -1;
  struct criu_request r;
  int ret = dump_request(&r, st, o, images_fd, work_fd, err);
  struct oci_criu c = {.pid = -1, .sock = -1};
  int keep[1] = {o->status_fd};
  struct oci_criu_spawn sp = {.keep_fds = keep, .n_keep_fds = o->status_fd >= 0};
  CriuResp *resp = NULL;
  if (ret == 0)
    ret = oci_criu_start(bin, &sp, &c, err);
  if (ret == 0)
    ret = oci_criu_call(&c, &r.req, NULL, NULL, &resp, err);
  oci_criu_stop(&c);
  _cleanup_free_ char *log = work_log(o, "dump.log");
  ret = call_outcome(ret, resp, o->pre_dump ? "pre-dump" : "dump", log, err);
  if (resp)
    criu_resp__free_unpacked(resp, NULL);
  request_free(&r);
  return ret;
}

int oci_container_checkpoint(const struct oci_context *ctx, const char *id,
                             const struct oci_criu_opts *o, oci_error *err) {
  if (oci_container_id_validate(id, err) < 0)
    return -1;
  _cleanup_close_ int lock = oci_state_lock(ctx, id, err);
  if (lock < 0)
    return oci_error_wrap(err, "checkpoint \"%s\"", id);
  struct oci_state *st = NULL;
  if (oci_state_load(ctx, id, &st, err) < 0)
    return oci_error_wrap(err, "checkpoint \"%s\"", id);
  const char *status = oci_state_status(st);
  int r;
  if (strcmp(status, "running") != 0)
    r = oci_error_setx(err, EINVAL, "container \"%s\" is %s, not running: nothing to checkpoint",
                       id, status);
  else
    r = run_dump(ctx, st, o, err);
  oci_state_free(st);
  if (r < 0)
    return oci_error_wrap(err, "checkpoint \"%s\"", id);
  return 0;
}

/* ---- restore ---------------------------------------------------------- */

struct restore_run {
  struct creation *c;
  int console;              /* connected --console-socket, or -1 */
};

/* The namespaces exist, nothing runs yet: the hooks that set a container
 * up from the host (a network) run now, with the restored pid. */
static int on_setup_namespaces(struct restore_run *rr, pid_t pid, oci_error *err) {
  struct oci_state *st = rr->c->st;
  const struct oci_hooks *h = &st->config->hooks;
  if (h->prestart.n == 0 && h->create_runtime.n == 0)
    return 0;
  st->pid = pid;
  /* As create gives them (container.c): the spec's "created", after step 2. */
  _cleanup_free_ char *json = oci_state_spec_json(st, "created", false);
  rr->c->hooks_ran = true;
  const struct oci_hooks_output *out = &rr->c->hooks_out;
  if (oci_hooks_run(&h->prestart, "prestart", st->bundle, out, json, err) < 0 ||
      oci_hooks_run(&h->create_runtime, "createRuntime", st->bundle, out, json, err) < 0)
    return -1;
  return 0;
}

static int on_notify(const char *script, pid_t pid, int fd, void *data, oci_error *err) {
  struct restore_run *rr = data;
  if (strcmp(script, "setup-namespaces") == 0)
    return on_setup_namespaces(rr, pid, err);
  if (strcmp(script, "orphan-pts-master") != 0) {
    if (fd >= 0)
      close(fd);
    return 0;
  }
  if (fd < 0)
    return oci_error_setx(err, EPROTO, "criu sent no pty master with orphan-pts-master");
  if (rr->console < 0) {
    rr->c->tty_master = fd; /* foreground: relayed like run's */
    return 0;
  }
  int r = oci_send_fd(rr->console, fd, "/dev/ptmx", err);
  close(fd);
  return r < 0 ? oci_error_wrap(err, "console socket") : 0;
}

/* CRIU forks the tree: it goes into the container's cgroup first, made
 * now around it (the systemd driver needs a pid), limits written. The
 * cgroups of the image are placed relative to the container's. */
static int place_criu(struct creation *c, pid_t criu_pid, struct criu_request *r,
                      oci_error *err) {
  if (c->cg == NULL)
    return 0;
  if (!c->cg_made) {
    if (oci_cgroup_make(c->cg, c->st->id, criu_pid, err) < 0)
      return -1;
    c->cg_made = true;
    c->st->cgroup = oci_cgroup_save(c->cg);
  }
  const struct oci_linux *l = c->st->config->linux_;
  if (oci_cgroup_apply(c->cg, l ? l->resources : NULL, err) < 0 ||
      oci_cgroup_enter(c->cg, criu_pid, err) < 0)
    return -1;
  struct oci_cgroup_view v[32];
  bool tmpfs;
  size_t n = oci_cgroup_views(c->cg, v, OCI_ARRAY_SIZE(v), &tmpfs);
  for (size_t i = 0; i < n && i < OCI_ARRAY_SIZE(v); i++)
    add_cg_root(r, strcmp(v[i].fstype, "cgroup2") == 0 ? NULL : v[i].options, v[i].rel);
  add_cgroup_binds(r, c->st->config, c->cg, true);
  return 0;
}

/* A namespace joined by path at dump is given again: the config's path. */
static int inherit_external_ns(struct criu_request *r, const struct oci_config *cfg, int *fds,
                               size_t *n, oci_error *err) {
  static const struct {
    enum oci_ns_type type;
    const char *key;
  } ext[] = {{OCI_NS_NETWORK, EXT_NET_KEY}, {OCI_NS_PID, EXT_PID_KEY}};
  for (size_t i = 0; i < OCI_ARRAY_SIZE(ext); i++) {
    const struct oci_namespace *ns = oci_config_namespace(cfg, ext[i].type);
    if (ns == NULL || ns->path == NULL)
      continue;
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return oci_error_errno(err, "config.json: linux.namespaces: \"%s\"", ns->path);
    fds[(*n)++] = fd;
    add_inherit_fd(r, ext[i].key, fd);
  }
  return 0;
}

static int restore_request(struct criu_request *r, struct creation *c,
                           const struct oci_criu_opts *o, oci_error *err) {
  if (request_init(r, CRIU_REQ_TYPE__RESTORE, o, c->st->rootfs, "restore.log", err) < 0)
    return -1;
  CriuOpts *p = &r->opts;
  p->has_rst_sibling = p->rst_sibling = true;
  /* Device numbers may differ on this host: match devices by path. */
  p->has_evasive_devices = p->evasive_devices = true;
  const struct oci_process *proc = c->st->config->process;
  if (proc && proc->terminal)
    p->has_orphan_pts_master = p->orphan_pts_master = true;
  add_bind_mounts(r, c->st->config, true);
  return 0;
}

/* CRIU, in its private root (criu.h), with the container's cgroup made
 * around it. */
static int start_restore_criu(struct creation *c, const struct oci_criu_opts *o,
                              const char *bin, const struct oci_criu_spawn *sp, int *images_fd,
                              int *work_fd, struct oci_criu *cr, oci_error *err) {
  /* setns() needs us single-threaded: no systemd connection thread. */
  oci_cgroup_preconnect_join();
  int host = oci_criu_enter_private_root(c->st->rootfs, err);
  if (host < 0)
    return -1;
  int r = 0;
  if ((*images_fd = open_dir(o->image_path, "checkpoint image directory", false, err)) < 0 ||
      (*work_fd = open_dir(o->work_path ? o->work_path : o->image_path, "CRIU work directory", true,
                           err)) < 0 ||
      oci_criu_start(bin, sp, cr, err) < 0)
    r = -1;
  if (oci_criu_leave_private_root(host, r < 0 ? NULL : err) < 0)
    r = -1;
  return r;
}

static int run_restore(struct creation *c, const struct oci_criu_opts *o, const char *bin,
                       struct restore_run *rr, oci_error *err) {
  struct criu_request r;
  int ns_fds[2] = {-1, -1};
  size_t n_ns = 0;
  int ret = restore_request(&r, c, o, err);
  if (ret == 0)
    ret = inherit_external_ns(&r, c->st->config, ns_fds, &n_ns, err);
  /* The namespace fds, stdio and --status-fd: CRIU's to inherit. */
  int keep[6] = {0, 1, 2};
  size_t n_keep = 3;
  if (o->status_fd >= 0)
    keep[n_keep++] = o->status_fd;
  for (size_t i = 0; i < n_ns; i++)
    keep[n_keep++] = ns_fds[i];
  struct oci_criu_spawn sp = {.keep_fds = keep, .n_keep_fds = n_keep};
  struct oci_criu cr = {.pid = -1, .sock = -1};
  _cleanup_close_ int images_fd = -1, work_fd = -1;
  CriuResp *resp = NULL;
  if (ret == 0)
    ret = start_restore_criu(c, o, bin, &sp, &images_fd, &work_fd, &cr, err);
  if (ret == 0) {
    request_dirs(&r, images_fd, work_fd);
    inherit_stdio_pipes(&r, images_fd);
    ret = place_criu(c, cr.pid, &r, err);
  }
  if (ret == 0) {
    request_seal(&r);
    ret = oci_criu_call(&cr, &r.req, on_notify, rr, &resp, err);
  }
  oci_criu_stop(&cr);
  for (size_t i = 0; i < n_ns; i++)
    close(ns_fds[i]);
  _cleanup_free_ char *log = work_log(o, "restore.log");
  ret = call_outcome(ret, resp, "restore", log, err);
  if (ret == 0 && resp->restore == NULL)
    ret = oci_criu_failure(resp, "restore", log, err);
  if (ret == 0)
    c->pid = resp->restore->pid;
  if (resp)
    criu_resp__free_unpacked(resp, NULL);
  request_free(&r);
  return ret;
}

/* Is mount i below the destination of an earlier mount that is not a
 * bind (a tmpfs): then the image has its mount point already. */
static bool under_other_mount(const struct oci_config *cfg, size_t i) {
  const char *dest = cfg->mounts[i].destination;
  for (size_t j = 0; j < i; j++) {
    const char *d = cfg->mounts[j].destination;
    size_t n = strlen(d);
    if (!mount_is_bind(&cfg->mounts[j]) && strncmp(dest, d, n) == 0 &&
        (dest[n] == '/' || (n > 0 && d[n - 1] == '/')))
      return true;
  }
  return false;
}

/* A rootfs made anew (podman's restore --import, another host) lacks the
 * mount points create made for the bind mounts (/etc/hosts ...), which
 * CRIU needs to bind onto: made as create makes them, inside the rootfs. */
static int make_bind_targets(const struct oci_state *st, oci_error *err) {
  const struct oci_config *cfg = st->config;
  _cleanup_close_ int root = open(st->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return oci_error_errno(err, "root.path: \"%s\"", st->rootfs);
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    const struct oci_mount *m = &cfg->mounts[i];
    struct stat sb;
    if (!mount_is_bind(m) || m->source == NULL || under_other_mount(cfg, i) ||
        stat(m->source, &sb) < 0) /* a missing source: CRIU says which */
      continue;
    int fd = oci_safe_mount_target(root, m->destination, S_ISDIR(sb.st_mode), err);
    if (fd < 0)
      return oci_error_wrap(err, "config.json: mounts[%zu]: \"%s\"", i, m->destination);
    close(fd);
  }
  return 0;
}

int oci_restore_process(const struct oci_context *ctx, struct creation *c,
                        const struct oci_create_opts *o, oci_error *err) {
  _cleanup_free_ char *bin = oci_criu_find(ctx->criu, err);
  if (bin == NULL)
    return -1;
  if (make_bind_targets(c->st, err) < 0)
    return -1;
  struct restore_run rr = {.c = c, .console = -1};
  const struct oci_process *p = c->st->config->process;
  if (p->terminal && o->console_socket &&
      (rr.console = oci_console_socket_connect(o->console_socket, err)) < 0)
    return oci_error_wrap(err, "console socket");
  int r = run_restore(c, o->restore, bin, &rr, err);
  if (rr.console >= 0)
    close(rr.console);
  return r;
}

/* Before anything is made: CRIU is there and the images are. */
static int restore_precheck(const struct oci_context *ctx, const struct oci_criu_opts *o,
                            oci_error *err) {
  _cleanup_free_ char *bin = oci_criu_find(ctx->criu, err);
  if (bin == NULL)
    return -1;
  _cleanup_free_ char *inventory = oci_xasprintf("%s/inventory.img", o->image_path);
  if (access(inventory, R_OK) < 0)
    return oci_error_set(err, errno, "checkpoint image directory \"%s\": no checkpoint there (%s)",
                         o->image_path, "inventory.img");
  return 0;
}

/* A container checkpointed into its own id is stopped: restore replaces
 * it, as delete would remove it. A running one is refused by delete. */
static int replace_stopped(const struct oci_context *ctx, const char *id, oci_error *err) {
  _cleanup_free_ char *state = oci_xasprintf("%s/%s/state.json", ctx->state_root, id);
  if (access(state, F_OK) < 0)
    return 0;
  if (oci_container_delete(ctx, id, false, err) < 0)
    return oci_error_wrap(err, "container \"%s\" exists", id);
  return 0;
}

int oci_container_restore(const struct oci_context *ctx, const struct oci_create_opts *opts,
                          int *exit_status, oci_error *err) {
  *exit_status = 0;
  if (oci_container_id_validate(opts->id, err) < 0 || restore_precheck(ctx, opts->restore, err) < 0 ||
      replace_stopped(ctx, opts->id, err) < 0)
    return oci_error_wrap(err, "restore \"%s\"", opts->id ? opts->id : "");
  return oci_container_run(ctx, opts, exit_status, err);
}
