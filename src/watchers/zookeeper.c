/* Watcher "zookeeper": each child of "path" on ZooKeeper "server" is one
 * server, its data {"address": ..., "port": ...} (ProxyMgr) or nerve's
 * {"host": ..., "port": ..., "name": ..., "weight": ...}. A child that
 * does not parse is skipped and logged once; if none parses, the service
 * keeps its last servers. Watchers of the same servers share a session. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jsonerr.h"
#include "log.h"
#include "util.h"
#include "validate.h"
#include "watchers/server_blob.h"
#include "watchers/watcher.h"
#include "zk/follow.h"

static const char *const zkw_keys[] = { "server", "path", NULL };

struct zkw_bad {
	char	*path;
	char	*error;
};

struct zkw {
	struct zk_follow	*follow;
	size_t			 last_count;
	bool			 keeping_logged;
	/* Children that did not parse, to log each problem once. */
	struct zkw_bad		*bad;
	size_t			 nbad;
	enum watcher_state	 content;	/* of the last report */
};

static int
zkw_validate(json_t *blob, char **err)
{
	json_t *v = json_object_get(blob, "server");

	if (!json_is_string(v) || !val_zk_servers(json_string_value(v)))
		return set_err(err, "key 'server' is required: ZooKeeper "
		    "servers as host:port[,host:port...]");
	v = json_object_get(blob, "path");
	if (!json_is_string(v) || !val_zk_path(json_string_value(v)))
		return set_err(err, "key 'path' is required: an absolute "
		    "ZooKeeper path such as /services/web");
	return 0;
}

/* Log a child's problem unless it was logged for the same child already;
 * remember it in next (the problems of this report). */
static void
zkw_note_bad(struct watcher *w, struct zkw_bad **next, size_t *nnext,
    const char *path, char *error)
{
	struct zkw *z = w->priv;
	bool known = false;

	for (size_t i = 0; i < z->nbad && !known; i++)
		known = strcmp(z->bad[i].path, path) == 0 &&
		    strcmp(z->bad[i].error, error) == 0;
	if (!known)
		log_event(LOG_LVL_WARNING, "watcher_error", w->service, NULL,
		    "service %s: zookeeper:%s: %s (server skipped)", w->service,
		    path, error);
	*next = xrealloc(*next, (*nnext + 1) * sizeof(**next));
	(*next)[*nnext].path = xstrdup(path);
	(*next)[*nnext].error = error;
	(*nnext)++;
}

static void
zkw_forget_bad(struct zkw *z)
{
	for (size_t i = 0; i < z->nbad; i++) {
		free(z->bad[i].path);
		free(z->bad[i].error);
	}
	free(z->bad);
	z->bad = NULL;
	z->nbad = 0;
}

static void
zkw_on_report(void *ctx, const struct zk_child *kids, size_t n, bool exists)
{
	struct watcher *w = ctx;
	struct zkw *z = w->priv;
	struct server_list list;
	struct zkw_bad *bad = NULL;
	size_t nbad = 0;

	srvlist_init(&list);
	for (size_t i = 0; i < n; i++) {
		json_error_t jerr;
		json_t *obj;
		struct srvblob sb;
		char *err = NULL;

		obj = json_loadb(kids[i].data, kids[i].len, 0, &jerr);
		if (obj == NULL)
			err = xasprintf("not JSON: line %d, column %d: %s",
			    jerr.line, jerr.column, jsonerr_reason(&jerr));
		else if (srvblob_parse(obj, false, &sb, &err) == 0)
			srvlist_add_weighted(&list, sb.host, sb.port,
			    sb.weight);
		json_decref(obj);
		if (err != NULL)
			zkw_note_bad(w, &bad, &nbad, kids[i].path, err);
	}
	srvlist_finish(&list);
	zkw_forget_bad(z);
	z->bad = bad;
	z->nbad = nbad;
	if (nbad > 0 && list.n == 0) {
		/* Empty because of errors, not because ZooKeeper says so. */
		if (!z->keeping_logged)
			log_event(LOG_LVL_WARNING, "watcher_error", w->service,
			    NULL, "service %s: no valid server node in %s, "
			    "keeping its %zu known servers", w->service,
			    json_string_value(json_object_get(w->blob, "path")),
			    z->last_count);
		z->keeping_logged = true;
		z->content = WATCHER_ERROR;
		watcher_health_fail(&w->health, WATCHER_ERROR, "no valid server "
		    "node in %s (%zu bad)",
		    json_string_value(json_object_get(w->blob, "path")), nbad);
		srvlist_free(&list);
		watcher_answered(w);
		return;
	}
	z->keeping_logged = false;
	z->content = WATCHER_OK;
	if (!exists)
		log_event(LOG_LVL_WARNING, "watcher_error", w->service, NULL,
		    "service %s: ZooKeeper path %s does not exist: no "
		    "servers", w->service,
		    json_string_value(json_object_get(w->blob, "path")));
	z->last_count = list.n;
	log_debug("service %s: %zu servers in ZooKeeper", w->service, list.n);
	watcher_report(w, &list);
}

static void
zkw_health(struct watcher *w)
{
	struct zkw *z = w->priv;
	struct zkf_info info;

	if (z == NULL || z->follow == NULL)
		return;
	zkf_get_info(z->follow, &info);
	watcher_health_zk(&w->health, &info, z->content);
}

static int
zkw_start(struct watcher *w, char **err)
{
	struct zkw *z = xcalloc(1, sizeof(*z));

	(void)err;
	w->priv = z;
	z->content = WATCHER_OK;
	z->follow = zkf_start(w->loop,
	    json_string_value(json_object_get(w->blob, "server")),
	    json_string_value(json_object_get(w->blob, "path")),
	    zkw_on_report, w);
	return 0;
}

static void
zkw_stop(struct watcher *w)
{
	struct zkw *z = w->priv;

	if (z != NULL) {
		zkf_stop(z->follow);
		zkw_forget_bad(z);
		free(z);
	}
	watcher_free(w);
}

const struct watcher_ops watcher_zookeeper_ops = {
	.type = "zookeeper",
	.keys = zkw_keys,
	.validate = zkw_validate,
	.start = zkw_start,
	.stop = zkw_stop,
	.health = zkw_health,
};
