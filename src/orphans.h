/* HAProxy processes left running by a proxymgrd that is gone (SIGKILL,
 * the OOM killer, a crash): found in /proc by the config file they were
 * started with (`-f PATH`), kept for the next proxymgrd to take over, or
 * stopped when the service was stopped on purpose (--stop-post). */
#ifndef PM_ORPHANS_H
#define PM_ORPHANS_H

#include <stdbool.h>
#include <stddef.h>

/* buf holds a /proc/PID/cmdline: arguments each ended by a NUL (the last
 * NUL may be missing when the kernel cut the text short). True when
 * argv[0]'s last path component starts with "haproxy" (or argv[1]'s: a
 * haproxy.path script run by its interpreter, before it execs HAProxy)
 * and some argument "-f" is followed by an argument equal to
 * config_path, byte for byte. */
bool orphans_cmdline_matches(const char *buf, size_t len,
    const char *config_path);

/* The pids of running processes of our uid (any uid when we are root:
 * HAProxy may drop to its own user) whose command line matches
 * config_path as given, or its realpath(3) when that resolves. At most
 * max pids are stored; returns how many were. */
size_t orphans_find(const char *config_path, int *pids, size_t max);
/* Whether pid is one orphans_find would report for config_path. */
bool orphans_runs(int pid, const char *config_path);

/* ExecStopPost= decides with systemd's $SERVICE_RESULT, $EXIT_CODE and
 * $EXIT_STATUS (NULL when unset) whether proxymgrd itself died, so that
 * HAProxy is to serve on for the restarted proxymgrd to take over (true),
 * or whether the service was stopped and what is left must go (false).
 * *why gets a static sentence for the log. */
bool orphans_keep(const char *service_result, const char *exit_code,
    const char *exit_status, const char **why);

/* Stop every HAProxy orphans_find reports for config_path, the way
 * proxymgrd stops its own: SIGUSR1 (finish what is in flight), SIGTERM
 * once soft_ms have passed, SIGKILL 2 s later. Each pid and signal is
 * logged. Returns how many were still running at the end (0 normally). */
size_t orphans_stop(const char *config_path, int soft_ms);

#endif
