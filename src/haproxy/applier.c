/* Runtime-API batches (applier.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "haproxy/proc.h"
#include "haproxy/runtime.h"
#include "haproxy/supervisor.h"
#include "pmconfig.h"
#include "snapshot.h"
#include "util.h"

#define APPLIER_WRITE_DELAY_MS	20

void
applier_init(struct supervisor *s)
{
	struct applier *a = &s->applier;

	uv_timer_init(s->loop, &a->write_timer);
	a->write_timer.data = s;
	s->open_handles++;
	a->rt = rt_new(s->loop);
}

void
applier_stop(struct supervisor *s)
{
	uv_timer_stop(&s->applier.write_timer);
	rt_reset(s->applier.rt);
}

void
applier_close(struct supervisor *s)
{
	rt_free(s->applier.rt);
	s->applier.rt = NULL;
	uv_close((uv_handle_t *)&s->applier.write_timer, sup_on_handle_close);
}

void
applier_reset(struct supervisor *s)
{
	rt_reset(s->applier.rt);
}

void
applier_forget_write(struct supervisor *s)
{
	s->applier.write_wanted = false;
}

static void
applier_on_write_timer(uv_timer_t *t)
{
	struct supervisor *s = t->data;
	char *err = NULL;

	/* A reload in flight writes the file itself. */
	if (!s->applier.write_wanted || s->live == NULL || (!sup_idle(s) &&
	    s->state != SUP_APPLYING))
		return;
	s->applier.write_wanted = false;
	if (snapshot_write(s->live, s->live->cfg->config_path, &err) == -1) {
		log_warnx("runtime: %s", err);
		free(err);
	}
	/* Batches are not in flight now: what runs is live. */
	if (s->state == SUP_IDLE && !s->live_in_doubt)
		procs_record(s, true);
}

/* haproxy.cfg follows what HAProxy runs after runtime commands (no check
 * needed: rendered alike, and the next reload checks it), at most once
 * per APPLIER_WRITE_DELAY_MS: the write fsyncs, which would hold up the
 * loop at every batch of a storm. A restart writes the live text
 * itself. */
void
applier_write_later(struct supervisor *s)
{
	struct applier *a = &s->applier;

	a->write_wanted = true;
	if (!uv_is_active((uv_handle_t *)&a->write_timer))
		uv_timer_start(&a->write_timer, applier_on_write_timer,
		    APPLIER_WRITE_DELAY_MS, 0);
}

static void applier_on_applied(void *arg, enum rt_status st, size_t applied,
    const char *why);

/* Send the plan's commands [from, phase_end). */
static void
applier_send_phase(struct supervisor *s, size_t from)
{
	struct applier *a = &s->applier;
	const struct pm_config *cfg = a->applying->cfg;

	if (rt_send(a->rt, cfg->socket_path, s->procs.current->pid,
	    &a->plan.v[from], a->phase_end - from,
	    (unsigned)cfg->runtime_timeout_ms, applier_on_applied, s) == -1)
		applier_on_applied(s, RT_NO_ANSWER, 0,
		    "runtime connection busy");
}

static void
applier_on_applied(void *arg, enum rt_status st, size_t applied,
    const char *why)
{
	struct supervisor *s = arg;
	struct applier *a = &s->applier;
	struct snapshot *next;

	a->applied += applied;
	if (st == RT_OK && s->state == SUP_APPLYING &&
	    a->phase_end < a->plan.n) {
		/* First phase answered right: now the retirements. */
		size_t from = a->phase_end;
		a->phase_end = a->plan.n;
		applier_send_phase(s, from);
		return;
	}
	applied = a->applied;
	next = a->applying;
	uint64_t t = now_us();
	double ms = (double)(t - a->start_us) / 1000.0;
	double live_ms = (double)(t - a->change_us) / 1000.0;

	a->applying = NULL;
	s->counters.rt_commands += applied;
	if (s->state != SUP_APPLYING) {
		snapshot_free(next);
		plan_free(&a->plan);
		return;
	}
	sup_record(s, HISTORY_RUNTIME, a->start_us, st == RT_OK ? NULL : why,
	    applied);
	if (st == RT_OK) {
		s->counters.rt_batches++;
		histogram_observe(&s->counters.change_runtime, live_ms / 1000.0);
		s->counters.servers_added += a->plan.servers_added;
		s->counters.servers_retired += a->plan.servers_retired;
		s->counters.servers_returned += a->plan.servers_returned;
		log_event(LOG_LVL_INFO, "runtime_batch", NULL, NULL,
		    "haproxy[%d] runtime: %zu commands in %.2f ms, live "
		    "%.2f ms after the change (planned in %.2f ms), servers "
		    "added %zu, retired %zu, returned %zu, no reload (%s)",
		    sup_current_pid(s), a->plan.n, ms, live_ms,
		    (double)a->plan_us / 1000.0,
		    a->plan.servers_added,
		    a->plan.servers_retired, a->plan.servers_returned,
		    sched_why(s, "change"));
		snapshot_free(s->live);
		s->live = next;
		applier_write_later(s);
	} else {
		s->counters.rt_failures++;
		/* Some commands may have been run: what HAProxy does is no
		 * longer known. The reload must happen, without the state
		 * of the servers that are in doubt. */
		s->live_in_doubt = true;
		log_event(LOG_LVL_WARNING, "runtime_failed", NULL,
		    plan_reason_name(st == RT_REFUSED ? PLAN_REFUSED :
		    PLAN_NO_ANSWER), "haproxy[%d] runtime: %s after %zu of %zu "
		    "commands; reloading instead", sup_current_pid(s), why,
		    applied, a->plan.n);
		snapshot_free(next);
		char *rwhy = xasprintf("runtime command failed: %s", why);
		sched_want_reload(s, st == RT_REFUSED ? PLAN_REFUSED :
		    PLAN_NO_ANSWER, rwhy);
		free(rwhy);
		/* The changes it carried are what the reload is for. */
		sched_requeue(s);
	}
	plan_free(&a->plan);
	sup_become_idle(s, SUP_EV_APPLIED);
}

void
applier_apply(struct supervisor *s)
{
	struct applier *a = &s->applier;
	struct snapshot *next;

	s->sched.change_wanted = false;
	a->change_us = sched_take(s);
	if (s->procs.current == NULL || s->live == NULL) {
		sched_want_reload(s, PLAN_START, s->live == NULL ? "start" :
		    "no HAProxy runs");
		goto requeue;
	}
	uint64_t t_plan = now_us();
	next = s->hooks.build(s->hooks.ctx, s->cfg, s->live, false);
	if (snapshot_same(next, s->live)) {
		log_debug("haproxy.cfg unchanged (%s): nothing to do",
		    sched_why(s, ""));
		snapshot_free(next);
		sched_done(s);
		return;
	}
	plan_build(&a->plan, s->live, next);
	if (a->plan.why != NULL) {
		sched_want_reload(s, a->plan.reason, a->plan.why);
		plan_free(&a->plan);
		snapshot_free(next);
		goto requeue;
	}
	if (a->plan.n == 0) {
		/* The text differs in nothing HAProxy acts on (a discovered
		 * weight that server_options overrides): it is what runs. */
		log_debug("haproxy.cfg changed, HAProxy runs it as it is (%s)",
		    sched_why(s, ""));
		plan_free(&a->plan);
		snapshot_free(s->live);
		s->live = next;
		applier_write_later(s);
		sched_done(s);
		return;
	}
	a->applying = next;
	sup_enter(s, SUP_EV_APPLY);
	a->start_us = now_us();
	a->plan_us = a->start_us - t_plan;
	log_debug("runtime: sending %zu commands to haproxy[%d]", a->plan.n,
	    s->procs.current->pid);
	a->applied = 0;
	a->phase_end = a->plan.first_phase > 0 ? a->plan.first_phase :
	    a->plan.n;
	procs_record(s, false);
	applier_send_phase(s, 0);
	return;
requeue:
	/* The reload carries the changes in its log line. */
	sched_requeue(s);
}
