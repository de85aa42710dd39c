/* proxymgrd: keeps HAProxy in step with service discovery. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"
#include "orphans.h"
#include "pmconfig.h"
#include "privs.h"
#include "upgrade.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: proxymgrd -c FILE [-d] [--check] [-p HAPROXY_PIDFILE] [--pidfile FILE]\n"
"       proxymgrd -c haproxy.cfg [-s NAME=ADDR:PORT[@BACKLOG] ...] [-b HAPROXY]\n"
"                 [-p HAPROXY_PIDFILE] [--pidfile FILE] [--run-dir DIR]\n"
"                 [--watch PATH ... | --no-watch] [--env-file FILE]\n"
"                 [--hard-stop-after TIME] [--max-old-processes N]\n"
"                 [--reload-interval-ms MS] [--user USER] [--group GROUP]\n"
"                 [--log-format text|json] [--syslog FACILITY]\n"
"                 [--metrics-listen ADDR:PORT] [-d] [-- HAPROXY_ARGS...]\n"
"       proxymgrd --stop-post -c FILE [-s ... --run-dir DIR] [-d]\n"
"\n"
"Keeps a local HAProxy in step with service discovery: renders haproxy.cfg\n"
"from service definitions, holds the listen sockets itself and reloads\n"
"HAProxy without refusing or resetting a connection.\n"
"\n"
"With -s, -b or -- (the wrapper: RAProxy's, haproxy-reload-wrapper's\n"
"command line), -c names a haproxy.cfg you write, given to HAProxy as its\n"
"first -f, and no proxymgr.yml is read. Each -s NAME is an environment\n"
"variable holding the fd of a socket proxymgrd listens on: `bind\n"
"fd@${NAME}`. Plain binds (`bind :80`) are handed from one HAProxy to the\n"
"next by HAProxy itself (-x). The file is watched: a change on disk, or\n"
"SIGHUP, reloads HAProxy without a drop.\n"
"\n"
"  -c, --config FILE    proxymgr.yml to run from (required); in the\n"
"                       wrapper, the haproxy.cfg to run\n"
"  -s, --service NAME=ADDR:PORT[@BACKLOG]\n"
"                       a named listener (repeatable); ADDR:PORT,\n"
"                       [IPv6]:PORT, *:PORT or PORT (all IPv4 addresses);\n"
"                       @BACKLOG: its accept queue (1-65535, default\n"
"                       SOMAXCONN)\n"
"  -b, --binary PATH    HAProxy binary (wrapper; default: haproxy on PATH)\n"
"  -p, --haproxy-pidfile FILE\n"
"                       write the serving HAProxy's pid there, kept current\n"
"                       across reloads (RAProxy's -p)\n"
"      --pidfile FILE   write proxymgrd's own pid there (removed on exit):\n"
"                       `kill -HUP $(cat FILE)` reloads\n"
"      --run-dir DIR    wrapper: where the stats socket and proxymgrd's\n"
"                       part of the config go (default /run/proxymgrd)\n"
"      --watch PATH     wrapper: reload on any change of PATH, a file or\n"
"                       the files of a directory (repeatable). -c FILE,\n"
"                       each -f after -- and --env-file are watched anyway\n"
"      --no-watch       wrapper: watch nothing, reload on SIGHUP only\n"
"      --env-file FILE  wrapper: NAME=VALUE lines (# comments) added to\n"
"                       HAProxy's environment, read again at each reload\n"
"      --hard-stop-after TIME\n"
"                       wrapper: old HAProxy processes are stopped this\n"
"                       long after a reload at the latest (default 60s)\n"
"      --max-old-processes N\n"
"                       wrapper: old processes draining at once (default 4)\n"
"      --reload-interval-ms MS\n"
"                       wrapper: at most one reload per MS (default 500)\n"
"  -- HAPROXY_ARGS...   wrapper: given to HAProxy as they are, after -c's\n"
"                       file: more -f files or directories, -L NAME, ...\n"
"      --user USER, --group GROUP\n"
"                       wrapper, proxymgrd running as root: HAProxy drops\n"
"                       to USER and GROUP once it has bound its sockets\n"
"                       and read its files (default: user haproxy, where\n"
"                       it exists, and its group; root: stay root)\n"
"      --log-format text|json\n"
"                       wrapper: log lines as text (default) or one JSON\n"
"                       object per line (log.format in proxymgr.yml)\n"
"      --syslog FACILITY\n"
"                       wrapper: log through syslog(3) with FACILITY\n"
"                       (daemon, user, local0..local7) instead of stderr\n"
"      --metrics-listen ADDR:PORT\n"
"                       wrapper: serve Prometheus metrics on\n"
"                       http://ADDR:PORT/metrics (metrics.listen)\n"
"  -d, --debug          log debug messages too\n"
"      --check          load everything, print the haproxy.cfg it would run,\n"
"                       validate it with `haproxy -c` and exit: 0 if all is\n"
"                       well, 1 on any error (proxymgr.yml only)\n"
"      --stop-post      systemd's ExecStopPost=: when $SERVICE_RESULT says\n"
"                       proxymgrd died (signal, core-dump, oom-kill,\n"
"                       exit-code, watchdog), leave its HAProxy serving\n"
"                       for the restarted proxymgrd to take over; else\n"
"                       stop any HAProxy still running FILE's config\n"
"                       (SIGUSR1, SIGTERM after haproxy.stop_timeout_ms,\n"
"                       then SIGKILL) and exit 0. Give it the options of\n"
"                       the normal start (wrapper: -c, -s and --run-dir)\n"
"  -V, --version        print the version and exit\n"
"  -h, --help           print this help and exit\n"
"\n"
"An invalid configuration at the first start exits 1 with HAProxy's\n"
"message; later, the running HAProxy serves on.\n"
"Signals: SIGHUP re-reads FILE (wrapper: reloads HAProxy); SIGUSR1 logs\n"
"counters; SIGUSR2 re-executes proxymgrd's binary (an upgrade), which\n"
"takes over the sockets and the running HAProxy; SIGTERM or SIGINT stop\n"
"HAProxy gracefully and exit.\n"
"Under systemd (Type=notify) READY=1 is sent once HAProxy serves, and\n"
"sockets passed by socket activation (LISTEN_FDS) are used for the\n"
"listener with the same address and port.\n");
}

enum {
	OPT_CHECK = 256,
	OPT_RUN_DIR,
	OPT_HARD_STOP,
	OPT_MAX_OLD,
	OPT_INTERVAL,
	OPT_UPGRADE_PROTOCOL,
	OPT_STOP_POST,
	OPT_USER,
	OPT_GROUP,
	OPT_PIDFILE,
	OPT_WATCH,
	OPT_NO_WATCH,
	OPT_ENV_FILE,
	OPT_LOG_FORMAT,
	OPT_SYSLOG,
	OPT_METRICS,
};

static int
main_int(const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "proxymgrd: %s: expected an integer from %ld "
		    "to %ld\n", opt, lo, hi);
		exit(2);
	}
	return (int)n;
}

/* --stop-post, run by systemd after the service stopped for any reason:
 * keep HAProxy serving when proxymgrd itself died, so that the restarted
 * one takes it over; otherwise nothing of the service may stay behind.
 * Always 0: a failing ExecStopPost= would only mark the unit failed. */
static int
main_stop_post(const char *config_file, struct cli_wrapper *w, bool wrapper)
{
	const char *result = getenv("SERVICE_RESULT");
	const char *code = getenv("EXIT_CODE");
	const char *status = getenv("EXIT_STATUS");
	struct pm_config *cfg = NULL;
	const char *why;
	char *err = NULL;
	int pids[64], rc;
	size_t n;

	log_info("stop-post: SERVICE_RESULT=%s EXIT_CODE=%s EXIT_STATUS=%s",
	    result ? result : "(unset)", code ? code : "(unset)",
	    status ? status : "(unset)");
	if (wrapper) {
		/* The file HAProxy runs is proxymgrd's part in --run-dir. */
		w->haproxy_cfg = config_file;
		rc = cli_wrapper_config(w, &cfg, &err);
	} else
		rc = pmconfig_load(config_file, &cfg, &err);
	if (rc == -1) {
		log_warnx("stop-post: %s: HAProxy processes of this service, "
		    "if any, are left as they are", err);
		free(err);
		return 0;
	}
	if (orphans_keep(result, code, status, &why)) {
		n = orphans_find(cfg->config_path, pids,
		    sizeof(pids) / sizeof(pids[0]));
		if (n == 0)
			log_info("stop-post: %s; no HAProxy runs %s", why,
			    cfg->config_path);
		for (size_t i = 0; i < n; i++)
			log_info("stop-post: %s: haproxy[%d] left running for "
			    "the restarted proxymgrd to take over", why,
			    pids[i]);
	} else {
		log_info("stop-post: %s: stopping any HAProxy that runs %s",
		    why, cfg->config_path);
		if ((n = orphans_stop(cfg->config_path,
		    cfg->stop_timeout_ms)) > 0)
			log_warnx("stop-post: %zu HAProxy process(es) could "
			    "not be stopped", n);
	}
	pmconfig_unref(cfg);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "service", required_argument, NULL, 's' },
		{ "binary", required_argument, NULL, 'b' },
		{ "haproxy-pidfile", required_argument, NULL, 'p' },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "watch", required_argument, NULL, OPT_WATCH },
		{ "no-watch", no_argument, NULL, OPT_NO_WATCH },
		{ "env-file", required_argument, NULL, OPT_ENV_FILE },
		{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
		{ "hard-stop-after", required_argument, NULL, OPT_HARD_STOP },
		{ "max-old-processes", required_argument, NULL, OPT_MAX_OLD },
		{ "reload-interval-ms", required_argument, NULL, OPT_INTERVAL },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "syslog", required_argument, NULL, OPT_SYSLOG },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "upgrade-protocol", no_argument, NULL, OPT_UPGRADE_PROTOCOL },
		{ "stop-post", no_argument, NULL, OPT_STOP_POST },
		{ "user", required_argument, NULL, OPT_USER },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_wrapper w = { .min_interval_ms = -1 };
	const char *config_file = NULL, *pidfile = NULL, *hap_pidfile = NULL;
	bool debug = false, check = false, wrapper_only = false;
	bool stop_post = false, wrapper = false;
	char *abs_pid = NULL, *abs_hap_pid = NULL;
	int ch, rc;

	/* Before getopt_long, which reorders argv. */
	upgrade_init(argc, argv);
	w.services = calloc((size_t)argc + 1, sizeof(*w.services));
	w.watch = calloc((size_t)argc + 1, sizeof(*w.watch));
	if (w.services == NULL || w.watch == NULL)
		return 1;
	/* "+": options end at the first other argument, so that one before
	 * "--" is an error, not an argument for HAProxy. */
	while ((ch = getopt_long(argc, argv, "+c:s:b:p:dVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_file = optarg;
			break;
		case 's':
			w.services[w.nservices++] = optarg;
			break;
		case 'b':
			w.binary = optarg;
			break;
		case 'p':
			hap_pidfile = optarg;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case OPT_WATCH:
			w.watch[w.nwatch++] = optarg;
			wrapper_only = true;
			break;
		case OPT_NO_WATCH:
			w.no_watch = true;
			wrapper_only = true;
			break;
		case OPT_ENV_FILE:
			w.env_file = optarg;
			wrapper_only = true;
			break;
		case OPT_RUN_DIR:
			w.run_dir = optarg;
			wrapper_only = true;
			break;
		case OPT_HARD_STOP:
			w.hard_stop_after = optarg;
			wrapper_only = true;
			break;
		case OPT_MAX_OLD:
			w.max_old = main_int("--max-old-processes", optarg,
			    1, 64);
			wrapper_only = true;
			break;
		case OPT_INTERVAL:
			w.min_interval_ms = main_int("--reload-interval-ms",
			    optarg, 0, 600000);
			wrapper_only = true;
			break;
		case OPT_USER:
			w.user = optarg;
			wrapper_only = true;
			break;
		case OPT_GROUP:
			w.group = optarg;
			wrapper_only = true;
			break;
		case OPT_LOG_FORMAT:
			w.log_format = optarg;
			wrapper_only = true;
			break;
		case OPT_SYSLOG:
			w.syslog_facility = optarg;
			wrapper_only = true;
			break;
		case OPT_METRICS:
			w.metrics_listen = optarg;
			wrapper_only = true;
			break;
		case 'd':
			debug = true;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_STOP_POST:
			stop_post = true;
			break;
		case OPT_UPGRADE_PROTOCOL:
			/* Asked by a running proxymgrd before SIGUSR2's exec. */
			printf("%s\n", UPGRADE_PROTOCOL);
			rc = 0;
			goto done;
		case 'V':
			printf("proxymgrd %s\n", PACKAGE_VERSION);
			rc = 0;
			goto done;
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		default:
			usage(stderr);
			rc = 2;
			goto done;
		}
	}
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) {
		/* The rest is HAProxy's, as given. */
		w.haproxy_args = argv + optind;
		wrapper = true;
	} else if (optind < argc) {
		fprintf(stderr, "proxymgrd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		rc = 2;
		goto done;
	}
	/* The wrapper: RAProxy's -s and -b, or HAProxy's own arguments. */
	wrapper = wrapper || w.nservices > 0 || w.binary != NULL;
	if (config_file == NULL) {
		fprintf(stderr, "proxymgrd: -c FILE is required\n");
		usage(stderr);
		rc = 2;
		goto done;
	}
	if (wrapper_only && !wrapper) {
		fprintf(stderr, "proxymgrd: --run-dir, --hard-stop-after, "
		    "--max-old-processes, --reload-interval-ms, --watch, "
		    "--no-watch, --env-file, --user, --group, --log-format, "
		    "--syslog and --metrics-listen go with the wrapper (-s, -b "
		    "or --; in proxymgr.yml some are haproxy.*, reload.*, "
		    "log.* and metrics.* keys)\n");
		rc = 2;
		goto done;
	}
	log_init(debug);
	privs_init();
	if (stop_post) {
		if (check) {
			fprintf(stderr, "proxymgrd: --check or --stop-post, "
			    "not both\n");
			rc = 2;
			goto done;
		}
		rc = main_stop_post(config_file, &w, wrapper);
		goto done;
	}
	/* Relative to where proxymgrd was started, as given. */
	if (pidfile != NULL) {
		abs_pid = strdup(pidfile);
		pmconfig_absolutize(&abs_pid);
	}
	if (hap_pidfile != NULL) {
		abs_hap_pid = strdup(hap_pidfile);
		pmconfig_absolutize(&abs_hap_pid);
	}
	if (wrapper) {
		struct pm_config *cfg;
		char *err = NULL;

		if (check) {
			fprintf(stderr, "proxymgrd: --check is for proxymgr.yml; "
			    "in the wrapper, run `haproxy -c -f FILE` "
			    "yourself\n");
			rc = 2;
			goto done;
		}
		w.haproxy_cfg = config_file;
		if (access(config_file, R_OK) == -1)
			fatal("%s", config_file);
		if (cli_wrapper_config(&w, &cfg, &err) == -1)
			fatalx("%s", err);
		free(w.services);
		w.services = NULL;
		rc = daemon_run_with(NULL, cfg, abs_pid, abs_hap_pid);
	} else {
		free(w.services);
		w.services = NULL;
		rc = check ? daemon_check(config_file) :
		    daemon_run_with(config_file, NULL, abs_pid, abs_hap_pid);
	}
done:
	free(w.services);
	free(w.watch);
	free(abs_pid);
	free(abs_hap_pid);
	return rc;
}
