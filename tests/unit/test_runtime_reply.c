/* Unit tests for splitting and checking runtime-API replies in prompt
 * mode (src/haproxy/runtime.c), with replies as HAProxy 2.6.12 sends
 * them: some end with a newline before the prompt, some do not. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "haproxy/runtime.h"

static void
free_all(char **r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i]);
}

/* Taken from a real 2.6.12 session: prompt, set server (empty reply),
 * add server, enable server x2, a refused add (no newline before the
 * prompt), a refused keyword, del server (no newline). */
static void
test_split_real(void **state)
{
	const char buf[] = "\n> "
	    "\n> "
	    "New server registered.\n\n> "
	    "\n> "
	    "\n> "
	    "Backend must use a dynamic load balancing to support dynamic "
	    "servers.\n> "
	    "'cookie' option is not accepted for dynamic server\n\n> "
	    "Server deleted.\n> "
	    "No such serv";
	char *r[16];
	size_t used, n;

	(void)state;
	n = rt_split_replies(buf, strlen(buf), r, 16, &used);
	assert_int_equal(n, 8);
	assert_string_equal(r[0], "");
	assert_string_equal(r[1], "");
	assert_string_equal(r[2], "New server registered.");
	assert_string_equal(r[3], "");
	assert_string_equal(r[4], "");
	assert_string_equal(r[5], "Backend must use a dynamic load balancing "
	    "to support dynamic servers.");
	assert_string_equal(r[6], "'cookie' option is not accepted for "
	    "dynamic server");
	assert_string_equal(r[7], "Server deleted.");
	/* the incomplete last reply stays in the buffer */
	assert_string_equal(buf + used, "No such serv");
	free_all(r, n);
}

static void
test_split_partial_and_max(void **state)
{
	const char *buf = "a\n\n> b\n";
	char *r[4];
	size_t used, n;

	(void)state;
	n = rt_split_replies(buf, strlen(buf), r, 4, &used);
	assert_int_equal(n, 1);
	assert_string_equal(r[0], "a");
	assert_int_equal(used, 5);
	free_all(r, n);
	/* a prompt cut in two is not a prompt yet */
	n = rt_split_replies("x\n>", 3, r, 4, &used);
	assert_int_equal(n, 0);
	assert_int_equal(used, 0);
	n = rt_split_replies("\n> \n> \n> ", 9, r, 2, &used);
	assert_int_equal(n, 2);
	assert_int_equal(used, 6);
	free_all(r, n);
	/* show info: many lines, one reply */
	buf = "Name: HAProxy\nPid: 42\n\n> ";
	n = rt_split_replies(buf, strlen(buf), r, 4, &used);
	assert_int_equal(n, 1);
	assert_string_equal(r[0], "Name: HAProxy\nPid: 42");
	free_all(r, n);
}

static void
test_reply_ok(void **state)
{
	(void)state;
	assert_true(rt_reply_ok("", ""));
	assert_true(rt_reply_ok("", "\n"));
	assert_true(rt_reply_ok("New server registered.",
	    "New server registered.\n"));
	assert_false(rt_reply_ok("", "No such server."));
	assert_false(rt_reply_ok("New server registered.", ""));
	assert_false(rt_reply_ok("New server registered.",
	    "'cookie' option is not accepted for dynamic server"));
	assert_false(rt_reply_ok("", "Require 'backend/server'."));
}

/* `set server addr` quotes what the server had: '*' stands for it. The
 * replies of 2.6.12 and of 3.0 (which leaves out what did not change),
 * and its refusals. */
static void
test_reply_ok_wildcard(void **state)
{
	const char *port = "*port changed from '*' to '82' by 'stats socket "
	    "command'";
	const char *both = "IP changed from '*' to '10.0.0.9', port changed "
	    "from '*' to '82' by 'stats socket command'";
	const char *ip = "IP changed from '*' to '10.0.0.9'* by 'stats socket "
	    "command'";

	(void)state;
	assert_true(rt_reply_ok(port, "no need to change the addr, port "
	    "changed from '81' to '82' by 'stats socket command'\n"));
	assert_true(rt_reply_ok(port, "port changed from '81' to '82' by "
	    "'stats socket command'"));
	assert_false(rt_reply_ok(port, "no need to change the addr, port "
	    "changed from '81' to '83' by 'stats socket command'"));
	assert_false(rt_reply_ok(port, "Invalid addr '10.0.0.1' by 'stats "
	    "socket command'"));
	assert_false(rt_reply_ok(port, "No such server."));
	assert_false(rt_reply_ok(port, "port changed from '81' to '82' by "
	    "'stats socket command'\nsomething else"));
	assert_true(rt_reply_ok(both, "IP changed from '10.0.0.1' to "
	    "'10.0.0.9', port changed from '81' to '82' by 'stats socket "
	    "command'"));
	assert_false(rt_reply_ok(both, "IP changed from '10.0.0.1' to "
	    "'10.0.0.8', port changed from '81' to '82' by 'stats socket "
	    "command'"));
	assert_true(rt_reply_ok(ip, "IP changed from '10.0.0.1' to "
	    "'10.0.0.9', no need to change the port by 'stats socket "
	    "command'"));
	assert_true(rt_reply_ok(ip, "IP changed from '10.0.0.1' to "
	    "'10.0.0.9' by 'stats socket command'"));
	assert_false(rt_reply_ok(ip, "Update for the current server address "
	    "family is only supported through configuration file."));
	assert_false(rt_reply_ok(ip, "nothing changed"));
	/* A '*' of its own, at either end. */
	assert_true(rt_reply_ok("*", "anything"));
	assert_true(rt_reply_ok("*", ""));
	assert_true(rt_reply_ok("a*", "abc"));
	assert_false(rt_reply_ok("*c", "abd"));
	assert_false(rt_reply_ok("a*", "ba"));
	/* No '*': the whole reply, as before. */
	assert_false(rt_reply_ok("abc", "abcd"));
	assert_false(rt_reply_ok("abcd", "abc"));
}

/* The shapes the planner sends pass; anything that HAProxy 2.6's CLI
 * would read otherwise does not (issue 11, finding 7). */
static void
test_cmd_shape(void **state)
{
	(void)state;
	assert_null(rt_cmd_unsafe("add server web/10.0.0.3:80 10.0.0.3:80 id 3 "
	    "weight 5 check inter 2000"));
	assert_null(rt_cmd_unsafe("add server web/::1:80 [::1]:80 id 1"));
	assert_null(rt_cmd_unsafe("enable server web/10.0.0.3:80"));
	assert_null(rt_cmd_unsafe("enable health web/10.0.0.3:80"));
	assert_null(rt_cmd_unsafe("set server web/10.0.0.1:80 state maint"));
	assert_null(rt_cmd_unsafe("set weight web/a.example:80 7"));
	assert_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send <x<"));

	/* Not a verb the planner uses, or no BACKEND/SERVER. */
	assert_non_null(rt_cmd_unsafe("show info"));
	assert_non_null(rt_cmd_unsafe("del server web/s"));
	assert_non_null(rt_cmd_unsafe("prompt"));
	assert_non_null(rt_cmd_unsafe("enable server "));
	assert_non_null(rt_cmd_unsafe("enable server web"));
	assert_non_null(rt_cmd_unsafe("enable server /s"));
	assert_non_null(rt_cmd_unsafe("enable server web/"));
	assert_non_null(rt_cmd_unsafe("enable server web/a/b"));
	assert_non_null(rt_cmd_unsafe("enable server we'b/s"));
	/* What would end it early, join it to the next or stall the CLI. */
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send <<"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send x<<"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send <<EOF"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send << check"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send <\\<"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "agent-send x\\"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "check; disable server w/t"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "check\nshow env"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "check\r"));
	assert_non_null(rt_cmd_unsafe("add server w/s 1.2.3.4:80 id 1 "
	    "check\x7f"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_real),
		cmocka_unit_test(test_split_partial_and_max),
		cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_reply_ok_wildcard),
		cmocka_unit_test(test_cmd_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
