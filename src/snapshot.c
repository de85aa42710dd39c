#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxy/keywords.h"
#include "haproxy/listener.h"
#include "pmconfig.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"
#include "validate.h"

struct snapshot *
snapshot_new(struct pm_config *cfg)
{
	struct snapshot *s = xcalloc(1, sizeof(struct snapshot));

	s->refs = 1;
	s->cfg = pmconfig_ref(cfg);
	return s;
}

struct snapshot *
snapshot_hold(struct snapshot *s)
{
	s->refs++;
	return s;
}

static void
snapshot_grow(struct snapshot *s)
{
	if (s->n == s->cap)
		snapshot_reserve(s, s->cap ? 2 * s->cap : 16);
}

struct snapshot_service *
snapshot_add(struct snapshot *s, struct service_def *def,
    const struct server_list *servers, struct listener *listener)
{
	struct snapshot_service *e = xcalloc(1, sizeof(*e));

	e->refs = 1;
	e->def = svcdef_ref(def);
	srvlist_copy(&e->servers, servers);
	e->listener = listener_ref(listener);
	e->child_fd = SNAPSHOT_FIRST_FD + (int)s->n;
	snapshot_grow(s);
	s->v[s->n++] = e;
	return e;
}

bool
snapshot_can_share(const struct snapshot *s, const struct snapshot_service *e)
{
	return e->text != NULL &&
	    e->child_fd == SNAPSHOT_FIRST_FD + (int)s->n;
}

void
snapshot_share(struct snapshot *s, struct snapshot_service *e)
{
	e->refs++;
	snapshot_grow(s);
	s->v[s->n++] = e;
}

void
snapshot_reserve(struct snapshot *s, size_t n)
{
	if (n > s->cap) {
		s->cap = n;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
}

static void
snapshot_entry_unref(struct snapshot_service *e)
{
	if (--e->refs > 0)
		return;
	svcdef_unref(e->def);
	srvlist_free(&e->servers);
	listener_release(e->listener);
	free(e->text);
	free(e);
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

static int
snapshot_name_cmp(const void *name, const void *elem)
{
	return strcmp(name,
	    (*(struct snapshot_service *const *)elem)->def->name);
}

const struct snapshot_service *
snapshot_find(const struct snapshot *s, const char *name)
{
	struct snapshot_service *const *e;

	if (s == NULL || s->n == 0)
		return NULL;
	e = bsearch(name, s->v, s->n, sizeof(*s->v), snapshot_name_cmp);
	return e != NULL ? *e : NULL;
}

int
snapshot_claim(struct snapshot *s)
{
	int rc = 0;

	for (size_t i = 0; i < s->n; i++)
		if (listener_claim(s->v[i]->listener, NULL) == -1)
			rc = -1;
	for (size_t i = 0; i < s->nnamed; i++)
		if (listener_claim(s->named[i].listener, NULL) == -1)
			rc = -1;
	return rc;
}

void
snapshot_free(struct snapshot *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		snapshot_entry_unref(s->v[i]);
	for (size_t i = 0; i < s->nnamed; i++) {
		free(s->named[i].name);
		listener_release(s->named[i].listener);
	}
	free(s->named);
	free(s->user_config);
	free(s->user_text);
	strv_free(s->env);
	free(s->v);
	free(s->settings_text);
	free(s->first_line);
	free(s->text);
	pmconfig_unref(s->cfg);
	free(s);
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

bool
snapshot_sets_identity(const struct snapshot *s)
{
	static const char *const kws[] = { "user", "uid", "group", "gid" };

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (hkw_lines_have(s->cfg->global, kws[i]) ||
		    hkw_text_global_has(s->user_text, kws[i]))
			return true;
	return false;
}

bool
snapshot_exposes_fds(const struct snapshot *s)
{
	return s->cfg->user_config != NULL;
}

/* An HTTP proxy gets `option idle-close-on-response` unless the operator
 * or the service names the option (on or off) themselves: without it, an
 * old HAProxy closes its idle keep-alive connections at soft-stop, and a
 * client whose next request crosses that close sees a reset at every
 * reload. With it, the old process answers that request with
 * `Connection: close` instead. TCP proxies are left alone: HAProxy warns
 * there. */
static bool
snapshot_idle_close(const struct pm_config *cfg, const struct service_def *def)
{
	return hkw_mode_http(cfg->defaults, def->listen_options) &&
	    !hkw_option_named(cfg->defaults, "idle-close-on-response") &&
	    !hkw_option_named(def->listen_options, "idle-close-on-response");
}

static void
snapshot_render_settings(struct snapshot *s)
{
	const struct pm_config *cfg = s->cfg;
	struct render r = { { NULL, 0, 0 }, 0 };

	render_line(&r, "# Written by proxymgrd from %s: edits are "
	    "overwritten.", cfg->file);
	render_line(&r, "global");
	render_line(&r, "    stats socket %s mode 600 level admin%s",
	    cfg->socket_path, snapshot_exposes_fds(s) ?
	    " expose-fd listeners" : "");
	/* HAProxy binds, reads this file, its server state and the
	 * operator's files as root, then drops to these before it serves.
	 * An operator's own user/group (or uid/gid) is left alone. */
	if (!snapshot_sets_identity(s)) {
		if (cfg->drop_user != NULL)
			render_line(&r, "    %s", cfg->drop_user);
		if (cfg->drop_group != NULL)
			render_line(&r, "    %s", cfg->drop_group);
	}
	if (!hkw_lines_have(cfg->global, "server-state-file")) {
		char *state = snapshot_state_path(cfg);
		render_line(&r, "    server-state-file %s", state);
		free(state);
	}
	if (!hkw_lines_have(cfg->global, "hard-stop-after"))
		render_line(&r, "    hard-stop-after %s", cfg->hard_stop_after);
	for (size_t i = 0; cfg->global[i] != NULL; i++)
		render_line(&r, "    %s", cfg->global[i]);
	render_line(&r, "%s", "");
	render_line(&r, "defaults");
	for (size_t i = 0; cfg->defaults[i] != NULL; i++)
		render_line(&r, "    %s", cfg->defaults[i]);
	if (!hkw_lines_have(cfg->defaults, "load-server-state-from-file"))
		render_line(&r, "    load-server-state-from-file global");
	s->settings_last_line = r.line;
	free(s->settings_text);
	s->settings_text = sbuf_take(&r.sb);
}

/* One service's section, from the blank line that parts it from the one
 * before. */
static void
snapshot_render_service(const struct pm_config *cfg,
    struct snapshot_service *e)
{
	const struct service_def *def = e->def;
	struct render r = { { NULL, 0, 0 }, 0 };
	struct sbuf opts;
	char addr[300];

	render_line(&r, "%s", "");
	render_line(&r, "listen %s", def->name);
	render_line(&r, "    bind fd@%d", e->child_fd);
	if (snapshot_idle_close(cfg, def))
		render_line(&r, "    option idle-close-on-response");
	for (size_t j = 0; def->listen_options[j] != NULL; j++)
		render_line(&r, "    %s", def->listen_options[j]);
	sbuf_init(&opts);
	for (size_t j = 0; j < e->servers.n; j++) {
		const struct server *sv = &e->servers.v[j];
		opts.len = 0;
		if (opts.buf != NULL)
			opts.buf[0] = '\0';
		if (sv->id > 0)
			sbuf_printf(&opts, " id %d", sv->id);
		if (sv->weight > 0)
			sbuf_printf(&opts, " weight %d", sv->weight);
		for (size_t k = 0; def->server_options[k] != NULL; k++)
			sbuf_printf(&opts, " %s", def->server_options[k]);
		/* Last, so that no option can turn it back on. */
		if (sv->disabled)
			sbuf_puts(&opts, " disabled");
		render_line(&r, "    server %s %s%s", sv->name,
		    server_addr(sv, addr, sizeof(addr)),
		    opts.buf ? opts.buf : "");
	}
	sbuf_free(&opts);
	free(e->text);
	e->nlines = r.line;
	/* Kept for as long as the service is unchanged: no slack. */
	e->text = xrealloc(r.sb.buf, r.sb.len + 1);
}

/* Where each section starts, now that all are rendered. */
static void
snapshot_layout(struct snapshot *s)
{
	int line = s->settings_last_line;

	free(s->first_line);
	s->first_line = xcalloc(s->n ? s->n : 1, sizeof(*s->first_line));
	for (size_t i = 0; i < s->n; i++) {
		s->first_line[i] = line + 2;	/* after the blank line */
		line += s->v[i]->nlines;
	}
}

void
snapshot_render_new(struct snapshot *s)
{
	snapshot_render_settings(s);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->text == NULL)
			snapshot_render_service(s->cfg, s->v[i]);
	snapshot_layout(s);
	snapshot_forget_text(s);
}

void
snapshot_render(struct snapshot *s)
{
	/* A shared entry was rendered with this very config: the same. */
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->refs == 1)
			snapshot_render_service(s->cfg, s->v[i]);
	snapshot_render_new(s);
	(void)snapshot_text(s);
}

static char *
snapshot_assemble(const struct snapshot *s)
{
	size_t len = s->settings_text ? strlen(s->settings_text) : 0, off;
	char *text;

	for (size_t i = 0; i < s->n; i++)
		len += s->v[i]->text ? strlen(s->v[i]->text) : 0;
	text = xmalloc(len + 1);
	off = 0;
	if (s->settings_text != NULL) {
		memcpy(text, s->settings_text, strlen(s->settings_text));
		off = strlen(s->settings_text);
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i]->text == NULL)
			continue;
		size_t n = strlen(s->v[i]->text);
		memcpy(text + off, s->v[i]->text, n);
		off += n;
	}
	text[off] = '\0';
	return text;
}

const char *
snapshot_text(struct snapshot *s)
{
	if (s->text == NULL)
		s->text = snapshot_assemble(s);
	return s->text;
}

void
snapshot_forget_text(struct snapshot *s)
{
	free(s->text);
	s->text = NULL;
}

int
snapshot_write_tmp(const struct snapshot *s, const char *tmp, char **err)
{
	FILE *fp;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
		*err = xasprintf("cannot create %s: %s", tmp, strerror(saved));
		return -1;
	}
	if (s->settings_text != NULL)
		fputs(s->settings_text, fp);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->text != NULL)
			fputs(s->v[i]->text, fp);
	if (fflush(fp) == EOF || ferror(fp) || fsync(fd) == -1) {
		saved = errno;
		fclose(fp);
		unlink(tmp);
		*err = xasprintf("cannot write %s: %s", tmp, strerror(saved));
		return -1;
	}
	if (fclose(fp) == EOF) {
		saved = errno;
		unlink(tmp);
		*err = xasprintf("cannot close %s: %s", tmp, strerror(saved));
		return -1;
	}
	return 0;
}

int
snapshot_write(const struct snapshot *s, const char *path, char **err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rc = snapshot_write_tmp(s, tmp, err);

	if (rc == 0)
		rc = rename_durable(tmp, path, err);
	free(tmp);
	return rc;
}

int
snapshot_first_line(const struct snapshot *s, size_t i)
{
	return s->first_line != NULL && i < s->n ? s->first_line[i] : 0;
}

int
snapshot_last_line(const struct snapshot *s, size_t i)
{
	/* The section's blank line comes before its first line. */
	return s->first_line != NULL && i < s->n ?
	    s->first_line[i] + s->v[i]->nlines - 2 : -1;
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
snapshot_cmp_oldest(const void *a, const void *b)
{
	return snapshot_cmp_retired(b, a);
}

static int
snapshot_cmp_name(const void *a, const void *b)
{
	const struct server *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Process-wide order of retirements; only compared, never shown. */
static uint64_t snapshot_retire_seq;

/* The name of a new slot: HOST:PORT, unless a slot of live that serves
 * another address has it (it was created for this one and given another
 * since): then HOST:PORT-2, -3, ..., the first free. */
static char *
snapshot_slot_name(const struct snapshot_service *live, const struct server *s)
{
	for (unsigned n = 1;; n++) {
		char *name = server_slot_name(s->host, s->port, n);
		if (live == NULL || srvlist_find(&live->servers, name) == NULL)
			return name;
		free(name);
	}
}

/* Retired slots that may serve a new address, oldest retirement first:
 * its connections are the most likely gone. Only slots at an IP literal:
 * HAProxy may resolve a host name again over the address given. */
static size_t
snapshot_spare_slots(const struct snapshot_service *live, const bool *taken,
    const struct server **spare)
{
	size_t n = 0;

	for (size_t i = 0; i < live->servers.n; i++) {
		const struct server *o = &live->servers.v[i];
		if (o->disabled && o->id > 0 && !taken[i] && val_ip(o->host))
			spare[n++] = o;
	}
	if (n > 1)
		qsort(spare, n, sizeof(*spare), snapshot_cmp_oldest);
	return n;
}

/* Slots whose address leaves in this very change, that new addresses
 * of it may take (appended to leaving, which has room): only as many as
 * keep the retired slots within max_disabled once the nspare retired
 * ones are taken. A change that replaces many servers at once (a host
 * file rewritten, a ZooKeeper session back after a partition) then
 * moves slots instead of retiring more than the bound allows, which
 * would be a reload; an everyday change retires and adds as before, so
 * that a server that returns finds its slot. */
static size_t
snapshot_leaving_slots(const struct snapshot_service *e,
    const struct snapshot_service *live, const bool *taken, size_t nspare,
    int max_disabled, const struct server **leaving)
{
	size_t nnew = 0, nretire = 0, n = 0, want;

	for (size_t i = 0; i < e->servers.n; i++)
		if (e->servers.v[i].id == 0 && val_ip(e->servers.v[i].host))
			nnew++;
	for (size_t i = 0; i < live->servers.n; i++)
		if (live->servers.v[i].id > 0 && !taken[i])
			nretire++;
	/* nretire counts the retired slots and those that leave now. */
	if (nnew <= nspare)
		return 0;
	nretire -= nspare;
	if (nretire <= (size_t)(max_disabled > 0 ? max_disabled : 0))
		return 0;
	want = nretire - (size_t)(max_disabled > 0 ? max_disabled : 0);
	if (want > nnew - nspare)
		want = nnew - nspare;
	for (size_t i = 0; i < live->servers.n && n < want; i++) {
		const struct server *o = &live->servers.v[i];
		if (!o->disabled && o->id > 0 && !taken[i] && val_ip(o->host))
			leaving[n++] = o;
	}
	return n;
}

void
snapshot_carry(struct snapshot_service *e,
    const struct snapshot_service *live, bool trim, int max_disabled)
{
	struct server_list *l = &e->servers;
	struct server_index ix;
	const struct server **spare;
	bool *taken;
	int next_id = 1;
	size_t keep = SIZE_MAX, first_new, nspare, next_spare = 0;

	for (size_t i = 0; i < l->n; i++) {
		l->v[i].disabled = false;
		l->v[i].retired_seq = 0;
		l->v[i].id = 0;
	}
	if (live == NULL) {
		for (size_t i = 0; i < l->n; i++)
			l->v[i].id = next_id++;
		return;
	}
	for (size_t i = 0; i < live->servers.n; i++)
		if (live->servers.v[i].id >= next_id)
			next_id = live->servers.v[i].id + 1;
	/* Slots are matched by address: a slot keeps its name and id while
	 * it lives, whatever address it was created for. */
	srvindex_build(&ix, &live->servers);
	taken = xcalloc(live->servers.n + 1, sizeof(*taken));
	for (size_t i = 0; i < l->n; i++) {
		const struct server *o = srvindex_find(&ix, l->v[i].host,
		    l->v[i].port);
		if (o == NULL || o->id <= 0)
			continue;
		taken[o - live->servers.v] = true;
		l->v[i].id = o->id;
		srvlist_rename(l, i, o->name);
	}
	srvindex_free(&ix);
	/* A new address takes a retired slot (set server addr at runtime,
	 * as HAProxy's server-template does), or a new one (add server). */
	spare = xcalloc(live->servers.n + 1, sizeof(*spare));
	nspare = snapshot_spare_slots(live, taken, spare);
	nspare += snapshot_leaving_slots(e, live, taken, nspare, max_disabled,
	    spare + nspare);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].id != 0)
			continue;
		if (next_spare < nspare && val_ip(l->v[i].host)) {
			const struct server *o = spare[next_spare++];
			taken[o - live->servers.v] = true;
			l->v[i].id = o->id;
			srvlist_rename(l, i, o->name);
			continue;
		}
		char *name = snapshot_slot_name(live, &l->v[i]);
		l->v[i].id = next_id++;
		srvlist_rename(l, i, name);
		free(name);
	}
	free(spare);
	/* Retired slots: in live, serving nothing wanted now. */
	first_new = l->n;
	for (size_t i = 0; i < live->servers.n; i++) {
		const struct server *o = &live->servers.v[i];
		if (o->id <= 0 || taken[i])
			continue;
		srvlist_add_weighted(l, o->host, o->port, o->weight);
		srvlist_rename(l, l->n - 1, o->name);
		l->v[l->n - 1].id = o->id;
		l->v[l->n - 1].disabled = true;
		l->v[l->n - 1].retired_seq = o->disabled ? o->retired_seq :
		    ++snapshot_retire_seq;
	}
	free(taken);
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

/* What a HAProxy runs, part by part, in a fixed order of kinds: the
 * rendered text, the hand-written config, then which socket sits behind
 * each child fd (services, then named listeners). snapshot_diff compares
 * these parts and snapshot_fingerprint hashes them: one definition for
 * both. */
enum snapshot_part_kind { SP_TEXT, SP_USER, SP_SOCKET, SP_NAMED };

struct snapshot_part {
	enum snapshot_part_kind	 kind;
	const char		*name;		/* SP_SOCKET, SP_NAMED */
	const char		*text;		/* SP_TEXT, SP_USER */
	const char		*path;		/* SP_USER: NULL if managed */
	char *const		*env;		/* SP_USER: --env-file's */
	const struct listener	*listener;
	int			 child_fd;
	const void		*entry;	/* SP_SOCKET: the same one is equal */
};

/* The i-th part of s, false past the last. */
static bool
snapshot_part(const struct snapshot *s, size_t i, struct snapshot_part *p)
{
	memset(p, 0, sizeof(*p));
	if (i == 0) {
		p->kind = SP_TEXT;	/* settings_text and the sections */
		return true;
	}
	if (i == 1) {
		p->kind = SP_USER;
		p->text = s->user_text;
		p->path = s->user_config;
		p->env = s->env;
		return true;
	}
	i -= 2;
	if (i < s->n) {
		p->kind = SP_SOCKET;
		p->name = s->v[i]->def->name;
		p->listener = s->v[i]->listener;
		p->child_fd = s->v[i]->child_fd;
		p->entry = s->v[i];
		return true;
	}
	i -= s->n;
	if (i < s->nnamed) {
		p->kind = SP_NAMED;
		p->name = s->named[i].name;
		p->listener = s->named[i].listener;
		p->child_fd = s->named[i].child_fd;
		return true;
	}
	return false;
}

static bool
snapshot_streq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
snapshot_same_socket(const struct listener *a, const struct listener *b)
{
	return a == b || (a != NULL && b != NULL && a->port == b->port &&
	    strcmp(a->addr, b->addr) == 0);
}

/* Which part of the texts differs: the global and defaults sections, or
 * the services' sections after them. A section both share is the same:
 * only those of the services that changed are compared. */
static unsigned
snapshot_diff_text(const struct snapshot *a, const struct snapshot *b)
{
	unsigned d = 0;

	if (a->settings_text == NULL || b->settings_text == NULL)
		return a->settings_text == b->settings_text ? 0 :
		    SNAPSHOT_DIFF_SETTINGS | SNAPSHOT_DIFF_SECTIONS;
	if (strcmp(a->settings_text, b->settings_text) != 0)
		d |= SNAPSHOT_DIFF_SETTINGS;
	if (a->n != b->n)
		return d | SNAPSHOT_DIFF_SECTIONS;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i] != b->v[i] &&
		    !snapshot_streq(a->v[i]->text, b->v[i]->text))
			return d | SNAPSHOT_DIFF_SECTIONS;
	return d;
}

static const unsigned snapshot_kind_bit[] = {
	[SP_TEXT] = SNAPSHOT_DIFF_SECTIONS, [SP_USER] = SNAPSHOT_DIFF_USER,
	[SP_SOCKET] = SNAPSHOT_DIFF_SOCKETS, [SP_NAMED] = SNAPSHOT_DIFF_NAMED,
};

/* Two parts of the same kind: the same thing runs. A hand-written config
 * that could not be read is never the same as anything. */
static bool
snapshot_part_equal(const struct snapshot_part *x,
    const struct snapshot_part *y)
{
	switch (x->kind) {
	case SP_TEXT:
		return false;	/* snapshot_diff_text compares those */
	case SP_USER:
		if (!snapshot_streq(x->path, y->path) ||
		    !strv_equal(x->env, y->env))
			return false;
		return x->path == NULL || (x->text != NULL && y->text != NULL &&
		    strcmp(x->text, y->text) == 0);
	case SP_SOCKET:
	case SP_NAMED:
		if (x->entry != NULL && x->entry == y->entry)
			return true;
		return x->child_fd == y->child_fd &&
		    snapshot_streq(x->name, y->name) &&
		    snapshot_same_socket(x->listener, y->listener);
	}
	return false;
}

unsigned
snapshot_diff(const struct snapshot *a, const struct snapshot *b)
{
	struct snapshot_part x, y;
	size_t i = 0, j = 0;
	bool hx, hy;
	unsigned d = 0;

	if (a == NULL || b == NULL)
		return a == b ? 0 : SNAPSHOT_DIFF_ALL;
	/* Parts come in the order of their kinds: walk both side by side,
	 * and a part one side lacks is a difference of its kind. */
	hx = snapshot_part(a, i, &x);
	hy = snapshot_part(b, j, &y);
	while (hx || hy) {
		if (hx && hy && x.kind == y.kind) {
			if (x.kind == SP_TEXT)
				d |= snapshot_diff_text(a, b);
			else if (!snapshot_part_equal(&x, &y))
				d |= snapshot_kind_bit[x.kind];
			hx = snapshot_part(a, ++i, &x);
			hy = snapshot_part(b, ++j, &y);
		} else if (hx && (!hy || x.kind < y.kind)) {
			d |= snapshot_kind_bit[x.kind];
			hx = snapshot_part(a, ++i, &x);
		} else {
			d |= snapshot_kind_bit[y.kind];
			hy = snapshot_part(b, ++j, &y);
		}
	}
	if (a->generation != b->generation)
		d |= SNAPSHOT_DIFF_GENERATION;
	return d;
}

bool
snapshot_same(const struct snapshot *a, const struct snapshot *b)
{
	return a != NULL && b != NULL && snapshot_diff(a, b) == 0;
}

static unsigned long
snapshot_hash_bytes(unsigned long h, const char *text)
{
	for (const unsigned char *c = (const unsigned char *)(text ? text :
	    ""); *c; c++)
		h = (h ^ *c) * 16777619UL;
	return h;
}

static unsigned long
snapshot_hash_add(unsigned long h, const char *text)
{
	h = snapshot_hash_bytes(h, text);
	return (h ^ 0xff) * 16777619UL;	/* a separator */
}

/* FNV-1a over the parts. A managed snapshot hashes exactly as it did
 * before the hand-written config's path was a part, so that an upgrade
 * from such a version still adopts its HAProxy without a reload. */
unsigned long
snapshot_fingerprint(const struct snapshot *s)
{
	struct snapshot_part p;
	unsigned long h = 2166136261UL;
	char buf[400];

	for (size_t i = 0; snapshot_part(s, i, &p); i++) {
		switch (p.kind) {
		case SP_TEXT:
			/* The whole text, as it was when it was one string. */
			h = snapshot_hash_bytes(h, s->settings_text);
			for (size_t k = 0; k < s->n; k++)
				h = snapshot_hash_bytes(h, s->v[k]->text);
			h = (h ^ 0xff) * 16777619UL;
			break;
		case SP_USER:
			h = snapshot_hash_add(h, p.text);
			if (p.path != NULL)
				h = snapshot_hash_add(h, p.path);
			for (size_t k = 0; p.env != NULL && p.env[k] != NULL;
			    k++)
				h = snapshot_hash_add(h, p.env[k]);
			break;
		case SP_SOCKET:
		case SP_NAMED:
			snprintf(buf, sizeof(buf), "%s %s %d %d", p.name,
			    p.listener->addr, p.listener->port, p.child_fd);
			h = snapshot_hash_add(h, buf);
			break;
		}
	}
	return h;
}

const struct snapshot_service *
snapshot_service_at_line(const struct snapshot *s, int line)
{
	for (size_t i = 0; i < s->n; i++)
		if (line >= snapshot_first_line(s, i) &&
		    line <= snapshot_last_line(s, i))
			return s->v[i];
	return NULL;
}
