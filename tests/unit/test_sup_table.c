/* Unit test for the supervisor's state table (SUP_TRANSITIONS in
 * src/haproxy/supervisor.h): walked as a graph, it must let every state
 * be reached, always lead back to IDLE until a stop, let a stop happen
 * from anywhere and lead only to STOPPED; and sup_enter must refuse what
 * the table does not have. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "haproxy/supervisor.h"

/* reach[a][b]: b can be reached from a in zero or more transitions. */
static bool reach[SUP_NSTATES][SUP_NSTATES];

static int
setup(void **state)
{
	(void)state;
	memset(reach, 0, sizeof(reach));
	for (int a = 0; a < SUP_NSTATES; a++)
		reach[a][a] = true;
	for (size_t i = 0; i < sup_ntransitions; i++)
		reach[sup_transitions[i].from][sup_transitions[i].to] = true;
	/* Warshall: the transitive closure. */
	for (int k = 0; k < SUP_NSTATES; k++)
		for (int a = 0; a < SUP_NSTATES; a++)
			for (int b = 0; b < SUP_NSTATES; b++)
				if (reach[a][k] && reach[k][b])
					reach[a][b] = true;
	return 0;
}

static void
test_names(void **state)
{
	(void)state;
	for (int st = 0; st < SUP_NSTATES; st++) {
		assert_non_null(sup_state_name((enum sup_state)st));
		assert_string_not_equal(sup_state_name((enum sup_state)st),
		    "?");
	}
	for (int ev = 0; ev < SUP_NEVENTS; ev++) {
		assert_non_null(sup_event_name((enum sup_event)ev));
		assert_string_not_equal(sup_event_name((enum sup_event)ev),
		    "?");
	}
}

/* sup_init starts in IDLE: every state is on some path from there. */
static void
test_every_state_reachable(void **state)
{
	(void)state;
	for (int st = 0; st < SUP_NSTATES; st++)
		if (!reach[SUP_IDLE][st])
			fail_msg("%s cannot be reached from idle",
			    sup_state_name((enum sup_state)st));
}

/* Whatever is in flight ends, and the supervisor is idle again; only a
 * stop is for good. */
static void
test_idle_reachable(void **state)
{
	(void)state;
	for (int st = 0; st < SUP_NSTATES; st++) {
		if (st == SUP_STOPPING || st == SUP_STOPPED)
			continue;
		if (!reach[st][SUP_IDLE])
			fail_msg("idle cannot be reached from %s",
			    sup_state_name((enum sup_state)st));
	}
}

/* A stop is taken in every state, and leads only to STOPPED. */
static void
test_stop(void **state)
{
	(void)state;
	for (int st = 0; st < SUP_NSTATES; st++) {
		int to = sup_transition((enum sup_state)st, SUP_EV_STOP);
		if (st == SUP_STOPPING || st == SUP_STOPPED)
			assert_int_equal(to, -1);
		else if (to != SUP_STOPPING)
			fail_msg("no stop from %s",
			    sup_state_name((enum sup_state)st));
	}
	for (size_t i = 0; i < sup_ntransitions; i++) {
		const struct sup_transition *t = &sup_transitions[i];
		if (t->from == SUP_STOPPING && t->to != SUP_STOPPED)
			fail_msg("stopping leads to %s on %s",
			    sup_state_name(t->to), sup_event_name(t->event));
		if (t->from == SUP_STOPPED)
			fail_msg("stopped is left on %s",
			    sup_event_name(t->event));
	}
	assert_int_equal(sup_transition(SUP_STOPPING, SUP_EV_STOPPED),
	    SUP_STOPPED);
	for (int st = 0; st < SUP_NSTATES; st++)
		assert_true(reach[st][SUP_STOPPED]);
}

static void
test_no_duplicate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sup_ntransitions; i++)
		for (size_t j = i + 1; j < sup_ntransitions; j++)
			if (sup_transitions[i].from ==
			    sup_transitions[j].from &&
			    sup_transitions[i].event ==
			    sup_transitions[j].event)
				fail_msg("%s on %s is in the table twice",
				    sup_state_name(sup_transitions[i].from),
				    sup_event_name(sup_transitions[i].event));
}

/* sup_transition finds exactly the table's pairs; sup_enter takes them
 * and refuses any other (a debug build aborts there instead). */
static void
test_refused(void **state)
{
	struct supervisor s;
	int n = 0;

	(void)state;
	for (int st = 0; st < SUP_NSTATES; st++)
		for (int ev = 0; ev < SUP_NEVENTS; ev++) {
			bool in_table = false;
			for (size_t i = 0; i < sup_ntransitions; i++)
				if ((int)sup_transitions[i].from == st &&
				    (int)sup_transitions[i].event == ev) {
					assert_int_equal(sup_transition(
					    (enum sup_state)st,
					    (enum sup_event)ev),
					    sup_transitions[i].to);
					in_table = true;
				}
			if (!in_table) {
				assert_int_equal(sup_transition(
				    (enum sup_state)st, (enum sup_event)ev),
				    -1);
				n++;
			}
		}
	assert_true(n > 0);
	assert_int_equal(sup_transition(SUP_APPLYING, SUP_EV_SERVE), -1);
	assert_int_equal(sup_transition(SUP_STOPPED, SUP_EV_CHECK), -1);

	memset(&s, 0, sizeof(s));
	s.state = SUP_IDLE;
	assert_true(sup_enter(&s, SUP_EV_CHECK));
	assert_int_equal(s.state, SUP_CHECKING);
	assert_true(sup_enter(&s, SUP_EV_SAVE));
	assert_int_equal(s.state, SUP_SAVING);
#ifndef PM_DEBUG
	assert_false(sup_enter(&s, SUP_EV_APPLIED));
	assert_int_equal(s.state, SUP_SAVING);
#endif
	assert_true(sup_enter(&s, SUP_EV_STOP));
	assert_int_equal(s.state, SUP_STOPPING);
#ifndef PM_DEBUG
	assert_false(sup_enter(&s, SUP_EV_FAIL));
	assert_int_equal(s.state, SUP_STOPPING);
#endif
	assert_true(sup_enter(&s, SUP_EV_STOPPED));
	assert_int_equal(s.state, SUP_STOPPED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_every_state_reachable),
		cmocka_unit_test(test_idle_reachable),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_no_duplicate),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
