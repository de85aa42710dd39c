#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/stats.h"
#include "util.h"

struct stats_query {
	uv_pipe_t	 pipe;
	uv_connect_t	 connect;
	uv_write_t	 write;
	uv_timer_t	 timer;
	char		*command;
	struct sbuf	 reply;
	stats_reply_cb	 cb;
	void		*arg;
	int		 open_handles;
	bool		 finished;
};

static void
stats_on_close(uv_handle_t *h)
{
	struct stats_query *q = h->data;

	if (--q->open_handles > 0)
		return;
	free(q->command);
	sbuf_free(&q->reply);
	free(q);
}

static void
stats_finish(struct stats_query *q, int status)
{
	if (q->finished)
		return;
	q->finished = true;
	if (q->cb != NULL)
		q->cb(status, status == 0 && q->reply.buf ? q->reply.buf : "",
		    q->arg);
	uv_close((uv_handle_t *)&q->pipe, stats_on_close);
	uv_close((uv_handle_t *)&q->timer, stats_on_close);
}

static void
stats_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = xmalloc(suggested);
	buf->len = suggested;
}

static void
stats_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct stats_query *q = s->data;

	if (nread > 0)
		sbuf_add(&q->reply, buf->base, (size_t)nread);
	free(buf->base);
	if (nread == UV_EOF)
		stats_finish(q, 0);
	else if (nread < 0)
		stats_finish(q, (int)nread);
}

static void
stats_on_write(uv_write_t *w, int status)
{
	struct stats_query *q = w->data;

	if (status < 0)
		stats_finish(q, status);
}

static void
stats_on_connect(uv_connect_t *c, int status)
{
	struct stats_query *q = c->data;
	uv_buf_t buf;

	if (q->finished)
		return;
	if (status < 0) {
		stats_finish(q, status);
		return;
	}
	buf = uv_buf_init(q->command, (unsigned)strlen(q->command));
	q->write.data = q;
	uv_write(&q->write, (uv_stream_t *)&q->pipe, &buf, 1, stats_on_write);
	uv_read_start((uv_stream_t *)&q->pipe, stats_alloc, stats_on_read);
}

static void
stats_on_timeout(uv_timer_t *t)
{
	stats_finish(t->data, UV_ETIMEDOUT);
}

struct stats_query *
stats_query(uv_loop_t *loop, const char *path, const char *command,
    unsigned timeout_ms, stats_reply_cb cb, void *arg)
{
	struct stats_query *q = xcalloc(1, sizeof(*q));

	q->command = xasprintf("%s\n", command);
	q->cb = cb;
	q->arg = arg;
	sbuf_init(&q->reply);
	uv_pipe_init(loop, &q->pipe, 0);
	uv_timer_init(loop, &q->timer);
	q->pipe.data = q->timer.data = q->connect.data = q;
	q->open_handles = 2;
	uv_timer_start(&q->timer, stats_on_timeout, timeout_ms, 0);
	uv_pipe_connect(&q->connect, &q->pipe, path, stats_on_connect);
	return q;
}

void
stats_query_cancel(struct stats_query *q)
{
	if (q == NULL)
		return;
	q->cb = NULL;
	stats_finish(q, UV_ECANCELED);
}

int
stats_info_pid(const char *reply)
{
	const char *p = reply;

	while ((p = strstr(p, "Pid: ")) != NULL) {
		if (p == reply || p[-1] == '\n') {
			char *end;
			long pid;

			/* Not atoi: a number past INT_MAX would wrap into
			 * any pid, a negative one into a process group
			 * (found by tests/fuzz/fuzz_runtime). */
			errno = 0;
			pid = strtol(p + 5, &end, 10);
			if (errno != 0 || end == p + 5 || pid < 1 ||
			    pid > INT_MAX || (*end != '\0' && *end != '\n' &&
			    *end != '\r'))
				return -1;
			return (int)pid;
		}
		p += 5;
	}
	return -1;
}
