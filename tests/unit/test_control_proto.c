/* Unit test for the control socket's protocol (src/control_proto.c):
 * line framing with its bound, request parsing, reply lines; and the
 * reading of HAProxy's `show servers state` lines (src/control_cmds.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "control_cmds.h"
#include "control_proto.h"

static void
test_next_line(void **state)
{
	size_t used = 0;
	bool too_long;
	char *big;

	(void)state;
	assert_int_equal(ctl_next_line("status\nservices\n", 16, &used,
	    &too_long), 6);
	assert_int_equal(used, 7);
	assert_false(too_long);
	/* \r\n from a telnet-ish client. */
	assert_int_equal(ctl_next_line("status\r\n", 8, &used, &too_long), 6);
	assert_int_equal(used, 8);
	assert_int_equal(ctl_next_line("\n", 1, &used, &too_long), 0);
	assert_int_equal(used, 1);
	/* Incomplete: wait for more, unless it can no longer fit. */
	assert_int_equal(ctl_next_line("stat", 4, &used, &too_long), -1);
	assert_false(too_long);
	big = malloc(CTL_MAX_LINE + 1);
	memset(big, 'x', CTL_MAX_LINE + 1);
	assert_int_equal(ctl_next_line(big, CTL_MAX_LINE - 1, &used,
	    &too_long), -1);
	assert_false(too_long);
	assert_int_equal(ctl_next_line(big, CTL_MAX_LINE, &used, &too_long),
	    -1);
	assert_true(too_long);
	/* A newline past the limit does not count. */
	big[CTL_MAX_LINE] = '\n';
	assert_int_equal(ctl_next_line(big, CTL_MAX_LINE + 1, &used,
	    &too_long), -1);
	assert_true(too_long);
	/* The longest line that fits: CTL_MAX_LINE with its newline. */
	big[CTL_MAX_LINE - 1] = '\n';
	assert_int_equal(ctl_next_line(big, CTL_MAX_LINE, &used, &too_long),
	    CTL_MAX_LINE - 1);
	assert_int_equal(used, CTL_MAX_LINE);
	free(big);
}

static void
parse_ok(const char *line, enum ctl_cmd cmd, const char *arg)
{
	struct ctl_request req;
	char *err = NULL;

	if (ctl_parse(line, strlen(line), &req, &err) == -1)
		fail_msg("'%s' refused: %s", line, err);
	assert_int_equal(req.cmd, cmd);
	if (arg == NULL)
		assert_null(req.arg);
	else
		assert_string_equal(req.arg, arg);
	ctl_request_free(&req);
}

static void
parse_bad(const char *line, size_t len, const char *want)
{
	struct ctl_request req;
	char *err = NULL;

	assert_int_equal(ctl_parse(line, len, &req, &err), -1);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("error for '%.*s' is '%s', not about '%s'", (int)len,
		    line, err, want);
	assert_null(req.arg);
	free(err);
}

static void
test_parse(void **state)
{
	(void)state;
	parse_ok("status", CTL_STATUS, NULL);
	parse_ok("  services\t", CTL_SERVICES, NULL);
	parse_ok("servers web", CTL_SERVERS, "web");
	parse_ok("servers \t web.v2-a_b ", CTL_SERVERS, "web.v2-a_b");
	parse_ok("watchers", CTL_WATCHERS, NULL);
	parse_ok("reloads", CTL_RELOADS, NULL);
	parse_ok("reload", CTL_RELOAD, NULL);
	parse_ok("check", CTL_CHECK, NULL);
	parse_ok("help", CTL_HELP, NULL);

	parse_bad("", 0, "empty");
	parse_bad("   ", 3, "empty");
	parse_bad("stat", 4, "unknown command 'stat'");
	parse_bad("STATUS", 6, "unknown command");
	parse_bad("status now", 10, "status takes no argument");
	parse_bad("servers", 7, "servers takes one argument: SERVICE");
	parse_bad("servers a b", 11, "servers takes one argument");
	parse_bad("servers a b c d", 15, "too many words");
	parse_bad("status\0x", 8, "control character");
	parse_bad("\x1b[Astatus", 9, "control character");
	parse_bad("st\xc3\xa4tus", 7, "not printable ASCII");
	parse_bad("\xff\xfe", 2, "not printable ASCII");
	parse_bad("{\"cmd\":\"status\"}", 16, "unknown command");
	/* A long unknown word is quoted, cut. */
	char word[200];
	memset(word, 'a', sizeof(word));
	parse_bad(word, sizeof(word), "unknown command 'aaaa");
}

static void
test_reply_lines(void **state)
{
	size_t len;
	char *line;

	(void)state;
	line = ctl_reply_line(json_pack("{s:i}", "n", 3), &len);
	assert_string_equal(line, "{\"ok\":true,\"n\":3}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	line = ctl_reply_line(json_pack("{s:f}", "age_s", 2.011), &len);
	assert_string_equal(line, "{\"ok\":true,\"age_s\":2.011}\n");
	free(line);
	line = ctl_error_line("no service x", &len);
	assert_string_equal(line, "{\"ok\":false,\"error\":\"no service x\"}\n");
	free(line);
	/* Not UTF-8: still a valid reply. */
	line = ctl_error_line("bad \xff byte", &len);
	assert_non_null(strstr(line, "\"ok\":false"));
	free(line);
	json_t *s = ctlcmd_str("x\xffy");
	assert_string_equal(json_string_value(s), "x?y");
	json_decref(s);
	json_t *h = ctl_help();
	assert_int_equal(json_array_size(json_object_get(h, "commands")),
	    CTL_NCMDS);
	json_decref(h);
}

static void
test_srvstate(void **state)
{
	struct ctlcmd_srvstate st;

	(void)state;
	assert_int_equal(ctlcmd_parse_srvstate("1", &st), -1);
	assert_int_equal(ctlcmd_parse_srvstate("# be_id be_name srv_id "
	    "srv_name srv_addr", &st), -1);
	assert_int_equal(ctlcmd_parse_srvstate("", &st), -1);
	assert_int_equal(ctlcmd_parse_srvstate("3 web 1 127.0.0.1:25081 "
	    "127.0.0.1 2 1 10 10 4 6 3 4 6 0 0 0 - 25081 - 0 0 - - 0", &st),
	    0);
	assert_string_equal(st.backend, "web");
	assert_string_equal(st.server, "127.0.0.1:25081");
	assert_string_equal(st.addr, "127.0.0.1");
	assert_int_equal(st.id, 1);
	assert_int_equal(st.port, 25081);
	assert_int_equal(st.weight, 10);
	assert_string_equal(ctlcmd_op_state_name(st.op_state), "running");
	assert_string_equal(ctlcmd_admin_name(st.admin_state), "maint");
	assert_string_equal(ctlcmd_check_name(st.check_result,
	    st.check_state), "passed");
	assert_string_equal(ctlcmd_admin_name(0), "ready");
	assert_string_equal(ctlcmd_admin_name(0x08), "drain");
	assert_string_equal(ctlcmd_admin_name(0x20 | 0x08), "maint");
	assert_string_equal(ctlcmd_check_name(2, 0x6), "failed");
	assert_string_equal(ctlcmd_check_name(3, 0), "none");
	assert_string_equal(ctlcmd_op_state_name(0), "stopped");
	assert_string_equal(ctlcmd_op_state_name(9), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_line),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reply_lines),
		cmocka_unit_test(test_srvstate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
