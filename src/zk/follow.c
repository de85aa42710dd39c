#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zookeeper/zookeeper.h>

#include "log.h"
#include "util.h"
#include "zk/follow.h"
#include "zk/session.h"

struct zkf_child {
	char	*name;
	char	*path;
	char	*data;
	size_t	 len;
	bool	 have_data;
	bool	 reading;	/* a read is in flight */
	bool	 reread;	/* and another is wanted after it */
};

struct zk_follow {
	struct zks		*s;
	struct zks_sub		 sub;
	char			*path;
	struct zkf_child	*v;
	size_t			 n;
	bool			 listing;
	bool			 relist;
	bool			 listed;	/* a listing has answered */
	bool			 exists;
	bool			 dirty;		/* changed since the last report */
	int			 pending;	/* requests in flight */
	char			*last_error;	/* logged once */
	int64_t			 last_error_ms;
	int64_t			 last_sync_ms;	/* wall clock, zkf_info */
	zkf_report_cb		 report;
	void			*ctx;
};

/* Errors that only mean "not now": the re-read after reconnecting will
 * ask again. */
static bool
zkf_transient(int rc)
{
	return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT ||
	    rc == ZSESSIONEXPIRED || rc == ZCLOSING || rc == ZINVALIDSTATE;
}

static void
zkf_log_error(struct zk_follow *f, const char *what, const char *path, int rc)
{
	char *msg;

	if (zkf_transient(rc)) {
		log_debug("ZooKeeper %s: %s %s: %s", zks_servers(f->s), what,
		    path, zerror(rc));
		return;
	}
	msg = xasprintf("ZooKeeper %s: cannot %s %s: %s", zks_servers(f->s),
	    what, path, zerror(rc));
	if (f->last_error == NULL || strcmp(f->last_error, msg) != 0)
		log_event(LOG_LVL_WARNING, "zookeeper_error", NULL, NULL,
		    "%s; keeping what was last read", msg);
	free(f->last_error);
	f->last_error = msg;
	f->last_error_ms = wall_ms();
}

static struct zkf_child *
zkf_find(struct zk_follow *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].name, name) == 0)
			return &f->v[i];
	return NULL;
}

static void
zkf_drop(struct zk_follow *f, struct zkf_child *c)
{
	free(c->name);
	free(c->path);
	free(c->data);
	*c = f->v[--f->n];
	f->dirty = true;
}

static void
zkf_list(struct zk_follow *f)
{
	if (f->listing) {
		f->relist = true;
		return;
	}
	if (zks_request(f->s, &f->sub, ZKS_CHILDREN, f->path) == 0) {
		f->listing = true;
		f->pending++;
	}
}

static void
zkf_read(struct zk_follow *f, struct zkf_child *c)
{
	if (c->reading) {
		c->reread = true;
		return;
	}
	if (zks_request(f->s, &f->sub, ZKS_DATA, c->path) == 0) {
		c->reading = true;
		f->pending++;
	}
}

static void
zkf_maybe_report(struct zk_follow *f)
{
	struct zk_child *kids;
	size_t n = 0;

	if (f->pending > 0 || !f->dirty || !f->listed)
		return;
	f->dirty = false;
	kids = xcalloc(f->n + 1, sizeof(*kids));
	for (size_t i = 0; i < f->n; i++) {
		if (!f->v[i].have_data)
			continue;	/* unread for now: a server later */
		kids[n].name = f->v[i].name;
		kids[n].path = f->v[i].path;
		kids[n].data = f->v[i].data;
		kids[n].len = f->v[i].len;
		n++;
	}
	f->report(f->ctx, kids, n, f->exists);
	free(kids);
}

static void
zkf_on_connected(void *ctx)
{
	struct zk_follow *f = ctx;

	zkf_list(f);
	for (size_t i = 0; i < f->n; i++)
		zkf_read(f, &f->v[i]);
}

static void
zkf_on_list(struct zk_follow *f, const struct zks_reply *r)
{
	size_t i;

	f->listing = false;
	if (r->rc == ZOK) {
		if (!f->exists)
			f->dirty = true;
		f->exists = true;
		f->listed = true;
		for (char *const *name = r->children; *name != NULL; name++) {
			struct zkf_child *c;

			if (zkf_find(f, *name) != NULL)
				continue;
			f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
			c = &f->v[f->n++];
			memset(c, 0, sizeof(*c));
			c->name = xstrdup(*name);
			c->path = strcmp(f->path, "/") == 0 ?
			    xasprintf("/%s", *name) :
			    xasprintf("%s/%s", f->path, *name);
			zkf_read(f, c);
		}
		i = 0;
		while (i < f->n) {
			char *const *name = r->children;
			while (*name != NULL && strcmp(*name, f->v[i].name))
				name++;
			if (*name == NULL)
				zkf_drop(f, &f->v[i]);
			else
				i++;
		}
	} else if (r->rc == ZNONODE) {
		if (f->exists || !f->listed) {
			log_event(LOG_LVL_INFO, "zookeeper_wait", NULL, NULL,
			    "ZooKeeper %s: %s does not exist; waiting for "
			    "it", zks_servers(f->s), f->path);
			f->dirty = true;
		}
		f->exists = false;
		f->listed = true;
		while (f->n > 0)
			zkf_drop(f, &f->v[0]);
		/* Watch for its creation. */
		if (zks_request(f->s, &f->sub, ZKS_EXISTS, f->path) == 0)
			f->pending++;
	} else
		zkf_log_error(f, "list", f->path, r->rc);
	if (f->relist) {
		f->relist = false;
		zkf_list(f);
	}
}

static void
zkf_on_data(struct zk_follow *f, const struct zks_reply *r)
{
	struct zkf_child *c = NULL;

	for (size_t i = 0; i < f->n && c == NULL; i++)
		if (strcmp(f->v[i].path, r->path) == 0)
			c = &f->v[i];
	if (c == NULL)
		return;		/* no longer listed */
	c->reading = false;
	if (r->rc == ZOK) {
		if (!c->have_data || c->len != r->len ||
		    memcmp(c->data, r->data, r->len) != 0) {
			free(c->data);
			c->data = xmalloc(r->len + 1);
			memcpy(c->data, r->data, r->len + 1);
			c->len = r->len;
			c->have_data = true;
			f->dirty = true;
		}
	} else if (r->rc == ZNONODE) {
		/* Gone between the listing and the read: not an error. */
		zkf_drop(f, c);
		return;
	} else
		zkf_log_error(f, "read", r->path, r->rc);
	if (c->reread) {
		c->reread = false;
		zkf_read(f, c);
	}
}

static void
zkf_on_reply(void *ctx, const struct zks_reply *r)
{
	struct zk_follow *f = ctx;

	f->pending--;
	if (r->rc == ZOK || r->rc == ZNONODE)
		f->last_sync_ms = wall_ms();
	switch (r->op) {
	case ZKS_CHILDREN:
		zkf_on_list(f, r);
		break;
	case ZKS_DATA:
		zkf_on_data(f, r);
		break;
	case ZKS_EXISTS:
		if (r->rc == ZOK)
			zkf_list(f);	/* created meanwhile */
		break;
	}
	zkf_maybe_report(f);
}

static void
zkf_on_watch(void *ctx, int type, const char *path)
{
	struct zk_follow *f = ctx;
	size_t plen = strlen(f->path);

	if (strcmp(path, f->path) == 0) {
		if (type != ZOO_CHANGED_EVENT)
			zkf_list(f);
		return;
	}
	if (type != ZOO_CHANGED_EVENT || strncmp(path, f->path, plen) != 0)
		return;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].path, path) == 0) {
			zkf_read(f, &f->v[i]);
			break;
		}
}

struct zk_follow *
zkf_start(uv_loop_t *loop, const char *servers, const char *path,
    zkf_report_cb report, void *ctx)
{
	struct zk_follow *f = xcalloc(1, sizeof(*f));

	f->path = xstrdup(path);
	f->report = report;
	f->ctx = ctx;
	f->sub.on_connected = zkf_on_connected;
	f->sub.on_watch = zkf_on_watch;
	f->sub.on_reply = zkf_on_reply;
	f->sub.ctx = f;
	f->s = zks_acquire(loop, servers);
	zks_subscribe(f->s, &f->sub);
	return f;
}

void
zkf_get_info(const struct zk_follow *f, struct zkf_info *out)
{
	zks_get_info(f->s, &out->session);
	out->servers = zks_servers(f->s);
	out->path = f->path;
	out->last_sync_ms = f->last_sync_ms;
	out->last_error = f->last_error;
	out->last_error_ms = f->last_error_ms;
	out->exists = f->exists;
	out->children = f->n;
}

void
zkf_stop(struct zk_follow *f)
{
	if (f == NULL)
		return;
	zks_unsubscribe(f->s, &f->sub);
	zks_release(f->s);
	while (f->n > 0)
		zkf_drop(f, &f->v[0]);
	free(f->v);
	free(f->path);
	free(f->last_error);
	free(f);
}
