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
listener_backlog(const struct listener *l)
{
	return l->backlog > 0 ? l->backlog : SOMAXCONN;
}

static int
listener_open(const char *addr, int port, int backlog, char **err)
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
	if (listen(fd, backlog) == -1) {
		set_err(err, "cannot listen on %s:%d: %s", addr, port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Why the last claim of an address and port failed: a build that would
 * try to bind (and keep failing) asks this instead. */
struct listener_failure {
	char			*addr;
	int			 port;
	char			*why;
	struct listener_failure	*next;
};

static struct listener_failure *listener_failures;

static struct listener_failure **
listener_failure_slot(const char *addr, int port)
{
	struct listener_failure **pp;

	for (pp = &listener_failures; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->port == port && strcmp((*pp)->addr, addr) == 0)
			break;
	return pp;
}

static void
listener_failure_drop(struct listener_failure **pp)
{
	struct listener_failure *f = *pp;

	*pp = f->next;
	free(f->addr);
	free(f->why);
	free(f);
}

static void
listener_failure_set(const char *addr, int port, const char *why)
{
	struct listener_failure **pp = listener_failure_slot(addr, port);

	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof(**pp));
		(*pp)->addr = xstrdup(addr);
		(*pp)->port = port;
	}
	free((*pp)->why);
	(*pp)->why = xstrdup(why);
}

const char *
listener_failure(const struct listener *l)
{
	struct listener_failure **pp;

	if (l->fd != -1)
		return NULL;
	pp = listener_failure_slot(l->addr, l->port);
	return *pp != NULL ? (*pp)->why : NULL;
}

bool
listener_has_failures(void)
{
	return listener_failures != NULL;
}

void
listener_forget_failures(void)
{
	while (listener_failures != NULL)
		listener_failure_drop(&listener_failures);
}

struct listener *
listener_want(const char *addr, int port)
{
	struct listener *l;

	for (l = listener_head; l != NULL; l = l->next)
		if (l->port == port && strcmp(l->addr, addr) == 0)
			return listener_ref(l);
	l = xcalloc(1, sizeof(*l));
	l->addr = xstrdup(addr);
	l->port = port;
	l->fd = -1;
	l->refs = 1;
	l->next = listener_head;
	listener_head = l;
	return l;
}

int
listener_claim(struct listener *l, char **err)
{
	struct listener_failure **pp;
	char *why = NULL;
	int fd;

	if (l->fd != -1 && l->backlog_fd != listener_backlog(l)) {
		/* Linux takes a new backlog from listen() on a listening
		 * socket; its queue is kept. */
		if (listen(l->fd, listener_backlog(l)) == -1)
			log_warn("listen(%s port %d, backlog %d)", l->addr,
			    l->port, listener_backlog(l));
		else
			log_info("%s port %d: backlog %d", l->addr, l->port,
			    listener_backlog(l));
		l->backlog_fd = listener_backlog(l);
	}
	if (l->fd != -1)
		return 0;
	/* A socket systemd passed (socket activation), or one handed over,
	 * before a new one: the port may be theirs. */
	if (listener_placeholder ||
	    (fd = sdlisten_take(l->addr, l->port, &l->pool)) == -1)
		fd = listener_open(l->addr, l->port, listener_backlog(l),
		    &why);
	else if (l->backlog > 0 && listen(fd, l->backlog) == -1)
		log_warn("listen(%s port %d, backlog %d)", l->addr, l->port,
		    l->backlog);
	if (fd == -1) {
		listener_failure_set(l->addr, l->port, why);
		set_err(err, "%s", why);
		free(why);
		return -1;
	}
	l->fd = fd;
	/* A passed socket keeps the backlog it came with unless one is
	 * asked for. */
	l->backlog_fd = listener_backlog(l);
	if (*(pp = listener_failure_slot(l->addr, l->port)) != NULL)
		listener_failure_drop(pp);
	log_debug("listening on %s port %d (fd %d)", l->addr, l->port, fd);
	return 0;
}

void
listener_set_backlog(struct listener *l, int backlog)
{
	l->backlog = backlog;
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
	if (l->fd != -1 && l->pool != NULL) {
		log_info("fd %d for %s port %d goes back to the inherited "
		    "sockets (%s)", l->fd, l->addr, l->port, l->pool);
		sdlisten_adopt(l->fd, l->pool);
	} else if (l->fd != -1) {
		log_debug("closing listener %s port %d", l->addr, l->port);
		close(l->fd);
	}
	free(l->pool);
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
		if (l->fd != -1)
			out[n++] = l->fd;
	return n;
}
