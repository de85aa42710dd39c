/* proxymgr.yml: HAProxy settings, where service definitions live, and
 * proxymgrd's own timing knobs. Every key has a default that works. */
#ifndef PM_PMCONFIG_H
#define PM_PMCONFIG_H

#include <stdbool.h>

struct pm_config {
	char	*file;

	/* haproxy: */
	char	*haproxy_path;
	char	*config_path;
	char	*socket_path;
	char	*bind_address;
	char	**global;
	char	**defaults;
	char	*hard_stop_after;	/* rendered unless global sets it */
	int	 max_old_processes;
	int	 start_timeout_ms;
	int	 stop_timeout_ms;
	bool	 runtime_api;		/* server changes without a reload */
	int	 max_disabled_servers;	/* retired servers kept per backend */
	int	 runtime_timeout_ms;	/* a runtime batch must be answered by then */

	/* reload: */
	int	 debounce_ms;
	int	 min_interval_ms;
	int	 runtime_debounce_ms;	/* changes applied at runtime */

	/* service_config: */
	char	*sc_type;
	char	*sc_path;
	char	*sc_servers;
};

/* Parse a YAML document. source names it in messages. Returns -1 with *err
 * naming source, line and key on any error (unknown keys included). */
int pmconfig_parse(const char *text, size_t len, const char *source,
    struct pm_config **out, char **err);
int pmconfig_load(const char *path, struct pm_config **out, char **err);
void pmconfig_free(struct pm_config *cfg);

#endif
