#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static bool log_debug_enabled;
static int log_warnings;
static enum log_format log_format = LOG_FORMAT_TEXT;
static bool log_syslog;

static const char *const log_level_names[] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARNING] = "warning",
	[LOG_LVL_FATAL] = "fatal",
};

static const int log_level_prio[] = {
	[LOG_LVL_DEBUG] = LOG_DEBUG,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_WARNING] = LOG_WARNING,
	[LOG_LVL_FATAL] = LOG_ERR,
};

static const struct {
	const char	*name;
	int		 facility;
} log_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

void
log_init(bool debug)
{
	log_debug_enabled = debug;
}

void
log_configure(enum log_format format, int syslog_facility)
{
	log_format = format;
	if (log_syslog)
		closelog();
	log_syslog = syslog_facility >= 0;
	if (log_syslog)
		openlog("proxymgrd", LOG_PID | LOG_NDELAY, syslog_facility);
}

int
log_format_from_name(const char *name)
{
	if (strcmp(name, "text") == 0)
		return LOG_FORMAT_TEXT;
	if (strcmp(name, "json") == 0)
		return LOG_FORMAT_JSON;
	return -1;
}

int
log_facility_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(log_facilities) /
	    sizeof(log_facilities[0]); i++)
		if (strcmp(name, log_facilities[i].name) == 0)
			return log_facilities[i].facility;
	return -1;
}

int
log_warning_count(void)
{
	return log_warnings;
}

bool
log_is_debug(void)
{
	return log_debug_enabled;
}

/* The length of the UTF-8 sequence at p (at most n bytes), or 0 if it is
 * not a well-formed one (overlong, surrogate, above U+10FFFF, cut). */
static size_t
log_utf8_len(const unsigned char *p, size_t n)
{
	uint32_t c;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, c = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

void
log_json_string(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	sbuf_add(sb, "\"", 1);
	while (n > 0) {
		size_t len = log_utf8_len(p, n);
		if (len == 0) {
			sbuf_puts(sb, "\\ufffd");
			p++, n--;
			continue;
		}
		if (len > 1) {
			/* U+2028 and U+2029 end a line for some readers. */
			if (len == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
			    (p[2] == 0xa8 || p[2] == 0xa9))
				sbuf_printf(sb, "\\u%04x", 0x2000 | (p[2] & 0x3f));
			else
				sbuf_add(sb, (const char *)p, len);
			p += len, n -= len;
			continue;
		}
		switch (*p) {
		case '"':
			sbuf_puts(sb, "\\\"");
			break;
		case '\\':
			sbuf_puts(sb, "\\\\");
			break;
		case '\n':
			sbuf_puts(sb, "\\n");
			break;
		case '\r':
			sbuf_puts(sb, "\\r");
			break;
		case '\t':
			sbuf_puts(sb, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sbuf_printf(sb, "\\u%04x", *p);
			else
				sbuf_add(sb, (const char *)p, 1);
		}
		p++, n--;
	}
	sbuf_add(sb, "\"", 1);
}

static void
log_json_field(struct sbuf *sb, const char *key, const char *value)
{
	sbuf_printf(sb, ",\"%s\":", key);
	if (value == NULL)
		sbuf_puts(sb, "null");
	else
		log_json_string(sb, value);
}

void
log_json_line(struct sbuf *sb, const struct timeval *tv,
    enum log_level level, const struct log_fields *f, const char *msg)
{
	char stamp[32];
	struct tm tm;

	gmtime_r(&tv->tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	sbuf_printf(sb, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", stamp,
	    (long)tv->tv_usec / 1000, log_level_names[level]);
	log_json_field(sb, "event", f->event != NULL ? f->event : "log");
	log_json_field(sb, "service", f->service);
	log_json_field(sb, "reason", f->reason);
	if (f->pid > 0)
		sbuf_printf(sb, ",\"pid\":%d", f->pid);
	log_json_field(sb, "msg", msg);
	sbuf_puts(sb, "}\n");
}

/* The whole line in one write(2), so that lines from children and from
 * proxymgrd interleave whole. */
static void
log_write_stderr(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void
log_emit(enum log_level level, const struct log_fields *f, const char *msg)
{
	static bool busy;
	struct timeval tv;
	struct sbuf sb;
	int saved = errno;

	/* Out of memory while logging: xmalloc's fatal() comes back here. */
	if (busy) {
		log_write_stderr(msg, strlen(msg));
		log_write_stderr("\n", 1);
		return;
	}
	busy = true;
	gettimeofday(&tv, NULL);
	sbuf_init(&sb);
	if (log_format == LOG_FORMAT_JSON)
		log_json_line(&sb, &tv, level, f, msg);
	else if (!log_syslog) {
		char stamp[32];
		struct tm tm;
		gmtime_r(&tv.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		sbuf_printf(&sb, "%s.%03ldZ proxymgrd %s: ", stamp,
		    (long)tv.tv_usec / 1000, log_level_names[level]);
		if (f->pid > 0)
			sbuf_printf(&sb, "haproxy[%d]: ", f->pid);
		sbuf_printf(&sb, "%s\n", msg);
	} else {
		/* syslog stamps and names the line itself. */
		sbuf_printf(&sb, "%s: ", log_level_names[level]);
		if (f->pid > 0)
			sbuf_printf(&sb, "haproxy[%d]: ", f->pid);
		sbuf_printf(&sb, "%s\n", msg);
	}
	if (log_syslog) {
		syslog(log_level_prio[level], "%.*s", (int)sb.len - 1, sb.buf);
		/* A fatal error at start must reach whoever started it. */
		if (level == LOG_LVL_FATAL)
			log_write_stderr(sb.buf, sb.len);
	} else
		log_write_stderr(sb.buf, sb.len);
	sbuf_free(&sb);
	busy = false;
	errno = saved;
}

static void
log_vemit(enum log_level level, const struct log_fields *f, const char *fmt,
    va_list ap, const char *suffix)
{
	char msg[4096];

	if (level == LOG_LVL_DEBUG && !log_debug_enabled)
		return;
	if (level == LOG_LVL_WARNING)
		log_warnings++;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix != NULL) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", suffix);
	}
	log_emit(level, f, msg);
}

#define LOG_BODY(level, f, suffix) do {			\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vemit(level, f, fmt, ap, suffix);		\
	va_end(ap);					\
} while (0)

static const struct log_fields log_plain = { NULL, NULL, NULL, 0 };

void
log_event(enum log_level level, const char *event, const char *service,
    const char *reason, const char *fmt, ...)
{
	struct log_fields f = { event, service, reason, 0 };

	LOG_BODY(level, &f, NULL);
}

void
log_haproxy(enum log_level level, int pid, const char *line)
{
	struct log_fields f = { "haproxy", NULL, NULL, pid };

	if (level == LOG_LVL_DEBUG && !log_debug_enabled)
		return;
	if (level == LOG_LVL_WARNING)
		log_warnings++;
	log_emit(level, &f, line);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_DEBUG, &log_plain, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_INFO, &log_plain, NULL);
}

void
log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);

	LOG_BODY(LOG_LVL_WARNING, &log_plain, err);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_WARNING, &log_plain, NULL);
}

void
fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);

	LOG_BODY(LOG_LVL_FATAL, &log_plain, err);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_FATAL, &log_plain, NULL);
	exit(1);
}
