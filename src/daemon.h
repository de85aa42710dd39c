/* The daemon wires the parts together on one libuv loop: the service-config
 * source feeds the model, model changes are debounced into reload requests
 * for the supervisor, and signals stop (TERM/INT) or re-read the
 * configuration (HUP). */
#ifndef PM_DAEMON_H
#define PM_DAEMON_H

#include <stdbool.h>

/* Run until stopped; returns the process exit code. */
int daemon_run(const char *config_file);
struct pm_config;
/* The same, from a configuration built in memory (cfg, taken over) when
 * config_file is NULL (the wrapper's command line: SIGHUP then reloads
 * without re-reading anything); pidfile (or NULL) gets proxymgrd's pid,
 * hap_pidfile (or NULL) the serving HAProxy's. */
int daemon_run_with(const char *config_file, struct pm_config *cfg,
    const char *pidfile, const char *hap_pidfile);
/* --check: load everything, print haproxy.cfg, validate it with HAProxy. */
int daemon_check(const char *config_file);

#endif
