/* Unit tests for host files (one host:port per line) and the server
 * lists they produce. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "util.h"
#include "watchers/hostfile.h"

#define PATH "/etc/proxymgr/web.hosts"

struct errors {
	char	*msg[32];
	int	 n;
};

static void
on_error(const char *msg, void *arg)
{
	struct errors *e = arg;

	assert_true(e->n < 32);
	e->msg[e->n++] = strdup(msg);
}

static void
errors_free(struct errors *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* Parse text that must be clean; returns the list (caller frees). */
static void
parse_clean(const char *text, struct server_list *l)
{
	struct errors e = { { NULL }, 0 };

	srvlist_init(l);
	assert_int_equal(hostfile_parse(text, strlen(text), PATH, l, on_error,
	    &e), 0);
	if (e.n > 0)
		fail_msg("unexpected error: %s", e.msg[0]);
	assert_int_equal(e.n, 0);
}

static void
assert_server(const struct server_list *l, size_t i, const char *name,
    const char *host, int port)
{
	assert_true(i < l->n);
	assert_string_equal(l->v[i].name, name);
	assert_string_equal(l->v[i].host, host);
	assert_int_equal(l->v[i].port, port);
}

/* One bad line alone in a file: exactly one error, "PATH:LINE: " then
 * needle, and no server. */
static void
expect_bad_line(const char *line, const char *needle)
{
	struct errors e = { { NULL }, 0 };
	struct server_list l;
	char *text = xasprintf("# header\n%s\n", line);

	srvlist_init(&l);
	assert_int_equal(hostfile_parse(text, strlen(text), PATH, &l, on_error,
	    &e), 1);
	assert_int_equal(e.n, 1);
	if (strncmp(e.msg[0], PATH ":2: ", strlen(PATH ":2: ")) != 0)
		fail_msg("'%s' does not start with '" PATH ":2: '", e.msg[0]);
	assert_contains(e.msg[0], needle);
	assert_int_equal(l.n, 0);
	errors_free(&e);
	srvlist_free(&l);
	free(text);
}

/* ---- good input ---- */

static void
test_ipv4_and_hosts(void **state)
{
	struct server_list l;

	(void)state;
	parse_clean("10.0.0.2:8080\nweb1.example.com:80\n10.0.0.1:80\n"
	    "localhost:9000\n", &l);
	assert_int_equal(l.n, 4);
	assert_server(&l, 0, "10.0.0.1:80", "10.0.0.1", 80);
	assert_server(&l, 1, "10.0.0.2:8080", "10.0.0.2", 8080);
	assert_server(&l, 2, "localhost:9000", "localhost", 9000);
	assert_server(&l, 3, "web1.example.com:80", "web1.example.com", 80);
	srvlist_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
}

static void
test_ipv6(void **state)
{
	struct server_list l;
	char buf[128];

	(void)state;
	parse_clean("[::1]:8080\n[2001:db8::10]:443\n[::ffff:10.0.0.1]:1\n", &l);
	assert_int_equal(l.n, 3);
	assert_server(&l, 0, "2001:db8::10:443", "2001:db8::10", 443);
	assert_server(&l, 1, "::1:8080", "::1", 8080);
	assert_server(&l, 2, "::ffff:10.0.0.1:1", "::ffff:10.0.0.1", 1);
	assert_string_equal(server_addr(&l.v[1], buf, sizeof(buf)),
	    "[::1]:8080");
	assert_string_equal(server_addr(&l.v[0], buf, sizeof(buf)),
	    "[2001:db8::10]:443");
	assert_string_equal(server_addr(&l.v[2], buf, sizeof(buf)),
	    "[::ffff:10.0.0.1]:1");
	srvlist_free(&l);
}

static void
test_server_addr(void **state)
{
	struct server s4 = { .host = "10.0.0.1", .port = 80 };
	struct server sh = { .host = "web1.example.com", .port = 65535 };
	struct server s6 = { .host = "fe80::1", .port = 8080 };
	char buf[64], small[8];

	(void)state;
	assert_string_equal(server_addr(&s4, buf, sizeof(buf)), "10.0.0.1:80");
	assert_string_equal(server_addr(&sh, buf, sizeof(buf)),
	    "web1.example.com:65535");
	assert_string_equal(server_addr(&s6, buf, sizeof(buf)),
	    "[fe80::1]:8080");
	/* Truncated, still terminated. */
	assert_ptr_equal(server_addr(&s4, small, sizeof(small)), small);
	assert_string_equal(small, "10.0.0.");
}

static void
test_comments_blanks_whitespace(void **state)
{
	struct server_list l;

	(void)state;
	parse_clean(
	    "# web servers\n"
	    "\n"
	    "   \n"
	    "\t\n"
	    "  10.0.0.1:80  \n"
	    "\t10.0.0.2:80\t# rack 2\n"
	    "10.0.0.3:80# no space\n"
	    "   # indented comment\n"
	    "#10.0.0.9:80\n"
	    "[::1]:80 # v6\n"
	    "10.0.0.4:80", &l);		/* no final newline */
	assert_int_equal(l.n, 5);
	assert_server(&l, 0, "10.0.0.1:80", "10.0.0.1", 80);
	assert_server(&l, 1, "10.0.0.2:80", "10.0.0.2", 80);
	assert_server(&l, 2, "10.0.0.3:80", "10.0.0.3", 80);
	assert_server(&l, 3, "10.0.0.4:80", "10.0.0.4", 80);
	assert_server(&l, 4, "::1:80", "::1", 80);
	srvlist_free(&l);
}

static void
test_crlf(void **state)
{
	struct errors e = { { NULL }, 0 };
	struct server_list l;
	const char *text;

	(void)state;
	parse_clean("10.0.0.1:80\r\n# c\r\n\r\nweb.example:8080\r\n"
	    "[::1]:81\r\n", &l);
	assert_int_equal(l.n, 3);
	assert_server(&l, 0, "10.0.0.1:80", "10.0.0.1", 80);
	assert_server(&l, 1, "::1:81", "::1", 81);
	assert_server(&l, 2, "web.example:8080", "web.example", 8080);
	srvlist_free(&l);

	/* Line numbers still count with CRLF. */
	srvlist_init(&l);
	text = "10.0.0.1:80\r\n\r\n10.0.0.2\r\n";
	assert_int_equal(hostfile_parse(text, strlen(text), PATH, &l, on_error,
	    &e), 1);
	assert_int_equal(e.n, 1);
	assert_contains(e.msg[0], PATH ":3: '10.0.0.2' has no port");
	assert_int_equal(l.n, 1);
	errors_free(&e);
	srvlist_free(&l);
}

static void
test_duplicates_and_order(void **state)
{
	struct server_list l;

	(void)state;
	parse_clean("10.0.0.2:80\n10.0.0.10:80\n10.0.0.2:80\n10.0.0.2:81\n"
	    "  10.0.0.10:80 # again\n[::1]:80\nb.example:80\na.example:80\n"
	    "a.example:80\n", &l);
	/* Sorted by name, byte-wise: "10.0.0.10:80" < "10.0.0.2:80". */
	assert_int_equal(l.n, 6);
	assert_string_equal(l.v[0].name, "10.0.0.10:80");
	assert_string_equal(l.v[1].name, "10.0.0.2:80");
	assert_string_equal(l.v[2].name, "10.0.0.2:81");
	assert_string_equal(l.v[3].name, "::1:80");
	assert_string_equal(l.v[4].name, "a.example:80");
	assert_string_equal(l.v[5].name, "b.example:80");
	srvlist_free(&l);
}

static void
test_empty(void **state)
{
	struct server_list l;
	const char *text;

	(void)state;
	parse_clean("", &l);
	assert_int_equal(l.n, 0);
	srvlist_free(&l);
	parse_clean("# nothing\n\n", &l);
	assert_int_equal(l.n, 0);
	srvlist_free(&l);
	/* No callback given: errors are still counted. */
	srvlist_init(&l);
	text = "x\ny\n10.0.0.1:80\n";
	assert_int_equal(hostfile_parse(text, strlen(text), PATH, &l, NULL,
	    NULL), 2);
	assert_int_equal(l.n, 1);
	srvlist_free(&l);
}

/* ---- bad lines ---- */

static void
test_bad_port(void **state)
{
	(void)state;
	expect_bad_line("10.0.0.1", "'10.0.0.1' has no port (expected "
	    "host:port)");
	expect_bad_line("web.example", "has no port");
	expect_bad_line("10.0.0.1:", "'' is not a port (1-65535)");
	expect_bad_line("10.0.0.1:0", "'0' is not a port (1-65535)");
	expect_bad_line("10.0.0.1:65536", "'65536' is not a port");
	expect_bad_line("10.0.0.1:80x", "'80x' is not a port");
	expect_bad_line("10.0.0.1:-80", "'-80' is not a port");
	expect_bad_line("10.0.0.1:+80", "'+80' is not a port");
	expect_bad_line("10.0.0.1:0x50", "'0x50' is not a port");
	expect_bad_line("10.0.0.1:99999999999999999999",
	    "'99999999999999999999' is not a port");
	expect_bad_line("[::1]:0", "'0' is not a port");
	expect_bad_line("[::1]:", "'' is not a port");
}

static void
test_bad_ipv6(void **state)
{
	(void)state;
	expect_bad_line("::1:80", "'::1:80': write IPv6 addresses as "
	    "[address]:port");
	expect_bad_line("2001:db8::1", "write IPv6 addresses as");
	expect_bad_line("[::1]80", "'[::1]80' is not [IPv6]:port");
	expect_bad_line("[::1]", "'[::1]' is not [IPv6]:port");
	expect_bad_line("[::1:80", "is not [IPv6]:port");
	expect_bad_line("[]:80", "'[]:80' has no valid host");
	expect_bad_line("[10.0.0.1]:80", "'10.0.0.1' is not a valid host name "
	    "or address");
	expect_bad_line("[web.example]:80", "is not a valid host");
	expect_bad_line("[fe80::1%eth0]:80", "is not a valid host");
}

static void
test_bad_host(void **state)
{
	(void)state;
	expect_bad_line("a_b:80", "'a_b' is not a valid host name or address");
	expect_bad_line("-a.com:80", "'-a.com' is not a valid host");
	expect_bad_line("a-.com:80", "'a-.com' is not a valid host");
	expect_bad_line("a;b:80", "'a;b' is not a valid host");
	expect_bad_line("a..b:80", "'a..b' is not a valid host");
	/* Lines with characters no host:port has are not quoted: a service
	 * may point the watcher at any file (a password file, say). */
	expect_bad_line("caf\xc3\xa9.example:80", "not a host:port entry "
	    "(line not shown)");
	expect_bad_line("10.0.0.1/24:80", "not a host:port entry "
	    "(line not shown)");
	expect_bad_line("root:$y$j9T$abc:19000:0:99999:7:::", "not a host:port "
	    "entry (line not shown)");
	expect_bad_line(":80", "':80' has no valid host");
}

static void
test_bad_two_entries(void **state)
{
	(void)state;
	expect_bad_line("10.0.0.1:80 10.0.0.2:80", "'10.0.0.1:80 10.0.0.2:80': "
	    "one host:port per line");
	expect_bad_line("10.0.0.1:80\t10.0.0.2:80", "one host:port per line");
	expect_bad_line("10.0.0.1: 80", "one host:port per line");
}

static void
test_bad_host_too_long(void **state)
{
	char line[400];

	(void)state;
	/* 254 characters: longer than any host name. */
	memset(line, 'a', 254);
	for (int i = 63; i < 254; i += 64)
		line[i] = '.';
	strcpy(line + 254, ":80");
	expect_bad_line(line, "has no valid host");
	/* 300: larger than the parser's buffer. */
	memset(line, 'a', 300);
	for (int i = 63; i < 300; i += 64)
		line[i] = '.';
	strcpy(line + 300, ":80");
	expect_bad_line(line, "(line not shown)");	/* too long to quote */
}

/* Bad lines are counted and reported one by one with their line number;
 * the good lines around them still count. */
static void
test_mixed(void **state)
{
	struct errors e = { { NULL }, 0 };
	struct server_list l;
	static const char text[] =
	    "10.0.0.1:80\n"		/* 1 */
	    "10.0.0.2\n"		/* 2 bad */
	    "# comment\n"		/* 3 */
	    "10.0.0.3:0\n"		/* 4 bad */
	    "\n"			/* 5 */
	    "[::1]80\n"			/* 6 bad */
	    "[::1]:80\n"		/* 7 */
	    "a_b:80\n"			/* 8 bad */
	    "10.0.0.4:80 10.0.0.5:80\n"	/* 9 bad */
	    ":80\n"			/* 10 bad */
	    "web.example:8080\n"	/* 11 */
	    "::2:80\n";			/* 12 bad */

	(void)state;
	srvlist_init(&l);
	assert_int_equal(hostfile_parse(text, sizeof(text) - 1, PATH, &l,
	    on_error, &e), 7);
	assert_int_equal(e.n, 7);
	assert_string_equal(e.msg[0], PATH ":2: '10.0.0.2' has no port "
	    "(expected host:port)");
	assert_string_equal(e.msg[1], PATH ":4: '0' is not a port (1-65535)");
	assert_string_equal(e.msg[2], PATH ":6: '[::1]80' is not "
	    "[IPv6]:port");
	assert_string_equal(e.msg[3], PATH ":8: 'a_b' is not a valid host "
	    "name or address");
	assert_string_equal(e.msg[4], PATH ":9: '10.0.0.4:80 10.0.0.5:80': "
	    "one host:port per line");
	assert_string_equal(e.msg[5], PATH ":10: ':80' has no valid host");
	assert_string_equal(e.msg[6], PATH ":12: '::2:80': write IPv6 "
	    "addresses as [address]:port");
	assert_int_equal(l.n, 3);
	assert_server(&l, 0, "10.0.0.1:80", "10.0.0.1", 80);
	assert_server(&l, 1, "::1:80", "::1", 80);
	assert_server(&l, 2, "web.example:8080", "web.example", 8080);
	errors_free(&e);
	srvlist_free(&l);
}

/* A NUL byte used to end the file without a word, and the servers after
 * it vanished. Now its line is refused, named but not quoted, and the
 * lines after it count. */
static void
test_nul_byte(void **state)
{
	static const char text[] =
	    "10.0.0.1:80\n"		/* 1 */
	    "10.0.0.2:80\0hunter2\n"	/* 2 bad */
	    "\0\n"			/* 3 bad: a NUL alone */
	    "# a comment \0 too\n"	/* 4 bad */
	    "10.0.0.3:80\n"		/* 5 */
	    "10.0.0.4:80\0";		/* 6 bad, without a newline */
	struct errors e = { { NULL }, 0 };
	struct server_list l;

	(void)state;
	srvlist_init(&l);
	assert_int_equal(hostfile_parse(text, sizeof(text) - 1, PATH, &l,
	    on_error, &e), 4);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.msg[0], PATH ":2: a NUL byte (line not shown)");
	assert_string_equal(e.msg[1], PATH ":3: a NUL byte (line not shown)");
	assert_string_equal(e.msg[2], PATH ":4: a NUL byte (line not shown)");
	assert_string_equal(e.msg[3], PATH ":6: a NUL byte (line not shown)");
	assert_int_equal(l.n, 2);
	assert_server(&l, 0, "10.0.0.1:80", "10.0.0.1", 80);
	assert_server(&l, 1, "10.0.0.3:80", "10.0.0.3", 80);
	errors_free(&e);
	srvlist_free(&l);
	/* Only the given length is read: no need for a terminating NUL. */
	srvlist_init(&l);
	assert_int_equal(hostfile_parse("10.0.0.1:80\n10.0.0.2:80", 11, PATH,
	    &l, on_error, &e), 0);
	assert_int_equal(l.n, 1);
	srvlist_free(&l);
}

static void
test_parse_entry(void **state)
{
	char host[254], *err = NULL;
	int port = 0;

	(void)state;
	assert_int_equal(hostfile_parse_entry("[2001:db8::1]:443", host,
	    sizeof(host), &port, &err), 0);
	assert_null(err);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 443);
	assert_int_equal(hostfile_parse_entry("h.example:65535", host,
	    sizeof(host), &port, &err), 0);
	assert_string_equal(host, "h.example");
	assert_int_equal(port, 65535);
	/* The host buffer is respected. */
	assert_int_equal(hostfile_parse_entry("abcdef:1", host, 6, &port,
	    &err), -1);
	assert_non_null(err);
	assert_string_equal(err, "'abcdef:1' has no valid host");
	free(err);
	err = NULL;
	assert_int_equal(hostfile_parse_entry("abcde:1", host, 6, &port,
	    &err), 0);
	assert_string_equal(host, "abcde");
}

/* ---- server lists ---- */

static void
test_srvlist_ops(void **state)
{
	struct server_list a, b, c;

	(void)state;
	srvlist_init(&a);
	srvlist_add(&a, "10.0.0.2", 80);
	for (int i = 0; i < 20; i++)		/* past the first growth */
		srvlist_add(&a, "10.0.0.1", 80);
	srvlist_finish(&a);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.v[0].name, "10.0.0.1:80");

	srvlist_copy(&b, &a);
	assert_true(srvlist_equal(&a, &b));
	assert_ptr_not_equal(a.v[0].name, b.v[0].name);
	srvlist_add(&b, "10.0.0.3", 80);
	srvlist_finish(&b);
	assert_false(srvlist_equal(&a, &b));

	srvlist_init(&c);
	srvlist_add(&c, "10.0.0.1", 80);
	srvlist_add(&c, "10.0.0.2", 81);
	srvlist_finish(&c);
	assert_int_equal(c.n, a.n);
	assert_false(srvlist_equal(&a, &c));
	srvlist_free(&c);

	srvlist_move(&c, &b);
	assert_int_equal(b.n, 0);
	assert_null(b.v);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[2].name, "10.0.0.3:80");

	/* Empty lists are equal; finishing an empty list is harmless. */
	srvlist_free(&a);
	srvlist_finish(&b);
	assert_int_equal(b.n, 0);
	assert_true(srvlist_equal(&a, &b));
	assert_false(srvlist_equal(&a, &c));
	srvlist_free(&b);
	srvlist_free(&c);
}

/* A typo in an IPv4 address passes as a host name (see val_host in the
 * report); the line should be refused here, not by `haproxy -c`. */
static void
test_bad_ipv4_as_host(void **state)
{
	(void)state;
	expect_bad_line("10.0.0.300:80", "'10.0.0.300' is not a valid host");
}

/* The same address found twice with different weights (an A and an SRV
 * record): the highest weight is kept, whatever the order of arrival, so
 * that two rounds with the same answers compare equal. */
static void
test_duplicate_weights(void **state)
{
	struct server_list a, b;

	(void)state;
	srvlist_init(&a);
	srvlist_add(&a, "10.0.0.1", 80);
	srvlist_add_weighted(&a, "10.0.0.1", 80, 10);
	srvlist_add_weighted(&a, "10.0.0.1", 80, 3);
	srvlist_finish(&a);
	srvlist_init(&b);
	srvlist_add_weighted(&b, "10.0.0.1", 80, 3);
	srvlist_add_weighted(&b, "10.0.0.1", 80, 10);
	srvlist_add(&b, "10.0.0.1", 80);
	srvlist_finish(&b);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.v[0].weight, 10);
	assert_true(srvlist_equal(&a, &b));
	b.v[0].weight = 3;
	assert_false(srvlist_equal(&a, &b));
	srvlist_free(&a);
	srvlist_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate_weights),
		cmocka_unit_test(test_ipv4_and_hosts),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_server_addr),
		cmocka_unit_test(test_comments_blanks_whitespace),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_duplicates_and_order),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_port),
		cmocka_unit_test(test_bad_ipv6),
		cmocka_unit_test(test_bad_host),
		cmocka_unit_test(test_bad_two_entries),
		cmocka_unit_test(test_bad_host_too_long),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_parse_entry),
		cmocka_unit_test(test_srvlist_ops),
		cmocka_unit_test(test_bad_ipv4_as_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
