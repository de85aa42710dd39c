#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static bool log_debug_enabled;
static int log_warnings;

void
log_init(bool debug)
{
	log_debug_enabled = debug;
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

static void
log_vwrite(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char stamp[32];
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	/* One fprintf per line so that lines from children interleave whole. */
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, "%s.%03ldZ proxymgrd %s: %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, level, msg, suffix);
	else
		fprintf(stderr, "%s.%03ldZ proxymgrd %s: %s\n", stamp,
		    (long)tv.tv_usec / 1000, level, msg);
}

#define LOG_BODY(level, suffix) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vwrite(level, fmt, ap, suffix);	\
	va_end(ap);				\
} while (0)

void
log_debug(const char *fmt, ...)
{
	if (log_debug_enabled)
		LOG_BODY("debug", NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY("info", NULL);
}

void
log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno);

	log_warnings++;
	LOG_BODY("warning", err);
}

void
log_warnx(const char *fmt, ...)
{
	log_warnings++;
	LOG_BODY("warning", NULL);
}

void
fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);

	LOG_BODY("fatal", err);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal", NULL);
	exit(1);
}
