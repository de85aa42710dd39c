/* Unit tests for the hand-written-config mode: listeners: and
 * haproxy.managed in proxymgr.yml, the wrapper's command line (RAProxy's
 * -s with @BACKLOG, the arguments after --, --watch, --no-watch), listener
 * addresses and names, --env-file, and sd_notify socket addresses. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pmconfig.h"
#include "sdnotify.h"
#include "util.h"
#include "wrapper.h"

#define SRC "proxymgr.yml"

static struct pm_config *
parse_ok(const char *text)
{
	struct pm_config *cfg = NULL;
	char *err = NULL;

	if (pmconfig_parse(text, strlen(text), SRC, &cfg, &err) != 0)
		fail_msg("unexpected error: %s", err ? err : "(null)");
	return cfg;
}

static void
expect_err(const char *text, const char *prefix, const char *needle)
{
	struct pm_config *cfg = NULL;
	char *err = NULL;

	assert_int_equal(pmconfig_parse(text, strlen(text), SRC, &cfg, &err),
	    -1);
	assert_null(cfg);
	assert_non_null(err);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("'%s' does not start with '%s'", err, prefix);
	if (strstr(err, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", err, needle);
	free(err);
}

static void
test_listeners_unmanaged(void **state)
{
	struct pm_config *cfg;

	(void)state;
	cfg = parse_ok(
	    "listeners:\n"
	    "  APP_1: 0.0.0.0:8080\n"
	    "  APP_TLS: \"[::]:8443\"\n"
	    "  _x9: '*:81'\n"
	    "haproxy:\n"
	    "  config_path: /etc/haproxy/haproxy.cfg\n"
	    "  socket_path: /run/pm/haproxy.sock\n"
	    "  managed: false\n");
	assert_false(cfg->managed);
	assert_int_equal(cfg->nlisteners, 3);
	assert_string_equal(cfg->listeners[0].name, "APP_1");
	assert_string_equal(cfg->listeners[0].addr, "0.0.0.0");
	assert_int_equal(cfg->listeners[0].port, 8080);
	assert_string_equal(cfg->listeners[1].addr, "::");
	assert_int_equal(cfg->listeners[1].port, 8443);
	assert_string_equal(cfg->listeners[2].addr, "0.0.0.0");
	assert_string_equal(cfg->user_config, "/etc/haproxy/haproxy.cfg");
	assert_string_equal(cfg->config_path, "/run/pm/proxymgrd.cfg");
	/* No service_config section: only the hand-written file. */
	assert_string_equal(cfg->sc_type, "none");
	pmconfig_unref(cfg);

	cfg = parse_ok(
	    "haproxy:\n"
	    "  config_path: /etc/haproxy/haproxy.cfg\n"
	    "  rendered_path: /run/x/pm.cfg\n"
	    "  managed: no\n"
	    "service_config:\n"
	    "  path: /etc/proxymgr/services\n");
	assert_string_equal(cfg->config_path, "/run/x/pm.cfg");
	assert_string_equal(cfg->sc_type, "file");
	pmconfig_unref(cfg);

	cfg = parse_ok("haproxy:\n  managed: true\n");
	assert_true(cfg->managed);
	assert_null(cfg->user_config);
	assert_int_equal(cfg->nlisteners, 0);
	pmconfig_unref(cfg);
}

static void
test_listener_errors(void **state)
{
	(void)state;
	expect_err("listeners:\n  1APP: 0.0.0.0:80\n", SRC ":2:", "'1APP'");
	expect_err("listeners:\n  PATH: 0.0.0.0:80\n", SRC ":2:", "'PATH'");
	expect_err("listeners:\n  HAPROXY_X: 0.0.0.0:80\n", SRC ":2:",
	    "not a usable name");
	expect_err("listeners:\n  LD_PRELOAD: 0.0.0.0:80\n", SRC ":2:",
	    "not a usable name");
	expect_err("listeners:\n  A: 0.0.0.0:0\n", SRC ":2:",
	    "listeners.A: '0.0.0.0:0'");
	expect_err("listeners:\n  A: foo:80\n", SRC ":2:",
	    "'foo' is not an IPv4 or IPv6 address");
	expect_err("listeners:\n  A: ::1:80\n", SRC ":2:", "brackets");
	expect_err("listeners:\n  A: [1, 2]\n", SRC ":2:",
	    "expected ADDR:PORT");
	expect_err("listeners:\n  A: 0.0.0.0:80\n  B: 0.0.0.0:80\n", SRC ":3:",
	    "both have 0.0.0.0 port 80");
	expect_err("listeners:\n  A: 0.0.0.0:80\n  A: 0.0.0.0:81\n", SRC ":3:",
	    "given twice");
	expect_err("listeners: [a]\n", SRC ":1:", "expected a mapping");
	expect_err("haproxy:\n  managed: false\n", SRC ":2:",
	    "haproxy.config_path is required with managed: false");
	expect_err("haproxy:\n  managed: maybe\n", SRC ":2:",
	    "haproxy.managed: expected true or false");
	expect_err("haproxy:\n  rendered_path: /x\n", SRC ":2:",
	    "only used with managed: false");
}

static void
test_cli(void **state)
{
	const char *svc[] = { "APP_1=0.0.0.0:8080", "APP_2=8081" };
	struct cli_wrapper w = {
		.binary = "/usr/sbin/haproxy",
		.haproxy_cfg = "/etc/haproxy/haproxy.cfg",
		.services = svc, .nservices = 2,
		.run_dir = "/run/x", .min_interval_ms = -1,
	};
	struct pm_config *cfg;
	char *err = NULL;

	(void)state;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
	assert_string_equal(cfg->haproxy_path, "/usr/sbin/haproxy");
	assert_string_equal(cfg->user_config, "/etc/haproxy/haproxy.cfg");
	assert_string_equal(cfg->config_path, "/run/x/proxymgrd.cfg");
	assert_string_equal(cfg->socket_path, "/run/x/haproxy.sock");
	assert_string_equal(cfg->sc_type, "none");
	assert_int_equal(cfg->nlisteners, 2);
	assert_int_equal(cfg->listeners[1].port, 8081);
	assert_string_equal(cfg->listeners[1].addr, "0.0.0.0");
	assert_int_equal(cfg->min_interval_ms, 500);
	pmconfig_unref(cfg);

	svc[1] = "APP_1=0.0.0.0:8081";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "given twice"));
	free(err);
	err = NULL;
	svc[1] = "NOEQUALS";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "-s NOEQUALS: expected NAME=ADDR:PORT"));
	free(err);
	err = NULL;
	svc[1] = "B=1.2.3:80";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "not an IPv4"));
	free(err);
	err = NULL;
	svc[1] = "B=80";
	w.user = "pm-no-such-user";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_string_equal(err, "--user pm-no-such-user: no user "
	    "'pm-no-such-user' on this system");
	free(err);
	err = NULL;
	w.user = NULL;
	w.group = "pm-no-such-group";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_string_equal(err, "--group pm-no-such-group: no group "
	    "'pm-no-such-group' on this system");
	free(err);
	err = NULL;
	if (geteuid() == 0) {
		w.group = NULL;
		w.user = "nobody";
		assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
		assert_string_equal(cfg->drop_user, "user nobody");
		assert_non_null(cfg->drop_group);
		pmconfig_unref(cfg);
	}
}


static void
test_backlog(void **state)
{
	const char *svc[] = { "APP_1=0.0.0.0:8080@1000", "APP_2=[::1]:81" };
	struct cli_wrapper w = {
		.haproxy_cfg = "/etc/haproxy/haproxy.cfg",
		.services = svc, .nservices = 2, .min_interval_ms = -1,
	};
	const char *bad[] = { "A=1.2.3.4:80@0", "A=1.2.3.4:80@65536",
	    "A=1.2.3.4:80@", "A=1.2.3.4:80@x", "A=1.2.3.4:80@-5",
	    "A=1.2.3.4:80@ 5", "A=1.2.3.4@80", NULL };
	struct pm_config *cfg;
	char *err = NULL;
	int b;

	(void)state;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
	assert_int_equal(cfg->listeners[0].port, 8080);
	assert_int_equal(cfg->listeners[0].backlog, 1000);
	assert_string_equal(cfg->listeners[1].addr, "::1");
	assert_int_equal(cfg->listeners[1].backlog, 0);
	pmconfig_unref(cfg);
	for (size_t i = 0; bad[i] != NULL; i++) {
		svc[1] = bad[i];
		assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
		if (strstr(err, bad[i]) == NULL)
			fail_msg("'%s': '%s' does not name it", bad[i], err);
		free(err);
		err = NULL;
	}
	assert_true(pmconfig_parse_backlog("65535", &b));
	assert_int_equal(b, 65535);
	assert_true(pmconfig_parse_backlog("1", &b));
	assert_false(pmconfig_parse_backlog("+1", &b));
	assert_false(pmconfig_parse_backlog("", &b));

	cfg = parse_ok("listeners:\n  APP: 127.0.0.1:80@222\n");
	assert_int_equal(cfg->listeners[0].backlog, 222);
	assert_int_equal(cfg->listeners[0].port, 80);
	pmconfig_unref(cfg);
	expect_err("listeners:\n  APP: 127.0.0.1:80@99999\n", SRC ":2:",
	    "listeners.APP: '127.0.0.1:80@99999': expected "
	    "ADDR:PORT@BACKLOG");
}

static void
test_cli_haproxy_args(void **state)
{
	char *args[] = { "-f", "/etc/haproxy/b.cfg", "-f", "conf.d", "-L",
	    "peer1", NULL };
	const char *watch[] = { "/etc/haproxy/certs" };
	struct cli_wrapper w = {
		.binary = "haproxy", .haproxy_cfg = "/etc/haproxy/a.cfg",
		.min_interval_ms = -1, .haproxy_args = args,
		.watch = watch, .nwatch = 1, .env_file = "/etc/haproxy/env",
	};
	char *owned[] = { "-sf", "-x", "-D", "-W", "-c", "-p", "-db", NULL };
	struct pm_config *cfg;
	char *err = NULL, *one[3] = { NULL, NULL, NULL };

	(void)state;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
	assert_true(strv_equal(cfg->haproxy_args, args));
	/* --watch first, then each -f after --, made absolute. */
	assert_int_equal(strv_len(cfg->watch), 3);
	assert_string_equal(cfg->watch[0], "/etc/haproxy/certs");
	assert_string_equal(cfg->watch[1], "/etc/haproxy/b.cfg");
	assert_true(cfg->watch[2][0] == '/');
	assert_non_null(strstr(cfg->watch[2], "/conf.d"));
	assert_string_equal(cfg->env_file, "/etc/haproxy/env");
	assert_false(cfg->no_watch);
	pmconfig_unref(cfg);

	/* --no-watch: nothing to watch, --watch with it is an error. */
	w.nwatch = 0;
	w.no_watch = true;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
	assert_true(cfg->no_watch);
	assert_int_equal(strv_len(cfg->watch), 0);
	pmconfig_unref(cfg);
	w.nwatch = 1;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "--watch and --no-watch"));
	free(err);
	err = NULL;
	w.nwatch = 0;
	w.no_watch = false;

	w.haproxy_args = one;
	for (size_t i = 0; owned[i] != NULL; i++) {
		one[0] = owned[i];
		assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
		if (strncmp(err, "-- ", 3) != 0 || strstr(err, owned[i]) == NULL)
			fail_msg("%s: '%s'", owned[i], err);
		free(err);
		err = NULL;
	}
	one[0] = "-f";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "-- -f: a file or directory must follow"));
	free(err);
	err = NULL;
	one[0] = "-fx.cfg";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "write -f PATH"));
	free(err);
	err = NULL;
	/* The wrapper needs -c however it was asked for. */
	one[0] = "-L";
	one[1] = "x";
	w.haproxy_cfg = NULL;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "needs -c FILE"));
	free(err);
}

/* wrapper_env_parse of text; NULL when it fails, with *err. */
static char **
env_parse(const char *text, const struct pm_config *cfg, char **err)
{
	char **env = NULL;

	*err = NULL;
	if (wrapper_env_parse("/x/env", text, strlen(text), cfg, &env,
	    err) == -1) {
		assert_null(env);
		assert_non_null(*err);
		return NULL;
	}
	return env;
}

static void
expect_env_err(const char *text, const struct pm_config *cfg,
    const char *needle)
{
	char *err, **env = env_parse(text, cfg, &err);

	if (env != NULL)
		fail_msg("'%s' parsed", text);
	if (strstr(err, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", err, needle);
	free(err);
}

static void
test_env_file(void **state)
{
	const char *svc[] = { "APP_1=8080" };
	struct cli_wrapper w = {
		.haproxy_cfg = "/h.cfg", .services = svc, .nservices = 1,
		.min_interval_ms = -1,
	};
	struct pm_config *cfg;
	char *err = NULL, **env;

	(void)state;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
	env = env_parse("# a comment\n\n  A=1\r\nexport B=\"two words\"\n"
	    "C='x=y'\nEMPTY=\n  # indented comment\nA=again\n"
	    "PATH=/opt/bin\nD=\"unbalanced\n", cfg, &err);
	assert_non_null(env);
	assert_int_equal(strv_len(env), 6);
	assert_string_equal(env[0], "A=again");	/* a later line wins */
	assert_string_equal(env[1], "B=two words");
	assert_string_equal(env[2], "C=x=y");
	assert_string_equal(env[3], "EMPTY=");
	assert_string_equal(env[4], "PATH=/opt/bin");
	assert_string_equal(env[5], "D=\"unbalanced");
	strv_free(env);
	env = env_parse("", cfg, &err);
	assert_non_null(env);
	assert_int_equal(strv_len(env), 0);
	strv_free(env);

	expect_env_err("A=1\nno equals\n", cfg, "/x/env:2: expected NAME=VALUE");
	expect_env_err("\n\n1A=1\n", cfg, "/x/env:3: '1A' is not a variable");
	expect_env_err("A-B=1\n", cfg, "/x/env:1: 'A-B' is not");
	expect_env_err("=1\n", cfg, "/x/env:1: '' is not");
	expect_env_err("APP_1=7\n", cfg, "/x/env:1: APP_1 is the named "
	    "listener's fd (-s APP_1=...)");
	expect_env_err("HAPROXY_MWORKER_REEXEC=1\n", cfg, "/x/env:1: "
	    "HAPROXY_MWORKER_REEXEC is proxymgrd's or HAProxy's own");
	expect_env_err("LISTEN_FDS=1\n", cfg, "LISTEN_FDS is");
	expect_env_err("LD_PRELOAD=/x.so\n", cfg, "LD_PRELOAD is");
	expect_env_err("NOTIFY_SOCKET=/x\n", cfg, "NOTIFY_SOCKET is");
	expect_env_err("PROXYMGRD_UPGRADE=1\n", cfg, "PROXYMGRD_UPGRADE is");
	{
		static const char nul[] = "A=1\nB=\0x\n";
		char **e = NULL;
		assert_int_equal(wrapper_env_parse("/x/env", nul,
		    sizeof(nul) - 1, cfg, &e, &err), -1);
		assert_non_null(strstr(err, "/x/env:2: a NUL byte"));
		free(err);
	}
	pmconfig_unref(cfg);
}

/* --log-format, --syslog and --metrics-listen: the log and metrics keys
 * of the command line. */
static void
test_cli_log_metrics(void **state)
{
	const char *svc[] = { "APP_1=127.0.0.1:8080" };
	struct cli_wrapper w = {
		.haproxy_cfg = "/etc/haproxy/haproxy.cfg",
		.services = svc, .nservices = 1, .min_interval_ms = -1,
		.log_format = "json", .syslog_facility = "local4",
		.metrics_listen = "[::1]:9187",
	};
	struct pm_config *cfg;
	char *err = NULL;

	(void)state;
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), 0);
	assert_string_equal(cfg->log_format, "json");
	assert_true(cfg->log_syslog);
	assert_string_equal(cfg->log_facility, "local4");
	assert_string_equal(cfg->metrics_addr, "::1");
	assert_int_equal(cfg->metrics_port, 9187);
	pmconfig_unref(cfg);

	w.log_format = "yaml";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "--log-format yaml: expected text or json"));
	free(err);
	err = NULL;
	w.log_format = NULL;
	w.syslog_facility = "kern";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "--syslog kern: expected a facility"));
	free(err);
	err = NULL;
	w.syslog_facility = NULL;
	w.metrics_listen = "127.0.0.1:0";
	assert_int_equal(cli_wrapper_config(&w, &cfg, &err), -1);
	assert_non_null(strstr(err, "--metrics-listen '127.0.0.1:0': expected "
	    "ADDR:PORT"));
	free(err);
}

static void
test_sdnotify_addr(void **state)
{
	struct sockaddr_un sa;
	socklen_t len;

	(void)state;
	assert_int_equal(sdnotify_addr("/run/systemd/notify", &sa, &len), 0);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) +
	    strlen("/run/systemd/notify") + 1);
	assert_int_equal(sdnotify_addr("@abstract/x", &sa, &len), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "abstract/x", 10);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 11);
	assert_int_equal(sdnotify_addr("relative", &sa, &len), -1);
	assert_int_equal(sdnotify_addr("", &sa, &len), -1);
	assert_int_equal(sdnotify_addr("@", &sa, &len), -1);
	assert_int_equal(sdnotify_addr(NULL, &sa, &len), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listeners_unmanaged),
		cmocka_unit_test(test_listener_errors),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_backlog),
		cmocka_unit_test(test_cli_haproxy_args),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_cli_log_metrics),
		cmocka_unit_test(test_sdnotify_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
