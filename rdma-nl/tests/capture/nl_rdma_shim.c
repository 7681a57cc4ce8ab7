/*
 * An LD_PRELOAD shim that stands in for the kernel's NETLINK_RDMA socket, so iproute2's `rdma`
 * tool runs on a kernel without RDMA netlink and the requests it sends can be captured.
 *
 * socket(AF_NETLINK, *, NETLINK_RDMA) returns a plain AF_UNIX datagram socket the shim owns;
 * bind/setsockopt/getsockname on it succeed (port id 4242); every request written to it with
 * sendto/sendmsg/send is appended as one line of hex to $RDMA_SHIM_LOG, and answered like the
 * kernel's nldev would answer it:
 *   RDMA_NLDEV_CMD_GET dump  -> one device (index $RDMA_SHIM_DEV_INDEX, default 5, name
 *                               $RDMA_SHIM_DEV_NAME, default mlx5_0, 1 port), then NLMSG_DONE
 *   RDMA_NLDEV_CMD_SYS_GET   -> RDMA_NLDEV_SYS_ATTR_NETNS_MODE 1 (shared)
 *   anything else            -> NLMSG_ERROR 0 (ack), when NLM_F_ACK is set
 * With $RDMA_SHIM_REPLIES naming a file, the messages answering a request are read from it
 * instead: each line "<op> <hex>" (or "<op>d <hex>" for a dump) is one message whose attributes
 * are <hex>, the shim adding the netlink header (a request with no line gets none). That is how
 * the golden replies of the tests are fed to the tool's own parser. Build: gcc -shared -fPIC -o nl_rdma_shim.so nl_rdma_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int shim_fd = -1;
#define QUEUE_SLOTS 16
/* the datagrams queued for the next recv calls, one per call, as the kernel sends them */
static unsigned char queue[QUEUE_SLOTS][4096];
static size_t queue_len[QUEUE_SLOTS];
static int queue_head, queue_count;
static unsigned char *reply;

static void put_attr(size_t *off, unsigned short type, const void *data, unsigned short len) {
	struct nlattr *a = (struct nlattr *)(reply + *off);
	memset(reply + *off, 0, NLA_ALIGN(NLA_HDRLEN + len));
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(reply + *off + NLA_HDRLEN, data, len);
	*off += NLA_ALIGN(a->nla_len);
}

static unsigned char *next_datagram(size_t len) {
	if (queue_count == QUEUE_SLOTS)
		queue_count--; /* more answers than slots: the last one is overwritten */
	int slot = (queue_head + queue_count) % QUEUE_SLOTS;
	queue_count++;
	queue_len[slot] = len;
	memset(queue[slot], 0, sizeof queue[slot]);
	return queue[slot];
}

/* an nldev message answering `req`: the device, or the system's settings */
static void message(const struct nlmsghdr *req, unsigned op, unsigned short flags) {
	size_t off = NLMSG_HDRLEN;
	reply = next_datagram(0);
	if (op == RDMA_NLDEV_CMD_GET) {
		const char *name = getenv("RDMA_SHIM_DEV_NAME") ? getenv("RDMA_SHIM_DEV_NAME") : "mlx5_0";
		unsigned idx = getenv("RDMA_SHIM_DEV_INDEX") ? atoi(getenv("RDMA_SHIM_DEV_INDEX")) : 5;
		unsigned ports = 1;
		put_attr(&off, RDMA_NLDEV_ATTR_DEV_INDEX, &idx, 4);
		put_attr(&off, RDMA_NLDEV_ATTR_DEV_NAME, name, strlen(name) + 1);
		put_attr(&off, RDMA_NLDEV_ATTR_PORT_INDEX, &ports, 4);
	} else {
		unsigned char mode = 1;
		put_attr(&off, RDMA_NLDEV_SYS_ATTR_NETNS_MODE, &mode, 1);
	}
	struct nlmsghdr *h = (struct nlmsghdr *)reply;
	h->nlmsg_len = off;
	h->nlmsg_type = req->nlmsg_type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = req->nlmsg_seq;
	queue_len[(queue_head + queue_count - 1) % QUEUE_SLOTS] = off;
}

/* the messages of $RDMA_SHIM_REPLIES answering `req`; 0 when no such file is given */
static int messages_from_file(const struct nlmsghdr *req, unsigned op, int dump) {
	const char *path = getenv("RDMA_SHIM_REPLIES");
	FILE *f = path ? fopen(path, "r") : NULL;
	char key[16], line[8192];
	if (!f)
		return 0;
	snprintf(key, sizeof key, "%u%s", op, dump ? "d" : "");
	while (fgets(line, sizeof line, f)) {
		char *hex = strchr(line, ' ');
		if (!hex)
			continue;
		*hex++ = 0;
		if (strcmp(line, key))
			continue;
		unsigned char *d = next_datagram(0);
		size_t off = NLMSG_HDRLEN;
		unsigned v;
		for (; hex[0] && hex[1] && off < sizeof queue[0] && sscanf(hex, "%2x", &v) == 1; hex += 2)
			d[off++] = v;
		struct nlmsghdr *h = (struct nlmsghdr *)d;
		h->nlmsg_len = off;
		h->nlmsg_type = req->nlmsg_type;
		h->nlmsg_flags = dump ? NLM_F_MULTI : 0;
		h->nlmsg_seq = req->nlmsg_seq;
		queue_len[(queue_head + queue_count - 1) % QUEUE_SLOTS] = off;
	}
	fclose(f);
	return 1;
}

static void ack(const struct nlmsghdr *req) {
	struct nlmsghdr *h = (struct nlmsghdr *)next_datagram(NLMSG_HDRLEN + sizeof(struct nlmsgerr));
	struct nlmsgerr *e = (struct nlmsgerr *)((unsigned char *)h + NLMSG_HDRLEN);
	h->nlmsg_len = NLMSG_HDRLEN + sizeof *e;
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = NLM_F_CAPPED;
	h->nlmsg_seq = req->nlmsg_seq;
	e->error = 0;
	e->msg = *req;
}

static void done(const struct nlmsghdr *req) {
	struct nlmsghdr *d = (struct nlmsghdr *)next_datagram(NLMSG_HDRLEN + 4);
	d->nlmsg_len = NLMSG_HDRLEN + 4;
	d->nlmsg_type = NLMSG_DONE;
	d->nlmsg_flags = NLM_F_MULTI;
	d->nlmsg_seq = req->nlmsg_seq;
}

static void answer(const struct nlmsghdr *req) {
	unsigned op = RDMA_NL_GET_OP(req->nlmsg_type);
	queue_head = queue_count = 0;
	int dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (messages_from_file(req, op, dump)) {
		if (dump)
			done(req);
		else if (req->nlmsg_flags & NLM_F_ACK)
			ack(req);
		return;
	}
	if (op == RDMA_NLDEV_CMD_GET && dump) {
		message(req, op, NLM_F_MULTI);
		done(req);
		return;
	}
	if (op == RDMA_NLDEV_CMD_GET || op == RDMA_NLDEV_CMD_SYS_GET)
		message(req, op, 0);
	if (req->nlmsg_flags & NLM_F_ACK)
		ack(req);
}

static void record(const void *buf, size_t len) {
	const char *path = getenv("RDMA_SHIM_LOG");
	FILE *f = fopen(path ? path : "/dev/stderr", "a");
	if (f) {
		for (size_t i = 0; i < len; i++)
			fprintf(f, "%02x", ((const unsigned char *)buf)[i]);
		fputc('\n', f);
		fclose(f);
	}
	if (len >= NLMSG_HDRLEN)
		answer(buf);
}

int socket(int domain, int type, int protocol) {
	static int (*real)(int, int, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "socket");
	if (domain == AF_NETLINK && protocol == NETLINK_RDMA) {
		shim_fd = real(AF_UNIX, SOCK_DGRAM | (type & SOCK_CLOEXEC), 0);
		return shim_fd;
	}
	return real(domain, type, protocol);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
	static int (*real)(int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "bind");
	return fd == shim_fd ? 0 : real(fd, addr, len);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
	static int (*real)(int, int, int, const void *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "setsockopt");
	return fd == shim_fd ? 0 : real(fd, level, name, val, len);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
	static int (*real)(int, struct sockaddr *, socklen_t *);
	if (!real)
		real = dlsym(RTLD_NEXT, "getsockname");
	if (fd != shim_fd)
		return real(fd, addr, len);
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_pid = 4242};
	memcpy(addr, &nl, *len < sizeof nl ? *len : sizeof nl);
	*len = sizeof nl;
	return 0;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen) {
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendto");
	if (fd != shim_fd)
		return real(fd, buf, len, flags, to, tolen);
	record(buf, len);
	return len;
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
	return sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
	static ssize_t (*real)(int, const struct msghdr *, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendmsg");
	if (fd != shim_fd)
		return real(fd, msg, flags);
	unsigned char buf[8192];
	size_t len = 0;
	for (size_t i = 0; i < msg->msg_iovlen && len + msg->msg_iov[i].iov_len <= sizeof buf; i++) {
		memcpy(buf + len, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
		len += msg->msg_iov[i].iov_len;
	}
	record(buf, len);
	return len;
}

static ssize_t take_reply(void *buf, size_t len, struct sockaddr_nl *from) {
	if (queue_count == 0) {
		errno = EAGAIN;
		return -1;
	}
	size_t n = queue_len[queue_head] < len ? queue_len[queue_head] : len;
	memcpy(buf, queue[queue_head], n);
	queue_head = (queue_head + 1) % QUEUE_SLOTS;
	queue_count--;
	if (from) {
		memset(from, 0, sizeof *from);
		from->nl_family = AF_NETLINK;
	}
	return n;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
	static ssize_t (*real)(int, struct msghdr *, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "recvmsg");
	if (fd != shim_fd)
		return real(fd, msg, flags);
	if (msg->msg_name && msg->msg_namelen >= sizeof(struct sockaddr_nl))
		msg->msg_namelen = sizeof(struct sockaddr_nl);
	return take_reply(msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len,
			  msg->msg_name ? msg->msg_name : NULL);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen) {
	static ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	if (!real)
		real = dlsym(RTLD_NEXT, "recvfrom");
	if (fd != shim_fd)
		return real(fd, buf, len, flags, from, fromlen);
	if (fromlen)
		*fromlen = sizeof(struct sockaddr_nl);
	return take_reply(buf, len, (struct sockaddr_nl *)from);
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}
