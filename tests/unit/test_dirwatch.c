/* Unit tests for dirwatch, on a real loop and real inotify: a plain file
 * replaced by rename is passed on by its name; a Kubernetes volume's
 * "..data" swap is passed on as NULL (look at everything again), never
 * by the name "..data"; a directory reached through a swapped symlink is
 * followed as soon as the kubelet removes the old one, not at the
 * periodic check; and so is a directory removed and made again, which
 * ext4 gives the inode number of the old one. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "dirwatch.h"
#include "util.h"

#define CHECK_MS	2000	/* dirwatch.c's periodic check */
#define BOUND_MS	5000	/* give up waiting for an event */

static char dir[] = "/tmp/pm-dirwatch.XXXXXX";

/* What the callback was told, as "|name|name|*" (* for NULL). */
struct seen {
	char	 log[8192];
	int	 all;
	bool	 data_named;	/* "..data" reached the callback */
	bool	 closed;
};

static void
on_change(void *arg, const char *filename)
{
	struct seen *s = arg;
	size_t len = strlen(s->log);

	if (filename == NULL)
		s->all++;
	else if (strcmp(filename, "..data") == 0)
		s->data_named = true;
	snprintf(s->log + len, sizeof(s->log) - len, "|%s",
	    filename ? filename : "*");
}

static void
on_closed(void *arg)
{
	((struct seen *)arg)->closed = true;
}

static bool timed_out;

static void
on_bound(uv_timer_t *t)
{
	(void)t;
	timed_out = true;
}

/* Run the loop until the callback was told want (a part of the log, or
 * NULL) and NULL at least all times. */
static void
run_until(uv_loop_t *loop, struct seen *s, const char *want, int all)
{
	uv_timer_t bound;

	uv_timer_init(loop, &bound);
	uv_timer_start(&bound, on_bound, BOUND_MS, 0);
	timed_out = false;
	while ((want != NULL && strstr(s->log, want) == NULL) ||
	    s->all < all) {
		if (timed_out)
			break;
		uv_run(loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&bound, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	if (timed_out)
		fail_msg("no '%s' or %d NULL events after %d ms; seen: %s",
		    want ? want : "", all, BOUND_MS, s->log);
}

static void
stop(uv_loop_t *loop, struct dirwatch *dw, struct seen *s)
{
	dirwatch_stop(dw, on_closed);
	while (!s->closed)
		uv_run(loop, UV_RUN_ONCE);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* kube_swap(mount, ts, nested): the kubelet's update of a volume at mount
 * holding one key, "hosts" or (nested) "conf/hosts": a new timestamped
 * directory ts, "..data_tmp -> ts" renamed over "..data", the link
 * "hosts -> ..data/hosts" or "conf -> ..data/conf" made if missing, and
 * the previous timestamped directory removed. */
static void
kube_swap(const char *mount, const char *ts, bool nested)
{
	char old[256] = "", *p, *data, *tmp, *key;
	ssize_t n;

	data = xasprintf("%s/..data", mount);
	tmp = xasprintf("%s/..data_tmp", mount);
	if ((n = readlink(data, old, sizeof(old) - 1)) > 0)
		old[n] = '\0';
	p = xasprintf("%s/%s", mount, ts);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	if (nested) {
		p = xasprintf("%s/%s/conf", mount, ts);
		assert_int_equal(mkdir(p, 0755), 0);
		free(p);
	}
	p = xasprintf("%s/%s/%s", mount, ts, nested ? "conf/hosts" : "hosts");
	put(p, ts);
	free(p);
	assert_int_equal(symlink(ts, tmp), 0);
	assert_int_equal(rename(tmp, data), 0);
	key = xasprintf("%s/%s", mount, nested ? "conf" : "hosts");
	if (access(key, F_OK) == -1)
		assert_int_equal(symlink(nested ? "..data/conf" : "..data/hosts",
		    key), 0);
	free(key);
	if (old[0] != '\0') {
		p = xasprintf("%s/%s/%s", mount, old,
		    nested ? "conf/hosts" : "hosts");
		assert_int_equal(unlink(p), 0);
		free(p);
		if (nested) {
			p = xasprintf("%s/%s/conf", mount, old);
			assert_int_equal(rmdir(p), 0);
			free(p);
		}
		p = xasprintf("%s/%s", mount, old);
		assert_int_equal(rmdir(p), 0);
		free(p);
	}
	free(data);
	free(tmp);
}

static void
test_plain_rename(void **state)
{
	struct seen s = { 0 };
	struct dirwatch *dw;
	uv_loop_t loop;
	char *err = NULL, *tmp, *path;

	(void)state;
	tmp = xasprintf("%s/.hosts.tmp", dir);
	path = xasprintf("%s/hosts", dir);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, dir, on_change, &s, &dw, &err),
	    0);
	put(tmp, "one");
	assert_int_equal(rename(tmp, path), 0);
	run_until(&loop, &s, "|hosts", 0);
	assert_int_equal(s.all, 0);
	stop(&loop, dw, &s);
	unlink(path);
	free(tmp);
	free(path);
}

static void
test_data_swap(void **state)
{
	struct seen s = { 0 };
	struct dirwatch *dw;
	uv_loop_t loop;
	char *err = NULL, *mount;

	(void)state;
	mount = xasprintf("%s/vol", dir);
	assert_int_equal(mkdir(mount, 0755), 0);
	kube_swap(mount, "..2026_11_30_06_00_00.000000001", false);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, mount, on_change, &s, &dw,
	    &err), 0);
	kube_swap(mount, "..2026_11_30_06_00_01.000000002", false);
	/* The old directory's removal is the last event. */
	run_until(&loop, &s, "|..2026_11_30_06_00_00.000000001", 1);
	assert_false(s.data_named);
	/* No event names the key itself. */
	assert_null(strstr(s.log, "|hosts"));
	stop(&loop, dw, &s);
	free(mount);
}

static void
test_nested_follow(void **state)
{
	struct seen s = { 0 };
	struct dirwatch *dw;
	uv_loop_t loop;
	uint64_t start;
	char *err = NULL, *mount, *conf;

	(void)state;
	mount = xasprintf("%s/nested", dir);
	conf = xasprintf("%s/conf", mount);
	assert_int_equal(mkdir(mount, 0755), 0);
	kube_swap(mount, "..2026_11_30_06_00_00.000000001", true);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, conf, on_change, &s, &dw,
	    &err), 0);
	start = uv_now(&loop);
	/* Each swap removes the directory watched now: the new one is
	 * followed at once (and everything looked at again), twice. */
	kube_swap(mount, "..2026_11_30_06_00_01.000000002", true);
	run_until(&loop, &s, NULL, 1);
	kube_swap(mount, "..2026_11_30_06_00_02.000000003", true);
	run_until(&loop, &s, NULL, 2);
	uv_update_time(&loop);
	if (uv_now(&loop) - start >= CHECK_MS)
		fail_msg("followed only after %llu ms, the time of the "
		    "periodic check (%d ms); seen: %s", (unsigned long long)
		    (uv_now(&loop) - start), CHECK_MS, s.log);
	stop(&loop, dw, &s);
	free(conf);
	free(mount);
}

static void
test_made_again(void **state)
{
	struct seen s = { 0 };
	struct dirwatch *dw;
	uv_loop_t loop;
	uint64_t start;
	char *err = NULL, *sub, *file;

	(void)state;
	sub = xasprintf("%s/again", dir);
	file = xasprintf("%s/again/later", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, sub, on_change, &s, &dw, &err),
	    0);
	start = uv_now(&loop);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	run_until(&loop, &s, NULL, 1);
	uv_update_time(&loop);
	if (uv_now(&loop) - start >= CHECK_MS)
		fail_msg("followed only after %llu ms, the time of the "
		    "periodic check (%d ms); seen: %s", (unsigned long long)
		    (uv_now(&loop) - start), CHECK_MS, s.log);
	/* The new directory is the one watched. */
	put(file, "x");
	run_until(&loop, &s, "|later", 1);
	stop(&loop, dw, &s);
	free(file);
	free(sub);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
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
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_rename),
		cmocka_unit_test(test_data_swap),
		cmocka_unit_test(test_nested_follow),
		cmocka_unit_test(test_made_again),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
