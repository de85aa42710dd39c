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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_real),
		cmocka_unit_test(test_split_partial_and_max),
		cmocka_unit_test(test_reply_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
