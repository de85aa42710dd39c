/* Service-config source "zookeeper": each child of service_config.path is
 * a service, named by the node, defined by the node's data (the same JSON
 * blob as a service file). A node added, changed or deleted adds, changes
 * or removes its service; a node whose data does not parse keeps its last
 * good definition. While ZooKeeper is out of reach nothing is reported, so
 * every service stays as it was. */
#include "config.h"

#include <stdlib.h>

#include "log.h"
#include "service_config/source.h"
#include "util.h"
#include "zk/follow.h"

struct sczk {
	struct zk_follow	*follow;
	struct svcsrc_set	 set;
	bool			 synced;
};

static void
sczk_on_report(void *ctx, const struct zk_child *kids, size_t n, bool exists)
{
	struct svcsrc *src = ctx;
	struct sczk *z = src->priv;

	svcsrc_set_begin(&z->set);
	for (size_t i = 0; i < n; i++) {
		char *where = xasprintf("zookeeper:%s", kids[i].path);
		svcsrc_set_offer(src, &z->set, kids[i].name, kids[i].data,
		    kids[i].len, where, NULL);
		free(where);
	}
	svcsrc_set_end(src, &z->set);
	if (!z->synced) {
		log_info("service definitions: %zu nodes in %s%s", n, src->path,
		    exists ? "" : " (not created yet)");
		z->synced = true;
		if (src->cbs.synced != NULL)
			src->cbs.synced(src->cbs.ctx);
	}
}

static void
sczk_health(struct svcsrc *src)
{
	struct sczk *z = src->priv;
	struct zkf_info info;

	if (z == NULL || z->follow == NULL)
		return;
	zkf_get_info(z->follow, &info);
	watcher_health_zk(&src->health, &info, WATCHER_OK);
	json_object_set_new(src->health.detail, "invalid",
	    json_integer((json_int_t)svcsrc_set_invalid(&z->set)));
}

static int
sczk_start(struct svcsrc *src, char **err)
{
	struct sczk *z = xcalloc(1, sizeof(*z));

	(void)err;
	src->priv = z;
	/* Never fails: ZooKeeper out of reach is waited for, not fatal. */
	z->follow = zkf_start(src->loop, src->servers, src->path,
	    sczk_on_report, src);
	return 0;
}

static void
sczk_stop(struct svcsrc *src)
{
	struct sczk *z = src->priv;

	if (z != NULL) {
		zkf_stop(z->follow);
		svcsrc_set_free(&z->set);
		free(z);
	}
	svcsrc_free(src);
}

const struct svcsrc_ops svcsrc_zookeeper_ops = {
	.type = "zookeeper",
	.start = sczk_start,
	.stop = sczk_stop,
	.health = sczk_health,
};
