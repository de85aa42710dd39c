/* What the control socket's commands answer (README "Control socket").
 * The JSON builders read the daemon's state and change nothing, so that
 * whatever else shows it (the metrics) can call them too; `servers` and
 * `check` ask HAProxy and answer later, without blocking the loop. */
#ifndef PM_CONTROL_CMDS_H
#define PM_CONTROL_CMDS_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "control.h"

struct model;
struct pm_config;
struct supervisor;
struct svcsrc;

/* What the commands read, set up by the daemon. */
struct ctlcmd_env {
	uv_loop_t		*loop;
	struct model		*model;
	struct supervisor	*sup;
	struct svcsrc		**source;	/* the daemon's, may change */
	struct pm_config	**cfg;		/* the last read */
	const char		*config_file;	/* NULL: the -s command line */
	int64_t			 started_ms;	/* wall clock */
	/* What waits before the supervisor sees it, or NULL. */
	const char		*(*pending)(void *ctx);
	/* `reload`: as SIGHUP, then a reload even if nothing changed.
	 * Returns -1 with *err when proxymgr.yml does not load. */
	int			(*reload)(void *ctx, char **err);
	void			*ctx;
};

/* The ctl_handler: ctx is a struct ctlcmd_env. */
void ctlcmd_handle(void *ctx, struct ctl_call *call,
    const struct ctl_request *req);

/* The replies of the synchronous commands, without "ok" (new objects). */
json_t *ctlcmd_status(const struct ctlcmd_env *e);
json_t *ctlcmd_services(const struct ctlcmd_env *e);
json_t *ctlcmd_watchers(const struct ctlcmd_env *e);
json_t *ctlcmd_reloads(const struct ctlcmd_env *e);

/* A string for JSON: NULL becomes null, bytes that are not UTF-8 '?'. */
json_t *ctlcmd_str(const char *s);
/* Wall-clock ms as JSON: seconds since the epoch with ms (a number), or
 * null for 0. */
json_t *ctlcmd_time(int64_t ms);

/* One line of `show servers state` (version 1), HAProxy's view of a
 * server. Pure, for the unit test. Returns -1 for a line that is not a
 * server (the version, the header, blank). */
struct ctlcmd_srvstate {
	char		 backend[128];
	char		 server[128];
	char		 addr[64];
	int		 port;
	int		 id;
	int		 op_state;	/* 0 stopped .. 3 stopping */
	int		 admin_state;	/* SRV_ADMF_* flags */
	int		 weight;	/* srv_uweight */
	int		 check_status;	/* HAProxy's HCHK_STATUS_* */
	int		 check_result;	/* CHK_RES_*: 0 unknown .. 4 condpass */
	int		 check_state;	/* CHK_ST_* flags */
};
int ctlcmd_parse_srvstate(const char *line, struct ctlcmd_srvstate *out);
const char *ctlcmd_op_state_name(int op);	/* "running", ... */
/* "ready", "maint", "drain" (maint wins), from the admin flags. */
const char *ctlcmd_admin_name(int admin);
/* "passed", "failed", ..., or "none" when no check is configured. */
const char *ctlcmd_check_name(int result, int check_state);

#endif
