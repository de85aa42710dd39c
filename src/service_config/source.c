#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pmconfig.h"
#include "service.h"
#include "service_config/source.h"
#include "util.h"
#include "watchers/watcher.h"

static const struct svcsrc_ops *const svcsrc_registry[] = {
	&svcsrc_dir_ops,
	&svcsrc_zookeeper_ops,
	&svcsrc_none_ops,
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
	watcher_health_init(&src->health);
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

const struct watcher_health *
svcsrc_health(struct svcsrc *src)
{
	if (src->ops->health != NULL)
		src->ops->health(src);
	return &src->health;
}

void
svcsrc_free(struct svcsrc *src)
{
	watcher_health_free(&src->health);
	free(src->path);
	free(src->servers);
	free(src);
}

static struct svcsrc_entry *
svcsrc_set_entry(struct svcsrc_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	set->v = xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
	memset(&set->v[set->n], 0, sizeof(set->v[0]));
	set->v[set->n].name = xstrdup(name);
	return &set->v[set->n++];
}

void
svcsrc_set_begin(struct svcsrc_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		set->v[i].present = false;
}

void
svcsrc_set_offer(struct svcsrc *src, struct svcsrc_set *set,
    const char *name, const char *text, size_t len, const char *where,
    const char *read_err)
{
	struct svcsrc_entry *e = svcsrc_set_entry(set, name);
	struct service_def *def = NULL;
	char *err = NULL;

	e->present = true;
	if (text == NULL)
		err = xstrdup(read_err);
	else
		svcdef_parse(name, text, len, where, &def, &err);
	if (def == NULL) {
		if (e->error == NULL || strcmp(e->error, err) != 0)
			log_event(LOG_LVL_WARNING, "service_rejected", name,
			    "invalid-definition", "%s; %s", err, e->canon ?
			    "the service keeps its last good definition" :
			    "service not added");
		free(e->error);
		e->error = err;
		if (src->cbs.invalid != NULL)
			src->cbs.invalid(src->cbs.ctx, name, where, err);
		return;
	}
	if (e->error != NULL && src->cbs.invalid != NULL)
		src->cbs.invalid(src->cbs.ctx, name, NULL, NULL);
	free(e->error);
	e->error = NULL;
	/* Once per node or file, and again when its unknown keys change. */
	if (!svcsrc_streq(e->unknown, def->unknown)) {
		if (def->unknown != NULL)
			log_warnx("%s: unknown key%s %s for type '%s': "
			    "ignored", where, def->nunknown > 1 ? "s" : "",
			    def->unknown, def->watcher->type);
		free(e->unknown);
		e->unknown = def->unknown != NULL ? xstrdup(def->unknown) :
		    NULL;
	}
	if (e->canon != NULL && strcmp(e->canon, def->canon) == 0) {
		svcdef_unref(def);
		return;
	}
	free(e->canon);
	e->canon = xstrdup(def->canon);
	src->cbs.set(src->cbs.ctx, def);
}

static void
svcsrc_entry_free(struct svcsrc_entry *e)
{
	free(e->name);
	free(e->canon);
	free(e->error);
	free(e->unknown);
}

void
svcsrc_set_end(struct svcsrc *src, struct svcsrc_set *set)
{
	size_t i = 0;

	while (i < set->n) {
		struct svcsrc_entry *e = &set->v[i];
		if (e->present) {
			i++;
			continue;
		}
		if (e->canon != NULL)
			src->cbs.remove(src->cbs.ctx, e->name);
		if (e->error != NULL && src->cbs.invalid != NULL)
			src->cbs.invalid(src->cbs.ctx, e->name, NULL, NULL);
		svcsrc_entry_free(e);
		set->v[i] = set->v[--set->n];
	}
}

size_t
svcsrc_set_invalid(const struct svcsrc_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].error != NULL)
			n++;
	return n;
}

void
svcsrc_set_free(struct svcsrc_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		svcsrc_entry_free(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}
