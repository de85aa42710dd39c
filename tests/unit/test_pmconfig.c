/* Unit tests for pmconfig_parse(): proxymgr.yml, its defaults and every
 * error message (which must name the source, the line and the key). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit_asserts.h"

#include <sys/wait.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmconfig.h"
#include "util.h"

#define SRC "proxymgr.yml"

static struct pm_config *
parse_ok(const char *text)
{
	struct pm_config *cfg = (struct pm_config *)1;
	char *err = NULL;
	int rc;

	rc = pmconfig_parse(text, strlen(text), SRC, &cfg, &err);
	if (rc != 0)
		print_error("unexpected error: %s\n", err ? err : "(null)");
	assert_int_equal(rc, 0);
	assert_null(err);
	assert_non_null(cfg);
	return cfg;
}

/* Parse text that must be refused; returns the message (caller frees). */
static char *
parse_err_len(const char *text, size_t len)
{
	struct pm_config *cfg = (struct pm_config *)1;
	char *err = NULL;
	int rc;

	rc = pmconfig_parse(text, len, SRC, &cfg, &err);
	assert_int_equal(rc, -1);
	assert_null(cfg);
	assert_non_null(err);
	return err;
}

static char *
parse_err(const char *text)
{
	return parse_err_len(text, strlen(text));
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* The message starts with "proxymgr.yml:LINE:" and holds every needle. */
static void
expect_err(const char *text, int line, const char *n1, const char *n2)
{
	char *err = parse_err(text), prefix[64];

	snprintf(prefix, sizeof(prefix), SRC ":%d:", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' does not start with '%s'", err, prefix);
	assert_contains(err, n1);
	if (n2 != NULL)
		assert_contains(err, n2);
	free(err);
}


/* Without a defaults list, HAProxy still gets timeouts. */
static const char *const default_defaults[] = {
	"timeout connect 5s", "timeout client 1m", "timeout server 1m", NULL,
};

static void
assert_defaults(const struct pm_config *cfg)
{
	assert_string_equal(cfg->file, SRC);
	assert_string_equal(cfg->haproxy_path, "haproxy");
	assert_string_equal(cfg->config_path, "/run/proxymgr/haproxy.cfg");
	assert_string_equal(cfg->socket_path, "/run/proxymgr/haproxy.sock");
	assert_string_equal(cfg->bind_address, "0.0.0.0");
	assert_non_null(cfg->global);
	assert_null(cfg->global[0]);
	assert_strv(cfg->defaults, default_defaults);
	assert_string_equal(cfg->hard_stop_after, "60s");
	assert_int_equal(cfg->max_old_processes, 4);
	assert_int_equal(cfg->start_timeout_ms, 10000);
	assert_int_equal(cfg->stop_timeout_ms, 10000);
	assert_int_equal(cfg->debounce_ms, 20);
	assert_int_equal(cfg->min_interval_ms, 500);
	assert_int_equal(cfg->runtime_debounce_ms, 0);
	assert_int_equal(cfg->initial_sync_timeout_ms, 10000);
	assert_true(cfg->runtime_api);
	assert_int_equal(cfg->max_disabled_servers, 16);
	assert_int_equal(cfg->runtime_timeout_ms, 2000);
	assert_string_equal(cfg->sc_type, "file");
	assert_string_equal(cfg->sc_path, "/etc/proxymgr/services");
	assert_null(cfg->sc_servers);
}

/* The runtime API settings, and the one boolean key. */
static void
test_runtime_settings(void **state)
{
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok("haproxy:\n  runtime_api: false\n"
	    "  max_disabled_servers: 0\n  runtime_timeout_ms: 500\n"
	    "reload:\n  runtime_debounce_ms: 5\n"
	    "  initial_sync_timeout_ms: 0\n");
	assert_int_equal(cfg->initial_sync_timeout_ms, 0);
	assert_false(cfg->runtime_api);
	assert_int_equal(cfg->max_disabled_servers, 0);
	assert_int_equal(cfg->runtime_timeout_ms, 500);
	assert_int_equal(cfg->runtime_debounce_ms, 5);
	pmconfig_unref(cfg);
	cfg = parse_ok("haproxy:\n  runtime_api: yes\n");
	assert_true(cfg->runtime_api);
	pmconfig_unref(cfg);
	expect_err("haproxy:\n  path: x\n  runtime_api: 'false'\n", 3,
	    "haproxy.runtime_api: expected true or false", NULL);
	expect_err("haproxy:\n  runtime_api: 1\n", 2,
	    "haproxy.runtime_api: expected true or false", NULL);
	expect_err("haproxy:\n  runtime_api: [true]\n", 2,
	    "haproxy.runtime_api: expected true or false", NULL);
	expect_err("haproxy:\n  max_disabled_servers: -1\n", 2,
	    "haproxy.max_disabled_servers: expected an integer from 0 to 10000",
	    NULL);
}

/* ---- good input ---- */

static void
test_full_file(void **state)
{
	static const char *const global[] = { "maxconn 4096", "nbthread 2",
	    "tune.bufsize 32768", NULL };
	static const char *const defaults[] = { "mode http",
	    "timeout connect 5s", "timeout client 1m", "timeout server 1m",
	    "option idle-close-on-response", NULL };
	struct pm_config *cfg;
	char *text, *err = NULL;
	size_t len;

	(void)state;
	text = read_file(TEST_DATA_DIR "/proxymgr-full.yml",
	    READ_FILE_CONFIG_MAX, &len, NULL);
	assert_non_null(text);
	assert_int_equal(pmconfig_parse(text, len, SRC, &cfg, &err), 0);
	assert_null(err);
	assert_string_equal(cfg->file, SRC);
	assert_string_equal(cfg->haproxy_path, "/usr/local/sbin/haproxy-2.6");
	assert_string_equal(cfg->config_path,
	    "/var/lib/proxymgr/haproxy.cfg");
	assert_string_equal(cfg->socket_path,
	    "/var/lib/proxymgr/haproxy.sock");
	assert_string_equal(cfg->bind_address, "::");
	assert_strv(cfg->global, global);
	assert_strv(cfg->defaults, defaults);
	assert_string_equal(cfg->hard_stop_after, "5m");
	assert_int_equal(cfg->max_old_processes, 2);
	assert_int_equal(cfg->start_timeout_ms, 2500);
	assert_int_equal(cfg->stop_timeout_ms, 0);
	assert_int_equal(cfg->debounce_ms, 75);
	assert_int_equal(cfg->min_interval_ms, 1500);
	assert_string_equal(cfg->sc_type, "file");
	assert_string_equal(cfg->sc_path, "/srv/proxymgr/services");
	assert_null(cfg->sc_servers);
	assert_string_equal(cfg->control_socket, "/var/lib/proxymgr/ctl.sock");
	char *ctl = pmconfig_control_path(cfg);
	assert_string_equal(ctl, "/var/lib/proxymgr/ctl.sock");
	free(ctl);
	pmconfig_unref(cfg);
	free(text);
}

/* The control socket: beside the stats socket unless control.socket
 * says; its path checked as the other paths are. */
static void
test_control_socket(void **state)
{
	struct pm_config *cfg;
	char *err = NULL, *path;

	(void)state;
	cfg = pmconfig_defaults(SRC);
	assert_null(cfg->control_socket);
	path = pmconfig_control_path(cfg);
	assert_string_equal(path, "/run/proxymgr/proxymgrd.sock");
	free(path);
	pmconfig_unref(cfg);
	const char *yml = "haproxy:\n  socket_path: /x/y/h.sock\n";
	assert_int_equal(pmconfig_parse(yml, strlen(yml), SRC, &cfg, &err), 0);
	path = pmconfig_control_path(cfg);
	assert_string_equal(path, "/x/y/proxymgrd.sock");
	free(path);
	pmconfig_unref(cfg);
	err = parse_err("control:\n  socket: \"a b\"\n");
	assert_contains(err, "control.socket");
	free(err);
	err = parse_err("control:\n  sock: /x\n");
	assert_contains(err, "sock");
	free(err);
}

/* pmconfig_load reads the file and names it in cfg->file. */
static void
test_load_file(void **state)
{
	struct pm_config *cfg;
	char *err = NULL;

	(void)state;
	assert_int_equal(pmconfig_load(TEST_DATA_DIR "/proxymgr-full.yml",
	    &cfg, &err), 0);
	assert_null(err);
	assert_string_equal(cfg->file, TEST_DATA_DIR "/proxymgr-full.yml");
	assert_int_equal(cfg->debounce_ms, 75);
	pmconfig_unref(cfg);

	assert_int_equal(pmconfig_load(TEST_DATA_DIR "/no-such-file.yml",
	    &cfg, &err), -1);
	assert_null(cfg);
	assert_non_null(err);
	assert_contains(err, "no-such-file.yml");
	free(err);
}

static void
test_empty_document(void **state)
{
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok("");
	assert_defaults(cfg);
	pmconfig_unref(cfg);
	cfg = parse_ok("# only a comment\n\n");
	assert_defaults(cfg);
	pmconfig_unref(cfg);
	cfg = parse_ok("---\n");
	assert_defaults(cfg);
	pmconfig_unref(cfg);
	cfg = parse_ok("~\n");
	assert_defaults(cfg);
	pmconfig_unref(cfg);
}

static void
test_defaults_when_absent(void **state)
{
	struct pm_config *cfg;

	(void)state;
	/* Every section present, every key absent. */
	cfg = parse_ok("haproxy: {}\nreload: {}\nservice_config: {}\n");
	assert_defaults(cfg);
	pmconfig_unref(cfg);

	/* One key set: the others keep their defaults. */
	cfg = parse_ok("reload:\n  debounce_ms: 5\n");
	assert_int_equal(cfg->debounce_ms, 5);
	assert_int_equal(cfg->min_interval_ms, 500);
	assert_string_equal(cfg->haproxy_path, "haproxy");
	assert_string_equal(cfg->sc_type, "file");
	pmconfig_unref(cfg);

	cfg = parse_ok("haproxy:\n  socket_path: /tmp/s.sock\n");
	assert_string_equal(cfg->socket_path, "/tmp/s.sock");
	assert_string_equal(cfg->config_path, "/run/proxymgr/haproxy.cfg");
	assert_string_equal(cfg->hard_stop_after, "60s");
	assert_int_equal(cfg->max_old_processes, 4);
	pmconfig_unref(cfg);
}

static void
test_null_values_mean_default(void **state)
{
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok(
	    "haproxy:\n"
	    "  path:\n"
	    "  config_path: ~\n"
	    "  socket_path: null\n"
	    "  bind_address:\n"
	    "  global:\n"
	    "  defaults: ~\n"
	    "  hard_stop_after: null\n"
	    "  max_old_processes:\n"
	    "  start_timeout_ms: ~\n"
	    "  stop_timeout_ms: null\n"
	    "reload:\n"
	    "  debounce_ms:\n"
	    "  min_interval_ms: ~\n"
	    "service_config:\n"
	    "  type:\n"
	    "  path: null\n");
	assert_defaults(cfg);
	pmconfig_unref(cfg);

	/* Whole sections null. */
	cfg = parse_ok("haproxy:\nreload: ~\nservice_config: null\n");
	assert_defaults(cfg);
	pmconfig_unref(cfg);
}

static void
test_values(void **state)
{
	static const char *const one[] = { "maxconn 10", NULL };
	struct pm_config *cfg;

	(void)state;
	/* Flow style; an empty list is an empty list. */
	cfg = parse_ok(
	    "haproxy: {bind_address: 10.1.2.3, global: [maxconn 10],\n"
	    "  defaults: []}\n"
	    "reload: {debounce_ms: 0, min_interval_ms: 600000}\n");
	assert_string_equal(cfg->bind_address, "10.1.2.3");
	assert_strv(cfg->global, one);
	assert_null(cfg->defaults[0]);
	assert_int_equal(cfg->debounce_ms, 0);
	assert_int_equal(cfg->min_interval_ms, 600000);
	pmconfig_unref(cfg);

	/* Range ends. */
	cfg = parse_ok("haproxy:\n  max_old_processes: 64\n"
	    "  start_timeout_ms: 100\n  stop_timeout_ms: 600000\n"
	    "reload:\n  debounce_ms: 60000\n");
	assert_int_equal(cfg->max_old_processes, 64);
	assert_int_equal(cfg->start_timeout_ms, 100);
	assert_int_equal(cfg->stop_timeout_ms, 600000);
	assert_int_equal(cfg->debounce_ms, 60000);
	pmconfig_unref(cfg);
	cfg = parse_ok("haproxy:\n  max_old_processes: 1\n");
	assert_int_equal(cfg->max_old_processes, 1);
	pmconfig_unref(cfg);

	/* A YAML comment after an item is not part of it. */
	cfg = parse_ok("haproxy:\n  global:\n    - maxconn 10   # c\n");
	assert_strv(cfg->global, one);
	pmconfig_unref(cfg);

	/* A quoted string is taken as it is; IPv6 bind address. */
	cfg = parse_ok("haproxy:\n  hard_stop_after: \"30s\"\n"
	    "  bind_address: '::1'\n");
	assert_string_equal(cfg->hard_stop_after, "30s");
	assert_string_equal(cfg->bind_address, "::1");
	pmconfig_unref(cfg);
}

/* ProxyMgr's README example, as written. */
static void
test_proxymgr_example(void **state)
{
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok(
	    "---\n"
	    "haproxy:\n"
	    "  config_path: /etc/haproxy/haproxy.cfg\n"
	    "  socket_path: /var/run/haproxy/stats.sock\n"
	    "\n"
	    "service_config:\n"
	    "  type: zookeeper\n"
	    "  servers: localhost:2181\n"
	    "  path: /service_config\n");
	assert_string_equal(cfg->config_path, "/etc/haproxy/haproxy.cfg");
	assert_string_equal(cfg->socket_path, "/var/run/haproxy/stats.sock");
	assert_string_equal(cfg->haproxy_path, "haproxy");
	assert_string_equal(cfg->sc_type, "zookeeper");
	assert_string_equal(cfg->sc_servers, "localhost:2181");
	assert_string_equal(cfg->sc_path, "/service_config");
	pmconfig_unref(cfg);
}

/* The repository's own etc/proxymgr.yml parses. */
static void
test_shipped_example(void **state)
{
	struct pm_config *cfg;
	char *err = NULL;

	(void)state;
	assert_int_equal(pmconfig_load(TEST_DATA_DIR "/../../etc/proxymgr.yml",
	    &cfg, &err), 0);
	assert_null(err);
	assert_non_null(cfg);
	assert_string_equal(cfg->sc_type, "file");
	pmconfig_unref(cfg);
}

/* ---- errors ---- */

static void
test_err_yaml_syntax(void **state)
{
	char *err;

	(void)state;
	/* A mapping value where none is allowed: the second ':' of line 3,
	 * column 9. */
	err = parse_err("haproxy:\n  path: a\n  bad: b: c\n");
	assert_string_equal(err, SRC ":3:9: invalid YAML: mapping values are "
	    "not allowed in this context");
	free(err);

	/* Unclosed flow sequence: reported where the parser gave up, at the
	 * ':' of the next line. */
	err = parse_err("haproxy:\n  global: [a, b\nreload: {}\n");
	assert_string_equal(err, SRC ":3:7: invalid YAML: did not find "
	    "expected ',' or ']' while parsing a flow sequence");
	free(err);

	/* A tab for indentation. */
	err = parse_err("haproxy:\n\tpath: x\n");
	assert_contains(err, SRC ":2:1: invalid YAML");
	free(err);
}

static void
test_err_unknown_top_level_key(void **state)
{
	(void)state;
	expect_err("haproxy: {}\n\nzookeeper:\n  servers: x\n", 3,
	    "unknown key 'zookeeper'", "(known: control, haproxy, listeners, log, metrics, reload, service_config)");
	expect_err("Haproxy: {}\n", 1, "unknown key 'Haproxy'", NULL);
}

static void
test_err_unknown_section_key(void **state)
{
	(void)state;
	expect_err("haproxy:\n  path: x\n  foo: 1\n", 3,
	    "unknown key 'haproxy.foo'", NULL);
	expect_err("reload:\n  debounce_ms: 5\n\n  interval: 5\n", 4,
	    "unknown key 'reload.interval'", NULL);
	expect_err("service_config:\n  type: file\n  dir: /x\n", 3,
	    "unknown key 'service_config.dir'", NULL);
	/* A key of another section. */
	expect_err("reload:\n  path: /x\n", 2, "unknown key 'reload.path'",
	    NULL);
}

static void
test_err_section_not_mapping(void **state)
{
	(void)state;
	expect_err("reload: 5\n", 1, "reload: expected a mapping of keys, "
	    "found a scalar", NULL);
	expect_err("haproxy:\n  - path\n", 2, "haproxy: expected a mapping "
	    "of keys, found a list", NULL);
}

static void
test_err_string_expected(void **state)
{
	(void)state;
	expect_err("haproxy:\n  path:\n    - a\n    - b\n", 3,
	    "haproxy.path: expected a string, found a list", NULL);
	expect_err("haproxy:\n  socket_path: {a: b}\n", 2,
	    "haproxy.socket_path: expected a string, found a mapping", NULL);
	expect_err("service_config:\n  path: [x]\n", 2,
	    "service_config.path: expected a string, found a list", NULL);
}

static void
test_err_string_refused(void **state)
{
	static const char text[] = "haproxy:\n  path: \"a\\0b\"\n";

	(void)state;
	expect_err("haproxy:\n  hard_stop_after: '1s; x'\n", 2,
	    "haproxy.hard_stop_after: refused value", NULL);
	expect_err("haproxy:\n  hard_stop_after: |\n    1s\n    x\n", 2,
	    "haproxy.hard_stop_after: refused value", NULL);
	expect_err("haproxy:\n  config_path: \"/x\\ty\"\n", 2,
	    "haproxy.config_path: refused value", NULL);
	/* An empty quoted string is not null and not a value. */
	expect_err("haproxy:\n  path: ''\n", 2, "haproxy.path: refused value",
	    NULL);

	/* An embedded NUL ("\0" in a double-quoted scalar). */
	char *err = parse_err_len(text, sizeof(text) - 1);
	assert_contains(err, SRC ":2: haproxy.path: refused value");
	free(err);
}

static void
test_err_list_expected(void **state)
{
	(void)state;
	expect_err("haproxy:\n  global: maxconn 10\n", 2,
	    "haproxy.global: expected a list of strings, found a scalar", NULL);
	expect_err("haproxy:\n  defaults: {mode: http}\n", 2,
	    "haproxy.defaults: expected a list of strings, found a mapping",
	    NULL);
}

static void
test_err_list_items(void **state)
{
	(void)state;
	/* ';' and '#' (quoted, or YAML would take '#' as a comment). */
	expect_err("haproxy:\n  global:\n    - maxconn 10\n"
	    "    - 'nbthread 2; x'\n", 4,
	    "haproxy.global item 2: expected one line of text without ';', "
	    "'#' or '$NAME'", NULL);
	expect_err("haproxy:\n  global:\n    - \"maxconn 10 # x\"\n", 3,
	    "haproxy.global item 1:", NULL);
	/* A newline inside an item. */
	expect_err("haproxy:\n  defaults:\n    - mode http\n"
	    "    - \"timeout client 1m\\nlisten evil\"\n", 4,
	    "haproxy.defaults item 2:", NULL);
	/* An item that is not a scalar. */
	expect_err("haproxy:\n  defaults:\n    - [mode, http]\n", 3,
	    "haproxy.defaults item 1:", NULL);
	/* An empty item. */
	expect_err("haproxy:\n  global:\n    - ''\n", 3,
	    "haproxy.global item 1:", NULL);
	/* An item with no value. */
	expect_err("haproxy:\n  global:\n    - maxconn 1\n    - ~\n", 4,
	    "haproxy.global item 2: no value", NULL);
	expect_err("haproxy:\n  defaults: [mode http, &x ]\n", 2,
	    "haproxy.defaults item 2: no value", NULL);
}

/* Issue 11, finding 1: a section keyword that the old denylist missed
 * (namespace_list in Debian's 2.6, crt-store and traces in 3.x) in
 * global or defaults. defaults takes proxy keywords only. */
static void
test_err_section_lines(void **state)
{
	(void)state;
	expect_err("haproxy:\n  global:\n    - maxconn 10\n"
	    "    - namespace_list\n", 4, "haproxy.global item 2: refused: "
	    "its first word opens a HAProxy section", NULL);
	expect_err("haproxy:\n  global: [crt-store]\n", 2,
	    "haproxy.global item 1: refused: its first word opens", NULL);
	expect_err("haproxy:\n  global: [traces]\n", 2,
	    "haproxy.global item 1: refused", NULL);
	expect_err("haproxy:\n  defaults: [mode http, namespace_list]\n", 2,
	    "haproxy.defaults item 2: refused: its first word opens", NULL);
	expect_err("haproxy:\n  defaults: [crt-store x]\n", 2,
	    "haproxy.defaults item 1: refused", NULL);
	expect_err("haproxy:\n  defaults: [nbthread 2]\n", 2,
	    "haproxy.defaults item 1: refused: its first word is not a "
	    "keyword of a HAProxy proxy section", NULL);
	expect_err("haproxy:\n  global: ['.if defined(X)']\n", 2,
	    "haproxy.global item 1: refused: a '.' directive", NULL);
}

static void
test_err_integer(void **state)
{
	(void)state;
	expect_err("reload:\n  debounce_ms: fast\n", 2,
	    "reload.debounce_ms: expected an integer from 0 to 60000", NULL);
	expect_err("reload:\n  debounce_ms: 999999\n", 2,
	    "reload.debounce_ms: expected an integer from 0 to 60000", NULL);
	expect_err("reload:\n  debounce_ms: -1\n", 2,
	    "reload.debounce_ms: expected an integer", NULL);
	expect_err("reload:\n  debounce_ms: 20ms\n", 2,
	    "reload.debounce_ms: expected an integer", NULL);
	expect_err("reload:\n  debounce_ms: 2.5\n", 2,
	    "reload.debounce_ms: expected an integer", NULL);
	expect_err("reload:\n  debounce_ms: 0x10\n", 2,
	    "reload.debounce_ms: expected an integer", NULL);
	expect_err("reload:\n  debounce_ms: 99999999999999999999999\n", 2,
	    "reload.debounce_ms: expected an integer", NULL);
	expect_err("reload:\n  initial_sync_timeout_ms: 600001\n", 2,
	    "reload.initial_sync_timeout_ms: expected an integer from 0 to "
	    "600000", NULL);
	expect_err("reload:\n  initial_sync_timeout_ms: 10s\n", 2,
	    "reload.initial_sync_timeout_ms: expected an integer", NULL);
	expect_err("reload:\n  min_interval_ms: [1]\n", 2,
	    "reload.min_interval_ms: expected an integer from 0 to 600000",
	    NULL);
	expect_err("haproxy:\n  max_old_processes: 0\n", 2,
	    "haproxy.max_old_processes: expected an integer from 1 to 64",
	    NULL);
	expect_err("haproxy:\n  max_old_processes: 65\n", 2,
	    "haproxy.max_old_processes: expected an integer from 1 to 64",
	    NULL);
	expect_err("haproxy:\n  start_timeout_ms: 99\n", 2,
	    "haproxy.start_timeout_ms: expected an integer from 100 to 600000",
	    NULL);
	expect_err("haproxy:\n  stop_timeout_ms: 600001\n", 2,
	    "haproxy.stop_timeout_ms: expected an integer from 0 to 600000",
	    NULL);
}

/* Values checked beyond their type: the message names source, line and
 * key like every other. */
static void
test_err_bind_address(void **state)
{
	char *err;

	(void)state;
	err = parse_err("haproxy:\n  bind_address: localhost\n");
	assert_string_equal(err, SRC ":2: haproxy.bind_address: 'localhost' is "
	    "not an IPv4 or IPv6 address");
	free(err);
	err = parse_err("haproxy:\n  bind_address: 10.0.0.256\n");
	assert_contains(err, "haproxy.bind_address: '10.0.0.256'");
	free(err);
	err = parse_err("haproxy:\n  bind_address: '[::1]'\n");
	assert_contains(err, "haproxy.bind_address: '[::1]'");
	free(err);
}

static void
test_err_service_config(void **state)
{
	char *err;

	(void)state;
	err = parse_err("service_config:\n  type: pigeon\n");
	assert_string_equal(err, SRC ":2: service_config.type: 'pigeon' is "
	    "not a known type (known: file, zookeeper, none)");
	free(err);
	/* zookeeper needs both servers and path: the defaults are for file. */
	err = parse_err("service_config:\n  type: zookeeper\n"
	    "  path: /services\n");
	assert_string_equal(err, SRC ":2: service_config.servers is required "
	    "by type 'zookeeper' (host:port[,host:port...])");
	free(err);
	err = parse_err("service_config:\n  type: zookeeper\n"
	    "  servers: zk1:2181,zk2:2181\n");
	assert_contains(err, SRC ":2: service_config.path is required by type "
	    "'zookeeper'");
	free(err);
	err = parse_err("service_config:\n  type: zookeeper\n"
	    "  servers: zk1:2181\n  path: services\n");
	assert_contains(err, SRC ":4: service_config.path: expected an "
	    "absolute ZooKeeper path");
	free(err);
	err = parse_err("service_config:\n  type: zookeeper\n"
	    "  servers: zk1\n  path: /services\n");
	assert_contains(err, SRC ":3: service_config.servers: expected "
	    "host:port");
	free(err);
	err = parse_err("service_config:\n  type: file\n"
	    "  servers: zk1:2181\n");
	assert_string_equal(err, SRC ":3: service_config.servers: not used by "
	    "type 'file' (it takes 'path', a directory of NAME.json files)");
	free(err);
	/* Type file is the default: servers alone is refused too. */
	err = parse_err("service_config:\n  servers: zk1:2181\n");
	assert_contains(err, "service_config.servers: not used by type "
	    "'file'");
	free(err);
}

static void
test_err_root_not_mapping(void **state)
{
	(void)state;
	expect_err("- haproxy\n- reload\n", 1, "expected a mapping with the "
	    "keys haproxy, reload and service_config", NULL);
	expect_err("\n\nhaproxy\n", 3, "expected a mapping", NULL);
	expect_err("'~'\n", 1, "expected a mapping", NULL);
}

/* The first error wins, and nothing leaks on any error path (the
 * sanitizer build checks the latter). */
static void
test_err_first_wins(void **state)
{
	(void)state;
	expect_err("haproxy:\n  global: [a, b]\n  path: [x]\n"
	    "reload:\n  debounce_ms: nope\n", 3,
	    "haproxy.path: expected a string", NULL);
}

/* Source, line and key on every error, also for values checked beyond
 * their type and for checks across keys. */
static void
test_checked_values_name_their_line(void **state)
{
	(void)state;
	expect_err("haproxy:\n  bind_address: localhost\n", 2,
	    "haproxy.bind_address", NULL);
	expect_err("service_config:\n  type: zookeeper\n", 2,
	    "service_config.servers", NULL);
	expect_err("service_config:\n  type: zookeeper\n  servers: a:1\n"
	    "  path: /x/\n", 4, "service_config.path", NULL);
	expect_err("service_config:\n  type: file\n  servers: zk:2181\n", 3,
	    "service_config.servers", NULL);
}

/* A repeated key (or section) is refused, as service blobs refuse
 * duplicate JSON keys, rather than merged with the last value winning. */
static void
test_duplicate_keys(void **state)
{
	(void)state;
	expect_err("haproxy:\n  path: /a\n  path: /b\n", 3, "haproxy.path",
	    NULL);
	expect_err("reload:\n  debounce_ms: 5\nreload:\n  min_interval_ms: 9\n",
	    3, "reload", NULL);
}

/* ---- hostile values: empty, null, anchored, aliased, merged ---- */

/* Each key, by section, with its kind; NULL key: the section itself. */
static const struct {
	const char	*section;
	const char	*key;
} hostile_keys[] = {
	{ "haproxy", "path" }, { "haproxy", "config_path" },
	{ "haproxy", "socket_path" }, { "haproxy", "bind_address" },
	{ "haproxy", "global" }, { "haproxy", "defaults" },
	{ "haproxy", "hard_stop_after" }, { "haproxy", "max_old_processes" },
	{ "haproxy", "start_timeout_ms" }, { "haproxy", "stop_timeout_ms" },
	{ "haproxy", "runtime_api" }, { "haproxy", "max_disabled_servers" },
	{ "haproxy", "runtime_timeout_ms" }, { "haproxy", "managed" },
	{ "haproxy", "rendered_path" },
	{ "reload", "debounce_ms" }, { "reload", "min_interval_ms" },
	{ "reload", "runtime_debounce_ms" },
	{ "reload", "initial_sync_timeout_ms" },
	{ "service_config", "type" }, { "service_config", "path" },
	{ "service_config", "servers" },
	{ "listeners", "APP_2" },
	{ "haproxy", "<<" }, { "reload", "<<" }, { "service_config", "<<" },
	{ "listeners", "<<" },
	{ "haproxy", NULL }, { "reload", NULL }, { "service_config", NULL },
	{ "listeners", NULL },
};

/* Values that once reached a NULL pointer or that libyaml resolves in
 * ways a parser forgets: *s, *l and *m are a scalar, a list and a
 * mapping anchored earlier in the document. */
static const char *const hostile_values[] = {
	"", "~", "null", "&x", "&x ~", "!!null", "!!str", "''", "\"\"",
	"*s", "*l", "*m", "[]", "{}", "[~]", "['']", "[*m]", "[*l]",
	"{<<: *m}", "&y [*y]", "&z {a: *z}", "\"a\\0b\"",
};

/* A document where section.key (last, so that the anchors come first)
 * is value; *line gets the line of the key. The other sections hold the
 * anchors: s (scalar), l (list), m (mapping). */
static char *
hostile_doc(const char *section, const char *key, const char *value,
    int *line)
{
	static const char *const order[] = { "listeners", "haproxy", "reload",
	    "service_config", NULL };
	struct sbuf sb;
	int n = 0;

	sbuf_init(&sb);
	for (int pass = 0; pass < 2; pass++)
	for (size_t i = 0; order[i] != NULL; i++) {
		const char *sec = order[i];
		bool tested = strcmp(sec, section) == 0;

		if (tested != (pass == 1))
			continue;
		if (tested && key == NULL) {
			sbuf_printf(&sb, "%s: %s\n", sec, value);
			*line = ++n;
			continue;
		}
		/* The mapping anchor: reload's, or listeners' when reload is
		 * tested (anchor names must be unique). */
		sbuf_printf(&sb, "%s:%s\n", sec,
		    strcmp(sec, strcmp(section, "reload") == 0 ? "listeners" :
		    "reload") == 0 ? " &m" : "");
		n++;
		if (strcmp(sec, "listeners") == 0) {
			sbuf_puts(&sb, "  APP_1: 127.0.0.1:19999\n");
			n++;
		} else if (strcmp(sec, "haproxy") == 0) {
			bool hsa = tested && strcmp(key, "hard_stop_after") == 0;
			bool def = tested && strcmp(key, "defaults") == 0;
			sbuf_printf(&sb, "  %s: &s %s\n",
			    hsa ? "path" : "hard_stop_after",
			    hsa ? "/usr/sbin/haproxy" : "30s");
			sbuf_printf(&sb, "  %s: &l [mode http]\n", def ?
			    "global" : "defaults");
			n += 2;
		} else if (strcmp(sec, "reload") == 0) {
			if (!tested || strcmp(key, "debounce_ms") != 0) {
				sbuf_puts(&sb, "  debounce_ms: 5\n");
				n++;
			} else {
				sbuf_puts(&sb, "  min_interval_ms: 5\n");
				n++;
			}
		} else {
			static const char *const sc[][2] = { { "type",
			    "zookeeper" }, { "servers", "zk1:2181" },
			    { "path", "/services" } };
			for (size_t j = 0; j < 3; j++)
				if (!tested || strcmp(key, sc[j][0]) != 0) {
					sbuf_printf(&sb, "  %s: %s\n", sc[j][0],
					    sc[j][1]);
					n++;
				}
		}
		if (tested) {
			sbuf_printf(&sb, "  %s: %s\n", key, value);
			*line = ++n;
		}
	}
	return sbuf_take(&sb);
}

/* Every key of every kind, with every hostile value: no crash (the
 * sanitizer build runs this too), and either a configuration or an error
 * that names the file and a line of it; an error about the key itself
 * names the line where the key was written. */
static void
test_hostile_values_never_crash(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(hostile_keys) / sizeof(hostile_keys[0]);
	    k++)
	for (size_t v = 0; v < sizeof(hostile_values) /
	    sizeof(hostile_values[0]); v++) {
		const char *sec = hostile_keys[k].section;
		const char *key = hostile_keys[k].key;
		struct pm_config *cfg = NULL;
		char *text, *err = NULL, *name, *end;
		int line = 0, rc;
		long at;

		text = hostile_doc(sec, key, hostile_values[v], &line);
		rc = pmconfig_parse(text, strlen(text), SRC, &cfg, &err);
		name = key == NULL ? xstrdup(sec) :
		    xasprintf("%s.%s", sec, key);
		if (rc == 0) {
			assert_non_null(cfg);
			assert_null(err);
			pmconfig_unref(cfg);
		} else {
			assert_null(cfg);
			assert_non_null(err);
			if (strncmp(err, SRC ":", strlen(SRC ":")) != 0)
				fail_msg("%s = '%s': '%s' names no file", name,
				    hostile_values[v], err);
			at = strtol(err + strlen(SRC ":"), &end, 10);
			if (*end != ':' || at < 1 || at > line)
				fail_msg("%s = '%s': '%s' names no line of the "
				    "document:\n%s", name, hostile_values[v],
				    err, text);
			if (strstr(err, name) != NULL && strstr(err,
			    "invalid YAML") == NULL && at != line)
				fail_msg("%s = '%s': '%s' is not at line %d:\n"
				    "%s", name, hostile_values[v], err, line,
				    text);
			free(err);
		}
		free(name);
		free(text);
	}
}

/* The crash of issue 11: servers with no value, in block and flow style,
 * anchored or not, is the error of a missing servers key, at its line. */
static void
test_zk_servers_without_value(void **state)
{
	static const char *const values[] = { "", "~", "null", "&x", "&x ~",
	    "!!null" };

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char *text = xasprintf("service_config: {type: zookeeper, "
		    "servers: %s }\n", values[i]);
		expect_err(text, 1, "service_config.servers: no value, but it "
		    "is required by type 'zookeeper'", NULL);
		free(text);
		text = xasprintf("service_config:\n  type: zookeeper\n"
		    "  servers: %s\n  path: /services\n", values[i]);
		expect_err(text, 3, "service_config.servers: no value", NULL);
		free(text);
	}
	/* With type file, a servers key with no value is as if absent. */
	struct pm_config *cfg = parse_ok("service_config:\n  servers: ~\n");
	assert_null(cfg->sc_servers);
	pmconfig_unref(cfg);
}

/* A key with no value keeps its default; where there is none, that is
 * an error at the key's line, not a silent fallback to another mode's
 * default. */
static void
test_no_value_without_default(void **state)
{
	struct pm_config *cfg;

	(void)state;
	/* The default path is a directory for type file, not a node. */
	expect_err("service_config:\n  type: zookeeper\n  servers: zk:2181\n"
	    "  path: &p\n", 4, "service_config.path: no value, but it is "
	    "required by type 'zookeeper'", NULL);
	/* managed: false needs the user's file, not the rendered one. */
	expect_err("haproxy:\n  managed: false\n  config_path:\n", 3,
	    "haproxy.config_path: no value, but it is required with managed: "
	    "false", NULL);
	/* A service_config section with no value is no section: with
	 * managed: false, no managed services. */
	cfg = parse_ok("haproxy:\n  managed: false\n  config_path: /h.cfg\n"
	    "service_config: &x\n");
	assert_string_equal(cfg->sc_type, "none");
	pmconfig_unref(cfg);
	/* Nor does rendered_path with no value need managed: false. */
	cfg = parse_ok("haproxy:\n  rendered_path: ~\n");
	assert_null(cfg->rendered_path);
	pmconfig_unref(cfg);
	/* A listener has no default address. */
	expect_err("listeners:\n  APP_1:\n", 2, "listeners.APP_1: no value "
	    "(expected ADDR:PORT)", NULL);
	expect_err("listeners:\n  APP_1: &a ~\n", 2, "listeners.APP_1: no "
	    "value", NULL);
}

/* An alias is the node of its anchor, with the anchor's position: an
 * error names where the alias was written. A good alias is a value like
 * any other. */
static void
test_aliases(void **state)
{
	static const char *const one[] = { "maxconn 10", NULL };
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok("haproxy:\n  hard_stop_after: &t 30s\n"
	    "  global: &g [maxconn 10]\n  defaults: *g\n"
	    "reload:\n  debounce_ms: &n 7\n  min_interval_ms: *n\n");
	assert_string_equal(cfg->hard_stop_after, "30s");
	assert_strv(cfg->defaults, one);
	assert_int_equal(cfg->min_interval_ms, 7);
	pmconfig_unref(cfg);
	expect_err("haproxy:\n  path: &p /usr/sbin/haproxy\n"
	    "reload:\n  debounce_ms: *p\n", 4,
	    "reload.debounce_ms: expected an integer", NULL);
	expect_err("haproxy:\n  global: &g [maxconn 10]\n"
	    "reload:\n  debounce_ms: 5\n  min_interval_ms: *g\n", 5,
	    "reload.min_interval_ms: expected an integer", NULL);
	/* An aliased item (libyaml keeps no position for an alias: the
	 * list's line), and a whole aliased section. */
	expect_err("reload: &r {debounce_ms: 5}\nhaproxy:\n  global:\n"
	    "    - maxconn 1\n    - *r\n", 4, "haproxy.global item 2", NULL);
	expect_err("haproxy: &h\n  path: /x\nreload: *h\n", 3,
	    "unknown key 'reload.path'", NULL);
	expect_err("haproxy: &h\n  path: /x\nlisteners: *h\n", 3,
	    "listeners.path: '/x': expected ADDR:PORT", NULL);
	/* A list or mapping that holds itself. */
	expect_err("haproxy:\n  global: &g [*g]\n", 2,
	    "haproxy.global item 1", NULL);
	expect_err("haproxy: &h\n  path: *h\n", 2,
	    "haproxy.path: expected a string, found a mapping", NULL);
}

/* libyaml knows no merge keys: "<<" is refused by name, wherever. */
static void
test_merge_keys(void **state)
{
	(void)state;
	expect_err("reload: &r\n  debounce_ms: 5\nhaproxy:\n  <<: *r\n", 4,
	    "haproxy.<<: YAML merge keys are not supported", NULL);
	expect_err("reload: &r {debounce_ms: 5}\n<<: *r\n", 2,
	    "<<: YAML merge keys are not supported", NULL);
	expect_err("listeners: {<<: {A: '1.2.3.4:5'}}\n", 1,
	    "listeners.<<: YAML merge keys", NULL);
	expect_err("reload: &r {debounce_ms: 5}\nhaproxy:\n  path: {<<: *r}\n",
	    3, "haproxy.path: expected a string, found a mapping", NULL);
}

/* A NUL inside an integer, boolean or listener is no value either. */
static void
test_embedded_nul(void **state)
{
	static const char i[] = "reload:\n  debounce_ms: \"5\\0x\"\n";
	static const char b[] = "haproxy:\n  runtime_api: \"true\\0x\"\n";
	static const char l[] = "listeners:\n  A: \"127.0.0.1:80\\0x\"\n";
	char *err;

	(void)state;
	err = parse_err(i);
	assert_contains(err, SRC ":2: reload.debounce_ms: expected an integer");
	free(err);
	err = parse_err(b);
	assert_contains(err, SRC ":2: haproxy.runtime_api: expected true");
	free(err);
	err = parse_err(l);
	assert_contains(err, SRC ":2: listeners.A: expected ADDR:PORT");
	free(err);
}

/* haproxy.user and haproxy.group: checked against the user database at
 * load, and turned into the global lines HAProxy drops to. */
static void
test_identity(void **state)
{
	struct pm_config *cfg;
	struct passwd *pw = getpwnam("nobody");
	struct group *gr;
	char *err, *want;

	uid_t nobody_uid;
	gid_t nobody_gid;

	(void)state;
	assert_non_null(pw);
	/* getpwnam's storage is overwritten by the next lookup. */
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	gr = getgrgid(nobody_gid);
	assert_non_null(gr);

	err = parse_err("haproxy:\n  user: pm-no-such-user\n");
	assert_string_equal(err, SRC ":2: haproxy.user: no user "
	    "'pm-no-such-user' on this system");
	free(err);
	err = parse_err("haproxy:\n  max_old_processes: 2\n"
	    "  group: pm-no-such-group\n");
	assert_string_equal(err, SRC ":3: haproxy.group: no group "
	    "'pm-no-such-group' on this system");
	free(err);
	err = parse_err("haproxy:\n  user: \"nobody x\"\n");
	assert_contains(err, SRC ":2: haproxy.user: 'nobody x' is not a user "
	    "name");
	free(err);
	err = parse_err("haproxy:\n  user: [nobody]\n");
	assert_contains(err, SRC ":2: haproxy.user: expected a string");
	free(err);

	if (geteuid() != 0) {
		/* Not root: only proxymgrd's own user is allowed. */
		err = parse_err("haproxy:\n  user: root\n");
		assert_contains(err, "not root");
		free(err);
		return;
	}
	cfg = parse_ok("haproxy:\n  user: nobody\n");
	assert_string_equal(cfg->hap_user, "nobody");
	assert_string_equal(cfg->drop_user, "user nobody");
	gr = getgrgid(nobody_gid);
	want = xasprintf("group %s", gr->gr_name);
	assert_string_equal(cfg->drop_group, want);
	free(want);
	pmconfig_unref(cfg);

	/* Root by name stays root; a group alone is rendered. */
	cfg = parse_ok("haproxy:\n  user: root\n");
	assert_null(cfg->drop_user);
	assert_null(cfg->drop_group);
	pmconfig_identity(cfg, true);
	assert_null(cfg->drop_user);
	pmconfig_unref(cfg);
	cfg = parse_ok("haproxy:\n  group: root\n");
	assert_null(cfg->drop_user);
	assert_string_equal(cfg->drop_group, "group root");
	pmconfig_unref(cfg);

	/* The default: haproxy where it exists, else root with a note. */
	cfg = parse_ok("haproxy:\n  max_old_processes: 2\n");
	assert_null(cfg->drop_user);
	pmconfig_identity(cfg, true);
	if (getpwnam("haproxy") != NULL) {
		assert_string_equal(cfg->drop_user, "user haproxy");
		assert_non_null(cfg->drop_group);
		assert_null(cfg->drop_note);
	} else {
		assert_null(cfg->drop_user);
		assert_contains(cfg->drop_note, "no user 'haproxy'");
	}
	pmconfig_unref(cfg);

	/* The operator's user without a group: left alone, but said. */
	cfg = parse_ok("haproxy:\n  global: [\"user nobody\"]\n");
	pmconfig_identity(cfg, true);
	assert_null(cfg->drop_user);
	assert_contains(cfg->drop_note, "sets user but no group");
	pmconfig_unref(cfg);

	/* Not root: another user is refused, one's own is fine. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *e = NULL;
		struct pm_config *c = NULL;
		const char *yml = "haproxy:\n  user: root\n";
		const char *own = "haproxy:\n  user: nobody\n";
		if (setgid(nobody_gid) == -1 || setuid(nobody_uid) == -1)
			_exit(2);
		if (pmconfig_parse(yml, strlen(yml), SRC, &c, &e) != -1 ||
		    strstr(e, SRC ":2: haproxy.user: proxymgrd runs as uid ") ==
		    NULL || strstr(e, "not root") == NULL)
			_exit(3);
		free(e);
		e = NULL;
		if (pmconfig_parse(own, strlen(own), SRC, &c, &e) != 0) {
			fprintf(stderr, "%s\n", e);
			_exit(4);
		}
		if (c->drop_user != NULL)
			_exit(5);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* log: and metrics:, their defaults and their errors. */
static void
test_log_and_metrics(void **state)
{
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok("");
	assert_string_equal(cfg->log_format, "text");
	assert_false(cfg->log_syslog);
	assert_string_equal(cfg->log_facility, "daemon");
	assert_null(cfg->metrics_addr);
	pmconfig_unref(cfg);

	cfg = parse_ok("log:\n  format: json\n  syslog: true\n"
	    "  facility: local3\nmetrics:\n  listen: 127.0.0.1:9187\n");
	assert_string_equal(cfg->log_format, "json");
	assert_true(cfg->log_syslog);
	assert_string_equal(cfg->log_facility, "local3");
	assert_string_equal(cfg->metrics_addr, "127.0.0.1");
	assert_int_equal(cfg->metrics_port, 9187);
	pmconfig_unref(cfg);

	cfg = parse_ok("metrics:\n  listen: \"[::1]:9187\"\n");
	assert_string_equal(cfg->metrics_addr, "::1");
	pmconfig_unref(cfg);
	cfg = parse_ok("metrics:\n  listen:\n");
	assert_null(cfg->metrics_addr);
	pmconfig_unref(cfg);

	expect_err("log:\n  format: xml\n", 2, "log.format: 'xml' is not a "
	    "known format (known: text, json)", NULL);
	expect_err("log:\n  syslog: maybe\n", 2, "log.syslog: expected true "
	    "or false", NULL);
	expect_err("log:\n  syslog: true\n  facility: kern\n", 3,
	    "log.facility: 'kern' is not a syslog facility", "local0");
	expect_err("log:\n  format: json\n  facility: local0\n", 3,
	    "log.facility: only used with syslog: true", NULL);
	expect_err("log:\n  level: debug\n", 2, "unknown key 'log.level'",
	    NULL);
	expect_err("\nmetrics:\n  listen: 127.0.0.1:99999\n", 3,
	    "metrics.listen: '127.0.0.1:99999': expected ADDR:PORT", NULL);
	expect_err("metrics:\n  listen: localhost:9100\n", 2,
	    "metrics.listen: 'localhost:9100': 'localhost' is not an IPv4 or "
	    "IPv6 address", NULL);
	expect_err("metrics:\n  port: 9100\n", 2,
	    "unknown key 'metrics.port'", NULL);
	expect_err("metrics: [1]\n", 1, "metrics: expected a mapping", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_control_socket),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_defaults_when_absent),
		cmocka_unit_test(test_null_values_mean_default),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_proxymgr_example),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_err_yaml_syntax),
		cmocka_unit_test(test_err_unknown_top_level_key),
		cmocka_unit_test(test_err_unknown_section_key),
		cmocka_unit_test(test_err_section_not_mapping),
		cmocka_unit_test(test_err_string_expected),
		cmocka_unit_test(test_err_string_refused),
		cmocka_unit_test(test_err_list_expected),
		cmocka_unit_test(test_err_list_items),
		cmocka_unit_test(test_err_section_lines),
		cmocka_unit_test(test_err_integer),
		cmocka_unit_test(test_runtime_settings),
		cmocka_unit_test(test_err_bind_address),
		cmocka_unit_test(test_err_service_config),
		cmocka_unit_test(test_err_root_not_mapping),
		cmocka_unit_test(test_err_first_wins),
		cmocka_unit_test(test_checked_values_name_their_line),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_hostile_values_never_crash),
		cmocka_unit_test(test_zk_servers_without_value),
		cmocka_unit_test(test_no_value_without_default),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_log_and_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
