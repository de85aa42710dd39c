/* Allocation wrappers that abort on exhaustion, a growable string buffer,
 * and the error-string convention used by every parser: return -1 and set
 * *err to a malloc'ed message naming the file, line and key. */
#ifndef PM_UTIL_H
#define PM_UTIL_H

#include <stdarg.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) PM_PRINTF(1, 2);
/* Set *err (when err is not NULL) to a formatted message, control
 * characters but tab shown as '?' so that it is one line; returns -1. */
int set_err(char **err, const char *fmt, ...) PM_PRINTF(2, 3);

struct sbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

void sbuf_init(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);
void sbuf_add(struct sbuf *sb, const char *s, size_t n);
void sbuf_puts(struct sbuf *sb, const char *s);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...) PM_PRINTF(2, 3);
void sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list ap);
/* Detach the buffer (always NUL-terminated) and reset sb. */
char *sbuf_take(struct sbuf *sb);

/* A NULL-terminated, owned vector of strings. */
char **strv_dup(char *const *v);
void strv_free(char **v);
size_t strv_len(char *const *v);
bool strv_equal(char *const *a, char *const *b);
/* Whether s is one of the NULL-terminated list (NULL list: no). */
bool str_in(const char *s, const char *const *list);

/* Whole-file read of a regular file (symlinks followed) of at most max
 * bytes, that never blocks the event loop on a FIFO or a device: anything
 * else is refused. Returns NULL with *err saying why ("a FIFO, not a
 * regular file", "larger than the limit of 1 MiB", strerror); *len
 * gets the length without the added NUL. */
char *read_file(const char *path, size_t max, size_t *len, char **err);
/* The limit for proxymgr.yml and a hand-written haproxy.cfg: only there
 * to bound memory. */
#define READ_FILE_CONFIG_MAX	((size_t)64 << 20)
/* Write data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. */
int write_file_atomic(const char *path, const char *data, size_t len, char **err);
/* The same with the given mode (write_file_atomic: 0600, since haproxy.cfg
 * and the server state are proxymgrd's and HAProxy's alone). */
int write_file_atomic_mode(const char *path, const char *data, size_t len,
    mode_t mode, char **err);
/* Its two halves: data into tmp, fsync'ed and closed (removed on
 * error); then tmp renamed over path and the directory fsync'ed. */
int write_file_durable(const char *tmp, const char *data, size_t len,
    mode_t mode, char **err);
int rename_durable(const char *tmp, const char *path, char **err);
int mkdir_parents(const char *path, char **err);

uint64_t now_ms(void);
uint64_t now_us(void);
/* Wall clock, Unix ms: for what operators read, never for durations. */
int64_t wall_ms(void);

#endif
