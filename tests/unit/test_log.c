/* Unit tests for the JSON log lines: one object per line whatever a
 * service name, reason or message holds, with the stable keys. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

/* The line, checked to be one JSON object ending in its only newline. */
static json_t *
parse_line(const char *line)
{
	json_error_t e;
	json_t *o;
	const char *nl = strchr(line, '\n');

	if (nl == NULL || nl[1] != '\0')
		fail_msg("not exactly one line: '%s'", line);
	o = json_loads(line, 0, &e);
	if (o == NULL)
		fail_msg("not JSON (%s): '%s'", e.text, line);
	assert_true(json_is_object(o));
	return o;
}

static json_t *
json_line(enum log_level level, const struct log_fields *f, const char *msg)
{
	struct timeval tv = { 1764491458, 123456 };	/* 2025-11-30 */
	struct sbuf sb;
	json_t *o;

	sbuf_init(&sb);
	log_json_line(&sb, &tv, level, f, msg);
	o = parse_line(sb.buf);
	sbuf_free(&sb);
	return o;
}

static void
assert_key(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	if (want == NULL) {
		assert_true(json_is_null(v));
		return;
	}
	if (!json_is_string(v))
		fail_msg("key %s: not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void
test_stable_keys(void **state)
{
	(void)state;
	struct log_fields f = { "reload_done", "web", "services", 0 };
	json_t *o = json_line(LOG_LVL_INFO, &f, "haproxy[1] serves 2 services");
	const char *keys[] = { "time", "level", "event", "service", "reason",
	    "msg" };

	assert_key(o, "time", "2025-11-30T08:30:58.123Z");
	assert_key(o, "level", "info");
	assert_key(o, "event", "reload_done");
	assert_key(o, "service", "web");
	assert_key(o, "reason", "services");
	assert_key(o, "msg", "haproxy[1] serves 2 services");
	assert_null(json_object_get(o, "pid"));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(o, keys[i]));
	assert_int_equal(json_object_size(o), 6);
	json_decref(o);
}

static void
test_missing_fields_are_null(void **state)
{
	(void)state;
	struct log_fields f = { NULL, NULL, NULL, 0 };
	json_t *o = json_line(LOG_LVL_WARNING, &f, "plain");

	assert_key(o, "level", "warning");
	assert_key(o, "event", "log");	/* the generic event */
	assert_key(o, "service", NULL);
	assert_key(o, "reason", NULL);
	json_decref(o);
}

static void
test_haproxy_pid(void **state)
{
	(void)state;
	struct log_fields f = { "haproxy", NULL, NULL, 4242 };
	json_t *o = json_line(LOG_LVL_INFO, &f, "[NOTICE]   (4242) : New worker");

	assert_key(o, "event", "haproxy");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
	assert_key(o, "msg", "[NOTICE]   (4242) : New worker");
	json_decref(o);
}

/* Whatever a hostile name holds comes back as it was (or, for bytes that
 * are not UTF-8, as U+FFFD), inside one object on one line. */
static void
test_hostile_values(void **state)
{
	(void)state;
	const char *nasty[] = {
		"we\"b",
		"web\",\"level\":\"fatal",
		"a\nb\r\nc",
		"tab\there\\back",
		"\x01\x02\x1b[31mred\x7f",
		"}\n{\"event\":\"fake\"}",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"line\xe2\x80\xa8sep\xe2\x80\xa9para",
	};

	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		struct log_fields f = { "service_rejected", nasty[i], nasty[i],
		    0 };
		json_t *o = json_line(LOG_LVL_WARNING, &f, nasty[i]);
		assert_key(o, "service", nasty[i]);
		assert_key(o, "reason", nasty[i]);
		assert_key(o, "msg", nasty[i]);
		assert_key(o, "event", "service_rejected");
		assert_int_equal(json_object_size(o), 6);
		json_decref(o);
	}
}

static void
test_escapes(void **state)
{
	(void)state;
	struct sbuf sb;

	sbuf_init(&sb);
	log_json_string(&sb, "q\" b\\ n\n r\r t\t c\x01 d\x7f");
	assert_string_equal(sb.buf,
	    "\"q\\\" b\\\\ n\\n r\\r t\\t c\\u0001 d\\u007f\"");
	sbuf_free(&sb);

	/* Not UTF-8: a lone continuation byte, a cut sequence, an overlong
	 * '/', a surrogate, 0xff. */
	sbuf_init(&sb);
	log_json_string(&sb, "a\x80z \xc3 \xc0\xaf \xed\xa0\x80 \xff");
	assert_string_equal(sb.buf, "\"a\\ufffdz \\ufffd \\ufffd\\ufffd "
	    "\\ufffd\\ufffd\\ufffd \\ufffd\"");
	sbuf_free(&sb);

	sbuf_init(&sb);
	log_json_string(&sb, "x\xe2\x80\xa8y");
	assert_string_equal(sb.buf, "\"x\\u2028y\"");
	sbuf_free(&sb);
}

/* The real path: log_event() to stderr in JSON, one line per call. */
static void
test_log_event_to_stderr(void **state)
{
	(void)state;
	char path[] = "/tmp/test_log.XXXXXX", buf[8192];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;

	assert_true(fd >= 0);
	dup2(fd, 2);
	log_configure(LOG_FORMAT_JSON, -1);
	log_event(LOG_LVL_INFO, "reload_start", NULL, "services",
	    "reload: %s", "checking");
	log_event(LOG_LVL_WARNING, "service_rejected", "bad\nname", NULL,
	    "service %s: refused", "bad\nname");
	log_haproxy(LOG_LVL_WARNING, 77, "[ALERT] \"x\"");
	log_info("plain %d", 1);
	log_debug("not shown");
	log_configure(LOG_FORMAT_TEXT, -1);
	dup2(saved, 2);
	close(saved);
	close(fd);

	f = fopen(path, "r");
	assert_non_null(f);
	const char *events[] = { "reload_start", "service_rejected",
	    "haproxy", "log" };
	size_t n = 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		assert_true(n < 4);
		json_t *o = parse_line(buf);
		assert_key(o, "event", events[n]);
		if (n == 1)
			assert_key(o, "service", "bad\nname");
		if (n == 2) {
			assert_key(o, "level", "warning");
			assert_key(o, "msg", "[ALERT] \"x\"");
		}
		json_decref(o);
		n++;
	}
	assert_int_equal(n, 4);
	fclose(f);
	unlink(path);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(log_format_from_name("text"), LOG_FORMAT_TEXT);
	assert_int_equal(log_format_from_name("json"), LOG_FORMAT_JSON);
	assert_int_equal(log_format_from_name("JSON"), -1);
	assert_int_equal(log_facility_from_name("daemon"), LOG_DAEMON);
	assert_int_equal(log_facility_from_name("local7"), LOG_LOCAL7);
	assert_int_equal(log_facility_from_name("kern"), -1);
	assert_int_equal(log_facility_from_name("local8"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_keys),
		cmocka_unit_test(test_missing_fields_are_null),
		cmocka_unit_test(test_haproxy_pid),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_log_event_to_stderr),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
