/* One scrape's metrics_input, from the model, the supervisor and the
 * sources (metrics_collect.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "haproxy/proc.h"
#include "haproxy/supervisor.h"
#include "metrics_collect.h"
#include "metrics_render.h"
#include "model.h"
#include "service.h"
#include "service_config/source.h"
#include "snapshot.h"
#include "util.h"
#include "watchers/watcher.h"
#include "zk/session.h"

/* Every session state, so that each series is there (0 or 1). */
static const char *const mc_zk_states[] = {
	"connecting", "connected", "reconnecting", "expired",
};
#define MC_NZK_STATES	(sizeof(mc_zk_states) / sizeof(mc_zk_states[0]))

/* The ZooKeeper session a health detail names, once per server list. */
static void
mc_add_zk(struct metrics_zk **zk, size_t *n, const struct watcher_health *h)
{
	const char *servers, *state;

	if (h->detail == NULL ||
	    (servers = json_string_value(json_object_get(h->detail,
	    "servers"))) == NULL ||
	    (state = json_string_value(json_object_get(h->detail,
	    "session_state"))) == NULL)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*zk)[i].servers, servers) == 0)
			return;
	*zk = xrealloc(*zk, (*n + 1) * sizeof(**zk));
	(*zk)[*n].servers = servers;
	(*zk)[*n].state = state;
	(*n)++;
}

void
metrics_collect(struct sbuf *out, struct model *m,
    const struct supervisor *s, struct svcsrc *source, const char *sc_type,
    int64_t start_ms)
{
	struct metrics_count services[MODEL_STATES];
	struct metrics_count watchers[WATCHER_STATES];
	struct metrics_count servers[2] = { { "active", 0 },
	    { "retired", 0 } };
	struct metrics_source *sources;
	struct metrics_zk *zk = NULL;
	size_t nsources = 0, nzk = 0;
	unsigned draining = 0;

	for (int i = 0; i < MODEL_STATES; i++)
		services[i] = (struct metrics_count){
		    model_state_name((enum model_state)i), 0 };
	for (int i = 0; i < WATCHER_STATES; i++)
		watchers[i] = (struct metrics_count){
		    watcher_state_name((enum watcher_state)i), 0 };
	sources = xcalloc(m->n + 1, sizeof(*sources));
	for (size_t i = 0; i < m->n; i++) {
		struct model_service *ms = m->v[i];
		struct model_status st;

		model_service_status(m, ms, &st);
		services[st.state].value++;
		if (ms->watcher == NULL)
			continue;
		const struct watcher_health *h = watcher_health(ms->watcher);
		watchers[h->state].value++;
		sources[nsources++] = (struct metrics_source){ ms->name,
		    ms->watcher->ops->type, h->last_sync_ms };
		mc_add_zk(&zk, &nzk, h);
	}
	/* A definition refused before its service was ever added. */
	for (size_t i = 0; i < m->ninvalid; i++)
		if (model_find(m, m->invalid[i].name) == NULL)
			services[MODEL_REJECTED].value++;
	if (source != NULL) {
		const struct watcher_health *h = svcsrc_health(source);
		sources[nsources++] = (struct metrics_source){ NULL, sc_type,
		    h->last_sync_ms };
		mc_add_zk(&zk, &nzk, h);
	}
	if (s->live != NULL)
		for (size_t i = 0; i < s->live->n; i++) {
			const struct server_list *l = &s->live->v[i]->servers;
			for (size_t j = 0; j < l->n; j++)
				servers[l->v[j].disabled ? 1 : 0].value++;
		}
	for (const struct hap_proc *p = s->procs.old; p != NULL; p = p->next)
		draining++;

	struct metrics_input in = {
		.version = PACKAGE_VERSION,
		.start_ms = start_ms,
		.now_ms = wall_ms(),
		.counters = &s->counters,
		.services = services, .nservices = MODEL_STATES,
		.servers = servers, .nservers = 2,
		.watchers = watchers, .nwatchers = WATCHER_STATES,
		.haproxy_serving = s->procs.current != NULL,
		.haproxy_draining = draining,
		.zk_states = mc_zk_states, .nzk_states = MC_NZK_STATES,
		.zk = zk, .nzk = nzk,
		.sources = sources, .nsources = nsources,
		.change_runtime = &s->counters.change_runtime,
		.change_reload = &s->counters.change_reload,
		.reload_duration = &s->counters.reload_duration,
	};
	metrics_render(out, &in);
	free(zk);
	free(sources);
}
