#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "util.h"
#include "watchers/watcher.h"
#include "zk/follow.h"

static const struct watcher_ops *const watcher_registry[] = {
	&watcher_dns_ops,
	&watcher_file_ops,
	&watcher_static_ops,
	&watcher_zookeeper_ops,
};

#define WATCHER_COUNT (sizeof(watcher_registry) / sizeof(watcher_registry[0]))

static size_t watcher_nunanswered;
static void (*watcher_answer_cb)(void *);
static void *watcher_answer_ctx;

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
	watcher_health_init(&w->health);
	watcher_nunanswered++;
	if (w->ops->start(w, err) == -1) {
		if (!w->answered)
			watcher_nunanswered--;
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
	if (!w->answered)
		watcher_nunanswered--;	/* no answer will come: not waited for */
	w->stopped = true;
	w->on_update = NULL;
	w->ops->stop(w);
}

/* Counts w's first answer; true if it was the first. */
static bool
watcher_count_answer(struct watcher *w)
{
	if (w->stopped || w->answered)
		return false;
	w->answered = true;
	watcher_nunanswered--;
	return true;
}

void
watcher_answered(struct watcher *w)
{
	if (watcher_count_answer(w) && watcher_answer_cb != NULL)
		watcher_answer_cb(watcher_answer_ctx);
}

size_t
watcher_unanswered(void)
{
	return watcher_nunanswered;
}

void
watcher_on_answer(void (*cb)(void *), void *ctx)
{
	watcher_answer_cb = cb;
	watcher_answer_ctx = ctx;
}

void
watcher_report(struct watcher *w, struct server_list *servers)
{
	if (w->stopped || w->on_update == NULL) {
		srvlist_free(servers);
		return;
	}
	bool first = watcher_count_answer(w);

	watcher_health_ok(&w->health);
	w->on_update(w->ctx, w->service, servers);
	srvlist_free(servers);
	/* Told once the model has the servers (w is not used again). */
	if (first && watcher_answer_cb != NULL)
		watcher_answer_cb(watcher_answer_ctx);
}

void
watcher_free(struct watcher *w)
{
	watcher_health_free(&w->health);
	free(w->service);
	free(w->source);
	json_decref(w->blob);
	free(w);
}

const struct watcher_health *
watcher_health(struct watcher *w)
{
	if (w->ops->health != NULL && !w->stopped)
		w->ops->health(w);
	return &w->health;
}

void
watcher_health_init(struct watcher_health *h)
{
	memset(h, 0, sizeof(*h));
	h->state = WATCHER_STARTING;
}

void
watcher_health_free(struct watcher_health *h)
{
	free(h->last_error);
	json_decref(h->detail);
	watcher_health_init(h);
}

void
watcher_health_ok(struct watcher_health *h)
{
	h->state = WATCHER_OK;
	h->last_sync_ms = wall_ms();
}

void
watcher_health_fail(struct watcher_health *h, enum watcher_state state,
    const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		why = xstrdup("error");
	va_end(ap);
	free(h->last_error);
	h->last_error = why;
	h->last_error_ms = wall_ms();
	h->state = state;
}

void
watcher_health_detail(struct watcher_health *h, json_t *detail)
{
	json_decref(h->detail);
	h->detail = detail;
}

const char *
watcher_state_name(enum watcher_state st)
{
	static const char *const names[] = {
		[WATCHER_STARTING] = "starting",
		[WATCHER_OK] = "ok",
		[WATCHER_STALE] = "stale",
		[WATCHER_ERROR] = "error",
	};

	return st < WATCHER_STATES ? names[st] : "unknown";
}

void
watcher_health_zk(struct watcher_health *h, const struct zkf_info *info,
    enum watcher_state content)
{
	char sid[32];

	snprintf(sid, sizeof(sid), "0x%llx", info->session.session_id);
	watcher_health_detail(h, json_pack("{s:s, s:s, s:s, s:o, s:I, s:b, "
	    "s:I}", "servers", info->servers, "path", info->path,
	    "session_state", zks_state_name(info->session.state),
	    "session_id", info->session.session_id != 0 ? json_string(sid) :
	    json_null(), "session_since", (json_int_t)info->session.since_ms,
	    "exists", info->exists, "children", (json_int_t)info->children));
	h->last_sync_ms = info->last_sync_ms;
	if (info->last_error != NULL && info->last_error_ms > h->last_error_ms) {
		free(h->last_error);
		h->last_error = xstrdup(info->last_error);
		h->last_error_ms = info->last_error_ms;
	}
	if (info->session.state != ZKS_STATE_CONNECTED) {
		if (h->state != WATCHER_STALE)
			watcher_health_fail(h, WATCHER_STALE, "ZooKeeper %s: "
			    "session %s", info->servers,
			    zks_state_name(info->session.state));
		return;
	}
	h->state = info->last_sync_ms == 0 ? WATCHER_STARTING : content;
}
