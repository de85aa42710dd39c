/* Unit tests for svcdef_parse() and friends: the JSON blob of one service,
 * its validation (nothing from ZooKeeper or a file may inject
 * configuration), comparison and reference counting. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_asserts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "jsonerr.h"
#include "server.h"
#include "service.h"
#include "util.h"
#include "watchers/server_blob.h"
#include "watchers/watcher.h"

#define SRC "/etc/proxymgr/services/web.json"

static struct service_def *
parse_ok_named(const char *name, const char *text)
{
	struct service_def *def = (struct service_def *)1;
	char *err = NULL;
	int rc;

	rc = svcdef_parse(name, text, strlen(text), SRC, &def, &err);
	if (rc != 0)
		print_error("unexpected error: %s\n", err ? err : "(null)");
	assert_int_equal(rc, 0);
	assert_null(err);
	assert_non_null(def);
	assert_int_equal(def->refs, 1);
	return def;
}

static struct service_def *
parse_ok(const char *text)
{
	return parse_ok_named("web", text);
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* The blob must be refused with a message that starts with the source
 * and holds needle (and needle2 if not NULL). */
static void
expect_err_named(const char *name, const char *text, const char *needle,
    const char *needle2)
{
	struct service_def *def = (struct service_def *)1;
	char *err = NULL;

	assert_int_equal(svcdef_parse(name, text, strlen(text), SRC, &def,
	    &err), -1);
	assert_null(def);
	assert_non_null(err);
	if (strncmp(err, SRC ":", strlen(SRC) + 1) != 0)
		fail_msg("'%s' does not start with '" SRC ":'", err);
	assert_contains(err, needle);
	if (needle2 != NULL)
		assert_contains(err, needle2);
	free(err);
}

static void
expect_err(const char *text, const char *needle, const char *needle2)
{
	expect_err_named("web", text, needle, needle2);
}


/* ---- good blobs ---- */

static void
test_file_blob(void **state)
{
	static const char *const lo[] = { "mode http", "balance roundrobin",
	    NULL };
	static const char *const so[] = { "check inter 2000", NULL };
	struct service_def *def;

	(void)state;
	def = parse_ok("{\"type\": \"file\", \"file\": \"/etc/hosts.web\",\n"
	    " \"port\": 8080, \"bind_address\": \"127.0.0.1\",\n"
	    " \"listen_options\": [\"mode http\", \"balance roundrobin\"],\n"
	    " \"server_options\": [\"check inter 2000\"]}");
	assert_string_equal(def->name, "web");
	assert_string_equal(def->source, SRC);
	assert_ptr_equal(def->watcher, &watcher_file_ops);
	assert_string_equal(def->watcher->type, "file");
	assert_int_equal(def->port, 8080);
	assert_string_equal(def->bind_address, "127.0.0.1");
	assert_strv(def->listen_options, lo);
	assert_strv(def->server_options, so);
	assert_string_equal(json_string_value(json_object_get(def->blob,
	    "file")), "/etc/hosts.web");
	/* Canonical forms: sorted keys, compact; the watcher's keeps only
	 * the type and the type's own keys. */
	assert_string_equal(def->canon, "{\"bind_address\":\"127.0.0.1\","
	    "\"file\":\"/etc/hosts.web\",\"listen_options\":[\"mode http\","
	    "\"balance roundrobin\"],\"port\":8080,\"server_options\":"
	    "[\"check inter 2000\"],\"type\":\"file\"}");
	assert_string_equal(def->watcher_canon,
	    "{\"file\":\"/etc/hosts.web\",\"type\":\"file\"}");
	svcdef_unref(def);
}

/* Only the required keys: no bind address (the global one applies), and
 * empty, NULL-terminated option lists. */
static void
test_minimal_blob(void **state)
{
	struct service_def *def;

	(void)state;
	def = parse_ok("{\"type\":\"file\",\"file\":\"h\",\"port\":1}");
	assert_int_equal(def->port, 1);
	assert_null(def->bind_address);
	assert_non_null(def->listen_options);
	assert_null(def->listen_options[0]);
	assert_non_null(def->server_options);
	assert_null(def->server_options[0]);
	svcdef_unref(def);

	def = parse_ok("{\"type\":\"file\",\"file\":\"h\",\"port\":65535,"
	    "\"bind_address\":\"::1\",\"listen_options\":[],"
	    "\"server_options\":[]}");
	assert_int_equal(def->port, 65535);
	assert_string_equal(def->bind_address, "::1");
	assert_null(def->listen_options[0]);
	assert_null(def->server_options[0]);
	svcdef_unref(def);
}

struct collected {
	int			calls;
	char			*service;
	struct server_list	servers;
};

static void
collect(void *ctx, const char *service, struct server_list *servers)
{
	struct collected *c = ctx;

	c->calls++;
	free(c->service);
	c->service = strdup(service);
	srvlist_free(&c->servers);
	srvlist_move(&c->servers, servers);
}

static void
test_static_blob(void **state)
{
	struct service_def *def;
	struct collected c = { 0, NULL, { NULL, 0, 0 } };
	struct watcher *w;
	uv_loop_t loop;
	char *err = NULL;

	(void)state;
	def = parse_ok_named("db", "{\"type\": \"static\", \"port\": 5432,\n"
	    " \"servers\": [{\"address\": \"10.0.0.2\", \"port\": 5432},\n"
	    "  {\"port\": 6432, \"address\": \"db1.example.com\"},\n"
	    "  {\"address\": \"2001:db8::7\", \"port\": 5432},\n"
	    "  {\"address\": \"10.0.0.2\", \"port\": 5432}]}");
	assert_ptr_equal(def->watcher, &watcher_static_ops);
	assert_int_equal(def->port, 5432);
	assert_int_equal(json_array_size(json_object_get(def->blob,
	    "servers")), 4);
	assert_string_equal(def->watcher_canon, "{\"servers\":["
	    "{\"address\":\"10.0.0.2\",\"port\":5432},"
	    "{\"address\":\"db1.example.com\",\"port\":6432},"
	    "{\"address\":\"2001:db8::7\",\"port\":5432},"
	    "{\"address\":\"10.0.0.2\",\"port\":5432}],\"type\":\"static\"}");

	/* The static watcher reports the servers at once: sorted by name,
	 * the duplicate dropped. */
	assert_int_equal(uv_loop_init(&loop), 0);
	w = watcher_start(&loop, def, collect, &c, &err);
	assert_non_null(w);
	assert_null(err);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.service, "db");
	assert_int_equal(c.servers.n, 3);
	assert_string_equal(c.servers.v[0].name, "10.0.0.2:5432");
	assert_string_equal(c.servers.v[0].host, "10.0.0.2");
	assert_int_equal(c.servers.v[0].port, 5432);
	assert_string_equal(c.servers.v[1].name, "2001:db8::7:5432");
	assert_string_equal(c.servers.v[2].name, "db1.example.com:6432");
	assert_int_equal(c.servers.v[2].port, 6432);
	watcher_stop(w);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	srvlist_free(&c.servers);
	free(c.service);
	svcdef_unref(def);

	/* No servers at all is a valid (empty) service. */
	def = parse_ok("{\"type\":\"static\",\"port\":80,\"servers\":[]}");
	svcdef_unref(def);
}

/* The blob from ProxyMgr's README parses with a port added (ProxyMgr
 * took the port from elsewhere); without one the error says so. */
static void
test_proxymgr_blob(void **state)
{
	static const char *const lo[] = { "mode http", NULL };
	static const char *const so[] = { "check inter 2000", NULL };
	struct service_def *def;

	(void)state;
	expect_err("{\"type\": \"zookeeper\",\n"
	    " \"server\": \"localhost:2181\",\n"
	    " \"path\": \"/services/testservice\",\n"
	    " \"listen_options\": [\"mode http\"],\n"
	    " \"server_options\": [\"check inter 2000\"]}",
	    "key 'port' is required", NULL);
	def = parse_ok("{\"type\": \"zookeeper\",\n"
	    " \"server\": \"localhost:2181\",\n"
	    " \"path\": \"/services/testservice\",\n"
	    " \"port\": 8080,\n"
	    " \"listen_options\": [\"mode http\"],\n"
	    " \"server_options\": [\"check inter 2000\"]}");
	assert_string_equal(def->watcher->type, "zookeeper");
	assert_strv(def->listen_options, lo);
	assert_strv(def->server_options, so);
	svcdef_unref(def);

	def = parse_ok("{\"type\": \"file\",\n"
	    " \"file\": \"/etc/proxymgr/testservice.hosts\",\n"
	    " \"port\": 8080,\n"
	    " \"listen_options\": [\"mode http\"],\n"
	    " \"server_options\": [\"check inter 2000\"]}");
	assert_strv(def->listen_options, lo);
	assert_strv(def->server_options, so);
	svcdef_unref(def);
}

/* The repository's own etc/services/demo.json parses. */
static void
test_shipped_demo(void **state)
{
	struct service_def *def;
	char *text;
	size_t len;

	(void)state;
	text = read_file(TEST_DATA_DIR "/../../etc/services/demo.json",
	    SVCDEF_MAX_SIZE, &len, NULL);
	assert_non_null(text);
	def = parse_ok_named("demo", text);
	assert_string_equal(def->name, "demo");
	svcdef_unref(def);
	free(text);
}

/* ---- errors ---- */

static void
test_err_invalid_json(void **state)
{
	struct service_def *def;
	char *err = NULL;
	const char *text = "{\"type\": \"file\",\n  \"port\": 80,,\n}";

	(void)state;
	assert_int_equal(svcdef_parse("web", text, strlen(text), SRC, &def,
	    &err), -1);
	assert_null(def);
	/* Line 2, at the second ','; the reason is our own words, never
	 * jansson's text, which quotes the input. */
	assert_string_equal(err, SRC ":2:14: invalid JSON: syntax error");
	free(err);

	expect_err("", SRC ":1:0: invalid JSON", NULL);
	expect_err("{\"type\": \"file\"", "invalid JSON", NULL);
	/* Duplicate keys are refused. */
	expect_err("{\"type\":\"file\",\"file\":\"a\",\"port\":80,\"port\":81}",
	    "invalid JSON", "duplicate");
}

/* A service file may be a link to any file, a ZooKeeper node may hold
 * anything: a JSON error gives the position and a reason in our words,
 * never jansson's "near '...'" quote of the input (issue 11: a link to a
 * secret file logged near '"password=hunter2'). Each input puts the
 * secret where jansson would quote it. */
static void
test_json_errors_quote_nothing(void **state)
{
	static const struct {
		const char	*text;
		size_t		 len;	/* 0: strlen */
		const char	*reason;
	} cases[] = {
		{ "\"password=hunter2\"\n", 0, "syntax error" },
		{ "password=hunter2\n", 0, "syntax error" },
		{ "{\"type\": \"file\", \"x\": hunter2}", 0, "syntax error" },
		{ "{\"type\": \"file\", \"hunter2", 0,
		    "unexpected end of input" },
		{ "{\"type\": \"file\"} \"hunter2\"", 0,
		    "text after the JSON value" },
		{ "{\"hunter2\": 1, \"hunter2\": 2}", 0, "a duplicate key" },
		{ "{\"a\": \"\xffhunter2\"}", 0, "not valid UTF-8" },
		{ "{\"a\": \"hunter2\\u0000\"}", 0, "a NUL character" },
		{ "{\"a\": 1e99999, \"hunter2\": 1}", 0,
		    "a number out of range" },
		{ "{\"a\": \"hunter2\0\"}", 16, "syntax error" },
	};
	char deep[8192];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len :
		    strlen(cases[i].text);
		struct service_def *def = NULL;
		json_error_t jerr;
		char *err = NULL, *want;
		json_t *j;

		/* Service files and ZooKeeper service nodes. */
		assert_int_equal(svcdef_parse("web", cases[i].text, len, SRC,
		    &def, &err), -1);
		assert_null(def);
		if (strstr(err, "hunter2") != NULL)
			fail_msg("case %zu quotes the input: '%s'", i, err);
		want = xasprintf(": invalid JSON: %s", cases[i].reason);
		if (strstr(err, want) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, err,
			    want);
		free(want);
		free(err);
		/* Server nodes (the zookeeper watcher): jansson's default
		 * flags, which let a duplicate key through. */
		if ((j = json_loadb(cases[i].text, len, 0, &jerr)) != NULL)
			json_decref(j);
		else
			assert_string_equal(jsonerr_reason(&jerr),
			    cases[i].reason);
	}
	/* Nested too deeply. */
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	expect_err(deep, "invalid JSON: nested too deeply", NULL);
}

static void
test_err_not_object(void **state)
{
	(void)state;
	expect_err("[1, 2]", "expected a JSON object", NULL);
	expect_err("[]", "expected a JSON object", NULL);
	/* Scalars at the top are not even JSON texts to jansson's decoder
	 * (no JSON_DECODE_ANY). */
	expect_err("\"web\"", SRC ":1:5: invalid JSON", NULL);
	expect_err("null", "invalid JSON", NULL);
}

static void
test_zookeeper_keys(void **state)
{
	(void)state;
	expect_err("{\"type\":\"zookeeper\",\"port\":80,\"path\":\"/s\"}",
	    "key 'server' is required", NULL);
	expect_err("{\"type\":\"zookeeper\",\"port\":80,\"server\":"
	    "\"zk:2181\"}", "key 'path' is required", NULL);
	expect_err("{\"type\":\"zookeeper\",\"port\":80,\"server\":"
	    "\"zk:2181\",\"path\":\"services/web\"}", "key 'path'", NULL);
	expect_err("{\"type\":\"zookeeper\",\"port\":80,\"server\":"
	    "\"zk:2181\\nglobal\",\"path\":\"/s\"}", "key 'server'", NULL);
}

/* Server nodes: ProxyMgr's and nerve's formats; registrars' extra keys
 * are ignored unless strict (a static list in proxymgrd's own blob). */
static void
test_server_blob(void **state)
{
	struct srvblob sb;
	char *err = NULL;
	json_t *o;

	(void)state;
	o = json_loads("{\"address\": \"1.2.3.4\", \"port\": 8080}", 0, NULL);
	assert_int_equal(srvblob_parse(o, true, &sb, &err), 0);
	assert_string_equal(sb.host, "1.2.3.4");
	assert_int_equal(sb.port, 8080);
	assert_int_equal(sb.weight, 0);
	json_decref(o);

	o = json_loads("{\"host\": \"10.0.0.7\", \"port\": 80, \"name\": "
	    "\"i-abc\", \"weight\": 10, \"labels\": {\"az\": \"a\"}}", 0,
	    NULL);
	assert_int_equal(srvblob_parse(o, false, &sb, &err), 0);
	assert_string_equal(sb.host, "10.0.0.7");
	assert_int_equal(sb.weight, 10);
	assert_int_equal(srvblob_parse(o, true, &sb, &err), -1);
	assert_string_equal(err, "unknown key 'labels'");
	json_decref(o);

	o = json_loads("{\"host\": \"a\", \"address\": \"b\", \"port\": 1}",
	    0, NULL);
	assert_int_equal(srvblob_parse(o, false, &sb, &err), -1);
	assert_string_equal(err, "both 'address' and 'host' given");
	json_decref(o);

	o = json_loads("{\"address\": \"1.2.3.4 check\", \"port\": 1}", 0,
	    NULL);
	assert_int_equal(srvblob_parse(o, false, &sb, &err), -1);
	assert_string_equal(err, "key 'address': expected a host name or IP "
	    "address");
	json_decref(o);

	o = json_loads("{\"address\": \"h\", \"port\": \"80\"}", 0, NULL);
	assert_int_equal(srvblob_parse(o, false, &sb, &err), -1);
	assert_string_equal(err, "key 'port': expected an integer 1-65535");
	json_decref(o);

	o = json_loads("{\"address\": \"h\", \"port\": 80, \"weight\": 0}",
	    0, NULL);
	assert_int_equal(srvblob_parse(o, false, &sb, &err), -1);
	assert_string_equal(err, "key 'weight': expected an integer 1-256");
	json_decref(o);

	o = json_loads("[1]", 0, NULL);
	assert_int_equal(srvblob_parse(o, false, &sb, &err), -1);
	assert_string_equal(err, "expected a JSON object");
	json_decref(o);
	free(err);
}

static void
test_err_type(void **state)
{
	(void)state;
	expect_err("{\"file\":\"h\",\"port\":80}",
	    "key 'type' is required: a string, one of dns, file, static", NULL);
	expect_err("{\"type\":5,\"file\":\"h\",\"port\":80}",
	    "key 'type' is required", NULL);
	expect_err("{\"type\":\"carrier-pigeon\",\"port\":80}",
	    "key 'type': unknown watcher 'carrier-pigeon' (known: dns, file, static, zookeeper)", NULL);
	expect_err("{\"type\":\"File\",\"file\":\"h\",\"port\":80}",
	    "unknown watcher 'File'", NULL);
}

/* Unknown keys are ProxyMgr's way: dropped from the blob, so that a
 * change to them alone changes nothing, and listed for one warning. */
static void
test_unknown_keys_ignored(void **state)
{
	struct service_def *a, *b, *c;

	(void)state;
	a = parse_ok("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen\":[\"mode tcp\"]}");
	assert_string_equal(a->unknown, "'listen'");
	assert_int_equal(a->nunknown, 1);
	assert_null(json_object_get(a->blob, "listen"));
	/* A key of another type, and metadata. */
	b = parse_ok("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"servers\":[],\"owner\":\"team-a\"}");
	assert_string_equal(b->unknown, "'servers', 'owner'");
	assert_true(svcdef_equal(a, b));
	c = parse_ok("{\"type\":\"file\",\"file\":\"h\",\"port\":80}");
	assert_null(c->unknown);
	assert_true(svcdef_equal(a, c));
	svcdef_unref(a);
	svcdef_unref(b);
	svcdef_unref(c);
	/* Quoted only when short and printable, and only five. */
	a = parse_ok("{\"type\":\"static\",\"servers\":[],\"port\":80,"
	    "\"a\\n[ALERT]\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,"
	    "\"g\":1}");
	assert_string_equal(a->unknown, "a key of 9 bytes (not shown), 'b', "
	    "'c', 'd', 'e' and 2 more");
	assert_int_equal(a->nunknown, 7);
	svcdef_unref(a);
}

static void
test_err_port(void **state)
{
	(void)state;
	expect_err("{\"type\":\"file\",\"file\":\"h\"}",
	    "key 'port' is required: an integer 1-65535", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":0}",
	    "key 'port' is required: an integer 1-65535", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":70000}",
	    "key 'port' is required: an integer 1-65535", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":65536}",
	    "key 'port'", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":-80}",
	    "key 'port'", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":\"80\"}",
	    "key 'port' is required: an integer 1-65535", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80.0}",
	    "key 'port'", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":null}",
	    "key 'port'", NULL);
}

static void
test_err_bind_address(void **state)
{
	(void)state;
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"bind_address\":\"localhost\"}",
	    "key 'bind_address': expected an IPv4 or IPv6 address", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"bind_address\":\"1.2.3.4:80\"}", "key 'bind_address'", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"bind_address\":\"[::1]\"}", "key 'bind_address'", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"bind_address\":2130706433}", "key 'bind_address'", NULL);
}

static void
test_err_options(void **state)
{
	(void)state;
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":\"mode http\"}",
	    "key 'listen_options': expected a list of strings", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":{\"check\":true}}",
	    "key 'server_options': expected a list of strings", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\", 5]}",
	    "key 'listen_options' item 2: expected a string", NULL);
	/* Injection attempts. */
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\",\"balance first\\nlisten evil\"]}",
	    "key 'listen_options' item 2: refused", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\\r\"]}",
	    "key 'listen_options' item 1: refused", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"check; disable server web/x\"]}",
	    "key 'server_options' item 1: refused", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"check\",\"weight 10 # and more\"]}",
	    "key 'server_options' item 2: refused", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"\"]}",
	    "key 'server_options' item 1: refused", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"   \"]}",
	    "key 'server_options' item 1: refused", NULL);
	/* An embedded NUL: jansson refuses it unless asked to allow it. */
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"check\\u0000 x\"]}", "invalid JSON", NULL);
}

static void
test_err_static_servers(void **state)
{
	(void)state;
	expect_err("{\"type\":\"static\",\"port\":80}",
	    "key 'servers' is required", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":{}}",
	    "key 'servers' is required", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[\"10.0.0.1:80\"]}", "servers[0]: expected a JSON object", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\",\"port\":80},"
	    "{\"address\":\"a_b\",\"port\":80}]}",
	    "servers[1]: key 'address': expected a host name or IP address",
	    NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\\nlisten x\",\"port\":80}]}",
	    "servers[0]: key 'address'", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"[::1]\",\"port\":80}]}",
	    "servers[0]: key 'address'", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"port\":80}]}", "servers[0]: key 'address'", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\",\"port\":0}]}",
	    "servers[0]: key 'port': expected an integer 1-65535", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\",\"port\":\"80\"}]}",
	    "servers[0]: key 'port'", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\"}]}", "servers[0]: key 'port'", NULL);
	expect_err("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\",\"port\":80,\"backup\":true}]}",
	    "servers[0]: unknown key 'backup'", NULL);
}

static void
test_err_file_type(void **state)
{
	(void)state;
	expect_err("{\"type\":\"file\",\"port\":80}",
	    "key 'file' is required", NULL);
	expect_err("{\"type\":\"file\",\"port\":80,\"file\":\"\"}",
	    "key 'file' is required", NULL);
	expect_err("{\"type\":\"file\",\"port\":80,\"file\":[\"a\"]}",
	    "key 'file' is required", NULL);
}

static void
test_err_names(void **state)
{
	static const char blob[] = "{\"type\":\"file\",\"file\":\"h\",\"port\":80}";
	char name[80];

	(void)state;
	expect_err_named("", blob, "service name '' refused",
	    "1-64 of [A-Za-z0-9_.-], starting with a letter or digit");
	expect_err_named("-web", blob, "service name '-web' refused", NULL);
	expect_err_named("web/api", blob, "service name 'web/api' refused",
	    NULL);
	expect_err_named("web api", blob, "service name 'web api' refused",
	    NULL);
	expect_err_named("web\nlisten", blob, "refused", NULL);
	expect_err_named(".hidden", blob, "refused", NULL);
	memset(name, 'a', 65);
	name[65] = '\0';
	expect_err_named(name, blob, "refused", NULL);
	/* 64 is fine. */
	name[64] = '\0';
	svcdef_unref(parse_ok_named(name, blob));
	svcdef_unref(parse_ok_named("Web-API_v2.1", blob));
}

/* Errors free what they allocated, whichever step failed (ASan checks). */
static void
test_err_late_no_leak(void **state)
{
	(void)state;
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"bind_address\":\"::1\",\"listen_options\":[\"mode http\","
	    "\"balance first\"],"
	    "\"server_options\":[\"c\",\"d;\"]}",
	    "key 'server_options' item 2", NULL);
	expect_err("{\"type\":\"file\",\"port\":80,\"bind_address\":\"::1\","
	    "\"listen_options\":[\"mode tcp\"],\"server_options\":[\"c\"]}",
	    "key 'file' is required", NULL);
}

/* ---- equality, same watcher, refcounts ---- */

static void
test_equal(void **state)
{
	struct service_def *a, *b, *c, *d, *e;

	(void)state;
	a = parse_ok("{\"type\":\"file\",\"file\":\"/h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\"],"
	    "\"server_options\":[\"check\"]}");
	b = parse_ok("{\"server_options\":[\"check\"],\n  \"port\": 80,"
	    "\"listen_options\":  [\"mode http\"], \"file\":\"/h\","
	    "\"type\":\"file\"}");
	assert_true(svcdef_equal(a, b));
	assert_true(svcdef_equal(b, a));
	assert_true(svcdef_same_watcher(a, b));
	assert_true(svcdef_equal(a, a));
	assert_false(svcdef_equal(a, NULL));
	assert_false(svcdef_equal(NULL, a));
	assert_true(svcdef_equal(NULL, NULL));
	assert_false(svcdef_same_watcher(a, NULL));

	/* Changed listen_options: a new definition for the same watcher. */
	c = parse_ok("{\"type\":\"file\",\"file\":\"/h\",\"port\":80,"
	    "\"listen_options\":[\"mode tcp\"],"
	    "\"server_options\":[\"check\"]}");
	assert_false(svcdef_equal(a, c));
	assert_true(svcdef_same_watcher(a, c));

	/* Option order matters to HAProxy, so it matters here. */
	d = parse_ok("{\"type\":\"file\",\"file\":\"/h\",\"port\":81,"
	    "\"listen_options\":[\"mode http\"],"
	    "\"server_options\":[\"check\"]}");
	assert_false(svcdef_equal(a, d));
	assert_true(svcdef_same_watcher(a, d));

	/* Changed 'file': another watcher. */
	e = parse_ok("{\"type\":\"file\",\"file\":\"/h2\",\"port\":80,"
	    "\"listen_options\":[\"mode http\"],"
	    "\"server_options\":[\"check\"]}");
	assert_false(svcdef_equal(a, e));
	assert_false(svcdef_same_watcher(a, e));

	svcdef_unref(a);
	svcdef_unref(b);
	svcdef_unref(c);
	svcdef_unref(d);
	svcdef_unref(e);
}

static void
test_same_watcher_static(void **state)
{
	struct service_def *a, *b, *c;

	(void)state;
	a = parse_ok("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\",\"port\":80}]}");
	b = parse_ok("{\"type\":\"static\",\"port\":80,\"servers\":"
	    "[{\"address\":\"10.0.0.1\",\"port\":81}]}");
	c = parse_ok("{\"type\":\"static\",\"port\":90,\"bind_address\":"
	    "\"::\",\"servers\":[{\"port\":80,\"address\":\"10.0.0.1\"}]}");
	assert_false(svcdef_equal(a, b));
	assert_false(svcdef_same_watcher(a, b));
	assert_false(svcdef_equal(a, c));
	assert_true(svcdef_same_watcher(a, c));
	svcdef_unref(a);
	svcdef_unref(b);
	svcdef_unref(c);
}

static void
test_refcount(void **state)
{
	struct service_def *a, *r;

	(void)state;
	a = parse_ok("{\"type\":\"file\",\"file\":\"/h\",\"port\":80}");
	assert_int_equal(a->refs, 1);
	r = svcdef_ref(a);
	assert_ptr_equal(r, a);
	assert_int_equal(a->refs, 2);
	svcdef_ref(a);
	assert_int_equal(a->refs, 3);
	svcdef_unref(a);
	assert_int_equal(a->refs, 2);
	svcdef_unref(a);
	assert_int_equal(a->refs, 1);
	/* Still whole after the other holders let go. */
	assert_string_equal(a->name, "web");
	assert_int_equal(a->port, 80);
	svcdef_unref(a);	/* freed: the sanitizer build checks */

	assert_null(svcdef_ref(NULL));
	svcdef_unref(NULL);
}

/* A listen option whose first word opens a section ("global", "listen",
 * "frontend", "backend", "defaults", ...) would leave the service's listen
 * section, as HAProxy ignores indentation: from a ZooKeeper node, this
 * blob would open an admin stats socket on TCP (checked with HAProxy
 * 2.6.12). A ".if" directive would swallow the sections after it, and
 * "$NAME" would pull proxymgrd's environment into the config. */
static void
test_section_keyword_option(void **state)
{
	(void)state;
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"global\",\"stats socket "
	    "ipv4@0.0.0.0:19999 level admin\",\"listen rest\"]}",
	    "key 'listen_options' item 1", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\",\"  backend other\"]}",
	    "key 'listen_options' item 2", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\".if 0\"]}",
	    "key 'listen_options' item 1", NULL);
	/* Issue 11, finding 1: HAProxy 2.6 built with namespaces knows this
	 * section; the servers after it left the service (503). */
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":23030,"
	    "\"listen_options\":[\"namespace_list\",\"balance roundrobin\"],"
	    "\"server_options\":[\"check\"]}",
	    "key 'listen_options' item 1: refused: its first word opens a "
	    "HAProxy section", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\",\"crt-store web\"]}",
	    "key 'listen_options' item 2: refused: its first word opens",
	    NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"frobnicate 1\"]}",
	    "key 'listen_options' item 1: refused: its first word is not a "
	    "keyword of a HAProxy proxy section", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"http-response set-header X ${SECRET}\"]}",
	    "key 'listen_options' item 1", NULL);
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"cookie $HOME\"]}",
	    "key 'server_options' item 1", NULL);
}

/* Issue 11: the hostile options of findings 5, 6 and 7, each refused
 * with why. */
static void
test_hostile_options(void **state)
{
	(void)state;
	/* 5: an escaped line break, a fake alert in haproxy -c's output. */
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"timeout x\\\\n[ALERT] (1) : config : "
	    "parsing [/run/haproxy.cfg.new:16] : y 1s\"]}",
	    "key 'listen_options' item 1: refused: it holds an escape",
	    "control character");
	/* 6: the environment, through the env() fetch. */
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"listen_options\":[\"mode http\",\"http-request return status "
	    "200 content-type text/plain lf-string \\\"%[env(HOME)]\\\"\"]}",
	    "key 'listen_options' item 2: refused", "env()");
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"check\",\"agent-send %[env(HOME)]\"]}",
	    "key 'server_options' item 2: refused", "env()");
	/* 7: a payload marker or a trailing '\' in add server's line. */
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"agent-send <<\"]}",
	    "key 'server_options' item 1: refused", "'<<'");
	expect_err("{\"type\":\"file\",\"file\":\"h\",\"port\":80,"
	    "\"server_options\":[\"agent-send x\\\\\"]}",
	    "key 'server_options' item 1: refused", "trailing");
	/* Only runtime options carry the CLI's rules. */
	struct service_def *def = parse_ok("{\"type\":\"file\",\"file\":\"h\","
	    "\"port\":80,\"listen_options\":[\"http-request return status 200 "
	    "content-type text/plain string <<\"]}");
	svcdef_unref(def);
}

/* Watcher "dns": names with ports, SRV names (underscores allowed
 * there only), a nameserver with a port, an interval. */
static void
test_dns_blob(void **state)
{
	struct service_def *def;

	(void)state;
	def = parse_ok("{\"type\": \"dns\", \"port\": 8080, \"backends\": ["
	    "{\"name\": \"web.internal\", \"port\": 8080},"
	    "{\"srv\": \"_http._tcp.web.internal\"}],"
	    "\"nameserver\": \"127.0.0.1:5353\", \"interval\": 5}");
	assert_string_equal(def->watcher->type, "dns");
	svcdef_unref(def);
	def = parse_ok("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"a\", \"port\": 2}], \"nameserver\": \"[::1]:53\"}");
	svcdef_unref(def);
	def = parse_ok("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"a\", \"port\": 2}], \"nameserver\": \"::1\"}");
	svcdef_unref(def);
}

static void
test_err_dns(void **state)
{
	(void)state;
	expect_err("{\"type\": \"dns\", \"port\": 1}",
	    "key 'backends' is required", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": []}",
	    "key 'backends' is required", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": [{}]}",
	    "backends[0]: needs 'name' (with 'port') or 'srv'", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"a\"}]}", "backends[0]: key 'port' is required",
	    NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"srv\": \"_x._tcp.a\", \"port\": 2}]}",
	    "'srv' takes neither 'name' nor 'port'", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"_x.a\", \"port\": 2}]}",
	    "backends[0]: '_x.a' is not a DNS name", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"srv\": \"_x;._tcp\"}]}", "is not a DNS name", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"a\", \"port\": 2, \"ttl\": 3}]}",
	    "backends[0]: unknown key 'ttl'", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"a\", \"port\": 2}], \"nameserver\": \"dns.local\"}",
	    "key 'nameserver': expected IP, IP:PORT or [IPv6]:PORT", NULL);
	expect_err("{\"type\": \"dns\", \"port\": 1, \"backends\": ["
	    "{\"name\": \"a\", \"port\": 2}], \"interval\": 0}",
	    "key 'interval': expected seconds", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_blob),
		cmocka_unit_test(test_hostile_options),
		cmocka_unit_test(test_minimal_blob),
		cmocka_unit_test(test_static_blob),
		cmocka_unit_test(test_proxymgr_blob),
		cmocka_unit_test(test_shipped_demo),
		cmocka_unit_test(test_err_invalid_json),
		cmocka_unit_test(test_json_errors_quote_nothing),
		cmocka_unit_test(test_err_not_object),
		cmocka_unit_test(test_err_type),
		cmocka_unit_test(test_zookeeper_keys),
		cmocka_unit_test(test_server_blob),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_err_port),
		cmocka_unit_test(test_err_bind_address),
		cmocka_unit_test(test_err_options),
		cmocka_unit_test(test_err_static_servers),
		cmocka_unit_test(test_err_file_type),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_err_late_no_leak),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_same_watcher_static),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_section_keyword_option),
		cmocka_unit_test(test_dns_blob),
		cmocka_unit_test(test_err_dns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
