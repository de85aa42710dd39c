#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "haproxy/listener.h"
#include "log.h"
#include "portowner.h"
#include "sdlisten.h"
#include "util.h"

static struct listener *listener_head;
static bool listener_placeholder;

void
listener_set_placeholder(bool on)
{
	listener_placeholder = on;
}

static int
listener_open(const char *addr, int port, char **err)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (listener_placeholder) {
		bool v6 = strchr(addr, ':') != NULL;
		addr = v6 ? "::1" : "127.0.0.1";
		port = 0;
	}
	if (inet_pton(AF_INET, addr,
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		slen = sizeof(*sin6);
	} else
		return set_err(err, "'%s' is not an IP address", addr);

	/* CLOEXEC here; the fds are dup2'ed into HAProxy explicitly, so no
	 * other child (checks, helpers) inherits a listener by accident. */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return set_err(err, "socket: %s", strerror(errno));
	/* HAProxy skips setsockopt, bind and listen on inherited fds. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		log_warn("setsockopt SO_REUSEADDR");
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		log_warn("setsockopt IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&ss, slen) == -1) {
		int bind_errno = errno;
		struct portowner o;
		char holder[64] = "";
		if (bind_errno == EADDRINUSE && portowner_find(port, &o))
			snprintf(holder, sizeof(holder), " (held by %s[%d])",
			    o.comm, o.pid);
		set_err(err, "cannot bind %s%s%s:%d: %s%s",
		    ss.ss_family == AF_INET6 ? "[" : "", addr,
		    ss.ss_family == AF_INET6 ? "]" : "", port,
		    strerror(bind_errno), holder);
		close(fd);
		return -1;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		set_err(err, "cannot listen on %s:%d: %s", addr, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
listener_acquire(const char *addr, int port, struct listener **out,
    char **err)
{
	struct listener *l;
	int fd;

	for (l = listener_head; l != NULL; l = l->next) {
		if (l->port == port && strcmp(l->addr, addr) == 0) {
			l->refs++;
			*out = l;
			return 0;
		}
	}
	/* A socket systemd passed (socket activation) before a new one. */
	if ((listener_placeholder || (fd = sdlisten_take(addr, port)) == -1) &&
	    (fd = listener_open(addr, port, err)) == -1)
		return -1;
	l = xcalloc(1, sizeof(*l));
	l->addr = xstrdup(addr);
	l->port = port;
	l->fd = fd;
	l->refs = 1;
	l->next = listener_head;
	listener_head = l;
	log_debug("listening on %s port %d (fd %d)", addr, port, fd);
	*out = l;
	return 0;
}

struct listener *
listener_ref(struct listener *l)
{
	l->refs++;
	return l;
}

void
listener_release(struct listener *l)
{
	struct listener **pp;

	if (l == NULL || --l->refs > 0)
		return;
	for (pp = &listener_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	log_debug("closing listener %s port %d", l->addr, l->port);
	close(l->fd);
	free(l->addr);
	free(l);
}

int
listener_count(void)
{
	int n = 0;

	for (struct listener *l = listener_head; l != NULL; l = l->next)
		n++;
	return n;
}

int
listener_fds(int *out, int max)
{
	int n = 0;

	for (struct listener *l = listener_head; l != NULL && n < max;
	    l = l->next)
		out[n++] = l->fd;
	return n;
}
