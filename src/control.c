/* The control socket's I/O (control.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "util.h"

#define CTL_BACKLOG	128

struct ctl_client;

struct ctl_call {
	struct ctl_client	*client;	/* NULL once it went */
};

struct ctl_client {
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;		/* idle, or the write's */
	uv_write_t		 write;
	struct control		*ctl;
	struct ctl_client	*prev, *next;
	struct ctl_call		*call;		/* being answered */
	char			*out;		/* reply being written */
	bool			 reading;
	bool			 eof;		/* the client shut down its side */
	bool			 close_after;	/* the reply is the last word */
	bool			 closing;
	int			 handles;
	size_t			 inlen;
	char			 in[CTL_MAX_LINE];
};

struct control {
	uv_loop_t		*loop;
	uv_pipe_t		 listen;
	char			*path;
	ctl_handler		 handler;
	void			*ctx;
	struct ctl_client	*clients;
	size_t			 nclients;
	uint64_t		 refused;	/* past the cap, for the log */
	uint64_t		 accept_errors;
	bool			 stopping;
	bool			 listen_closed;
};

static void
ctl_maybe_free(struct control *c)
{
	if (!c->listen_closed || c->nclients > 0)
		return;
	free(c->path);
	free(c);
}

static void ctl_client_process(struct ctl_client *cl);

static void
ctl_client_on_close(uv_handle_t *h)
{
	struct ctl_client *cl = h->data;
	struct control *c = cl->ctl;

	if (--cl->handles > 0)
		return;
	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	c->nclients--;
	free(cl->out);
	free(cl);
	ctl_maybe_free(c);
}

static void
ctl_client_close(struct ctl_client *cl)
{
	if (cl->closing)
		return;
	cl->closing = true;
	if (cl->call != NULL) {
		cl->call->client = NULL;	/* its answer is dropped */
		cl->call = NULL;
	}
	uv_close((uv_handle_t *)&cl->pipe, ctl_client_on_close);
	uv_close((uv_handle_t *)&cl->timer, ctl_client_on_close);
}

static void
ctl_client_on_timer(uv_timer_t *t)
{
	struct ctl_client *cl = t->data;

	log_debug("control: client %s, closed",
	    cl->out != NULL ? "did not read its reply in time" : "idle");
	ctl_client_close(cl);
}

static void
ctl_client_on_write(uv_write_t *w, int status)
{
	struct ctl_client *cl = w->data;

	free(cl->out);
	cl->out = NULL;
	if (cl->closing)
		return;
	if (status < 0 || cl->close_after) {
		ctl_client_close(cl);
		return;
	}
	uv_timer_start(&cl->timer, ctl_client_on_timer, CTL_IDLE_TIMEOUT_MS, 0);
	ctl_client_process(cl);
}

/* Send line (taken over): the next request is read once it is out. */
static void
ctl_client_send(struct ctl_client *cl, char *line, size_t len)
{
	uv_buf_t buf = uv_buf_init(line, (unsigned)len);

	cl->out = line;
	cl->write.data = cl;
	if (uv_write(&cl->write, (uv_stream_t *)&cl->pipe, &buf, 1,
	    ctl_client_on_write) != 0) {
		free(cl->out);
		cl->out = NULL;
		ctl_client_close(cl);
		return;
	}
	uv_timer_start(&cl->timer, ctl_client_on_timer, CTL_WRITE_TIMEOUT_MS,
	    0);
}

static void
ctl_client_error(struct ctl_client *cl, const char *why, bool last)
{
	size_t len;
	char *line = ctl_error_line(why, &len);

	cl->close_after = cl->close_after || last;
	ctl_client_send(cl, line, len);
}

static void
ctl_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ctl_client *cl = h->data;

	(void)suggested;
	/* Never more than the line limit: the buffer is the client's. */
	buf->base = cl->in + cl->inlen;
	buf->len = sizeof(cl->in) - cl->inlen;
}

static void
ctl_client_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_client *cl = s->data;

	(void)buf;
	if (cl->closing)
		return;
	if (nread == UV_EOF) {
		/* Half-closed: what it sent is still answered. */
		cl->eof = true;
		cl->reading = false;
		uv_read_stop(s);
	} else if (nread < 0) {
		ctl_client_close(cl);
		return;
	} else if (nread == 0)
		return;
	else
		cl->inlen += (size_t)nread;
	ctl_client_process(cl);
}

static void
ctl_client_read(struct ctl_client *cl, bool on)
{
	if (on == cl->reading || cl->eof)
		return;
	cl->reading = on;
	if (on)
		uv_read_start((uv_stream_t *)&cl->pipe, ctl_client_alloc,
		    ctl_client_on_read);
	else
		uv_read_stop((uv_stream_t *)&cl->pipe);
}

/* The next request, if nothing is being answered or written. */
static void
ctl_client_process(struct ctl_client *cl)
{
	struct ctl_request req;
	size_t used = 0;
	bool too_long;
	char *err = NULL;
	long n;

	if (cl->closing || cl->call != NULL || cl->out != NULL)
		return;
	n = ctl_next_line(cl->in, cl->inlen, &used, &too_long);
	if (n < 0 && too_long) {
		ctl_client_read(cl, false);
		ctl_client_error(cl, "request line longer than 65536 bytes",
		    true);
		return;
	}
	if (n < 0 && cl->eof && cl->inlen > 0) {
		/* The last request may lack its newline. */
		n = (long)cl->inlen;
		used = cl->inlen;
	}
	if (n < 0) {
		if (cl->eof)
			ctl_client_close(cl);
		else
			ctl_client_read(cl, true);
		return;
	}
	ctl_client_read(cl, false);
	if (ctl_parse(cl->in, (size_t)n, &req, &err) == -1) {
		memmove(cl->in, cl->in + used, cl->inlen - used);
		cl->inlen -= used;
		ctl_client_error(cl, err, false);
		free(err);
		return;
	}
	memmove(cl->in, cl->in + used, cl->inlen - used);
	cl->inlen -= used;
	uv_timer_stop(&cl->timer);
	cl->call = xcalloc(1, sizeof(*cl->call));
	cl->call->client = cl;
	cl->ctl->handler(cl->ctl->ctx, cl->call, &req);
	ctl_request_free(&req);
}

void
ctl_answer(struct ctl_call *call, json_t *reply)
{
	struct ctl_client *cl = call->client;
	size_t len;
	char *line;

	free(call);
	if (cl == NULL || cl->closing) {
		json_decref(reply);
		return;
	}
	cl->call = NULL;
	if (reply == NULL)
		line = ctl_error_line("the reply could not be built", &len);
	else
		line = ctl_reply_line(reply, &len);
	ctl_client_send(cl, line, len);
}

void
ctl_fail(struct ctl_call *call, const char *fmt, ...)
{
	struct ctl_client *cl = call->client;
	va_list ap;
	char *why;

	free(call);
	if (cl == NULL || cl->closing)
		return;
	cl->call = NULL;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = NULL;
	va_end(ap);
	ctl_client_error(cl, why ? why : "error", false);
	free(why);
}

static void
ctl_on_refused_close(uv_handle_t *h)
{
	free(h);
}

/* Past the cap: accepted only to be told so and closed at once, so the
 * backlog never fills with clients that wait for nothing. */
static void
ctl_refuse(struct control *c)
{
	uv_pipe_t *p = xmalloc(sizeof(*p));
	size_t len;
	char *line;

	uv_pipe_init(c->loop, p, 0);
	if (uv_accept((uv_stream_t *)&c->listen, (uv_stream_t *)p) == 0) {
		line = ctl_error_line("too many clients; try again later",
		    &len);
		uv_buf_t buf = uv_buf_init(line, (unsigned)len);
		(void)uv_try_write((uv_stream_t *)p, &buf, 1);
		free(line);
	}
	if (c->refused++ % 1000 == 0)
		log_warnx("control: more than %d clients at once; refusing "
		    "the others (%llu so far)", CTL_MAX_CLIENTS,
		    (unsigned long long)c->refused);
	uv_close((uv_handle_t *)p, ctl_on_refused_close);
}

static void
ctl_on_connection(uv_stream_t *server, int status)
{
	struct control *c = server->data;
	struct ctl_client *cl;

	if (status < 0) {
		/* libuv keeps a spare fd for EMFILE and sheds the
		 * connection itself; the listen socket stays. */
		if (c->accept_errors++ % 1000 == 0)
			log_warnx("control: accept: %s (%llu so far)",
			    uv_strerror(status),
			    (unsigned long long)c->accept_errors);
		return;
	}
	if (c->stopping)
		return;
	if (c->nclients >= CTL_MAX_CLIENTS) {
		ctl_refuse(c);
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->ctl = c;
	uv_pipe_init(c->loop, &cl->pipe, 0);
	cl->pipe.data = cl;
	uv_timer_init(c->loop, &cl->timer);
	cl->timer.data = cl;
	cl->handles = 2;
	cl->next = c->clients;
	if (c->clients != NULL)
		c->clients->prev = cl;
	c->clients = cl;
	c->nclients++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0) {
		ctl_client_close(cl);
		return;
	}
	uv_timer_start(&cl->timer, ctl_client_on_timer, CTL_IDLE_TIMEOUT_MS, 0);
	ctl_client_read(cl, true);
}

/* A socket file at path: one a dead proxymgrd left is removed; one that
 * answers belongs to a running proxymgrd and is left alone. */
static int
ctl_clear_stale(const char *path, char **err)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : set_err(err, "control socket %s: "
		    "%s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return set_err(err, "control socket %s: exists and is not a "
		    "socket", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return set_err(err, "control socket: %s", strerror(errno));
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0)
		return set_err(err, "control socket %s: another proxymgrd "
		    "answers there", path);
	if (unlink(path) == -1 && errno != ENOENT)
		return set_err(err, "control socket %s: cannot remove the "
		    "stale one: %s", path, strerror(errno));
	return 0;
}

static void
ctl_on_listen_close(uv_handle_t *h)
{
	struct control *c = h->data;

	c->listen_closed = true;
	ctl_maybe_free(c);
}

struct control *
control_start(uv_loop_t *loop, const char *path, ctl_handler handler,
    void *ctx, char **err)
{
	struct sockaddr_un sun;
	struct control *c;
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		set_err(err, "control socket %s: path longer than %zu bytes",
		    path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	if (mkdir_parents(path, err) == -1 || ctl_clear_stale(path, err) == -1)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->path = xstrdup(path);
	c->handler = handler;
	c->ctx = ctx;
	uv_pipe_init(loop, &c->listen, 0);
	c->listen.data = c;
	/* Mode 0600 from the start: no moment where others may connect. */
	old = umask(077);
	rc = uv_pipe_bind(&c->listen, path);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&c->listen, CTL_BACKLOG,
		    ctl_on_connection);
	if (rc != 0) {
		set_err(err, "control socket %s: %s", path, uv_strerror(rc));
		uv_close((uv_handle_t *)&c->listen, ctl_on_listen_close);
		return NULL;
	}
	chmod(path, 0600);
	log_info("control socket %s", path);
	return c;
}

const char *
control_path(const struct control *c)
{
	return c->path;
}

void
control_stop(struct control *c)
{
	if (c == NULL || c->stopping)
		return;
	c->stopping = true;
	for (struct ctl_client *cl = c->clients; cl != NULL; cl = cl->next)
		ctl_client_close(cl);
	unlink(c->path);
	uv_close((uv_handle_t *)&c->listen, ctl_on_listen_close);
}
