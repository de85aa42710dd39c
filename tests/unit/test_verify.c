/* Unit tests for verify.c: reading HAProxy's `show stat` reply and
 * comparing it with what was rendered for a service. A real reply of
 * HAProxy 2.6.12 first (tests/data/show-stat-2.6.txt: a service whose
 * servers a namespace_list line took away, a disabled one), then replies
 * cut short, malformed or hostile. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/verify.h"
#include "server.h"
#include "util.h"

#define HDR	"# pxname,svname,qcur,status,type,check_desc,\n"

/* A server list from "host:port host:port ...". */
static void
servers(struct server_list *l, const char *spec)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;

	srvlist_init(l);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *colon = strrchr(tok, ':');
		*colon = '\0';
		srvlist_add(l, tok, atoi(colon + 1));
	}
	free(copy);
	srvlist_finish(l);
}

static struct verify_view
parse_ok(const char *reply)
{
	struct verify_view v;
	char *err = NULL;

	if (verify_parse_stat(reply, &v, &err) != 0)
		fail_msg("'%s' refused: %s", reply, err);
	return v;
}

static void
parse_err(const char *reply, const char *needle)
{
	struct verify_view v;
	char *err = NULL;

	if (verify_parse_stat(reply, &v, &err) == 0)
		fail_msg("'%s' accepted", reply);
	assert_non_null(err);
	if (strstr(err, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", err, needle);
	assert_int_equal(v.n, 0);
	assert_null(v.v);
	free(err);
}

/* NULL if service name of v has exactly spec's servers, else why not. */
static char *
check(const struct verify_view *v, const char *name, const char *spec)
{
	struct server_list l;
	char *why;

	servers(&l, spec);
	why = verify_service(v, name, &l);
	srvlist_free(&l);
	return why;
}

static void
assert_matches(const struct verify_view *v, const char *name,
    const char *spec)
{
	char *why = check(v, name, spec);

	if (why != NULL)
		fail_msg("%s: %s", name, why);
}

static void
assert_differs(const struct verify_view *v, const char *name,
    const char *spec, const char *needle)
{
	char *why = check(v, name, spec);

	if (why == NULL)
		fail_msg("%s: no difference found", name);
	if (strstr(why, needle) == NULL)
		fail_msg("%s: '%s' does not contain '%s'", name, why, needle);
	if (strchr(why, '\n') != NULL)
		fail_msg("%s: '%s' is not one line", name, why);
	free(why);
}

/* HAProxy 2.6.12, as it ran: web (a retired server in maint too), off
 * ("disabled": not in show stat at all), escaped (namespace_list before
 * its balance and server lines: frontend and backend, no server). */
static void
test_real_reply(void **state)
{
	char path[512], *text;
	size_t len;
	struct verify_view v;

	(void)state;
	snprintf(path, sizeof(path), "%s/show-stat-2.6.txt", TEST_DATA_DIR);
	text = read_file(path, READ_FILE_CONFIG_MAX, &len, NULL);
	assert_non_null(text);
	v = parse_ok(text);
	assert_int_equal(v.n, 3);
	assert_matches(&v, "web", "127.0.0.1:23101 127.0.0.1:23102");
	assert_differs(&v, "web", "127.0.0.1:23101",
	    "servers built but not rendered: 1 (127.0.0.1:23102)");
	assert_differs(&v, "web", "127.0.0.1:23101 127.0.0.1:23102 "
	    "127.0.0.1:23103", "servers rendered but not built: 1 "
	    "(127.0.0.1:23103)");
	assert_differs(&v, "off", "127.0.0.1:23103",
	    "HAProxy has no proxy of that name");
	assert_differs(&v, "escaped", "127.0.0.1:23104",
	    "servers rendered but not built: 1 (127.0.0.1:23104)");
	assert_matches(&v, "escaped", "");
	assert_matches(&v, "::1_api", "::1:8080");
	verify_view_free(&v);
	free(text);
}

/* Columns are found by name, wherever they are; quoted fields (HAProxy
 * quotes a field with ',', '"' or a newline) are read whole. */
static void
test_columns_and_quotes(void **state)
{
	struct verify_view v;

	(void)state;
	v = parse_ok("# type,x,svname,pxname\n"
	    "0,a,FRONTEND,web\n"
	    "1,\"b,c\",BACKEND,web\n"
	    "2,\"say \"\"hi\"\"\n, twice\",10.0.0.1:80,web\n"
	    "2,,10.0.0.2:80,\"web\"\n"
	    "\n");
	assert_int_equal(v.n, 1);
	assert_matches(&v, "web", "10.0.0.1:80 10.0.0.2:80");
	verify_view_free(&v);
	/* Listener rows (option socket-stats) are not servers. */
	v = parse_ok(HDR "web,FRONTEND,0,OPEN,0,,\n"
	    "web,sock-1,0,OPEN,3,,\n"
	    "web,BACKEND,0,UP,1,,\n\n");
	assert_matches(&v, "web", "");
	verify_view_free(&v);
	/* No row at all: a HAProxy with no proxy. */
	v = parse_ok(HDR "\n");
	assert_int_equal(v.n, 0);
	assert_differs(&v, "web", "", "no proxy of that name");
	verify_view_free(&v);
}

/* A frontend and a backend of the service's name, both needed; a server
 * named FRONTEND is a server (the type column decides). */
static void
test_frontend_backend(void **state)
{
	struct verify_view v;

	(void)state;
	v = parse_ok(HDR "web,FRONTEND,0,OPEN,0,,\n"
	    "api,BACKEND,0,UP,1,,\n"
	    "api,FRONTEND,0,OPEN,2,,\n"
	    "api,BACKEND,0,OPEN,2,,\n"
	    "db,BACKEND,0,UP,1,,\n"
	    "db,FRONTEND,0,UP,0,,\n\n");
	assert_differs(&v, "web", "", "HAProxy has no backend of that name");
	assert_differs(&v, "api", "", "HAProxy has no frontend of that name");
	assert_matches(&v, "db", "");
	verify_view_free(&v);
}

/* Servers compared by name: the first three of each side named, then a
 * count; a server listed twice is one too many. */
static void
test_server_sets(void **state)
{
	struct verify_view v;

	(void)state;
	v = parse_ok(HDR "web,FRONTEND,0,OPEN,0,,\n"
	    "web,10.0.0.9:80,0,UP,2,,\n"
	    "web,evil,0,UP,2,,\n"
	    "web,BACKEND,0,UP,1,,\n"
	    "dup,FRONTEND,0,OPEN,0,,\n"
	    "dup,10.0.0.1:80,0,UP,2,,\n"
	    "dup,10.0.0.1:80,0,UP,2,,\n"
	    "dup,BACKEND,0,UP,1,,\n\n");
	assert_differs(&v, "web", "10.0.0.9:80",
	    "servers built but not rendered: 1 (evil)");
	assert_differs(&v, "web", "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 "
	    "10.0.0.4:80 10.0.0.9:80", "servers rendered but not built: 4 "
	    "(10.0.0.1:80, 10.0.0.2:80, 10.0.0.3:80, ...); servers built but "
	    "not rendered: 1 (evil)");
	assert_differs(&v, "dup", "10.0.0.1:80",
	    "servers built but not rendered: 1 (10.0.0.1:80)");
	verify_view_free(&v);
}

/* Not a table, or a table cut short: nothing is concluded from it. */
static void
test_malformed(void **state)
{
	(void)state;
	parse_err("", "no '# ' header");
	parse_err("Unknown command, but maybe one of the following ones is a "
	    "better match:\n  show env\n\n", "no '# ' header");
	parse_err("Permission denied\n\n", "no '# ' header");
	parse_err("#pxname,svname,type\n\n", "no '# ' header");
	parse_err("# pxname,svname,type", "header cut short");
	parse_err("# pxname,svname,status\nweb,FRONTEND,OPEN\n\n",
	    "no type column");
	parse_err("# svname,type\n\n", "no pxname column");
	parse_err(HDR, "cut short");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n", "cut short at record 2");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\nweb,BACKEND,0,UP,1,,\n",
	    "cut short at record 3");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\nweb,BACK", "cut short");
	parse_err(HDR "web,FRONTEND,0,OPEN\n\n", "record 2 has 4 fields");
	parse_err(HDR "web,FRONTEND,0,\"OPEN,0,,\n\n", "not closed");
	parse_err(HDR "web,FRONTEND,0,\"OPEN\"x,0,,\n\n",
	    "text follows its closing quote");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n\nweb,BACKEND,0,UP,1,,\n\n",
	    "text after the table");
}

/* What reload_verify asks: the proxies from show stat -1 3 -1, their
 * servers from show servers state (HAProxy 2.6.12's shape). */
#define SS_HDR	"1\n# be_id be_name srv_id srv_name srv_addr srv_op_state\n"

static void
test_servers_state(void **state)
{
	struct verify_view v;

	(void)state;
	v = parse_ok(HDR "web,FRONTEND,0,OPEN,0,,\nweb,BACKEND,0,UP,1,,\n"
	    "db,FRONTEND,0,OPEN,0,,\ndb,BACKEND,0,UP,1,,\n\n"
	    SS_HDR
	    "2 web 1 10.0.0.1:80 10.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 80 - 0 0 - - 0\n"
	    "2 web 2 10.0.0.2:80 10.0.0.2 2 0 1 1 0 1 0 2 0 0 0 0 - 80 - 0 0 - - 0\n"
	    "3 db 1 we$rd 10.0.0.3 2 0 1 1\n"
	    "\n");
	assert_matches(&v, "web", "10.0.0.1:80 10.0.0.2:80");
	assert_matches(&v, "db", "");
	verify_view_free(&v);
	/* No server at all: the dump has its header alone. */
	v = parse_ok(HDR "web,FRONTEND,0,OPEN,0,,\nweb,BACKEND,0,UP,1,,\n\n"
	    SS_HDR "\n");
	assert_matches(&v, "web", "");
	verify_view_free(&v);
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n\n" SS_HDR
	    "2 web 1 10.0.0.1:80 10.0.0.1 2\n", "cut short at line 4");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n\n" SS_HDR "2 web 1\n\n",
	    "line 3 has fewer than 4 fields");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n\n" SS_HDR "\nx\n",
	    "text after the servers state dump");
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n\n2\n# be_id\n\n",
	    "not a servers state dump of version 1");
	/* Found by fuzz_stats: a header with no end. */
	parse_err(HDR "web,FRONTEND,0,OPEN,0,,\n\n1\n# be_id",
	    "cut short in its header");
}

/* Rows HAProxy could not have written are left out: they can only make
 * a service differ, never match. */
static void
test_hostile_rows(void **state)
{
	struct verify_view v;

	(void)state;
	v = parse_ok(HDR "web,FRONTEND,0,OPEN,0,,\n"
	    "web,\"10.0.0.1:80\nweb\",0,UP,2,,\n"
	    "web,10.0.0.2 80,0,UP,2,,\n"
	    "web,10.0.0.3:80,0,UP,9,,\n"
	    "web,10.0.0.4:80,0,UP,x,,\n"
	    "web,10.0.0.5:80,0,UP,,,\n"
	    "web,10.0.0.6:80,0,UP,-1,,\n"
	    "web,10.0.0.7:80,0,UP,2 ,,\n"
	    "web,,0,UP,2,,\n"
	    "\"web\n\",FRONTEND,0,OPEN,0,,\n"
	    "we$b,BACKEND,0,UP,1,,\n"
	    "web,BACKEND,0,UP,1,,\n\n");
	assert_int_equal(v.n, 1);
	assert_differs(&v, "web", "10.0.0.1:80",
	    "servers rendered but not built: 1 (10.0.0.1:80)");
	assert_matches(&v, "web", "");
	verify_view_free(&v);
	/* A name made of separators and quotes only. */
	v = parse_ok(HDR "\",\",\"\"\"\",0,UP,2,\"\n\",\n\n");
	assert_int_equal(v.n, 0);
	verify_view_free(&v);
}

/* Many rows, proxies in any order: one sort, then a binary search. */
static void
test_many(void **state)
{
	struct sbuf sb;
	struct verify_view v;
	char *text, name[32];

	(void)state;
	sbuf_init(&sb);
	sbuf_puts(&sb, HDR);
	for (int i = 999; i >= 0; i--)
		sbuf_printf(&sb, "s%d,FRONTEND,0,OPEN,0,,\n"
		    "s%d,10.0.%d.%d:80,0,UP,2,,\n"
		    "s%d,BACKEND,0,UP,1,,\n", i, i, i / 256, i % 256, i);
	sbuf_puts(&sb, "\n");
	text = sbuf_take(&sb);
	v = parse_ok(text);
	assert_int_equal(v.n, 1000);
	for (int i = 0; i < 1000; i += 97) {
		char spec[32];
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(spec, sizeof(spec), "10.0.%d.%d:80", i / 256, i % 256);
		assert_matches(&v, name, spec);
	}
	verify_view_free(&v);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_reply),
		cmocka_unit_test(test_columns_and_quotes),
		cmocka_unit_test(test_frontend_backend),
		cmocka_unit_test(test_server_sets),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile_rows),
		cmocka_unit_test(test_servers_state),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
