/* Runtime-API batches, a part of the supervisor: the planner's commands
 * that bring the running HAProxy from the live snapshot to the next one
 * go out on its stats socket in two phases (adds, returns and weights,
 * then the retirements once all of those were answered right). A batch
 * answered right makes the next snapshot live without a reload; one that
 * is not turns into a reload. haproxy.cfg on disk follows what runs. */
#ifndef PM_HAP_APPLIER_H
#define PM_HAP_APPLIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "haproxy/planner.h"

struct applier_write;
struct rt_conn;
struct snapshot;
struct supervisor;

struct applier {
	struct rt_conn		*rt;
	struct snapshot		*applying;	/* the batch's target */
	struct plan		 plan;
	size_t			 phase_end;	/* of the phase in flight */
	size_t			 applied;	/* commands answered right */
	uint64_t		 start_us;
	uint64_t		 plan_us;	/* build + plan of the batch */
	uint64_t		 change_us;	/* oldest change it carries */
	uv_timer_t		 write_timer;	/* haproxy.cfg after a batch */
	bool			 write_wanted;
	struct applier_write	*writing;	/* on a worker thread */
	uint64_t		 write_cost_ms;	/* the last one took */
	bool			 closed;
};

void applier_init(struct supervisor *s);
void applier_stop(struct supervisor *s);
/* Close the connection and the timer. */
void applier_close(struct supervisor *s);
/* Plan the pending changes against what runs: a runtime batch when the
 * planner's rules allow, else a reload is wanted. */
void applier_apply(struct supervisor *s);
/* Write live's haproxy.cfg soon (it changed without a reload). */
void applier_write_later(struct supervisor *s);
/* A reload writes the file itself. */
void applier_forget_write(struct supervisor *s);
/* Another HAProxy serves: drop the connection (a batch in flight ends
 * with no answer). */
void applier_reset(struct supervisor *s);

#endif
