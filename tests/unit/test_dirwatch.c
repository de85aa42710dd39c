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

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "dirwatch.h"
#include "util.h"

/* The periodic check, out of the way: what is followed is followed by
 * inotify. */
#define CHECK_MS	(3600 * 1000)
/* Give up waiting for an event: a bound for a test that fails, not a
 * deadline (the overflow test's 16,384 events take seconds under ASan
 * on a busy machine). */
#define BOUND_MS	60000

static char dir[] = "/tmp/pm-dirwatch.XXXXXX";

/* What the callback was told, as "|name:kind|*:kind" (* for NULL). */
struct seen {
	char	 log[8192];
	size_t	 len;		/* of log, which stops growing when full */
	int	 all;
	int	 complete;	/* events that said the file is whole */
	int	 rescan;	/* NULL events of kind DIRWATCH_RESCAN */
	bool	 data_named;	/* "..data" reached the callback */
	bool	 closed;
};

static void
on_change(void *arg, const char *filename, enum dirwatch_kind kind)
{
	struct seen *s = arg;
	int n;

	if (dirwatch_complete(kind))
		s->complete++;
	if (filename == NULL && kind == DIRWATCH_RESCAN)
		s->rescan++;
	if (filename == NULL)
		s->all++;
	else if (strcmp(filename, "..data") == 0)
		s->data_named = true;
	if (s->len + 1 >= sizeof(s->log))
		return;
	n = snprintf(s->log + s->len, sizeof(s->log) - s->len, "|%s:%s",
	    filename ? filename : "*", dirwatch_kind_name(kind));
	if (n > 0)
		s->len += (size_t)n;
	if (s->len >= sizeof(s->log))
		s->len = sizeof(s->log) - 1;	/* cut short */
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
	assert_int_equal(dirwatch_start(&loop, dir, NULL, on_change, &s, &dw,
	    &err), 0);
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
	assert_int_equal(dirwatch_start(&loop, mount, NULL, on_change, &s, &dw,
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
	char *err = NULL, *mount, *conf;

	(void)state;
	mount = xasprintf("%s/nested", dir);
	conf = xasprintf("%s/conf", mount);
	assert_int_equal(mkdir(mount, 0755), 0);
	kube_swap(mount, "..2026_11_30_06_00_00.000000001", true);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, conf, NULL, on_change, &s, &dw,
	    &err), 0);
	/* Each swap removes the directory watched now: the new one is
	 * followed at once (and everything looked at again), twice, with
	 * no periodic check to do it. */
	kube_swap(mount, "..2026_11_30_06_00_01.000000002", true);
	run_until(&loop, &s, NULL, 1);
	kube_swap(mount, "..2026_11_30_06_00_02.000000003", true);
	run_until(&loop, &s, NULL, 2);
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
	char *err = NULL, *sub, *file;

	(void)state;
	sub = xasprintf("%s/again", dir);
	file = xasprintf("%s/again/later", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, sub, NULL, on_change, &s, &dw, &err),
	    0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	run_until(&loop, &s, NULL, 1);
	/* The new directory is the one watched. */
	put(file, "x");
	run_until(&loop, &s, "|later", 1);
	stop(&loop, dw, &s);
	free(file);
	free(sub);
}

/* Which events say the file is whole: the pure part. */
static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(dirwatch_classify(IN_MOVED_TO, 0), DIRWATCH_MOVED_IN);
	assert_int_equal(dirwatch_classify(IN_CLOSE_WRITE, 0),
	    DIRWATCH_CLOSED);
	assert_int_equal(dirwatch_classify(IN_MODIFY, 0), DIRWATCH_WRITING);
	assert_int_equal(dirwatch_classify(IN_ATTRIB, 0), DIRWATCH_ATTRIB);
	assert_int_equal(dirwatch_classify(IN_DELETE, 0), DIRWATCH_GONE);
	assert_int_equal(dirwatch_classify(IN_MOVED_FROM, 0), DIRWATCH_GONE);
	assert_int_equal(dirwatch_classify(IN_CREATE, S_IFREG | 0644),
	    DIRWATCH_CREATED);
	assert_int_equal(dirwatch_classify(IN_CREATE, 0), DIRWATCH_CREATED);
	assert_int_equal(dirwatch_classify(IN_CREATE, S_IFLNK | 0777),
	    DIRWATCH_MADE);
	assert_int_equal(dirwatch_classify(IN_CREATE | IN_ISDIR, 0),
	    DIRWATCH_MADE);
	assert_int_equal(dirwatch_classify(IN_CREATE, S_IFIFO | 0600),
	    DIRWATCH_MADE);
	assert_int_equal(dirwatch_classify(IN_MOVED_TO | IN_ISDIR, 0),
	    DIRWATCH_MOVED_IN);
	assert_int_equal(dirwatch_classify(IN_DELETE_SELF, 0), DIRWATCH_SELF);
	assert_int_equal(dirwatch_classify(IN_MOVE_SELF, 0), DIRWATCH_SELF);
	assert_int_equal(dirwatch_classify(IN_IGNORED, 0), DIRWATCH_SELF);
	assert_int_equal(dirwatch_classify(IN_Q_OVERFLOW, 0), DIRWATCH_RESCAN);
	assert_int_equal(dirwatch_classify(IN_OPEN, 0), DIRWATCH_IGNORE);
	assert_int_equal(dirwatch_classify(IN_CLOSE_NOWRITE, 0),
	    DIRWATCH_IGNORE);

	assert_true(dirwatch_complete(DIRWATCH_MOVED_IN));
	assert_true(dirwatch_complete(DIRWATCH_CLOSED));
	assert_true(dirwatch_complete(DIRWATCH_MADE));
	assert_true(dirwatch_complete(DIRWATCH_RESCAN));
	assert_false(dirwatch_complete(DIRWATCH_WRITING));
	assert_false(dirwatch_complete(DIRWATCH_CREATED));
	assert_false(dirwatch_complete(DIRWATCH_ATTRIB));
	assert_false(dirwatch_complete(DIRWATCH_GONE));
}

/* A rename over the file says "moved in" (whole) and nothing about the
 * file being written; a writer that keeps the file open is "written in
 * place" until it closes it. */
static void
test_kinds(void **state)
{
	struct seen s = { 0 };
	struct dirwatch *dw;
	uv_loop_t loop;
	char *err = NULL, *tmp, *path;
	int fd;

	(void)state;
	tmp = xasprintf("%s/.kinds.tmp", dir);
	path = xasprintf("%s/kinds", dir);
	put(path, "zero");
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, dir, NULL, on_change, &s, &dw,
	    &err), 0);
	put(tmp, "one");
	assert_int_equal(rename(tmp, path), 0);
	run_until(&loop, &s, "|kinds:moved in", 0);
	assert_null(strstr(s.log, "|kinds:written"));

	s.log[0] = '\0';
	s.len = 0;
	s.complete = 0;
	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, "two\n", 4), 4);
	run_until(&loop, &s, "|kinds:written in place", 0);
	assert_int_equal(s.complete, 0);
	assert_int_equal(close(fd), 0);
	run_until(&loop, &s, "|kinds:closed after writing", 0);

	s.log[0] = '\0';
	s.len = 0;
	assert_int_equal(symlink("kinds", tmp), 0);
	run_until(&loop, &s, "|.kinds.tmp:made whole", 0);
	assert_int_equal(unlink(tmp), 0);
	run_until(&loop, &s, "|.kinds.tmp:removed or moved away", 0);
	stop(&loop, dw, &s);
	unlink(path);
	free(tmp);
	free(path);
}

/* More events than the inotify queue holds: the kernel drops the rest
 * and says so once, and every dirwatch is told to look at everything
 * again, by NULL. */
static void
test_overflow(void **state)
{
	struct seen s = { 0 }, t = { 0 };
	struct dirwatch *dw, *dw2;
	uv_loop_t loop;
	char *err = NULL, *sub, *path;
	long max = 0;
	FILE *f;

	(void)state;
	if ((f = fopen("/proc/sys/fs/inotify/max_queued_events", "r")) !=
	    NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (max <= 0 || max > 4 * 1024 * 1024)
		skip();		/* unknown, or too many to make here */
	sub = xasprintf("%s/flood", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, sub, NULL, on_change, &s, &dw,
	    &err), 0);
	assert_int_equal(dirwatch_start(&loop, dir, NULL, on_change, &t, &dw2,
	    &err), 0);
	/* Three events a file: created, closed after writing, removed. */
	path = xasprintf("%s/f", sub);
	for (long i = 0; i < max / 3 + 16; i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(close(fd), 0);
		assert_int_equal(unlink(path), 0);
	}
	run_until(&loop, &s, NULL, 1);
	run_until(&loop, &t, NULL, 1);
	/* (The log is cut short by the flood's events.) */
	assert_true(s.rescan >= 1);
	assert_true(t.rescan >= 1);
	dirwatch_stop(dw2, NULL);
	stop(&loop, dw, &s);
	free(path);
	free(sub);
}

/* Dirwatches of one file name hear of their file and of what has no
 * name, not of their neighbours' files; those of every name hear of all. */
static void
test_names(void **state)
{
	struct seen a = { 0 }, a2 = { 0 }, b = { 0 }, any = { 0 };
	struct dirwatch *dwa, *dwa2, *dwb, *dwany;
	uv_loop_t loop;
	char *err = NULL, *sub, *tmp, *path, *link;

	(void)state;
	sub = xasprintf("%s/names", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dirwatch_start(&loop, sub, "a", on_change, &a, &dwa,
	    &err), 0);
	assert_int_equal(dirwatch_start(&loop, sub, "a", on_change, &a2,
	    &dwa2, &err), 0);
	assert_int_equal(dirwatch_start(&loop, sub, "b", on_change, &b, &dwb,
	    &err), 0);
	assert_int_equal(dirwatch_start(&loop, sub, NULL, on_change, &any,
	    &dwany, &err), 0);

	tmp = xasprintf("%s/.a.tmp", sub);
	path = xasprintf("%s/a", sub);
	put(tmp, "one");
	assert_int_equal(rename(tmp, path), 0);
	run_until(&loop, &any, "|a:moved in", 0);
	run_until(&loop, &a, "|a:moved in", 0);
	run_until(&loop, &a2, "|a:moved in", 0);
	assert_string_equal(a.log, "|a:moved in");
	assert_string_equal(a2.log, "|a:moved in");
	assert_non_null(strstr(any.log, "|.a.tmp:closed after writing"));
	free(path);

	/* One of the two "a" stopped: the other still hears. */
	dirwatch_stop(dwa2, NULL);
	path = xasprintf("%s/b", sub);
	put(tmp, "two");
	assert_int_equal(rename(tmp, path), 0);
	run_until(&loop, &any, "|b:moved in", 0);
	run_until(&loop, &b, "|b:moved in", 0);
	assert_string_equal(b.log, "|b:moved in");
	free(path);
	path = xasprintf("%s/a", sub);
	put(tmp, "three");
	assert_int_equal(rename(tmp, path), 0);
	run_until(&loop, &a, "|a:moved in|a:moved in", 0);
	assert_string_equal(a2.log, "|a:moved in");
	assert_string_equal(b.log, "|b:moved in");
	free(path);

	/* What has no name goes to every one. */
	link = xasprintf("%s/..data", sub);
	assert_int_equal(symlink(".", link), 0);
	run_until(&loop, &a, NULL, 1);
	run_until(&loop, &b, NULL, 1);
	run_until(&loop, &any, NULL, 1);
	assert_false(a.data_named || b.data_named || any.data_named);

	dirwatch_stop(dwa, NULL);
	dirwatch_stop(dwb, NULL);
	stop(&loop, dwany, &any);
	free(link);
	free(tmp);
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
	dirwatch_set_check_ms(CHECK_MS);
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
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
