#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/planner.h"
#include "haproxy/runtime.h"
#include "haproxy/stats.h"
#include "util.h"

#define RT_PROMPT	"\n> "
/* HAProxy closes an idle CLI connection after `stats timeout` (10 s by
 * default). A batch written just as it does so would get no reply and
 * turn into a reload for nothing: a connection idle for this long is
 * replaced by a new one instead. */
#define RT_IDLE_MS	5000

/* One connection; freed when its pipe is closed, which may be after the
 * rt_conn has moved on to a new one. */
struct rt_link {
	uv_pipe_t	 pipe;
	uv_connect_t	 connect;
	struct rt_conn	*owner;		/* NULL once dropped */
	bool		 connected;
	bool		 closing;
	struct sbuf	 in;
	int		 pid;		/* verified HAProxy pid, or 0 */
	uint64_t	 last_ms;	/* last batch ended */
};

struct rt_write {
	uv_write_t	 req;
	char		*buf;
};

struct rt_conn {
	uv_loop_t	*loop;
	uv_timer_t	 timer;
	struct rt_link	*link;
	bool		 freeing;

	/* The batch in flight. */
	bool		 busy;
	char		**expect;	/* n_pre + n */
	char		**cmds;		/* for messages */
	size_t		 n_pre;		/* "prompt", "show info" on a new link */
	size_t		 n_total;
	size_t		 n_got;
	unsigned	 timeout_ms;	/* without a reply: no answer */
	int		 want_pid;
	char		*out;		/* to write once connected */
	rt_done_cb	 cb;
	void		*arg;
};

size_t
rt_split_replies(const char *buf, size_t len, char **replies, size_t max,
    size_t *used)
{
	size_t n = 0, start = 0, plen = strlen(RT_PROMPT);

	while (n < max && start <= len) {
		const char *p = NULL;
		for (size_t i = start; i + plen <= len; i++)
			if (memcmp(buf + i, RT_PROMPT, plen) == 0) {
				p = buf + i;
				break;
			}
		if (p == NULL)
			break;
		size_t end = (size_t)(p - buf);
		while (end > start && (buf[end - 1] == '\n' ||
		    buf[end - 1] == '\r'))
			end--;
		char *r = xmalloc(end - start + 1);
		memcpy(r, buf + start, end - start);
		r[end - start] = '\0';
		replies[n++] = r;
		start = (size_t)(p - buf) + plen;
	}
	*used = start;
	return n;
}

bool
rt_reply_ok(const char *expect, const char *reply)
{
	size_t lr = strlen(reply), e = 0, r = 0, star_e = SIZE_MAX, star_r = 0;

	while (lr > 0 && (reply[lr - 1] == '\n' || reply[lr - 1] == ' ' ||
	    reply[lr - 1] == '\r'))
		lr--;
	/* '*' matches any run of characters but a newline: backtrack to
	 * the last one on a mismatch. */
	while (r < lr) {
		if (expect[e] == '*') {
			star_e = e++;
			star_r = r;
		} else if (expect[e] != '\0' && expect[e] == reply[r]) {
			e++;
			r++;
		} else if (star_e != SIZE_MAX && reply[star_r] != '\n') {
			e = star_e + 1;
			r = ++star_r;
		} else
			return false;
	}
	while (expect[e] == '*')
		e++;
	return expect[e] == '\0';
}

/* What the planner sends, each verb followed by BACKEND/SERVER. */
static const char *const rt_verbs[] = { "add server ", "enable server ",
    "enable health ", "set server ", "set weight ", NULL };

const char *
rt_cmd_unsafe(const char *cmd)
{
	const char *p = NULL, *slash;
	size_t len;
	char prev = '\0';

	for (size_t i = 0; rt_verbs[i] != NULL && p == NULL; i++)
		if (strncmp(cmd, rt_verbs[i], strlen(rt_verbs[i])) == 0)
			p = cmd + strlen(rt_verbs[i]);
	if (p == NULL)
		return "not a command proxymgrd sends";
	len = strcspn(p, " ");
	slash = memchr(p, '/', len);
	if (slash == NULL || slash == p || slash + 1 == p + len ||
	    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.:-/") != len || memchr(slash + 1, '/',
	    len - (size_t)(slash + 1 - p)) != NULL)
		return "no BACKEND/SERVER after the verb";
	for (const char *c = cmd; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return "a control character";
		if (*c == ';')
			return "';', which ends a command";
		/* The CLI drops backslashes before it looks for "<<". */
		if (*c == '<' && prev == '<')
			return "'<<', which switches the CLI to payload mode";
		if (*c != '\\')
			prev = *c;
	}
	if (cmd[strlen(cmd) - 1] == '\\')
		return "a trailing '\\', which joins it to the next command";
	return NULL;
}

struct rt_conn *
rt_new(uv_loop_t *loop)
{
	struct rt_conn *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	return c;
}

bool
rt_busy(const struct rt_conn *c)
{
	return c->busy;
}

static void
rt_link_on_close(uv_handle_t *h)
{
	struct rt_link *l = h->data;

	sbuf_free(&l->in);
	free(l);
}

static void
rt_link_drop(struct rt_conn *c)
{
	struct rt_link *l = c->link;

	if (l == NULL)
		return;
	c->link = NULL;
	l->owner = NULL;
	if (!l->closing) {
		l->closing = true;
		uv_close((uv_handle_t *)&l->pipe, rt_link_on_close);
	}
}

static void
rt_batch_clear(struct rt_conn *c)
{
	for (size_t i = 0; i < c->n_total; i++) {
		free(c->expect[i]);
		free(c->cmds[i]);
	}
	free(c->expect);
	free(c->cmds);
	free(c->out);
	c->expect = c->cmds = NULL;
	c->out = NULL;
	c->n_total = c->n_got = c->n_pre = 0;
	c->busy = false;
	uv_timer_stop(&c->timer);
}

/* End the batch; on any failure the connection goes too: what it has
 * in its buffers belongs to the failed batch. */
static void
rt_finish(struct rt_conn *c, enum rt_status st, size_t applied,
    const char *why)
{
	rt_done_cb cb = c->cb;
	void *arg = c->arg;

	rt_batch_clear(c);
	if (st != RT_OK)
		rt_link_drop(c);
	else if (c->link != NULL)
		c->link->last_ms = now_ms();
	if (cb != NULL)
		cb(arg, st, applied, why);
}

static void
rt_on_write(uv_write_t *w, int status)
{
	struct rt_write *wr = w->data;
	struct rt_link *l = wr->req.handle->data;

	free(wr->buf);
	free(wr);
	if (status < 0 && l->owner != NULL && l->owner->busy) {
		char *why = xasprintf("write: %s", uv_strerror(status));
		rt_finish(l->owner, RT_NO_ANSWER, 0, why);
		free(why);
	}
}

static void
rt_write_out(struct rt_conn *c)
{
	struct rt_write *wr = xcalloc(1, sizeof(*wr));
	uv_buf_t buf;

	wr->buf = c->out;
	c->out = NULL;
	wr->req.data = wr;
	buf = uv_buf_init(wr->buf, (unsigned)strlen(wr->buf));
	if (uv_write(&wr->req, (uv_stream_t *)&c->link->pipe, &buf, 1,
	    rt_on_write) != 0) {
		free(wr->buf);
		free(wr);
		rt_finish(c, RT_NO_ANSWER, 0, "write failed");
	}
}

static void
rt_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = xmalloc(suggested);
	buf->len = suggested;
}

/* Check replies as they come; the batch ends at its last reply or at the
 * first one that differs. */
static void rt_on_timeout(uv_timer_t *t);

static void
rt_check(struct rt_conn *c, struct rt_link *l)
{
	char *replies[64];
	size_t used, got;

	while (c->busy && (got = rt_split_replies(l->in.buf, l->in.len,
	    replies, 64, &used)) > 0) {
		for (size_t i = 0; i < got; i++) {
			size_t k = c->n_got;
			const char *r = replies[i];
			if (!c->busy || k >= c->n_total) {
				free(replies[i]);
				continue;
			}
			c->n_got++;
			if (k == 1 && c->n_pre == 2) {
				int pid = stats_info_pid(r);
				if (pid != c->want_pid) {
					char *why = xasprintf("the stats socket "
					    "is answered by pid %d, not by "
					    "haproxy[%d]", pid, c->want_pid);
					rt_finish(c, RT_NO_ANSWER, 0, why);
					free(why);
				} else
					l->pid = pid;
			} else if (!rt_reply_ok(c->expect[k], r)) {
				char *why = xasprintf("'%s' got '%s'%s%s%s",
				    c->cmds[k], r, c->expect[k][0] ? " (not '" :
				    " (not an empty reply", c->expect[k],
				    c->expect[k][0] ? "')" : ")");
				size_t applied = k - c->n_pre;
				rt_finish(c, RT_REFUSED, applied, why);
				free(why);
			} else if (c->n_got == c->n_total)
				rt_finish(c, RT_OK, c->n_total - c->n_pre,
				    NULL);
			free(replies[i]);
		}
		if (c->link != l)
			return;		/* dropped: buffers go with it */
		/* A batch of 100,000 commands takes HAProxy seconds: the
		 * timeout is for a HAProxy that stopped answering. */
		if (c->busy)
			uv_timer_start(&c->timer, rt_on_timeout, c->timeout_ms,
			    0);
		memmove(l->in.buf, l->in.buf + used, l->in.len - used);
		l->in.len -= used;
		l->in.buf[l->in.len] = '\0';
	}
}

static void
rt_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct rt_link *l = s->data;
	struct rt_conn *c = l->owner;

	if (nread > 0 && c != NULL)
		sbuf_add(&l->in, buf->base, (size_t)nread);
	free(buf->base);
	if (c == NULL)
		return;
	if (nread < 0) {
		if (c->busy) {
			char *why = xasprintf("stats socket: %s",
			    nread == UV_EOF ? "closed by HAProxy" :
			    uv_strerror((int)nread));
			rt_finish(c, RT_NO_ANSWER, 0, why);
			free(why);
		} else
			rt_link_drop(c);
		return;
	}
	if (nread > 0)
		rt_check(c, l);
}

static void
rt_on_connect(uv_connect_t *req, int status)
{
	struct rt_link *l = req->data;
	struct rt_conn *c = l->owner;

	if (c == NULL)
		return;
	if (status < 0) {
		char *why = xasprintf("stats socket: %s", uv_strerror(status));
		rt_finish(c, RT_NO_ANSWER, 0, why);
		free(why);
		return;
	}
	l->connected = true;
	uv_read_start((uv_stream_t *)&l->pipe, rt_alloc, rt_on_read);
	if (c->busy && c->out != NULL)
		rt_write_out(c);
}

static void
rt_on_timeout(uv_timer_t *t)
{
	struct rt_conn *c = t->data;
	char *why;

	if (!c->busy)
		return;
	why = xasprintf("no complete answer within the timeout (%zu of %zu "
	    "replies)", c->n_got, c->n_total);
	rt_finish(c, RT_NO_ANSWER, 0, why);
	free(why);
}

int
rt_send(struct rt_conn *c, const char *path, int pid,
    const struct plan_cmd *cmds, size_t n, unsigned timeout_ms,
    rt_done_cb cb, void *arg)
{
	struct sbuf out;
	size_t k = 0;

	if (c->busy || c->freeing)
		return -1;
	if (c->link != NULL && ((c->link->pid != 0 && c->link->pid != pid) ||
	    now_ms() - c->link->last_ms > RT_IDLE_MS))
		rt_link_drop(c);
	c->busy = true;
	c->cb = cb;
	c->arg = arg;
	c->want_pid = pid;
	c->timeout_ms = timeout_ms;
	c->n_pre = c->link == NULL ? 2 : 0;
	c->n_total = c->n_pre + n;
	c->n_got = 0;
	c->expect = xcalloc(c->n_total, sizeof(*c->expect));
	c->cmds = xcalloc(c->n_total, sizeof(*c->cmds));
	sbuf_init(&out);
	if (c->n_pre) {
		c->cmds[k] = xstrdup("prompt");
		c->expect[k++] = xstrdup("");
		c->cmds[k] = xstrdup("show info");
		c->expect[k++] = xstrdup("");
		sbuf_puts(&out, "prompt\nshow info\n");
	}
	for (size_t i = 0; i < n; i++, k++) {
		c->cmds[k] = xstrdup(cmds[i].cmd);
		c->expect[k] = xstrdup(cmds[i].expect);
		sbuf_printf(&out, "%s\n", cmds[i].cmd);
	}
	c->out = sbuf_take(&out);
	uv_timer_start(&c->timer, rt_on_timeout, timeout_ms, 0);
	if (c->link == NULL) {
		struct rt_link *l = xcalloc(1, sizeof(*l));
		l->owner = c;
		sbuf_init(&l->in);
		uv_pipe_init(c->loop, &l->pipe, 0);
		l->pipe.data = l->connect.data = l;
		c->link = l;
		uv_pipe_connect(&l->connect, &l->pipe, path, rt_on_connect);
	} else if (c->link->connected)
		rt_write_out(c);
	return 0;
}

void
rt_reset(struct rt_conn *c)
{
	if (c->busy)
		rt_finish(c, RT_NO_ANSWER, 0, "HAProxy was replaced");
	rt_link_drop(c);
}

static void
rt_on_timer_close(uv_handle_t *h)
{
	free(h->data);
}

void
rt_free(struct rt_conn *c)
{
	if (c == NULL)
		return;
	c->cb = NULL;
	rt_batch_clear(c);
	rt_link_drop(c);
	c->freeing = true;
	uv_close((uv_handle_t *)&c->timer, rt_on_timer_close);
}
