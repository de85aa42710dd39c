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

/* Children are kept sorted by name: a listing of N children is merged
 * in one walk, and a reply finds its child by a binary search, so that
 * a service of 10,000 servers costs no more per server than one of 10. */
static int
zkf_child_cmp(const void *name, const void *elem)
{
	return strcmp(name, ((const struct zkf_child *)elem)->name);
}

static struct zkf_child *
zkf_find(struct zk_follow *f, const char *name)
{
	return f->n > 0 ? bsearch(name, f->v, f->n, sizeof(*f->v),
	    zkf_child_cmp) : NULL;
}

/* The child a path below f->path names, or NULL. */
static struct zkf_child *
zkf_find_path(struct zk_follow *f, const char *path)
{
	size_t plen = strcmp(f->path, "/") == 0 ? 0 : strlen(f->path);

	if (strncmp(path, f->path, plen) != 0 || path[plen] != '/')
		return NULL;
	return zkf_find(f, path + plen + 1);
}

static void
zkf_child_free(struct zkf_child *c)
{
	free(c->name);
	free(c->path);
	free(c->data);
}

static void
zkf_drop_all(struct zk_follow *f)
{
	for (size_t i = 0; i < f->n; i++)
		zkf_child_free(&f->v[i]);
	if (f->n > 0)
		f->dirty = true;
	f->n = 0;
}

static void
zkf_drop(struct zk_follow *f, struct zkf_child *c)
{
	size_t i = (size_t)(c - f->v);

	zkf_child_free(c);
	memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof(*f->v));
	f->n--;
	f->dirty = true;
}

static int
zkf_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

/* The children a listing names, merged into f->v: new ones are read,
 * those gone are dropped. */
static void
zkf_merge(struct zk_follow *f, char *const *children)
{
	size_t n = 0, i = 0, j = 0, out = 0;
	char **names;
	struct zkf_child *v;

	while (children[n] != NULL)
		n++;
	names = xcalloc(n ? n : 1, sizeof(*names));
	memcpy(names, children, n * sizeof(*names));
	if (n > 1)
		qsort(names, n, sizeof(*names), zkf_strcmp);
	v = xcalloc(n ? n : 1, sizeof(*v));
	while (i < f->n || j < n) {
		int c = i == f->n ? 1 : j == n ? -1 :
		    strcmp(f->v[i].name, names[j]);
		if (c < 0) {
			zkf_child_free(&f->v[i++]);
			f->dirty = true;
		} else if (c == 0) {
			v[out++] = f->v[i++];
			j++;
		} else {
			/* A name listed twice is one child. */
			if (out > 0 && strcmp(v[out - 1].name, names[j]) == 0) {
				j++;
				continue;
			}
			struct zkf_child *nc = &v[out++];
			memset(nc, 0, sizeof(*nc));
			nc->name = xstrdup(names[j]);
			nc->path = strcmp(f->path, "/") == 0 ?
			    xasprintf("/%s", names[j]) :
			    xasprintf("%s/%s", f->path, names[j]);
			j++;
		}
	}
	free(names);
	free(f->v);
	f->v = v;
	f->n = out;
	/* Read once the array is in place: a read may answer at once. */
	for (size_t k = 0; k < f->n; k++)
		if (!f->v[k].have_data && !f->v[k].reading)
			zkf_read(f, &f->v[k]);
}

static void
zkf_on_list(struct zk_follow *f, const struct zks_reply *r)
{
	f->listing = false;
	if (r->rc == ZOK) {
		if (!f->exists)
			f->dirty = true;
		f->exists = true;
		f->listed = true;
		zkf_merge(f, r->children);
	} else if (r->rc == ZNONODE) {
		if (f->exists || !f->listed) {
			log_event(LOG_LVL_INFO, "zookeeper_wait", NULL, NULL,
			    "ZooKeeper %s: %s does not exist; waiting for "
			    "it", zks_servers(f->s), f->path);
			f->dirty = true;
		}
		f->exists = false;
		f->listed = true;
		zkf_drop_all(f);
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
	struct zkf_child *c = zkf_find_path(f, r->path);

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
	struct zkf_child *c = zkf_find_path(f, path);
	if (c != NULL)
		zkf_read(f, c);
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
	zkf_drop_all(f);
	free(f->v);
	free(f->path);
	free(f->last_error);
	free(f);
}
