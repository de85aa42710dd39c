/* proxymgr.yml: HAProxy settings, where service definitions live, and
 * proxymgrd's own timing knobs. Every key has a default that works. */
#ifndef PM_PMCONFIG_H
#define PM_PMCONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* A named listener (listeners: NAME: ADDR:PORT, or -s NAME=ADDR:PORT): a
 * socket proxymgrd holds and passes to HAProxy, whose hand-written config
 * binds it with "bind fd@${NAME}". */
struct pm_listener {
	char	*name;
	char	*addr;
	int	 port;
	int	 backlog;	/* listen() backlog; 0: SOMAXCONN */
};

/* Reference-counted: each snapshot built from it holds one, so that what
 * a HAProxy was built from lives as long as that snapshot, whatever the
 * daemon reads meanwhile. */
struct pm_config {
	int	 refs;
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
	/* Who HAProxy runs as when proxymgrd is root: haproxy.user and
	 * haproxy.group as written (NULL: not set), and the global lines
	 * rendered for them ("user NAME", "group NAME" or "gid N"; NULL:
	 * none; see pmconfig_identity). HAProxy binds, reads its files and the
	 * server state as root, then drops to them before it serves. */
	char	*hap_user;
	char	*hap_group;
	char	*drop_user;
	char	*drop_group;
	char	*drop_note;		/* why it stays root, for the log */

	/* reload: */
	int	 debounce_ms;
	int	 min_interval_ms;
	int	 runtime_debounce_ms;	/* changes applied at runtime */
	/* The first HAProxy start waits this long at most for every source
	 * to answer once (0: it does not wait). */
	int	 initial_sync_timeout_ms;

	/* Hand-written HAProxy config (haproxy.managed: false, or -s on the
	 * command line): HAProxy runs with -f user_config -f config_path,
	 * config_path then holds only what proxymgrd renders itself. */
	bool	 managed;
	char	*user_config;
	char	*rendered_path;
	struct pm_listener *listeners;	/* listeners: */
	size_t	 nlisteners;
	/* The wrapper's arguments after "--", given to HAProxy after the
	 * hand-written file (NULL: none). */
	char	**haproxy_args;
	/* The wrapper's --watch paths and the -f files after "--" (a change
	 * under any reloads), --no-watch (SIGHUP only: user_config is not
	 * watched either), --env-file. */
	char	**watch;
	bool	 no_watch;
	char	*env_file;

	/* log: */
	char	*log_format;		/* "text" or "json" */
	bool	 log_syslog;		/* syslog(3) instead of stderr */
	char	*log_facility;		/* daemon, user, local0..local7 */

	/* metrics: listen (NULL: off), parsed */
	char	*metrics_addr;
	int	 metrics_port;

	/* service_config: */
	char	*sc_type;
	char	*sc_path;
	char	*sc_servers;

	/* control: */
	char	*control_socket;	/* NULL: pmconfig_control_path */
};

/* Parse a YAML document. source names it in messages. Returns -1 with *err
 * naming source, line and key on any error (unknown keys included). */
int pmconfig_parse(const char *text, size_t len, const char *source,
    struct pm_config **out, char **err);
int pmconfig_load(const char *path, struct pm_config **out, char **err);
struct pm_config *pmconfig_ref(struct pm_config *cfg);
/* Drop a reference (cfg may be NULL); the last one frees it. */
void pmconfig_unref(struct pm_config *cfg);

/* Every default, as if parsed from an empty file named source. */
struct pm_config *pmconfig_defaults(const char *source);
/* "ADDR:PORT", "[IPv6]:PORT", "*:PORT" or "PORT" (on 0.0.0.0). Returns -1
 * with *err saying why (without a location). */
int pmconfig_parse_addr(const char *spec, char **addr, int *port, char **err);
/* "ADDR:PORT" as pmconfig_parse_addr, or "ADDR:PORT@BACKLOG" (RAProxy's
 * -s): *backlog is 0 without one. */
int pmconfig_parse_listen(const char *spec, char **addr, int *port,
    int *backlog, char **err);
/* A listen() backlog: an integer from 1 to 65535. */
bool pmconfig_parse_backlog(const char *s, int *backlog);
/* A listener name usable as an environment variable, and not one that
 * would change how HAProxy or the system runs (PATH, LD_*, HAPROXY_*). */
bool pmconfig_valid_listener_name(const char *name);
/* Add a listener; -1 with *err if the name or address is taken. */
int pmconfig_add_listener(struct pm_config *cfg, const char *name,
    const char *addr, int port, int backlog, char **err);
/* managed: false: the user's file becomes user_config, config_path the
 * file proxymgrd renders (rendered_path, or proxymgrd.cfg beside the
 * stats socket). */
void pmconfig_set_unmanaged(struct pm_config *cfg);
/* A user (group: a group) name HAProxy can switch to, and that proxymgrd
 * may start it as: it exists, and when proxymgrd is not root, it is
 * proxymgrd's own. Returns -1 with *err saying why, without a location. */
int pmconfig_check_identity(const char *name, bool group, char **err);
/* Fill drop_user/drop_group from hap_user/hap_group. With defaults (a
 * daemon about to run, not a parse alone), a root proxymgrd with no
 * haproxy.user runs HAProxy as "haproxy" where that user exists, and
 * otherwise as root with drop_note saying so; the group is the user's
 * primary group unless haproxy.group names one. Nothing is rendered
 * when haproxy.global names a user, uid, group or gid (drop_note says if
 * a group is missing), nor when proxymgrd is not root: HAProxy then runs
 * as proxymgrd's own uid. */
void pmconfig_identity(struct pm_config *cfg, bool defaults);
/* The control socket's path (malloc'ed): control.socket, or
 * proxymgrd.sock beside the stats socket. */
char *pmconfig_control_path(const struct pm_config *cfg);
/* Make a path absolute against the current directory. */
void pmconfig_absolutize(char **path);

#endif
