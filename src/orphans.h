/* The HAProxy processes that run a given configuration file: those a
 * proxymgrd that died left behind, found by their command line. */
#ifndef PM_ORPHANS_H
#define PM_ORPHANS_H

#include <stdbool.h>
#include <stddef.h>

/* Up to max pids of processes of our uid whose program is haproxy* and
 * whose arguments hold "-f CONFIG_PATH". Returns how many. */
size_t orphans_find(const char *config_path, int *pids, size_t max);
/* Whether a /proc/PID/cmdline buffer (NUL-separated) is such a HAProxy. */
bool orphans_cmdline_matches(const char *buf, size_t len,
    const char *config_path);

#endif
