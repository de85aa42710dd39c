/* Reading `haproxy -c` output: which lines of the checked file, and which
 * proxies by name, the alerts point at. Pure, so it is unit tested. */
#ifndef PM_CHECK_REPORT_H
#define PM_CHECK_REPORT_H

#include <stddef.h>

struct check_report {
	int	*lines;		/* config line numbers named by alerts */
	size_t	 nlines;
	char	**proxies;	/* proxy names quoted by alerts */
	size_t	 nproxies;
	char	**alerts;	/* the alert lines, for the log */
	size_t	 nalerts;
};

/* file: record only the lines of this file (HAProxy may also name lines
 * of a hand-written config checked with it), or NULL for any file. */
void check_report_parse(const char *output, const char *file,
    struct check_report *r);
void check_report_free(struct check_report *r);

#endif
