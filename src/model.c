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

/* Where name is, or would go, among n entries sorted by name (name_at
 * gives the i-th one's): the services and the refusals both. */
static size_t
model_search(const void *v, size_t n,
    const char *(*name_at)(const void *, size_t), const char *name,
    bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name_at(v, mid), name);
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

static const char *
model_service_name_at(const void *v, size_t i)
{
	return ((struct model_service *const *)v)[i]->name;
}

static size_t
model_index(struct model *m, const char *name, bool *found)
{
	return model_search(m->v, m->n, model_service_name_at, name, found);
}

struct model_service *
model_find(struct model *m, const char *name)
{
	bool found;
	size_t i = model_index(m, name, &found);

	return found ? m->v[i] : NULL;
}

/* Process-wide, so that a service removed and added again never has a
 * gen an old entry of the same name had. */
static uint64_t model_gen;

static void
model_touch(struct model_service *ms)
{
	ms->gen = ++model_gen;
}

static void
model_unreject(struct model_service *ms)
{
	ms->rejected = false;
	free(ms->rejected_why);
	ms->rejected_why = NULL;
}

static void
model_on_servers(void *ctx, const char *name, struct server_list *servers)
{
	struct model *m = ctx;
	struct model_service *ms = model_find(m, name);
	size_t before;

	if (ms == NULL || srvlist_equal(&ms->servers, servers))
		return;
	if (servers->n == 0 && ms->def->keep_servers_on_empty) {
		log_event(LOG_LVL_WARNING, "servers_kept", name,
		    "keep_servers_on_empty", "service %s: discovery reports no "
		    "server; keeping "
		    "its %zu known servers (keep_servers_on_empty)", name,
		    ms->servers.n);
		return;
	}
	before = ms->servers.n;
	srvlist_free(&ms->servers);
	srvlist_move(&ms->servers, servers);
	model_unreject(ms);
	model_touch(ms);
	ms->changed_ms = wall_ms();
	if (ms->watcher != NULL)
		ms->watcher->health.last_change_ms = ms->changed_ms;
	model_changed(m, "service %s: servers changed (%zu -> %zu)", name,
	    before, ms->servers.n);
}

static void
model_start_watcher(struct model *m, struct model_service *ms)
{
	char *err = NULL;

	/* A watcher may report from watcher_start (static does): by then
	 * the old one must not be reachable, as watcher_stop may free it. */
	watcher_stop(ms->watcher);
	ms->watcher = NULL;
	ms->watcher = watcher_start(m->loop, ms->def, model_on_servers, m,
	    &err);
	if (ms->watcher != NULL)
		ms->watcher->health.last_change_ms = ms->changed_ms;
	if (ms->watcher == NULL) {
		log_event(LOG_LVL_WARNING, "watcher_error", ms->name, NULL,
		    "service %s: watcher '%s' did not start: %s; keeping "
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
		model_unreject(ms);
		model_touch(ms);
		ms->changed_ms = wall_ms();
		log_event(LOG_LVL_INFO, "service_changed", ms->name, NULL,
		    "service %s: definition changed (%s)", ms->name,
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
	model_touch(ms);
	ms->added_ms = ms->changed_ms = wall_ms();
	srvlist_init(&ms->servers);
	m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = ms;
	m->n++;
	log_event(LOG_LVL_INFO, "service_added", ms->name, NULL,
	    "service %s: added (%s, type %s, port %d)", ms->name, def->source,
	    def->watcher->type, def->port);
	model_changed(m, "service %s added", ms->name);
	model_start_watcher(m, ms);
}

static void
model_service_free(struct model_service *ms)
{
	watcher_stop(ms->watcher);
	svcdef_unref(ms->def);
	free(ms->rejected_why);
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
	log_event(LOG_LVL_INFO, "service_removed", name, NULL,
	    "service %s: removed", name);
	model_changed(m, "service %s removed", name);
}

void
model_reject(struct model *m, const char *name, const struct service_def *def,
    const char *why)
{
	struct model_service *ms = model_find(m, name);

	if (ms != NULL && ms->def == def) {
		ms->rejected = true;
		model_touch(ms);
		free(ms->rejected_why);
		ms->rejected_why = xstrdup(why ? why : "refused by HAProxy");
	}
}

static const char *
model_invalid_name_at(const void *v, size_t i)
{
	return ((const struct model_invalid *)v)[i].name;
}

static size_t
model_invalid_index(const struct model *m, const char *name, bool *found)
{
	return model_search(m->invalid, m->ninvalid, model_invalid_name_at,
	    name, found);
}

static void
model_invalid_free(struct model_invalid *iv)
{
	free(iv->name);
	free(iv->source);
	free(iv->error);
}

void
model_set_invalid(struct model *m, const char *name, const char *where,
    const char *err)
{
	bool found;
	size_t i = model_invalid_index(m, name, &found);
	struct model_invalid *iv;

	if (err == NULL) {
		if (!found)
			return;
		model_invalid_free(&m->invalid[i]);
		memmove(&m->invalid[i], &m->invalid[i + 1],
		    (m->ninvalid - i - 1) * sizeof(*m->invalid));
		m->ninvalid--;
		return;
	}
	if (!found) {
		m->invalid = xrealloc(m->invalid, (m->ninvalid + 1) *
		    sizeof(*m->invalid));
		memmove(&m->invalid[i + 1], &m->invalid[i],
		    (m->ninvalid - i) * sizeof(*m->invalid));
		m->ninvalid++;
		iv = &m->invalid[i];
		memset(iv, 0, sizeof(*iv));
		iv->name = xstrdup(name);
	} else {
		iv = &m->invalid[i];
		free(iv->source);
		free(iv->error);
	}
	iv->source = xstrdup(where ? where : "");
	iv->error = xstrdup(err);
	iv->since_ms = wall_ms();
}

const struct model_invalid *
model_find_invalid(const struct model *m, const char *name)
{
	bool found;
	size_t i = model_invalid_index(m, name, &found);

	return found ? &m->invalid[i] : NULL;
}

const char *
model_state_name(enum model_state st)
{
	static const char *const names[] = {
		[MODEL_OK] = "ok",
		[MODEL_STALE] = "stale",
		[MODEL_REJECTED] = "rejected",
	};

	return st < MODEL_STATES ? names[st] : "unknown";
}

void
model_service_status(const struct model *m, struct model_service *ms,
    struct model_status *out)
{
	const struct model_invalid *iv = model_find_invalid(m, ms->name);
	const struct watcher_health *h;

	out->source = ms->def->source;
	out->changed_ms = ms->changed_ms;
	out->reason = NULL;
	out->state = MODEL_OK;
	if (iv != NULL) {
		out->state = MODEL_REJECTED;
		out->reason = iv->error;
		return;
	}
	if (ms->rejected) {
		out->state = MODEL_REJECTED;
		out->reason = ms->rejected_why;
		return;
	}
	if (ms->watcher == NULL) {
		out->state = MODEL_STALE;
		out->reason = "its watcher did not start";
		return;
	}
	h = watcher_health(ms->watcher);
	if (h->state == WATCHER_STALE || h->state == WATCHER_ERROR) {
		out->state = MODEL_STALE;
		out->reason = h->last_error;
	}
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

/* What one service gets in the next snapshot. */
struct model_pick {
	struct service_def		*def;
	const struct server_list	*servers;
	struct listener			*listener;	/* a reference */
};

static const char *
model_claimed_by(struct model *m, struct model_pick *picks,
    const struct listener *l)
{
	for (size_t i = 0; i < m->n; i++)
		if (picks[i].listener == l)
			return m->v[i]->name;
	return NULL;
}

static const char *
model_bind_address(const struct model_service *ms,
    const struct pm_config *cfg)
{
	return ms->def->bind_address ? ms->def->bind_address :
	    cfg->bind_address;
}

static void
model_pick(struct model_pick *pk, struct service_def *def,
    const struct server_list *servers, struct listener *l)
{
	pk->def = def;
	pk->servers = servers;
	pk->listener = l;
}

/* First pass: services that keep the socket the running HAProxy gives
 * them claim it before any newcomer can; refused services take their
 * running entry whole. */
static void
model_pick_held(struct model *m, struct model_pick *picks,
    const struct pm_config *cfg, const struct snapshot_service *const *live)
{
	for (size_t i = 0; i < m->n; i++) {
		struct model_service *ms = m->v[i];
		const struct snapshot_service *e = live[i];
		const char *addr = model_bind_address(ms, cfg);

		if (e == NULL)
			continue;
		if (ms->rejected)
			model_pick(&picks[i], e->def, &e->servers,
			    listener_ref(e->listener));
		else if (e->listener->port == ms->def->port &&
		    strcmp(e->listener->addr, addr) == 0)
			model_pick(&picks[i], ms->def, &ms->servers,
			    listener_ref(e->listener));
	}
}

/* Second pass: new services and new ports. One that cannot have its
 * socket (another service has it, or the last claim of the port failed)
 * keeps what it has in the running HAProxy, if anything. */
static void
model_pick_new(struct model *m, struct model_pick *picks,
    const struct pm_config *cfg, const struct snapshot_service *const *live)
{
	for (size_t i = 0; i < m->n; i++) {
		struct model_service *ms = m->v[i];
		const struct snapshot_service *e = live[i];
		const char *addr = model_bind_address(ms, cfg), *owner, *why;
		struct listener *l;
		char *err;

		if (picks[i].def != NULL || ms->rejected)
			continue;
		/* Only wanted: the port is bound (or taken from a pool) once
		 * a reload is decided. If that failed, it is left to the
		 * fallback below until the next reload tries it again. */
		l = listener_want(addr, ms->def->port);
		if ((why = listener_failure(l)) != NULL)
			err = xstrdup(why);
		else if ((owner = model_claimed_by(m, picks, l)) == NULL) {
			listener_set_backlog(l, ms->def->backlog);
			model_pick(&picks[i], ms->def, &ms->servers, l);
			continue;
		} else
			err = xasprintf("port %d is already used by service %s",
			    ms->def->port, owner);
		listener_release(l);
		if (e != NULL && model_claimed_by(m, picks, e->listener) ==
		    NULL) {
			log_event(LOG_LVL_WARNING, "service_port", ms->name,
			    NULL, "service %s: %s; it keeps %s port %d, as the "
			    "running HAProxy has it", ms->name, err,
			    e->listener->addr, e->listener->port);
			model_pick(&picks[i], e->def, &ms->servers,
			    listener_ref(e->listener));
		} else
			log_event(LOG_LVL_WARNING, "service_port", ms->name,
			    NULL, "service %s: %s; service left out", ms->name,
			    err);
		free(err);
	}
}

/* A service whose live entry is still right for what it picked goes into
 * the next snapshot as it is: nothing of it is copied, carried, rendered
 * or planned again. A reload builds every entry anew, as it trims the
 * retired servers. */
static bool
model_entry_current(const struct model_service *ms,
    const struct model_pick *pk, const struct snapshot_service *le,
    const struct snapshot *snap, const struct snapshot *live)
{
	return le != NULL && live->cfg == snap->cfg &&
	    snapshot_can_share(snap, le) && pk->def == le->def &&
	    pk->listener == le->listener &&
	    (pk->servers == &le->servers || le->gen == ms->gen);
}

/* live's entry of each service of m, or NULL: both are sorted by name,
 * so one walk side by side finds them all. */
static const struct snapshot_service **
model_live_entries(const struct model *m, const struct snapshot *live)
{
	const struct snapshot_service **le = xcalloc(m->n ? m->n : 1,
	    sizeof(*le));
	size_t j = 0;

	for (size_t i = 0; live != NULL && i < m->n && j < live->n;) {
		/* Mostly the same definition: no need to compare names. */
		int c = m->v[i]->def == live->v[j]->def ? 0 :
		    strcmp(m->v[i]->name, live->v[j]->def->name);
		if (c == 0)
			le[i++] = live->v[j++];
		else if (c < 0)
			i++;
		else
			j++;
	}
	return le;
}

struct snapshot *
model_snapshot(struct model *m, struct pm_config *cfg,
    const struct snapshot *live, bool for_reload)
{
	struct snapshot *snap = snapshot_new(cfg);
	struct model_pick *picks = xcalloc(m->n ? m->n : 1, sizeof(*picks));
	const struct snapshot_service **lv = model_live_entries(m, live);

	snapshot_reserve(snap, m->n);
	model_pick_held(m, picks, cfg, lv);
	model_pick_new(m, picks, cfg, lv);
	for (size_t i = 0; i < m->n; i++) {
		const struct snapshot_service *le = lv[i];

		if (picks[i].def == NULL)
			continue;
		if (!for_reload && model_entry_current(m->v[i], &picks[i], le,
		    snap, live)) {
			snapshot_share(snap, (struct snapshot_service *)le);
			listener_release(picks[i].listener);
			continue;
		}
		struct snapshot_service *e = snapshot_add(snap, picks[i].def,
		    picks[i].servers, picks[i].listener);
		/* A refused service keeps its live entry as it is, ids and
		 * retired servers included. */
		if (le == NULL || picks[i].servers != &le->servers) {
			snapshot_carry(e, le, for_reload,
			    cfg->max_disabled_servers);
			e->gen = m->v[i]->gen;
		} else
			e->gen = le->gen;
		listener_release(picks[i].listener);
	}
	free(lv);
	free(picks);
	snapshot_render_new(snap);
	return snap;
}

void
model_forget_invalid(struct model *m)
{
	for (size_t i = 0; i < m->ninvalid; i++)
		model_invalid_free(&m->invalid[i]);
	free(m->invalid);
	m->invalid = NULL;
	m->ninvalid = 0;
}

void
model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		model_service_free(m->v[i]);
	model_forget_invalid(m);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
