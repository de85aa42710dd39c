#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zookeeper/zookeeper.h>

#include "log.h"
#include "util.h"
#include "zk/session.h"

/* Asked of the server, which clamps it to its own min/max session
 * timeout (2 and 20 ticks by default). */
#define ZKS_SESSION_TIMEOUT_MS	10000
#define ZKS_BACKOFF_MIN_MS	500
#define ZKS_BACKOFF_MAX_MS	30000
/* How often to repeat that ZooKeeper is still out of reach. */
#define ZKS_REMIND_FIRST_MS	5000
#define ZKS_REMIND_EVERY_MS	30000
/* Requests sent and not answered yet, at most: the rest wait their turn
 * in the session's queue. A first sync of 100,000 server nodes otherwise
 * sends them all at once, and the client's buffers and the replies
 * waiting for the loop grow with the fleet. */
#define ZKS_MAX_SENT		1000
/* The client resolves its server list again at every turn of its I/O
 * thread by default (getaddrinfo, with a netlink dump each time): at a
 * first sync that was a quarter of proxymgrd's CPU (perf), and it costs
 * every change. A name's new addresses are seen within this long; a lost
 * connection resolves at once anyway. */
#define ZKS_RESOLVE_EVERY_MS	10000

enum zks_msg_kind {
	ZKS_MSG_SESSION,
	ZKS_MSG_WATCH,
	ZKS_MSG_REPLY,
};

/* What a ZooKeeper thread hands to the loop: copies only. */
struct zks_msg {
	struct zks_msg	*next;
	enum zks_msg_kind kind;
	uint64_t	 gen;		/* of the handle it came from */
	unsigned	 sub_id;
	int		 state;		/* session */
	int		 type;		/* watch */
	enum zks_op	 op;		/* reply */
	int		 rc;
	long long	 session_id;	/* session, when connected */
	bool		 unsent;	/* reply: never left the queue */
	char		*path;
	char		**children;
	char		*data;
	size_t		 len;
};

/* The context of one zhandle and of each request sent on it. */
struct zks_tag {
	struct zks	*s;
	uint64_t	 gen;
	unsigned	 sub_id;
	enum zks_op	 op;
	char		*path;
	/* Requests in flight, in zks.inflight, under zks.lock. */
	struct zks_tag	*prev;
	struct zks_tag	*next;
};

struct zks {
	struct zks	*next;		/* in zks_all */
	uv_loop_t	*loop;
	char		*servers;
	int		 refs;

	zhandle_t	*zh;
	struct zks_tag	*zh_tag;
	uint64_t	 gen;
	bool		 connected;
	bool		 ever_connected;
	long long	 session_id;	/* the last connected one */
	int64_t		 state_since_ms;	/* wall clock, for zks_get_info */
	uint64_t	 lost_at;	/* when the connection was lost, or 0 */
	int		 backoff_ms;

	uv_mutex_t	 lock;		/* head, tail and inflight */
	struct zks_msg	*head;
	struct zks_msg	**tail;
	struct zks_tag	*inflight;
	/* Loop thread: requests waiting for a slot (linked by next), and
	 * how many of this handle's were sent and not yet answered. */
	struct zks_tag	*queue;
	struct zks_tag	**queue_tail;
	size_t		 nsent;
	uv_async_t	 wake;
	uv_timer_t	 retry;		/* new session after a failure */
	uv_timer_t	 remind;	/* "still unreachable" */
	int		 open_handles;

	struct zks_sub	**subs;
	size_t		 nsubs;
	unsigned	 next_sub_id;
};

static struct zks *zks_all;

static void zks_open(struct zks *s);
static void zks_drain(struct zks *s);

/* ZooKeeper threads. */

static void
zks_post(struct zks *s, struct zks_msg *m)
{
	m->next = NULL;
	uv_mutex_lock(&s->lock);
	*s->tail = m;
	s->tail = &m->next;
	uv_mutex_unlock(&s->lock);
	uv_async_send(&s->wake);
}

static void
zks_on_session_event(zhandle_t *zh, int type, int state, const char *path,
    void *ctx)
{
	struct zks_tag *tag = (struct zks_tag *)zoo_get_context(zh);
	struct zks_msg *m;

	(void)path;
	(void)ctx;
	if (type != ZOO_SESSION_EVENT || tag == NULL)
		return;
	m = xcalloc(1, sizeof(*m));
	m->kind = ZKS_MSG_SESSION;
	m->gen = tag->gen;
	m->state = state;
	if (state == ZOO_CONNECTED_STATE)
		m->session_id = zoo_client_id(zh)->client_id;
	zks_post(tag->s, m);
}

static void
zks_on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zks_tag *tag = (struct zks_tag *)zoo_get_context(zh);
	struct zks_msg *m;

	(void)state;
	/* Session events reach the session watcher too. */
	if (type == ZOO_SESSION_EVENT || tag == NULL || path == NULL)
		return;
	m = xcalloc(1, sizeof(*m));
	m->kind = ZKS_MSG_WATCH;
	m->gen = tag->gen;
	m->sub_id = (unsigned)(uintptr_t)ctx;
	m->type = type;
	m->path = xstrdup(path);
	zks_post(tag->s, m);
}

static void
zks_inflight_remove(struct zks *s, struct zks_tag *req)
{
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		s->inflight = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
}

/* The reply to req, which is freed. */
static struct zks_msg *
zks_reply_msg(int rc, const void *data)
{
	struct zks_tag *req = (struct zks_tag *)data;
	struct zks_msg *m = xcalloc(1, sizeof(*m));

	uv_mutex_lock(&req->s->lock);
	zks_inflight_remove(req->s, req);
	uv_mutex_unlock(&req->s->lock);

	m->kind = ZKS_MSG_REPLY;
	m->gen = req->gen;
	m->sub_id = req->sub_id;
	m->op = req->op;
	m->rc = rc;
	m->path = req->path;
	free(req);
	return m;
}

static void
zks_on_children(int rc, const struct String_vector *strings, const void *data)
{
	struct zks *s = ((const struct zks_tag *)data)->s;
	struct zks_msg *m = zks_reply_msg(rc, data);

	if (rc == ZOK) {
		int n = strings != NULL ? strings->count : 0;
		m->children = xcalloc((size_t)n + 1, sizeof(char *));
		for (int i = 0; i < n; i++)
			m->children[i] = xstrdup(strings->data[i]);
	}
	zks_post(s, m);
}

static void
zks_on_data(int rc, const char *value, int len, const struct Stat *stat,
    const void *data)
{
	struct zks *s = ((const struct zks_tag *)data)->s;
	struct zks_msg *m = zks_reply_msg(rc, data);

	(void)stat;
	if (rc == ZOK) {
		m->len = value != NULL && len > 0 ? (size_t)len : 0;
		m->data = xmalloc(m->len + 1);
		memcpy(m->data, value != NULL ? value : "", m->len);
		m->data[m->len] = '\0';
	}
	zks_post(s, m);
}

static void
zks_on_stat(int rc, const struct Stat *stat, const void *data)
{
	struct zks *s = ((const struct zks_tag *)data)->s;

	(void)stat;
	zks_post(s, zks_reply_msg(rc, data));
}

/* Loop thread. */

static void
zks_msg_free(struct zks_msg *m)
{
	free(m->path);
	strv_free(m->children);
	free(m->data);
	free(m);
}

static struct zks_sub *
zks_find_sub(struct zks *s, unsigned id)
{
	for (size_t i = 0; i < s->nsubs; i++)
		if (s->subs[i]->id == id)
			return s->subs[i];
	return NULL;
}

static int
zks_jitter(int ms)
{
	/* +-25%, so that many proxymgrd do not reconnect in step. */
	return ms * 3 / 4 + (int)((unsigned)rand() % (unsigned)(ms / 2 + 1));
}

/* The reply to a request that was never sent (req is freed). */
static struct zks_msg *
zks_unsent_msg(struct zks_tag *req, int rc)
{
	struct zks_msg *m = xcalloc(1, sizeof(*m));

	m->kind = ZKS_MSG_REPLY;
	m->gen = req->gen;
	m->sub_id = req->sub_id;
	m->op = req->op;
	m->rc = rc;
	m->unsent = true;
	m->path = req->path;
	free(req);
	return m;
}

/* A request that never left the queue gets its one reply too. Returns
 * how many there were. */
static size_t
zks_flush_queue(struct zks *s, int rc)
{
	struct zks_tag *req;
	size_t n = 0;

	while ((req = s->queue) != NULL) {
		s->queue = req->next;
		zks_post(s, zks_unsent_msg(req, rc));
		n++;
	}
	s->queue_tail = &s->queue;
	return n;
}

/* Close the handle. Blocks until its threads are joined; only a closing
 * request to a live server takes time, and only at shutdown. */
static void
zks_close_handle(struct zks *s)
{
	struct zks_tag *req;

	if (s->zh == NULL)
		return;
	zookeeper_close(s->zh);
	/* Its threads are joined: a request still in flight will never
	 * complete. Answer it, so that every request gets one reply. */
	for (;;) {
		uv_mutex_lock(&s->lock);
		req = s->inflight;
		uv_mutex_unlock(&s->lock);
		if (req == NULL)
			break;
		zks_post(s, zks_reply_msg(ZCLOSING, req));
	}
	zks_flush_queue(s, ZCLOSING);
	s->nsent = 0;
	s->zh = NULL;
	free(s->zh_tag);
	s->zh_tag = NULL;
	s->connected = false;
	s->gen++;
}

static void
zks_on_retry(uv_timer_t *t)
{
	zks_open(t->data);
}

static void
zks_schedule_open(struct zks *s, const char *why)
{
	int delay = zks_jitter(s->backoff_ms);

	log_event(LOG_LVL_WARNING, "zookeeper_session", NULL, NULL,
	    "ZooKeeper %s: %s; opening a new session in %d ms, keeping "
	    "every service and server as last read", s->servers, why, delay);
	s->backoff_ms = s->backoff_ms * 2 > ZKS_BACKOFF_MAX_MS ?
	    ZKS_BACKOFF_MAX_MS : s->backoff_ms * 2;
	uv_timer_start(&s->retry, zks_on_retry, (uint64_t)delay, 0);
}

static void
zks_open(struct zks *s)
{
	s->zh_tag = xcalloc(1, sizeof(*s->zh_tag));
	s->zh_tag->s = s;
	s->zh_tag->gen = s->gen;
	s->zh = zookeeper_init(s->servers, zks_on_session_event,
	    ZKS_SESSION_TIMEOUT_MS, NULL, s->zh_tag, 0);
	if (s->zh != NULL)
		(void)zoo_set_servers_resolution_delay(s->zh,
		    ZKS_RESOLVE_EVERY_MS);
	if (s->zh == NULL) {
		/* It resolves every name of the list at once. */
		char *why = xasprintf("cannot start a client (does every "
		    "server name resolve?): %s", strerror(errno));
		free(s->zh_tag);
		s->zh_tag = NULL;
		zks_schedule_open(s, why);
		free(why);
	}
}

static void
zks_on_remind(uv_timer_t *t)
{
	struct zks *s = t->data;

	if (s->connected)
		return;
	log_event(LOG_LVL_WARNING, "zookeeper_session", NULL, NULL,
	    "ZooKeeper %s: out of reach for %llu s; every service and "
	    "server stays as last read", s->servers, (unsigned long
	    long)((now_ms() - s->lost_at) / 1000));
	uv_timer_start(&s->remind, zks_on_remind, ZKS_REMIND_EVERY_MS, 0);
}

static void
zks_lost(struct zks *s)
{
	if (s->lost_at == 0)
		s->lost_at = now_ms();
	if (!uv_is_active((uv_handle_t *)&s->remind))
		uv_timer_start(&s->remind, zks_on_remind, ZKS_REMIND_FIRST_MS,
		    0);
}

static void
zks_session_event(struct zks *s, const struct zks_msg *m)
{
	size_t unsent;

	if (m->state == ZOO_CONNECTED_STATE) {
		s->connected = true;
		s->session_id = m->session_id;
		s->state_since_ms = wall_ms();
		s->backoff_ms = ZKS_BACKOFF_MIN_MS;
		uv_timer_stop(&s->remind);
		if (s->ever_connected)
			log_event(LOG_LVL_INFO, "zookeeper_session", NULL, NULL,
			    "ZooKeeper %s: connected (session 0x%llx) "
			    "after %llu ms out of reach; reading everything "
			    "again", s->servers, m->session_id, (unsigned long
			    long)(now_ms() - s->lost_at));
		else
			log_event(LOG_LVL_INFO, "zookeeper_session", NULL, NULL,
			    "ZooKeeper %s: connected (session 0x%llx)",
			    s->servers, m->session_id);
		s->ever_connected = true;
		s->lost_at = 0;
		/* Re-read on every connect, not only on a new session: cheap,
		 * and it heals whatever a lost watch might have missed. */
		for (size_t i = 0; i < s->nsubs; i++)
			s->subs[i]->on_connected(s->subs[i]->ctx);
		return;
	}
	if (m->state == ZOO_CONNECTING_STATE) {
		if (s->connected) {
			log_event(LOG_LVL_WARNING, "zookeeper_session", NULL,
			    NULL, "ZooKeeper %s: connection lost; serving the "
			    "last known state while the client reconnects",
			    s->servers);
			s->state_since_ms = wall_ms();
		}
		s->connected = false;
		/* The client answers what was sent (connection loss); what
		 * waits here is answered alike. */
		if ((unsent = zks_flush_queue(s, ZCONNECTIONLOSS)) > 0)
			log_event(LOG_LVL_INFO, "zookeeper_session", NULL,
			    NULL, "ZooKeeper %s: %zu requests not sent yet "
			    "(%zu in flight) are dropped with the connection; "
			    "everything is read again once connected",
			    s->servers, unsent, s->nsent);
		zks_lost(s);
		return;
	}
	if (m->state == ZOO_EXPIRED_SESSION_STATE ||
	    m->state == ZOO_AUTH_FAILED_STATE) {
		zks_lost(s);
		if (s->zh != NULL)
			s->state_since_ms = wall_ms();
		zks_close_handle(s);
		zks_schedule_open(s, m->state == ZOO_EXPIRED_SESSION_STATE ?
		    "session expired" : "authentication failed");
	}
}

static void
zks_dispatch(struct zks *s, struct zks_msg *m)
{
	struct zks_sub *sub;
	bool stale = m->gen != s->gen;	/* from a closed handle */

	if (m->kind == ZKS_MSG_SESSION) {
		if (!stale)
			zks_session_event(s, m);
		return;
	}
	if ((sub = zks_find_sub(s, m->sub_id)) == NULL)
		return;
	if (m->kind == ZKS_MSG_WATCH) {
		if (!stale)
			sub->on_watch(sub->ctx, m->type, m->path);
		return;
	}
	if (!stale && !m->unsent && s->nsent > 0)
		s->nsent--;
	/* Every request gets its reply, even from a closed handle (as a
	 * failure), so that subscribers can count what is in flight. */
	struct zks_reply r = {
		.op = m->op, .rc = stale ? ZSESSIONEXPIRED : m->rc,
		.path = m->path, .children = stale ? NULL : m->children,
		.data = stale ? NULL : m->data, .len = stale ? 0 : m->len,
	};
	sub->on_reply(sub->ctx, &r);
}

static struct zks_msg *
zks_take_all(struct zks *s)
{
	struct zks_msg *all;

	uv_mutex_lock(&s->lock);
	all = s->head;
	s->head = NULL;
	s->tail = &s->head;
	uv_mutex_unlock(&s->lock);
	return all;
}

static void
zks_on_wake(uv_async_t *a)
{
	struct zks *s = a->data;
	struct zks_msg *m, *next;

	/* A subscriber may release the session from a callback: hold it. */
	s->refs++;
	for (m = zks_take_all(s); m != NULL; m = next) {
		next = m->next;
		if (s->refs > 1)
			zks_dispatch(s, m);
		zks_msg_free(m);
	}
	if (s->refs > 1)
		zks_drain(s);
	zks_release(s);
}

struct zks *
zks_acquire(uv_loop_t *loop, const char *servers)
{
	struct zks *s;

	for (s = zks_all; s != NULL; s = s->next)
		if (strcmp(s->servers, servers) == 0) {
			s->refs++;
			return s;
		}
	/* Off: the client logs every reconnect attempt, 20 a second while
	 * ZooKeeper is down; proxymgrd says what matters itself. */
	zoo_set_debug_level(0);
	s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->servers = xstrdup(servers);
	s->refs = 1;
	s->state_since_ms = wall_ms();
	s->backoff_ms = ZKS_BACKOFF_MIN_MS;
	s->tail = &s->head;
	s->queue_tail = &s->queue;
	s->gen = 1;
	uv_mutex_init(&s->lock);
	uv_async_init(loop, &s->wake, zks_on_wake);
	s->wake.data = s;
	uv_timer_init(loop, &s->retry);
	s->retry.data = s;
	uv_timer_init(loop, &s->remind);
	s->remind.data = s;
	s->open_handles = 3;
	s->next = zks_all;
	zks_all = s;
	zks_lost(s);		/* until the first connect */
	zks_open(s);
	return s;
}

static void
zks_on_close(uv_handle_t *h)
{
	struct zks *s = h->data;

	if (--s->open_handles > 0)
		return;
	uv_mutex_destroy(&s->lock);
	free(s->subs);
	free(s->servers);
	free(s);
}

void
zks_release(struct zks *s)
{
	struct zks **pp;

	if (s == NULL || --s->refs > 0)
		return;
	for (pp = &zks_all; *pp != s; pp = &(*pp)->next)
		;
	*pp = s->next;
	zks_close_handle(s);
	/* The ZooKeeper threads are gone: drop what they left. */
	for (struct zks_msg *m = zks_take_all(s), *next; m != NULL; m = next) {
		next = m->next;
		zks_msg_free(m);
	}
	log_debug("ZooKeeper %s: session closed", s->servers);
	uv_close((uv_handle_t *)&s->wake, zks_on_close);
	uv_close((uv_handle_t *)&s->retry, zks_on_close);
	uv_close((uv_handle_t *)&s->remind, zks_on_close);
}

void
zks_subscribe(struct zks *s, struct zks_sub *sub)
{
	sub->id = ++s->next_sub_id;
	s->subs = xrealloc(s->subs, (s->nsubs + 1) * sizeof(*s->subs));
	s->subs[s->nsubs++] = sub;
	if (s->connected)
		sub->on_connected(sub->ctx);
}

void
zks_unsubscribe(struct zks *s, struct zks_sub *sub)
{
	for (size_t i = 0; i < s->nsubs; i++)
		if (s->subs[i] == sub) {
			s->subs[i] = s->subs[--s->nsubs];
			return;
		}
}

bool
zks_connected(const struct zks *s)
{
	return s->connected;
}

void
zks_get_info(const struct zks *s, struct zks_info *out)
{
	if (s->connected)
		out->state = ZKS_STATE_CONNECTED;
	else if (!s->ever_connected)
		out->state = ZKS_STATE_CONNECTING;
	else if (s->zh != NULL)
		out->state = ZKS_STATE_RECONNECTING;
	else
		out->state = ZKS_STATE_EXPIRED;
	out->session_id = s->session_id;
	out->since_ms = s->state_since_ms;
}

const char *
zks_state_name(enum zks_state st)
{
	static const char *const names[] = {
		[ZKS_STATE_CONNECTING] = "connecting",
		[ZKS_STATE_CONNECTED] = "connected",
		[ZKS_STATE_RECONNECTING] = "reconnecting",
		[ZKS_STATE_EXPIRED] = "expired",
	};

	return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] :
	    "unknown";
}

const char *
zks_servers(const struct zks *s)
{
	return s->servers;
}

/* Send req (not queued, not listed): 0, or -1 with req as it was. */
static int
zks_send(struct zks *s, struct zks_tag *req)
{
	void *watch_ctx = (void *)(uintptr_t)req->sub_id;
	int rc;

	/* Listed before it is sent: its completion may run at once. */
	uv_mutex_lock(&s->lock);
	req->prev = NULL;
	req->next = s->inflight;
	if (s->inflight != NULL)
		s->inflight->prev = req;
	s->inflight = req;
	uv_mutex_unlock(&s->lock);
	switch (req->op) {
	case ZKS_CHILDREN:
		rc = zoo_awget_children(s->zh, req->path, zks_on_watch,
		    watch_ctx, zks_on_children, req);
		break;
	case ZKS_DATA:
		rc = zoo_awget(s->zh, req->path, zks_on_watch, watch_ctx,
		    zks_on_data, req);
		break;
	default:
		rc = zoo_awexists(s->zh, req->path, zks_on_watch, watch_ctx,
		    zks_on_stat, req);
		break;
	}
	if (rc != ZOK) {
		/* Not sent, so no completion will free it. */
		log_debug("ZooKeeper %s: cannot ask for %s: %s", s->servers,
		    req->path, zerror(rc));
		uv_mutex_lock(&s->lock);
		zks_inflight_remove(s, req);
		uv_mutex_unlock(&s->lock);
		return -1;
	}
	s->nsent++;
	return 0;
}

/* Send what waits, as slots free up. One the client refuses now is
 * answered as lost, as it would be if sent. */
static void
zks_drain(struct zks *s)
{
	struct zks_tag *req;

	while (s->zh != NULL && s->connected && s->nsent < ZKS_MAX_SENT &&
	    (req = s->queue) != NULL) {
		s->queue = req->next;
		if (s->queue == NULL)
			s->queue_tail = &s->queue;
		if (zks_send(s, req) == -1)
			zks_post(s, zks_unsent_msg(req, ZCONNECTIONLOSS));
	}
}

int
zks_request(struct zks *s, struct zks_sub *sub, enum zks_op op,
    const char *path)
{
	struct zks_tag *req;

	if (s->zh == NULL || !s->connected)
		return -1;
	req = xcalloc(1, sizeof(*req));
	req->s = s;
	req->gen = s->gen;
	req->sub_id = sub->id;
	req->op = op;
	req->path = xstrdup(path);
	if (s->nsent < ZKS_MAX_SENT && s->queue == NULL) {
		if (zks_send(s, req) == 0)
			return 0;
		free(req->path);
		free(req);
		return -1;
	}
	req->next = NULL;
	*s->queue_tail = req;
	s->queue_tail = &req->next;
	return 0;
}
