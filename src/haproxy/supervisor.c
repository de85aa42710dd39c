/* The supervisor's public API, its state table, and the wiring of its
 * parts (sched.c, applier.c, reload.c, procs.c). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "haproxy/proc.h"
#include "haproxy/supervisor.h"
#include "haproxy/takeover.h"
#include "pmconfig.h"
#include "snapshot.h"
#include "util.h"

#define SUP_STATE_NAME(name, text)	[SUP_##name] = text,
#define SUP_EVENT_NAME(name, text)	[SUP_EV_##name] = text,
#define SUP_TRANSITION(from, ev, to)	\
	{ SUP_##from, SUP_EV_##ev, SUP_##to },

static const char *const sup_state_names[] = { SUP_STATES(SUP_STATE_NAME) };
static const char *const sup_event_names[] = { SUP_EVENTS(SUP_EVENT_NAME) };

const struct sup_transition sup_transitions[] = {
	SUP_TRANSITIONS(SUP_TRANSITION)
};
const size_t sup_ntransitions = sizeof(sup_transitions) /
    sizeof(sup_transitions[0]);

const char *
sup_state_name(enum sup_state st)
{
	return st < SUP_NSTATES ? sup_state_names[st] : "?";
}

const char *
sup_event_name(enum sup_event ev)
{
	return ev < SUP_NEVENTS ? sup_event_names[ev] : "?";
}

int
sup_transition(enum sup_state from, enum sup_event ev)
{
	for (size_t i = 0; i < sup_ntransitions; i++)
		if (sup_transitions[i].from == from &&
		    sup_transitions[i].event == ev)
			return (int)sup_transitions[i].to;
	return -1;
}

/* The one writer of s->state: a transition the table lacks is a bug, and
 * is refused rather than leaving the supervisor in a state no code
 * expects (a debug build stops right there). */
bool
sup_enter(struct supervisor *s, enum sup_event ev)
{
	int to = sup_transition(s->state, ev);

	if (to < 0) {
		log_warnx("supervisor: no transition from %s on %s; staying "
		    "%s", sup_state_name(s->state), sup_event_name(ev),
		    sup_state_name(s->state));
#ifdef PM_DEBUG
		abort();
#endif
		return false;
	}
	if ((enum sup_state)to != s->state)
		log_debug("supervisor: %s -> %s (%s)", sup_state_name(s->state),
		    sup_state_name((enum sup_state)to), sup_event_name(ev));
	s->state = (enum sup_state)to;
	return true;
}

bool
sup_idle(const struct supervisor *s)
{
	return s->state == SUP_IDLE || s->state == SUP_ADOPTED;
}

void
sup_become_idle(struct supervisor *s, enum sup_event ev)
{
	sup_enter(s, ev);
	sched_done(s);
	if (procs_restart_wanted(s))
		return;
	sched_kick(s);
}

/* Bucket bounds (s): a runtime change is live in milliseconds, a reload
 * takes a few hundred (the check, the start, the rate limit). */
static const double sup_change_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
static const double sup_reload_bounds[] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
#define SUP_NBOUNDS(b)	(sizeof(b) / sizeof((b)[0]))

void
sup_record(struct supervisor *s, enum history_kind kind, uint64_t start_us,
    const char *error, size_t commands)
{
	struct history_entry e;

	memset(&e, 0, sizeof(e));
	e.time_ms = wall_ms();
	e.duration_us = start_us != 0 ? now_us() - start_us : 0;
	e.kind = kind;
	e.reason = kind == HISTORY_RELOAD ? sched_reason(s) :
	    kind == HISTORY_RUNTIME ? PLAN_RUNTIME : PLAN_START;
	e.why = (char *)(kind == HISTORY_RESTART ?
	    (s->procs.current != NULL ? "retake the stats socket" :
	    "replace a HAProxy that died") :
	    sched_why(s, kind == HISTORY_RELOAD ? "start" : "change"));
	e.ok = error == NULL;
	e.forced = kind == HISTORY_RELOAD && s->reload.forcing;
	e.error = (char *)error;
	uint64_t since = kind == HISTORY_RELOAD ? s->reload.change_us :
	    kind == HISTORY_RUNTIME ? s->applier.change_us : 0;
	if (e.ok && since != 0)
		e.change_to_live_us = now_us() - since;
	e.commands = commands;
	e.pid = sup_current_pid(s);
	history_add(&s->history, &e);
}

void
sup_init(struct supervisor *s, uv_loop_t *loop, struct pm_config *cfg,
    const struct sup_hooks *hooks)
{
	memset(s, 0, sizeof(*s));
	histogram_init(&s->counters.change_runtime, sup_change_bounds,
	    SUP_NBOUNDS(sup_change_bounds));
	histogram_init(&s->counters.change_reload, sup_change_bounds,
	    SUP_NBOUNDS(sup_change_bounds));
	histogram_init(&s->counters.reload_duration, sup_reload_bounds,
	    SUP_NBOUNDS(sup_reload_bounds));
	s->loop = loop;
	s->cfg = pmconfig_ref(cfg);
	s->hooks = *hooks;
	s->state = SUP_IDLE;
	history_init(&s->history);
	sched_init(s);
	applier_init(s);
	procs_init(s);
}

void
sup_set_config(struct supervisor *s, struct pm_config *cfg)
{
	pmconfig_ref(cfg);
	pmconfig_unref(s->cfg);
	s->cfg = cfg;
}

int
sup_current_pid(const struct supervisor *s)
{
	return s->procs.current ? s->procs.current->pid : 0;
}

void
sup_request_change(struct supervisor *s, const char *why, uint64_t since_us)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	sched_change(s, why, since_us);
}

/* What each state is doing, for operators. */
static const char *const sup_activity[] = {
	[SUP_IDLE] = "idle", [SUP_ADOPTED] = "idle",
	[SUP_APPLYING] = "applying a runtime batch",
	[SUP_CHECKING] = "checking a config",
	[SUP_SAVING] = "saving server state",
	[SUP_STARTING] = "starting HAProxy",
	[SUP_VERIFYING] = "verifying what HAProxy built",
	[SUP_RESTARTING] = "restarting HAProxy",
	[SUP_RETAKING] = "restarting HAProxy to retake its stats socket",
	[SUP_STOPPING] = "stopping", [SUP_STOPPED] = "stopped",
};

/* "idle", or what is in flight and what waits: tests and operators wait
 * for idle instead of guessing how long a change takes. */
void
sup_describe(const struct supervisor *s, const char *outside,
    struct sbuf *sb)
{
	const char *sep = "";

	if (s->state == SUP_STOPPED) {
		sbuf_printf(sb, "stopped");
		return;
	}
	if (sup_idle(s) && outside == NULL && !s->sched.reload_wanted &&
	    !s->sched.change_wanted && !s->applier.write_wanted &&
	    !s->procs.restart_wanted) {
		sbuf_printf(sb, "idle");
		return;
	}
	sbuf_printf(sb, "busy (");
	if (!sup_idle(s)) {
		sbuf_printf(sb, "%s", sup_activity[s->state]);
		sep = ", ";
	}
	if (outside != NULL) {
		sbuf_printf(sb, "%s%s", sep, outside);
		sep = ", ";
	}
	if (s->sched.reload_wanted) {
		sbuf_printf(sb, "%sreload pending", sep);
		sep = ", ";
	}
	if (s->sched.change_wanted) {
		sbuf_printf(sb, "%schanges pending", sep);
		sep = ", ";
	}
	if (s->procs.restart_wanted) {
		sbuf_printf(sb, "%srestart pending", sep);
		sep = ", ";
	}
	if (s->applier.write_wanted)
		sbuf_printf(sb, "%shaproxy.cfg write pending", sep);
	sbuf_printf(sb, ")");
}

void
sup_log_counters(const struct supervisor *s, const char *outside)
{
	const struct sup_counters *c = &s->counters;
	struct sbuf sb, activity;

	sbuf_init(&activity);
	sup_describe(s, outside, &activity);
	sbuf_init(&sb);
	for (int r = PLAN_START; r < PLAN_REASONS; r++)
		sbuf_printf(&sb, "%s%s %llu", r == PLAN_START ? "" : ", ",
		    plan_reason_name((enum plan_reason)r),
		    (unsigned long long)c->reloads_by[r]);
	log_info("counters: runtime batches %llu, commands %llu, failed "
	    "batches %llu; servers added %llu, retired %llu, returned %llu; "
	    "reloads %llu (%s); failed reloads %llu; restarts %llu; now %s",
	    (unsigned long long)c->rt_batches,
	    (unsigned long long)c->rt_commands,
	    (unsigned long long)c->rt_failures,
	    (unsigned long long)c->servers_added,
	    (unsigned long long)c->servers_retired,
	    (unsigned long long)c->servers_returned,
	    (unsigned long long)c->reloads, sb.buf,
	    (unsigned long long)c->reload_failures,
	    (unsigned long long)c->restarts, activity.buf);
	sbuf_free(&sb);
	sbuf_free(&activity);
}

bool
sup_handoff(struct supervisor *s, struct sup_handoff *h)
{
	memset(h, 0, sizeof(*h));
	/* Not while HAProxy's state is in doubt (a failed runtime batch):
	 * the reload that repairs it comes first. */
	if (s->state != SUP_IDLE || s->procs.current == NULL ||
	    s->live == NULL || s->procs.starting != NULL ||
	    s->procs.checking != NULL || s->live_in_doubt ||
	    s->sched.reload_wanted)
		return false;
	procs_handoff(s, h);
	h->fingerprint = snapshot_fingerprint(s->live);
	return true;
}

void
sup_adopt(struct supervisor *s, const struct sup_handoff *h)
{
	procs_adopt(s, h);
	if (s->procs.current != NULL)
		sup_enter(s, SUP_EV_ADOPT);
}

size_t
sup_adopt_strays(struct supervisor *s)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return 0;
	return procs_adopt_strays(s);
}

void
sup_on_handle_close(uv_handle_t *h)
{
	struct supervisor *s = h->data;

	if (--s->open_handles > 0)
		return;
	takeover_record(s->cfg, 0, 0);	/* nothing serves any more */
	snapshot_free(s->live);
	s->live = NULL;
	sched_free(s);
	history_free(&s->history);
	pmconfig_unref(s->cfg);
	s->cfg = NULL;
	sup_enter(s, SUP_EV_STOPPED);
	if (s->hooks.stopped != NULL)
		s->hooks.stopped(s->hooks.ctx);
}

void
sup_maybe_stopped(struct supervisor *s)
{
	if (s->state != SUP_STOPPING || !procs_none(s))
		return;
	if (uv_is_closing((uv_handle_t *)&s->sched.timer))
		return;
	applier_close(s);
	sched_close(s);
	procs_close(s);
}

void
sup_force_reload(struct supervisor *s, const char *why)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	s->reload.force = true;
	sched_want_reload(s, PLAN_OPERATOR, why);
}

void
sup_stop(struct supervisor *s)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	sup_enter(s, SUP_EV_STOP);
	sched_stop(s);
	applier_stop(s);
	reload_stop(s);
	snapshot_free(s->next);
	s->next = NULL;
	procs_stop(s);
	sup_maybe_stopped(s);
}

void
sup_stop_now(struct supervisor *s)
{
	if (s->state == SUP_STOPPED)
		return;
	sup_stop(s);
	procs_stop_now(s);
}
