/* Unit test for the supervisor's record (src/haproxy/history.c): a ring
 * of the last HISTORY_MAX entries, oldest first, that copies what it is
 * given and drops the oldest when full. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "haproxy/history.h"

static struct history_entry
entry(int i, bool ok)
{
	static char why[32], err[32];
	struct history_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(why, sizeof(why), "change %d", i);
	snprintf(err, sizeof(err), "error %d", i);
	e.time_ms = 1000 + i;
	e.duration_us = (uint64_t)i;
	e.kind = i % 2 ? HISTORY_RUNTIME : HISTORY_RELOAD;
	e.reason = i % 2 ? PLAN_RUNTIME : PLAN_DEFINITION;
	e.why = why;
	e.ok = ok;
	e.error = err;
	e.commands = (size_t)i;
	return e;
}

static void
test_empty(void **state)
{
	struct history h;

	(void)state;
	history_init(&h);
	assert_int_equal(h.n, 0);
	assert_null(history_get(&h, 0));
	assert_null(history_last(&h, HISTORY_KINDS));
	assert_null(history_last(&h, HISTORY_RELOAD));
	history_free(&h);
}

static void
test_copies(void **state)
{
	struct history h;
	struct history_entry e = entry(0, false);
	const struct history_entry *got;

	(void)state;
	history_init(&h);
	got = history_add(&h, &e);
	/* The caller's strings are its own: the ring keeps copies. */
	assert_ptr_not_equal(got->why, e.why);
	assert_string_equal(got->why, "change 0");
	assert_string_equal(got->error, "error 0");
	assert_int_equal(got->seq, 1);
	e = entry(1, true);
	got = history_add(&h, &e);
	assert_null(got->error);	/* ok: no error kept */
	e.why = NULL;
	got = history_add(&h, &e);
	assert_string_equal(got->why, "");
	assert_int_equal(h.n, 3);
	history_free(&h);
}

static void
test_wraps(void **state)
{
	struct history h;
	int total = HISTORY_MAX * 2 + 7;

	(void)state;
	history_init(&h);
	for (int i = 0; i < total; i++) {
		struct history_entry e = entry(i, i % 3 != 0);
		history_add(&h, &e);
		assert_int_equal(h.n, i + 1 < HISTORY_MAX ? i + 1 :
		    HISTORY_MAX);
	}
	assert_int_equal(h.seq, total);
	/* Oldest first: the last HISTORY_MAX, in order. */
	for (size_t i = 0; i < HISTORY_MAX; i++) {
		const struct history_entry *e = history_get(&h, i);
		int want = total - HISTORY_MAX + (int)i;
		char why[32];
		assert_non_null(e);
		snprintf(why, sizeof(why), "change %d", want);
		assert_string_equal(e->why, why);
		assert_int_equal(e->time_ms, 1000 + want);
		assert_int_equal(e->seq, (uint64_t)want + 1);
		assert_int_equal(e->ok, want % 3 != 0);
	}
	assert_null(history_get(&h, HISTORY_MAX));
	assert_int_equal(history_last(&h, HISTORY_KINDS)->time_ms,
	    1000 + total - 1);
	/* total - 1 is even: the newest runtime batch is the one before. */
	assert_int_equal(history_last(&h, HISTORY_RUNTIME)->time_ms,
	    1000 + total - 2);
	assert_null(history_last(&h, HISTORY_RESTART));
	history_free(&h);
	assert_int_equal(h.n, 0);
}

static void
test_check(void **state)
{
	struct history h;

	(void)state;
	history_init(&h);
	assert_int_equal(h.check.time_ms, 0);
	history_set_check(&h, 5, "/x.cfg", false, "[ALERT] bad");
	assert_false(h.check.ok);
	assert_string_equal(h.check.error, "[ALERT] bad");
	assert_string_equal(h.check.path, "/x.cfg");
	history_set_check(&h, 6, "/x.cfg", true, "ignored");
	assert_true(h.check.ok);
	assert_null(h.check.error);
	assert_int_equal(h.check.time_ms, 6);
	history_free(&h);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(history_kind_name(HISTORY_RELOAD), "reload");
	assert_string_equal(history_kind_name(HISTORY_RUNTIME), "runtime");
	assert_string_equal(history_kind_name(HISTORY_RESTART), "restart");
	assert_string_equal(history_kind_name(HISTORY_KINDS), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_wraps),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
