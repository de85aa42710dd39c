/* The model: every known service with its latest valid definition and the
 * server list its watcher last reported. Watchers and service-config
 * sources write into it; the reload path reads snapshots out of it. */
#ifndef PM_MODEL_H
#define PM_MODEL_H

#include <stdbool.h>

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
	struct server_list	 servers;
	struct watcher		*watcher;
	bool			 seen;
};

typedef void (*model_change_cb)(void *ctx, const char *why);

struct model {
	uv_loop_t		*loop;
	struct model_service	**v;	/* sorted by name */
	size_t			 n;
	model_change_cb		 on_change;
	void			*ctx;
};

void model_init(struct model *m, uv_loop_t *loop, model_change_cb on_change,
    void *ctx);
void model_free(struct model *m);

/* Add or replace a service definition (takes a reference). */
void model_set_def(struct model *m, struct service_def *def);
void model_remove(struct model *m, const char *name);
/* HAProxy refused def of service name: fall back to the live one. */
void model_reject(struct model *m, const char *name,
    const struct service_def *def);
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
