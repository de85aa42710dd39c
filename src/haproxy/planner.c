#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/keywords.h"
#include "haproxy/planner.h"
#include "haproxy/runtime.h"
#include "pmconfig.h"
#include "server.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"
#include "validate.h"

#define PLAN_ADDED	"New server registered."
#define SRV_ADMF_FMAINT	0x01	/* HAProxy's "forced maint" admin flag */

static const char *const plan_reason_names[PLAN_REASONS] = {
	[PLAN_RUNTIME] = "runtime",
	[PLAN_START] = "start",
	[PLAN_SERVICES] = "services",
	[PLAN_DEFINITION] = "definition",
	[PLAN_SETTINGS] = "settings",
	[PLAN_NOT_DYNAMIC] = "not-dynamic",
	[PLAN_RETIRED] = "retired-bound",
	[PLAN_REFUSED] = "refused",
	[PLAN_NO_ANSWER] = "no-answer",
	[PLAN_FORCED] = "forced",
	[PLAN_UNSAFE] = "unsafe-command",
	[PLAN_OPERATOR] = "operator",
};

const char *
plan_reason_name(enum plan_reason r)
{
	return r < PLAN_REASONS ? plan_reason_names[r] : "?";
}

static void plan_reload(struct plan *p, enum plan_reason r, const char *fmt,
    ...) PM_PRINTF(3, 4);

/* The first reason found is the one counted and logged. */
static void
plan_reload(struct plan *p, enum plan_reason r, const char *fmt, ...)
{
	va_list ap;
	struct sbuf sb;

	if (p->why != NULL)
		return;
	sbuf_init(&sb);
	va_start(ap, fmt);
	sbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	p->why = sbuf_take(&sb);
	p->reason = r;
}

/* Append a command, formatted, with the reply it expects. */
static void
plan_push(struct plan_cmd **v, size_t *n, const char *expect,
    const char *fmt, va_list ap)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_vprintf(&sb, fmt, ap);
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].cmd = sbuf_take(&sb);
	(*v)[*n].expect = xstrdup(expect);
	(*n)++;
}

static void plan_add(struct plan *p, const char *expect, const char *fmt,
    ...) PM_PRINTF(3, 4);

static void
plan_add(struct plan *p, const char *expect, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	plan_push(&p->v, &p->n, expect, fmt, ap);
	va_end(ap);
}

static void plan_add_later(struct plan_cmd **v, size_t *n, const char *fmt,
    ...) PM_PRINTF(3, 4);

/* Second-phase commands (expecting an empty reply) wait in their own
 * lists until plan_build puts them last: slots given a new address are
 * made ready, then servers are retired. */
static void
plan_add_later(struct plan_cmd **v, size_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	plan_push(v, n, "", fmt, ap);
	va_end(ap);
}

static void
plan_cmds_free(struct plan_cmd *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].cmd);
		free(v[i].expect);
	}
	free(v);
}

void
plan_free(struct plan *p)
{
	plan_cmds_free(p->v, p->n);
	plan_cmds_free(p->ready, p->nready);
	plan_cmds_free(p->retire, p->nretire);
	free(p->why);
	memset(p, 0, sizeof(*p));
}

bool
plan_backend_dynamic(char *const *defaults, char *const *listen_options,
    const char **why)
{
	if (hkw_last(defaults, listen_options, "default-server") != NULL) {
		*why = "a default-server line (dynamic servers do not inherit "
		    "it)";
		return false;
	}
	return hkw_balance_dynamic(defaults, listen_options, why);
}

static bool
plan_nullable_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A command goes out only if HAProxy's CLI reads it as one command of
 * the shape meant; if not (an option ending in "<<" would switch the CLI
 * to payload mode and stall the batch), the change is a reload. */
static void
plan_check(struct plan *p, const char *be, const struct plan_cmd *v,
    size_t from, size_t to)
{
	const char *why;

	for (size_t i = from; i < to; i++)
		if ((why = rt_cmd_unsafe(v[i].cmd)) != NULL)
			plan_reload(p, PLAN_UNSAFE, "service %s: a runtime "
			    "command would hold %s", be, why);
}

/* What HAProxy answers `set server B/S addr IP port P` with when it
 * moved the slot from where it was to IP:P: 2.6 says "IP changed from
 * 'X' to 'IP'" or "no need to change the addr", then ", port changed from
 * 'Y' to 'P'" or ", no need to change the port", then " by 'stats socket
 * command'"; 3.0 leaves out what did not change. Both print the new
 * address as inet_ntop does (2.6 as given: ip is given so). Any other
 * reply (Invalid addr, a family it cannot change) is a refusal. */
static char *
plan_addr_expect(const struct server *from, const char *ip, int port)
{
	bool ip_change = !server_host_same(from->host, ip);

	if (ip_change && from->port != port)
		return xasprintf("IP changed from '*' to '%s', port changed "
		    "from '*' to '%d' by 'stats socket command'", ip, port);
	if (ip_change)
		return xasprintf("IP changed from '*' to '%s'* by 'stats "
		    "socket command'", ip);
	return xasprintf("*port changed from '*' to '%d' by 'stats socket "
	    "command'", port);
}

/* A retired slot serves a new address (snapshot_carry): its new address
 * in the first phase; made ready, and its checks enabled, in the second,
 * once HAProxy said it took the address (a refused one must not bring
 * the slot up where it was, and 3.0 applies an address a moment after it
 * answers). A slot that served until this change (serving: its address
 * left as the new one came, in a change that replaces more servers than
 * haproxy.max_disabled_servers) only gets its new address: it is ready,
 * and its checks run. False if it cannot be done at runtime. */
static bool
plan_reuse(struct plan *p, const char *be, const struct server *ls,
    const struct server *ns, bool check, bool serving)
{
	char ip[64], *expect;

	if (!server_ip_canonical(ns->host, ip, sizeof(ip))) {
		plan_reload(p, PLAN_NOT_DYNAMIC, "service %s: retired server "
		    "%s would serve %s, a host name, which HAProxy resolves "
		    "only at start", be, ns->name, ns->host);
		return false;
	}
	expect = plan_addr_expect(ls, ip, ns->port);
	plan_add(p, expect, "set server %s/%s addr %s port %d", be, ns->name,
	    ip, ns->port);
	free(expect);
	if (serving)
		return true;
	plan_add_later(&p->ready, &p->nready, "set server %s/%s state ready",
	    be, ns->name);
	if (check)
		plan_add_later(&p->ready, &p->nready, "enable health %s/%s",
		    be, ns->name);
	return true;
}

/* New, returned and reweighted servers go in the first phase,
 * retirements in the second, sent only once every reply of the first was
 * right: HAProxy runs each command whatever became of the one before, so
 * a refused add would otherwise leave a backend with its only server in
 * maint. */
static void
plan_service(struct plan *p, const struct snapshot_service *l,
    const struct snapshot_service *n, const struct pm_config *cfg)
{
	const char *be = n->def->name, *why = NULL, *kw;
	char addr[300];
	bool dynamic = plan_backend_dynamic(cfg->defaults,
	    n->def->listen_options, &why);
	bool check = hkw_has_word(n->def->server_options, "check");
	bool fixed_weight = hkw_has_word(n->def->server_options, "weight");
	size_t ndisabled = 0, first = p->n, first_retire = p->nretire,
	    first_ready = p->nready;

	for (size_t i = 0; i < l->servers.n; i++)
		if (srvlist_find(&n->servers, l->servers.v[i].name) == NULL)
			plan_reload(p, PLAN_RETIRED, "service %s: retired "
			    "server %s dropped", be, l->servers.v[i].name);
	for (size_t i = 0; i < n->servers.n; i++) {
		const struct server *ns = &n->servers.v[i];
		const struct server *ls = srvlist_find(&l->servers, ns->name);
		/* The same slot (by name) at another address. */
		bool moved = ls != NULL && (ls->port != ns->port ||
		    !server_host_same(ls->host, ns->host));

		if (ns->disabled) {
			ndisabled++;
			if (ls == NULL)
				plan_reload(p, PLAN_DEFINITION, "service %s: "
				    "server %s is new and retired", be,
				    ns->name);
			else if (moved)
				plan_reload(p, PLAN_DEFINITION, "service %s: "
				    "retired server %s moved", be, ns->name);
			continue;
		}
		if (ls != NULL && ls->id != ns->id) {
			plan_reload(p, PLAN_DEFINITION, "service %s: server %s "
			    "changed its id", be, ns->name);
			continue;
		}
		if (ls == NULL) {
			if (!dynamic) {
				plan_reload(p, PLAN_NOT_DYNAMIC, "service %s: new "
				    "server %s, and the backend has %s", be,
				    ns->name, why);
				continue;
			}
			if (!val_ip(ns->host)) {
				plan_reload(p, PLAN_NOT_DYNAMIC, "service %s: new "
				    "server %s has a host name, which HAProxy "
				    "resolves only at start", be, ns->name);
				continue;
			}
			if ((kw = hkw_add_server_refused(
			    n->def->server_options)) != NULL) {
				plan_reload(p, PLAN_NOT_DYNAMIC, "service %s: new "
				    "server %s, and server_options has '%s', "
				    "which add server refuses", be, ns->name,
				    kw);
				continue;
			}
			struct sbuf sb;
			sbuf_init(&sb);
			if (ns->weight > 0)
				sbuf_printf(&sb, " weight %d", ns->weight);
			for (size_t k = 0; n->def->server_options[k] != NULL;
			    k++)
				sbuf_printf(&sb, " %s",
				    n->def->server_options[k]);
			plan_add(p, PLAN_ADDED, "add server %s/%s %s id %d%s",
			    be, ns->name, server_addr(ns, addr, sizeof(addr)),
			    ns->id, sb.buf ? sb.buf : "");
			sbuf_free(&sb);
			plan_add(p, "", "enable server %s/%s", be, ns->name);
			if (check)
				plan_add(p, "", "enable health %s/%s", be,
				    ns->name);
			p->servers_added++;
			continue;
		}
		if (moved) {
			if (!plan_reuse(p, be, ls, ns, check, !ls->disabled))
				continue;
			p->servers_added++;
			if (!ls->disabled)
				p->servers_retired++;	/* its old address */
		} else if (ls->disabled) {
			plan_add(p, "", "set server %s/%s state ready", be,
			    ns->name);
			p->servers_returned++;
		}
		/* A weight in server_options comes last on the line and
		 * wins over the discovered one: nothing to change then. */
		if (ls->weight != ns->weight && !fixed_weight) {
			const char *algo_why = NULL;
			/* A static algorithm takes only 0% and 100%. */
			if (!hkw_balance_dynamic(cfg->defaults,
			    n->def->listen_options, &algo_why)) {
				plan_reload(p, PLAN_NOT_DYNAMIC, "service %s: "
				    "weight of %s changed, and the backend has "
				    "%s", be, ns->name, algo_why);
				continue;
			}
			plan_add(p, "", "set weight %s/%s %d", be, ns->name,
			    ns->weight > 0 ? ns->weight : 1);
		}
	}
	for (size_t i = 0; i < n->servers.n; i++) {
		const struct server *ns = &n->servers.v[i];
		const struct server *ls = srvlist_find(&l->servers, ns->name);

		if (ns->disabled && ls != NULL && !ls->disabled) {
			plan_add_later(&p->retire, &p->nretire, "set server "
			    "%s/%s state maint", be, ns->name);
			p->servers_retired++;
		}
	}
	if (ndisabled > (size_t)cfg->max_disabled_servers)
		plan_reload(p, PLAN_RETIRED, "service %s: %zu retired servers, "
		    "more than haproxy.max_disabled_servers (%d)", be,
		    ndisabled, cfg->max_disabled_servers);
	plan_check(p, be, p->v, first, p->n);
	plan_check(p, be, p->ready, first_ready, p->nready);
	plan_check(p, be, p->retire, first_retire, p->nretire);
}

static void
plan_compare_def(struct plan *p, const struct snapshot_service *l,
    const struct snapshot_service *n)
{
	const struct service_def *a = l->def, *b = n->def;

	if (!snapshot_same_socket(l->listener, n->listener) ||
	    a->port != b->port ||
	    !plan_nullable_equal(a->bind_address, b->bind_address))
		plan_reload(p, PLAN_DEFINITION, "service %s: port or address "
		    "changed", b->name);
	else if (!strv_equal(a->listen_options, b->listen_options))
		plan_reload(p, PLAN_DEFINITION, "service %s: listen_options "
		    "changed", b->name);
	else if (!strv_equal(a->server_options, b->server_options))
		plan_reload(p, PLAN_DEFINITION, "service %s: server_options "
		    "changed", b->name);
}

/* What a hand-written haproxy.cfg brings: HAProxy reads it only at start.
 * The first difference found is the reason given. */
static void
plan_compare_wrapper(struct plan *p, const struct snapshot *next,
    unsigned diff)
{
	if (diff & SNAPSHOT_DIFF_NAMED)
		plan_reload(p, PLAN_SETTINGS, "named listeners changed");
	if (diff & SNAPSHOT_DIFF_USER)
		plan_reload(p, PLAN_SETTINGS, "%s changed",
		    next->user_config != NULL ? next->user_config :
		    "the hand-written haproxy.cfg");
	/* Or a watched file the snapshot does not hold (--watch). */
	if (diff & SNAPSHOT_DIFF_GENERATION)
		plan_reload(p, PLAN_SETTINGS, "SIGHUP or a watched path");
}

/* Move the commands of a list built aside to the end of p->v. */
static void
plan_append(struct plan *p, struct plan_cmd **v, size_t *n)
{
	if (*n == 0)
		return;
	p->v = xrealloc(p->v, (p->n + *n) * sizeof(*p->v));
	memcpy(&p->v[p->n], *v, *n * sizeof(*p->v));
	p->n += *n;
	free(*v);
	*v = NULL;
	*n = 0;
}

void
plan_build(struct plan *p, const struct snapshot *live,
    const struct snapshot *next)
{
	const struct pm_config *cfg = next->cfg;
	unsigned diff;

	memset(p, 0, sizeof(*p));
	p->reason = PLAN_RUNTIME;
	if (live == NULL) {
		plan_reload(p, PLAN_START, "start");
		return;
	}
	if (!cfg->runtime_api) {
		plan_reload(p, PLAN_FORCED, "haproxy.runtime_api is off");
		return;
	}
	diff = snapshot_diff(live, next);
	if (diff & SNAPSHOT_DIFF_SETTINGS)
		plan_reload(p, PLAN_SETTINGS, "haproxy settings changed");
	plan_compare_wrapper(p, next, diff);
	for (size_t i = 0, j = 0; i < live->n || j < next->n;) {
		int c = i == live->n ? 1 : j == next->n ? -1 :
		    strcmp(live->v[i]->def->name, next->v[j]->def->name);
		if (c < 0) {
			plan_reload(p, PLAN_SERVICES, "service %s removed",
			    live->v[i]->def->name);
			i++;
		} else if (c > 0) {
			plan_reload(p, PLAN_SERVICES, "service %s added",
			    next->v[j]->def->name);
			j++;
		} else {
			/* A shared entry runs as it is: only the services
			 * that changed cost anything. */
			if (live->v[i] != next->v[j]) {
				if (live->v[i]->child_fd != next->v[j]->child_fd)
					plan_reload(p, PLAN_SERVICES, "service %s "
					    "moved to another fd",
					    next->v[j]->def->name);
				plan_compare_def(p, live->v[i], next->v[j]);
				if (p->why == NULL)
					plan_service(p, live->v[i], next->v[j],
					    cfg);
			}
			i++;
			j++;
		}
	}
	if (p->why != NULL) {
		/* A reload: no command goes out. */
		char *why = p->why;
		enum plan_reason r = p->reason;
		p->why = NULL;
		plan_free(p);
		p->why = why;
		p->reason = r;
		return;
	}
	p->first_phase = p->n;
	plan_append(p, &p->ready, &p->nready);
	plan_append(p, &p->retire, &p->nretire);
}

static const struct snapshot_service *
plan_service_named(const struct snapshot *s, const char *name)
{
	return s != NULL ? snapshot_find(s, name) : NULL;
}

/* The servers a proxymgrd before us had retired ("disabled" in the
 * haproxy.cfg it wrote for the HAProxy we took over), as sorted
 * "BACKEND SERVER" strings, names of today. */
struct plan_retired {
	char	**v;
	size_t	  n;
};

static int
plan_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
plan_retired_read(struct plan_retired *r, const char *text)
{
	char *copy = xstrdup(text), *save = NULL, *line, *section = NULL;

	r->v = NULL;
	r->n = 0;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *w[3], *wsave = NULL, *tok, name[VAL_HOST_MAX + 8];
		size_t nw = 0;
		bool disabled = false;

		for (tok = strtok_r(line, " \t", &wsave); tok != NULL;
		    tok = strtok_r(NULL, " \t", &wsave)) {
			if (nw < 3)
				w[nw++] = tok;
			else if (strcmp(tok, "disabled") == 0)
				disabled = true;
		}
		if (nw >= 2 && (strcmp(w[0], "listen") == 0 ||
		    strcmp(w[0], "backend") == 0))
			section = w[1];
		if (nw < 3 || strcmp(w[0], "server") != 0 || !disabled ||
		    section == NULL)
			continue;
		if (!server_name_from_legacy(w[1], name, sizeof(name)))
			snprintf(name, sizeof(name), "%s", w[1]);
		r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
		r->v[r->n++] = xasprintf("%s %s", section, name);
	}
	free(copy);
	if (r->n > 0)
		qsort(r->v, r->n, sizeof(*r->v), plan_strcmp);
}

static bool
plan_retired_has(const struct plan_retired *r, const char *be,
    const char *srv)
{
	char *key = xasprintf("%s %s", be, srv);
	bool found = r->n > 0 && bsearch(&key, r->v, r->n, sizeof(*r->v),
	    plan_strcmp) != NULL;

	free(key);
	return found;
}

static void
plan_retired_free(struct plan_retired *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
}

/* One line of `show servers state` (version 1): fields split on spaces.
 * 1: be_name, 3: srv_name, 4: srv_addr, 6: srv_admin_state,
 * 7: srv_uweight, 18: srv_port (0-based). Returns the rewritten line, or
 * NULL to drop it. */
static char *
plan_state_line(char *line, const struct snapshot *live,
    const struct plan_retired *retired, const struct snapshot *next)
{
	char *f[64], *save = NULL, *tok, name[VAL_HOST_MAX + 8];
	size_t nf = 0;
	const struct snapshot_service *ne, *le;
	const struct server *ns, *ls;
	char *end;
	long admin;
	bool had, had_retired;
	struct sbuf sb;

	/* HAProxy writes none; a tab or other control byte would be read
	 * otherwise than split here (found by tests/fuzz/fuzz_stats). */
	for (const char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	for (tok = strtok_r(line, " ", &save); tok != NULL && nf < 64;
	    tok = strtok_r(NULL, " ", &save))
		f[nf++] = tok;
	if (nf < 19)
		return NULL;
	if ((ne = plan_service_named(next, f[1])) == NULL)
		return NULL;
	/* A line of a proxymgrd that named servers HOST_PORT keeps its
	 * server under the name of today: HAProxy matches lines by name. */
	if ((ns = srvlist_find(&ne->servers, f[3])) == NULL &&
	    server_name_from_legacy(f[3], name, sizeof(name)) &&
	    (ns = srvlist_find(&ne->servers, name)) != NULL)
		f[3] = name;
	if (ns == NULL)
		return NULL;
	/* The slot's address now: one given another since (a retired slot
	 * that serves a new address) starts from the config. */
	if (atoi(f[18]) != ns->port ||
	    (val_ip(ns->host) && !server_host_same(f[4], ns->host)))
		return NULL;
	admin = strtol(f[6], &end, 10);
	if (*end != '\0' || admin < 0)
		return NULL;
	if (live != NULL) {
		le = plan_service_named(live, f[1]);
		ls = le != NULL ? srvlist_find(&le->servers, f[3]) : NULL;
		had = ls != NULL;
		had_retired = ls != NULL && ls->disabled;
	} else {
		/* A HAProxy taken over: it ran what its haproxy.cfg says. */
		had = true;
		had_retired = plan_retired_has(retired, f[1], f[3]);
	}
	/* A server that comes back (or that proxymgrd never had running)
	 * starts afresh, as `set server ready` would have it: its line
	 * would bring back the maint's stopped state too, for good when
	 * it has no checks. */
	if (!ns->disabled && (!had || had_retired))
		return NULL;
	if (ns->disabled)
		admin |= SRV_ADMF_FMAINT;
	/* HAProxy takes the file's weight when the config's is the one the
	 * file started from: a weight set at runtime would come back over
	 * the config. Unless server_options fixes it, the weight is the one
	 * next renders. */
	bool set_weight = !hkw_has_word(ne->def->server_options, "weight");
	sbuf_init(&sb);
	for (size_t i = 0; i < nf; i++) {
		if (i > 0)
			sbuf_puts(&sb, " ");
		if (i == 6)
			sbuf_printf(&sb, "%ld", admin);
		else if (i == 7 && set_weight)
			sbuf_printf(&sb, "%d", ns->weight > 0 ? ns->weight : 1);
		else if (i == 4 && !val_ip(ns->host))
			/* A host name is resolved again, not taken from the
			 * address the old process had for it. */
			sbuf_puts(&sb, "-");
		else
			sbuf_puts(&sb, f[i]);
	}
	return sbuf_take(&sb);
}

char *
plan_state_file(const char *dump, const struct snapshot *live,
    const char *taken_cfg, const struct snapshot *next)
{
	struct sbuf out;
	char *copy = xstrdup(dump != NULL ? dump : ""), *save = NULL, *line;
	bool first = true;
	struct plan_retired retired;

	plan_retired_read(&retired, live == NULL && taken_cfg != NULL ?
	    taken_cfg : "");
	sbuf_init(&out);
	sbuf_puts(&out, "1\n");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			first = false;
			if (strcmp(line, "1") != 0)
				break;	/* not a version we know */
			continue;
		}
		if (line[0] == '#') {
			sbuf_printf(&out, "%s\n", line);
			continue;
		}
		char *l = live != NULL || taken_cfg != NULL ?
		    plan_state_line(line, live, &retired, next) : NULL;
		if (l != NULL) {
			sbuf_printf(&out, "%s\n", l);
			free(l);
		}
	}
	free(copy);
	plan_retired_free(&retired);
	return sbuf_take(&out);
}
