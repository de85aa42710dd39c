/* Golden-file tests for snapshot_render(): tests/data/render-NAME.yml and
 * the service blobs in tests/data/render-NAME/SERVICE.json must render to
 * tests/data/render-NAME.cfg byte for byte.
 *
 * PM_WRITE_GOLDEN=1 in the environment writes the .cfg files instead of
 * comparing them; read each one yourself before committing it. */
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
#include "pmconfig.h"
#include "server.h"
#include "service.h"
#include "snapshot.h"
#include "util.h"

/* The source name render writes in its first line. */
#define SRC "proxymgr.yml"

struct fixture {
	struct pm_config	*cfg;
	struct snapshot		*snap;
};

static char *
slurp(const char *path, size_t *len)
{
	char *text = read_file(path, READ_FILE_CONFIG_MAX, len, NULL);

	if (text == NULL)
		fail_msg("cannot read %s", path);
	return text;
}

static struct pm_config *
load_config(const char *name)
{
	struct pm_config *cfg = NULL;
	char *path, *text, *err = NULL;
	size_t len;

	path = xasprintf("%s/render-%s.yml", TEST_DATA_DIR, name);
	text = slurp(path, &len);
	if (pmconfig_parse(text, len, SRC, &cfg, &err) != 0)
		fail_msg("%s: %s", path, err);
	free(text);
	free(path);
	return cfg;
}

/* Parse tests/data/render-CASE/SERVICE.json, take its servers from the
 * static blob through srvlist_add/srvlist_finish, hold a listener and add
 * the lot to the snapshot. */
static void
add_service(struct fixture *f, const char *name, const char *svc)
{
	struct service_def *def = NULL;
	struct server_list servers;
	struct listener *l;
	char *path, *text, *err = NULL;
	json_t *item;
	size_t len, i;

	path = xasprintf("%s/render-%s/%s.json", TEST_DATA_DIR, name, svc);
	text = slurp(path, &len);
	if (svcdef_parse(svc, text, len, path, &def, &err) != 0)
		fail_msg("%s: %s", path, err);
	free(text);
	free(path);

	srvlist_init(&servers);
	json_array_foreach(json_object_get(def->blob, "servers"), i, item)
		srvlist_add(&servers,
		    json_string_value(json_object_get(item, "address")),
		    (int)json_integer_value(json_object_get(item, "port")));
	srvlist_finish(&servers);

	/* Wanted only: rendering needs no socket. */
	l = listener_want(def->bind_address ? def->bind_address :
	    f->cfg->bind_address, def->port);
	/* Ids 1..n, as for a service new to the running HAProxy. */
	snapshot_carry(snapshot_add(f->snap, def, &servers, l), NULL, true,
	    f->cfg->max_disabled_servers);
	/* The snapshot holds its own references and copy. */
	listener_release(l);
	svcdef_unref(def);
	srvlist_free(&servers);
}

static void
fixture_build(struct fixture *f, const char *name, const char *const *svcs)
{
	f->cfg = load_config(name);
	f->snap = snapshot_new(f->cfg);
	for (size_t i = 0; svcs[i] != NULL; i++)
		add_service(f, name, svcs[i]);
	snapshot_render(f->snap);
	assert_non_null(f->snap->text);
}

/* Free everything and check that the snapshot let go of every listener. */
static void
fixture_free(struct fixture *f)
{
	snapshot_free(f->snap);
	pmconfig_unref(f->cfg);
	f->snap = NULL;
	f->cfg = NULL;
	assert_int_equal(listener_count(), 0);
}

/* Compare s->text with the golden file, or write it in write mode. */
static void
check_golden(const struct fixture *f, const char *name)
{
	char *path = xasprintf("%s/render-%s.cfg", TEST_DATA_DIR, name);
	const char *mode = getenv("PM_WRITE_GOLDEN");
	char *want;
	size_t len;

	if (mode != NULL && strcmp(mode, "1") == 0) {
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(f->snap->text, fp);
		assert_int_equal(fclose(fp), 0);
		print_message("wrote %s\n", path);
	}
	want = slurp(path, &len);
	if (strlen(f->snap->text) != len ||
	    memcmp(f->snap->text, want, len) != 0)
		fail_msg("rendered text differs from %s:\n--- got ---\n%s"
		    "--- end ---", path, f->snap->text);
	free(want);
	free(path);
}

static int
group_setup(void **state)
{
	(void)state;
	listener_set_placeholder(true);
	return 0;
}

static int
setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fixture));
	return 0;
}

/* A failed assertion skips the test's own cleanup: do it here, so that
 * one failure does not cascade into the next tests. */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	snapshot_free(f->snap);
	pmconfig_unref(f->cfg);
	free(f);
	return 0;
}

/* ---- golden cases ---- */

static void
test_minimal(void **state)
{
	static const char *const svcs[] = { "web", NULL };
	struct fixture *f = *state;

	fixture_build(f, "minimal", svcs);
	check_golden(f, "minimal");
	assert_int_equal(f->snap->n, 1);
	assert_int_equal(f->snap->v[0]->child_fd, SNAPSHOT_FIRST_FD);
	assert_int_equal(f->snap->v[0]->servers.n, 0);
	/* Lines: 1 comment, 2 global, 3 stats, 4 server-state-file,
	 * 5 hard-stop-after, 6 blank, 7 defaults, 8 load-server-state;
	 * 9 blank, 10 listen, 11 bind. */
	assert_int_equal(f->snap->settings_last_line, 8);
	assert_int_equal(snapshot_first_line(f->snap, 0), 10);
	assert_int_equal(snapshot_last_line(f->snap, 0), 11);
	fixture_free(f);
}

static void
test_full(void **state)
{
	static const char *const svcs[] = { "api", "web", NULL };
	struct fixture *f = *state;

	fixture_build(f, "full", svcs);
	check_golden(f, "full");
	assert_int_equal(f->snap->n, 2);
	assert_int_equal(f->snap->v[0]->child_fd, 3);
	assert_int_equal(f->snap->v[1]->child_fd, 4);
	assert_int_equal(f->snap->v[0]->servers.n, 3);
	assert_int_equal(f->snap->v[1]->servers.n, 2);
	fixture_free(f);
}

static void
test_hardstop(void **state)
{
	static const char *const svcs[] = { "db", NULL };
	struct fixture *f = *state;

	fixture_build(f, "hardstop", svcs);
	check_golden(f, "hardstop");
	/* Exactly one hard-stop-after line, the one from global. */
	assert_non_null(strstr(f->snap->text, "    hard-stop-after 30s\n"));
	assert_null(strstr(f->snap->text, "hard-stop-after 10m"));
	{
		const char *p = f->snap->text;
		int n = 0;
		while ((p = strstr(p, "hard-stop-after")) != NULL) {
			n++;
			p++;
		}
		assert_int_equal(n, 1);
	}
	fixture_free(f);
}

/* HTTP services get option idle-close-on-response unless they or the
 * defaults name it; TCP ones never (the last mode line wins). */
static void
test_idleclose(void **state)
{
	static const char *const svcs[] = { "web", "db", "off", "own",
	    "tcp2http", NULL };
	struct fixture *f = *state;
	const char *p;
	int n = 0;

	fixture_build(f, "idleclose", svcs);
	check_golden(f, "idleclose");
	/* web and tcp2http ("idle-close-on-responses" is another word). */
	for (p = f->snap->text; (p = strstr(p,
	    "\n    option idle-close-on-response\n")) != NULL; p++)
		n++;
	assert_int_equal(n, 2);
	assert_non_null(strstr(f->snap->text, "listen web\n    bind fd@3\n"
	    "    option idle-close-on-response\n"));
	assert_non_null(strstr(f->snap->text, "listen db\n    bind fd@4\n"
	    "    mode http\n"));
	/* The added line is the service's: HAProxy's errors on it blame it. */
	assert_int_equal(snapshot_last_line(f->snap, 0) - snapshot_first_line(f->snap, 0),
	    4);
	fixture_free(f);
}

/* proxymgr.yml text with these defaults and one service of these
 * listen_options, rendered: whether the option was added. */
static bool
idleclose_added(const char *defaults, const char *listen)
{
	struct pm_config *cfg = NULL;
	struct service_def *def = NULL;
	struct snapshot *s;
	struct server_list servers;
	struct listener *l;
	char *yml, *json, *err = NULL;
	bool added;

	yml = xasprintf("haproxy:\n  defaults: [%s]\n", defaults);
	json = xasprintf("{\"type\": \"static\", \"port\": 80, "
	    "\"servers\": [], \"listen_options\": [%s]}", listen);
	if (pmconfig_parse(yml, strlen(yml), SRC, &cfg, &err) != 0)
		fail_msg("%s: %s", yml, err);
	if (svcdef_parse("web", json, strlen(json), "web.json", &def,
	    &err) != 0)
		fail_msg("%s: %s", json, err);
	s = snapshot_new(cfg);
	srvlist_init(&servers);
	l = listener_want("127.0.0.1", 80);
	snapshot_add(s, def, &servers, l);
	snapshot_render(s);
	/* Right after the bind line, before the service's own lines (the
	 * cases below that name it put another line first). */
	added = strstr(s->text, "\n    bind fd@3\n"
	    "    option idle-close-on-response\n") != NULL;
	listener_release(l);
	svcdef_unref(def);
	snapshot_free(s);
	pmconfig_unref(cfg);
	free(yml);
	free(json);
	return added;
}

static void
test_idleclose_cases(void **state)
{
	(void)state;
	/* HAProxy's default mode is tcp. */
	assert_false(idleclose_added("", ""));
	assert_false(idleclose_added("\"timeout client 1m\"", ""));
	assert_true(idleclose_added("", "\"mode http\""));
	assert_true(idleclose_added("\"mode http\"", ""));
	assert_true(idleclose_added("\"mode  http\"", "\"balance first\""));
	assert_false(idleclose_added("\"mode http\"", "\"mode tcp\""));
	assert_false(idleclose_added("\"mode tcp\"", ""));
	assert_true(idleclose_added("\"mode tcp\"", "\"mode http\""));
	/* The operator's or the service's own word on it, either way. */
	assert_false(idleclose_added("\"mode http\", \"no option "
	    "idle-close-on-response\"", ""));
	assert_false(idleclose_added("\"mode http\", \"option "
	    "idle-close-on-response\"", ""));
	assert_false(idleclose_added("\"mode http\"", "\"balance first\", "
	    "\"no option idle-close-on-response\""));
	assert_false(idleclose_added("\"mode http\"", "\"balance first\", "
	    "\"default option idle-close-on-response\""));
	assert_false(idleclose_added("\"mode http\"", "\"balance first\", "
	    "\"option idle-close-on-response\""));
	/* Other options are not this one. */
	assert_true(idleclose_added("\"mode http\", \"no option "
	    "http-keep-alive\"", "\"option httpclose\""));
	assert_true(idleclose_added("\"mode http\"", "\"option "
	    "idle-close-on-response-x\""));
}

/* The text rendered from a proxymgr.yml text, as proxymgrd's part of a
 * hand-written haproxy.cfg (user_text, or NULL if unreadable) if user is
 * true. */
static char *
render_yml(const char *yml, bool user, const char *user_text)
{
	struct pm_config *cfg = NULL;
	struct snapshot *s;
	char *err = NULL, *text;

	if (pmconfig_parse(yml, strlen(yml), SRC, &cfg, &err) != 0)
		fail_msg("%s: %s", yml, err);
	if (user)
		cfg->user_config = xstrdup("/etc/haproxy/haproxy.cfg");
	s = snapshot_new(cfg);
	if (user_text != NULL)
		s->user_text = xstrdup(user_text);
	snapshot_render(s);
	text = xstrdup(s->text);
	snapshot_free(s);
	pmconfig_unref(cfg);
	return text;
}

/* proxymgrd adds no close-spread-time, even to a hand-written config
 * without idle-close-on-response: over its window an old HAProxy answers
 * 408 to connections it accepted just before the soft-stop, which
 * `Connection: close` clients then see as failed requests. The
 * operator's own is rendered as written. */
static void
test_no_close_spread(void **state)
{
	char *text;

	(void)state;
	text = render_yml("haproxy: {}\n", true,
	    "frontend f\n  bind fd@${APP}\n");
	assert_null(strstr(text, "close-spread-time"));
	free(text);
	text = render_yml("haproxy: {}\n", false, NULL);
	assert_null(strstr(text, "close-spread-time"));
	free(text);
	text = render_yml("haproxy:\n  global: [\"close-spread-time 5s\"]\n",
	    true, NULL);
	assert_non_null(strstr(text, "\n    close-spread-time 5s\n"));
	free(text);
}

/* ---- line ranges and lookups (full case) ---- */

static void
test_full_lines(void **state)
{
	static const char *const svcs[] = { "api", "web", NULL };
	const struct snapshot_service *api, *web;
	struct fixture *f = *state;

	fixture_build(f, "full", svcs);
	/* 1 comment, 2 global, 3 stats, 4 server-state-file,
	 * 5 hard-stop-after, 6-7 global lines, 8 blank, 9 defaults,
	 * 10-14 defaults lines, 15 load-server-state-from-file. */
	assert_int_equal(f->snap->settings_last_line, 15);
	api = snapshot_find(f->snap, "api");
	web = snapshot_find(f->snap, "web");
	assert_non_null(api);
	assert_non_null(web);
	assert_ptr_equal(api, f->snap->v[0]);
	assert_ptr_equal(web, f->snap->v[1]);
	assert_null(snapshot_find(f->snap, "nope"));
	assert_null(snapshot_find(f->snap, "ap"));
	assert_null(snapshot_find(NULL, "api"));
	/* 16 blank, 17 listen api, 18 bind, 19-20 options, 21-23 servers;
	 * 24 blank, 25 listen web, 26 bind, 27-28 options, 29-30 servers. */
	assert_int_equal(snapshot_first_line(f->snap, 0), 17);
	assert_int_equal(snapshot_last_line(f->snap, 0), 23);
	assert_int_equal(snapshot_first_line(f->snap, 1), 25);
	assert_int_equal(snapshot_last_line(f->snap, 1), 30);

	assert_null(snapshot_service_at_line(f->snap, 0));
	assert_null(snapshot_service_at_line(f->snap, 1));
	assert_null(snapshot_service_at_line(f->snap, 15));
	assert_null(snapshot_service_at_line(f->snap, 16));
	assert_ptr_equal(snapshot_service_at_line(f->snap, 17), api);
	assert_ptr_equal(snapshot_service_at_line(f->snap, 21), api);
	assert_ptr_equal(snapshot_service_at_line(f->snap, 23), api);
	assert_null(snapshot_service_at_line(f->snap, 24));
	assert_ptr_equal(snapshot_service_at_line(f->snap, 25), web);
	assert_ptr_equal(snapshot_service_at_line(f->snap, 30), web);
	assert_null(snapshot_service_at_line(f->snap, 31));
	assert_null(snapshot_service_at_line(f->snap, -1));

	/* The ranges agree with the text: line 17 is "listen api", line 25
	 * "listen web", and the text has 30 lines. */
	{
		const char *p = f->snap->text;
		int line = 1;
		while (*p != '\0') {
			if (line == 17)
				assert_memory_equal(p, "listen api\n", 11);
			if (line == 25)
				assert_memory_equal(p, "listen web\n", 11);
			if (line == 30)
				assert_memory_equal(p, "    server 127.0.0.2:9000",
				    25);
			p = strchr(p, '\n');
			assert_non_null(p);
			p++;
			line++;
		}
		assert_int_equal(line - 1, 30);
	}
	fixture_free(f);
}

/* Pure: rendering again gives the same text and the same ranges. */
static void
test_render_twice(void **state)
{
	static const char *const svcs[] = { "api", "web", NULL };
	struct fixture *f = *state;
	char *first;

	fixture_build(f, "full", svcs);
	first = xstrdup(f->snap->text);
	snapshot_render(f->snap);
	assert_string_equal(f->snap->text, first);
	assert_int_equal(snapshot_last_line(f->snap, 1), 30);
	assert_int_equal(f->snap->settings_last_line, 15);
	free(first);
	fixture_free(f);
}

/* Only the keyword itself suppresses the default line. */
static void
test_hardstop_keyword_match(void **state)
{
	struct pm_config *cfg = NULL;
	struct snapshot *s;
	char *err = NULL;
	const char *yml = "haproxy:\n  defaults: []\n  global:\n    - hard-stop-afterwards x\n";
	const char *yml2 = "haproxy:\n  global:\n    - '  hard-stop-after 1s'\n";

	(void)state;
	assert_int_equal(pmconfig_parse(yml, strlen(yml), SRC, &cfg, &err), 0);
	s = snapshot_new(cfg);
	snapshot_render(s);
	assert_non_null(strstr(s->text, "\n    hard-stop-after 60s\n"));
	/* No services: the text ends with the defaults section. */
	assert_int_equal(s->settings_last_line, 9);
	assert_non_null(strstr(s->text, "\ndefaults\n"));
	assert_string_equal(s->text + strlen(s->text) -
	    strlen("defaults\n    load-server-state-from-file global\n"),
	    "defaults\n    load-server-state-from-file global\n");
	assert_null(snapshot_service_at_line(s, 3));
	snapshot_free(s);
	pmconfig_unref(cfg);

	assert_int_equal(pmconfig_parse(yml2, strlen(yml2), SRC, &cfg, &err),
	    0);
	s = snapshot_new(cfg);
	snapshot_render(s);
	assert_null(strstr(s->text, "hard-stop-after 60s"));
	assert_non_null(strstr(s->text, "hard-stop-after 1s"));
	snapshot_free(s);
	pmconfig_unref(cfg);
}

/* Who HAProxy serves as: the lines after the stats socket, unless the
 * operator names a user or group in haproxy.global or in a global
 * section of the hand-written file. */
static void
test_identity_lines(void **state)
{
	struct pm_config *cfg = NULL;
	struct snapshot *s;
	char *err = NULL;
	const char *yml = "haproxy:\n  socket_path: /run/x.sock\n";
	const char *yml2 = "haproxy:\n  global: [\"gid 7\"]\n";
	const char *const own[] = {
		"global\n    user bob\n",
		"  global  \n\tuid 1000\n",
		"defaults\n    mode http\nglobal\n    group x\n",
	};
	const char *const not_own[] = {
		"global\n    maxconn 10\nbackend b\n    user x\n",
		"global\n    username x\n    # user x\n",
		"userlist u\n    user x password y\n",
	};

	(void)state;
	assert_int_equal(pmconfig_parse(yml, strlen(yml), SRC, &cfg, &err), 0);
	cfg->drop_user = xstrdup("user haproxy");
	cfg->drop_group = xstrdup("group haproxy");
	s = snapshot_new(cfg);
	snapshot_render(s);
	assert_non_null(strstr(s->text, "level admin\n    user haproxy\n"
	    "    group haproxy\n"));
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		free(s->user_text);
		s->user_text = xstrdup(own[i]);
		snapshot_render(s);
		if (strstr(s->text, "user haproxy") != NULL ||
		    strstr(s->text, "group haproxy") != NULL)
			fail_msg("rendered beside the operator's: %s", own[i]);
	}
	for (size_t i = 0; i < sizeof(not_own) / sizeof(not_own[0]); i++) {
		free(s->user_text);
		s->user_text = xstrdup(not_own[i]);
		snapshot_render(s);
		if (strstr(s->text, "    user haproxy\n") == NULL)
			fail_msg("not rendered with: %s", not_own[i]);
	}
	snapshot_free(s);
	pmconfig_unref(cfg);

	assert_int_equal(pmconfig_parse(yml2, strlen(yml2), SRC, &cfg, &err),
	    0);
	cfg->drop_user = xstrdup("user haproxy");
	s = snapshot_new(cfg);
	snapshot_render(s);
	assert_null(strstr(s->text, "user haproxy"));
	assert_non_null(strstr(s->text, "    gid 7\n"));
	snapshot_free(s);
	pmconfig_unref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_lines),
		cmocka_unit_test_setup_teardown(test_minimal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardstop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_twice, setup,
		    teardown),
		cmocka_unit_test(test_hardstop_keyword_match),
		cmocka_unit_test_setup_teardown(test_idleclose, setup,
		    teardown),
		cmocka_unit_test(test_idleclose_cases),
		cmocka_unit_test(test_no_close_spread),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
