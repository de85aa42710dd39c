/* Unit tests for check_report_parse() on real `haproxy -c` output
 * (HAProxy 2.6.12, Debian 12), saved in tests/data/check-*.txt from
 * broken copies of tests/data/render-full.cfg (fd@ binds replaced by
 * 127.0.0.1 ports) checked as /tmp/pm-check/run/haproxy.cfg.new. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/check_report.h"
#include "util.h"

#define CHECKED	"/tmp/pm-check/run/haproxy.cfg.new"

/* A saved output, parsed as the check that printed it (the pid of its
 * first line) on the file it checked. */
static void
parse_file_as(const char *name, const char *file, struct check_report *r)
{
	char *path = xasprintf("%s/check-%s.txt", TEST_DATA_DIR, name), *text;
	size_t len;
	int pid = 0;

	text = read_file(path, READ_FILE_CONFIG_MAX, &len, NULL);
	if (text == NULL)
		fail_msg("cannot read %s", path);
	if (sscanf(text, "[NOTICE] (%d)", &pid) != 1)
		fail_msg("%s: no pid on its first line", path);
	check_report_parse(text, pid, file, r);
	free(text);
	free(path);
}

static void
parse_file(const char *name, struct check_report *r)
{
	parse_file_as(name, CHECKED, r);
}

static void
assert_lines(const struct check_report *r, const int *want, size_t n)
{
	assert_int_equal(r->nlines, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r->lines[i], want[i]);
}

static void
assert_proxies(const struct check_report *r, const char *const *want,
    size_t n)
{
	assert_int_equal(r->nproxies, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r->proxies[i], want[i]);
}

/* ---- real output ---- */

/* Unknown keywords in two listen sections: lines 17 (api) and 26 (web). */
static void
test_listen_keyword(void **state)
{
	static const int lines[] = { 17, 26 };
	struct check_report r;

	(void)state;
	parse_file("listen", &r);
	assert_lines(&r, lines, 2);
	assert_proxies(&r, NULL, 0);
	assert_int_equal(r.nalerts, 4);
	assert_string_equal(r.alerts[0], "[ALERT]    (10055) : config : "
	    "parsing [/tmp/pm-check/run/haproxy.cfg.new:17] : unknown keyword "
	    "'frobnicate' in 'listen' section");
	assert_non_null(strstr(r.alerts[1], "'balance-all'"));
	assert_string_equal(r.alerts[3], "[ALERT]    (10055) : config : Fatal "
	    "errors found in configuration.");
	check_report_free(&r);
	assert_int_equal(r.nalerts, 0);
	assert_null(r.alerts);
	assert_null(r.lines);
}

/* A server address that does not resolve: line 19; the WARNING before
 * it names proxy 'web' and must not count. */
static void
test_server_address(void **state)
{
	static const int lines[] = { 19 };
	struct check_report r;

	(void)state;
	parse_file("server", &r);
	assert_lines(&r, lines, 1);
	assert_proxies(&r, NULL, 0);
	assert_int_equal(r.nalerts, 2);
	assert_non_null(strstr(r.alerts[0], "could not resolve address "
	    "'10.0.0.300'"));
	assert_string_equal(r.alerts[1], "[ALERT]    (10060) : config : "
	    "Failed to initialize server(s) addr.");
	check_report_free(&r);
}

/* An invalid server port: line 20, in a server named "::1:8081" (the
 * server name's ':' must not confuse the line scan). */
static void
test_server_port(void **state)
{
	static const int lines[] = { 20 };
	struct check_report r;

	(void)state;
	parse_file("server-port", &r);
	assert_lines(&r, lines, 1);
	assert_proxies(&r, NULL, 0);
	assert_int_equal(r.nalerts, 3);
	assert_non_null(strstr(r.alerts[0], "'server api/::1:8081' : invalid "
	    "port '80810'"));
	check_report_free(&r);
}

/* A bad global keyword: line 6, within the settings. */
static void
test_global_keyword(void **state)
{
	static const int lines[] = { 6 };
	struct check_report r;

	(void)state;
	parse_file("global", &r);
	assert_lines(&r, lines, 1);
	assert_proxies(&r, NULL, 0);
	assert_int_equal(r.nalerts, 3);
	assert_non_null(strstr(r.alerts[0], "unknown keyword 'nbthreads' in "
	    "'global' section"));
	check_report_free(&r);
}

/* Proxy-level errors carry no line, only "Proxy 'NAME'" (either case);
 * the WARNING about proxy 'web' between them does not count. */
static void
test_proxy_errors(void **state)
{
	static const char *const proxies[] = { "api", "web" };
	struct check_report r;

	(void)state;
	parse_file("proxy", &r);
	assert_lines(&r, NULL, 0);
	assert_proxies(&r, proxies, 2);
	assert_int_equal(r.nalerts, 3);
	assert_string_equal(r.alerts[0], "[ALERT]    (10075) : config : Proxy "
	    "'api': unable to find required default_backend: 'nosuch'.");
	assert_string_equal(r.alerts[1], "[ALERT]    (10075) : config : proxy "
	    "'web' : unable to find server 'nosuch' referenced in a "
	    "'use-server' rule.");
	for (size_t i = 0; i < r.nalerts; i++)
		assert_null(strstr(r.alerts[i], "[WARNING]"));
	check_report_free(&r);
}

/* A valid configuration with warnings: nothing to report. */
static void
test_warnings_only(void **state)
{
	struct check_report r;

	(void)state;
	parse_file("warnings", &r);
	assert_int_equal(r.nalerts, 0);
	assert_lines(&r, NULL, 0);
	assert_proxies(&r, NULL, 0);
	check_report_free(&r);
}

/* The checked file's path holds ':': the line is still 25. */
static void
test_colon_in_path(void **state)
{
	static const int lines[] = { 25 };
	struct check_report r;

	(void)state;
	parse_file_as("colon", "/tmp/pm-check/odd:dir/haproxy.cfg.new", &r);
	assert_lines(&r, lines, 1);
	assert_int_equal(r.nalerts, 3);
	assert_non_null(strstr(r.alerts[0],
	    "[/tmp/pm-check/odd:dir/haproxy.cfg.new:25]"));
	check_report_free(&r);
}

/* HAProxy's "missing timeouts" warning, with its continuation lines and
 * the trailing verdict (real output, inline). */
static void
test_warning_continuation(void **state)
{
	static const char out[] =
	    "[NOTICE]   (7402) : haproxy version is 2.6.12-1+deb12u4\n"
	    "[NOTICE]   (7402) : path to executable is /usr/sbin/haproxy\n"
	    "[WARNING]  (7402) : config : missing timeouts for proxy 'web'.\n"
	    "   | While not properly invalid, you will certainly encounter "
	    "various problems\n"
	    "   | with such a configuration. To fix this, please ensure that "
	    "all following\n"
	    "   | timeouts are set to a non-zero value: 'client', 'connect', "
	    "'server'.\n"
	    "Warnings were found.\n"
	    "Configuration file is valid\n";
	struct check_report r;

	(void)state;
	check_report_parse(out, 7402, CHECKED, &r);
	assert_int_equal(r.nalerts, 0);
	assert_int_equal(r.nlines, 0);
	assert_int_equal(r.nproxies, 0);
	check_report_free(&r);
}

/* Real output from a tracking error: the line points at the server. */
static void
test_track_error(void **state)
{
	static const char out[] =
	    "[NOTICE]   (9931) : haproxy version is 2.6.12-1+deb12u4\n"
	    "[NOTICE]   (9931) : path to executable is /usr/sbin/haproxy\n"
	    "[ALERT]    (9931) : config : [/etc/p.cfg:12] : 'server web/s1' : "
	    "unable to find required server 's2' for tracking.\n"
	    "[ALERT]    (9931) : config : Fatal errors found in "
	    "configuration.\n";
	static const int lines[] = { 12 };
	struct check_report r;

	(void)state;
	check_report_parse(out, 9931, "/etc/p.cfg", &r);
	assert_lines(&r, lines, 1);
	assert_int_equal(r.nalerts, 2);
	assert_int_equal(r.nproxies, 0);
	check_report_free(&r);
}

/* Real output: an alert that quotes an IPv6 bind address. The only
 * config line is 26 (a listen section); "[::1]" is not "[file:1]", and
 * taking it for line 1 blames global/defaults (line 1 is at or before
 * settings_last_line), so a bad listen option refuses the settings. */
static void
test_ipv6_in_brackets(void **state)
{
	static const int lines[] = { 26 };
	struct check_report r;

	(void)state;
	parse_file("bind6", &r);
	assert_int_equal(r.nalerts, 3);
	assert_lines(&r, lines, 1);
	check_report_free(&r);
}

/* The same with an address whose last group is longer: "[2001:db8::10]"
 * reads as line 10. */
static void
test_ipv6_in_brackets_2(void **state)
{
	static const int lines[] = { 30 };
	struct check_report r;

	(void)state;
	check_report_parse("[ALERT]    (1) : config : parsing [/run/h.cfg:30] "
	    ": 'bind [2001:db8::10]:80' in section 'listen': unknown keyword "
	    "'frob'.\n", 1, "/run/h.cfg", &r);
	assert_lines(&r, lines, 1);
	check_report_free(&r);
}

/* ---- hostile services (issue 11, finding 5) ----
 * Real output for a rendered file with the hostile service "bad" (its
 * line 13) before the valid service "inno" (lines 16-20): alerts echo
 * what bad wrote, and that must not point at inno. */

/* listen_options ["timeout proxy\\ \\'inno\\' 1s"]: the alert quotes
 * "proxy 'inno'"; only line 13 (bad) counts. */
static void
test_hostile_proxy_quote(void **state)
{
	static const int lines[] = { 13 };
	struct check_report r;

	(void)state;
	parse_file("hostile-quote", &r);
	assert_non_null(strstr(r.alerts[0], "(got 'proxy 'inno'')"));
	assert_lines(&r, lines, 1);
	assert_proxies(&r, NULL, 0);
	check_report_free(&r);
}

/* listen_options ["x[/tmp/pm-check/run/haproxy.cfg.new:16]"]: the alert
 * quotes a position in inno; only HAProxy's own, line 13, counts. */
static void
test_hostile_position(void **state)
{
	static const int lines[] = { 13 };
	struct check_report r;

	(void)state;
	parse_file("hostile-line", &r);
	assert_non_null(strstr(r.alerts[0], "'x[" CHECKED ":16]'"));
	assert_lines(&r, lines, 1);
	assert_proxies(&r, NULL, 0);
	check_report_free(&r);
}

/* listen_options ["default_backend proxy\\ \\'inno\\'"]: an alert with no
 * line names its proxy first (bad), then the quoted words. */
static void
test_hostile_lineless(void **state)
{
	static const char *const proxies[] = { "bad" };
	struct check_report r;

	(void)state;
	parse_file("hostile-proxy", &r);
	assert_lines(&r, NULL, 0);
	assert_proxies(&r, proxies, 1);
	check_report_free(&r);
}

/* An escaped line break ("timeout x\\n[ALERT]\\x20...") puts a whole fake
 * alert on its own line: its header's pid (1) is not the check's. (The
 * escapes themselves are refused before HAProxy sees them: val_option_
 * unsafe.) */
static void
test_hostile_line_break(void **state)
{
	static const int lines[] = { 13 };
	struct check_report r;

	(void)state;
	parse_file("hostile-newline", &r);
	assert_string_equal(r.alerts[1], "[ALERT]    (1) : config : parsing "
	    "[" CHECKED ":16] : y')");
	assert_lines(&r, lines, 1);
	check_report_free(&r);
}

/* ---- edge cases ---- */

static void
test_empty(void **state)
{
	struct check_report r;

	(void)state;
	check_report_parse("", 1, CHECKED, &r);
	assert_int_equal(r.nalerts, 0);
	assert_int_equal(r.nlines, 0);
	check_report_free(&r);
	check_report_parse(NULL, 1, CHECKED, &r);
	assert_int_equal(r.nalerts, 0);
	check_report_free(&r);
}

/* Only the position at the start of the message counts, in an alert
 * whose header carries the check's pid. */
static void
test_positions(void **state)
{
	static const int lines[] = { 7, 9 };
	static const char *const proxies[] = { "a", "b" };
	struct check_report r;

	(void)state;
	check_report_parse(
	    "[ALERT] (1) : [] [x:] [/f:5b] [/f:3] [::1]\n"
	    "[ALERT]    (1) : config : parsing [/f:7] : unknown keyword\n"
	    "[ALERT]    (1) : config : [/f:9] : 'server a/b' : bad port\n"
	    "[ALERT]    (1) : config : parsing [/f:5b] : x\n"
	    "[ALERT]    (1) : config : parsing [/f:] : x\n"
	    "[ALERT]    (1) : config : parsing [/f:99999999999] : x\n"
	    "[ALERT]    (1) : config : x parsing [/f:12] : not at the start\n"
	    "[ALERT]    (2) : config : parsing [/f:11] : another process\n"
	    "[ALERT]    (1)x : config : parsing [/f:14] : a broken header\n"
	    "[NOTICE]   (1) : config : parsing [/f:8] : not an alert\n"
	    "    [ALERT]    (1) : parsing [/f:15] : not at the line start\n"
	    "[ALERT]    (1) : config : proxy 'a' : unable to find server\n"
	    "[ALERT]    (1) : config : Proxy 'b': unable to find backend\n"
	    "[ALERT]    (1) : config : x proxy 'c' : not at the start\n"
	    "[ALERT]    (2) : config : proxy 'd' : another process\n"
	    "[ALERT]    (1) : config : proxy '' : empty\n"
	    "[ALERT]    (1) : config : proxy 'e\n"
	    "[ALERT]    (1) : parsing [/f:10", 1, "/f", &r);
	assert_lines(&r, lines, 2);
	assert_proxies(&r, proxies, 2);
	assert_int_equal(r.nalerts, 16);
	assert_string_equal(r.alerts[15], "[ALERT]    (1) : parsing [/f:10");
	check_report_free(&r);
}

/* With a hand-written config checked beside the rendered one, only the
 * rendered file's lines count: the others are not a service's fault. */
static void
test_file_filter(void **state)
{
	static const int lines[] = { 12 };
	struct check_report r;
	const char *out =
	    "[ALERT] (1) : config : parsing [/etc/haproxy/haproxy.cfg:12] : "
	    "unknown keyword 'frob'.\n"
	    "[ALERT] (1) : config : parsing [/run/proxymgrd/proxymgrd.cfg.new:12]"
	    " : unknown keyword 'frob'.\n"
	    "[ALERT] (1) : config : parsing [/run/proxymgrd/proxymgrd.cfg.new.x:"
	    "14] : unknown keyword 'frob'.\n";

	(void)state;
	check_report_parse(out, 1, "/run/proxymgrd/proxymgrd.cfg.new", &r);
	assert_lines(&r, lines, 1);
	assert_int_equal(r.nalerts, 3);
	check_report_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_keyword),
		cmocka_unit_test(test_server_address),
		cmocka_unit_test(test_server_port),
		cmocka_unit_test(test_global_keyword),
		cmocka_unit_test(test_proxy_errors),
		cmocka_unit_test(test_warnings_only),
		cmocka_unit_test(test_colon_in_path),
		cmocka_unit_test(test_warning_continuation),
		cmocka_unit_test(test_track_error),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_file_filter),
		cmocka_unit_test(test_ipv6_in_brackets),
		cmocka_unit_test(test_ipv6_in_brackets_2),
		cmocka_unit_test(test_hostile_proxy_quote),
		cmocka_unit_test(test_hostile_position),
		cmocka_unit_test(test_hostile_lineless),
		cmocka_unit_test(test_hostile_line_break),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
