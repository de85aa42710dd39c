/* Unit test for when a wanted reload is due (sched_reload_due in
 * src/haproxy/sched.c): a burst is one reload, however it is spread, up
 * to the cap; and the rate limit holds. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "haproxy/sched.h"

#define DEBOUNCE	20
#define INTERVAL	500

static uint64_t
due(uint64_t since, uint64_t last_change, uint64_t last_reload,
    bool running, uint64_t jitter)
{
	struct sched_times t = { since, last_change, last_reload, running };

	return sched_reload_due(&t, DEBOUNCE, INTERVAL, jitter);
}

/* One change: debounce after it, as before. */
static void
test_single_change(void **state)
{
	(void)state;
	assert_int_equal(due(10000, 10000, 0, false, 0), 10020);
	/* The change that made the reload wanted came just before. */
	assert_int_equal(due(10000, 9999, 0, false, 0), 10020);
	assert_int_equal(due(10000, 0, 0, false, 0), 10020);
}

/* Changes keep coming: the reload waits until they are quiet for the
 * debounce, so that a spread burst is one reload... */
static void
test_burst_trails(void **state)
{
	(void)state;
	assert_int_equal(due(10000, 10015, 0, false, 0), 10035);
	assert_int_equal(due(10000, 10300, 0, false, 0), 10320);
	/* ...but not for ever: at most the interval after the first. */
	assert_int_equal(due(10000, 10490, 0, false, 0), 10500);
	assert_int_equal(due(10000, 99999, 0, false, 0), 10500);
}

/* A debounce longer than the interval is its own cap. */
static void
test_cap_is_debounce(void **state)
{
	struct sched_times t = { 10000, 10100, 0, false };

	(void)state;
	assert_int_equal(sched_reload_due(&t, 2000, 500, 0), 12000);
	assert_int_equal(sched_reload_due(&t, 0, 0, 0), 10000);
}

/* With a HAProxy running, one reload per interval from the previous
 * one's start, plus jitter; the trail may end later than that. */
static void
test_rate_limit(void **state)
{
	(void)state;
	assert_int_equal(due(10000, 10000, 9800, true, 7), 10307);
	assert_int_equal(due(10000, 10000, 9000, true, 7), 10020);
	/* The first start is not rate-limited. */
	assert_int_equal(due(10000, 10000, 9800, false, 7), 10020);
	/* A change during the wait is carried by the same reload. */
	assert_int_equal(due(10000, 10250, 9800, true, 7), 10307);
	assert_int_equal(due(10000, 10400, 9800, true, 7), 10420);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_change),
		cmocka_unit_test(test_burst_trails),
		cmocka_unit_test(test_cap_is_debounce),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
