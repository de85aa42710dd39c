#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
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
