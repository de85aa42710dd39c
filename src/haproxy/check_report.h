/* Reading `haproxy -c` output: which lines of the checked file, and which
 * proxies, the alerts point at. Only HAProxy's own words count: the
 * position it puts at the start of an alert, never text further on,
 * which may echo what a service wrote. Pure, so it is unit tested. */
#ifndef PM_CHECK_REPORT_H
#define PM_CHECK_REPORT_H

#include <stddef.h>

struct check_report {
	int	*lines;		/* lines of file that alerts start with */
	size_t	 nlines;
	char	**proxies;	/* proxies that line-less alerts start with */
	size_t	 nproxies;
	char	**alerts;	/* the alert lines, for the log */
	size_t	 nalerts;
};

/* pid: the checking process, whose pid heads each of its alerts. file:
 * the file proxymgrd rendered; lines of other files (a hand-written
 * config checked with it) are not recorded. */
void check_report_parse(const char *output, int pid, const char *file,
    struct check_report *r);
void check_report_free(struct check_report *r);

#endif
