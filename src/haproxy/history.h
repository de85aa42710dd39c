/* The record of what the supervisor did to HAProxy: the last
 * HISTORY_MAX reloads, runtime batches and restarts, newest last, each
 * with why, how long it took and how it ended; and the last `haproxy -c`
 * of a configuration. The supervisor keeps one (supervisor.history) and
 * adds an entry where each of them ends (reload.c, applier.c, procs.c);
 * the control socket and the metrics read it. Pure: no I/O, no loop. The
 * counters of everything since the start are sup_counters, not here. */
#ifndef PM_HAP_HISTORY_H
#define PM_HAP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "haproxy/planner.h"

#define HISTORY_MAX	50

enum history_kind {
	HISTORY_RELOAD,		/* a new HAProxy on a new snapshot */
	HISTORY_RUNTIME,	/* a runtime-API batch, no reload */
	HISTORY_RESTART,	/* a HAProxy on the live snapshot again,
				 * after one died or to retake the socket */
	HISTORY_KINDS
};

struct history_entry {
	int64_t			 time_ms;	/* ended at, wall clock (Unix
						 * ms) */
	uint64_t		 duration_us;	/* from start to end */
	/* ok reloads and runtime batches: from the oldest change it carried
	 * being seen to it serving (the change-to-live time); else 0. */
	uint64_t		 change_to_live_us;
	enum history_kind	 kind;
	/* HISTORY_RELOAD: what the reload is counted under
	 * (sup_counters.reloads_by); HISTORY_RUNTIME: PLAN_RUNTIME;
	 * HISTORY_RESTART: PLAN_START. */
	enum plan_reason	 reason;
	char			*why;		/* sched_why's text; never NULL */
	bool			 ok;
	bool			 forced;	/* a reload asked for
						 * (sup_force_reload) */
	char			*error;		/* !ok: why it failed; else NULL */
	size_t			 commands;	/* runtime commands answered
						 * right (HISTORY_RUNTIME) */
	int			 pid;		/* the HAProxy that serves after
						 * it, or 0 */
	uint64_t		 seq;		/* 1 for the first entry ever */
};

/* The last `haproxy -c` of a configuration: a reload's, or one asked for
 * (control socket `check`). */
struct history_check {
	int64_t			 time_ms;	/* wall clock; 0: none yet */
	bool			 ok;
	char			*error;		/* !ok: HAProxy's alerts */
	char			*path;		/* the file checked */
};

struct history {
	struct history_entry	 v[HISTORY_MAX];	/* a ring */
	size_t			 start;		/* index of the oldest */
	size_t			 n;
	uint64_t		 seq;		/* entries ever added */
	struct history_check	 check;
};

void history_init(struct history *h);
void history_free(struct history *h);
/* Copy e in (its strings too; why NULL becomes ""), dropping the oldest
 * entry when full; sets e's seq in the copy. Returns the copy. */
const struct history_entry *history_add(struct history *h,
    const struct history_entry *e);
/* The i-th entry, 0 the oldest kept, n-1 the newest; NULL past the end. */
const struct history_entry *history_get(const struct history *h, size_t i);
/* The newest entry of kind (HISTORY_KINDS: of any kind), or NULL. */
const struct history_entry *history_last(const struct history *h,
    enum history_kind kind);
/* Remember the outcome of a `haproxy -c` of path (error NULL if ok). */
void history_set_check(struct history *h, int64_t time_ms, const char *path,
    bool ok, const char *error);

const char *history_kind_name(enum history_kind k);	/* "reload", ... */

#endif
