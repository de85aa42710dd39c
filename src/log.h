/* Logging, relayd/tmux style: log_warn appends strerror(errno), log_warnx
 * does not; fatal/fatalx exit and are meant for start-up only.
 *
 * Lines go to stderr, or to syslog(3) (log.syslog), as text or as one
 * JSON object per line (log.format: json) with the stable keys time,
 * level, event, service, reason and msg. log_event() fills event, service
 * and reason; the plain calls log the generic event "log". */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdbool.h>
#include <sys/time.h>

#define PM_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARNING,
	LOG_LVL_FATAL,
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

void log_init(bool debug);
/* Where lines go and how they look from now on: syslog_facility is a
 * LOG_DAEMON, LOG_LOCAL0... value, or -1 for stderr. */
void log_configure(enum log_format format, int syslog_facility);
bool log_is_debug(void);
/* Warnings logged so far (--check counts them). */
int log_warning_count(void);
void log_debug(const char *fmt, ...) PM_PRINTF(1, 2);
void log_info(const char *fmt, ...) PM_PRINTF(1, 2);
void log_warn(const char *fmt, ...) PM_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PM_PRINTF(1, 2);
void fatal(const char *fmt, ...) PM_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PM_PRINTF(1, 2) __attribute__((noreturn));

/* A line with its event (a word from the README's list), and the service
 * and reason it is about (either may be NULL). The text format shows only
 * the message, which names them itself. */
void log_event(enum log_level level, const char *event, const char *service,
    const char *reason, const char *fmt, ...) PM_PRINTF(5, 6);
/* A line HAProxy wrote on its stdout or stderr, as it wrote it. */
void log_haproxy(enum log_level level, int pid, const char *line);

/* The words of the format and facility keys: -1 if name is not one. */
int log_format_from_name(const char *name);
int log_facility_from_name(const char *name);

/* What a JSON line holds; NULL and pid 0 are left out (null). */
struct log_fields {
	const char	*event;
	const char	*service;
	const char	*reason;
	int		 pid;		/* HAProxy's, on its own lines */
};

/* Append one JSON object, with no newline in it, and a newline after it,
 * to sb. Pure: for the unit test. */
struct sbuf;
void log_json_line(struct sbuf *sb, const struct timeval *tv,
    enum log_level level, const struct log_fields *f, const char *msg);
/* Append s as a JSON string (quotes included): control characters, quotes
 * and backslashes escaped, bytes that are not UTF-8 as U+FFFD. */
void log_json_string(struct sbuf *sb, const char *s);

#endif
