/* Logging to stderr, relayd/tmux style: log_warn appends strerror(errno),
 * log_warnx does not; fatal/fatalx exit and are meant for start-up only. */
#ifndef PM_LOG_H
#define PM_LOG_H

#include <stdbool.h>

#define PM_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(bool debug);
bool log_is_debug(void);
/* Warnings logged so far (--check counts them). */
int log_warning_count(void);
void log_debug(const char *fmt, ...) PM_PRINTF(1, 2);
void log_info(const char *fmt, ...) PM_PRINTF(1, 2);
void log_warn(const char *fmt, ...) PM_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PM_PRINTF(1, 2);
void fatal(const char *fmt, ...) PM_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PM_PRINTF(1, 2) __attribute__((noreturn));

#endif
