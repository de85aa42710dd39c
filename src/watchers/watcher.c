#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "util.h"
#include "watchers/watcher.h"

static const struct watcher_ops *const watcher_registry[] = {
	&watcher_dns_ops,
	&watcher_file_ops,
	&watcher_static_ops,
	&watcher_zookeeper_ops,
};

#define WATCHER_COUNT (sizeof(watcher_registry) / sizeof(watcher_registry[0]))

const struct watcher_ops *
watcher_ops_find(const char *type)
{
	for (size_t i = 0; i < WATCHER_COUNT; i++)
		if (strcmp(watcher_registry[i]->type, type) == 0)
			return watcher_registry[i];
	return NULL;
}

const char *
watcher_types(void)
{
	static char list[256];

	if (list[0] == '\0') {
		for (size_t i = 0; i < WATCHER_COUNT; i++) {
			if (i > 0)
				strcat(list, ", ");
			strcat(list, watcher_registry[i]->type);
		}
	}
	return list;
}

struct watcher *
watcher_start(uv_loop_t *loop, const struct service_def *def,
    watcher_update_cb on_update, void *ctx, char **err)
{
	struct watcher *w = xcalloc(1, sizeof(*w));

	w->ops = def->watcher;
	w->loop = loop;
	w->service = xstrdup(def->name);
	w->source = xstrdup(def->source);
	w->blob = json_incref(def->blob);
	w->on_update = on_update;
	w->ctx = ctx;
	if (w->ops->start(w, err) == -1) {
		w->stopped = true;
		w->ops->stop(w);
		return NULL;
	}
	return w;
}

void
watcher_stop(struct watcher *w)
{
	if (w == NULL || w->stopped)
		return;
	w->stopped = true;
	w->on_update = NULL;
	w->ops->stop(w);
}

void
watcher_report(struct watcher *w, struct server_list *servers)
{
	if (w->stopped || w->on_update == NULL) {
		srvlist_free(servers);
		return;
	}
	w->on_update(w->ctx, w->service, servers);
	srvlist_free(servers);
}

void
watcher_free(struct watcher *w)
{
	free(w->service);
	free(w->source);
	json_decref(w->blob);
	free(w);
}
