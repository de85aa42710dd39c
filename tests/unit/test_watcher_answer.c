/* Unit test for the count of watchers that have not answered once
 * (watcher_unanswered, watcher_on_answer in src/watchers/watcher.c),
 * which holds the first HAProxy start: a report is an answer, so is a
 * failure that waiting would not mend, a watcher stopped before it
 * answered is not waited for, and the hook is told each first answer
 * once. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "server.h"
#include "service.h"
#include "watchers/watcher.h"

static int answers;
static int reports;

static void
on_answer(void *ctx)
{
	(void)ctx;
	answers++;
}

static void
on_update(void *ctx, const char *service, struct server_list *servers)
{
	(void)ctx;
	(void)service;
	(void)servers;
	reports++;
}

static struct service_def *
def_of(const char *text)
{
	struct service_def *def = NULL;
	char *err = NULL;

	if (svcdef_parse("svc", text, strlen(text), "test", &def, &err) != 0)
		fail_msg("%s", err);
	return def;
}

static struct watcher *
start(const char *text)
{
	struct service_def *def = def_of(text);
	char *err = NULL;
	struct watcher *w = watcher_start(uv_default_loop(), def, on_update,
	    NULL, &err);

	if (w == NULL)
		fail_msg("%s", err);
	svcdef_unref(def);
	return w;
}

static void
settle(void)
{
	uv_run(uv_default_loop(), UV_RUN_NOWAIT);
}

static int
setup(void **state)
{
	(void)state;
	answers = reports = 0;
	watcher_on_answer(on_answer, NULL);
	return 0;
}

/* static reports from its start: answered at once, told once. */
static void
test_report_answers(void **state)
{
	struct watcher *w;

	(void)state;
	w = start("{\"type\": \"static\", \"port\": 80, \"servers\": "
	    "[{\"address\": \"127.0.0.1\", \"port\": 8080}]}");
	assert_true(w->answered);
	assert_int_equal(watcher_unanswered(), 0);
	assert_int_equal(answers, 1);
	assert_int_equal(reports, 1);
	watcher_stop(w);
	assert_int_equal(watcher_unanswered(), 0);
	settle();
}

/* A host file that is not there: no report, but an answer. */
static void
test_failure_answers(void **state)
{
	struct watcher *w;

	(void)state;
	w = start("{\"type\": \"file\", \"port\": 80, \"file\": "
	    "\"/nonexistent/proxymgrd-test/hosts\"}");
	assert_true(w->answered);
	assert_int_equal(watcher_unanswered(), 0);
	assert_int_equal(answers, 1);
	assert_int_equal(reports, 0);
	watcher_stop(w);
	settle();
}

/* A ZooKeeper where nothing listens: not an answer, however long; a
 * watcher stopped before it answered is no longer waited for, and
 * stopping it tells nobody. */
static void
test_stopped_unanswered(void **state)
{
	struct watcher *w;

	(void)state;
	w = start("{\"type\": \"zookeeper\", \"port\": 80, \"server\": "
	    "\"127.0.0.1:1\", \"path\": \"/services/svc\"}");
	settle();
	assert_false(w->answered);
	assert_int_equal(watcher_unanswered(), 1);
	watcher_stop(w);
	assert_int_equal(watcher_unanswered(), 0);
	assert_int_equal(answers, 0);
	settle();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_report_answers, setup),
		cmocka_unit_test_setup(test_failure_answers, setup),
		cmocka_unit_test_setup(test_stopped_unanswered, setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	return rc;
}
