#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "pmconfig.h"
#include "util.h"
#include "validate.h"

/* HAProxy arguments proxymgrd sets itself, or that would take HAProxy
 * out of its hands (a daemon, master-worker, its own reload). */
static const char *const cli_owned_args[] = {
	"-D", "-W", "-Ws", "-S", "-sf", "-st", "-x", "-c", "-db", "-p",
	"-v", "-vv", NULL,
};

/* The arguments after "--": refused ones, and the -f paths to watch
 * added to cfg->watch. */
static int
cli_haproxy_args(const struct cli_wrapper *w, struct pm_config *cfg,
    char **err)
{
	char *const *a = w->haproxy_args;
	size_t n = strv_len(a), nwatch = strv_len(cfg->watch);

	for (size_t i = 0; i < n; i++) {
		if (str_in(a[i], cli_owned_args))
			return set_err(err, "-- %s: proxymgrd runs HAProxy with "
			    "its own %s (or not at all); see proxymgrd --help",
			    a[i], a[i]);
		if (strcmp(a[i], "-f") != 0 && strncmp(a[i], "-f", 2) == 0)
			return set_err(err, "-- %s: write -f PATH, two "
			    "arguments", a[i]);
		if (strcmp(a[i], "-f") != 0)
			continue;
		if (i + 1 == n)
			return set_err(err, "-- -f: a file or directory must "
			    "follow");
		if (!w->no_watch) {
			cfg->watch = xrealloc(cfg->watch,
			    (nwatch + 2) * sizeof(*cfg->watch));
			cfg->watch[nwatch] = xstrdup(a[i + 1]);
			pmconfig_absolutize(&cfg->watch[nwatch]);
			cfg->watch[++nwatch] = NULL;
		}
		i++;
	}
	cfg->haproxy_args = strv_dup(a);
	return 0;
}

int
cli_wrapper_config(const struct cli_wrapper *w, struct pm_config **out,
    char **err)
{
	struct pm_config *cfg = pmconfig_defaults("command line");
	const char *run_dir = w->run_dir ? w->run_dir : "/run/proxymgrd";

	*out = NULL;
	if (w->haproxy_cfg == NULL) {
		set_err(err, "the wrapper (-s, -b or --) needs -c FILE, the "
		    "haproxy.cfg to run");
		goto fail;
	}
	if (strpbrk(w->haproxy_cfg, " \t\"'") != NULL ||
	    strpbrk(run_dir, " \t\"'") != NULL) {
		set_err(err, "-c and --run-dir: a path without spaces or "
		    "quotes, please");
		goto fail;
	}
	for (int i = 0; i < w->nservices; i++) {
		const char *eq = strchr(w->services[i], '=');
		char *name, *addr = NULL, *why = NULL;
		int port, backlog;

		if (eq == NULL) {
			set_err(err, "-s %s: expected NAME=ADDR:PORT[@BACKLOG]",
			    w->services[i]);
			goto fail;
		}
		name = xasprintf("%.*s", (int)(eq - w->services[i]),
		    w->services[i]);
		if (!pmconfig_valid_listener_name(name)) {
			set_err(err, "-s %s: '%s' is not a usable name "
			    "([A-Za-z_][A-Za-z0-9_]*, not PATH, HAPROXY_*, "
			    "LD_*, ...)", w->services[i], name);
			free(name);
			goto fail;
		}
		if (pmconfig_parse_listen(eq + 1, &addr, &port, &backlog,
		    &why) == -1 || pmconfig_add_listener(cfg, name, addr, port,
		    backlog, &why) == -1) {
			set_err(err, "-s %s: %s", w->services[i], why);
			free(why);
			free(addr);
			free(name);
			goto fail;
		}
		free(addr);
		free(name);
	}
	if (w->no_watch && w->nwatch > 0) {
		set_err(err, "--watch and --no-watch: one or the other");
		goto fail;
	}
	cfg->no_watch = w->no_watch;
	cfg->watch = xcalloc((size_t)w->nwatch + 1, sizeof(*cfg->watch));
	for (int i = 0; i < w->nwatch; i++) {
		cfg->watch[i] = xstrdup(w->watch[i]);
		pmconfig_absolutize(&cfg->watch[i]);
	}
	if (w->env_file != NULL) {
		cfg->env_file = xstrdup(w->env_file);
		pmconfig_absolutize(&cfg->env_file);
	}
	if (w->haproxy_args != NULL && cli_haproxy_args(w, cfg, err) == -1)
		goto fail;
	if (w->binary != NULL) {
		free(cfg->haproxy_path);
		cfg->haproxy_path = xstrdup(w->binary);
	}
	if (w->hard_stop_after != NULL && (!val_option(w->hard_stop_after) ||
	    strpbrk(w->hard_stop_after, " \t") != NULL)) {
		set_err(err, "--hard-stop-after %s: expected a time such as "
		    "30s or 5m", w->hard_stop_after);
		goto fail;
	}
	if (w->hard_stop_after != NULL) {
		free(cfg->hard_stop_after);
		cfg->hard_stop_after = xstrdup(w->hard_stop_after);
	}
	for (int g = 0; g < 2; g++) {
		const char *v = g ? w->group : w->user;
		char *why = NULL;
		if (v == NULL)
			continue;
		if (pmconfig_check_identity(v, g == 1, &why) == -1) {
			set_err(err, "--%s %s: %s", g ? "group" : "user", v,
			    why);
			free(why);
			goto fail;
		}
		if (g)
			cfg->hap_group = xstrdup(v);
		else
			cfg->hap_user = xstrdup(v);
	}
	pmconfig_identity(cfg, true);
	if (w->max_old > 0)
		cfg->max_old_processes = w->max_old;
	if (w->min_interval_ms >= 0)
		cfg->min_interval_ms = w->min_interval_ms;
	if (w->log_format != NULL) {
		if (log_format_from_name(w->log_format) == -1) {
			set_err(err, "--log-format %s: expected text or json",
			    w->log_format);
			goto fail;
		}
		free(cfg->log_format);
		cfg->log_format = xstrdup(w->log_format);
	}
	if (w->syslog_facility != NULL) {
		if (log_facility_from_name(w->syslog_facility) == -1) {
			set_err(err, "--syslog %s: expected a facility: daemon, "
			    "user, local0 to local7", w->syslog_facility);
			goto fail;
		}
		cfg->log_syslog = true;
		free(cfg->log_facility);
		cfg->log_facility = xstrdup(w->syslog_facility);
	}
	if (w->metrics_listen != NULL) {
		char *why = NULL;
		if (pmconfig_parse_addr(w->metrics_listen, &cfg->metrics_addr,
		    &cfg->metrics_port, &why) == -1) {
			set_err(err, "--metrics-listen %s", why);
			free(why);
			goto fail;
		}
	}
	free(cfg->sc_type);
	cfg->sc_type = xstrdup("none");
	free(cfg->config_path);
	cfg->config_path = xstrdup(w->haproxy_cfg);
	free(cfg->socket_path);
	cfg->socket_path = xasprintf("%s/haproxy.sock", run_dir);
	pmconfig_set_unmanaged(cfg);
	pmconfig_absolutize(&cfg->user_config);
	pmconfig_absolutize(&cfg->config_path);
	pmconfig_absolutize(&cfg->socket_path);
	*out = cfg;
	return 0;
fail:
	pmconfig_unref(cfg);
	return -1;
}
