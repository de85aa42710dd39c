/* Unit tests for the HAProxy left behind by a dead proxymgrd: which
 * command lines are ours, what ExecStopPost='s $SERVICE_RESULT means for
 * them, and finding and stopping real processes by their config path. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orphans.h"
#include "util.h"

#define CFG "/run/proxymgr/haproxy.cfg"

/* A literal with its NULs: sizeof counts the final one the kernel adds. */
#define MATCHES(lit, path) \
	orphans_cmdline_matches((lit), sizeof(lit) - 1, (path))

static void
test_matches(void **state)
{
	(void)state;
	assert_true(MATCHES("/usr/sbin/haproxy\0-f\0" CFG "\0-db\0", CFG));
	assert_true(MATCHES("haproxy\0-f\0" CFG "\0", CFG));
	/* A versioned binary name, and the last -f of a hand-written
	 * config followed by proxymgrd's own part. */
	assert_true(MATCHES("/opt/haproxy-2.6\0-f\0/etc/h.cfg\0-f\0"
	    "/run/proxymgrd/proxymgrd.cfg\0-db\0",
	    "/run/proxymgrd/proxymgrd.cfg"));
	assert_true(MATCHES("/opt/haproxy-2.6\0-f\0/etc/h.cfg\0-f\0"
	    "/run/proxymgrd/proxymgrd.cfg\0-db\0", "/etc/h.cfg"));
	/* Relative paths are compared as they are written. */
	assert_true(MATCHES("haproxy\0-f\0run/haproxy.cfg\0",
	    "run/haproxy.cfg"));
	assert_false(MATCHES("haproxy\0-f\0run/haproxy.cfg\0", CFG));
	/* A haproxy.path that is a script, before it execs HAProxy. */
	assert_true(MATCHES("/bin/sh\0/tmp/t/haproxy\0-f\0" CFG "\0", CFG));
	assert_false(MATCHES("/bin/sh\0/tmp/t/haproxy\0-c\0-f\0" CFG
	    ".new\0", CFG));
	assert_false(MATCHES("/bin/sh\0/tmp/t/other\0-f\0" CFG "\0", CFG));
}

static void
test_not_haproxy(void **state)
{
	(void)state;
	assert_false(MATCHES("/usr/bin/nothaproxy\0-f\0" CFG "\0", CFG));
	/* A directory named haproxy does not make the binary one. */
	assert_false(MATCHES("/opt/haproxy/bin/hap\0-f\0" CFG "\0", CFG));
	assert_false(MATCHES("/usr/sbin/haprox\0-f\0" CFG "\0", CFG));
	assert_false(MATCHES("/usr/sbin/\0-f\0" CFG "\0", CFG));
	assert_false(MATCHES("\0-f\0" CFG "\0", CFG));
	/* The path elsewhere than after -f: an editor, a check of the
	 * temp file, or -f itself as argv[0]. */
	assert_false(MATCHES("vi\0-f\0" CFG "\0", CFG));
	assert_false(MATCHES("haproxy\0-c\0" CFG "\0", CFG));
	assert_false(MATCHES("haproxy\0" CFG "\0", CFG));
	assert_false(MATCHES("haproxy\0-sf\0" CFG "\0", CFG));
	assert_false(MATCHES("haproxy\0-f\0\0" CFG "\0", CFG));
	assert_false(MATCHES("haproxy\0-f\0", CFG));
}

static void
test_exact_path(void **state)
{
	(void)state;
	/* The check proxymgrd runs on the next config is not ours. */
	assert_false(MATCHES("haproxy\0-c\0-f\0" CFG ".new\0", CFG));
	assert_false(MATCHES("haproxy\0-f\0/run/proxymgr/haproxy\0", CFG));
	assert_false(MATCHES("haproxy\0-f\0/RUN/proxymgr/haproxy.cfg\0", CFG));
	assert_false(MATCHES("haproxy\0-f\0" CFG "\0", ""));
}

static void
test_cut_short(void **state)
{
	static const char full[] = "haproxy\0-f\0" CFG "\0";

	(void)state;
	assert_true(orphans_cmdline_matches(full, sizeof(full) - 1, CFG));
	/* The kernel or our read cut the text: an argument without its NUL
	 * may be the start of a longer one, so it never matches. */
	assert_false(orphans_cmdline_matches(full, sizeof(full) - 2, CFG));
	assert_false(orphans_cmdline_matches(full, 10, CFG));
	assert_false(orphans_cmdline_matches(full, 0, CFG));
	assert_false(orphans_cmdline_matches("", 0, CFG));
}

static void
expect_keep(const char *result, const char *code, const char *status,
    bool keep, const char *needle)
{
	const char *why = NULL;

	if (orphans_keep(result, code, status, &why) != keep)
		fail_msg("SERVICE_RESULT=%s EXIT_CODE=%s EXIT_STATUS=%s: "
		    "expected %s", result ? result : "(unset)",
		    code ? code : "(unset)", status ? status : "(unset)",
		    keep ? "keep" : "stop");
	assert_non_null(why);
	if (strstr(why, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", why, needle);
}

static void
test_keep(void **state)
{
	(void)state;
	/* proxymgrd itself died: the restarted one takes HAProxy over. */
	expect_keep("signal", "killed", "KILL", true, "killed by a signal");
	expect_keep("signal", "killed", "SEGV", true, "killed by a signal");
	expect_keep("core-dump", "dumped", "ABRT", true, "dumped core");
	expect_keep("oom-kill", "killed", "KILL", true, "OOM killer");
	expect_keep("exit-code", "exited", "1", true, "exited with an error");
	expect_keep("watchdog", "dumped", "ABRT", true, "watchdog");
	/* A result may come without the main process' exit. */
	expect_keep("signal", NULL, NULL, true, "killed by a signal");
}

static void
test_stop(void **state)
{
	(void)state;
	expect_keep("success", "exited", "0", false, "clean stop");
	expect_keep("success", "killed", "TERM", false, "clean stop");
	expect_keep("timeout", "killed", "KILL", false, "did not stop in time");
	expect_keep("timeout", "exited", "0", false, "did not stop in time");
	/* OOMPolicy=stop stopped a healthy proxymgrd: it exited 0 after
	 * stopping its HAProxy; what is left is a straggler. */
	expect_keep("oom-kill", "exited", "0", false, "exited cleanly");
	expect_keep("protocol", NULL, NULL, false, "does not say");
	expect_keep("resources", "exited", "1", false, "does not say");
	expect_keep("start-limit-hit", NULL, NULL, false, "does not say");
	expect_keep("something-new", NULL, NULL, false, "does not say");
	/* Run by hand, not by systemd. */
	expect_keep(NULL, NULL, NULL, false, "no $SERVICE_RESULT");
	expect_keep("", NULL, NULL, false, "no $SERVICE_RESULT");
}

static char dir[] = "/tmp/pm-orphans.XXXXXX";

/* A stand-in HAProxy: /bin/sh named haproxy-stand-in, running script,
 * with "-f cfg" among its arguments. The script writes a line once it
 * has set itself up, then reads from a pipe that is never written, so
 * it waits until signalled. */
static pid_t
spawn(const char *cfg, const char *script, int *wfd)
{
	int in[2], out[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl("/bin/sh", "haproxy-stand-in", "-c", script, "-f", cfg,
		    (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	assert_int_equal(read(out[0], &c, 1), 1);
	close(out[0]);
	*wfd = in[1];
	return pid;
}

/* orphans_find sees exactly want. */
static bool
find_one(const char *cfg, pid_t want)
{
	int pids[4];

	return orphans_find(cfg, pids, 4) == 1 && pids[0] == want;
}

static void
test_find_and_stop(void **state)
{
	char *real = xasprintf("%s/real", dir), *link = xasprintf("%s/link",
	    dir);
	char *cfg = xasprintf("%s/haproxy.cfg", real);
	char *via_link = xasprintf("%s/haproxy.cfg", link);
	char *other = xasprintf("%s/other.cfg", real);
	int pids[4], wfd, st;
	pid_t pid;

	(void)state;
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(orphans_find(cfg, pids, 4), 0);

	pid = spawn(cfg, "echo; read x", &wfd);
	assert_true(find_one(cfg, pid));
	/* The file need not exist; through a symlink it must, to resolve. */
	assert_int_equal(orphans_find(other, pids, 4), 0);
	assert_int_equal(orphans_find(via_link, pids, 4), 0);
	close(open(cfg, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(orphans_find(via_link, pids, 4), 1);
	assert_int_equal(pids[0], pid);
	assert_int_equal(orphans_find(cfg, pids, 0), 0);
	/* Another config's HAProxy is left alone by a stop. */
	assert_int_equal(orphans_stop(other, 100), 0);
	assert_int_equal(kill(pid, 0), 0);
	/* sh ends on SIGUSR1; a zombie is gone, whoever reaps it. */
	assert_int_equal(orphans_stop(cfg, 5000), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGUSR1);
	close(wfd);

	/* SIGUSR1 ignored: SIGTERM once soft_ms have passed. */
	pid = spawn(cfg, "trap '' USR1; echo; read x", &wfd);
	assert_true(find_one(cfg, pid));
	assert_int_equal(orphans_stop(cfg, 100), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	close(wfd);
	assert_int_equal(orphans_find(cfg, pids, 4), 0);

	unlink(cfg);
	unlink(link);
	rmdir(real);
	free(real);
	free(link);
	free(cfg);
	free(via_link);
	free(other);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_not_haproxy),
		cmocka_unit_test(test_exact_path),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_find_and_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
