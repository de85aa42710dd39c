#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fatal("malloc %zu", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("calloc %zu x %zu", n, size);
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (q == NULL)
		fatal("realloc %zu", size);
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("vasprintf");
	va_end(ap);
	return s;
}

int
set_err(char **err, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("vasprintf");
	va_end(ap);
	/* One log line, whatever a message quotes: a key, name or value
	 * with a line end in it would forge lines (tests/fuzz found them
	 * in YAML, service blobs and ZooKeeper nodes). */
	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			*p = '?';
	free(*err);
	*err = s;
	return -1;
}

void
sbuf_init(struct sbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
sbuf_free(struct sbuf *sb)
{
	free(sb->buf);
	sbuf_init(sb);
}

static void
sbuf_reserve(struct sbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void
sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	sbuf_reserve(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
sbuf_puts(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void
sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		fatalx("sbuf_vprintf: bad format");
	sbuf_reserve(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *
sbuf_take(struct sbuf *sb)
{
	char *s;

	sbuf_reserve(sb, 0);
	sb->buf[sb->len] = '\0';	/* an empty buffer was never written */
	s = sb->buf;
	sbuf_init(sb);
	return s;
}

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

char **
strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **d = xcalloc(n + 1, sizeof(*d));

	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

bool
strv_equal(char *const *a, char *const *b)
{
	size_t n = strv_len(a);

	if (n != strv_len(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

bool
str_in(const char *s, const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static const char *
read_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* Give up on a read: close, free, and say why. */
static char * PM_PRINTF(4, 5)
read_file_fail(char **err, int fd, struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		fatal("vasprintf");
	va_end(ap);
	set_err(err, "%s", why);
	free(why);
	if (fd != -1)
		close(fd);
	sbuf_free(sb);
	return NULL;
}

static char *
read_file_too_big(char **err, int fd, struct sbuf *sb, size_t max)
{
	if (max % ((size_t)1 << 20) == 0)
		return read_file_fail(err, fd, sb, "larger than the limit of "
		    "%zu MiB", max >> 20);
	return read_file_fail(err, fd, sb, "larger than the limit of %zu "
	    "bytes", max);
}

char *
read_file(const char *path, size_t max, size_t *len, char **err)
{
	struct sbuf sb;
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd = -1;

	sbuf_init(&sb);
	/* Look first: even a non-blocking open of a FIFO or device acts on
	 * it (a writer waiting for a reader is let through, a tty may become
	 * ours). */
	if (stat(path, &st) == -1)
		return read_file_fail(err, fd, &sb, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return read_file_fail(err, fd, &sb, "%s, not a regular file",
		    read_file_kind(st.st_mode));
	/* It may have been swapped since: O_NONBLOCK so that a FIFO there
	 * cannot hold the event loop, and fstat what was really opened. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1)
		return read_file_fail(err, fd, &sb, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return read_file_fail(err, fd, &sb, "%s, not a regular file",
		    read_file_kind(st.st_mode));
	if ((uintmax_t)st.st_size > max)
		return read_file_too_big(err, fd, &sb, max);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return read_file_fail(err, fd, &sb, "%s",
			    strerror(errno));
		if (n == 0)
			break;
		sbuf_add(&sb, chunk, (size_t)n);
		/* Grown since the fstat, or a file that lies about its size
		 * (procfs, sysfs). */
		if (sb.len > max)
			return read_file_too_big(err, fd, &sb, max);
	}
	close(fd);
	if (len != NULL)
		*len = sb.len;
	return sbuf_take(&sb);
}

static int
fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd == -1)
		return -1;
	if (fsync(fd) == -1 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

int
write_file_atomic(const char *path, const char *data, size_t len, char **err)
{
	return write_file_atomic_mode(path, data, len, 0600, err);
}

int
write_file_durable(const char *tmp, const char *data, size_t len, mode_t mode,
    char **err)
{
	size_t off = 0;
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1) {
		set_err(err, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			set_err(err, "cannot write %s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		set_err(err, "cannot fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		set_err(err, "cannot close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

int
rename_durable(const char *tmp, const char *path, char **err)
{
	if (rename(tmp, path) == -1) {
		set_err(err, "cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (fsync_dir_of(path) == -1)
		log_warn("fsync of the directory of %s", path);
	return 0;
}

int
write_file_atomic_mode(const char *path, const char *data, size_t len,
    mode_t mode, char **err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rc = write_file_durable(tmp, data, len, mode, err);

	if (rc == 0)
		rc = rename_durable(tmp, path, err);
	free(tmp);
	return rc;
}

int
mkdir_parents(const char *path, char **err)
{
	char *copy = xstrdup(path);
	char *dir = dirname(copy);
	struct stat st;

	if (stat(dir, &st) == 0) {
		free(copy);
		return 0;
	}
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			set_err(err, "cannot create directory %s: %s", dir,
			    strerror(errno));
			free(copy);
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		set_err(err, "cannot create directory %s: %s", dir,
		    strerror(errno));
		free(copy);
		return -1;
	}
	free(copy);
	return 0;
}

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
