/* The /metrics HTTP endpoint (metrics.h). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "util.h"

struct metrics_http {
	struct MHD_Daemon	*mhd;
	uv_poll_t		 poll;		/* MHD's epoll fd */
	uv_timer_t		 timer;		/* MHD_get_timeout */
	int			 open_handles;
	metrics_page_cb		 page;
	void			*ctx;
};

static void
mh_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t len;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	/* Floods and bad clients are MHD's to refuse, not worth a warning
	 * each: they would fill the log instead. */
	log_debug("metrics: %s", msg);
}

static enum MHD_Result
mh_reply(struct MHD_Connection *c, unsigned status, const char *body,
    const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
mh_on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct metrics_http *m = cls;
	struct MHD_Response *r;
	struct sbuf sb;
	enum MHD_Result rc;
	size_t len;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return mh_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "405 method not allowed: GET /metrics\n", "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return mh_reply(c, MHD_HTTP_NOT_FOUND,
		    "404 not found: GET /metrics\n", NULL);
	sbuf_init(&sb);
	m->page(m->ctx, &sb);
	len = sb.len;
	r = MHD_create_response_from_buffer(len, sbuf_take(&sb),
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

static void mh_on_timer(uv_timer_t *t);

/* MHD must run again within the time it asks for (0: at once, it has
 * work left), or whenever its epoll fd is readable. */
static void
mh_rearm(struct metrics_http *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES)
		uv_timer_start(&m->timer, mh_on_timer, (uint64_t)ms, 0);
	else
		uv_timer_stop(&m->timer);
}

static unsigned
mh_connections(struct metrics_http *m)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->mhd,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

static void
mh_run(struct metrics_http *m)
{
	unsigned before = mh_connections(m);

	MHD_run(m->mhd);
	/* At the connection limit MHD takes its listen socket out of its
	 * epoll set, and puts it back at the start of a run, not when a
	 * connection closes: if the run closed some, run once more, or with
	 * nothing left to time out the socket would never be watched
	 * again. */
	if (mh_connections(m) < before)
		MHD_run(m->mhd);
	mh_rearm(m);
}

static void
mh_on_timer(uv_timer_t *t)
{
	mh_run(t->data);
}

static void
mh_on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	mh_run(p->data);
}

static int
mh_listen(const char *addr, int port, int *family, char **err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return set_err(err, "'%s' is not an IPv6 address", addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return set_err(err, "'%s' is not an IPv4 address", addr);
		len = sizeof(*s4);
	}
	*family = ss.ss_family;
	/* CLOEXEC: HAProxy must not inherit it, or it would hold the port
	 * after a proxymgrd that died, and a restarted one could not bind. */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd == -1)
		return set_err(err, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 64) == -1) {
		set_err(err, "cannot listen on %s%s%s:%d: %s",
		    ss.ss_family == AF_INET6 ? "[" : "", addr,
		    ss.ss_family == AF_INET6 ? "]" : "", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct metrics_http *
metrics_http_start(uv_loop_t *loop, const char *addr, int port,
    metrics_page_cb page, void *ctx, char **err)
{
	struct metrics_http *m;
	const union MHD_DaemonInfo *info;
	int fd, family = AF_INET;

	if ((fd = mh_listen(addr, port, &family, err)) == -1)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->page = page;
	m->ctx = ctx;
	/* No MHD_USE_INTERNAL_POLLING_THREAD: MHD runs when the loop says
	 * so, on the loop thread. */
	m->mhd = MHD_start_daemon(MHD_USE_ERROR_LOG | MHD_USE_EPOLL |
	    (family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	    mh_on_request, m,
	    MHD_OPTION_EXTERNAL_LOGGER, mh_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)METRICS_CONNECTION_MEMORY,
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
	    MHD_OPTION_END);
	if (m->mhd == NULL) {
		close(fd);
		free(m);
		set_err(err, "cannot start the HTTP server on %s:%d", addr,
		    port);
		return NULL;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || uv_poll_init(loop, &m->poll, info->epoll_fd) != 0) {
		MHD_stop_daemon(m->mhd);
		free(m);
		set_err(err, "cannot watch the HTTP server's epoll fd");
		return NULL;
	}
	m->poll.data = m;
	uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	m->open_handles = 2;
	uv_poll_start(&m->poll, UV_READABLE, mh_on_poll);
	mh_rearm(m);
	return m;
}

static void
mh_on_close(uv_handle_t *h)
{
	struct metrics_http *m = h->data;

	if (--m->open_handles == 0)
		free(m);
}

void
metrics_http_stop(struct metrics_http *m)
{
	if (m == NULL)
		return;
	/* uv_close stops watching the epoll fd at once, before MHD closes
	 * it. */
	uv_close((uv_handle_t *)&m->poll, mh_on_close);
	uv_close((uv_handle_t *)&m->timer, mh_on_close);
	MHD_stop_daemon(m->mhd);
	m->mhd = NULL;
}
