/* Unit tests for read_file(): what the daemon reads on its event loop
 * (host files, service files, proxymgr.yml) must be a regular file of a
 * bounded size, and reading must never wait on a FIFO or a device. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

static char dir[] = "/tmp/pm-read-file.XXXXXX";

static char *
tmp_path(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
write_bytes(const char *path, char c, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc(c, f);
	assert_int_equal(fclose(f), 0);
}

/* path must be refused with a message holding needle. */
static void
expect_refused(const char *path, size_t max, const char *needle)
{
	char *err = NULL, *text;
	size_t len = 12345;

	text = read_file(path, max, &len, &err);
	assert_null(text);
	assert_non_null(err);
	if (strstr(err, needle) == NULL)
		fail_msg("%s: '%s' does not contain '%s'", path, err, needle);
	assert_int_equal(len, 12345);	/* untouched */
	free(err);
}

static void
test_regular_file_and_symlink(void **state)
{
	char *path = tmp_path("ok"), *link = tmp_path("ok-link"), *text;
	char *err = NULL;
	size_t len = 0;

	(void)state;
	write_bytes(path, 'a', 100);
	assert_int_equal(symlink(path, link), 0);
	text = read_file(path, 100, &len, &err);
	assert_non_null(text);
	assert_null(err);
	assert_int_equal(len, 100);
	assert_int_equal(text[100], '\0');
	free(text);
	/* A symlink is followed. */
	text = read_file(link, 100, &len, &err);
	assert_non_null(text);
	assert_int_equal(len, 100);
	free(text);
	/* len is optional. */
	text = read_file(path, 100, NULL, &err);
	assert_non_null(text);
	free(text);
	unlink(link);
	unlink(path);
	free(link);
	free(path);
}

/* Neither the stat nor the open waits for a writer; alarm() turns a hang
 * into a failure. */
static void
test_fifo(void **state)
{
	char *path = tmp_path("fifo"), *link = tmp_path("fifo-link");

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(symlink(path, link), 0);
	alarm(10);
	expect_refused(path, 1024, "a FIFO, not a regular file");
	expect_refused(link, 1024, "a FIFO, not a regular file");
	alarm(0);
	unlink(link);
	unlink(path);
	free(link);
	free(path);
}

static void
test_other_kinds(void **state)
{
	char *sock = tmp_path("sock"), *zero = tmp_path("zero");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	(void)state;
	expect_refused(dir, 1024, "a directory, not a regular file");
	expect_refused("/dev/null", 1024, "a character device, not a regular "
	    "file");
	/* A host file that is a link to /dev/zero: never read at all. */
	assert_int_equal(symlink("/dev/zero", zero), 0);
	expect_refused(zero, 1024, "a character device, not a regular file");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	expect_refused(sock, 1024, "a socket, not a regular file");
	close(fd);
	expect_refused(TEST_DATA_DIR "/no-such-file", 1024,
	    "No such file or directory");
	unlink(sock);
	unlink(zero);
	free(sock);
	free(zero);
}

static void
test_size_limit(void **state)
{
	char *path = tmp_path("big"), *text;
	char *err = NULL;
	size_t len = 0;

	(void)state;
	write_bytes(path, 'x', 101);
	expect_refused(path, 100, "larger than the limit of 100 bytes");
	text = read_file(path, 101, &len, &err);
	assert_non_null(text);
	assert_int_equal(len, 101);
	free(text);
	write_bytes(path, 'x', ((size_t)1 << 20) + 1);
	expect_refused(path, (size_t)1 << 20, "larger than the limit of 1 MiB");
	/* A file whose size says nothing (procfs) is cut off while read. */
	expect_refused("/proc/self/status", 16, "larger than the limit of 16 "
	    "bytes");
	unlink(path);
	free(path);
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
		cmocka_unit_test(test_regular_file_and_symlink),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_other_kinds),
		cmocka_unit_test(test_size_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
