/* Unit tests for the planner (src/haproxy/planner.c) and the id and
 * retired-server bookkeeping it relies on (snapshot_carry): which changes
 * are runtime commands, with which expected replies, and which reload,
 * for which reason; and the server-state file handed to a new HAProxy. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/listener.h"
#include "haproxy/planner.h"
#include "pmconfig.h"
#include "server.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

#define RR	"\"listen_options\": [\"balance roundrobin\"]"
#define CHECK	"\"server_options\": [\"check inter 2000\"]"

struct svc {
	const char	*name;
	int		 port;
	const char	*extra;		/* more JSON keys, or NULL */
	const char	*servers;	/* "1.2.3.4:80 5.6.7.8:80" */
};

static struct pm_config *
config(const char *yml)
{
	struct pm_config *cfg = NULL;
	char *err = NULL;

	if (pmconfig_parse(yml, strlen(yml), "test.yml", &cfg, &err) != 0)
		fail_msg("config: %s", err);
	return cfg;
}

/* The next snapshot as model_snapshot builds it: desired servers, carried
 * from live. */
static struct snapshot *
build(struct pm_config *cfg, const struct snapshot *live, bool trim,
    const struct svc *svcs, size_t n)
{
	struct snapshot *s = snapshot_new(cfg);

	for (size_t i = 0; i < n; i++) {
		char *json = xasprintf("{\"type\": \"static\", \"port\": %d, "
		    "\"servers\": []%s%s}", svcs[i].port,
		    svcs[i].extra ? ", " : "", svcs[i].extra ? svcs[i].extra :
		    "");
		struct service_def *def = NULL;
		struct listener *l = NULL;
		struct server_list list;
		char *err = NULL, *copy, *tok, *save = NULL;

		if (svcdef_parse(svcs[i].name, json, strlen(json), "test",
		    &def, &err) != 0)
			fail_msg("%s: %s", json, err);
		free(json);
		srvlist_init(&list);
		copy = xstrdup(svcs[i].servers);
		for (tok = strtok_r(copy, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			char *colon = strrchr(tok, ':');
			int w = 0;
			char *at = strchr(tok, '@');
			if (at != NULL) {
				*at = '\0';
				w = atoi(at + 1);
			}
			*colon = '\0';
			srvlist_add_weighted(&list, tok, atoi(colon + 1), w);
		}
		free(copy);
		srvlist_finish(&list);
		l = listener_want("127.0.0.1", svcs[i].port);
		struct snapshot_service *e = snapshot_add(s, def, &list, l);
		snapshot_carry(e, snapshot_find(live, svcs[i].name), trim,
		    cfg->max_disabled_servers);
		listener_release(l);
		svcdef_unref(def);
		srvlist_free(&list);
	}
	snapshot_render(s);
	return s;
}

static const struct server *
srv(const struct snapshot *s, const char *svc, const char *name)
{
	const struct snapshot_service *e = snapshot_find(s, svc);

	assert_non_null(e);
	for (size_t i = 0; i < e->servers.n; i++)
		if (strcmp(e->servers.v[i].name, name) == 0)
			return &e->servers.v[i];
	return NULL;
}

static void
assert_cmds(const struct plan *p, const char *const *want)
{
	size_t n = 0;

	while (want[2 * n] != NULL)
		n++;
	if (p->why != NULL)
		fail_msg("reload planned: %s", p->why);
	for (size_t i = 0; i < n && i < p->n; i++) {
		assert_string_equal(p->v[i].cmd, want[2 * i]);
		assert_string_equal(p->v[i].expect, want[2 * i + 1]);
	}
	assert_int_equal(p->n, n);
}

static void
assert_reload(const struct plan *p, enum plan_reason r, const char *part)
{
	if (p->why == NULL)
		fail_msg("no reload planned (%zu commands)", p->n);
	if (strstr(p->why, part) == NULL)
		fail_msg("reload reason '%s' lacks '%s'", p->why, part);
	assert_int_equal(p->reason, r);
	assert_int_equal(p->n, 0);
}

static int
group_setup(void **state)
{
	(void)state;
	listener_set_placeholder(true);
	return 0;
}

/* ---- snapshot_carry: ids and retired servers ---- */

static void
test_carry_ids(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "web", 8000, RR, "10.0.0.2:80 10.0.0.1:80" };
	struct svc b = { "web", 8000, RR, "10.0.0.3:80 10.0.0.2:80" };
	struct svc c = { "web", 8000, RR,
	    "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80" };
	struct snapshot *s1, *s2, *s3;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	assert_int_equal(srv(s1, "web", "10.0.0.1:80")->id, 1);
	assert_int_equal(srv(s1, "web", "10.0.0.2:80")->id, 2);
	assert_non_null(strstr(s1->text, "server 10.0.0.1:80 10.0.0.1:80 id 1\n"));

	/* .1 leaves: kept, disabled, same id; .3 is new: id 3. */
	s2 = build(cfg, s1, false, &b, 1);
	assert_int_equal(snapshot_find(s2, "web")->servers.n, 3);
	assert_true(srv(s2, "web", "10.0.0.1:80")->disabled);
	assert_int_equal(srv(s2, "web", "10.0.0.1:80")->id, 1);
	assert_false(srv(s2, "web", "10.0.0.2:80")->disabled);
	assert_int_equal(srv(s2, "web", "10.0.0.2:80")->id, 2);
	assert_int_equal(srv(s2, "web", "10.0.0.3:80")->id, 3);
	assert_non_null(strstr(s2->text,
	    "server 10.0.0.1:80 10.0.0.1:80 id 1 disabled\n"));

	/* .1 comes back with its id; .4 gets 4, never a reused one. */
	s3 = build(cfg, s2, false, &c, 1);
	assert_false(srv(s3, "web", "10.0.0.1:80")->disabled);
	assert_int_equal(srv(s3, "web", "10.0.0.1:80")->id, 1);
	assert_int_equal(srv(s3, "web", "10.0.0.4:80")->id, 4);
	assert_int_equal(snapshot_find(s3, "web")->servers.n, 4);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	pmconfig_unref(cfg);
}

/* No servers, now and before (a DNS name never resolved): nothing to
 * sort, nothing to plan (UBSan once caught a qsort of NULL here). */
static void
test_carry_empty(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "dns", 8009, RR, "" };
	struct snapshot *s1, *s2;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &a, 1);
	assert_int_equal(snapshot_find(s2, "dns")->servers.n, 0);
	assert_true(snapshot_same(s1, s2));
	plan_build(&p, s1, s2);
	assert_null(p.why);
	assert_int_equal(p.n, 0);
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	pmconfig_unref(cfg);
}

/* Several servers retired at once are each kept once (a lookup among
 * the appended ones once let a wanted server in twice). */
static void
test_carry_many_retired(void **state)
{
	struct pm_config *cfg = config("haproxy:\n  max_disabled_servers: 4\n");
	struct svc a = { "web", 8000, RR,
	    "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80" };
	struct svc b = { "web", 8000, RR, "10.0.0.5:80" };
	struct svc c = { "web", 8000, RR, "10.0.0.4:80" };
	struct snapshot *s1, *s2, *s3, *s4;
	const struct snapshot_service *e;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	e = snapshot_find(s2, "web");
	assert_int_equal(e->servers.n, 5);
	assert_int_equal(snapshot_disabled_count(e), 4);
	for (size_t i = 1; i < e->servers.n; i++)
		assert_true(strcmp(e->servers.v[i - 1].name,
		    e->servers.v[i].name) < 0);
	s3 = build(cfg, s2, false, &c, 1);
	e = snapshot_find(s3, "web");
	assert_int_equal(e->servers.n, 5);
	assert_false(srv(s3, "web", "10.0.0.4:80")->disabled);
	assert_true(srv(s3, "web", "10.0.0.5:80")->disabled);
	/* A reload keeps max_disabled_servers/2 = 2, the latest retired:
	 * .5 (retired last), then one of the four retired together. */
	s4 = build(cfg, s3, true, &c, 1);
	e = snapshot_find(s4, "web");
	assert_int_equal(snapshot_disabled_count(e), 2);
	assert_non_null(srv(s4, "web", "10.0.0.5:80"));
	assert_false(srv(s4, "web", "10.0.0.4:80")->disabled);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
	pmconfig_unref(cfg);
}

/* ---- slots: a retired server serves a new address ---- */

/* A server of svc at host:port (whatever its slot's name), or NULL. */
static const struct server *
srv_at(const struct snapshot *s, const char *svc, const char *host, int port)
{
	const struct snapshot_service *e = snapshot_find(s, svc);

	assert_non_null(e);
	for (size_t i = 0; i < e->servers.n; i++)
		if (strcmp(e->servers.v[i].host, host) == 0 &&
		    e->servers.v[i].port == port)
			return &e->servers.v[i];
	return NULL;
}

/* A new port takes the retired slot, with its name and id: its address
 * changes in the first phase, it comes up in the second (with its
 * checks), before the retirements. */
static void
test_slot_reuse(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "web", 8000, RR ", " CHECK,
	    "10.0.0.1:80 10.0.0.1:81 10.0.0.1:83" };
	struct svc b = { "web", 8000, RR ", " CHECK, "10.0.0.1:80 10.0.0.1:83" };
	struct svc c = { "web", 8000, RR ", " CHECK, "10.0.0.1:80 10.0.0.1:82" };
	struct snapshot *s1, *s2, *s3;
	const struct server *sv;
	struct plan p;
	static const char *const want[] = {
		"set server web/10.0.0.1:81 addr 10.0.0.1 port 82",
		    "*port changed from '*' to '82' by 'stats socket command'",
		"set server web/10.0.0.1:81 state ready", "",
		"enable health web/10.0.0.1:81", "",
		"set server web/10.0.0.1:83 state maint", "",
		NULL,
	};

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	s3 = build(cfg, s2, false, &c, 1);
	sv = srv_at(s3, "web", "10.0.0.1", 82);
	assert_non_null(sv);
	assert_string_equal(sv->name, "10.0.0.1:81");
	assert_int_equal(sv->id, 2);
	assert_false(sv->disabled);
	assert_true(srv(s3, "web", "10.0.0.1:83")->disabled);
	assert_int_equal(snapshot_find(s3, "web")->servers.n, 3);
	assert_non_null(strstr(s3->text,
	    "server 10.0.0.1:81 10.0.0.1:82 id 2 check inter 2000\n"));
	plan_build(&p, s2, s3);
	assert_cmds(&p, want);
	assert_int_equal(p.first_phase, 1);
	assert_int_equal(p.servers_added, 1);
	assert_int_equal(p.servers_retired, 1);
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	pmconfig_unref(cfg);
}

/* A change that replaces more servers than max_disabled_servers allows
 * to retire (a host file rewritten) moves just enough of the leaving
 * slots to the new addresses: no reload, and the retired ones stay at the
 * bound. An everyday change retires and adds (test_plan_runtime). */
static void
test_slot_move_in_burst(void **state)
{
	struct pm_config *cfg = config("haproxy:\n  max_disabled_servers: 2\n");
	struct svc a = { "web", 8000, RR,
	    "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80 10.0.0.5:80" };
	struct svc b = { "web", 8000, RR,
	    "10.0.0.1:80 10.0.1.2:80 10.0.1.3:80 10.0.1.4:80 10.0.1.5:80" };
	struct snapshot *s1, *s2;
	size_t moved = 0, added = 0, retired = 0;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_null(p.why);
	for (size_t i = 0; i < p.n; i++) {
		if (strstr(p.v[i].cmd, " addr 10.0.1.") != NULL)
			moved++;
		else if (strncmp(p.v[i].cmd, "add server ", 11) == 0)
			added++;
		else if (strstr(p.v[i].cmd, " state maint") != NULL)
			retired++;
		else if (strstr(p.v[i].cmd, " state ready") != NULL)
			fail_msg("a moved slot serves already: %s", p.v[i].cmd);
	}
	/* 4 leave: 2 may stay retired, so 2 slots move and 2 are added. */
	assert_int_equal(moved, 2);
	assert_int_equal(added, 2);
	assert_int_equal(retired, 2);
	assert_int_equal(snapshot_disabled_count(snapshot_find(s2, "web")), 2);
	assert_int_equal(p.servers_added, 4);
	assert_int_equal(p.servers_retired, 4);
	for (int k = 2; k <= 5; k++) {
		const struct server *sv;
		char host[32];
		snprintf(host, sizeof(host), "10.0.1.%d", k);
		sv = srv_at(s2, "web", host, 80);
		assert_non_null(sv);
		assert_false(sv->disabled);
	}
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	pmconfig_unref(cfg);
}

/* Of several retired slots, the one retired longest ago; a new IP (the
 * same port) says so in its expected reply. A host name takes no slot. */
static void
test_slot_reuse_oldest(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "w", 8001, RR, "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" };
	struct svc b = { "w", 8001, RR, "10.0.0.1:80 10.0.0.3:80" };
	struct svc c = { "w", 8001, RR, "10.0.0.1:80" };
	struct svc d = { "w", 8001, RR, "10.0.0.1:80 10.0.0.9:80" };
	struct svc e = { "w", 8001, RR,
	    "10.0.0.1:80 10.0.0.9:80 db.example:80" };
	struct snapshot *s1, *s2, *s3, *s4, *s5;
	struct plan p;
	static const char *const want[] = {
		"set server w/10.0.0.2:80 addr 10.0.0.9 port 80",
		    "IP changed from '*' to '10.0.0.9'* by 'stats socket "
		    "command'",
		"set server w/10.0.0.2:80 state ready", "",
		NULL,
	};

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);	/* .2 retired */
	s3 = build(cfg, s2, false, &c, 1);	/* .3 retired after it */
	s4 = build(cfg, s3, false, &d, 1);
	assert_string_equal(srv_at(s4, "w", "10.0.0.9", 80)->name,
	    "10.0.0.2:80");
	assert_int_equal(srv_at(s4, "w", "10.0.0.9", 80)->id, 2);
	assert_true(srv(s4, "w", "10.0.0.3:80")->disabled);
	plan_build(&p, s3, s4);
	assert_cmds(&p, want);
	plan_free(&p);
	/* A host name: a new slot of its own, which needs a reload; the
	 * retired slot stays retired where it is. */
	s5 = build(cfg, s4, false, &e, 1);
	assert_string_equal(srv_at(s5, "w", "db.example", 80)->name,
	    "db.example:80");
	assert_int_equal(srv_at(s5, "w", "db.example", 80)->id, 4);
	assert_true(srv(s5, "w", "10.0.0.3:80")->disabled);
	assert_string_equal(srv(s5, "w", "10.0.0.3:80")->host, "10.0.0.3");
	plan_build(&p, s4, s5);
	assert_reload(&p, PLAN_NOT_DYNAMIC, "host name");
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
	snapshot_free(s5);
	pmconfig_unref(cfg);
}

/* No add server: a backend that refuses dynamic servers (balance source)
 * or whose server_options add server refuses takes a new address into a
 * retired slot at runtime too. An IPv6 address goes as inet_ntop writes
 * it, as HAProxy prints it back. */
static void
test_slot_reuse_static(void **state)
{
	struct pm_config *cfg = config("");
	const char *extra = "\"listen_options\": [\"balance source\"], "
	    "\"server_options\": [\"cookie c1\"]";
	struct svc a = { "s", 8003, extra, "2001:db8::1:80 2001:db8::2:80" };
	struct svc b = { "s", 8003, extra, "2001:db8::1:80" };
	struct svc c = { "s", 8003, extra, "2001:db8::1:80 2001:db8:0::9:80" };
	struct snapshot *s1, *s2, *s3;
	struct plan p;
	static const char *const want[] = {
		"set server s/2001:db8::2:80 addr 2001:db8::9 port 80",
		    "IP changed from '*' to '2001:db8::9'* by 'stats socket "
		    "command'",
		"set server s/2001:db8::2:80 state ready", "",
		NULL,
	};

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	s3 = build(cfg, s2, false, &c, 1);
	plan_build(&p, s2, s3);
	assert_cmds(&p, want);
	plan_free(&p);
	assert_non_null(strstr(s3->text, "server 2001:db8::2:80 "
	    "[2001:db8:0::9]:80 id 2 cookie c1\n"));
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	pmconfig_unref(cfg);
}

/* An address comes back after its slot went to another one: a new slot,
 * HOST:PORT-2 (HAProxy refuses '~' in a name), the smallest free; names
 * and ids stay through a reload, which also keeps the reused slot. */
static void
test_slot_names(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "w", 8002, RR, "10.0.0.1:80 10.0.0.1:81" };
	struct svc b = { "w", 8002, RR, "10.0.0.1:81" };
	struct svc c = { "w", 8002, RR, "10.0.0.1:81 10.0.0.1:82" };
	struct svc d = { "w", 8002, RR, "10.0.0.1:80 10.0.0.1:81 10.0.0.1:82" };
	struct snapshot *s1, *s2, *s3, *s4, *s5;
	struct plan p;
	static const char *const want[] = {
		"add server w/10.0.0.1:80-2 10.0.0.1:80 id 3",
		    "New server registered.",
		"enable server w/10.0.0.1:80-2", "",
		NULL,
	};
	const char *lines = "    server 10.0.0.1:80 10.0.0.1:82 id 1\n"
	    "    server 10.0.0.1:80-2 10.0.0.1:80 id 3\n"
	    "    server 10.0.0.1:81 10.0.0.1:81 id 2\n";

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	s3 = build(cfg, s2, false, &c, 1);
	assert_string_equal(srv_at(s3, "w", "10.0.0.1", 82)->name,
	    "10.0.0.1:80");
	s4 = build(cfg, s3, false, &d, 1);
	assert_string_equal(srv_at(s4, "w", "10.0.0.1", 80)->name,
	    "10.0.0.1:80-2");
	assert_int_equal(srv_at(s4, "w", "10.0.0.1", 80)->id, 3);
	assert_non_null(strstr(s4->text, lines));
	plan_build(&p, s3, s4);
	assert_cmds(&p, want);
	plan_free(&p);
	/* A reload (trim) builds the same slots. */
	s5 = build(cfg, s4, true, &d, 1);
	assert_true(snapshot_same(s4, s5));
	assert_non_null(strstr(s5->text, lines));
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
	snapshot_free(s5);
	pmconfig_unref(cfg);
}

/* ---- snapshot_diff: one definition of what a HAProxy runs ---- */

static void
test_snapshot_diff(void **state)
{
	struct pm_config *cfg = config("");
	struct pm_config *cfg2 = config("haproxy:\n  global: [\"maxconn 10\"]\n");
	struct svc one[] = { { "a", 8003, RR, "10.0.0.1:80" } };
	struct svc two[] = { { "a", 8003, RR, "10.0.0.1:80" },
	    { "b", 8004, RR, "10.0.0.1:80" } };
	struct svc more[] = { { "a", 8003, RR, "10.0.0.1:80 10.0.0.2:80" } };
	struct svc port[] = { { "a", 8005, RR, "10.0.0.1:80" } };
	struct snapshot *s1, *s;
	struct listener *l;

	(void)state;
	s1 = build(cfg, NULL, false, one, 1);
	s = build(cfg, s1, false, one, 1);
	assert_int_equal(snapshot_diff(s1, s), 0);
	assert_true(snapshot_same(s1, s));
	assert_true(snapshot_fingerprint(s1) == snapshot_fingerprint(s));
	/* SIGHUP: a reload, though the same runs. */
	s->generation++;
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_GENERATION);
	assert_false(snapshot_same(s1, s));
	assert_true(snapshot_fingerprint(s1) == snapshot_fingerprint(s));
	/* A hand-written config: its path and text; unreadable, never the
	 * same. */
	s->generation = s1->generation;
	s->user_config = xstrdup("/etc/user.cfg");
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_USER);
	assert_true(snapshot_fingerprint(s1) != snapshot_fingerprint(s));
	s1->user_config = xstrdup("/etc/user.cfg");
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_USER);
	s1->user_text = xstrdup("frontend x\n");
	s->user_text = xstrdup("frontend x\n");
	assert_int_equal(snapshot_diff(s1, s), 0);
	assert_true(snapshot_fingerprint(s1) == snapshot_fingerprint(s));
	free(s->user_text);
	s->user_text = xstrdup("frontend y\n");
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_USER);
	assert_true(snapshot_fingerprint(s1) != snapshot_fingerprint(s));
	snapshot_free(s);

	/* "bind fd@3" reads the same on another port: the socket differs. */
	s = build(cfg, s1, false, port, 1);
	s->user_config = xstrdup(s1->user_config);
	s->user_text = xstrdup(s1->user_text);
	assert_string_equal(s->text, s1->text);
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_SOCKETS);
	assert_true(snapshot_fingerprint(s1) != snapshot_fingerprint(s));
	snapshot_free(s);

	s = build(cfg, s1, false, two, 2);
	s->user_config = xstrdup(s1->user_config);
	s->user_text = xstrdup(s1->user_text);
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_SECTIONS |
	    SNAPSHOT_DIFF_SOCKETS);
	assert_int_equal(snapshot_diff(s, s1), SNAPSHOT_DIFF_SECTIONS |
	    SNAPSHOT_DIFF_SOCKETS);
	/* A named listener. */
	l = listener_want("127.0.0.1", 8009);
	snapshot_add_named(s, "app", l);
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_SECTIONS |
	    SNAPSHOT_DIFF_SOCKETS | SNAPSHOT_DIFF_NAMED);
	listener_release(l);
	snapshot_free(s);

	s = build(cfg, s1, false, more, 1);
	s->user_config = xstrdup(s1->user_config);
	s->user_text = xstrdup(s1->user_text);
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_SECTIONS);
	snapshot_free(s);

	s = build(cfg2, s1, false, one, 1);
	s->user_config = xstrdup(s1->user_config);
	s->user_text = xstrdup(s1->user_text);
	assert_int_equal(snapshot_diff(s1, s), SNAPSHOT_DIFF_SETTINGS);
	assert_true(snapshot_fingerprint(s1) != snapshot_fingerprint(s));
	snapshot_free(s);

	assert_int_equal(snapshot_diff(NULL, s1), SNAPSHOT_DIFF_ALL);
	assert_false(snapshot_same(NULL, NULL));
	snapshot_free(s1);
	pmconfig_unref(cfg);
	pmconfig_unref(cfg2);
}

/* ---- plan_build: runtime commands ---- */

static void
test_plan_runtime(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "web", 8000, RR ", " CHECK, "10.0.0.1:80 10.0.0.2:80" };
	struct svc b = { "web", 8000, RR ", " CHECK, "10.0.0.2:80 10.0.0.3:80@5" };
	struct svc c = { "web", 8000, RR ", " CHECK,
	    "10.0.0.1:80 10.0.0.2:80@7 10.0.0.3:80@5" };
	struct snapshot *s1, *s2, *s3;
	struct plan p;
	static const char *const want2[] = {
		"add server web/10.0.0.3:80 10.0.0.3:80 id 3 weight 5 "
		    "check inter 2000", "New server registered.",
		"enable server web/10.0.0.3:80", "",
		"enable health web/10.0.0.3:80", "",
		"set server web/10.0.0.1:80 state maint", "",
		NULL,
	};
	static const char *const want3[] = {
		"set server web/10.0.0.1:80 state ready", "",
		"set weight web/10.0.0.2:80 7", "",
		NULL,
	};

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_cmds(&p, want2);
	assert_int_equal(p.servers_added, 1);
	assert_int_equal(p.servers_retired, 1);
	assert_int_equal(p.reason, PLAN_RUNTIME);
	plan_free(&p);

	s3 = build(cfg, s2, false, &c, 1);
	plan_build(&p, s2, s3);
	assert_cmds(&p, want3);
	assert_int_equal(p.servers_returned, 1);
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	pmconfig_unref(cfg);
}

/* A weight in server_options wins over the discovered one (it comes
 * last on the server line): a changed SRV weight changes nothing. */
static void
test_plan_fixed_weight(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "w", 8008, RR ", \"server_options\": [\"weight 10\"]",
	    "10.0.0.1:80@5" };
	struct svc b = { "w", 8008, RR ", \"server_options\": [\"weight 10\"]",
	    "10.0.0.1:80@7" };
	struct snapshot *s1, *s2;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_null(p.why);
	assert_int_equal(p.n, 0);
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	pmconfig_unref(cfg);
}

/* balance source: servers leave and return at runtime, but a new one
 * needs a reload; with hash-type consistent it does not. */
static void
test_plan_not_dynamic(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "s", 8001, "\"listen_options\": [\"balance source\"]",
	    "10.0.0.1:80 10.0.0.2:80" };
	struct svc b = { "s", 8001, "\"listen_options\": [\"balance source\"]",
	    "10.0.0.2:80" };
	struct svc c = { "s", 8001, "\"listen_options\": [\"balance source\"]",
	    "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" };
	struct svc d = { "s", 8001, "\"listen_options\": [\"balance source\", "
	    "\"hash-type consistent\"]", "10.0.0.1:80 10.0.0.2:80" };
	struct svc e = { "s", 8001, "\"listen_options\": [\"balance source\", "
	    "\"hash-type consistent\"]", "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" };
	struct snapshot *s1, *s2, *s3, *s4, *s5;
	struct plan p;
	static const char *const want[] = {
		"set server s/10.0.0.1:80 state maint", "", NULL };

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_cmds(&p, want);
	plan_free(&p);
	s3 = build(cfg, s1, false, &c, 1);
	plan_build(&p, s1, s3);
	assert_reload(&p, PLAN_NOT_DYNAMIC, "balance algorithm");
	plan_free(&p);
	s4 = build(cfg, NULL, false, &d, 1);
	s5 = build(cfg, s4, false, &e, 1);
	plan_build(&p, s4, s5);
	assert_null(p.why);
	assert_int_equal(p.n, 2);
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
	snapshot_free(s5);
	pmconfig_unref(cfg);
}

static void
test_plan_hostname(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "w", 8002, RR, "10.0.0.1:80" };
	struct svc b = { "w", 8002, RR, "10.0.0.1:80 backend.example:80" };
	struct snapshot *s1, *s2;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_reload(&p, PLAN_NOT_DYNAMIC, "host name");
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	pmconfig_unref(cfg);
}

static void
test_plan_reloads(void **state)
{
	struct pm_config *cfg = config("");
	struct pm_config *cfg2 = config("haproxy:\n  global: [\"maxconn 10\"]\n");
	struct pm_config *off = config("haproxy:\n  runtime_api: false\n");
	struct svc one[] = { { "a", 8003, RR, "10.0.0.1:80" } };
	struct svc two[] = { { "a", 8003, RR, "10.0.0.1:80" },
	    { "b", 8004, RR, "10.0.0.1:80" } };
	struct svc port[] = { { "a", 8005, RR, "10.0.0.1:80" } };
	struct svc lo[] = { { "a", 8003, "\"listen_options\": [\"balance "
	    "leastconn\"]", "10.0.0.1:80" } };
	struct svc so[] = { { "a", 8003, RR ", " CHECK, "10.0.0.1:80" } };
	struct svc more[] = { { "a", 8003, RR, "10.0.0.1:80 10.0.0.2:80" } };
	struct snapshot *s1, *s;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, one, 1);
	plan_build(&p, NULL, s1);
	assert_reload(&p, PLAN_START, "start");
	plan_free(&p);

	s = build(cfg, s1, false, two, 2);
	plan_build(&p, s1, s);
	assert_reload(&p, PLAN_SERVICES, "service b added");
	plan_free(&p);
	plan_build(&p, s, s1);
	assert_reload(&p, PLAN_SERVICES, "service b removed");
	plan_free(&p);
	snapshot_free(s);

	s = build(cfg, s1, false, port, 1);
	plan_build(&p, s1, s);
	assert_reload(&p, PLAN_DEFINITION, "port");
	plan_free(&p);
	snapshot_free(s);

	s = build(cfg, s1, false, lo, 1);
	plan_build(&p, s1, s);
	assert_reload(&p, PLAN_DEFINITION, "listen_options");
	plan_free(&p);
	snapshot_free(s);

	s = build(cfg, s1, false, so, 1);
	plan_build(&p, s1, s);
	assert_reload(&p, PLAN_DEFINITION, "server_options");
	plan_free(&p);
	snapshot_free(s);

	s = build(cfg2, s1, false, one, 1);
	plan_build(&p, s1, s);
	assert_reload(&p, PLAN_SETTINGS, "settings");
	plan_free(&p);
	snapshot_free(s);

	s = build(off, s1, false, more, 1);
	plan_build(&p, s1, s);
	assert_reload(&p, PLAN_FORCED, "runtime_api");
	plan_free(&p);
	snapshot_free(s);

	snapshot_free(s1);
	pmconfig_unref(cfg);
	pmconfig_unref(cfg2);
	pmconfig_unref(off);
}

/* Past max_disabled_servers retired servers in a backend: reload. */
static void
test_plan_retired_bound(void **state)
{
	struct pm_config *cfg = config("haproxy:\n  max_disabled_servers: 1\n");
	struct svc a = { "w", 8006, RR, "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" };
	struct svc b = { "w", 8006, RR, "10.0.0.2:80 10.0.0.3:80" };
	struct svc c = { "w", 8006, RR, "10.0.0.3:80" };
	struct snapshot *s1, *s2, *s3;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_null(p.why);
	plan_free(&p);
	s3 = build(cfg, s2, false, &c, 1);
	plan_build(&p, s2, s3);
	assert_reload(&p, PLAN_RETIRED, "max_disabled_servers");
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	pmconfig_unref(cfg);
}

static void
test_backend_dynamic(void **state)
{
	char *none[] = { NULL };
	char *rr[] = { "balance roundrobin", NULL };
	char *src[] = { "balance source", NULL };
	char *srcc[] = { "balance source", "hash-type consistent sdbm", NULL };
	char *hdr[] = { "balance hdr(host)", NULL };
	char *rnd[] = { "balance random(2)", NULL };
	char *srr[] = { "balance static-rr", NULL };
	char *ds[] = { "default-server inter 1s", NULL };
	char *both[] = { "balance source", "balance leastconn", NULL };
	const char *why = NULL;

	(void)state;
	assert_true(plan_backend_dynamic(none, none, &why));
	assert_true(plan_backend_dynamic(none, rr, &why));
	assert_false(plan_backend_dynamic(none, src, &why));
	assert_true(plan_backend_dynamic(none, srcc, &why));
	assert_false(plan_backend_dynamic(none, hdr, &why));
	assert_true(plan_backend_dynamic(none, rnd, &why));
	assert_false(plan_backend_dynamic(none, srr, &why));
	assert_false(plan_backend_dynamic(none, ds, &why));
	assert_non_null(strstr(why, "default-server"));
	assert_false(plan_backend_dynamic(ds, rr, &why));
	/* defaults apply unless the section says otherwise */
	assert_false(plan_backend_dynamic(src, none, &why));
	assert_true(plan_backend_dynamic(src, rr, &why));
	assert_true(plan_backend_dynamic(none, both, &why));
}

/* ---- the server-state file ---- */

#define HDR "# be_id be_name srv_id srv_name srv_addr srv_op_state " \
	"srv_admin_state srv_uweight srv_iweight srv_time_since_last_change " \
	"srv_check_status srv_check_result srv_check_health srv_check_state " \
	"srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port " \
	"srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr " \
	"srv_agent_port\n"
#define LINE(srv, addr, admin, port) "3 w " srv " " addr " 2 " admin \
	" 1 1 5 6 3 4 6 0 0 1 - " port " - 0 0 - - 0\n"

static void
test_state_file(void **state)
{
	struct pm_config *cfg = config("");
	/* live: .1 up, .2 retired (disabled), .3 up, .4 up */
	struct svc l0 = { "w", 8007, RR,
	    "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80" };
	struct svc l1 = { "w", 8007, RR, "10.0.0.1:80 10.0.0.3:80 10.0.0.4:80" };
	/* next: .1 up, .2 back, .3 and .4 retired, .5 new */
	struct svc n1 = { "w", 8007, RR, "10.0.0.1:80 10.0.0.2:80 10.0.0.5:80" };
	struct snapshot *s0, *live, *next;
	char *out;
	const char *dump = "1\n" HDR
	    LINE("1 10.0.0.1:80", "10.0.0.1", "1", "80")	/* operator maint */
	    LINE("2 10.0.0.2:80", "10.0.0.2", "5", "80")	/* retired by us */
	    LINE("3 10.0.0.3:80", "10.0.0.3", "0", "80")	/* retired now */
	    LINE("4 10.0.0.4:80", "10.0.0.4", "0", "81")	/* port differs */
	    LINE("9 gone_80", "10.0.0.9", "0", "80")		/* not in next */
	    "3 other 1 x 10.0.0.1 2 0 1 1 5 6 3 4 6 0 0 1 - 80 - 0 0 - - 0\n";

	(void)state;
	s0 = build(cfg, NULL, false, &l0, 1);
	live = build(cfg, s0, false, &l1, 1);
	next = build(cfg, live, false, &n1, 1);
	out = plan_state_file(dump, live, NULL, next);
	/* .1 as it was (an operator's maint), .2 (back) starts afresh, .3
	 * (retired now) gets the maint flag, .4 (port) and the rest go. */
	assert_string_equal(out, "1\n" HDR
	    LINE("1 10.0.0.1:80", "10.0.0.1", "1", "80")
	    LINE("3 10.0.0.3:80", "10.0.0.3", "1", "80"));
	free(out);
	out = plan_state_file("2\nwhatever\n", live, NULL, next);
	assert_string_equal(out, "1\n");
	free(out);
	out = plan_state_file(NULL, live, NULL, next);
	assert_string_equal(out, "1\n");
	free(out);
	snapshot_free(s0);
	snapshot_free(live);
	snapshot_free(next);
	pmconfig_unref(cfg);
}

/* The state file follows a slot's address: a slot given its new
 * address at runtime keeps its line (HAProxy's dump has the new one);
 * one given it by this very reload starts from the config. */
static void
test_state_file_reused_slot(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "w", 8007, RR, "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80" };
	struct svc b = { "w", 8007, RR, "10.0.0.1:80 10.0.0.3:80" };
	struct svc c = { "w", 8007, RR, "10.0.0.1:80 10.0.0.3:90" };
	struct svc d = { "w", 8007, RR, "10.0.0.1:80 10.0.0.5:80" };
	struct snapshot *s1, *s2, *s3, *s4, *s5;
	char *out;
	/* After s3 went live at runtime: the slot 10.0.0.2:80 serves
	 * 10.0.0.3:90, the slot 10.0.0.3:80 is retired. */
	const char *dump = "1\n" HDR
	    LINE("1 10.0.0.1:80", "10.0.0.1", "0", "80")
	    LINE("2 10.0.0.2:80", "10.0.0.3", "0", "90")
	    LINE("3 10.0.0.3:80", "10.0.0.3", "1", "80");

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	s3 = build(cfg, s2, false, &c, 1);
	assert_string_equal(srv_at(s3, "w", "10.0.0.3", 90)->name,
	    "10.0.0.2:80");
	/* A reload of s3 as it is: every line stays (the retired one with
	 * its maint flag). */
	s4 = build(cfg, s3, true, &c, 1);
	out = plan_state_file(dump, s3, NULL, s4);
	assert_string_equal(out, dump);
	free(out);
	/* A reload that moves the retired slot 10.0.0.3:80 to 10.0.0.5:80:
	 * its line names the old address and goes. */
	s5 = build(cfg, s3, true, &d, 1);
	assert_string_equal(srv_at(s5, "w", "10.0.0.5", 80)->name,
	    "10.0.0.3:80");
	assert_int_equal(srv_at(s5, "w", "10.0.0.5", 80)->id, 3);
	out = plan_state_file(dump, s3, NULL, s5);
	assert_string_equal(out, "1\n" HDR
	    LINE("1 10.0.0.1:80", "10.0.0.1", "0", "80")
	    LINE("2 10.0.0.2:80", "10.0.0.3", "1", "90"));
	free(out);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
	snapshot_free(s5);
	pmconfig_unref(cfg);
}

/* After an upgrade from a proxymgrd that named servers HOST_PORT: the
 * lines of the running HAProxy are renamed, with a live snapshot (a
 * reload) and without one (the HAProxy taken over, whose haproxy.cfg
 * says which servers were retired). */
static void
test_state_file_legacy_names(void **state)
{
	struct pm_config *cfg = config("");
	struct svc n = { "w", 8007, RR, "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 "
	    "::1:80" };
	struct snapshot *next;
	char *out;
	const char *dump = "1\n" HDR
	    LINE("1 10.0.0.1_80", "10.0.0.1", "1", "80")	/* operator maint */
	    LINE("2 10.0.0.2_80", "10.0.0.2", "1", "80")	/* retired, back */
	    LINE("3 10.0.0.3_80", "10.0.0.3", "0", "80")
	    LINE("4 ::1_80", "::1", "1", "80")
	    LINE("5 10.0.0.1_8x", "10.0.0.1", "1", "80");
	const char *taken =
	    "global\n    stats socket /x\nlisten w\n    bind fd@3\n"
	    "    server 10.0.0.1_80 10.0.0.1:80 id 1\n"
	    "    server 10.0.0.2_80 10.0.0.2:80 id 2 check disabled\n"
	    "    server 10.0.0.3_80 10.0.0.3:80 id 3\n"
	    "    server ::1_80 [::1]:80 id 4\n";

	(void)state;
	next = build(cfg, NULL, false, &n, 1);
	assert_non_null(strstr(next->text, "server 10.0.0.1:80 10.0.0.1:80 id"));
	assert_non_null(strstr(next->text, "server ::1:80 [::1]:80 id"));
	out = plan_state_file(dump, NULL, taken, next);
	assert_string_equal(out, "1\n" HDR
	    LINE("1 10.0.0.1:80", "10.0.0.1", "1", "80")
	    LINE("3 10.0.0.3:80", "10.0.0.3", "0", "80")
	    LINE("4 ::1:80", "::1", "1", "80"));
	free(out);
	/* With a live snapshot of its own (names of today). */
	out = plan_state_file(dump, next, NULL, next);
	assert_string_equal(out, "1\n" HDR
	    LINE("1 10.0.0.1:80", "10.0.0.1", "1", "80")
	    LINE("2 10.0.0.2:80", "10.0.0.2", "1", "80")
	    LINE("3 10.0.0.3:80", "10.0.0.3", "0", "80")
	    LINE("4 ::1:80", "::1", "1", "80"));
	free(out);
	/* Neither: nothing is known of what ran. */
	out = plan_state_file(dump, NULL, NULL, next);
	assert_string_equal(out, "1\n" HDR);
	free(out);
	snapshot_free(next);
	pmconfig_unref(cfg);
}

static void
test_legacy_name(void **state)
{
	char b[64];

	(void)state;
	assert_true(server_name_from_legacy("10.0.0.1_80", b, sizeof(b)));
	assert_string_equal(b, "10.0.0.1:80");
	assert_true(server_name_from_legacy("2001:db8::7_5432", b, sizeof(b)));
	assert_string_equal(b, "2001:db8::7:5432");
	assert_true(server_name_from_legacy("web.example_65535", b, sizeof(b)));
	assert_string_equal(b, "web.example:65535");
	assert_false(server_name_from_legacy("10.0.0.1:80", b, sizeof(b)));
	assert_false(server_name_from_legacy("a_b_80", b, sizeof(b)));
	assert_false(server_name_from_legacy("_80", b, sizeof(b)));
	assert_false(server_name_from_legacy("a_080", b, sizeof(b)));
	assert_false(server_name_from_legacy("a_65536", b, sizeof(b)));
	assert_false(server_name_from_legacy("a_80x", b, sizeof(b)));
	assert_false(server_name_from_legacy("a_", b, sizeof(b)));
	assert_false(server_name_from_legacy("web.example_80", b, 8));
}

/* Retirements go in a second phase, after every service's adds: HAProxy
 * runs each command whatever became of the one before. */
static void
test_plan_two_phases(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a[] = { { "a", 8010, RR, "10.0.0.1:80" },
	    { "b", 8011, RR, "10.0.0.5:80" } };
	struct svc b[] = { { "a", 8010, RR, "10.0.0.3:80" },
	    { "b", 8011, RR, "10.0.0.6:80" } };
	struct snapshot *s1, *s2;
	struct plan p;
	static const char *const want[] = {
		"add server a/10.0.0.3:80 10.0.0.3:80 id 2",
		    "New server registered.",
		"enable server a/10.0.0.3:80", "",
		"add server b/10.0.0.6:80 10.0.0.6:80 id 2",
		    "New server registered.",
		"enable server b/10.0.0.6:80", "",
		"set server a/10.0.0.1:80 state maint", "",
		"set server b/10.0.0.5:80 state maint", "",
		NULL,
	};

	(void)state;
	s1 = build(cfg, NULL, false, a, 2);
	s2 = build(cfg, s1, false, b, 2);
	plan_build(&p, s1, s2);
	assert_cmds(&p, want);
	assert_int_equal(p.first_phase, 4);
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	pmconfig_unref(cfg);
}

/* Keywords `add server` refuses on 2.6.12, and weights in a backend whose
 * algorithm takes only 0% and 100%: a reload instead. */
static void
test_plan_refused_by_haproxy(void **state)
{
	struct pm_config *cfg = config("");
	struct svc a = { "c", 8012, "\"listen_options\": [\"balance "
	    "roundrobin\"], \"server_options\": [\"check\", \"cookie s\"]",
	    "10.0.0.1:80" };
	struct svc b = { "c", 8012, "\"listen_options\": [\"balance "
	    "roundrobin\"], \"server_options\": [\"check\", \"cookie s\"]",
	    "10.0.0.1:80 10.0.0.2:80" };
	struct svc c = { "h", 8013, "\"listen_options\": [\"balance source\"]",
	    "10.0.0.1:80@5" };
	struct svc d = { "h", 8013, "\"listen_options\": [\"balance source\"]",
	    "10.0.0.1:80@7" };
	struct snapshot *s1, *s2, *s3, *s4;
	struct plan p;

	(void)state;
	s1 = build(cfg, NULL, false, &a, 1);
	s2 = build(cfg, s1, false, &b, 1);
	plan_build(&p, s1, s2);
	assert_reload(&p, PLAN_NOT_DYNAMIC, "'cookie', which add server refuses");
	plan_free(&p);
	s3 = build(cfg, NULL, false, &c, 1);
	s4 = build(cfg, s3, false, &d, 1);
	plan_build(&p, s3, s4);
	assert_reload(&p, PLAN_NOT_DYNAMIC, "weight of 10.0.0.1:80 changed");
	plan_free(&p);
	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(s4);
	pmconfig_unref(cfg);
}

/* Put opt in place of the first server option of svc, past validation,
 * to test the planner's own check. */
static void
force_option(const struct snapshot *s, const char *svc, const char *opt)
{
	const struct snapshot_service *e = snapshot_find(s, svc);

	free(e->def->server_options[0]);
	e->def->server_options[0] = xstrdup(opt);
}

/* A runtime command HAProxy's CLI would misread never goes out, even
 * if such an option got past validation: the change is a reload. Servers
 * that leave or return do not carry server_options, and stay runtime. */
static void
test_plan_unsafe_command(void **state)
{
	static const char *const unsafe[] = { "agent-send <<",
	    "agent-send x\\", "check\nshow env", "check; show env", NULL };
	static const char *const want[] = {
		"set server u/10.0.0.1:80 state maint", "",
		NULL,
	};
	struct pm_config *cfg = config("");
	struct svc a = { "u", 8014, RR ", " CHECK, "10.0.0.1:80" };
	struct svc b = { "u", 8014, RR ", " CHECK, "10.0.0.1:80 10.0.0.2:80" };
	struct svc c = { "u", 8014, RR ", " CHECK, "" };
	struct snapshot *s1, *s2;
	struct plan p;

	(void)state;
	for (size_t i = 0; unsafe[i] != NULL; i++) {
		s1 = build(cfg, NULL, false, &a, 1);
		s2 = build(cfg, s1, false, &b, 1);
		force_option(s1, "u", unsafe[i]);
		force_option(s2, "u", unsafe[i]);
		plan_build(&p, s1, s2);
		assert_reload(&p, PLAN_UNSAFE, "service u: a runtime command "
		    "would hold ");
		plan_free(&p);
		snapshot_free(s2);
		s2 = build(cfg, s1, false, &c, 1);
		force_option(s2, "u", unsafe[i]);
		plan_build(&p, s1, s2);
		assert_cmds(&p, want);
		plan_free(&p);
		snapshot_free(s1);
		snapshot_free(s2);
	}
	assert_string_equal(plan_reason_name(PLAN_UNSAFE), "unsafe-command");
	pmconfig_unref(cfg);
}

/* The state file carries the weight the new config renders (HAProxy would
 * keep a runtime one over it), and no old address for a host name. */
static void
test_state_file_weight_and_names(void **state)
{
	struct pm_config *cfg = config("");
	struct svc l = { "w", 8007, RR, "10.0.0.1:80@5 backend.example:80" };
	struct svc n = { "w", 8007, RR, "10.0.0.1:80@7 backend.example:80" };
	struct snapshot *live, *next;
	char *out;
	const char *dump = "1\n" HDR
	    "3 w 1 10.0.0.1:80 10.0.0.1 2 0 5 5 5 6 3 4 6 0 0 1 - 80 - 0 0 - - 0\n"
	    "3 w 2 backend.example:80 10.0.0.9 2 0 1 1 5 6 3 4 6 0 0 1 - 80 - 0 "
	    "0 - - 0\n";

	(void)state;
	live = build(cfg, NULL, false, &l, 1);
	next = build(cfg, live, false, &n, 1);
	out = plan_state_file(dump, live, NULL, next);
	assert_string_equal(out, "1\n" HDR
	    "3 w 1 10.0.0.1:80 10.0.0.1 2 0 7 5 5 6 3 4 6 0 0 1 - 80 - 0 0 - - 0\n"
	    "3 w 2 backend.example:80 - 2 0 1 1 5 6 3 4 6 0 0 1 - 80 - 0 0 - - "
	    "0\n");
	free(out);
	snapshot_free(live);
	snapshot_free(next);
	pmconfig_unref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_carry_ids),
		cmocka_unit_test(test_state_file_legacy_names),
		cmocka_unit_test(test_legacy_name),
		cmocka_unit_test(test_carry_empty),
		cmocka_unit_test(test_carry_many_retired),
		cmocka_unit_test(test_slot_reuse),
		cmocka_unit_test(test_slot_move_in_burst),
		cmocka_unit_test(test_slot_reuse_oldest),
		cmocka_unit_test(test_slot_reuse_static),
		cmocka_unit_test(test_slot_names),
		cmocka_unit_test(test_state_file_reused_slot),
		cmocka_unit_test(test_snapshot_diff),
		cmocka_unit_test(test_plan_runtime),
		cmocka_unit_test(test_plan_fixed_weight),
		cmocka_unit_test(test_plan_not_dynamic),
		cmocka_unit_test(test_plan_hostname),
		cmocka_unit_test(test_plan_reloads),
		cmocka_unit_test(test_plan_retired_bound),
		cmocka_unit_test(test_backend_dynamic),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_plan_two_phases),
		cmocka_unit_test(test_plan_refused_by_haproxy),
		cmocka_unit_test(test_plan_unsafe_command),
		cmocka_unit_test(test_state_file_weight_and_names),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
