#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "pmconfig.h"
#include "util.h"
#include "validate.h"

int
cli_wrapper_config(const struct cli_wrapper *w, struct pm_config **out,
    char **err)
{
	struct pm_config *cfg = pmconfig_defaults("command line");
	const char *run_dir = w->run_dir ? w->run_dir : "/run/proxymgrd";

	*out = NULL;
	if (w->haproxy_cfg == NULL) {
		set_err(err, "-s needs -c FILE, the haproxy.cfg to run");
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
		int port;

		if (eq == NULL) {
			set_err(err, "-s %s: expected NAME=ADDR:PORT",
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
		if (pmconfig_parse_addr(eq + 1, &addr, &port, &why) == -1 ||
		    pmconfig_add_listener(cfg, name, addr, port, &why) == -1) {
			set_err(err, "-s %s: %s", w->services[i], why);
			free(why);
			free(addr);
			free(name);
			goto fail;
		}
		free(addr);
		free(name);
	}
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
