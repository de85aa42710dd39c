/* Unit tests for validate.c: what may reach haproxy.cfg and runtime-API
 * commands. Edge cases first: length limits, control characters,
 * non-ASCII bytes, host-name label rules. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/keywords.h"
#include "validate.h"

/* A string of n copies of c (caller frees). */
static char *
rep(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- val_name ---- */

static void
test_name_good(void **state)
{
	(void)state;
	assert_true(val_name("web"));
	assert_true(val_name("a"));
	assert_true(val_name("7"));
	assert_true(val_name("Web-API_v2.1"));
	assert_true(val_name("a-"));
	assert_true(val_name("a."));
	assert_true(val_name("0_x"));
}

static void
test_name_bad_chars(void **state)
{
	(void)state;
	assert_false(val_name(""));
	assert_false(val_name("-web"));
	assert_false(val_name("_web"));
	assert_false(val_name(".web"));
	assert_false(val_name("web api"));
	assert_false(val_name("web/api"));
	assert_false(val_name("web:api"));
	assert_false(val_name("web;api"));
	assert_false(val_name("web#api"));
	assert_false(val_name("web\napi"));
	assert_false(val_name("web\t"));
	assert_false(val_name("web\x7f"));
	assert_false(val_name("caf\xc3\xa9"));	/* UTF-8 e-acute */
	assert_false(val_name("\xff"));
	assert_false(val_name("we'b"));
	assert_false(val_name("we\"b"));
}

static void
test_name_length(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(VAL_NAME_MAX, 64);
	s = rep('a', VAL_NAME_MAX);
	assert_true(val_name(s));
	free(s);
	s = rep('a', VAL_NAME_MAX + 1);
	assert_false(val_name(s));
	free(s);
	s = rep('9', VAL_NAME_MAX - 1);
	assert_true(val_name(s));
	free(s);
}

/* ---- val_option ---- */

static void
test_option_good(void **state)
{
	(void)state;
	assert_true(val_option("mode http"));
	assert_true(val_option("x"));
	assert_true(val_option("balance roundrobin"));
	assert_true(val_option("check inter 2000 rise 2 fall 3"));
	assert_true(val_option("http-request set-header X-A \"b c\""));
	assert_true(val_option("acl a path_beg /x ~!@$%^&*()[]{}<>|\\'`"));
	assert_true(val_option(" leading and trailing "));
	assert_true(val_option("~"));
}

static void
test_option_bad(void **state)
{
	(void)state;
	assert_false(val_option(""));
	assert_false(val_option(" "));
	assert_false(val_option("    "));
	assert_false(val_option("mode http\nlisten evil"));
	assert_false(val_option("mode http\r"));
	assert_false(val_option("mode\thttp"));
	assert_false(val_option("\x01"));
	assert_false(val_option("a\x1f"));
	assert_false(val_option("a\x7f"));
	assert_false(val_option("set-header x caf\xc3\xa9"));
	assert_false(val_option("\x80"));
	assert_false(val_option("mode http; disable server x/y"));
	assert_false(val_option(";"));
	assert_false(val_option("mode http # comment"));
	assert_false(val_option("#"));
}

static void
test_option_length(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(VAL_OPTION_MAX, 1024);
	s = rep('o', VAL_OPTION_MAX);
	assert_true(val_option(s));
	free(s);
	s = rep('o', VAL_OPTION_MAX + 1);
	assert_false(val_option(s));
	free(s);
	/* Blank up to the limit is still blank. */
	s = rep(' ', VAL_OPTION_MAX);
	assert_false(val_option(s));
	free(s);
}

/* ---- val_ip / val_ipv6 ---- */

static void
test_ip(void **state)
{
	(void)state;
	assert_true(val_ip("0.0.0.0"));
	assert_true(val_ip("127.0.0.1"));
	assert_true(val_ip("255.255.255.255"));
	assert_true(val_ip("::"));
	assert_true(val_ip("::1"));
	assert_true(val_ip("2001:db8::1"));
	assert_true(val_ip("::ffff:10.0.0.1"));
	assert_true(val_ip("fe80:0:0:0:0:0:0:1"));

	assert_false(val_ip(""));
	assert_false(val_ip("256.0.0.1"));
	assert_false(val_ip("1.2.3"));
	assert_false(val_ip("1.2.3.4.5"));
	assert_false(val_ip("01.2.3.4"));
	assert_false(val_ip(" 1.2.3.4"));
	assert_false(val_ip("1.2.3.4 "));
	assert_false(val_ip("1.2.3.4:80"));
	assert_false(val_ip("localhost"));
	assert_false(val_ip("[::1]"));
	assert_false(val_ip("::1%lo"));
	assert_false(val_ip(":::1"));
	assert_false(val_ip("1::2::3"));
	assert_false(val_ip("gggg::1"));
	assert_false(val_ip("0x7f.0.0.1"));
}

static void
test_ipv6(void **state)
{
	(void)state;
	assert_true(val_ipv6("::1"));
	assert_true(val_ipv6("::"));
	assert_true(val_ipv6("2001:DB8::A"));
	assert_true(val_ipv6("::ffff:1.2.3.4"));
	assert_true(val_ipv6("1:2:3:4:5:6:7:8"));

	assert_false(val_ipv6("127.0.0.1"));
	assert_false(val_ipv6(""));
	assert_false(val_ipv6("[::1]"));
	assert_false(val_ipv6("1:2:3:4:5:6:7:8:9"));
	assert_false(val_ipv6("::1:"));
	assert_false(val_ipv6("fe80::1%eth0"));
	assert_false(val_ipv6("12345::1"));
}

/* ---- val_host ---- */

static void
test_host_good(void **state)
{
	(void)state;
	assert_true(val_host("localhost"));
	assert_true(val_host("a"));
	assert_true(val_host("example.com"));
	assert_true(val_host("example.com."));		/* trailing dot */
	assert_true(val_host("a-b.c-d.e"));
	assert_true(val_host("1a.example"));
	assert_true(val_host("xn--caf-dma.example"));
	assert_true(val_host("EXAMPLE.COM"));
	assert_true(val_host("10.0.0.1"));
	assert_true(val_host("::1"));
	assert_true(val_host("2001:db8::5"));
}

static void
test_host_bad(void **state)
{
	(void)state;
	assert_false(val_host(""));
	assert_false(val_host("."));
	assert_false(val_host(".example.com"));
	assert_false(val_host("example..com"));
	assert_false(val_host("example.com.."));
	assert_false(val_host("-a.com"));
	assert_false(val_host("a-.com"));
	assert_false(val_host("a.-b.com"));
	assert_false(val_host("a.com-"));
	assert_false(val_host("a.com-."));
	assert_false(val_host("-"));
	assert_false(val_host("a_b"));
	assert_false(val_host("a;b"));
	assert_false(val_host("a#b"));
	assert_false(val_host("a b"));
	assert_false(val_host("a\nb"));
	assert_false(val_host("a\tb"));
	assert_false(val_host("a/b"));
	assert_false(val_host("a:80"));
	assert_false(val_host("[::1]"));
	assert_false(val_host("caf\xc3\xa9.example"));
	assert_false(val_host("\xff"));
	assert_false(val_host("a\x7f"));
	assert_false(val_host("fe80::1%eth0"));
}

static void
test_host_label_length(void **state)
{
	char *l63 = rep('a', 63), *l64 = rep('a', 64), buf[200];

	(void)state;
	assert_true(val_host(l63));
	assert_false(val_host(l64));
	snprintf(buf, sizeof(buf), "%s.com", l63);
	assert_true(val_host(buf));
	snprintf(buf, sizeof(buf), "%s.com", l64);
	assert_false(val_host(buf));
	snprintf(buf, sizeof(buf), "x.%s", l63);
	assert_true(val_host(buf));
	snprintf(buf, sizeof(buf), "x.%s.", l63);
	assert_true(val_host(buf));
	snprintf(buf, sizeof(buf), "x.%s", l64);
	assert_false(val_host(buf));
	/* 63 then a hyphen makes the label 64 long. */
	snprintf(buf, sizeof(buf), "%s-b", l63);
	assert_false(val_host(buf));
	free(l63);
	free(l64);
}

/* Labels of 63 joined by dots, cut to total length n. */
static char *
long_host(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (i % 64 == 63) ? '.' : 'a';
	s[n] = '\0';
	/* Never end on a dot for these tests. */
	if (s[n - 1] == '.')
		s[n - 1] = 'b';
	return s;
}

static void
test_host_total_length(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(VAL_HOST_MAX, 253);
	s = long_host(VAL_HOST_MAX);
	assert_int_equal(strlen(s), 253);
	assert_true(val_host(s));
	free(s);
	s = long_host(VAL_HOST_MAX + 1);
	assert_false(val_host(s));
	free(s);
	/* 252 characters and a trailing dot: 253, still fine. */
	s = long_host(VAL_HOST_MAX);
	s[VAL_HOST_MAX - 1] = '.';
	assert_true(val_host(s));
	free(s);
}

/* RFC 1123 2.1 (which val_host cites): a host name never has the
 * dotted-decimal form #.#.#.#, its last label is never all digits. These
 * pass as host names, reach haproxy.cfg and fail `haproxy -c` with
 * "could not resolve address '10.0.0.300'" (or glibc reads "10.1" as
 * 10.0.0.1). */
static void
test_numeric_host_names(void **state)
{
	(void)state;
	assert_false(val_host("10.0.0.300"));
	assert_false(val_host("256.1.1.1"));
	assert_false(val_host("1.2.3"));
	assert_false(val_host("10.1"));
	assert_false(val_host("12345"));
}

/* The line checks refuse what would leave a section; val_option refuses
 * what HAProxy would expand from the environment, but not a regex anchor. */
static void
test_line_and_expansion(void **state)
{
	(void)state;
	assert_null(val_listen_line("balance roundrobin"));
	assert_null(val_listen_line("acl api path_reg ^/api$"));
	assert_true(val_option("acl api path_reg ^/api$ -i"));
	assert_non_null(val_listen_line("backend-name x"));	/* no keyword */
	assert_non_null(val_listen_line("listen other"));
	assert_non_null(val_global_line("  Global"));
	assert_non_null(val_listen_line("backend"));
	assert_non_null(val_listen_line(".if 1"));
	assert_non_null(val_global_line(" .endif"));
	/* HAProxy unquotes before it matches a keyword. */
	assert_non_null(val_listen_line("\"global\""));
	assert_non_null(val_global_line("\"global\""));
	assert_non_null(val_global_line("'listen' tail"));
	assert_non_null(val_global_line("li\"\"sten x"));
	assert_non_null(val_global_line("\\global"));
	assert_non_null(val_global_line("\".if\" 1"));
	assert_null(val_listen_line("http-request set-header X \"a b\""));
	assert_null(val_global_line("log \"127.0.0.1:514\" local0"));
	assert_false(val_option("x ${HOME}"));
	assert_false(val_option("x $HOME"));
	assert_false(val_option("x $_X"));
	assert_true(val_option("x $1"));
	/* An option refused as an option says so, not as a keyword. */
	assert_string_equal(val_listen_line("mode http\nlisten x"),
	    val_option_why("mode http\nlisten x"));
	assert_null(val_option_why("check inter 2000"));
}

/* Every section keyword of HAProxy 2.6 to 3.3 (namespace_list exists only
 * in builds with namespace support, as Debian's; crt-store, traces,
 * log-profile and acme came with 3.x), in every list of lines: a service's
 * listen_options, haproxy.defaults and haproxy.global. A section opened
 * there takes the lines after it (the service's servers) out of their
 * section, and `haproxy -c` passes. */
static const char *const sections[] = {
	"namespace_list", "crt-store", "traces", "log-profile", "acme",
	"global", "defaults", "frontend", "backend", "listen", "peers",
	"resolvers", "userlist", "mailers", "program", "http-errors", "ring",
	"cache", "log-forward", "fcgi-app", "spoe-agent", "spoe-group",
	"spoe-message", "ot-tracer", "ot-group", "ot-scope", NULL,
};

static void
test_section_escape(void **state)
{
	char line[128];

	(void)state;
	for (size_t i = 0; sections[i] != NULL; i++) {
		const char *forms[] = { "%s", "%s x", "  %s", "no %s",
		    "default %s x", NULL };
		for (size_t j = 0; forms[j] != NULL; j++) {
			snprintf(line, sizeof(line), forms[j], sections[i]);
			if (val_listen_line(line) == NULL ||
			    val_defaults_line(line) == NULL ||
			    val_global_line(line) == NULL)
				fail_msg("'%s' was accepted", line);
		}
		/* Any case, in the global section too. */
		snprintf(line, sizeof(line), "%s", sections[i]);
		line[0] = (char)toupper((unsigned char)line[0]);
		assert_non_null(val_global_line(line));
	}
	/* The blob of the finding, item by item. */
	assert_non_null(val_listen_line("namespace_list"));
	assert_null(val_listen_line("balance roundrobin"));
	assert_null(val_option_why("check"));
	/* The reason names the cause, and quotes nothing of the line. */
	assert_non_null(strstr(val_listen_line("namespace_list"),
	    "opens a HAProxy section"));
	assert_null(strstr(val_listen_line("namespace_list"), "namespace"));
}

/* listen_options and defaults: an allowlist of proxy keywords (HAProxy
 * 2.6 and 3.0), so that a section keyword of a later version is refused
 * without being known. */
static void
test_proxy_keywords(void **state)
{
	static const char *const good[] = {
		"mode http", "balance roundrobin", "option httplog",
		"no option http-server-close", "default option httpclose",
		"no log", "timeout server 30s", "http-request deny if x",
		"http-response set-header X-Pm v2", "acl a path_beg /a",
		"use_backend other", "default_backend other",
		"hash-type consistent", "stick-table type ip size 1m",
		"tcp-request content accept", "http-check expect status 200",
		"errorfile 503 /x.http", "cookie SRV insert",
		"default-server inter 2s", "retry-on all-retryable-errors",
		"guid x", "hash-balance-factor 150", "max-session-srv-conns 10",
		"dynamic-cookie-key k", "disabled", "use_backend", NULL,
	};
	static const char *const bad[] = {
		"crt-store x", "bogus-keyword 1", "Mode http", "MODE http",
		"no", "no balance roundrobin", "default mode http",
		"no global", "[scope]", ".if defined(X)", ".endif",
		"\"mode\" http", "mo\\de http", "'mode' http", "mode\" http",
		"x[/path/haproxy.cfg.new:16]", "balance-x y",
		"stats-x", "zzz", "aaa", "acl-", "use_backen x", NULL,
	};

	(void)state;
	for (size_t i = 0; good[i] != NULL; i++) {
		if (val_listen_line(good[i]) != NULL)
			fail_msg("listen '%s': %s", good[i],
			    val_listen_line(good[i]));
		if (val_defaults_line(good[i]) != NULL)
			fail_msg("defaults '%s': %s", good[i],
			    val_defaults_line(good[i]));
	}
	for (size_t i = 0; bad[i] != NULL; i++)
		if (val_listen_line(bad[i]) == NULL ||
		    val_defaults_line(bad[i]) == NULL)
			fail_msg("'%s' was accepted", bad[i]);
	/* "maxconn" alone is a keyword; a prefix of one is not. */
	assert_null(val_listen_line("maxconn 10"));
	assert_non_null(val_listen_line("maxcon 10"));
	assert_non_null(val_listen_line("maxconnx 10"));
}

/* proxymgrd binds the service's socket and renders its servers from
 * discovery: a service may not bind or add servers itself. defaults may
 * name them (HAProxy refuses them there). */
static void
test_listen_reserved(void **state)
{
	(void)state;
	assert_non_null(val_listen_line("bind 0.0.0.0:22"));
	assert_non_null(val_listen_line("server x 10.0.0.1:80"));
	assert_non_null(val_listen_line("server-template s 3 x.local:80"));
	assert_null(val_listen_line("default-server check"));
	assert_null(val_listen_line("bind-process 1"));
	assert_null(val_defaults_line("bind-process 1"));
}

/* global lines are the operator's: any keyword, no section, no directive. */
static void
test_global_lines(void **state)
{
	(void)state;
	assert_null(val_global_line("maxconn 4096"));
	assert_null(val_global_line("nbthread 2"));
	assert_null(val_global_line("tune.ssl.default-dh-param 2048"));
	assert_null(val_global_line("no busy-polling"));
	assert_null(val_global_line("lua-load /etc/x.lua"));
	assert_null(val_global_line("namespace_lists x"));
	assert_non_null(val_global_line("crt-store"));
	assert_non_null(val_global_line("traces"));
	assert_non_null(val_global_line("[scope]"));
	assert_non_null(val_global_line("no \"listen\""));
	assert_non_null(val_global_line("maxconn 10\nlisten x"));
	assert_non_null(val_global_line(""));
}

/* ---- ZooKeeper paths and server lists ---- */

/* ---- val_option_unsafe (issue 11, findings 5, 6, 7) ---- */

/* What HAProxy reads once it resolved quotes and escapes. */
static void
test_unsafe_escapes(void **state)
{
	(void)state;
	assert_null(val_option_unsafe("mode http", false));
	assert_null(val_option_unsafe("http-request deny if { path_reg "
	    "^/a\\.b$ }", false));
	assert_null(val_option_unsafe("http-request set-header X \"a b\"",
	    false));
	assert_null(val_option_unsafe("acl x hdr(a) -m reg \\d+", false));
	assert_null(val_option_unsafe("agent-send \\x41", true));
	assert_null(val_option_unsafe("x\\", false));
	/* A line break, written as HAProxy's escapes: a fake alert of its
	 * own in haproxy -c's output (finding 5). */
	assert_non_null(val_option_unsafe("timeout x\\n[ALERT] (1) : config "
	    ": parsing [/run/haproxy.cfg.new:16] : y 1s", false));
	assert_non_null(val_option_unsafe("timeout x\\r1s", false));
	assert_non_null(val_option_unsafe("timeout x\\t1s", false));
	assert_non_null(val_option_unsafe("timeout x\\x0a1s", false));
	assert_non_null(val_option_unsafe("timeout x\\x7F", false));
	assert_non_null(val_option_unsafe("timeout x\\xff", false));
	assert_non_null(val_option_unsafe("timeout x\\x00 %[env(HOME)]",
	    false));
	assert_non_null(val_option_unsafe("\"x\\n\"", false));
	/* Resolved once more by a fetch's argument parser. */
	assert_non_null(val_option_unsafe("http-request set-var(txn.a) "
	    "\"int(1\\\\n[ALERT] (1) : y)\"", false));
	assert_non_null(val_option_unsafe("http-request set-var(txn.a) "
	    "int('\\'n)", false));
	assert_non_null(val_option_unsafe("x \\x5cn", false));
	/* In single quotes HAProxy resolves nothing: a '\' stays as is. */
	assert_null(val_option_unsafe("x '\\x41'", false));
}

/* The env() fetch reads HAProxy's environment (finding 6), however it
 * is quoted or escaped. */
static void
test_unsafe_env(void **state)
{
	(void)state;
	assert_non_null(val_option_unsafe("http-request return status 200 "
	    "content-type text/plain lf-string \"%[env(HOME)]\"", false));
	assert_non_null(val_option_unsafe("http-request set-header X "
	    "%[env(PATH)]", false));
	assert_non_null(val_option_unsafe("acl a env(HOME) -m found", false));
	assert_non_null(val_option_unsafe("x %[e\"nv\"(HOME)]", false));
	assert_non_null(val_option_unsafe("x %[e''nv(HOME)]", false));
	assert_non_null(val_option_unsafe("x %[\\x65nv(HOME)]", false));
	assert_non_null(val_option_unsafe("x %[env\\x28HOME)]", false));
	assert_non_null(val_option_unsafe("x %[ENV(HOME)]", true));
	assert_null(val_option_unsafe("x %[req.hdr(x-env)]", false));
	assert_null(val_option_unsafe("x env (HOME)", false));
}

/* What goes into `add server`: nothing that changes how HAProxy's CLI
 * reads the command (finding 7). */
static void
test_unsafe_runtime(void **state)
{
	(void)state;
	assert_null(val_option_unsafe("check inter 2000", true));
	assert_null(val_option_unsafe("agent-send <<", false));
	assert_non_null(val_option_unsafe("agent-send <<", true));
	assert_non_null(val_option_unsafe("agent-send x<<", true));
	assert_non_null(val_option_unsafe("agent-send <<EOF", true));
	assert_non_null(val_option_unsafe("agent-send << check", true));
	assert_non_null(val_option_unsafe("agent-send <\\<", true));
	assert_non_null(val_option_unsafe("agent-send x\\", true));
	assert_null(val_option_unsafe("agent-send x\\", false));
	assert_null(val_option_unsafe("agent-send <x<", true));
	assert_null(val_option_unsafe("", true));
}

static void
test_zk_path(void **state)
{
	(void)state;
	assert_true(val_zk_path("/"));
	assert_true(val_zk_path("/service_config"));
	assert_true(val_zk_path("/services/web-1/a.b"));
	assert_false(val_zk_path(""));
	assert_false(val_zk_path("services"));
	assert_false(val_zk_path("/services/"));
	assert_false(val_zk_path("//services"));
	assert_false(val_zk_path("/a//b"));
	assert_false(val_zk_path("/a/./b"));
	assert_false(val_zk_path("/a/.."));
	assert_false(val_zk_path("/a b"));
	assert_false(val_zk_path("/a\nb"));
}

static void
test_zk_servers(void **state)
{
	(void)state;
	assert_true(val_zk_servers("localhost:2181"));
	assert_true(val_zk_servers("zk1:2181,zk2:2181,zk3:2181"));
	assert_true(val_zk_servers("127.0.0.1:2181/chroot/app"));
	assert_true(val_zk_servers("[::1]:2181"));
	assert_false(val_zk_servers(""));
	assert_false(val_zk_servers("localhost"));
	assert_false(val_zk_servers("localhost:"));
	assert_false(val_zk_servers("localhost:0"));
	assert_false(val_zk_servers("localhost:65536"));
	assert_false(val_zk_servers("zk1:2181,"));
	assert_false(val_zk_servers(",zk1:2181"));
	assert_false(val_zk_servers("zk1:2181,,zk2:2181"));
	assert_false(val_zk_servers("zk1:2181 zk2:2181"));
	assert_true(val_zk_servers("zk1:2181/"));
	assert_false(val_zk_servers("zk;1:2181"));
	assert_false(val_zk_servers("[nothex]:2181"));
}

/* Finding a keyword's line and its arguments (haproxy/keywords.c): the
 * renderer and the planner read options through these alone. */
static void
test_keyword_scan(void **state)
{
	char *lines[] = { "  balance source", "hash-type\tconsistent sdbm",
	    "maxconnx 3", NULL };
	char *later[] = { "balance leastconn", NULL };
	char *opts[] = { "check inter 1s", "weight 5  cookie x", NULL };
	const char *args = NULL;

	(void)state;
	assert_true(hkw_line_is("  balance  source", "balance", &args));
	assert_string_equal(args, "source");
	assert_true(hkw_line_is("disabled", "disabled", NULL));
	assert_false(hkw_line_is("balancex source", "balance", NULL));
	assert_false(hkw_line_is("bal", "balance", NULL));
	assert_true(hkw_lines_have(lines, "hash-type"));
	assert_false(hkw_lines_have(lines, "maxconn"));
	assert_false(hkw_lines_have(NULL, "maxconn"));
	/* The section's own line wins over the defaults. */
	assert_string_equal(hkw_last(lines, later, "balance"), "leastconn");
	assert_string_equal(hkw_last(lines, NULL, "balance"), "source");
	assert_string_equal(hkw_last(lines, later, "hash-type"),
	    "consistent sdbm");
	assert_null(hkw_last(lines, later, "mode"));
	assert_true(hkw_has_word(opts, "inter"));
	assert_true(hkw_has_word(opts, "cookie"));
	assert_false(hkw_has_word(opts, "chec"));
	assert_string_equal(hkw_add_server_refused(opts), "cookie");
	assert_null(hkw_add_server_refused(lines));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_and_expansion),
		cmocka_unit_test(test_section_escape),
		cmocka_unit_test(test_proxy_keywords),
		cmocka_unit_test(test_listen_reserved),
		cmocka_unit_test(test_global_lines),
		cmocka_unit_test(test_keyword_scan),
		cmocka_unit_test(test_name_good),
		cmocka_unit_test(test_name_bad_chars),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_option_good),
		cmocka_unit_test(test_option_bad),
		cmocka_unit_test(test_option_length),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_host_good),
		cmocka_unit_test(test_host_bad),
		cmocka_unit_test(test_host_label_length),
		cmocka_unit_test(test_host_total_length),
		cmocka_unit_test(test_numeric_host_names),
		cmocka_unit_test(test_unsafe_escapes),
		cmocka_unit_test(test_unsafe_env),
		cmocka_unit_test(test_unsafe_runtime),
		cmocka_unit_test(test_zk_path),
		cmocka_unit_test(test_zk_servers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
