/* The wrapper's command line (RAProxy's, haproxy-reload-wrapper's):
 * proxymgrd -b HAPROXY -c haproxy.cfg [-s NAME=ADDR:PORT[@BACKLOG] ...]
 * [-- HAPROXY ARGS...], with no proxymgr.yml: the configuration is built
 * in memory. */
#ifndef PM_CLI_H
#define PM_CLI_H

#include <stdbool.h>

struct pm_config;

struct cli_wrapper {
	const char	*binary;		/* -b, default "haproxy" */
	const char	*haproxy_cfg;		/* -c */
	const char	**services;		/* -s NAME=ADDR:PORT */
	int		 nservices;
	const char	*run_dir;		/* --run-dir */
	const char	*hard_stop_after;	/* --hard-stop-after */
	int		 max_old;		/* --max-old-processes, 0: default */
	int		 min_interval_ms;	/* --reload-interval-ms, -1: default */
	const char	*user;			/* --user: haproxy.user */
	const char	*group;			/* --group: haproxy.group */
	const char	**watch;		/* --watch PATH */
	int		 nwatch;
	bool		 no_watch;		/* --no-watch */
	const char	*env_file;		/* --env-file */
	char *const	*haproxy_args;		/* after "--" (NULL-ended) */
	const char	*log_format;		/* --log-format */
	const char	*syslog_facility;	/* --syslog */
	const char	*metrics_listen;	/* --metrics-listen */
};

/* Returns -1 with *err (naming the option) on a bad value. */
int cli_wrapper_config(const struct cli_wrapper *w, struct pm_config **out,
    char **err);

#endif
