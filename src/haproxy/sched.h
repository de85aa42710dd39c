/* Reload scheduling, a part of the supervisor: when the next runtime
 * batch or reload happens, and why. Changes that may need no reload are
 * planned at the next turn of the loop (applier.c). A reload waits until
 * no change has come for debounce_ms (a burst is one reload, also one
 * that arrives while a reload is in flight), but no longer than
 * min_interval_ms (or debounce_ms, if longer) from the first change that
 * needs one; and at most one happens per min_interval_ms, with up to 10%
 * of jitter so that a fleet does not reload in lockstep.
 *
 * The change log says why: each entry is a change of the model that was
 * seen, or the reason a reload is wanted. It is pending until a runtime
 * batch or a reload takes it (in flight), and done once that is over; a
 * batch that turns into a reload gives its changes back. Log lines read
 * it (sched_why), and so can whatever shows what proxymgrd is doing and
 * why. */
#ifndef PM_HAP_SCHED_H
#define PM_HAP_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "haproxy/planner.h"

struct supervisor;

enum sched_stage {
	SCHED_PENDING,		/* not planned yet */
	SCHED_IN_FLIGHT,	/* the runtime batch or reload out carries it */
	SCHED_DONE,		/* kept for the record, dropped oldest first */
};

struct sched_entry {
	uint64_t		 time_us;	/* seen at (now_us() clock) */
	/* PLAN_RUNTIME: a change of the model; any other: why a reload is
	 * wanted (only the first one until that reload starts). */
	enum plan_reason	 reason;
	char			*text;
	enum sched_stage	 stage;
	unsigned		 more;	/* changes merged in past the bound */
};

struct sched {
	uv_timer_t		 timer;
	bool			 change_wanted;	/* plan at the next turn */
	bool			 reload_wanted;
	uint64_t		 reload_since_ms;	/* first wanted at */
	uint64_t		 last_change_ms;	/* the last change seen */
	uint64_t		 reload_due_ms;
	uint64_t		 last_reload_ms;
	struct sched_entry	*log;		/* oldest first */
	size_t			 nlog;
	char			*why;		/* sched_why's last text */
};

void sched_init(struct supervisor *s);
/* Stop the timer (sup_stop); sched_close closes it, sched_free frees the
 * log. */
void sched_stop(struct supervisor *s);
void sched_close(struct supervisor *s);
void sched_free(struct supervisor *s);

/* A change of the model (why, seen at since_us): plan it at the next
 * turn of the loop. */
void sched_change(struct supervisor *s, const char *why, uint64_t since_us);
/* A reload is needed (r says why, for the counters; why in words): the
 * first reason since the last reload is the one it is counted under. */
void sched_want_reload(struct supervisor *s, enum plan_reason r,
    const char *why);
/* Arm the timer for what is wanted, if nothing is in flight. */
void sched_kick(struct supervisor *s);

/* When a wanted reload is due, from these times (ms): debounce after the
 * last change, capped at the larger of debounce and interval after it
 * was first wanted; with a HAProxy running, not before interval (plus
 * jitter) after the previous reload began. Pure, for the unit test. */
struct sched_times {
	uint64_t	 since;		/* the reload was first wanted */
	uint64_t	 last_change;	/* the last change seen, or 0 */
	uint64_t	 last_reload;	/* the previous one began */
	bool		 running;	/* a HAProxy serves */
};
uint64_t sched_reload_due(const struct sched_times *t, uint64_t debounce,
    uint64_t interval, uint64_t jitter);

/* Whatever is pending goes out, in a runtime batch or a reload: returns
 * when the oldest change of it was seen (now if there is none). */
uint64_t sched_take(struct supervisor *s);
/* What is in flight is pending again: the reload that comes next carries
 * it in its log line. */
void sched_requeue(struct supervisor *s);
/* What was in flight is over: applied, reloaded, failed, or nothing to
 * do. */
void sched_done(struct supervisor *s);
/* What is in flight, in words: "WHY [reason]; changes: A; B" for a
 * reload, "A; B" for a runtime batch, or none when nothing is. Valid
 * until the next call. */
const char *sched_why(struct supervisor *s, const char *none);
/* The reason the reload in flight is counted under. */
enum plan_reason sched_reason(const struct supervisor *s);

#endif
