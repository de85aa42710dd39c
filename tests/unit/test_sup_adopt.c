/* Unit test for adoption (procs.c): a HAProxy that is gone by the time
 * it is adopted, a draining one or the one that served, is reported by
 * hap_proc_adopt before it returns. It must be linked nowhere: the
 * supervisor neither follows a freed record nor waits for it, and stops
 * at once. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "haproxy/supervisor.h"
#include "pmconfig.h"
#include "util.h"

static void
on_stopped(void *ctx)
{
	*(bool *)ctx = true;
}

/* A pid that ran and is gone: a child that exited and was reaped. */
static pid_t
gone_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void
test_adopt_gone(void **state)
{
	struct pm_config *cfg = pmconfig_defaults("test.yml");
	struct sup_hooks hooks = { .stopped = on_stopped };
	struct sup_handoff_proc old = { gone_pid(), -1, -1 };
	struct sup_handoff h = { gone_pid(), -1, -1, &old, 1, 42 };
	struct supervisor s;
	char dir[] = "/tmp/test_sup_adopt.XXXXXX";
	bool stopped = false;
	uv_loop_t loop;

	(void)state;
	assert_non_null(mkdtemp(dir));
	free(cfg->config_path);
	cfg->config_path = xasprintf("%s/haproxy.cfg", dir);
	hooks.ctx = &stopped;
	assert_int_equal(uv_loop_init(&loop), 0);
	sup_init(&s, &loop, cfg, &hooks);

	sup_adopt(&s, &h);
	assert_null(s.procs.current);
	assert_null(s.procs.old);
	/* Nothing was taken over: the first change starts a HAProxy. */
	assert_int_equal(s.state, SUP_IDLE);

	sup_stop(&s);
	while (!stopped)
		assert_true(uv_run(&loop, UV_RUN_ONCE) >= 0);
	assert_int_equal(s.state, SUP_STOPPED);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&loop), 0);
	pmconfig_unref(cfg);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopt_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
