#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pmconfig.h"
#include "service_config/source.h"
#include "util.h"

static const struct svcsrc_ops *const svcsrc_registry[] = {
	&svcsrc_dir_ops,
};

struct svcsrc *
svcsrc_start(uv_loop_t *loop, const struct pm_config *cfg,
    const struct svcsrc_cbs *cbs, char **err)
{
	const struct svcsrc_ops *ops = NULL;
	struct svcsrc *src;

	for (size_t i = 0; i < sizeof(svcsrc_registry) /
	    sizeof(svcsrc_registry[0]); i++)
		if (strcmp(svcsrc_registry[i]->type, cfg->sc_type) == 0)
			ops = svcsrc_registry[i];
	if (ops == NULL) {
		set_err(err, "service_config type '%s' is not known",
		    cfg->sc_type);
		return NULL;
	}
	src = xcalloc(1, sizeof(*src));
	src->ops = ops;
	src->loop = loop;
	src->path = xstrdup(cfg->sc_path);
	src->servers = cfg->sc_servers ? xstrdup(cfg->sc_servers) : NULL;
	src->settle_ms = cfg->debounce_ms;
	src->cbs = *cbs;
	if (ops->start(src, err) == -1) {
		ops->stop(src);
		return NULL;
	}
	return src;
}

void
svcsrc_stop(struct svcsrc *src)
{
	if (src != NULL)
		src->ops->stop(src);
}

static int
svcsrc_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
svcsrc_same(const struct svcsrc *src, const struct pm_config *cfg)
{
	return strcmp(src->ops->type, cfg->sc_type) == 0 &&
	    svcsrc_streq(src->path, cfg->sc_path) &&
	    svcsrc_streq(src->servers, cfg->sc_servers);
}

void
svcsrc_free(struct svcsrc *src)
{
	free(src->path);
	free(src->servers);
	free(src);
}
