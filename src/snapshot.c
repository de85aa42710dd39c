#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/listener.h"
#include "pmconfig.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

struct snapshot *
snapshot_new(void)
{
	return xcalloc(1, sizeof(struct snapshot));
}

struct snapshot_service *
snapshot_add(struct snapshot *s, struct service_def *def,
    const struct server_list *servers, struct listener *listener)
{
	struct snapshot_service *e;

	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	e->def = svcdef_ref(def);
	srvlist_copy(&e->servers, servers);
	e->listener = listener_ref(listener);
	e->child_fd = SNAPSHOT_FIRST_FD + (int)s->n;
	s->n++;
	return e;
}

void
snapshot_add_named(struct snapshot *s, const char *name,
    struct listener *listener)
{
	struct snapshot_named *e;

	s->named = xrealloc(s->named, (s->nnamed + 1) * sizeof(*s->named));
	e = &s->named[s->nnamed];
	e->name = xstrdup(name);
	e->listener = listener_ref(listener);
	e->child_fd = SNAPSHOT_FIRST_FD + (int)(s->n + s->nnamed);
	s->nnamed++;
}

const struct snapshot_service *
snapshot_find(const struct snapshot *s, const char *name)
{
	for (size_t i = 0; s != NULL && i < s->n; i++)
		if (strcmp(s->v[i].def->name, name) == 0)
			return &s->v[i];
	return NULL;
}

int
snapshot_claim(struct snapshot *s)
{
	int rc = 0;

	for (size_t i = 0; i < s->n; i++)
		if (listener_claim(s->v[i].listener, NULL) == -1)
			rc = -1;
	for (size_t i = 0; i < s->nnamed; i++)
		if (listener_claim(s->named[i].listener, NULL) == -1)
			rc = -1;
	return rc;
}

void
snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		svcdef_unref(s->v[i].def);
		srvlist_free(&s->v[i].servers);
		listener_release(s->v[i].listener);
	}
	for (size_t i = 0; i < s->nnamed; i++) {
		free(s->named[i].name);
		listener_release(s->named[i].listener);
	}
	free(s->named);
	free(s->user_config);
	free(s->user_text);
	free(s->v);
	free(s->text);
	free(s);
}

static bool
snapshot_has_keyword(char *const *lines, const char *kw)
{
	size_t n = strlen(kw);

	for (size_t i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];
		while (*l == ' ' || *l == '\t')
			l++;
		if (strncmp(l, kw, n) == 0 && (l[n] == ' ' || l[n] == '\0'))
			return true;
	}
	return false;
}

/* sbuf lines are counted as they are written, so that errors HAProxy
 * reports by line number can be traced back to a service. */
struct render {
	struct sbuf	sb;
	int		line;
};

static void render_line(struct render *r, const char *fmt, ...)
    PM_PRINTF(2, 3);

static void
render_line(struct render *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(&r->sb, fmt, ap);
	va_end(ap);
	sbuf_puts(&r->sb, "\n");
	r->line++;
}

void
snapshot_render(struct snapshot *s, const struct pm_config *cfg)
{
	struct render r = { { NULL, 0, 0 }, 0 };
	char addr[300];

	render_line(&r, "# Written by proxymgrd from %s: edits are "
	    "overwritten.", cfg->file);
	render_line(&r, "global");
	render_line(&r, "    stats socket %s mode 600 level admin",
	    cfg->socket_path);
	if (!snapshot_has_keyword(cfg->global, "server-state-file")) {
		char *state = snapshot_state_path(cfg);
		render_line(&r, "    server-state-file %s", state);
		free(state);
	}
	if (!snapshot_has_keyword(cfg->global, "hard-stop-after"))
		render_line(&r, "    hard-stop-after %s", cfg->hard_stop_after);
	for (size_t i = 0; cfg->global[i] != NULL; i++)
		render_line(&r, "    %s", cfg->global[i]);
	render_line(&r, "%s", "");
	render_line(&r, "defaults");
	for (size_t i = 0; cfg->defaults[i] != NULL; i++)
		render_line(&r, "    %s", cfg->defaults[i]);
	if (!snapshot_has_keyword(cfg->defaults, "load-server-state-from-file"))
		render_line(&r, "    load-server-state-from-file global");
	s->settings_last_line = r.line;

	for (size_t i = 0; i < s->n; i++) {
		struct snapshot_service *e = &s->v[i];
		const struct service_def *def = e->def;

		render_line(&r, "%s", "");
		e->first_line = r.line + 1;
		render_line(&r, "listen %s", def->name);
		render_line(&r, "    bind fd@%d", e->child_fd);
		for (size_t j = 0; def->listen_options[j] != NULL; j++)
			render_line(&r, "    %s", def->listen_options[j]);
		for (size_t j = 0; j < e->servers.n; j++) {
			struct sbuf opts;
			sbuf_init(&opts);
			if (e->servers.v[j].id > 0)
				sbuf_printf(&opts, " id %d", e->servers.v[j].id);
			if (e->servers.v[j].weight > 0)
				sbuf_printf(&opts, " weight %d",
				    e->servers.v[j].weight);
			for (size_t k = 0; def->server_options[k] != NULL; k++)
				sbuf_printf(&opts, " %s", def->server_options[k]);
			/* Last, so that no option can turn it back on. */
			if (e->servers.v[j].disabled)
				sbuf_puts(&opts, " disabled");
			render_line(&r, "    server %s %s%s",
			    e->servers.v[j].name,
			    server_addr(&e->servers.v[j], addr, sizeof(addr)),
			    opts.buf ? opts.buf : "");
			sbuf_free(&opts);
		}
		e->last_line = r.line;
	}
	free(s->text);
	s->text = sbuf_take(&r.sb);
}

char *
snapshot_state_path(const struct pm_config *cfg)
{
	return xasprintf("%s.state", cfg->config_path);
}

size_t
snapshot_disabled_count(const struct snapshot_service *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->servers.n; i++)
		if (e->servers.v[i].disabled)
			n++;
	return n;
}

static int
snapshot_cmp_retired(const void *a, const void *b)
{
	const struct server *x = *(const struct server *const *)a;
	const struct server *y = *(const struct server *const *)b;

	return (y->retired_seq > x->retired_seq) -
	    (y->retired_seq < x->retired_seq);
}

static int
snapshot_cmp_name(const void *a, const void *b)
{
	const struct server *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Process-wide order of retirements; only compared, never shown. */
static uint64_t snapshot_retire_seq;

void
snapshot_carry(struct snapshot_service *e,
    const struct snapshot_service *live, bool trim, int max_disabled)
{
	struct server_list *l = &e->servers;
	int next_id = 1;
	size_t keep = SIZE_MAX, first_new;

	if (live != NULL)
		for (size_t i = 0; i < live->servers.n; i++)
			if (live->servers.v[i].id >= next_id)
				next_id = live->servers.v[i].id + 1;
	for (size_t i = 0; i < l->n; i++) {
		const struct server *o = live ? srvlist_find_n(
		    &live->servers, live->servers.n, l->v[i].name) : NULL;
		l->v[i].disabled = false;
		l->v[i].retired_seq = 0;
		l->v[i].id = o != NULL && o->id > 0 ? o->id : next_id++;
	}
	if (live == NULL)
		return;
	/* Retired servers: in live, not wanted now. */
	first_new = l->n;
	for (size_t i = 0; i < live->servers.n; i++) {
		const struct server *o = &live->servers.v[i];
		/* Only the wanted ones are sorted: search those. */
		if (o->id <= 0 || srvlist_find_n(l, first_new,
		    o->name) != NULL)
			continue;
		srvlist_add_weighted(l, o->host, o->port, o->weight);
		l->v[l->n - 1].id = o->id;
		l->v[l->n - 1].disabled = true;
		l->v[l->n - 1].retired_seq = o->disabled ? o->retired_seq :
		    ++snapshot_retire_seq;
	}
	if (trim)
		keep = max_disabled > 0 ? (size_t)max_disabled / 2 : 0;
	if (l->n - first_new > keep) {
		/* Keep the most recently retired. */
		size_t nret = l->n - first_new;
		struct server **order = xcalloc(nret, sizeof(*order));
		for (size_t i = 0; i < nret; i++)
			order[i] = &l->v[first_new + i];
		qsort(order, nret, sizeof(*order), snapshot_cmp_retired);
		for (size_t i = keep; i < nret; i++)
			order[i]->id = -1;	/* marked for removal */
		free(order);
		size_t out = first_new;
		for (size_t i = first_new; i < l->n; i++) {
			if (l->v[i].id == -1) {
				free(l->v[i].host);
				free(l->v[i].name);
				continue;
			}
			l->v[out++] = l->v[i];
		}
		l->n = out;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), snapshot_cmp_name);
}

bool
snapshot_same_named(const struct snapshot *a, const struct snapshot *b)
{
	if (a->nnamed != b->nnamed)
		return false;
	for (size_t i = 0; i < a->nnamed; i++)
		if (a->named[i].listener != b->named[i].listener ||
		    a->named[i].child_fd != b->named[i].child_fd ||
		    strcmp(a->named[i].name, b->named[i].name) != 0)
			return false;
	return true;
}

bool
snapshot_same(const struct snapshot *a, const struct snapshot *b)
{
	if (a == NULL || b == NULL || a->n != b->n ||
	    strcmp(a->text, b->text) != 0)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].listener != b->v[i].listener)
			return false;
	if (!snapshot_same_named(a, b) || a->generation != b->generation ||
	    (a->user_config == NULL) != (b->user_config == NULL) ||
	    (a->user_config != NULL && (strcmp(a->user_config,
	    b->user_config) != 0 || a->user_text == NULL ||
	    b->user_text == NULL || strcmp(a->user_text, b->user_text) != 0)))
		return false;
	return true;
}

const struct snapshot_service *
snapshot_service_at_line(const struct snapshot *s, int line)
{
	for (size_t i = 0; i < s->n; i++)
		if (line >= s->v[i].first_line && line <= s->v[i].last_line)
			return &s->v[i];
	return NULL;
}
