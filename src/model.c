#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/listener.h"
#include "model.h"
#include "pmconfig.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"
#include "watchers/watcher.h"

void
model_init(struct model *m, uv_loop_t *loop, model_change_cb on_change,
    void *ctx)
{
	memset(m, 0, sizeof(*m));
	m->loop = loop;
	m->on_change = on_change;
	m->ctx = ctx;
}

static void model_changed(struct model *m, const char *fmt, ...)
    PM_PRINTF(2, 3);

static void
model_changed(struct model *m, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (m->on_change != NULL)
		m->on_change(m->ctx, why);
}

static size_t
model_index(struct model *m, const char *name, bool *found)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->v[mid]->name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct model_service *
model_find(struct model *m, const char *name)
{
	bool found;
	size_t i = model_index(m, name, &found);

	return found ? m->v[i] : NULL;
}

static void
model_on_servers(void *ctx, const char *name, struct server_list *servers)
{
	struct model *m = ctx;
	struct model_service *ms = model_find(m, name);
	size_t before;

	if (ms == NULL || srvlist_equal(&ms->servers, servers))
		return;
	before = ms->servers.n;
	srvlist_free(&ms->servers);
	srvlist_move(&ms->servers, servers);
	model_changed(m, "service %s: servers changed (%zu -> %zu)", name,
	    before, ms->servers.n);
}

static void
model_start_watcher(struct model *m, struct model_service *ms)
{
	char *err = NULL;

	watcher_stop(ms->watcher);
	ms->watcher = watcher_start(m->loop, ms->def, model_on_servers, m,
	    &err);
	if (ms->watcher == NULL) {
		log_warnx("service %s: watcher '%s' did not start: %s; keeping "
		    "its %zu known servers", ms->name, ms->def->watcher->type,
		    err ? err : "unknown error", ms->servers.n);
		free(err);
	}
}

void
model_set_def(struct model *m, struct service_def *def)
{
	struct model_service *ms;
	bool found;
	size_t i = model_index(m, def->name, &found);

	if (found) {
		ms = m->v[i];
		ms->seen = true;
		if (svcdef_equal(ms->def, def)) {
			svcdef_unref(def);
			return;
		}
		bool same_watcher = svcdef_same_watcher(ms->def, def);
		svcdef_unref(ms->def);
		ms->def = def;
		log_info("service %s: definition changed (%s)", ms->name,
		    def->source);
		/* Servers stay until the new watcher reports: a new
		 * definition never empties a backend by itself. */
		model_changed(m, "service %s changed", ms->name);
		if (!same_watcher)
			model_start_watcher(m, ms);
		return;
	}
	ms = xcalloc(1, sizeof(*ms));
	ms->name = xstrdup(def->name);
	ms->def = def;
	ms->seen = true;
	srvlist_init(&ms->servers);
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = ms;
	m->n++;
	log_info("service %s: added (%s, type %s, port %d)", ms->name,
	    def->source, def->watcher->type, def->port);
	model_changed(m, "service %s added", ms->name);
	model_start_watcher(m, ms);
}

static void
model_service_free(struct model_service *ms)
{
	watcher_stop(ms->watcher);
	svcdef_unref(ms->def);
	srvlist_free(&ms->servers);
	free(ms->name);
	free(ms);
}

void
model_remove(struct model *m, const char *name)
{
	bool found;
	size_t i = model_index(m, name, &found);

	if (!found)
		return;
	model_service_free(m->v[i]);
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
	log_info("service %s: removed", name);
	model_changed(m, "service %s removed", name);
}

void
model_reject(struct model *m, const char *name, const struct service_def *def)
{
	struct model_service *ms = model_find(m, name);

	if (ms != NULL && ms->def == def)
		ms->rejected = ms->def;
}

void
model_mark_unseen(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		m->v[i]->seen = false;
}

void
model_sweep_unseen(struct model *m)
{
	size_t i = 0;

	while (i < m->n) {
		if (m->v[i]->seen) {
			i++;
			continue;
		}
		char *name = xstrdup(m->v[i]->name);
		model_remove(m, name);
		free(name);
	}
}

/* Pick the definition and listener for one service, or fall back to what
 * the live HAProxy has for it. Returns false to leave the service out. */
static bool
model_snapshot_one(struct model_service *ms, const struct pm_config *cfg,
    const struct snapshot_service *live, struct snapshot *snap)
{
	struct service_def *def = ms->def;
	struct listener *l = NULL;
	char *err = NULL;

	if (def == ms->rejected)
		def = live ? live->def : NULL;
	if (def == NULL)
		return false;
	if (listener_acquire(def->bind_address ? def->bind_address :
	    cfg->bind_address, def->port, &l, &err) == -1) {
		log_warnx("service %s: %s", ms->name, err);
		free(err);
		if (live == NULL || live->def == def)
			return false;
		log_warnx("service %s: keeping its previous definition (%s)",
		    ms->name, live->def->source);
		def = live->def;
		l = listener_ref(live->listener);
	}
	for (size_t i = 0; i < snap->n; i++) {
		if (snap->v[i].listener == l) {
			log_warnx("service %s: port %d is already used by "
			    "service %s; service left out", ms->name, def->port,
			    snap->v[i].def->name);
			listener_release(l);
			return false;
		}
	}
	snapshot_add(snap, def, &ms->servers, l);
	listener_release(l);
	return true;
}

struct snapshot *
model_snapshot(struct model *m, const struct pm_config *cfg,
    const struct snapshot *live)
{
	struct snapshot *snap = snapshot_new();

	for (size_t i = 0; i < m->n; i++)
		model_snapshot_one(m->v[i], cfg,
		    snapshot_find(live, m->v[i]->name), snap);
	snapshot_render(snap, cfg);
	return snap;
}

void
model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		model_service_free(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
