/* service_config type none: no managed services, only what a hand-written
 * haproxy.cfg and its named listeners serve (haproxy.managed: false
 * without a service_config section, or the RAProxy command line). */
#include "config.h"

#include "service_config/source.h"

static int
scnone_start(struct svcsrc *src, char **err)
{
	(void)err;
	watcher_health_ok(&src->health);
	/* The whole (empty) set is known at once. */
	if (src->cbs.synced != NULL)
		src->cbs.synced(src->cbs.ctx);
	return 0;
}

static void
scnone_stop(struct svcsrc *src)
{
	svcsrc_free(src);
}

const struct svcsrc_ops svcsrc_none_ops = {
	.type = "none",
	.start = scnone_start,
	.stop = scnone_stop,
};
