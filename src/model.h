/* The model: every known service with its latest valid definition and the
 * server list its watcher last reported. Watchers and service-config
 * sources write into it; the reload path reads snapshots out of it. */
#ifndef PM_MODEL_H
#define PM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "server.h"

struct pm_config;
struct service_def;
struct snapshot;
struct watcher;

struct model_service {
	char			*name;
	struct service_def	*def;
	/* HAProxy refused this service's section as it is now: until its
	 * definition or servers change, it keeps what the running HAProxy
	 * has for it (if anything). */
	bool			 rejected;
	char			*rejected_why;	/* with rejected: HAProxy's words */
	struct server_list	 servers;
	struct watcher		*watcher;
	bool			 seen;
	/* Bumped at every change of what its snapshot entry is built
	 * from: an entry of the same gen is still right (model_snapshot). */
	uint64_t		 gen;
	/* Wall clock (Unix ms): added, and last changed (definition or
	 * servers). */
	int64_t			 added_ms;
	int64_t			 changed_ms;
};

/* A definition its source refused (it does not parse or validate): the
 * service keeps its last good definition, if it has one, or is not
 * added. Gone once a good one comes or the file or node goes. */
struct model_invalid {
	char			*name;
	char			*source;	/* file or node */
	char			*error;		/* why, naming source and line */
	int64_t			 since_ms;	/* wall clock */
};

/* A service as operators see it (control socket, metrics):
 *   OK        its definition is live and its watcher reads its source
 *   STALE     its watcher cannot read its source (out of reach, or it
 *             answers nothing usable), or did not start: its last known
 *             servers serve
 *   REJECTED  its latest definition was refused, by proxymgrd's own
 *             validation (model_invalid) or by HAProxy (rejected): the
 *             last good one serves, if there is one */
enum model_state {
	MODEL_OK,
	MODEL_STALE,
	MODEL_REJECTED,
	MODEL_STATES
};

struct model_status {
	enum model_state	 state;
	const char		*reason;	/* NULL when OK */
	const char		*source;	/* file or node of the definition */
	int64_t			 changed_ms;	/* wall clock, 0: never */
};

typedef void (*model_change_cb)(void *ctx, const char *why);

struct model {
	uv_loop_t		*loop;
	struct model_service	**v;	/* sorted by name */
	size_t			 n;
	model_change_cb		 on_change;
	void			*ctx;
	struct model_invalid	*invalid;	/* sorted by name */
	size_t			 ninvalid;
};

void model_init(struct model *m, uv_loop_t *loop, model_change_cb on_change,
    void *ctx);
void model_free(struct model *m);

/* Add or replace a service definition (takes a reference). */
void model_set_def(struct model *m, struct service_def *def);
void model_remove(struct model *m, const char *name);
/* HAProxy refused def of service name (why): fall back to the live one. */
void model_reject(struct model *m, const char *name,
    const struct service_def *def, const char *why);
/* A source refused the definition of name (svcsrc_cbs.invalid): err
 * NULL forgets it. */
void model_set_invalid(struct model *m, const char *name, const char *where,
    const char *err);
const struct model_invalid *model_find_invalid(const struct model *m,
    const char *name);
/* Forget every refusal: a new source says again what it refuses. */
void model_forget_invalid(struct model *m);
/* ms's state for operators; the strings point into m, valid until it
 * changes. Brings the watcher's health up to date. */
void model_service_status(const struct model *m, struct model_service *ms,
    struct model_status *out);
const char *model_state_name(enum model_state st);	/* "ok", ... */
struct model_service *model_find(struct model *m, const char *name);
/* Mark and sweep, for a service-config source that re-reads everything
 * (new source on SIGHUP, ZooKeeper session re-sync). */
void model_mark_unseen(struct model *m);
void model_sweep_unseen(struct model *m);

/* Build the snapshot for the next HAProxy: the desired state, falling back
 * to the live snapshot's entry for a service HAProxy refused or whose port
 * could not be had (listener_failure). A port stays with the service that
 * holds it in the live HAProxy. Servers keep their ids and retired ones
 * stay disabled (snapshot_carry; for_reload trims them). Rendered with
 * cfg, which the snapshot holds a reference on. No side effect: new ports
 * are only wanted, not bound (see snapshot_claim), so a snapshot may be
 * thrown away at no cost. */
struct snapshot *model_snapshot(struct model *m, struct pm_config *cfg,
    const struct snapshot *live, bool for_reload);

#endif
