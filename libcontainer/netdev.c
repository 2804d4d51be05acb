/* ocirun — linux.netDevices over rtnetlink.
 *
 * config-linux.md: each named host interface is moved into the container's
 * network namespace (renamed when "name" says so; a "%d" in it lets the
 * kernel pick a free number), keeps its permanent addresses of global
 * scope and is set up. The kernel drops an interface's addresses when it
 * changes namespace, so they are read before the move and added again
 * after it. The runtime never moves interfaces back: when the namespace
 * dies the kernel returns physical ones to the host and destroys virtual
 * ones (veth, macvlan...).
 *
 * One netlink socket works in the host's namespace, a second in the
 * container's: a socket stays in the namespace it was made in, so the
 * calling thread enters the container's namespace just long enough to
 * make it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netdev.h"
#include "ocirun/utils.h"

#define NL_BUFSIZE 8192

/* One request: header, family header, attributes. */
struct nl_req {
  struct nlmsghdr h;
  char payload[1024];
};

static void nl_init(struct nl_req *r, int type, int flags, const void *fam, size_t fam_len) {
  memset(r, 0, sizeof(*r));
  r->h.nlmsg_len = NLMSG_LENGTH(fam_len);
  r->h.nlmsg_type = (unsigned short)type;
  r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
  memcpy(NLMSG_DATA(&r->h), fam, fam_len);
}

static void nl_attr(struct nl_req *r, int type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));
  a->rta_type = (unsigned short)type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int nl_socket(oci_error *err) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return oci_error_errno(err, "netlink socket");
  return fd;
}

static int nl_send(int fd, struct nl_req *r, oci_error *err) {
  static unsigned seq;
  r->h.nlmsg_seq = ++seq;
  if (send(fd, &r->h, r->h.nlmsg_len, 0) < 0)
    return oci_error_errno(err, "netlink send");
  return 0;
}

/* Receive the replies to the last request; each message that is not an
 * error or the end goes to fn. Returns the kernel's errno as -errno. */
static int nl_recv(int fd, int (*fn)(struct nlmsghdr *, void *), void *data, oci_error *err) {
  _cleanup_free_ char *buf = oci_xmalloc0(NL_BUFSIZE);
  for (;;) {
    ssize_t n = recv(fd, buf, NL_BUFSIZE, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return oci_error_errno(err, "netlink receive");
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE)
        return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
        if (e == 0)
          return 0;
        errno = e;
        return oci_error_errno(err, "netlink");
      }
      if (fn != NULL && fn(h, data) < 0)
        return oci_error_errno(err, "netlink reply");
      if (!(h->nlmsg_flags & NLM_F_MULTI))
        return 0;
    }
  }
}

static int nl_call(int fd, struct nl_req *r, oci_error *err) {
  r->h.nlmsg_flags |= NLM_F_ACK;
  if (nl_send(fd, r, err) < 0)
    return -1;
  return nl_recv(fd, NULL, NULL, err);
}

/* ---- addresses ---------------------------------------------------------- */

struct saved_addrs {
  int index;
  struct nl_req *msgs;
  size_t n;
};

static unsigned addr_flags(struct nlmsghdr *h) {
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  unsigned flags = ifa->ifa_flags;
  int len = (int)IFA_PAYLOAD(h);
  for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == IFA_FLAGS)
      memcpy(&flags, RTA_DATA(a), sizeof(flags));
  return flags;
}

/* Keep a request re-adding this address: its attributes but the label
 * (the old name's) and the cache info (lifetimes; a permanent one has
 * none). */
static int keep_addr(struct nlmsghdr *h, void *data) {
  struct saved_addrs *s = data;
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if (h->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != s->index ||
      ifa->ifa_scope != RT_SCOPE_UNIVERSE || !(addr_flags(h) & IFA_F_PERMANENT))
    return 0;
  s->msgs = oci_xrealloc(s->msgs, (s->n + 1) * sizeof(*s->msgs));
  struct nl_req *r = &s->msgs[s->n++];
  nl_init(r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifa, sizeof(*ifa));
  int len = (int)IFA_PAYLOAD(h);
  for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type != IFA_LABEL && a->rta_type != IFA_CACHEINFO &&
        NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len) <= sizeof(*r))
      nl_attr(r, a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
  return 0;
}

static int save_addrs(int fd, struct saved_addrs *s, oci_error *err) {
  struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
  struct nl_req r;
  nl_init(&r, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa));
  if (nl_send(fd, &r, err) < 0 || nl_recv(fd, keep_addr, s, err) < 0)
    return oci_error_wrap(err, "read its addresses");
  return 0;
}

static int restore_addrs(int fd, const struct saved_addrs *s, int index, oci_error *err) {
  for (size_t i = 0; i < s->n; i++) {
    struct nl_req r = s->msgs[i];
    ((struct ifaddrmsg *)NLMSG_DATA(&r.h))->ifa_index = (unsigned)index;
    if (nl_call(fd, &r, err) < 0)
      return oci_error_wrap(err, "add its address back");
  }
  return 0;
}

/* ---- links -------------------------------------------------------------- */

static int move_link(int fd, int index, int ns_fd, const char *name, oci_error *err) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  struct nl_req r;
  uint32_t nsfd = (uint32_t)ns_fd;
  nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
  nl_attr(&r, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
  if (name != NULL)
    nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  return nl_call(fd, &r, err);
}

static int take_index(struct nlmsghdr *h, void *data) {
  if (h->nlmsg_type == RTM_NEWLINK)
    *(int *)data = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
  return 0;
}

/* The moved interface in the container: the kernel keeps its index unless
 * that one is taken there; then it is found by its (final) name. */
static int find_moved(int fd, int index, const char *name, int *out, oci_error *err) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  struct nl_req r;
  *out = 0;
  nl_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
  if (nl_send(fd, &r, err) == 0 && nl_recv(fd, take_index, out, err) == 0 && *out > 0)
    return 0;
  if (strchr(name, '%') != NULL)
    return oci_error_setx(err, ENODEV, "cannot find it in the container under \"%s\"", name);
  ifi.ifi_index = 0;
  nl_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
  nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  if (nl_send(fd, &r, err) < 0 || nl_recv(fd, take_index, out, err) < 0)
    return oci_error_wrap(err, "find it in the container as \"%s\"", name);
  return 0;
}

static int set_up(int fd, int index, oci_error *err) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP,
                          .ifi_change = IFF_UP};
  struct nl_req r;
  nl_init(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
  if (nl_call(fd, &r, err) < 0)
    return oci_error_wrap(err, "set it up");
  return 0;
}

/* ---- the container's side ----------------------------------------------- */

/* A netlink socket in the network namespace ns_fd, made by this thread
 * from inside it. */
static int socket_in_netns(int ns_fd, oci_error *err) {
  _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return oci_error_errno(err, "open /proc/thread-self/ns/net");
  if (setns(ns_fd, CLONE_NEWNET) < 0)
    return oci_error_errno(err, "enter the container's network namespace");
  int fd = nl_socket(err);
  if (setns(self, CLONE_NEWNET) < 0)
    abort(); /* we could not return to our own namespace: never go on */
  return fd;
}

static const char *name_inside(const struct oci_net_device *d) {
  return d->name != NULL ? d->name : d->host_name;
}

/* Whether the container's namespace has an interface of this name. */
static bool name_taken(int fd, const char *name) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  struct nl_req r;
  int index = 0;
  oci_error ignored;
  nl_init(&r, RTM_GETLINK, 0, &ifi, sizeof(ifi));
  nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  return nl_send(fd, &r, &ignored) == 0 && nl_recv(fd, take_index, &index, &ignored) == 0 &&
         index > 0;
}

/* Checked for every device before any moves: a move that fails inside
 * the container would leave the device there, and a virtual one dies with
 * the namespace when create rolls back. */
static int check_movable(int ctr, const struct oci_net_device *d, oci_error *err) {
  if (if_nametoindex(d->host_name) == 0)
    return oci_error_errno(err, "find it on the host");
  /* config-linux.md: a taken name is an error, unless it is a template. */
  if (strchr(name_inside(d), '%') == NULL && name_taken(ctr, name_inside(d)))
    return oci_error_setx(err, EEXIST, "the container has an interface \"%s\" already",
                          name_inside(d));
  return 0;
}

static int move_one(int host, int ctr, int ns_fd, const struct oci_net_device *d,
                    oci_error *err) {
  struct saved_addrs s = {0};
  const char *name = name_inside(d);
  int index = (int)if_nametoindex(d->host_name), moved;
  if (index == 0)
    return oci_error_errno(err, "find it on the host");
  s.index = index;
  int r = save_addrs(host, &s, err);
  if (r == 0 && (r = move_link(host, index, ns_fd, d->name, err)) < 0)
    oci_error_wrap(err, "move it into the container as \"%s\"", name);
  if (r == 0)
    r = find_moved(ctr, index, name, &moved, err);
  if (r == 0)
    r = restore_addrs(ctr, &s, moved, err);
  if (r == 0)
    r = set_up(ctr, moved, err);
  free(s.msgs);
  return r;
}

int oci_netdev_move_all(const struct oci_config *cfg, pid_t pid, oci_error *err) {
  const struct oci_linux *l = cfg->linux_;
  if (l == NULL || l->n_net_devices == 0)
    return 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
  _cleanup_close_ int ns_fd = open(path, O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0)
    return oci_error_errno(err, "linux.netDevices: open %s", path);
  _cleanup_close_ int host = nl_socket(err);
  if (host < 0)
    return oci_error_wrap(err, "linux.netDevices");
  _cleanup_close_ int ctr = socket_in_netns(ns_fd, err);
  if (ctr < 0)
    return oci_error_wrap(err, "linux.netDevices");
  for (size_t i = 0; i < l->n_net_devices; i++)
    if (check_movable(ctr, &l->net_devices[i], err) < 0)
      return oci_error_wrap(err, "linux.netDevices.%s", l->net_devices[i].host_name);
  for (size_t i = 0; i < l->n_net_devices; i++)
    if (move_one(host, ctr, ns_fd, &l->net_devices[i], err) < 0)
      return oci_error_wrap(err, "linux.netDevices.%s", l->net_devices[i].host_name);
  return 0;
}
