/* The planner: what it takes to bring the running HAProxy from the live
 * snapshot to the next one. Either a list of runtime-API commands, each
 * with the reply HAProxy gives when it did what was asked, or a reload
 * and why. Pure: no I/O, so that every rule is unit-tested. */
#ifndef PM_HAP_PLANNER_H
#define PM_HAP_PLANNER_H

#include <stdbool.h>
#include <stddef.h>

struct pm_config;
struct snapshot;
struct snapshot_service;

/* Why a reload: the counters are kept per reason. */
enum plan_reason {
	PLAN_RUNTIME,		/* no reload: runtime commands */
	PLAN_START,		/* nothing runs yet */
	PLAN_SERVICES,		/* a service added or removed */
	PLAN_DEFINITION,	/* port, address, listen/server_options */
	PLAN_SETTINGS,		/* global/defaults lines of proxymgr.yml */
	PLAN_NOT_DYNAMIC,	/* a new server HAProxy cannot add at runtime */
	PLAN_RETIRED,		/* too many retired servers in a backend */
	PLAN_REFUSED,		/* HAProxy refused a runtime command */
	PLAN_NO_ANSWER,		/* the stats socket did not answer */
	PLAN_FORCED,		/* haproxy.runtime_api is off */
	PLAN_UNSAFE,		/* a command HAProxy's CLI would misread */
	PLAN_OPERATOR,		/* asked for (control socket `reload`) */
	PLAN_REASONS
};

const char *plan_reason_name(enum plan_reason r);

struct plan_cmd {
	char	*cmd;		/* without the newline */
	char	*expect;	/* the reply, without trailing newlines */
};

struct plan {
	enum plan_reason	 reason;
	char			*why;	/* reload: in words; NULL otherwise */
	struct plan_cmd		*v;
	size_t			 n;
	/* v[0, first_phase) adds, returns, weights and the new addresses of
	 * retired slots; the rest, those slots made ready and then the
	 * retirements, go out only once all of those were answered right. */
	size_t			 first_phase;
	struct plan_cmd		*ready;		/* while building */
	size_t			 nready;
	struct plan_cmd		*retire;	/* while building */
	size_t			 nretire;
	size_t			 servers_added, servers_retired,
				 servers_returned;
};

/* live may be NULL (nothing runs). next must have been built from live
 * (snapshot_carry), so that ids match and retired servers are kept; its
 * config (next->cfg) is the one whose rules apply. */
void plan_build(struct plan *p, const struct snapshot *live,
    const struct snapshot *next);
void plan_free(struct plan *p);

/* Whether HAProxy 2.6 takes `add server` in this backend: a dynamic
 * balance algorithm (hkw_balance_dynamic), and no `default-server` line
 * (a dynamic server would not inherit it and differ from the rendered
 * one). Fills *why if not. */
bool plan_backend_dynamic(char *const *defaults, char *const *listen_options,
    const char **why);

/* The server-state file for the next HAProxy, from `show servers state`
 * of the running one: only lines of servers that next has, at the same
 * address and port. A retired server's line gets the maint flag (the
 * file's flag would win over the config's "disabled"); one that both run
 * keeps its line as it is (health and an operator's maint survive); one
 * that live had retired or did not have loses its line and starts from
 * the config (its stopped state of the maint would stay, for good
 * without checks). Returns a malloc'ed text; a dump that does not look
 * like version 1 gives the header only.
 * With no live snapshot (a HAProxy taken over from another proxymgrd,
 * after SIGUSR2 or a crash), taken_cfg is the haproxy.cfg it runs:
 * its servers ran as written, and one written "disabled" was retired.
 * Lines that name servers HOST_PORT (proxymgrd before ProxyMgr's
 * HOST:PORT) are renamed. */
char *plan_state_file(const char *dump, const struct snapshot *live,
    const char *taken_cfg, const struct snapshot *next);

#endif
